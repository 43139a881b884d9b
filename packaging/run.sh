#!/usr/bin/env bash
# Installs missing dependencies, builds the `poolscope` binary (release preset) and runs it on the
# embedded sandbox (a throwaway PostgreSQL 15 + PgBouncer on 127.0.0.1).
#
# On a desktop (DISPLAY or WAYLAND_DISPLAY set) it starts the dashboard, `poolscope --demo`. On a
# machine without a display it runs `poolscope sandbox` instead, prints how to connect with psql
# and a live connection summary every 2 s until Ctrl-C, then stops the sandbox. Extra arguments
# are passed to the poolscope command.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

# shellcheck source-path=SCRIPTDIR/..
source packaging/deps.sh
poolscope_install_deps

cmake --preset release
cmake --build --preset release --target poolscope
bin=$repo_root/build/release/app/poolscope

# Captured rather than piped into `grep -q`: with pipefail an early grep exit could fail the pipe.
help_text=$("$bin" --help 2>&1 || true)
if grep -q -- '--demo' <<<"$help_text" && [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; then
    exec "$bin" --demo "$@"
fi
if [[ -z ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; then
    echo "No display (DISPLAY/WAYLAND_DISPLAY unset): running the sandbox with a live summary instead of the window."
fi

# ---- no display: sandbox + psql summary -----------------------------------------------------------

for arg in "$@"; do
    if [[ $arg == -h || $arg == --help ]]; then
        exec "$bin" sandbox "$@"
    fi
done

workdir=$(mktemp -d "${TMPDIR:-/tmp}/poolscope-run.XXXXXX")
sandbox_pid=
sandbox_fd_open=0

# True while the process exists and is not a zombie (an exited child we have not waited for yet).
process_running()
{
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

stop_sandbox()
{
    local pid=$sandbox_pid i
    [[ -n $pid ]] || return 0
    sandbox_pid=
    if process_running "$pid"; then
        echo "stopping the sandbox (pid $pid)..."
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 300; i++)); do
            process_running "$pid" || break
            sleep 0.1
        done
        if process_running "$pid"; then
            echo "the sandbox did not stop within 30 s; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup()
{
    local rc=$?
    trap '' INT TERM HUP # a second Ctrl-C must not abort the shutdown half-way
    trap - EXIT
    stop_sandbox
    if ((sandbox_fd_open)); then
        exec 3<&-
    fi
    rm -rf "$workdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# setsid: the sandbox gets its own session, so a terminal Ctrl-C reaches only this script, which
# then sends exactly one SIGTERM. (The background child is not a process-group leader, so setsid
# does not fork and $! is the poolscope process itself.)
mkfifo "$workdir/sandbox.out"
setsid "$bin" sandbox "$@" >"$workdir/sandbox.out" &
sandbox_pid=$!
exec 3<"$workdir/sandbox.out"
sandbox_fd_open=1

declare -A endpoint=()

# Records `key=value` lines (direct, pooled, passfile, console, ...); echoes anything else.
handle_line()
{
    if [[ $1 =~ ^([a-z_]+)=(.*)$ ]]; then
        endpoint[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    elif [[ -n $1 ]]; then
        echo "sandbox: $1"
    fi
}

sandbox_exited()
{
    local rc=0
    wait "$sandbox_pid" || rc=$?
    sandbox_pid=
    echo "run.sh: 'poolscope sandbox' stopped unexpectedly (exit status $rc; see its messages above)" >&2
    exit 1
}

deadline=$((SECONDS + 90))
while [[ -z ${endpoint[direct]:-} || -z ${endpoint[pooled]:-} || -z ${endpoint[passfile]:-} ]]; do
    remaining=$((deadline - SECONDS))
    if ((remaining <= 0)); then
        echo "run.sh: 'poolscope sandbox' printed no endpoints within 90 s" >&2
        exit 1
    fi
    line=
    status=0
    IFS= read -r -t "$remaining" line <&3 || status=$?
    if ((status == 0)); then
        handle_line "$line"
    elif ((status <= 128)); then # end of output: the sandbox closed stdout or is exiting
        handle_line "$line"
        process_running "$sandbox_pid" || sandbox_exited
        sleep 0.2
    fi
done
# Pick up lines printed right after the first three (e.g. console=...).
while IFS= read -r -t 0.5 line <&3; do
    handle_line "$line"
done

direct=${endpoint[direct]}
pooled=${endpoint[pooled]}
passfile=${endpoint[passfile]}
console=${endpoint[console]:-}
admin=${endpoint[admin]:-}
database=${pooled%%\?*}
database=${database##*/}
[[ -n $database && $database != *:* && $database != *@* ]] || database=app

echo
echo "PoolScope sandbox is running (pid $sandbox_pid). Press Ctrl-C to stop it."
echo "  direct:   $direct"
echo "  pooled:   $pooled  (PgBouncer, transaction mode)"
[[ -z $console ]] || echo "  console:  $console  (PgBouncer admin console)"
[[ -z $admin ]] || echo "  admin:    $admin  (superuser, direct)"
echo "  passfile: $passfile"
echo
echo "Connect from another terminal:"
printf "  PGPASSFILE=%q psql '%s'\n" "$passfile" "$direct"
printf "  PGPASSFILE=%q psql '%s'\n" "$passfile" "$pooled"
[[ -z $console ]] || printf "  PGPASSFILE=%q psql '%s'   # SHOW POOLS; SHOW STATS;\n" \
    "$passfile" "$console"
[[ -z $admin ]] || printf "  PGPASSFILE=%q psql '%s'\n" "$passfile" "$admin"
echo

# Client backends by state (this probe excluded) and max_connections. Rows of other roles show
# state "hidden" unless the role may read all statistics.
backend_sql="SELECT 'backends=' || coalesce(sum(n), 0) || '/' || current_setting('max_connections')
    || coalesce(' ' || string_agg(state || '=' || n, ' ' ORDER BY state), '')
  FROM (SELECT coalesce(state, 'hidden') AS state, count(*) AS n
          FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
         GROUP BY 1) AS s"

postgres_summary()
{
    local out
    if out=$(PGPASSFILE=$passfile PGCONNECT_TIMEOUT=3 \
        psql -XAt -v ON_ERROR_STOP=1 -d "$direct" -c "$backend_sql" 2>&1); then
        echo "$out"
    else
        echo "unavailable (${out%%$'\n'*})"
    fi
}

# SHOW POOLS columns differ between PgBouncer versions: select them by header name.
bouncer_summary()
{
    local out
    if ! out=$(PGPASSFILE=$passfile PGCONNECT_TIMEOUT=3 \
        psql -XA -P footer=off -v ON_ERROR_STOP=1 -d "$console" -c 'SHOW POOLS' 2>&1); then
        echo "unavailable (${out%%$'\n'*})"
        return
    fi
    awk -F'|' -v db="$database" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $col["database"] == db {
            printf "%s%s: cl_active=%s cl_waiting=%s sv_active=%s sv_idle=%s", sep, $col["user"],
                $col["cl_active"], $col["cl_waiting"], $col["sv_active"], $col["sv_idle"]
            sep = "; "; found = 1
        }
        END { if (!found) printf "no pool for database %s yet", db }' <<<"$out"
    echo
}

while :; do
    if ! process_running "$sandbox_pid"; then
        sandbox_exited
    fi
    # Show anything the sandbox printed since (and keep its stdout pipe drained).
    while IFS= read -r -t 0.01 line <&3; do
        handle_line "$line"
    done
    summary="$(date +%T)  postgres: $(postgres_summary)"
    if [[ -n $console ]]; then
        summary+="  |  pgbouncer ($database): $(bouncer_summary)"
    fi
    echo "$summary"
    sleep 2
done
