#!/usr/bin/env bash
# bench/live.sh: the benchmark of live monitoring (docs/LIVE.md), in one
# command. Prints a Markdown section (BENCHMARKS.md, "Live monitoring").
#
#   bench/live.sh                about 12 minutes on 2 cores
#   options: --subscribers N     subscriptions held at once (default 1000)
#            --appends N         appends timed in the browser, per phase (default 250)
#            --seconds S         length of each ingest segment (default 6)
#            --rounds K          rounds of alternating ingest segments (default 5)
#            --http1.1           subscribers speak HTTP/1.1 (default HTTP/2, as browsers do)
#            --keep              leave the stack running afterwards
#
# It starts its own stack with ./run.sh under a fresh AGORA_VAR in /tmp, on
# free ports (bench/lib.sh), with AGORA_LIVE_TICKET_SECONDS=600 (tickets
# are all taken before the subscriptions open), and measures:
#   1. commit -> browser: Chromium (bench/live_latency.mjs) shows a
#      running execution in the viewer, which follows it live; the run
#      gets APPENDS appends, 100 ms apart, each timed from its commit
#      (PostgreSQL's commit timestamp) to its message in the page and to
#      its node's row in the Gantt (and from the ingest's request and
#      answer). On an idle stack, while M ingests run at concurrency 8,
#      and idle again with the page's Graph tab open instead of Events
#      (which the page refreshes whenever a message adds events).
#   2. M ingest at concurrency 8 (wrk, bench/wrk.lua), in rounds of three
#      segments: no subscriber; N subscribers on the project's channel
#      (every ingest is a message to each of them); N subscribers on the
#      channel of an execution that gets no message. Each subscriber has
#      its own ticket and TLS connection (bench/live_subscribers.c), which
#      counts the messages each one receives.
#   3. nginx's memory (RSS and PSS of its processes) before, with the N
#      subscribers open, after the fan-out, and after they closed.
#   4. NOTIFY's own cost: M at concurrency 8 as shipped, alternating with
#      pg_notify shadowed by a no-op for the workers' database role (the
#      message is still built, nothing is queued or published); and the
#      share of PostgreSQL's time per ingest spent in the statement that
#      builds and queues the messages (statement log, 40 ingests); what
#      the workers' sessions wait for meanwhile (pg_stat_activity).
# The stack is stopped and removed at the end (unless --keep); the raw
# results and the section (live.md) stay in /tmp/agora-bench-XXXXXX/results.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"

SUBS=1000 APPENDS=250 SEG_S=6 ROUNDS=5 GAP_MS=100 CONC=8 SIZE=M
keep=0
sub_opts=()
while (($#)); do
    case $1 in
        --subscribers) SUBS=$2; shift ;;
        --appends) APPENDS=$2; shift ;;
        --seconds) SEG_S=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --http1.1) sub_opts+=(--http1.1) ;;
        --keep) keep=1 ;;
        -h | --help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) printf 'bench/live.sh: unknown option %s (try --help)\n' "$1" >&2; exit 2 ;;
    esac
    shift
done

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"

# One descriptor per subscription in the client, and nginx (started from
# here) inherits the limit: raise the soft limit when it is too low.
fd_need=$((SUBS + 256))
if (($(ulimit -Sn) < fd_need)); then
    ulimit -Sn "$fd_need" 2>/dev/null ||
        die "ulimit -n is $(ulimit -Sn) (hard $(ulimit -Hn)); $SUBS subscribers need $fd_need: raise it"
fi
export AGORA_LIVE_TICKET_SECONDS=${AGORA_LIVE_TICKET_SECONDS:-600}

bench_tools chromium libcurl4-openssl-dev
bench_stack_start
# Whatever ends the script also ends its helpers still running in the
# background (subscribers, the wait sampler, wrk), before the stack stops.
live_cleanup() {
    local rc=$?
    set +e
    # shellcheck disable=SC2046 # one pid a word
    kill $(jobs -p) 2>/dev/null
    (exit "$rc")
    bench_cleanup
}
trap live_cleanup EXIT
bench_facts live
[[ -d $root/node_modules/playwright-core ]] || die "node_modules/playwright-core is missing (npm ci)"
gcc -O2 -o "$bv/live_subscribers" "$bench/live_subscribers.c" -lcurl || die "could not build bench/live_subscribers.c"

