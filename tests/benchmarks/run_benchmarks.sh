#!/usr/bin/env bash
# PoolScope's whole-program benchmark against pgbench, plus the pool-overhead micro-benchmark.
#
#   tests/benchmarks/run_benchmarks.sh              # REPS=3 DURATION=10
#   REPS=5 DURATION=20 tests/benchmarks/run_benchmarks.sh
#
# Builds the release preset, starts one throwaway sandbox (PostgreSQL 15 + PgBouncer on 127.0.0.1,
# `poolscope sandbox`), then, in the same run and alternating the order every repetition:
#   - `poolscope bench <direct> --workers 8 --connections 4` (8 threads sharing a pool of 4)
#   - `poolscope bench <direct> --workers 4 --connections 4` (no pool contention)
#   - `pgbench -n -M simple -c 4 -j 2 -f 'SELECT 1;'` on the same URI (4 persistent connections,
#     no pool: the ceiling)
# and once each through the PgBouncer URI (`poolscope bench --pooled` vs pgbench). Finally
# bench_pool_overhead (Google Benchmark, JSON). Prints a Markdown summary; raw results are kept in
# $OUT_DIR (default build/release/benchmark-results). Loopback only. The sandbox gets SIGTERM on
# exit, whatever the reason.
#
# Needs: cmake, a C++20 toolchain, Qt 6, libbenchmark-dev, PostgreSQL 15 (pgbench), PgBouncer,
# jq, awk.
set -euo pipefail

REPS=${REPS:-3}
DURATION=${DURATION:-10}
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$ROOT/build/release"
OUT_DIR=${OUT_DIR:-"$BUILD/benchmark-results"}
POOLSCOPE="$BUILD/app/poolscope"
OVERHEAD_BIN="$BUILD/tests/benchmarks/bench_pool_overhead"

die() {
    printf 'run_benchmarks.sh: %s\n' "$*" >&2
    exit 1
}

for v in REPS DURATION; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a whole number > 0, not '${!v}'"
done
for tool in cmake jq awk; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
[[ -x $PGBENCH ]] || die "pgbench not found at $PGBENCH (set PGBENCH=...)"

# Each bench run: 1 s warm-up (poolscope) + DURATION + ~2 s for connecting and tearing down.
runs=$((REPS * 3 + 2))
micro=$((13 * REPS + 15)) # 13 benchmark instances x REPS repetitions x ~0.5-1 s, plus the sandbox
expected=$((runs * (DURATION + 3) + 2 * 5 + micro + 10))
printf 'Expected total: about %d s (%d bench runs of %d s, warm-up, micro-benchmarks), plus the build.\n' \
    "$expected" "$runs" "$DURATION" >&2

mkdir -p "$OUT_DIR"
printf 'Building (release preset) ...\n' >&2
if ! (cd "$ROOT" && cmake --preset release && cmake --build --preset release --target poolscope bench_pool_overhead) \
    >"$OUT_DIR/build.log" 2>&1; then
    tail -n 40 "$OUT_DIR/build.log" >&2
    die "build failed (log: $OUT_DIR/build.log)"
fi

