#!/usr/bin/env bash
# bench/alerts_cpu.sh: what alert rules cost an ingest, in PostgreSQL CPU,
# without HTTP or the rest of the stack around it (bench/alerts.sh has the
# full stack, whose figures this machine's load blurs).
#
#   AGORA_VAR=... bench/alerts_cpu.sh [ROUNDS (5)] [N (500)] [LAST...]
#
# Needs a running stack's cluster (./run.sh; AGORA_VAR names it). For each
# LAST (default: the newest migration) makes two scratch databases with
# migrations up to LAST: one whose project has no alert rule, one whose
# project has ten, of all five kinds (execution_failed with and without a
# workflow, an error text, a node; duration_above; node_failure_rate,
# stale_run, usage_above), none of which the ingests match: the cost of
# evaluating, as in bench/alerts.sh. Plus one database with the newest
# migrations and the alert triggers disabled: what the triggers cost with
# no rule at all. In each, one psql session runs N M-sized ingests as the
# workers do (bench/lib.sh, cpu_ingest app: agora_app under RLS, a member's
# identity, the node executions upserted), one transaction each; the
# figure is that backend's CPU time per ingest. ROUNDS rounds, the
# databases alternating. Drops the databases at the end.
#
#   bench/alerts_cpu.sh 5 500 18 19   sql/019's triggers against sql/014's
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-5} n=${2:-500}
shift $(($# < 2 ? $# : 2))
migrations=("$root"/sql/[0-9][0-9][0-9]_*.sql)
newest=$(basename "${migrations[-1]}" | cut -c1-3)
lasts=("$@")
((${#lasts[@]})) || lasts=("$newest")
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
scratch_init

# rules DB: the ten rules in the scratch project, a webhook channel each.
rules() {
    scratch_sql "$1" -c "
        WITH r AS (
            INSERT INTO agora.alert_rules (organization_id, project_id, name, kind, workflow_id, node_name,
                                           error_contains, threshold, metric, window_minutes, min_runs)
            SELECT '$scratch_org', '$scratch_project', 'bench ' || i, k, w, nn, e, t, m, wm, mr
            FROM (VALUES (1, 'execution_failed', NULL::uuid, NULL, NULL, NULL::float8, NULL, NULL::int, NULL::int),
                         (2, 'execution_failed', '$scratch_workflow', NULL, NULL, NULL, NULL, NULL, NULL),
                         (3, 'execution_failed', '$scratch_workflow', NULL, 'never seen', NULL, NULL, NULL, NULL),
                         (4, 'execution_failed', NULL, 'no-such-node', NULL, NULL, NULL, NULL, NULL),
                         (5, 'execution_failed', '$scratch_workflow', 'no-such-node', 'never seen', NULL, NULL, NULL,
                          NULL),
                         (6, 'duration_above', NULL, NULL, NULL, 1e12, NULL, NULL, NULL),
                         (7, 'duration_above', '$scratch_workflow', NULL, NULL, 1e12, NULL, NULL, NULL),
                         (8, 'node_failure_rate', '$scratch_workflow', NULL, NULL, 50, NULL, 60, 10),
                         (9, 'stale_run', NULL, NULL, NULL, NULL, NULL, 60, NULL),
                         (10, 'usage_above', NULL, NULL, NULL, 1e12, 'tokens', 60, NULL))
                 v(i, k, w, nn, e, t, m, wm, mr)
            RETURNING id, organization_id, project_id)
        INSERT INTO agora.alert_channels (organization_id, project_id, rule_id, position, url)
        SELECT organization_id, project_id, id, 0, 'https://hooks.example.com/bench' FROM r" >/dev/null
}

arms=()
for last in "${lasts[@]}"; do
    last=$(printf '%03d' "$((10#$last))")
    scratch_db "a${last}_0" "$last"
    scratch_db "a${last}_10" "$last"
    rules "a${last}_10"
    arms+=("a${last}_0:up to sql/$last, no rule" "a${last}_10:up to sql/$last, ten rules")
done
scratch_db aoff "$newest"
for t in executions:alerts_executions_insert executions:alerts_executions_update \
         node_executions:alerts_nodes_insert node_executions:alerts_nodes_update; do
    scratch_sql aoff -c "ALTER TABLE agora.${t%%:*} DISABLE TRIGGER ${t#*:}"
done
arms+=("aoff:up to sql/$newest, alert triggers disabled")

# script DB: the session's commands, as agora_app.
script() { cpu_app_script "$n"; }

cpu_rounds "$rounds" "$n" "${arms[@]}"
