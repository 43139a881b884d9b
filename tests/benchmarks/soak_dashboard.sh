#!/usr/bin/env bash
# Memory over a long incident: does the dashboard level off?
#
#   tests/benchmarks/soak_dashboard.sh                               # 2 h, a sample a minute
#   tests/benchmarks/soak_dashboard.sh --duration 20m --period 10s --out /tmp/soak/short
#   POOLSCOPE=/tmp/soak/poolscope tests/benchmarks/soak_dashboard.sh --duration 2h
#
# Runs the real window (`poolscope --demo`: embedded PostgreSQL 15 + PgBouncer on 127.0.0.1 and
# the light demo workload) on an X server of its own (Xvfb, not the offscreen platform, so the
# rendering costs are real), sampling every --interval (default 250ms, i.e. 4 samples a second:
# 2 h of soak = 8 h of 1 Hz data) with the charts on their 24-hour window (--chart-window 24h).
# Every --period it appends one row to $OUT/soak.csv:
#     elapsed_s,rss_kb,threads,fds
# from /proc/<pid>/status (VmRSS, Threads) and /proc/<pid>/fd of the poolscope process, and one to
# $OUT/load.csv: elapsed_s,load1,cpu_s (the machine's 1-minute load, poolscope's user+system CPU
# seconds). At the end poolscope gets SIGTERM; the script then checks that it exited, that none of
# the PostgreSQL/PgBouncer processes it started is left and that its sandbox directory is gone.
# Exit status: 0 if all of that holds, 1 otherwise (the CSV is kept either way).
#
# Copy the binary first (e.g. to /tmp/soak/poolscope) if the build directory may be rebuilt while
# the soak runs: a rebuild would replace the executable under the running process.
#
# Needs: a release build of poolscope, Xvfb + xvfb-run, PostgreSQL 15, PgBouncer, awk.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
POOLSCOPE=${POOLSCOPE:-"$ROOT/build/release/app/poolscope"}
DURATION=2h
PERIOD=60s
INTERVAL=250ms
CHART_WINDOW=24h
OUT=""
SCREEN=${SCREEN:-1600x1000x24}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --binary PATH        poolscope to run (default \$POOLSCOPE or build/release/app/poolscope)
  --duration D         how long to soak, e.g. 2h, 20m, 90s (default $DURATION)
  --period D           time between samples (default $PERIOD)
  --interval D         poolscope's sampling interval (default $INTERVAL)
  --chart-window D     the charts' window (default $CHART_WINDOW)
  --out DIR            where soak.csv, load.csv and the logs go (default: a new /tmp/soak-XXXX)
EOF
}

die() {
    printf 'soak_dashboard.sh: %s\n' "$*" >&2
    exit 2
}

# 2h / 20m / 90s / 250ms -> seconds (whole; ms rounded up to 1 s minimum where it matters).
seconds_of() {
    local v=$1
    case $v in
    *ms) echo $(((${v%ms} + 999) / 1000)) ;;
    *h) echo $((${v%h} * 3600)) ;;
    *m) echo $((${v%m} * 60)) ;;
    *s) echo $((${v%s})) ;;
    *) die "not a duration: '$v' (use e.g. 2h, 20m, 90s)" ;;
    esac
}

while (($#)); do
    case $1 in
    --binary) POOLSCOPE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --period) PERIOD=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --chart-window) CHART_WINDOW=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
done
[[ $DURATION =~ ^[0-9]+(h|m|s)$ ]] || die "--duration takes e.g. 2h, 20m or 90s"
[[ $PERIOD =~ ^[0-9]+(m|s)$ ]] || die "--period takes e.g. 60s or 1m"
duration_s=$(seconds_of "$DURATION")
period_s=$(seconds_of "$PERIOD")
((period_s > 0 && duration_s >= period_s)) || die "need 0 < --period <= --duration"
[[ -x $POOLSCOPE ]] || die "no poolscope at $POOLSCOPE (build the release preset, or --binary)"
command -v xvfb-run >/dev/null || die "xvfb-run is required (apt-get install xvfb)"
[[ -n $OUT ]] || OUT=$(mktemp -d /tmp/soak-XXXXXX)
mkdir -p "$OUT"
csv="$OUT/soak.csv"
loadcsv="$OUT/load.csv"

# Settings of its own: the page last shown or a saved geometry must not change what is measured,
# and the run must not change the user's settings.
export XDG_CONFIG_HOME="$OUT/config"
mkdir -p "$XDG_CONFIG_HOME"

# xvfb-run starts Xvfb on a free display and runs poolscope as its child; `exec` keeps the pid
# of the shell it forks the pid of poolscope, which is what we sample and signal.
xvfb-run -a -s "-screen 0 $SCREEN -nolisten tcp" \
    bash -c 'echo $$ >"$1/poolscope.pid"; shift; exec "$@"' _ "$OUT" \
    "$POOLSCOPE" --demo --interval "$INTERVAL" --chart-window "$CHART_WINDOW" --page overview \
    >"$OUT/poolscope.out" 2>"$OUT/poolscope.err" &
runner=$!