# Commit timestamps (track_commit_timestamp, on for the whole run so that
# every phase pays the same for them): the time each append committed, by
# PostgreSQL's clock, for phase 1. PostgreSQL restarts for it; the workers
# reconnect on their next request, agora-live with its backoff.
say "PostgreSQL: track_commit_timestamp = on (restart)"
psql_super -c "ALTER SYSTEM SET track_commit_timestamp = on" >/dev/null
pg_ctl_cmd=("$AGORA_PG_BINDIR/pg_ctl" -D "$AGORA_PG_DATA" -w -t 60 restart -m fast)
if [[ $(id -u) -eq 0 ]]; then pg_ctl_cmd=(runuser -u postgres -- "${pg_ctl_cmd[@]}"); fi
(cd / && "${pg_ctl_cmd[@]}") >>"$AGORA_VAR/log/postgresql.log" 2>&1 || die "PostgreSQL did not restart"
for ((i = 0; i < 300; i++)); do grep -q 'agora-live: listening again' "$AGORA_VAR/log/live.log" && break; sleep 0.1; done
grep -q 'agora-live: listening again' "$AGORA_VAR/log/live.log" || die "agora-live did not reconnect within 30 s"
# What agora-live logs from here on is a finding (the restart's lines are not).
live_mark=$(wc -l <"$AGORA_VAR/log/live.log")

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# phase NAME: the load average when a phase starts, into results/phases.jsonl.
phase() {
    say "$1"
    printf '{"phase":"%s","load":"%s"}\n' "$1" "$(loadavg)" >>"$res/phases.jsonl"
}

nginx_master() { tr -dc '0-9' <"$AGORA_VAR/run/nginx.pid"; }

