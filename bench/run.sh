#!/usr/bin/env bash
# bench/run.sh: the Agora Cloud benchmark, in one command.
#
#   bench/run.sh            full run (about 10-15 minutes on 2 cores)
#   bench/run.sh --quick    smoke run: short phases, 1,000 ingests for the
#                           memory check, reads at 10,000 and 100,000
#   options: --no-append    print the table, leave BENCHMARKS.md alone
#            --keep         leave the stack running afterwards (stop it with
#                           AGORA_VAR=<dir>/var ./run.sh stop)
#   AGORA_WORKERS=N bench/run.sh   N FastCGI workers instead of one per core
#
# It starts its own stack with ./run.sh under a fresh AGORA_VAR in /tmp, on
# free ports (PostgreSQL, workers, nginx with TLS; the machine's other
# stacks are left alone), measures, stops the stack, prints a table and
# appends it to BENCHMARKS.md with the machine, date and commit. All traffic
# goes to 127.0.0.1; every phase is bounded in time or request count.
#
# Phases (BENCHMARKS.md says what each figure means):
#   1. GET /api/health vs a static file of the same size from the same nginx
#   2. worker RSS before, during and after 10,000 S ingests (concurrency 8)
#   3. reads at 10,000 stored executions
#   4. ingest S/M/L at concurrency 1, 8, 32 through nginx+TLS (wrk),
#      alternating with the ceiling: the same rows with COPY
#      (bench/copyload.c), one transaction per payload, same tables, same
#      server; 3 x 5 s of each, so a change in the machine's load hits both
#   5. bulk load to 1,000,000 executions, reads again
#   6. worker RSS at the end (after the L ingests)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"

mode=full
append=1
keep=0
for a in "$@"; do
    case $a in
        --quick) mode=quick ;;
        --no-append) append=0 ;;
        --keep) keep=1 ;;
        -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) printf 'bench/run.sh: unknown option %s (try --help)\n' "$a" >&2; exit 2 ;;
    esac
done

if [[ $mode == full ]]; then
    HEALTH_S=10 RSS_N=10000 READ_S=5 READ_N=100 SEGS=3 SEG_S=5 SMALL=10000 BIG=1000000
else
    HEALTH_S=3 RSS_N=1000 READ_S=2 READ_N=30 SEGS=2 SEG_S=2 SMALL=10000 BIG=100000
fi
CONCS=(1 8 32)
SIZES=(S M L)

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
bench_tools
bench_stack_start

# ---------------------------------------------------------------- facts

say "mode $mode"

bench_facts "$mode"
cp "$pay/sizes.json" "$res/sizes.json"

# ---------------------------------------------------------------- helpers

copy_run() {  # copy_run SIZE CLIENTS SEGMENT
    local name=copy-$1-$2-$3
    "$bv/copyload" "$AGORA_ADMIN_DATABASE_URL" "$pay/copy-$1.txt" "$2" "$SEG_S" >"$res/$name.json" \
        2>"$res/$name.err" || die "copyload $1 $2 failed: $(tail -n 3 "$res/$name.err")"
}

# rss LABEL: one JSON line per worker (kB) into results/rss.jsonl.
rss() {
    local pid
    for pid in $(worker_pids); do
        awk -v label="$1" -v pid="$pid" '
            /^VmRSS:/ {rss=$2} /^RssAnon:/ {anon=$2} /^RssFile:/ {file=$2} /^VmHWM:/ {hwm=$2}
            END {printf "{\"label\":\"%s\",\"pid\":%s,\"rss_kb\":%d,\"anon_kb\":%d,\"file_kb\":%d,\"hwm_kb\":%d}\n",
                 label, pid, rss, anon, file, hwm}' "/proc/$pid/status"
    done >>"$res/rss.jsonl"
}

# ---------------------------------------------------------------- 1. health vs static

say "1. GET /api/health vs a static file of the same bytes (concurrency 8, ${HEALTH_S}s each)"
health_body=$(curl -sS --cacert "$AGORA_TLS_CERT" "$base/api/health")
printf '%s\n' "$health_body" >"$bv/static/health.json"
# A location in this stack's own generated nginx.conf (nginx/agora.conf.in is
# not touched): same server block, TLS settings and headers as /api/.
conf=$AGORA_VAR/nginx/nginx.conf
grep -q '_bench/static.json' "$conf" || sed -i "s|^\(\s*\)location /api/ {|\1location = /_bench/static.json {\n\1    alias $bv/static/health.json;\n\1    default_type application/json;\n\1}\n\n&|" "$conf"
nginx -p "$AGORA_VAR/nginx/" -c "$conf" -e "$AGORA_VAR/log/nginx-error.log" -s reload
sleep 1
static_body=$(curl -sS --cacert "$AGORA_TLS_CERT" "$base/_bench/static.json")
[[ $static_body == "$health_body" ]] || die "the static copy of the health answer is not served ($static_body)"
for what in api/health _bench/static.json api/_bench_no_such_route; do
    curl -sS -o /dev/null --cacert "$AGORA_TLS_CERT" -w '{"path":"/'"$what"'","header_bytes":%{size_header},"body_bytes":%{size_download}}\n' \
        "$base/$what" >>"$res/health-sizes.jsonl"
