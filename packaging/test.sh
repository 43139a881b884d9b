#!/usr/bin/env bash
# Installs missing dependencies, then configures, builds and tests PoolScope with each CMake preset
# in turn and exits non-zero as soon as a stage fails. This is what CI runs (.ci/run):
#
#   release  the whole suite on the optimised build (with -Werror), plus the fuzzer and the
#            format, desktop-file and AppStream checks
#   asan     the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer, with
#            LeakSanitizer (tests/lsan.supp lists the system-library leaks it may ignore, each
#            with its evidence); the fuzzer is left out here, it is built with both already
#   tsan     the concurrency tests (pool, sampler, store, runners, load demo) under
#            ThreadSanitizer; only their targets are built
#
#   packaging/test.sh                              # release, asan, tsan (CI)
#   POOLSCOPE_PRESETS="release" packaging/test.sh  # a quicker run while developing
#   POOLSCOPE_PRESET=asan packaging/test.sh        # one preset (the older spelling)
#
# Re-running reuses the build directories (build/<preset>). Every stage prints its duration and
# a table of all of them closes the run.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

# shellcheck source-path=SCRIPTDIR/..
source packaging/deps.sh

read -r -a presets <<<"${POOLSCOPE_PRESETS:-${POOLSCOPE_PRESET:-release asan tsan}}"
timings=()
run_start=$EPOCHREALTIME

print_timings()
{
    echo "---- stage timings ----"
    printf '%s\n' "${timings[@]}"
    awk -v a="$run_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%-22s %7.1fs\n", "total", b - a }'
}

# stage NAME COMMAND...: runs COMMAND, prints how long it took, exits with its status on failure.
stage()
{
    local name=$1 start rc=0 elapsed
    shift
    echo "==> $name: $*"
    start=$EPOCHREALTIME
    "$@" || rc=$?
    elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    timings+=("$(printf '%-22s %7ss' "$name" "$elapsed")")
    if ((rc != 0)); then
        echo "==> $name FAILED (exit $rc) after ${elapsed}s" >&2
        print_timings
        exit "$rc"
    fi
    echo "==> $name ok (${elapsed}s)"
}

# The targets a preset's tests need: everything, except for tsan, whose test preset names its
# tests in a filter (CMakePresets.json); building only those saves most of a sanitized build.
build_targets()
{
    local preset=$1
    if [[ $preset != tsan ]]; then
        echo all
        return
    fi
    # The filter is the only "^(a|b|...)$" pattern in the file.
    grep -o '"\^([a-z_|]*)\$"' "$repo_root/CMakePresets.json" | tr -d '"^$()' | tr '|' ' '
}

stage deps poolscope_install_deps
for preset in "${presets[@]}"; do
    read -r -a targets <<<"$(build_targets "$preset")"
    stage "$preset configure" cmake --preset "$preset"
    stage "$preset build" cmake --build --preset "$preset" --parallel 2 --target "${targets[@]}"
    stage "$preset test" ctest --preset "$preset" --output-on-failure -j2 --timeout 900
done
print_timings
echo "all stages passed (presets: ${presets[*]})"