# nginx_mem LABEL: RSS and PSS (kB) of nginx's processes, and the
# descriptors its workers hold, as one line of results/nginx-mem.jsonl.
nginx_mem() {
    local master pid fds=0
    master=$(nginx_master)
    for pid in $(child_pids "$master"); do
        fds=$((fds + $(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
    done
    for pid in "$master" $(child_pids "$master"); do
        cat "/proc/$pid/smaps_rollup"
    done | awk -v label="$1" -v fds="$fds" -v load="$(loadavg)" '
        /^Rss:/ {rss += $2; n++} /^Pss:/ {pss += $2} /^Pss_Anon:/ {anon += $2} /^Pss_Shmem:/ {shm += $2}
        END {printf "{\"label\":\"%s\",\"processes\":%d,\"rss_kb\":%d,\"pss_kb\":%d,\"pss_anon_kb\":%d,\"pss_shmem_kb\":%d,\"worker_fds\":%d,\"load\":\"%s\"}\n",
             label, n, rss, pss, anon, shm, fds, load}' >>"$res/nginx-mem.jsonl"
}

ingest_M() {  # ingest_M NAME: wrk, M payloads at concurrency CONC for SEG_S, CPU counted
    with_cpu "$1" wrk_run "$1" "$CONC" "$SEG_S" "$base/api/executions/ingest" auth=1 body="$(bodies "$SIZE")"
}

# subs_open NAME BODY: SUBS tickets for BODY's channel, then as many
# subscriptions, held by live_subscribers in the background ($sub_pid);
# returns once all are open (or failed).
subs_open() {
    local name=$1 i t0
    t0=$(date +%s.%N)
    python3 "$bench/live_tickets.py" "$base" "$AGORA_TLS_CERT" "$SUBS" "$2" >"$bv/paths-$name" ||
        die "tickets for $name failed"
    awk -v n="$SUBS" -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "{\"tickets\":%d,\"seconds\":%.3f}\n", n, b - a}' \
        >"$res/tickets-$name.json"
    # At the lowest priority: real subscribers are elsewhere, this one must
    # not take the cores from the stack it measures (its CPU is reported).
    nice -n 19 "$bv/live_subscribers" "$base" "$AGORA_TLS_CERT" "$bv/paths-$name" "${sub_opts[@]}" \
        >"$res/subs-$name.json" 2>"$res/subs-$name.log" &
    sub_pid=$!
    for ((i = 0; i < 1200; i++)); do
        grep -qs '^ready ' "$res/subs-$name.log" && break
        kill -0 "$sub_pid" 2>/dev/null || die "live_subscribers ($name) ended: $(tail -n 3 "$res/subs-$name.log")"
        sleep 0.1
    done
    grep -q '^ready ' "$res/subs-$name.log" || die "$SUBS subscriptions did not open within 2 minutes ($name)"
    sleep 1
}

# subs_mark NAME: the subscribers count messages from here on.
subs_mark() {
    kill -USR1 "$sub_pid"
    while ! grep -q '^marked' "$res/subs-$1.log"; do sleep 0.05; done
}

# subs_close NAME: waits until the subscribers' message count stands still
# for 3 s (at most 60 s: the messages of the last ingests are still being
# written to them), then ends them; their totals go to results/subs-NAME.json.
subs_close() {
    local name=$1 last=-1 cur same=0 i
    for ((i = 0; i < 60 && same < 3; i++)); do
        sleep 1
        cur=$(grep '^status ' "$res/subs-$name.log" | tail -n 1 | sed 's/.*since_mark=//')
        if [[ $cur == "$last" ]]; then same=$((same + 1)); else same=0; fi
        last=$cur
    done
    ((${2:-0})) && nginx_mem "$SUBS subscribers, after the fan-out"
    kill -TERM "$sub_pid"
    wait "$sub_pid" || true
    [[ -s $res/subs-$name.json ]] || die "live_subscribers ($name) wrote no totals"
}

# notify MODE: "on" as shipped; "off": pg_notify, as the workers' role
# resolves it, is a no-op (search_path puts agora_bench_quiet first). The
# workers' sessions are ended so that they reconnect with the setting; a
# second of requests then warms them up again (the first request of a
# worker whose session was ended may answer 503).
notify() {
    if [[ $1 == off ]]; then
        psql_super -c 'ALTER ROLE agora_app SET search_path = agora_bench_quiet, pg_catalog, "$user", public' >/dev/null
    else
        psql_super -c 'ALTER ROLE agora_app RESET search_path' >/dev/null
    fi
    psql_super -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'agora-worker'" >/dev/null
    sleep 0.5
    wrk_run "warm-notify-$1" "$CONC" 1 "$base/api/projects" auth=1
}

# waits NAME COMMAND...: runs COMMAND while sampling, 5 times a second,
# what the workers' database sessions in a transaction are doing
# (pg_stat_activity: a wait event, or CPU), one line per session and
# sample into results/waits-NAME.txt.
waits() {
    local name=$1 pid
    shift
    while :; do
        psql_super -c "SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
                       WHERE application_name = 'agora-worker' AND state IN ('active', 'idle in transaction')" || true
        sleep 0.2
    done >>"$res/waits-$name.txt" 2>/dev/null &
    pid=$!
    "$@"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- warm-up

phase "warm-up: one $SIZE ingest, then 2 s of $SIZE at concurrency $CONC"
ingest_once "$pay/$SIZE-0.json" | jq -e .execution_id >/dev/null || die "the warm-up ingest failed"
wrk_run warm-ingest "$CONC" 2 "$base/api/executions/ingest" auth=1 body="$(bodies "$SIZE")"
conf=$AGORA_VAR/nginx/nginx.conf
jq -n --argjson subs "$SUBS" --argjson appends "$APPENDS" --argjson gap "$GAP_MS" --argjson seg "$SEG_S" \
    --argjson rounds "$ROUNDS" --argjson conc "$CONC" --arg size "$SIZE" \
    --arg http "${sub_opts[0]:-HTTP/2}" --arg ulimit "$(ulimit -Sn)" \
    --arg nginx_nofile "$(awk '/^Max open files/ {print $4}' "/proc/$(child_pids "$(nginx_master)" | head -n1)/limits")" \
    --arg nginx_workers "$(child_pids "$(nginx_master)" | wc -l)" \
    --arg worker_connections "$(awk '$1 == "worker_connections" {print $2 + 0}' "$conf")" \
    --arg shm "$(awk '$1 == "nchan_shared_memory_size" {sub(/;/, "", $2); print $2}' "$conf")" \
    --arg ticket_s "$AGORA_LIVE_TICKET_SECONDS" \
    '{subscribers: $subs, appends: $appends, gap_ms: $gap, seconds: $seg, rounds: $rounds, conc: $conc,
      size: $size, http: $http, client_nofile: $ulimit, nginx_nofile: $nginx_nofile,
      nginx_workers: $nginx_workers, worker_connections: $worker_connections, nchan_shm: $shm,
      ticket_seconds: $ticket_s}' >"$res/live-setup.json"

# ---------------------------------------------------------------- 1. commit -> browser

# latency NAME [QUERY]: the appends (results/latency-NAME.json), and when
# each one committed, by client id (results/commits-NAME.json, ms since the
# epoch). QUERY goes into the execution page's address.
latency() {
    local id
    node "$bench/live_latency.mjs" "$base" "$AGORA_TLS_CERT" "$pay/$SIZE-0.json" "$APPENDS" "$GAP_MS" \
        "$res/latency-$1.json" "${2:-}" >"$res/latency-$1.log" 2>&1 ||
        die "live_latency $1 failed: $(tail -n 5 "$res/latency-$1.log")"
    id=$(jq -r .execution_id "$res/latency-$1.json")
    psql_super -c "SELECT COALESCE(json_object_agg(client_id, extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000), '{}')
                   FROM agora.node_executions WHERE execution_id = '$id' AND client_id IS NOT NULL" >"$res/commits-$1.json"
}
phase "1a. commit -> browser: $APPENDS appends to a running execution, ${GAP_MS} ms apart, idle stack"
latency idle
phase "1b. commit -> browser: $APPENDS appends while $SIZE ingests run at concurrency $CONC"
WRK_OUT=$res/latency-load-wrk.json wrk -t2 -c"$CONC" -d600s --timeout 60s -s "$bench/wrk.lua" \
    "$base/api/executions/ingest" -- auth=1 body="$(bodies "$SIZE")" >"$res/latency-load-wrk.txt" 2>&1 &
wpid=$!
sleep 1
(latency load) && rc=0 || rc=$?
kill -INT "$wpid" 2>/dev/null || true
wait "$wpid" || true
((rc == 0)) || exit "$rc"
phase "1c. commit -> browser: $APPENDS appends, idle stack, the page showing the Graph tab (refreshed by no message)"
latency idle-graph tab=graph
# An execution whose channel gets no message from here on (its run gets no
# more appends): the channel of the idle subscribers in phase 2.
quiet_execution=$(jq -r .execution_id "$res/latency-idle.json")

# ---------------------------------------------------------------- 2, 3. subscribers

for ((k = 1; k <= ROUNDS; k++)); do
    phase "2. round $k/$ROUNDS: $SIZE at concurrency $CONC for ${SEG_S}s without subscribers"
    ingest_M "ingest-none-$k"
    phase "2. round $k/$ROUNDS: $SUBS subscribers on the project's channel"
    ((k > 1)) || nginx_mem "before"
    subs_open "fanout-$k" "{\"project_id\":\"$project\"}"
    ((k > 1)) || nginx_mem "$SUBS subscribers open"
    subs_mark "fanout-$k"
    ingest_M "ingest-fanout-$k"
    subs_close "fanout-$k" $((k == 1))
    if ((k == 1)); then
        sleep 2
        nginx_mem "after they closed"
    fi
    phase "2. round $k/$ROUNDS: $SUBS subscribers on an execution's channel without messages"
    subs_open "idle-$k" "{\"execution_id\":\"$quiet_execution\"}"
    subs_mark "idle-$k"
    ingest_M "ingest-idle-$k"
    subs_close "idle-$k"
done

# ---------------------------------------------------------------- 4. NOTIFY

phase "4. NOTIFY's share of PostgreSQL's time: 40 $SIZE ingests one at a time, statement log"
mark=$(statement_log on)
for ((i = 0; i < 40; i++)); do ingest_once "$pay/$SIZE-$((i % 4)).json" >/dev/null; done
statement_log off
python3 "$bench/pgtime.py" "$AGORA_VAR/log/postgresql.log" "$mark" pg_notify >"$res/pg-announce.json"
python3 "$bench/pgtime.py" "$AGORA_VAR/log/postgresql.log" "$mark" COMMIT >"$res/pg-commit.json"

psql_super >/dev/null <<'SQL'
CREATE SCHEMA agora_bench_quiet;
CREATE FUNCTION agora_bench_quiet.pg_notify(text, text) RETURNS void LANGUAGE sql VOLATILE AS 'SELECT NULL::void';
GRANT USAGE ON SCHEMA agora_bench_quiet TO agora_app;
SQL
for ((k = 1; k <= ROUNDS; k++)); do
    phase "4. round $k/$ROUNDS: $SIZE at concurrency $CONC, NOTIFY as shipped, then pg_notify a no-op"
    notify on
    waits "notify-on-$k" ingest_M "notify-on-$k"
    notify off
    waits "notify-off-$k" ingest_M "notify-off-$k"
done
notify on

# ---------------------------------------------------------------- logs

phase "logs"
# agora-live prints what it published and dropped when it stops: stop it
# (its supervisor) now rather than in ./run.sh stop.
live_log=$AGORA_VAR/log/live.log
kill -TERM "$(tr -dc '0-9' <"$AGORA_VAR/run/live.pid")" 2>/dev/null || true
for ((i = 0; i < 50; i++)); do grep -q 'agora-live: stopping' "$live_log" && break; sleep 0.1; done
nginx_log=$AGORA_VAR/log/nginx-error.log
tail -n +"$((live_mark + 1))" "$live_log" | grep -v -e 'agora-live: stopping' -e 'agora-supervise: SIGTERM' \
    -e 'agora-supervise: worker 1 (pid [0-9]*) exited with status 0' -e 'agora-supervise: stopped' \
    >"$res/live-log-findings.txt" || true
grep -E '\[(warn|error|crit|alert|emerg)\]' "$nginx_log" >"$res/nginx-log-findings.txt" || true
jq -n --arg stop "$(grep -o 'stopping ([^)]* published, [0-9]* dropped)' "$live_log" | tail -n 1)" \
    --argjson live_lines "$(wc -l <"$res/live-log-findings.txt")" \
    --argjson nginx_lines "$(wc -l <"$res/nginx-log-findings.txt")" \
    --argjson wc "$(grep -c 'worker_connections are not enough' "$nginx_log" || true)" \
    --argjson upstream_5xx "$(grep -c '"upstream_status":"5' "$AGORA_VAR/log/nginx-access.log" || true)" \
    --argjson live_status "$(jq -sc 'map(select(.path | startswith("/live/"))) | group_by(.status)
                                     | map({key: (.[0].status | tostring), value: length}) | from_entries' \
                             "$AGORA_VAR/log/nginx-access.log")" \
    '{live_stop: $stop, live_log_lines: $live_lines, nginx_error_lines: $nginx_lines,
      worker_connections_not_enough: $wc, upstream_5xx: $upstream_5xx, live_statuses: $live_status}' >"$res/logs.json"

bench_facts_end
python3 "$bench/live_report.py" "$res" | tee "$res/live.md"
