#!/usr/bin/env bash
# bench/retention.sh: what the retention job removes per second and what it
# does to concurrent ingest (README "Retention", sql/024_retention.sql).
#
#   bench/retention.sh          full run: 200,000 expired runs, 20 s phases
#   bench/retention.sh --quick  smoke run: 20,000 expired runs, 5 s phases
#   options: --keep             leave the stack running afterwards
#
# Phases, on the demo project (policy runs_days 30), whose expired runs
# (one node execution and two events each, created 40 days ago) are
# loaded by SQL before each:
#   1. the job alone (agora-retention --batch 500): runs and payload rows
#      removed per second, and PostgreSQL's CPU seconds per 1,000 runs
#      (bench/cpu.py), which a busy machine moves less than wall time;
#   2. ingest alone: the M payloads of bench/gen.py, concurrency 4 through
#      nginx+TLS (wrk), SEG_S seconds: requests/s and latency percentiles;
#   3. the same ingest while the job runs (loaded again): the same figures,
#      and whether the job was still running when wrk ended (if not, the
#      window held ingest without a job too: load more with a full run).
#   4. trimming (sql/026): the policy becomes payload_days 7 (runs kept),
#      N runs created 10 days ago with a 4 KiB error and 2 KiB metadata and
#      one node execution with a 4 KiB error; the job alone: fields trimmed
#      and PostgreSQL's CPU seconds per 1,000 runs, then a second job, which
#      finds nothing left after its mark (its CPU shows the runs are not
#      read again).
# Prints a Markdown table; BENCHMARKS.md has the recorded figures.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
bench_options 2,19 -- "$@"
if [[ $mode == full ]]; then N=200000 SEG_S=20; else N=20000 SEG_S=5; fi

bench_tools
bench_stack_start

psql_super -c "INSERT INTO agora.retention_policies (organization_id, project_id, runs_days)
               VALUES ('$org', '$project', 30)" >/dev/null

# load: N expired runs of the demo workflow, with their items.
load() {
    psql_super -c "
      WITH x AS (INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,
                   started_at, completed_at, duration_ms, created_at)
                 SELECT '$org', '$project', '$workflow', 'bench', 'success', now() - interval '40 days',
                        now() - interval '40 days', 1, now() - interval '40 days' FROM generate_series(1, $N)
                 RETURNING id, organization_id, project_id, created_at),
           n AS (INSERT INTO agora.node_executions (run_created_at, organization_id, project_id, execution_id,
                   node_name, status)
                 SELECT created_at, organization_id, project_id, id, 'load', 'success' FROM x)
      INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type,
          \"timestamp\", data)
      SELECT created_at, organization_id, project_id, id, 'node_start', now(), '{\"k\": \"v\"}' FROM x, generate_series(1, 2)" >/dev/null
    psql_super -c "VACUUM ANALYZE agora.executions, agora.node_executions, agora.telemetry_events" >/dev/null
}

job() { AGORA_ADMIN_DATABASE_URL=$AGORA_ADMIN_DATABASE_URL "$root/agora-retention" --batch 500 --max-seconds 3600; }

say "1. the job alone: $N expired runs"
load
before=$(python3 "$bench/cpu.py" "$AGORA_VAR")
job >"$res/job-alone.json"
after=$(python3 "$bench/cpu.py" "$AGORA_VAR")
pg_cpu=$(jq -n --argjson a "$before" --argjson b "$after" '$b.postgres - $a.postgres')

say "2. ingest alone, concurrency 4, ${SEG_S}s"
wrk_run ingest-alone 4 "$SEG_S" "$base/api/executions/ingest" auth=1 body="$(bodies M)"

say "3. ingest while the job removes $N runs"
load
job >"$res/job-ingest.json" &
job_pid=$!
wrk_run ingest-job 4 "$SEG_S" "$base/api/executions/ingest" auth=1 body="$(bodies M)"
still=no
kill -0 "$job_pid" 2>/dev/null && still=yes
wait "$job_pid"

say "4. trimming: $N runs past a 7-day payload window"
psql_super -c "UPDATE agora.retention_policies SET runs_days = NULL, payload_days = 7
               WHERE project_id = '$project'" >/dev/null
