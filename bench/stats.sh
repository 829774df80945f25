#!/usr/bin/env bash
# bench/stats.sh: what the statistics cost (README "Workflow and project
# statistics", sql/011_stats_rollups.sql, sql/013_stats_deltas.sql), in one
# command.
#
#   bench/stats.sh            full run (about 15 minutes on 2 cores)
#   bench/stats.sh --quick    smoke run: short ingest phases, 100,000 executions
#   options: --keep           leave the stack running afterwards
#            --ingest         phase 1 only
#            --reads          phases 2 and 3 only
#
# Phases:
#   1. ingest throughput with and without the rollup triggers: the M and S
#      payloads of bench/gen.py at concurrency 8 through nginx+TLS (wrk),
#      alternating SEGS x (SEG_S s with the triggers + SEG_S s with them
#      disabled), so a change in the machine's load hits both alike. All
#      payloads of a size start in the same hour of one workflow: every
#      fold updates that hour's rollup rows. The triggers append deltas;
#      agora-live folds them every 2 s, and each segment ends with a fold
#      of what is left, inside the CPU window (also when the triggers were
#      off, when it finds nothing), so the folds' cost is counted with the
#      ingests that caused it.
#      Besides requests per second (wall time, which other work on the
#      machine moves), the CPU time PostgreSQL and the workers spent per
#      stored execution (bench/cpu.py), which it moves far less.
#   2. bulk load of N executions (3 node executions each) over the last 30
#      days into 10 workflows of one project, by 2 sessions side by side
#      (bench/stats_bulk.sql), through the same triggers; agora-live folds
#      meanwhile, and a last fold takes what is left.
#   3. GET /api/workflows/{id}/stats and GET /api/projects/{id}/stats for
#      the 30-day window, by day and by hour: p50/p95/p99 of READ_N
#      requests in a row (bench/stats_reads.py).
# Prints the figures as a Markdown table; BENCHMARKS.md has the recorded ones.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
bench_options 2,32 --ingest=only_ingest --reads=only_reads -- "$@"
if [[ $mode == full ]]; then
    SEGS=4 SEG_S=10 N=1000000 READ_N=100
else
    SEGS=2 SEG_S=3 N=100000 READ_N=20
fi
TRIGGERS=(executions:stats_executions_insert executions:stats_executions_update executions:stats_executions_delete
          node_executions:stats_nodes_insert node_executions:stats_nodes_update node_executions:stats_nodes_delete)

bench_tools
bench_stack_start

# triggers enable|disable
triggers() {
    local t sql=""
    for t in "${TRIGGERS[@]}"; do
        sql+="ALTER TABLE agora.${t%%:*} ${1^^} TRIGGER ${t#*:}; "
    done
    psql_super -c "BEGIN; $sql COMMIT;" >/dev/null
}

# ingest_and_fold WRK_RUN_ARGS...: the ingests, then a fold of what they
# left pending (once the last of them is stored).
ingest_and_fold() {
    local n1 n2
    wrk_run "$@"
    n1=$(count_executions)
    while sleep 0.5; n2=$(count_executions); [[ $n2 != "$n1" ]]; do n1=$n2; done
    psql_super -c "SELECT agora.stats_fold(NULL)" >/dev/null
}

say "1. ingest with and without the rollup triggers, concurrency 8, ${SEGS} x (${SEG_S}s + ${SEG_S}s)"
((only_reads)) && SEGS=0
for s in M S; do
    for ((k = 1; k <= SEGS; k++)); do
        for mode in on off; do
            triggers "$([[ $mode == on ]] && echo enable || echo disable)"
            with_cpu "ingest-$s-$mode-$k" ingest_and_fold "ingest-$s-$mode-$k" 8 "$SEG_S" \
                "$base/api/executions/ingest" auth=1 body="$(bodies "$s")"
        done
    done
done
triggers enable

if ((only_ingest)); then
    N=0
fi
if ((N)); then
say "2. bulk-loading $N executions over 30 days (2 sessions)"
psql_super -c "INSERT INTO agora.workflows (organization_id, project_id, name)
               SELECT '$org', '$project', 'bench-stats-' || lpad(i::text, 2, '0') FROM generate_series(1, 10) i" >/dev/null
t0=$SECONDS
for ((p = 0; p < 2; p++)); do
    psql_super -v org="$org" -v project="$project" -v n="$N" -v part="$p" -v parts=2 \
        -f "$bench/stats_bulk.sql" >"$res/stats-bulk-$p.log" 2>&1 &
