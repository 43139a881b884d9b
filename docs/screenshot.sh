#!/usr/bin/env bash
# Re-creates docs/screenshot.png: the window watching a sandbox during a visible incident, the way
# an operator would watch a server PoolScope did not start (a URI and --pooler-console, not
# --demo). The incident: 29 instances of a "storm" service hold direct connections (18 of them
# idle in transaction) on a server with max_connections 40, while steady traffic flows through
# PgBouncer, whose small pool makes its clients queue.
#
#   docs/screenshot.sh [BUILD_DIR]      (default build/release; needs xvfb-run, pgbench, psql)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build/release}"
poolscope="$build/app/poolscope"
pgbin=/usr/lib/postgresql/15/bin
work="$(mktemp -d)"
children=()

cleanup() {
    for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$poolscope" sandbox --max-connections 40 --pool-size 6 >"$work/sandbox.out" 2>"$work/sandbox.err" &
children+=($!)
for _ in $(seq 120); do
    grep -q '^pgbouncer_pid=' "$work/sandbox.out" && break
    sleep 0.5
done
value() { sed -n "s/^$1=//p" "$work/sandbox.out"; }
direct="$(value direct)"
pooled="$(value pooled)"
console="$(value console)"
export PGPASSFILE="$(value passfile)"
[ -n "$console" ] || { cat "$work/sandbox.err" >&2; exit 1; }

# A fresh HOME: no saved window geometry or page from an earlier run.
mkdir -p "$work/home"
HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x900x24" \
    "$poolscope" "$direct" --pooler-console "$console" --chart-window 1m \
    --screenshot "$root/docs/screenshot.png" --quit-after 75s >"$work/window.json" &
window=$!

# The window watches a quiet server for 15 s, then the pooled traffic starts, then the storm.
sleep 15
# Traffic through PgBouncer beyond what its pool can serve: 60 clients offering 100 transactions/s
# of 100 ms each into a pool of 6 server connections (60/s at most), so clients queue.
echo "SELECT pg_sleep(0.1);" >"$work/load.sql"
PGAPPNAME=checkout "$pgbin/pgbench" -n -f "$work/load.sql" -c 60 -j 2 -R 100 -T 600 "$pooled" \
    >"$work/pgbench.out" 2>&1 &
children+=($!)

sleep 5
# The storm: each instance opens a connection and keeps it; the first 18 leave a transaction open
# (pgbench's \sleep waits on the client side, so the session shows as idle (in transaction)).
printf 'BEGIN;\nSELECT count(*) FROM pg_class;\n\\sleep 600 s\n' >"$work/hold-transaction.sql"
printf '\\sleep 600 s\n' >"$work/hold-connection.sql"
for i in $(seq 1 29); do
    script="$work/hold-connection.sql"
    [ "$i" -le 18 ] && script="$work/hold-transaction.sql"
    PGAPPNAME="storm-$i" "$pgbin/pgbench" -n -f "$script" -c 1 -T 600 "$direct" >/dev/null 2>&1 &
    children+=($!)
    sleep 1 # the storm builds up over half a minute, as one does
done

wait "$window"
echo "docs/screenshot.png written; the charts held:" && cut -c1-400 "$work/window.json"
