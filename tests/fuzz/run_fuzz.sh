#!/usr/bin/env bash
# Builds the endpoint-linter fuzz target with clang's libFuzzer (+ ASan/UBSan) and runs it for
# ${FUZZ_RUNS:-100000} executions. Fails on any crash, leak or sanitizer report, and when fewer
# executions than that ran within ${FUZZ_MAX_SECONDS:-140} seconds (a cap below ctest's 180 s
# timeout, so that a slow run fails with a message instead of being killed).
# The default count takes about 20 s here (about 5000 executions a second on an idle 2-core
# machine) and stays within the cap at a quarter of that speed.
# Usage: tests/fuzz/run_fuzz.sh <build dir>   (ctest: fuzz_endpointlint)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: run_fuzz.sh <build dir>}" && pwd)
out="$build/fuzz"
mkdir -p "$out"
runs=${FUZZ_RUNS:-100000}
max_seconds=${FUZZ_MAX_SECONDS:-140}
cxx=${FUZZ_CXX:-clang++}

# The core sources lintEndpoint needs (no spdlog: the linter logs nothing).
sources=(
    "$here/fuzz_endpointlint.cpp"
    "$root/core/check/endpointlint.cpp"
    "$root/core/db/conninfo.cpp"
    "$root/core/db/redaction.cpp"
    "$root/core/db/dberror.cpp"
)
# shellcheck disable=SC2207
pkgflags=($(pkg-config --cflags --libs Qt6Core libpq))

binary="$out/fuzz_endpointlint"
echo "fuzz: building $binary"
"$cxx" -std=c++20 -O1 -g -fPIC -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DQT_NO_KEYWORDS -DQT_NO_CAST_FROM_ASCII -DQT_NO_CAST_TO_ASCII \
    -I"$root" "${sources[@]}" "${pkgflags[@]}" -o "$binary"

corpus=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-endpointlint.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
seeds=(
    'postgresql://user:pass@ep-xxx.us-east-2.aws.neon.tech/callcoach'
    'postgresql://user:pass@ep-xxx-pooler.us-east-2.aws.neon.tech/callcoach'
    'host=ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech sslmode=require'
    'host=ep-cool-darkness-a1b2c3d4.eastus2.azure.neon.tech sslmode=verify-full channel_binding=require'
    'host=ep-cool-pooler-darkness-123456.us-east-2.aws.neon.tech'
    'host=ep-x-pooler.us-east-2.aws.neon.tech.evil.com'
    'postgresql://postgres.ref:pw@aws-0-us-east-1.pooler.supabase.com:6543/postgres'
    'postgresql://postgres.ref@aws-0-us-east-1.pooler.supabase.com:5432/postgres'
    'host=db.abcdefghijklmnop.supabase.co port=5432'
    'host=myproxy.proxy-abcdefghijkl.us-east-1.rds.amazonaws.com dbname=app'
    "host=db port=6432 options='-c statement_timeout=30s' password=secret"
    'postgresql://u@[::1]:5433/app?options=-c%20search_path%3Dapp&connect_timeout=10'
    'host=/var/run/postgresql dbname=app'
    'host=localhost,db.example.com port=5432,6432 sslmode=disable channel_binding=require'
    'postgresql://u:secret%zz@h/db'
    "host=h password='unterminated"
    'postgresql://ü:pw@日本/データ'
    'hostaddr=10.1.2.3 sslsni=0 options=endpoint=ep-a-123456'
)
i=0
for s in "${seeds[@]}"; do
    printf '%s' "$s" >"$corpus/seed-$i"
    i=$((i + 1))
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "fuzz: running $runs executions (at most ${max_seconds}s)"
cd "$out" # crash-* artifacts land here
# The fuzzer's own exit status is what counts: taken from PIPESTATUS with errexit and pipefail
# off for this one pipeline, so that a failing run reaches the message below.
set +e +o pipefail
"$binary" -runs="$runs" -max_total_time="$max_seconds" -rss_limit_mb=2048 -max_len=8192 \
    -timeout=10 -print_final_stats=1 "$corpus" 2>&1 | tee "$out/fuzz.log" | tail -n 40
status=${PIPESTATUS[0]}
set -e -o pipefail
if [[ $status -ne 0 ]] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$out/fuzz.log"; then
    echo "fuzz: FAILED (exit $status); see $out/fuzz.log and $out/crash-*" >&2
    exit 1
fi
executed=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$out/fuzz.log" | tail -n 1)
if [[ -z $executed || $executed -lt $runs ]]; then
    echo "fuzz: FAILED: ${executed:-no} executions of the $runs required within ${max_seconds}s; see $out/fuzz.log" >&2
    exit 1
fi
echo "fuzz: clean after $executed executions"
