#!/usr/bin/env bash
# bench/stats_cpu.sh: what the statistics rollups cost an ingest, in
# PostgreSQL CPU, without HTTP or the rest of the stack around it.
#
#   AGORA_VAR=... bench/stats_cpu.sh [ROUNDS (5)] [N (1000)] [FOLD_EVERY (100)]
#
# Needs a running stack's cluster (./run.sh; AGORA_VAR names it). Makes
# three scratch databases in it: s011 (migrations up to 012: sql/011's
# triggers upsert the rollups), s013 (all migrations: sql/013's triggers
# append deltas) and soff (all migrations, the triggers disabled). In each,
# one backend (psql) runs N M-sized ingests, one transaction each (an
# execution, then 20 node executions of 20 nodes in one statement: the
# statements of the ingest); in s013 it also folds every FOLD_EVERY ingests
# (as agora-live does every 2 s at 50 ingests a second), so the folds' cost
# is counted. The figure is that backend's CPU time (utime + stime from
# /proc) per ingest, which other work on the machine moves far less than
# wall time. ROUNDS rounds, the databases alternating. Drops the databases
# at the end.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-5} n=${2:-1000} every=${3:-100}
: "${AGORA_VAR:?set AGORA_VAR to the var directory of a running stack}"
# shellcheck source=/dev/null
. "$AGORA_VAR/env"
export PGPASSFILE=$AGORA_VAR/secrets/pgpass
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
url() { printf '%s' "${AGORA_ADMIN_DATABASE_URL/dbname=agora/dbname=$1}"; }
sql() { "$AGORA_PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$(url "$1")" "${@:2}"; }

org=00000000-0000-4000-8000-0000000000c1 project=00000000-0000-4000-8000-0000000000c2
workflow=00000000-0000-4000-8000-0000000000c3
# mkdb NAME LAST: migrations 001..LAST and one workflow.
mkdb() {
    sql agora -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    local f
    for f in "$root"/sql/[0-9][0-9][0-9]_*.sql; do
        [[ 10#$(basename "$f" | cut -c1-3) -le $2 ]] || continue
        { echo "BEGIN;"; cat "$f"; echo "COMMIT;"; } | sql "$1" >/dev/null
    done
    sql "$1" -c "INSERT INTO agora.organizations (id, name, created_by) VALUES ('$org', 'o', '$org');
        INSERT INTO agora.projects (id, organization_id, name) VALUES ('$project', '$org', 'p');
        INSERT INTO agora.workflows (id, organization_id, project_id, name) VALUES ('$workflow', '$org', '$project', 'w')"
}
mkdb s011 12
mkdb s013 13
mkdb soff 13
for t in executions:stats_executions_insert executions:stats_executions_update executions:stats_executions_delete \
         node_executions:stats_nodes_insert node_executions:stats_nodes_update node_executions:stats_nodes_delete; do
    sql soff -c "ALTER TABLE agora.${t%%:*} DISABLE TRIGGER ${t#*:}"
done

# script DB FOLD_EVERY: the session's commands; the backend's CPU ticks go
# to $tmp/t0 and $tmp/t1.
script() {
    local i id
    printf '\\o %s/pid\nSELECT pg_backend_pid();\n\\o\n' "$tmp"
    [[ $2 != 0 ]] && echo "SELECT agora.stats_fold(NULL);"
    printf "\\\\! awk '{print \$14 + \$15}' /proc/\$(cat %s/pid)/stat > %s/t0\n" "$tmp" "$tmp"
    for ((i = 1; i <= n; i++)); do
        id="gen_random_uuid()"
        cat <<SQL
BEGIN;
INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status, started_at,
    completed_at, duration_ms, input_tokens, output_tokens, cost_usd)
VALUES ($id, '$org', '$project', '$workflow', 'b', 'success', now(), now(), random() * 1000, 100, 50, 0.001)
RETURNING id AS eid \\gset
INSERT INTO agora.node_executions (organization_id, project_id, execution_id, node_name, status, started_at,
    prep_duration_ms, exec_duration_ms, post_duration_ms, retry_count, input_tokens, output_tokens, cost_usd)
SELECT '$org', '$project', :'eid', 'node-' || k, 'success', now(), random(), random() * 100, random(), 0, 10, 5,
       0.0001 FROM generate_series(1, 20) k;
COMMIT;
SQL
        if [[ $2 != 0 ]] && ((i % $2 == 0)); then echo "SELECT agora.stats_fold(NULL);"; fi
    done
    printf "\\\\! awk '{print \$14 + \$15}' /proc/\$(cat %s/pid)/stat > %s/t1\n" "$tmp" "$tmp"
}

printf '| round | sql/011 triggers | sql/013 triggers + folds | no triggers | load average |\n|---|---|---|---|---|\n'
declare -A sum=()
for ((r = 1; r <= rounds; r++)); do
    row="| $r"
    for db in s011 s013 soff; do
        fold=0
        [[ $db == s013 ]] && fold=$every
        script "$db" "$fold" >"$tmp/s.sql"
        sql "$db" -f "$tmp/s.sql" >/dev/null
        ms=$(echo "scale=3; ($(cat "$tmp/t1") - $(cat "$tmp/t0")) * 1000 / $(getconf CLK_TCK) / $n" | bc)
        sum[$db]=$(echo "${sum[$db]:-0} + $ms" | bc)
        row+=" | $ms"
    done
    echo "$row | $(cut -d' ' -f1-3 /proc/loadavg) |"
done
printf '| mean | %s | %s | %s | |\n' "$(echo "scale=3; ${sum[s011]} / $rounds" | bc)" \
    "$(echo "scale=3; ${sum[s013]} / $rounds" | bc)" "$(echo "scale=3; ${sum[soff]} / $rounds" | bc)"
for db in s011 s013 soff; do sql agora -c "DROP DATABASE $db" >/dev/null; done
