#!/usr/bin/env bash
# bench/profile.sh: where an ingest's time goes, as evidence for BENCHMARKS.md.
#
#   bench/profile.sh [SIZE [CONCURRENCY [SECONDS]]]     (default: M 8 10)
#
# Starts its own stack (like bench/run.sh), then:
#   1. perf: ingests SIZE payloads at CONCURRENCY for SECONDS while
#      `perf record -g` samples this stack's PostgreSQL server processes,
#      FastCGI workers and nginx (nobody else's), and prints the share of
#      each program and its hottest functions;
#   2. statements: PostgreSQL's own timing of each ingest statement (parse,
#      bind = planning, execute) for 10 payloads sent one at a time
#      (log_min_duration_statement = 0 for the duration, then reset);
#   3. callgrind: one worker under valgrind --tool=callgrind takes 3
#      payloads; the functions with the most instructions, inclusive and
#      self, counting only the requests (router_dispatch), not start-up.
# The same perf profile is taken of the ceiling (COPY of the same rows) for
# comparison. Output in the results directory it names at the end
# (perf-ingest.txt, perf-copy.txt, statements.txt, callgrind.txt). Installs linux-perf and valgrind with apt
# when missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"
keep=0
size=${1:-M}
conc=${2:-8}
secs=${3:-10}
[[ $size =~ ^[SML]$ && $conc =~ ^[0-9]+$ && $secs =~ ^[0-9]+$ ]] ||
    { echo "usage: bench/profile.sh [S|M|L [CONCURRENCY [SECONDS]]]" >&2; exit 2; }

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
bench_tools linux-perf valgrind
bench_stack_start
ingest_once "$pay/$size-0.json" >/dev/null  # creates the workflow's nodes

# ---------------------------------------------------------------- 1. perf

say "perf: ingest of $size at concurrency $conc for ${secs}s"
perf_while perf-ingest "$(stack_pids)" "$secs" \
    wrk_run "profile-$size-$conc" "$conc" "$secs" "$base/api/executions/ingest" auth=1 body="$(bodies "$size")"
perf_report "$res/perf-ingest.data" "perf record -g -p <this stack's postgres, agora-worker, nginx processes>: ingest of $size payloads, concurrency $conc, ${secs}s: $(jq -c . "$res/profile-$size-$conc.json")" \
    >"$res/perf-ingest.txt"

# The ceiling's profile: COPY of the same rows. Its backends are new
# processes: perf, attached to the postmaster, follows the children it
# forks (counters are inherited).
psql_super -c "SELECT json_object_agg(name, id) FROM agora.workflow_nodes WHERE workflow_id = '$workflow'" >"$bv/nodes.json"
python3 "$bench/gen.py" copy "$pay" "$size" "$org" "$project" "$workflow" "$bv/nodes.json"
say "perf: COPY of $size at concurrency $conc for ${secs}s"
copy_profile_run() { "$bv/copyload" "$AGORA_ADMIN_DATABASE_URL" "$pay/copy-$size.txt" "$conc" "$secs" >"$res/profile-copy-$size-$conc.json"; }
perf_while perf-copy "$(postmaster_pids)" "$secs" copy_profile_run
perf_report "$res/perf-copy.data" "perf record -g -p <this stack's postmaster and children>: COPY of $size rows, $conc clients, ${secs}s: $(jq -c . "$res/profile-copy-$size-$conc.json")" \
    >"$res/perf-copy.txt"

# ---------------------------------------------------------------- 2. statements

say "statements: 10 $size payloads, one at a time, timed by PostgreSQL"
mark=$(statement_log on)
for i in 0 1 2 3 4 5 6 7 8 9; do ingest_once "$pay/$size-$((i % 4)).json" >/dev/null; done
statement_log off
statements_table "$mark" 10 "PostgreSQL statement timing for one $size ingest (average of 10, ms; bind includes planning)" \
    >"$res/statements.txt"

# ---------------------------------------------------------------- 3. callgrind

say "callgrind: one worker, 3 $size payloads"
cat >"$bv/cg-worker" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --toggle-collect=router_dispatch --callgrind-out-file=$res/callgrind.out.%p "$root/agora-worker"
EOF
chmod +x "$bv/cg-worker"
"$root/fcgi/agora-workers" stop >/dev/null
AGORA_WORKER_BIN=$bv/cg-worker AGORA_WORKERS=1 "$root/fcgi/agora-workers" start >/dev/null
sleep 2
for i in 1 2 3; do ingest_once "$pay/$size-$i.json" >/dev/null; done
"$root/fcgi/agora-workers" stop >/dev/null
"$root/fcgi/agora-workers" start >/dev/null
{
    printf 'callgrind: one agora-worker, 3 %s ingests (instructions inside router_dispatch: the requests only)\n' "$size"
    printf '\n== inclusive\n'
    set +o pipefail
    callgrind_annotate --inclusive=yes "$res"/callgrind.out.* 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -n 40
    printf '\n== self\n'
    callgrind_annotate --inclusive=no "$res"/callgrind.out.* 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -n 25
    set -o pipefail
} >"$res/callgrind.txt"

cat "$res/statements.txt"
say "profiles: $res/perf-ingest.txt $res/perf-copy.txt $res/statements.txt $res/callgrind.txt"
