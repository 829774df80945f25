#!/usr/bin/env bash
# bench/alerts.sh: what alerts cost an ingest, and how soon they arrive
# (README "Alerts", sql/014_alerts.sql), in one command.
#
#   bench/alerts.sh            full run (about 8 minutes on 2 cores)
#   bench/alerts.sh --quick    smoke run: short phases
#   options: --keep            leave the stack running afterwards
#
# Phases:
#   1. ingest with ten rules in the payloads' project against none: the S
#      and M payloads of bench/gen.py at concurrency 8 through nginx+TLS
#      (wrk), alternating SEGS x (SEG_S s with the rules + SEG_S s without),
#      so a change in the machine's load hits both alike. The ten rules are
#      the ones the ingest triggers evaluate (execution_failed with and
#      without a workflow, an error text and a node; duration_above), none
#      of which the payloads match: the cost of evaluating, not of firing
#      (a rule that fires is held by its cooldown). Besides requests per
#      second, the CPU time PostgreSQL and the workers spent per stored
#      execution (bench/cpu.py), which the machine's load moves far less.
#   2. commit -> webhook: N failing runs ingested one after another, each
#      alert received by a receiver on 127.0.0.1 (bench/alerts_latency.py),
#      on an idle stack and again while wrk ingests S payloads at
#      concurrency 4.
# Prints the figures as Markdown; BENCHMARKS.md has the recorded ones.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options 2,24 -- "$@"
if [[ $mode == full ]]; then
    SEGS=4 SEG_S=10 N=100
else
    SEGS=1 SEG_S=3 N=20
fi
export AGORA_WEBHOOK_ALLOW=loopback AGORA_WEBHOOK_ALLOW_HTTP=on

bench_tools
bench_stack_start
bench_facts alerts

# rules add|remove: the ten rules of phase 1 in the payloads' project.
rules() {
    if [[ $1 == remove ]]; then
        psql_super -c "DELETE FROM agora.alert_rules WHERE project_id = '$project'" >/dev/null
        return
    fi
    psql_super -c "
        WITH r AS (
            INSERT INTO agora.alert_rules (organization_id, project_id, name, kind, workflow_id, node_name,
                                           error_contains, threshold)
            SELECT '$org', '$project', 'bench ' || i, k, w, n, e, t
            FROM (VALUES (1, 'execution_failed', NULL::uuid, NULL, NULL, NULL::float8),
                         (2, 'execution_failed', '$workflow', NULL, NULL, NULL),
                         (3, 'execution_failed', '$workflow', NULL, 'never seen', NULL),
                         (4, 'execution_failed', NULL, 'no-such-node', NULL, NULL),
                         (5, 'execution_failed', '$workflow', 'no-such-node', 'never seen', NULL),
                         (6, 'duration_above', NULL, NULL, NULL, 1e12),
                         (7, 'duration_above', '$workflow', NULL, NULL, 1e12),
                         (8, 'duration_above', NULL, NULL, NULL, 2e12),
                         (9, 'duration_above', '$workflow', NULL, NULL, 3e12),
                         (10, 'execution_failed', NULL, NULL, 'nothing like this', NULL)) v(i, k, w, n, e, t)
            RETURNING id, organization_id, project_id)
        INSERT INTO agora.alert_channels (organization_id, project_id, rule_id, position, url)
        SELECT organization_id, project_id, id, 0, 'https://hooks.example.com/bench' FROM r" >/dev/null
}

say "1. ingest with ten rules and with none, concurrency 8, ${SEGS} x (${SEG_S}s + ${SEG_S}s)"
for s in M S; do
    for ((k = 1; k <= SEGS; k++)); do
        for m in on off; do
            rules "$([[ $m == on ]] && echo add || echo remove)"
            with_cpu "ingest-$s-$m-$k" wrk_run "ingest-$s-$m-$k" 8 "$SEG_S" "$base/api/executions/ingest" \
                auth=1 body="$(bodies "$s")"
        done
    done
done
rules remove
fired=$(psql_super -c "SELECT count(*) FROM agora.alerts")

say "2. commit -> webhook, $N alerts, idle and under ingest"
python3 "$bench/alerts_latency.py" "$base" "$AGORA_TLS_CERT" "$project" "$workflow" "$N" >"$res/latency-idle.json"
wrk_run "ingest-during-latency" 4 $((N / 5 + 15)) "$base/api/executions/ingest" auth=1 body="$(bodies S)" &
wrk_pid=$!
sleep 3
python3 "$bench/alerts_latency.py" "$base" "$AGORA_TLS_CERT" "$project" "$workflow" "$N" >"$res/latency-load.json"
wait "$wrk_pid"
bench_facts_end

say "report"
python3 - "$res" "$SEGS" "$fired" <<'PY'
import glob, json, sys
res, segs, fired = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = json.load(open(f"{res}/machine.json"))
print(f"commit {m.get('commit')}, load average {m.get('load_start')} at the start, {m.get('load_end')} at the end")
print()
print("| payload | ten rules (req/s) | none (req/s) | ratio | CPU ms per ingest, ten rules / none (PostgreSQL + workers) |")
print("|---|---|---|---|---|")
for s in ("M", "S"):
    rate, cpu = {}, {}
    for mode in ("on", "off"):
        runs = [json.load(open(f)) for f in glob.glob(f"{res}/ingest-{s}-{mode}-*.json")]
        assert not sum(r["errors_status"] + r["errors_timeout"] for r in runs), "failed ingests"
        rate[mode] = sum(r["requests"] for r in runs) / sum(r["duration_s"] for r in runs)
        c = [json.load(open(f)) for f in glob.glob(f"{res}/cpu-ingest-{s}-{mode}-*.json")]
        cpu[mode] = (1000 * sum(x["postgres"] for x in c) / sum(x["stored"] for x in c),
                     1000 * sum(x["workers"] for x in c) / sum(x["stored"] for x in c))
    each = lambda mode: ", ".join(
        f"{(lambda r: r['requests'] / r['duration_s'])(json.load(open(f'{res}/ingest-{s}-{mode}-{k}.json'))):.0f}"
        for k in range(1, segs + 1))
    ratio_cpu = (cpu['off'][0] + cpu['off'][1]) / (cpu['on'][0] + cpu['on'][1])
    print(f"| {s} | {rate['on']:.1f} ({each('on')}) | {rate['off']:.1f} ({each('off')}) | "
          f"{100 * rate['on'] / rate['off']:.1f} % (CPU: {100 * ratio_cpu:.1f} %) | "
          f"{cpu['on'][0]:.2f} + {cpu['on'][1]:.2f} / {cpu['off'][0]:.2f} + {cpu['off'][1]:.2f} |")
print(f"\nalerts fired during phase 1: {fired}")
print()
print("| commit -> webhook | alerts | received | duplicates | p50 ms | p95 ms | max ms |")
print("|---|---|---|---|---|---|---|")
for name in ("idle", "load"):
    r = json.load(open(f"{res}/latency-{name}.json"))
    print(f"| {name} | {r['n']} | {r['received']} | {r['duplicates']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |")
PY