psql_super -c "
  WITH x AS (INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,
               started_at, completed_at, duration_ms, created_at, error, metadata)
             SELECT '$org', '$project', '$workflow', 'bench', 'error', now() - interval '10 days',
                    now() - interval '10 days', 1, now() - interval '10 days',
                    jsonb_build_object('type', 'ValueError', 'message', 'bad row', 'traceback', repeat('at f (x.py:1) ', 290)),
                    jsonb_build_object('tags', repeat('t', 2000))
             FROM generate_series(1, $N)
             RETURNING id, organization_id, project_id)
  INSERT INTO agora.node_executions (organization_id, project_id, execution_id, node_name, status, error)
  SELECT organization_id, project_id, id, 'load', 'error',
         jsonb_build_object('message', 'disk', 'trace', repeat('at g (y.py:2) ', 290)) FROM x" >/dev/null
psql_super -c "VACUUM ANALYZE agora.executions, agora.node_executions" >/dev/null
job_cpu() { # FILE: runs the job into FILE, prints PostgreSQL's CPU seconds meanwhile
    local a b
    a=$(python3 "$bench/cpu.py" "$AGORA_VAR")
    job >"$1"
    b=$(python3 "$bench/cpu.py" "$AGORA_VAR")
    jq -n --argjson a "$a" --argjson b "$b" '$b.postgres - $a.postgres'
}
trim_cpu=$(job_cpu "$res/job-trim.json")
# The 60,000 updates leave dead rows: vacuumed here, not by an autovacuum
# worker during the next job, whose CPU would count it.
psql_super -c "VACUUM ANALYZE agora.executions, agora.node_executions" >/dev/null
again_cpu=$(job_cpu "$res/job-trim-again.json")
# One batch with nothing left, in buffers (shared hits and reads: the
# function's own statements count in the calling node), which a busy
# machine does not move. The second call of a session: the first also
# reads the catalogs to plan the function's statements.
batch_buffers() {
    local call="SELECT * FROM agora.$1('$project', now() - interval '7 days', 500)"
    psql_super -c "$call" -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) $call" | sed 1d |
        jq '.[0].Plan["Shared Hit Blocks"] + .[0].Plan["Shared Read Blocks"]'
}
trim_buffers=$(batch_buffers retention_trim_batch)
payload_buffers=$(batch_buffers retention_payload_batch)

j=$res/job-alone.json
printf '\n| figure | value |\n|---|---|\n'
printf '| runs removed (job alone) | %s in %.2f s: %.0f runs/s, %.0f payload rows/s |\n' \
    "$(jq .runs_removed "$j")" "$(jq .seconds "$j")" \
    "$(jq '.runs_removed / .seconds' "$j")" "$(jq '.payload_rows_removed / .seconds' "$j")"
printf '| PostgreSQL CPU per 1,000 runs removed | %.3f s |\n' "$(jq -n "$pg_cpu * 1000 / $(jq .runs_removed "$j")")"
for w in ingest-alone ingest-job; do
    printf '| %s | %.0f req/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %s errors |\n' "$w" \
        "$(jq '.requests / .duration_s' "$res/$w.json")" "$(jq .p50_ms "$res/$w.json")" \
        "$(jq .p99_ms "$res/$w.json")" "$(jq .max_ms "$res/$w.json")" \
        "$(jq '.errors_status + .errors_timeout + .errors_connect' "$res/$w.json")"
done
printf '| job still running when ingest ended | %s (it removed %s runs in %.2f s) |\n' "$still" \
    "$(jq .runs_removed "$res/job-ingest.json")" "$(jq .seconds "$res/job-ingest.json")"
t=$res/job-trim.json
printf '| fields trimmed (job alone) | %s of %s runs in %.2f s |\n' "$(jq .fields_trimmed "$t")" "$N" "$(jq .seconds "$t")"
printf '| PostgreSQL CPU per 1,000 runs trimmed (3 fields each) | %.3f s |\n' "$(jq -n "$trim_cpu * 1000 / $N")"
printf '| the next job, nothing left to trim | %s fields, PostgreSQL CPU %.3f s |\n' \
    "$(jq .fields_trimmed "$res/job-trim-again.json")" "$again_cpu"
printf '| one batch with nothing left (%s runs past the window) | trim %s buffers, payload %s buffers |\n' \
    "$N" "$trim_buffers" "$payload_buffers"
printf '\nload average: start %s, end %s\n' "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
