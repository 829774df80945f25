#!/usr/bin/env bash
# bench/export.sh: what taking runs away costs (README "Export and report"),
# in one command.
#
#   bench/export.sh            N=1,000,000 executions (the recorded run)
#   bench/export.sh N          another N, e.g. bench/export.sh 100000
#   options: --keep            leave the stack running afterwards
#
# Phases, on a fresh stack (bench/lib.sh) with one worker, so the one that
# streams is the one measured:
#   1. N executions loaded in bulk into the demo workflow (SQL, as the
#      superuser), eight to a started_at so the keyset walk meets ties;
#   2. GET /api/executions?workflow_id=...&format=ndjson through nginx+TLS,
#      read by curl to the end: rows/s (wall, moved by other load on the
#      machine), CPU seconds of the worker, PostgreSQL and nginx per million
#      rows, and the worker's peak RSS (VmHWM, reset before the stream)
#      against its RSS before: a constant-memory stream leaves them close
#      whatever N is;
#   3. GET /api/executions/{id}/export of one run with N/10 events (N/100
#      node executions), the same figures.
# Prints a Markdown table; BENCHMARKS.md has the recorded figures.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"

N=1000000
keep=0
for a in "$@"; do
    case $a in
        --keep) keep=1 ;;
        -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        [0-9]*) N=$a ;;
        *) printf 'bench/export.sh: unknown option %s (try --help)\n' "$a" >&2; exit 2 ;;
    esac
done
[[ $N =~ ^[0-9]+$ && $N -ge 1000 ]] || { printf 'bench/export.sh: N must be a whole number >= 1000\n' >&2; exit 2; }

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
bench_tools
export AGORA_WORKERS=1
bench_stack_start
bench_facts "export N=$N"

worker_pid() {
    local sup
    sup=$(<"$AGORA_VAR/run/workers.pid")
    pgrep -P "$sup" | head -n1
}
kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

say "loading $N executions"
psql_super -c "INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,
                   started_at, completed_at, duration_ms, metadata)
               SELECT '$org', '$project', '$workflow', 'bench-' || (g % 100),
                      (ARRAY['success','error','cancelled'])[1 + g % 3],
                      timestamptz '2025-01-01T00:00:00Z' + (g / 8) * interval '1 second',
                      timestamptz '2025-01-01T00:00:00Z' + (g / 8) * interval '1 second' + interval '2 seconds',
                      2000, jsonb_build_object('g', g)
               FROM generate_series(1, $N) g" >/dev/null
run=$(psql_super -c "SELECT id FROM agora.executions WHERE workflow_id = '$workflow' ORDER BY started_at LIMIT 1")
events=$((N / 10)) nodes=$((N / 100))
say "adding $events events and $nodes node executions to run $run"
created=$(psql_super -c "SELECT created_at FROM agora.executions WHERE id = '$run'")
psql_super -c "INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type,
                   \"timestamp\", node_name, data)
               SELECT '$created', '$org', '$project', '$run', 'tick', timestamptz '2025-01-01T00:00:00Z' + g * interval '1 ms',
                      'n' || (g % 10), jsonb_build_object('g', g)
               FROM generate_series(1, $events) g" \
           -c "INSERT INTO agora.node_executions (run_created_at, organization_id, project_id, execution_id,
                   node_name, status, started_at, completed_at, exec_duration_ms)
               SELECT '$created', '$org', '$project', '$run', 'n' || (g % 10), 'success',
                      timestamptz '2025-01-01T00:00:00Z' + g * interval '1 ms',
                      timestamptz '2025-01-01T00:00:00Z' + g * interval '1 ms' + interval '1 ms', 1
               FROM generate_series(1, $nodes) g" >/dev/null
psql_super -c "VACUUM ANALYZE agora.executions" -c "VACUUM ANALYZE agora.telemetry_events" \
           -c "VACUUM ANALYZE agora.node_executions" >/dev/null

# timed_get NAME URL: the GET read to the end into a file; its wall time
# (the request alone: with_cpu's own waits are outside) in NAME.secs.
timed_get() {
    local t0 t1
    t0=$(date +%s.%N)
    curl -sS --fail --cacert "$AGORA_TLS_CERT" --max-time 3600 -H @"$bv/auth-header" -o "$bv/$1.out" "$base$2"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}' >"$bv/$1.secs"
}

# measure NAME URL ROWS: one streamed GET read to the end; results/NAME.json.
measure() {
    local name=$1 url=$2 rows=$3 pid rss0 hwm bytes
    pid=$(worker_pid)
    [[ -n $pid ]] || die "no worker"
    rss0=$(kib "$pid" VmRSS)
    echo 5 >"/proc/$pid/clear_refs" || die "cannot reset the worker's peak RSS (run as root or as the workers' user)"
    with_cpu "$name" timed_get "$name" "$url"
    hwm=$(kib "$pid" VmHWM)
    bytes=$(stat -c %s "$bv/$name.out")
    jq -n --arg name "$name" --argjson rows "$rows" --argjson bytes "$bytes" --argjson rss0 "$rss0" \
        --argjson hwm "$hwm" --argjson secs "$(<"$bv/$name.secs")" --slurpfile cpu "$res/cpu-$name.json" \
        '{name:$name, rows:$rows, bytes:$bytes, seconds:$secs, rows_per_s:($rows / $secs),
          worker_rss_before_kib:$rss0, worker_peak_rss_kib:$hwm,
          cpu_s_per_million_rows:{worker:($cpu[0].workers / $rows * 1e6), postgres:($cpu[0].postgres / $rows * 1e6),
                                  nginx:($cpu[0].nginx / $rows * 1e6)}}' >"$res/$name.json"
    rm -f "$bv/$name.out" "$bv/$name.secs"
}

say "streaming $N executions as NDJSON"
measure ndjson "/api/executions?workflow_id=$workflow&format=ndjson" "$N"
lines=$(psql_super -c "SELECT count(*) FROM agora.executions WHERE workflow_id = '$workflow'")
say "exporting run $run ($events events, $nodes node executions)"
measure export "/api/executions/$run/export" "$((events + nodes))"

printf '\n| stream | rows | bytes | rows/s (wall) | worker RSS before -> peak (KiB) | CPU s per 1M rows: worker / PostgreSQL / nginx |\n'
printf '|---|---|---|---|---|---|\n'
for name in ndjson export; do
    jq -r '"| \(.name) | \(.rows) | \(.bytes) | \(.rows_per_s | floor) | \(.worker_rss_before_kib) -> \(.worker_peak_rss_kib) | \(.cpu_s_per_million_rows.worker * 100 | round / 100) / \(.cpu_s_per_million_rows.postgres * 100 | round / 100) / \(.cpu_s_per_million_rows.nginx * 100 | round / 100) |"' \
        "$res/$name.json"
done
say "$lines executions in the workflow; figures in $res"
