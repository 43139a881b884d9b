#!/usr/bin/env bash
# Does the cold-start probe add a cost of its own to a connection?
#
#   tests/benchmarks/bench_coldstart.sh                  # ROUNDS=5 TRIALS=100
#   ROUNDS=7 TRIALS=200 LATENCY_MS=10 tests/benchmarks/bench_coldstart.sh
#
# Starts one throwaway sandbox (`poolscope sandbox`, TLS on: verify-full with its own CA), then,
# in the same run and alternating which goes first every round, on the direct and on the pooled
# URI:
#   - `poolscope coldstart <uri> --trials TRIALS --warm-queries 0 --json`: a fresh connection per
#     trial; its connect time is dns + tcp + tls + auth (total minus the first query);
#   - `pgbench -n -C -c 1 -j 1 -t TRIALS -f 'SELECT 1;' <uri>`: a new connection per
#     transaction; pgbench reports the "average connection time".
# Both use libpq with the same URI (same TLS, same SCRAM, same pgpass). The result per round is
# the mean connect time of each; the report gives the medians over the rounds and the ratio
# probe / pgbench (the goal: <= 1.1). Raw output is kept in $OUT_DIR. Loopback only; the sandbox
# gets SIGTERM on exit, whatever the reason.
#
# Needs: a release build (built here), PostgreSQL 15 (pgbench), PgBouncer, openssl, jq, awk.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
TRIALS=${TRIALS:-100}
LATENCY_MS=${LATENCY_MS:-0}
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-"$ROOT/build/release"}
OUT_DIR=${OUT_DIR:-"$BUILD/benchmark-results/coldstart"}
POOLSCOPE="$BUILD/app/poolscope"

die() {
    printf 'bench_coldstart.sh: %s\n' "$*" >&2
    exit 1
}

for v in ROUNDS TRIALS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a whole number > 0, not '${!v}'"
done
[[ $LATENCY_MS =~ ^[0-9]+$ ]] || die "LATENCY_MS must be a whole number, not '$LATENCY_MS'"
((TRIALS <= 1000)) || die "TRIALS is at most 1000 (poolscope coldstart's limit)"
for tool in cmake jq awk; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
[[ -x $PGBENCH ]] || die "pgbench not found at $PGBENCH (set PGBENCH=...)"

mkdir -p "$OUT_DIR"
if [[ -z ${SKIP_BUILD:-} ]]; then
    printf 'Building (release preset) ...\n' >&2
    if ! (cd "$ROOT" && cmake --preset release && cmake --build --preset release --target poolscope) \
        >"$OUT_DIR/build.log" 2>&1; then
        tail -n 40 "$OUT_DIR/build.log" >&2
        die "build failed (log: $OUT_DIR/build.log)"
    fi
fi
[[ -x $POOLSCOPE ]] || die "no poolscope at $POOLSCOPE"

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

printf 'Starting the sandbox (latency %s ms) ...\n' "$LATENCY_MS" >&2
"$POOLSCOPE" sandbox --latency-ms "$LATENCY_MS" >"$workdir/sandbox.out" 2>"$OUT_DIR/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 1 600); do
    grep -q '^passfile=' "$workdir/sandbox.out" 2>/dev/null && break
    kill -0 "$sandbox_pid" 2>/dev/null || die "the sandbox exited early (log: $OUT_DIR/sandbox.log)"
    sleep 0.1
done
grep -q '^passfile=' "$workdir/sandbox.out" || die "the sandbox did not come up within 60 s"
direct=$(sed -n 's/^direct=//p' "$workdir/sandbox.out")
pooled=$(sed -n 's/^pooled=//p' "$workdir/sandbox.out")
export PGPASSFILE=$(sed -n 's/^passfile=//p' "$workdir/sandbox.out")
for uri in "$direct" "$pooled"; do
    [[ $uri =~ ^postgresql://[^@/]*@127\.0\.0\.1: ]] || die "not a loopback URI: $uri"
done
script="$workdir/select1.sql"
printf 'SELECT 1;\n' >"$script"

# probe_run <uri>: the mean connect time (total - first query) of TRIALS fresh connections, in ms.
probe_run() {
    local out
    out=$("$POOLSCOPE" coldstart "$1" --trials "$TRIALS" --warm-queries 0 --json \
        2>>"$OUT_DIR/coldstart.log") || die "poolscope coldstart failed: $(tail -n 3 "$OUT_DIR/coldstart.log")"
    printf '%s\n' "$out" >>"$OUT_DIR/coldstart.jsonl"
    jq -e '.summary.trials_ok == .summary.trials_requested' <<<"$out" >/dev/null \
        || die "a probe trial failed: $(jq -c '.error' <<<"$out")"
    jq -r '[.trials[] | .total_ms - .first_query_ms] | add / length' <<<"$out"
}

# pgbench_run <uri>: pgbench's average connection time with a new connection per transaction.
pgbench_run() {
    local out ms
    out=$("$PGBENCH" -n -C -c 1 -j 1 -t "$TRIALS" -M simple -f "$script" "$1" 2>&1) \
        || die "pgbench failed: $out"
    printf '%s\n' "$out" >>"$OUT_DIR/pgbench.log"
    ms=$(printf '%s\n' "$out" | sed -n 's/^average connection time = \([0-9.]*\) ms$/\1/p')
    [[ -n $ms ]] || die "no connection time in pgbench's output: $out"
    printf '%s\n' "$ms"
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b > 0 ? a / b : 0) }'; }

printf 'Warm-up (not counted) ...\n' >&2
TRIALS_SAVED=$TRIALS
TRIALS=10
probe_run "$direct" >/dev/null
pgbench_run "$direct" >/dev/null
TRIALS=$TRIALS_SAVED

: >"$OUT_DIR/coldstart.jsonl"
: >"$OUT_DIR/pgbench.log"
per_round="$OUT_DIR/per-round.tsv"
printf 'round\ttarget\tprobe_connect_ms\tpgbench_connect_ms\tratio\n' >"$per_round"
declare -A probes pgbenches
for round in $(seq 1 "$ROUNDS"); do
    printf 'Round %d/%d ...\n' "$round" "$ROUNDS" >&2
    for target in direct pooled; do
        if [[ $target == direct ]]; then uri=$direct; else uri=$pooled; fi
        # Alternate the order so that neither side always runs first.
        if ((round % 2)); then
            p=$(probe_run "$uri")
            g=$(pgbench_run "$uri")
        else
            g=$(pgbench_run "$uri")
            p=$(probe_run "$uri")
        fi
        probes[$target]+="$p "
        pgbenches[$target]+="$g "
        printf '%d\t%s\t%.3f\t%.3f\t%s\n' "$round" "$target" "$p" "$g" "$(div "$p" "$g")" >>"$per_round"
    done
done

printf '\n| target | probe connect (median of %d round means, ms) | pgbench -C connect (ms) | ratio probe / pgbench | per-round ratios |\n' "$ROUNDS"
printf '| --- | --- | --- | --- | --- |\n'
for target in direct pooled; do
    # shellcheck disable=SC2086
    pm=$(median ${probes[$target]})
    # shellcheck disable=SC2086
    gm=$(median ${pgbenches[$target]})
    ratios=$(awk -F'\t' -v t="$target" '$2 == t { printf "%s ", $5 }' "$per_round")
    printf '| %s | %.2f | %.2f | %s | %s|\n' "$target" "$pm" "$gm" "$(div "$pm" "$gm")" "$ratios"
done
printf '\nTRIALS=%d connections per side per round, LATENCY_MS=%d; raw: %s\n' "$TRIALS" "$LATENCY_MS" "$OUT_DIR"
