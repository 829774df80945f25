#!/usr/bin/env bash
# bench/retention_marks.sh: what one payload batch of retention reads, with
# its mark (sql/028) and without (025's statement of 024's batch), at
# 10,000 and 100,000 runs whose payloads are already cleared (README
# "Retention", BENCHMARKS.md "Retention").
#
#   bench/retention_marks.sh            10,000 then 100,000 cleared runs
#   bench/retention_marks.sh --quick    1,000 then 10,000
#   options: --keep             leave the stack running afterwards
#
# The demo project gets a 7-day payload window and N runs created 10 days
# ago with one event each; another project (no policy) holds 100,000 runs
# of the same days with their events, so the month the runs are of is not
# empty, as in a deployment. agora-retention clears the demo project's
# payloads; then, for each function, in one transaction rolled back (the
# first call warms the session's caches and is rolled back to a
# savepoint):
#   - a batch with nothing left: shared buffers touched (EXPLAIN ANALYZE
#     BUFFERS; a function's statements count in the calling node) and
#     entries of the runs' age index read (executions_created_idx, the
#     session's own counter, pg_stat_get_xact_tuples_returned);
#   - a batch with work: 500 runs created 8 days ago with an event each,
#     after the cleared ones: the same two figures.
# Buffers and entries read do not move with the machine's load; no wall
# time is reported. Prints a Markdown table.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
bench_options 2,24 -- "$@"
if [[ $mode == full ]]; then SIZES=(10000 100000) KEPT=100000; else SIZES=(1000 10000) KEPT=10000; fi

bench_tools
bench_stack_start

psql_super -c "INSERT INTO agora.retention_policies (organization_id, project_id, payload_days)
               VALUES ('$org', '$project', 7)" >/dev/null
kept=$(psql_super -c "INSERT INTO agora.projects (organization_id, name) VALUES ('$org', 'kept') RETURNING id")
kept_wf=$(psql_super -c "INSERT INTO agora.workflows (organization_id, project_id, name)
                         VALUES ('$org', '$kept', 'kept') RETURNING id")

runs() { # PROJECT WORKFLOW N DAYS: N runs created DAYS ago, one event each
    psql_super -c "
      WITH x AS (INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,
                   started_at, completed_at, duration_ms, created_at)
                 SELECT '$org', '$1', '$2', 'bench', 'success', now() - interval '$4 days',
                        now() - interval '$4 days', 1, now() - interval '$4 days' FROM generate_series(1, $3)
                 RETURNING id, organization_id, project_id, created_at)
      INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type,
          \"timestamp\")
      SELECT created_at, organization_id, project_id, id, 'node_start', now() FROM x" >/dev/null
}

# 025's statement of 024's batch, as it was before sql/028, read from
# sql/025 and made a function of this session only.
OLD=$(python3 -c '
import re, sys
sql = open(sys.argv[1]).read()
f = re.search(r"CREATE OR REPLACE FUNCTION agora\.retention_payload_batch\(.*?\$\$;\n", sql, re.S).group(0)
print(f.replace("OR REPLACE FUNCTION agora.retention_payload_batch", "FUNCTION pg_temp.payload_batch_025", 1))
' "$root/sql/025_partitions.sql")

measure() { # CALL: "buffers entries" of one call, warmed, rolled back
    local read="SELECT pg_stat_get_xact_tuples_returned('agora.executions_created_idx'::regclass);"
    psql_super <<SQL | python3 -c '
import json, sys
lines = sys.stdin.read().split("\n")
nums = [l for l in lines if l.strip().isdigit()]
text = "\n".join(lines)
plan = json.loads(text[text.index("["):text.rindex("]") + 1])[0]["Plan"]
print(plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0), int(nums[-1]) - int(nums[-2]))'
$OLD
BEGIN;
SAVEPOINT warm;
SELECT 1 FROM $1;
ROLLBACK TO warm;
$read
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM $1;
$read
ROLLBACK;
SQL
}

new_call="agora.retention_payload_batch('$project', now() - interval '7 days', 500)"
old_call="pg_temp.payload_batch_025('$project', now() - interval '7 days', 500)"
job() { AGORA_ADMIN_DATABASE_URL=$AGORA_ADMIN_DATABASE_URL "$root/agora-retention" --batch 500 --max-seconds 3600; }

say "another project's $KEPT runs of the same days, kept"
runs "$kept" "$kept_wf" "$KEPT" 10
rows=()
have=0
for n in "${SIZES[@]}"; do
    say "$n cleared runs"
    runs "$project" "$workflow" $((n - have)) 10
    have=$n
    # The runs just added are older than the mark: the mark goes, and the
    # job clears them all from the start.
    psql_super -c "DELETE FROM agora.retention_payload_marks" >/dev/null
    job >"$res/job-$n.json"
    [[ $(psql_super -c "SELECT count(*) FROM agora.telemetry_events WHERE project_id = '$project'
                   AND run_created_at < now() - interval '7 days'") == 0 ]] ||
        die "the job left payload rows"
    psql_super -c "VACUUM ANALYZE agora.executions, agora.telemetry_events" >/dev/null
    read -r nb ne <<<"$(measure "$new_call")"
    read -r ob oe <<<"$(measure "$old_call")"
    rows+=("| $n | nothing left | $ob buffers, $oe runs read | $nb buffers, $ne runs read |")
    runs "$project" "$workflow" 500 8
    psql_super -c "ANALYZE agora.executions, agora.telemetry_events" >/dev/null
    read -r nb ne <<<"$(measure "$new_call")"
    read -r ob oe <<<"$(measure "$old_call")"
    rows+=("| $n | 500 runs to clear, 1 event each | $ob buffers, $oe runs read | $nb buffers, $ne runs read |")
done

printf '\n| cleared runs | batch | 025 (no mark) | 028 (mark) |\n|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
printf '\nload average: start %s, end %s\n' "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