workdir=$(mktemp -d)
sandbox_pid=""
cleanup() {
    if [[ -n $sandbox_pid ]] && kill -0 "$sandbox_pid" 2>/dev/null; then
        kill -TERM "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

printf 'Starting the sandbox ...\n' >&2
"$POOLSCOPE" sandbox >"$workdir/sandbox.out" 2>"$OUT_DIR/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 1 600); do
    grep -q '^passfile=' "$workdir/sandbox.out" 2>/dev/null && break
    kill -0 "$sandbox_pid" 2>/dev/null || die "the sandbox exited early (log: $OUT_DIR/sandbox.log)"
    sleep 0.1
done
grep -q '^passfile=' "$workdir/sandbox.out" || die "the sandbox did not come up within 60 s"
direct=$(sed -n 's/^direct=//p' "$workdir/sandbox.out")
pooled=$(sed -n 's/^pooled=//p' "$workdir/sandbox.out")
passfile=$(sed -n 's/^passfile=//p' "$workdir/sandbox.out")
for uri in "$direct" "$pooled"; do
    [[ $uri =~ ^postgres(ql)?://[^@/]*@(127\.0\.0\.1|localhost|\[::1\]): ]] || die "not a loopback URI: $uri"
done
export PGPASSFILE="$passfile"

script="$workdir/select1.sql"
printf 'SELECT 1;\n' >"$script"

# poolscope_run <uri> <workers> <connections> <seconds> [--pooled]: prints the JSON line.
poolscope_run() {
    local out json
    out=$("$POOLSCOPE" bench "$1" --workers "$2" --connections "$3" --duration "$4" --json "${@:5}" \
        2>>"$OUT_DIR/poolscope-bench.log") || true # exits 1 when errors > 0: still report them
    json=$(printf '%s\n' "$out" | grep '^{' | tail -n 1 || true)
    [[ -n $json ]] || die "poolscope bench printed no result (log: $OUT_DIR/poolscope-bench.log)"
    printf '%s\n' "$json"
}

# pgbench_run <uri> <seconds>: prints tps (without initial connection time).
pgbench_run() {
    local out tps
    out=$("$PGBENCH" -n -M simple -c 4 -j 2 -T "$2" -f "$script" "$1" 2>&1) \
        || die "pgbench failed: $out"
    tps=$(printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p')
    [[ -n $tps ]] || die "no tps in pgbench's output: $out"
    printf '%s\n' "$tps"
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", (b > 0 ? a / b : 0) }'; }
fmt0() { awk -v a="$1" 'BEGIN { printf "%.0f\n", a }'; }

printf 'Warm-up (not counted) ...\n' >&2
pgbench_run "$direct" 2 >/dev/null
poolscope_run "$direct" 8 4 2 >/dev/null

per_rep="$OUT_DIR/per-repetition.tsv"
printf 'rep\tconfig\tpoolscope_ops\tpgbench_tps\tratio\tacq_p50\tacq_p99\tq_p50\tq_p99\terrors\n' >"$per_rep"
for rep in $(seq 1 "$REPS"); do
    printf 'Repetition %d/%d ...\n' "$rep" "$REPS" >&2
    # Alternate the order so that neither side always runs first (thermal, cache, neighbours).
    if ((rep % 2)); then
        tps=$(pgbench_run "$direct" "$DURATION")
        j8=$(poolscope_run "$direct" 8 4 "$DURATION")
        j4=$(poolscope_run "$direct" 4 4 "$DURATION")
    else
        j4=$(poolscope_run "$direct" 4 4 "$DURATION")
        j8=$(poolscope_run "$direct" 8 4 "$DURATION")
        tps=$(pgbench_run "$direct" "$DURATION")
    fi
    for cfg in w8 w4; do
        if [[ $cfg == w8 ]]; then j=$j8; else j=$j4; fi
        ops=$(jq -r '.ops_per_sec' <<<"$j")
        ratio=$(div "$ops" "$tps")
        printf '%d\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$cfg" "$(fmt0 "$ops")" "$(fmt0 "$tps")" "$ratio" \
            "$(jq -r '[.acquire_wait_us.p50, .acquire_wait_us.p99, .query_us.p50, .query_us.p99, .errors] | @tsv' <<<"$j")" \
            >>"$per_rep"
    done
done

printf 'Through PgBouncer (one run each) ...\n' >&2
pg_pooled=$(pgbench_run "$pooled" "$DURATION")
jp=$(poolscope_run "$pooled" 8 4 "$DURATION" --pooled)
printf '1\tpooled_w8\t%s\t%s\t%s\t%s\n' "$(fmt0 "$(jq -r '.ops_per_sec' <<<"$jp")")" "$(fmt0 "$pg_pooled")" \
    "$(div "$(jq -r '.ops_per_sec' <<<"$jp")" "$pg_pooled")" \
    "$(jq -r '[.acquire_wait_us.p50, .acquire_wait_us.p99, .query_us.p50, .query_us.p99, .errors] | @tsv' <<<"$jp")" \
    >>"$per_rep"

printf 'Micro-benchmark bench_pool_overhead ...\n' >&2
micro_json="$OUT_DIR/bench_pool_overhead.json"
"$OVERHEAD_BIN" --benchmark_format=json --benchmark_repetitions="$REPS" \
    --benchmark_report_aggregates_only=true >"$micro_json" 2>"$OUT_DIR/bench_pool_overhead.log" \
    || die "bench_pool_overhead failed (log: $OUT_DIR/bench_pool_overhead.log)"

# ---------------------------------------------------------------------------------------------
# Markdown summary

col() { awk -F'\t' -v c="$1" -v k="$2" 'NR > 1 && $2 == c { print $k }' "$per_rep"; }
colmedian() { # <config> <column> [printf format]
    local -a v
    mapfile -t v < <(col "$1" "$2")
    awk -v f="${3:-%.0f}" -v x="$(median "${v[@]}")" 'BEGIN { printf f, x }'
}
colmax() { col "$1" "$2" | awk 'BEGIN { m = 0 } { if ($1 + 0 > m) m = $1 + 0 } END { print m }'; }
colsum() { col "$1" "$2" | awk '{ s += $1 } END { print s + 0 }'; }
summary_row() { # <config> <label>
    local -a ratios
    mapfile -t ratios < <(col "$1" 5)
    printf '| %s | %s | %s | %s | %s | %s / %s | %s / %s | %s |\n' "$2" "$(colmedian "$1" 3)" \
        "$(colmedian "$1" 4)" "${ratios[*]}" "$(colmedian "$1" 5 '%.2f')" \
        "$(colmedian "$1" 6)" "$(colmax "$1" 7)" "$(colmedian "$1" 8)" "$(colmax "$1" 9)" "$(colsum "$1" 10)"
}

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cat <<EOF

## PoolScope vs pgbench ($(date -u '+%Y-%m-%d %H:%M UTC'))

Machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, kernel $(uname -r), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg).
Each run: ${DURATION} s measured, closed loop, \`SELECT 1\` (simple protocol); ${REPS} repetitions, order alternated.
pgbench: \`-n -M simple -c 4 -j 2\` = 4 persistent connections, no pool (the ceiling).

| Configuration | PoolScope ops/s (median) | pgbench ops/s (median) | ratio per repetition | ratio (median) | acquire wait p50 / worst p99 (µs) | query p50 / worst p99 (µs) | errors |
|---|---:|---:|---|---:|---:|---:|---:|
EOF
summary_row w8 'direct, W=8 workers, M=4 connections'
summary_row w4 'direct, W=4, M=4 (no pool contention)'
summary_row pooled_w8 "PgBouncer, W=8, M=4 (\`--pooled\`), 1 run"

w8_ratio=$(colmedian w8 5 '%.2f')
w8_p99=$(colmax w8 7)
ratio_ok=$(awk -v r="$w8_ratio" 'BEGIN { print (r >= 0.9 ? "met" : "NOT met") }')
p99_ok=$(awk -v p="$w8_p99" 'BEGIN { print (p < 100 ? "met" : "NOT met") }')
cat <<EOF

Goal (W=8, M=4, loopback): ops/s >= 0.9x pgbench -> median ratio $(printf '%.2f' "$w8_ratio"): **${ratio_ok}**;
acquire-wait p99 < 100 µs -> worst p99 over the repetitions ${w8_p99} µs: **${p99_ok}**.

## bench_pool_overhead (median of ${REPS} repetitions; time = wall time / operations over all threads)

| Benchmark | time (ns) | CPU (ns) | x mutex+clocks baseline | waited % |
|---|---:|---:|---:|---:|
EOF
jq -r '
    .benchmarks as $all
    | ([.benchmarks[] | select(.aggregate_name == "median")]
     | if length == 0 then [$all[] | select(.run_type == "iteration")] else . end) as $m
    | ($m[] | select(.run_name == "BM_BaselineMutexAndClocks/real_time") | .real_time) as $base
    | $m[] | "| \(.run_name) | \(.real_time * 10 | round / 10) | \(.cpu_time * 10 | round / 10) | \(.real_time / $base * 100 | round / 100) | \(if .waited_pct then (.waited_pct | round) else "" end) |"
' "$micro_json"
printf '\nRaw results: %s\n' "$OUT_DIR"
