#!/usr/bin/env bash
# Installs missing dependencies, then configures, builds and tests PoolScope with a CMake preset
# (default: release). Exits non-zero if any stage fails. Re-running reuses the build directory.
#
#   packaging/test.sh                        # release preset
#   POOLSCOPE_PRESET=asan packaging/test.sh  # or dev / tsan (see CMakePresets.json)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

# shellcheck source-path=SCRIPTDIR/..
source packaging/deps.sh

preset=${POOLSCOPE_PRESET:-release}
timings=()

# stage NAME COMMAND...: runs COMMAND, prints how long it took, exits with its status on failure.
stage()
{
    local name=$1 start rc=0 elapsed
    shift
    echo "==> $name: $*"
    start=$EPOCHREALTIME
    "$@" || rc=$?
    elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    timings+=("$(printf '%-10s %7ss' "$name" "$elapsed")")
    if ((rc != 0)); then
        echo "==> $name FAILED (exit $rc) after ${elapsed}s" >&2
        print_timings
        exit "$rc"
    fi
    echo "==> $name ok (${elapsed}s)"
}

print_timings()
{
    echo "---- stage timings (preset '$preset') ----"
    printf '%s\n' "${timings[@]}"
}

stage deps poolscope_install_deps
stage configure cmake --preset "$preset"
stage build cmake --build --preset "$preset" --parallel 2
stage test ctest --preset "$preset" --output-on-failure -j2 --timeout 600
print_timings
echo "all stages passed"
