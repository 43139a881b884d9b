# shellcheck shell=bash
# Installs the Debian 12 packages PoolScope needs to build, test and run its sandbox, but only
# those that are missing. Sourced by packaging/test.sh and packaging/run.sh, which call
# poolscope_install_deps; `bash packaging/deps.sh` runs it on its own.
#
# Idempotent: when everything is present it prints one line and changes nothing.
# POOLSCOPE_SKIP_DEPS=1 skips the check (e.g. on a non-Debian machine set up by hand).

# Verified on Debian 12 (see the project's build-stack and sandbox notes). xauth is only a
# Recommends of xvfb but xvfb-run needs it, so it is named explicitly.
POOLSCOPE_DEB_PACKAGES=(
    cmake g++ make pkg-config
    qt6-base-dev qt6-qpa-plugins libqt6test6
    libqcustomplot-dev libqcustomplot2.1-qt6
    libpq-dev libssl-dev libspdlog-dev
    postgresql-15 postgresql-client-15 pgbouncer
    openssl # the sandbox's throwaway CA and server certificate
    libbenchmark-dev
    xvfb xauth x11-apps imagemagick libgl1-mesa-dri fonts-dejavu-core
    clang-format
    clang libclang-rt-14-dev # libFuzzer for tests/fuzz (libclang_rt.fuzzer-x86_64.a)
    prometheus
    desktop-file-utils appstream
)

# Runs a command as root: directly when root, through sudo otherwise. Fails with a message when
# neither is possible.
_poolscope_as_root()
{
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "dependencies: need root for '$*' but this is not root and sudo is not installed." >&2
        echo "dependencies: run the command above as root, then re-run this script." >&2
        return 1
    fi
}

_poolscope_pkg_installed()
{
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $status == *" ok installed"* ]]
}

poolscope_install_deps()
{
    if [[ ${POOLSCOPE_SKIP_DEPS:-0} == 1 ]]; then
        echo "dependencies: check skipped (POOLSCOPE_SKIP_DEPS=1)"
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        echo "dependencies: dpkg-query/apt-get not found; this script targets Debian 12." >&2
        echo "dependencies: install the equivalents of: ${POOLSCOPE_DEB_PACKAGES[*]}" >&2
        echo "dependencies: then re-run with POOLSCOPE_SKIP_DEPS=1." >&2
        return 1
    fi

    local pkg missing=()
    for pkg in "${POOLSCOPE_DEB_PACKAGES[@]}"; do
        _poolscope_pkg_installed "$pkg" || missing+=("$pkg")
    done

    if ((${#missing[@]} > 0)); then
        echo "dependencies: installing ${#missing[@]} missing package(s): ${missing[*]}"
        _poolscope_as_root apt-get update || return 1
        _poolscope_as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends "${missing[@]}" || return 1
        for pkg in "${missing[@]}"; do
            if ! _poolscope_pkg_installed "$pkg"; then
                echo "dependencies: $pkg is still not installed after apt-get install" >&2
                return 1
            fi
        done
    fi

    # The sandbox runs PostgreSQL and PgBouncer as `postgres` when started as root (both refuse to
    # run as root). postgresql-15 creates this user; create it if something removed it.
    local created_user=0
    if ! getent passwd postgres >/dev/null 2>&1; then
        echo "dependencies: creating system user 'postgres'"
        _poolscope_as_root useradd --system --no-create-home --shell /usr/sbin/nologin postgres ||
            return 1
        created_user=1
    fi

    if ((${#missing[@]} == 0 && created_user == 0)); then
        echo "dependencies: all present"
    else
        echo "dependencies: done"
    fi
}

# Executed directly rather than sourced: run the check.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    poolscope_install_deps
fi