done
# Warm-up, not recorded: the stack has just started (and nginx reloaded),
# so whichever URL came first would also pay for that.
for what in api/health _bench/static.json api/_bench_no_such_route; do
    wrk -t2 -c8 -d2s "$base/$what" >/dev/null 2>&1
done
wrk_run health 8 "$HEALTH_S" "$base/api/health"
wrk_run static 8 "$HEALTH_S" "$base/_bench/static.json"
# The FastCGI hop alone: the router's 404, answered by a worker without
# touching the database.
wrk_run fastcgi404 8 "$HEALTH_S" "$base/api/_bench_no_such_route"

# ---------------------------------------------------------------- 2. worker RSS

say "2. worker RSS over $RSS_N S ingests (concurrency 8, in 4 steps)"
rss before
before_s=$(psql_super -c "SELECT count(*) FROM agora.executions WHERE session_id LIKE 'bench-S-%'")
step=$((RSS_N / 4))
for i in 1 2 3 4; do
    # Each of wrk's 2 threads stops after step/2 answers; wrk then sleeps
    # out its -d, so once its threads are gone it is told to report (SIGINT).
    WRK_OUT=$res/rss-ingest-$i.json wrk -t2 -c8 -d600s --timeout 60s -s "$bench/wrk.lua" \
        "$base/api/executions/ingest" -- auth=1 body="$(bodies S)" cap=$((step / 2)) \
        >"$res/rss-ingest-$i.wrk.txt" 2>&1 &
    wpid=$!
    sleep 1
    while kill -0 "$wpid" 2>/dev/null && (($(ls "/proc/$wpid/task" 2>/dev/null | wc -l) > 1)); do
        sleep 0.2
    done
    kill -INT "$wpid" 2>/dev/null || true
    wait "$wpid" || true
    rss "after $((i * step))"
done
after_s=$(psql_super -c "SELECT count(*) FROM agora.executions WHERE session_id LIKE 'bench-S-%'")
printf '{"ingests":%d}\n' $((after_s - before_s)) >"$res/rss-count.json"

# ---------------------------------------------------------------- warm-up

say "warm-up: one ingest of each size (creates the workflow's nodes; the L one is read in phases 3 and 5)"
for s in "${SIZES[@]}"; do
    answer=$(ingest_once "$pay/$s-0.json")
    id=$(jq -r '.execution_id // empty' <<<"$answer")
    [[ -n $id ]] || die "ingest of $s failed: $answer"
    [[ $s == L ]] && printf '%s' "$id" >"$bv/l_execution"
done
l_execution=$(<"$bv/l_execution")
psql_super -c "SELECT json_object_agg(name, id) FROM agora.workflow_nodes WHERE workflow_id = '$workflow'" \
    >"$bv/nodes.json"
for s in "${SIZES[@]}"; do
    python3 "$bench/gen.py" copy "$pay" "$s" "$org" "$project" "$workflow" "$bv/nodes.json"
done

# ---------------------------------------------------------------- reads