done
wait
load_s=$((SECONDS - t0))
t0=$SECONDS
psql_super -c "SELECT agora.stats_fold('$project')" >/dev/null
fold_s=$((SECONDS - t0))
psql_super -c "VACUUM ANALYZE" >/dev/null
psql_super -c "SELECT json_build_object('executions', (SELECT count(*) FROM agora.executions),
    'node_executions', (SELECT count(*) FROM agora.node_executions),
    'rollup_rows', json_build_object('executions', (SELECT count(*) FROM agora.stats_executions_hourly),
        'projects', (SELECT count(*) FROM agora.stats_projects_hourly),
        'nodes', (SELECT count(*) FROM agora.stats_nodes_daily),
        'errors', (SELECT count(*) FROM agora.stats_errors_daily)),
    'rollup_bytes', pg_total_relation_size('agora.stats_executions_hourly')
        + pg_total_relation_size('agora.stats_nodes_daily') + pg_total_relation_size('agora.stats_errors_daily')
        + pg_total_relation_size('agora.stats_projects_hourly'),
    'load_seconds', $load_s, 'last_fold_seconds', $fold_s)" >"$res/stats-db.json"

say "3. reads of the 30-day window ($READ_N requests each, concurrency 1)"
wf=$(psql_super -c "SELECT id FROM agora.workflows WHERE project_id = '$project' AND name = 'bench-stats-01'")
since=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
printf '%s' "$token" >"$bv/token"
python3 "$bench/stats_reads.py" 127.0.0.1 "$AGORA_HTTPS_PORT" "$AGORA_TLS_CERT" "$bv/token" "$READ_N" \
    "workflow_day=/api/workflows/$wf/stats?since=$since&bucket=day" \
    "workflow_hour=/api/workflows/$wf/stats?since=$since&bucket=hour" \
    "project_day=/api/projects/$project/stats?since=$since&bucket=day" \
    "project_hour=/api/projects/$project/stats?since=$since&bucket=hour" >"$res/stats-reads.jsonl"
rm -f "$bv/token"
fi

say "report"
python3 - "$res" "$SEGS" <<'PY'
import glob, json, os, sys
res, segs = sys.argv[1], int(sys.argv[2])
if glob.glob(f"{res}/ingest-*.json"):
    print("| payload | with triggers (req/s) | without (req/s) | change | CPU ms per ingest with / without (PostgreSQL + workers) |")
    print("|---|---|---|---|---|")
for s in ("M", "S") if glob.glob(f"{res}/ingest-*.json") else ():
    rate = {}
    for mode in ("on", "off"):
        runs = [json.load(open(f)) for f in glob.glob(f"{res}/ingest-{s}-{mode}-*.json")]
        bad = sum(r["errors_status"] + r["errors_timeout"] for r in runs)
        assert not bad, f"{bad} failed ingests"
        rate[mode] = sum(r["requests"] for r in runs) / sum(r["duration_s"] for r in runs)
    each = lambda mode: ", ".join(f"{json.load(open(f'{res}/ingest-{s}-{mode}-{k}.json'))['requests'] / json.load(open(f'{res}/ingest-{s}-{mode}-{k}.json'))['duration_s']:.0f}" for k in range(1, segs + 1))
    cpu = {}
    for mode in ("on", "off"):
        c = [json.load(open(f)) for f in glob.glob(f"{res}/cpu-ingest-{s}-{mode}-*.json")]
        cpu[mode] = (1000 * sum(x["postgres"] for x in c) / sum(x["stored"] for x in c),
                     1000 * sum(x["workers"] for x in c) / sum(x["stored"] for x in c))
    print(f"| {s} | {rate['on']:.1f} ({each('on')}) | {rate['off']:.1f} ({each('off')}) | {100 * (rate['on'] / rate['off'] - 1):+.1f} % "
          f"| {cpu['on'][0]:.2f} + {cpu['on'][1]:.2f} / {cpu['off'][0]:.2f} + {cpu['off'][1]:.2f} |")
if not os.path.exists(f"{res}/stats-db.json"):
    sys.exit(0)
db = json.load(open(f"{res}/stats-db.json"))
print()
print(f"stored: {db['executions']:,} executions, {db['node_executions']:,} node executions; rollup rows "
      f"{db['rollup_rows']}, {db['rollup_bytes'] / 1e6:.1f} MB; bulk load {db['load_seconds']} s, "
      f"then a last fold {db['last_fold_seconds']} s")
print()
print("| route (30 days) | answer bytes | p50 ms | p95 ms | p99 ms | max ms |")
print("|---|---|---|---|---|---|")
for line in open(f"{res}/stats-reads.jsonl"):
    r = json.loads(line)
    print(f"| {r['name']} | {r['bytes']:,} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} |")
PY
