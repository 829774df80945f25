#!/usr/bin/env bash
# bench/compare.sh: GET /api/executions/{a}/compare/{b} on two runs of
# 10,000 node executions (BENCHMARKS.md, "Comparing two runs"), in one
# command, on a stack of its own.
#
#   bench/compare.sh          under a minute on 2 cores; prints the section
#   options: --nodes N        node executions per run (10000)
#            --requests K     timed requests of each kind (10)
#            --keep           leave the stack running afterwards
#
# As bench/stats.sh and bench/otlp.sh (bench/lib.sh): ./run.sh under a
# fresh AGORA_VAR in /tmp, on free ports, stopped and removed at the end;
# then bench/compare.py against it (it ingests the two runs into the demo
# workflow and times the requests). Prints the section: the machine, the
# commit, the load average at the start and at the end, and compare.py's
# table; raw results in results/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"

# --keep is ours; the rest is bench/compare.py's (it refuses what it does not know).
keep=0
args=()
for a in "$@"; do
    case $a in
        --keep) keep=1 ;;
        -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$a") ;;
    esac
done

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
bench_tools
bench_stack_start
bench_facts compare

say "bench/compare.py ${args[*]}"
python3 "$bench/compare.py" "${args[@]}" >"$res/compare.md" 2>"$res/compare.err" ||
    die "bench/compare.py failed: $(tail -n 5 "$res/compare.err")"
bench_facts_end

say "report"
{
    jq -r --slurpfile pg "$res/pg.json" '"### Comparing two runs · \(.date) · commit \(.commit)\n\n" +
        "Machine: \(.cpu), \(.cores) cores, \(.mem), \(.os) (kernel \(.kernel)); PostgreSQL " +
        "\($pg[0].server_version // "?"), nginx \(.nginx), \(.workers) FastCGI workers. Load average " +
        "(1/5/15 min) at start \(.load_start), at end \(.load_end). Everything (the client, nginx, the " +
        "workers, PostgreSQL) shares the same cores, with whatever else the machine runs.\n"' "$res/machine.json"
    cat "$res/compare.md"
} | tee "$res/report.md"