cleanup() {
    if [[ -n ${pid:-} ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
    fi
    wait "$runner" 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo "soak_dashboard.sh: failed at line $LINENO" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

pid=""
for _ in $(seq 1 100); do
    [[ -s $OUT/poolscope.pid ]] && pid=$(cat "$OUT/poolscope.pid") && break
    sleep 0.1
done
[[ -n $pid ]] || die "poolscope did not start (see $OUT/poolscope.err)"

# The servers it starts, and their directory: its children (and theirs) that are postgres or
# pgbouncer, found once the sandbox is up.
descendants() {
    local p=$1 c
    for c in $(pgrep -P "$p" 2>/dev/null || true); do
        echo "$c"
        descendants "$c"
    done
}
# A pid with its start time (field 22 of /proc/pid/stat), so that a pid reused by another
# process during a long run is not mistaken for one of ours.
start_time() {
    sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }' || true
}
server_pids() {
    local c comm
    for c in $(descendants "$pid"); do
        comm=$(cat "/proc/$c/comm" 2>/dev/null || true)
        if [[ $comm == postgres || $comm == pgbouncer ]]; then
            echo "$c:$(start_time "$c")"
        fi
    done
}
servers=""
for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || die "poolscope exited during start-up (see $OUT/poolscope.err)"
    servers=$(server_pids)
    if grep -qw pgbouncer < <(for c in $servers; do cat "/proc/${c%%:*}/comm" 2>/dev/null || true; done); then
        break
    fi
    sleep 0.1
done
[[ -n $servers ]] || die "no PostgreSQL/PgBouncer under poolscope after 60 s"
sleep 2 # the postmaster's own children (checkpointer, walwriter, ...)
servers=$(server_pids | sort -n)
# Its sandbox directory: the one the servers' working directories and command lines point into
# (another engineer's sandbox may have appeared in the meantime too).
sandbox_dirs=$(for s in $servers; do
    readlink "/proc/${s%%:*}/cwd" 2>/dev/null || true
    tr '\0' '\n' <"/proc/${s%%:*}/cmdline" 2>/dev/null || true
done | grep -o "${TMPDIR:-/tmp}/poolscope-sandbox-[A-Za-z0-9]*" | sort -u || true)
[[ -n $sandbox_dirs ]] || die "could not find the sandbox directory of the servers"
{
    printf 'poolscope pid %s: %s\n' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    printf 'server pids: %s\n' "$(echo $servers)"
    printf 'sandbox dirs: %s\n' "$(echo $sandbox_dirs)"
} | tee "$OUT/run.info" >&2

echo 'elapsed_s,rss_kb,threads,fds' >"$csv"
echo 'elapsed_s,load1,cpu_s' >"$loadcsv"
ticks=$(getconf CLK_TCK)
start=$(date +%s)
sample() {
    local now elapsed rss threads fds load cpu
    now=$(date +%s)
    elapsed=$((now - start))
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    load=$(cut -d' ' -f1 /proc/loadavg)
    # utime and stime are fields 14 and 15 of /proc/pid/stat (after the parenthesised comm).
    cpu=$(sed 's/^.*) //' "/proc/$pid/stat" | awk -v t="$ticks" '{ printf "%.1f", ($12 + $13) / t }')
    echo "$elapsed,$rss,$threads,$fds" >>"$csv"
    echo "$elapsed,$load,$cpu" >>"$loadcsv"
}
sample
next=$((start + period_s))
end=$((start + duration_s))
status=0
while (($(date +%s) < end)); do
    sleep $((next - $(date +%s) > 0 ? next - $(date +%s) : 0))
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "soak_dashboard.sh: poolscope exited before the end (see $OUT/poolscope.err)" >&2
        status=1
        break
    fi
    sample
    next=$((next + period_s))
done

if kill -0 "$pid" 2>/dev/null; then
    # What the window showed at the end (xvfb-run's display and its auth file).
    env_of() { tr '\0' '\n' <"/proc/$pid/environ" | sed -n "s/^$1=//p"; }
    XAUTHORITY=$(env_of XAUTHORITY) import -display "$(env_of DISPLAY)" -window root \
        "$OUT/window-at-end.png" 2>/dev/null || true
    kill -TERM "$pid"
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "soak_dashboard.sh: poolscope still running 30 s after SIGTERM" >&2
        status=1
    fi
fi
wait "$runner" 2>/dev/null && rc=0 || rc=$?
echo "poolscope exit status: $rc" | tee -a "$OUT/run.info" >&2
((rc == 0)) || status=1
sleep 1
for s in $servers; do
    if [[ $(start_time "${s%%:*}") == "${s#*:}" ]]; then
        echo "soak_dashboard.sh: server process ${s%%:*} ($(cat "/proc/${s%%:*}/comm")) left" >&2
        status=1
    fi
done
for d in $sandbox_dirs; do
    if [[ -e $d ]]; then
        echo "soak_dashboard.sh: sandbox directory $d left" >&2
        status=1
    fi
done
((status == 0)) && echo "clean exit: no server process or sandbox directory left" | tee -a "$OUT/run.info" >&2
awk -F, 'NR == 2 { first = $2 } NR > 1 { last = $2; n++ }
    END { printf "samples %d, RSS %.1f -> %.1f MB\n", n, first / 1024, last / 1024 }' "$csv" >&2
exit "$status"