# reads LABEL TARGET: tops the executions up to TARGET (bulk.sql), then
# times the four reads at concurrency 1.
reads() {
    local label=$1 target=$2 have n depth pos cursor url name
    have=$(count_executions)
    n=$((target - have))
    if ((n > 0)); then
        say "   bulk-loading $n executions (bench/bulk.sql)"
        local t0=$SECONDS
        psql_super -v org="$org" -v project="$project" -v workflow="$workflow" -v n="$n" \
            -v seed="$((have + 1000))" -f "$bench/bulk.sql" >/dev/null
        printf '{"label":"%s","rows":%d,"seconds":%d}\n' "$label" "$n" $((SECONDS - t0)) >>"$res/bulk.jsonl"
    fi
    psql_super -c "VACUUM ANALYZE agora.executions" >/dev/null
    have=$(count_executions)
    # A cursor 90% of the way down the caller's list, as its own paging would
    # have handed out (src/util/cursor.c's format).
    depth=$((have * 9 / 10))
    pos=$(psql_super -F ' ' -c "SELECT (extract(epoch FROM started_at) * 1000000)::bigint, id FROM agora.executions
                                ORDER BY started_at DESC, id DESC OFFSET $depth LIMIT 1")
    cursor=$(python3 "$bench/gen.py" cursor $pos)
    printf '{"label":"%s","executions":%d,"deep_offset":%d}\n' "$label" "$have" "$depth" >>"$res/reads-sizes.jsonl"
    local -A urls=(
        [list_first]="$base/api/executions?limit=50"
        [list_deep]="$base/api/executions?limit=50&cursor=$cursor"
        [timeline]="$base/api/executions/$l_execution/timeline"
        [events]="$base/api/executions/$l_execution/telemetry-events"
    )
    local -A expect=([list_first]='.items | length' [list_deep]='.items | length'
                     [timeline]='.node_executions | length' [events]='.items | length')
    for name in list_first list_deep timeline events; do
        url=${urls[$name]}
        local got
        got=$(curl -sS --cacert "$AGORA_TLS_CERT" -H @"$bv/auth-header" "$url" | jq "${expect[$name]}")
        printf '{"label":"%s","read":"%s","items":%s}\n' "$label" "$name" "${got:-null}" >>"$res/reads-check.jsonl"
        # Timing an error answer would time the wrong thing.
        [[ $got =~ ^[0-9]+$ ]] && ((got > 0)) || die "read $name ($url): no items in the answer"
        wrk_run "read-$label-$name" 1 "$READ_S" "$url" auth=1
        pg_time "read-$label-$name" "$url"
    done
}

# blocks: shared buffers PostgreSQL has touched in the database so far (hit +
# read). Backends publish their counts at most once a second, when they
# finish a transaction: after a pause, a few health checks make every worker
# publish what it did.
blocks() {
    local i
    sleep 1.2
    for i in 1 2 3 4 5 6; do curl -sS -o /dev/null --cacert "$AGORA_TLS_CERT" "$base/api/health"; done
    sleep 0.3
    psql_super -c "SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = current_database()"
}

# pg_time NAME URL: PostgreSQL's own time for READ_N requests to URL (its
# statement log, bench/pgtime.py), free of the HTTP latency's noise, and the
# shared buffers each request touched (pg_stat_database), which no noise
# changes: an index-backed read touches as many at 1,000,000 executions as
# at 10,000.
pg_time() {
    local mark i b0 b1
    b0=$(blocks)
    mark=$(statement_log on)
    for ((i = 0; i < READ_N; i++)); do
        curl -sS -o /dev/null --cacert "$AGORA_TLS_CERT" -H @"$bv/auth-header" "$2"
    done
    statement_log off
    b1=$(blocks)
    python3 "$bench/pgtime.py" "$AGORA_VAR/log/postgresql.log" "$mark" |
        jq --argjson b $(((b1 - b0) / READ_N)) '. + {buffers_per_request: $b}' >"$res/pg-$1.json"
}

say "3. reads at $SMALL executions (concurrency 1, ${READ_S}s each)"
reads small "$SMALL"

# ---------------------------------------------------------------- 4. ingest vs COPY

say "4. ingest vs COPY: S M L x concurrency ${CONCS[*]}"
for s in "${SIZES[@]}"; do
    for c in "${CONCS[@]}"; do
        say "   $s at concurrency $c: ingest and COPY, alternating ${SEGS} x (${SEG_S}s + ${SEG_S}s)"
        for ((k = 1; k <= SEGS; k++)); do
            with_cpu "ingest-$s-$c-$k" wrk_run "ingest-$s-$c-$k" "$c" "$SEG_S" "$base/api/executions/ingest" \
                auth=1 body="$(bodies "$s")"
            with_cpu "copy-$s-$c-$k" copy_run "$s" "$c" "$k"
        done
    done
done

# ---------------------------------------------------------------- 5. reads at BIG

say "5. reads at $BIG executions"
reads big "$BIG"

# ---------------------------------------------------------------- 6. the end

rss end
psql_super -c "SELECT json_build_object('database_bytes', pg_database_size('agora'),
    'executions', (SELECT count(*) FROM agora.executions),
    'node_executions', (SELECT count(*) FROM agora.node_executions),
    'telemetry_spans', (SELECT count(*) FROM agora.telemetry_spans),
    'telemetry_events', (SELECT count(*) FROM agora.telemetry_events),
    'shared_state_snapshots', (SELECT count(*) FROM agora.shared_state_snapshots))" >"$res/db-end.json"
bench_facts_end
jq -n --argjson u "$(grep -c '"upstream_status":"5' "$AGORA_VAR/log/nginx-access.log" || true)" \
    --argjson b "$(grep -c 'client request body is buffered to a temporary file' "$AGORA_VAR/log/nginx-error.log" || true)" \
    '{upstream_5xx: $u, bodies_buffered_to_disk: $b}' >"$res/nginx.json"

say "report"
if ((append)); then
    python3 "$bench/report.py" "$res" --append "$root/BENCHMARKS.md"
else
    python3 "$bench/report.py" "$res"
fi
