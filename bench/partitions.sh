#!/usr/bin/env bash
# bench/partitions.sh: what partitioning the item tables (sql/025) costs
# and keeps, in scratch databases of a running stack's cluster.
#
#   AGORA_VAR=... bench/partitions.sh [ROUNDS (5)] [N (500)] [SIZES (10000 1000000)]
#
# ROUNDS 0 skips part 1.
# 1. Ingest CPU: one psql session runs N M-sized ingests as the workers do
#    (bench/lib.sh cpu_ingest app: agora_app under RLS, node executions
#    upserted on their client ids), in a database migrated to sql/024
#    (unpartitioned) and in one migrated to the newest (partitioned, the
#    run's created_at read in the same statement, the foreign key naming
#    it); that backend's CPU per ingest, ROUNDS rounds alternating.
# 2. Reads at each SIZE of executions (filled by SQL as the owner, spread
#    over twelve months of created_at, three node executions, two events
#    and a span each), in both shapes: a first page and a deep page of a
#    project's runs (the keyset of GET /api/executions) and one run's
#    node executions (GET /api/executions/{id}, with sql/025's pruning).
#    Figures: shared buffers touched (EXPLAIN (ANALYZE, BUFFERS): the
#    same on a busy machine) and the execution time (needs a quiet one).
# 3. In the partitioned databases, one run's items of each table as its
#    read routes fetch them, in both forms: with a subquery that looks the
#    run's created_at up again (the former RUN_PARTITION) and with the
#    created_at passed as a parameter (what the routes do now, having read
#    it with the run's row): buffers, the partitions the plan keeps and
#    runs, and whether it reads executions. Generic plans (a prepared
#    statement's from its sixth run) and custom ones (its first five).
# Drops the databases at the end. 1,000,000 executions take several
# minutes to fill and about 2 GB per shape.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-5} n=${2:-500}
shift $(($# < 2 ? $# : 2))
sizes=("$@")
((${#sizes[@]})) || sizes=(10000 1000000)
migrations=("$root"/sql/[0-9][0-9][0-9]_*.sql)
newest=$(basename "${migrations[-1]}" | cut -c1-3)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
scratch_init

if ((rounds > 0)); then
say "ingest CPU: sql/024 against sql/$newest"
scratch_db pi024 24
scratch_db pi$newest "$newest"
script() { cpu_app_script "$n"; }
cpu_rounds "$rounds" "$n" "pi024:unpartitioned (sql/024)" "pi$newest:partitioned (sql/$newest)"
fi

# fill DB SIZE: SIZE executions of the scratch project over twelve months,
# with their items, each carrying its run's created_at where the table
# has the column.
fill() {
    local db=$1 size=$2 rc="" rcv=""
    if ((${scratch_last[$db]} >= 25)); then
        rc="run_created_at, " rcv="e.created_at, "
        # The months before this one get their partitions, as in a
        # database that has been running (the migration makes this month
        # and those ahead; the rows would land in DEFAULT otherwise).
        scratch_sql "$db" -c "SET ROLE agora_owner" -c "DO \$\$ DECLARE m timestamptz; t text; BEGIN
            FOR m IN SELECT generate_series(date_trunc('month', now(), 'UTC') - interval '13 months',
                                            date_trunc('month', now(), 'UTC') - interval '1 month',
                                            interval '1 month') LOOP
                FOREACH t IN ARRAY ARRAY['node_executions', 'telemetry_spans', 'telemetry_events',
                                         'shared_state_snapshots'] LOOP
                    EXECUTE format('CREATE TABLE agora_partitions.%I PARTITION OF agora.%I'
                                   ' FOR VALUES FROM (%L) TO (%L)',
                                   t || '_p' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM'), t, m,
                                   m + interval '1 month');
                END LOOP;
            END LOOP; END \$\$" >/dev/null
    fi
    scratch_sql "$db" -c "
        INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status,
            started_at, completed_at, duration_ms, created_at)
        SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, '$scratch_org',
               '$scratch_project', '$scratch_workflow', 's', 'success', t, t + interval '1 s', 1000, t
        FROM generate_series(1, $size) g,
             LATERAL (SELECT date_trunc('month', now()) - interval '11 months'
                             + (g::float8 / $size) * interval '330 days' AS t) x" \
        -c "INSERT INTO agora.node_executions (${rc}organization_id, project_id, execution_id, node_name, status,
                started_at)
            SELECT ${rcv}e.organization_id, e.project_id, e.id, 'n' || k, 'success', e.started_at
            FROM agora.executions e, generate_series(1, 3) k" \
        -c "INSERT INTO agora.telemetry_events (${rc}organization_id, project_id, execution_id, event_type,
                \"timestamp\", data)
            SELECT ${rcv}e.organization_id, e.project_id, e.id, 'e', e.started_at, '{\"k\": 1}'
            FROM agora.executions e, generate_series(1, 2) k" \
        -c "INSERT INTO agora.shared_state_snapshots (${rc}organization_id, project_id, execution_id, sequence,
                state)
            SELECT ${rcv}e.organization_id, e.project_id, e.id, k, '{\"k\": 1}'
            FROM agora.executions e, generate_series(0, 1) k" \
        -c "INSERT INTO agora.telemetry_spans (${rc}organization_id, project_id, execution_id, span_id, name,
                start_time)
            SELECT ${rcv}e.organization_id, e.project_id, e.id, 's', 'x', e.started_at FROM agora.executions e" \
        -c "VACUUM ANALYZE" >/dev/null
}

# explain_plans: the EXPLAIN (FORMAT JSON) plans in psql's output on
# stdin, one JSON document a line.
explain_plans() {
    python3 -c '
import json, sys
text = sys.stdin.read()
dec = json.JSONDecoder()
i = 0
while True:
    i = text.find("[", i)
    if i < 0:
        break
    try:
        obj, j = dec.raw_decode(text, i)
    except ValueError:
        i += 1
        continue
    if isinstance(obj, list) and obj and isinstance(obj[0], dict) and "Plan" in obj[0]:
        print(json.dumps(obj[0]))
    i = j
'
}

# reads DB: the three reads' buffers and time, as agora_app with a
# member's identity, generic plans (as the workers' prepared statements).
reads() {
    local db=$1 parts=${scratch_last[$1]} prune="" mid run
    ((parts >= 25)) && prune=" AND n.run_created_at = (SELECT pe.created_at FROM agora.executions pe WHERE pe.id = \$1)"
    mid=$(scratch_sql "$db" -c "SELECT started_at || '|' || id FROM agora.executions
                                ORDER BY started_at DESC, id DESC OFFSET (SELECT count(*) / 2 FROM agora.executions)
                                LIMIT 1")
    run=${mid#*|}
    # One transaction: begin_request's identity lasts as long as one.
    scratch_sql "$db" -c "SET ROLE agora_app" -c "SET plan_cache_mode = force_generic_plan" -c "BEGIN" \
        -c "SELECT agora.begin_request('$scratch_user', NULL, NULL, NULL)" \
        -c "PREPARE first(uuid) AS SELECT e.id FROM agora.executions e WHERE e.project_id = \$1
            ORDER BY e.started_at DESC, e.id DESC LIMIT 50" \
        -c "PREPARE page(uuid, timestamptz, uuid) AS SELECT e.id FROM agora.executions e
            WHERE e.project_id = \$1 AND (e.started_at, e.id) < (\$2, \$3)
            ORDER BY e.started_at DESC, e.id DESC LIMIT 50" \
        -c "PREPARE nodes(uuid) AS SELECT n.id FROM agora.node_executions n WHERE n.execution_id = \$1$prune
            ORDER BY n.started_at, n.id" \
        -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE first('$scratch_project')" \
        -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE page('$scratch_project', '${mid%|*}', '$run')" \
        -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE nodes('$run')" -c "COMMIT" | explain_plans |
        python3 -c '
import json, sys
plans = [json.loads(line) for line in sys.stdin]
for name, p in zip(("first page", "deep page", "a run, its nodes"), plans):
    b = p["Plan"]
    blocks = b.get("Shared Hit Blocks", 0) + b.get("Shared Read Blocks", 0)
    print("| %s | %s | %d | %.3f |" % (sys.argv[1], name, blocks, p["Execution Time"]))
' "$db"
}

# The item reads of part 3: table, alias, order (the read routes').
item_reads=("node_executions n n.started_at, n.id" "telemetry_events v v.\"timestamp\", v.id"
            "telemetry_spans s s.start_time, s.id" "shared_state_snapshots x x.sequence, x.id")

# item_reads DB MODE: part 3's rows for the partitioned database DB, plans
# of MODE (generic or custom), as agora_app with a member's identity.
item_reads() {
    local db=$1 mode=$2 run at t table alias order
    local -a cmds=()
    run=$(scratch_sql "$db" -c "SELECT id FROM agora.executions ORDER BY started_at, id
                                OFFSET (SELECT count(*) / 2 FROM agora.executions) LIMIT 1")
    at=$(scratch_sql "$db" -c "SELECT created_at FROM agora.executions WHERE id = '$run'")
    for t in "${item_reads[@]}"; do
        read -r table alias order <<<"$t"
        cmds+=(-c "PREPARE sub_$alias(uuid) AS SELECT $alias.id FROM agora.$table $alias
                   WHERE $alias.execution_id = \$1 AND $alias.run_created_at =
                   (SELECT pe.created_at FROM agora.executions pe WHERE pe.id = \$1) ORDER BY $order"
               -c "PREPARE at_$alias(uuid, timestamptz) AS SELECT $alias.id FROM agora.$table $alias
                   WHERE $alias.execution_id = \$1 AND $alias.run_created_at = \$2 ORDER BY $order"
               -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE sub_$alias('$run')"
               -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE at_$alias('$run', '$at')")
    done
    scratch_sql "$db" -c "SET ROLE agora_app" -c "SET plan_cache_mode = force_${mode}_plan" -c "BEGIN" \
        -c "SELECT agora.begin_request('$scratch_user', NULL, NULL, NULL)" "${cmds[@]}" -c "COMMIT" |
        explain_plans | python3 -c '
import json, sys
db, mode, tables = sys.argv[1], sys.argv[2], sys.argv[3:]
def nodes(n):
    yield n
    for c in n.get("Plans", []):
        yield from nodes(c)
plans = [json.loads(line) for line in sys.stdin]
for k, p in enumerate(plans):
    table, form = tables[k // 2], ("subquery", "created_at passed")[k % 2]
    top = p["Plan"]
    blocks = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    scans = [n for n in nodes(top) if n.get("Relation Name", "").startswith(table + "_")]
    ran = sum(1 for n in scans if n.get("Actual Loops", 0) > 0)
    removed = sum(n.get("Subplans Removed", 0) for n in nodes(top))
    execs = any(n.get("Relation Name") == "executions" for n in nodes(top))
    print("| %s | %s | %s | %s | %d | %d of %d (%d removed at start) | %s | %.3f |"
          % (db, mode, table, form, blocks, ran, len(scans), removed, "yes" if execs else "no",
             p["Execution Time"]))
' "$db" "$mode" $(for t in "${item_reads[@]}"; do echo "${t%% *}"; done)
}

echo
echo "| database | read | shared buffers | ms (quiet machine only) |"
echo "|---|---|---|---|"
items_table=$tmp/item_reads.md
for size in "${sizes[@]}"; do
    for last in 24 "$newest"; do
        db=pr$(printf %03d "$((10#$last))")_$size
        say "filling $db with $size executions" >&2
        scratch_db "$db" "$last"
        fill "$db" "$size"
        reads "$db"
        if ((10#$last >= 25)); then
            item_reads "$db" generic >>"$items_table"
            item_reads "$db" custom >>"$items_table"
        fi
        scratch_sql agora -c "DROP DATABASE $db" >/dev/null
    done
done
echo
echo "| database | plans | table | partition named by | shared buffers | partitions run (of the plan's) | reads executions | ms (quiet machine only) |"
echo "|---|---|---|---|---|---|---|---|"
cat "$items_table"
