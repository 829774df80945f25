# bench/lib.sh: what the benches share (bench/run.sh, live.sh, profile.sh,
# stats.sh, alerts.sh, stats_cpu.sh, alerts_cpu.sh, replication.sh).
# Sourced; sets root (the checkout) and bench (this folder) unless the
# caller did, and works from root (bench_options sets mode and keep).
#
# bench_options HELP [--FLAG=VAR...] -- ARGS...
#                        --quick, --keep, --help and the script's own flags
# bench_tools [PKG...]   installs (apt, as root) wrk, python3, gcc, jq, curl,
#                        libpq-dev and any extra packages when missing
# bench_stack_start      a fresh stack under /tmp/agora-bench-XXXXXX on free
#                        ports (./run.sh start), stopped and removed on exit
#                        unless keep=1; sets bv, res, pay, base, token, org,
#                        project, workflow; builds copyload; writes payloads
# bench_facts MODE       results/machine.json and results/pg.json
# with_cpu NAME CMD...   CPU seconds of each part of the stack while CMD ran
# statement_log on|off   PostgreSQL's statement log with durations
# statements_table MARK N TITLE   the log's statements since MARK, averaged over N requests
# stack_pids, postmaster_pids, perf_while NAME PIDS SECONDS CMD..., perf_report DATA TITLE
#                        perf record of the stack while CMD runs, and its report
# scratch_init, scratch_db NAME LAST, scratch_sql DB ARGS..., cpu_pid, cpu_mark,
# cpu_ingest I AS, cpu_app_script N, cpu_rounds ROUNDS N DB:TITLE...
#                        one backend's CPU per ingest in scratch databases of a
#                        running stack's cluster, the databases alternating

bench=${bench:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
root=${root:-$(cd "$bench/.." && pwd)}
cd "$root" || exit 1

say() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

bench_tools() {
    local need=() p
    command -v wrk >/dev/null || need+=(wrk)
    command -v python3 >/dev/null || need+=(python3)
    command -v gcc >/dev/null || need+=(gcc)
    command -v jq >/dev/null || need+=(jq)
    command -v curl >/dev/null || need+=(curl)
    [[ -f /usr/include/postgresql/libpq-fe.h ]] || need+=(libpq-dev)
    for p in "$@"; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || need+=("$p")
    done
    ((${#need[@]})) || return 0
    [[ $(id -u) -eq 0 ]] || die "missing: ${need[*]}; as root: apt-get install -y ${need[*]}"
    say "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; } ||
        die "apt-get install ${need[*]} failed"
}

# bench_options HELP [--FLAG=VAR...] -- ARGS...: the options of a bench
# script. --quick sets mode=quick (else mode=full), --keep keep=1, --help
# prints the script's lines HELP (a sed range: its header) and exits; each
# --FLAG=VAR names one of the script's own flags, which sets VAR=1 (else 0).
bench_options() {
    local help=$1 a v
    local -A own=()
    shift
    while (($#)) && [[ $1 != -- ]]; do own[${1%%=*}]=${1#*=}; shift; done
    shift
    mode=full keep=0
    for v in "${own[@]}"; do printf -v "$v" 0; done
    for a in "$@"; do
        case $a in
            --quick) mode=quick ;;
            --keep) keep=1 ;;
            -h | --help) sed -n "${help}p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
            *)
                [[ -n ${own[$a]:-} ]] || { printf 'bench/%s: unknown option %s (try --help)\n' "$(basename "$0")" "$a" >&2; exit 2; }
                printf -v "${own[$a]}" 1 ;;
        esac
    done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

psql_super() { "$AGORA_PG_BINDIR/psql" -XAtq -v ON_ERROR_STOP=1 -d "$AGORA_ADMIN_DATABASE_URL" "$@"; }

stack_up=0
bench_cleanup() {
    local rc=$?
    if ((stack_up && !keep)); then
        say "stopping the stack"
        "$root/run.sh" stop >"$res/run-stop.log" 2>&1 || printf 'bench: ./run.sh stop failed (%s)\n' "$res/run-stop.log" >&2
        rm -rf "$AGORA_VAR"
    fi
    if ((stack_up && keep)); then
        say "stack left running: AGORA_VAR=$AGORA_VAR ./run.sh stop"
    fi
    say "raw results: $res"
    exit "$rc"
}

bench_stack_start() {
    bv=$(mktemp -d /tmp/agora-bench-XXXXXX)
    chmod 755 "$bv"  # the postgres OS user (when we are root) must reach var/pg
    res=$bv/results
    pay=$bv/payloads
    mkdir -p "$res" "$pay" "$bv/static"
    export AGORA_VAR=$bv/var
    AGORA_HTTPS_PORT=$(free_port)
    AGORA_HTTP_PORT=$(free_port)
    while [[ $AGORA_HTTP_PORT == "$AGORA_HTTPS_PORT" ]]; do AGORA_HTTP_PORT=$(free_port); done
    export AGORA_HTTPS_PORT AGORA_HTTP_PORT
    export AGORA_PG_PORT=$((55000 + RANDOM % 5000))  # names the unix socket only
    export AGORA_WORKERS=${AGORA_WORKERS:-$(nproc)}
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM

    load_start=$(cut -d' ' -f1-3 /proc/loadavg)
    say "load average $load_start; AGORA_VAR=$AGORA_VAR, https port $AGORA_HTTPS_PORT, $AGORA_WORKERS workers"
    say "starting the stack (./run.sh start)"
    stack_up=1
    "$root/run.sh" start >"$res/run-start.log" 2>&1 || { tail -n 30 "$res/run-start.log" >&2; die "./run.sh start failed"; }
    # shellcheck source=/dev/null
    . "$AGORA_VAR/env"
    base=https://127.0.0.1:$AGORA_HTTPS_PORT

    local user demo
    user=$(<"$AGORA_VAR/secrets/demo_user")
    token=$("$root/agora-admin" token --user "$user" --ttl 86400)
    # Never on a command line, where any local user could read it: wrk.lua
    # reads the environment (auth=1), curl a header file (-H @file).
    export WRK_TOKEN=$token
    (umask 077 && printf 'Authorization: Bearer %s\n' "$token" >"$bv/auth-header")
    demo=$("$root/agora-admin" demo --user "$user")
    org=$(jq -r .organization_id <<<"$demo")
    project=$(jq -r .project_id <<<"$demo")
    workflow=$(jq -r .workflow_id <<<"$demo")

    gcc -O2 -o "$bv/copyload" "$bench/copyload.c" -I"$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)" -lpq ||
        die "could not build bench/copyload.c"
    python3 "$bench/gen.py" payloads "$pay" "$workflow"
}

# wrk_run NAME CONNECTIONS SECONDS URL [lua args...]: one wrk run, its
# summary in results/NAME.json.
wrk_run() {
    local name=$1 c=$2 secs=$3 url=$4 t
    shift 4
    t=$((c < 2 ? c : 2))
    WRK_OUT=$res/$name.json wrk -t"$t" -c"$c" -d"${secs}s" --timeout 60s -s "$bench/wrk.lua" "$url" -- "$@" \
        >"$res/$name.wrk.txt" 2>&1 || die "wrk $name failed: $(tail -n 5 "$res/$name.wrk.txt")"
    [[ -s $res/$name.json ]] || die "wrk $name wrote no summary"
}

# bodies SIZE: the four payload variants of SIZE, as wrk.lua's body= list.
bodies() { local s=$1; printf '%s' "$pay/$s-0.json,$pay/$s-1.json,$pay/$s-2.json,$pay/$s-3.json"; }

count_executions() { psql_super -c "SELECT count(*) FROM agora.executions"; }

# ingest_once FILE: POSTs one payload; prints the answer.
ingest_once() {
    curl -sS --cacert "$AGORA_TLS_CERT" --max-time 60 -H @"$bv/auth-header" \
        -H 'Content-Type: application/json' --data-binary @"$1" "$base/api/executions/ingest"
}

# bench_facts MODE: results/machine.json (machine, commit, versions, load
# average at the start) and results/pg.json (PostgreSQL's settings).
bench_facts() {
    local mode=$1 commit
    commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ -n $(git -C "$root" status --porcelain --untracked-files=no -- src sql 2>/dev/null) ]]; then
        commit="$commit (+ uncommitted changes in src/ or sql/)"
    fi
    psql_super -c "SELECT json_object_agg(name, setting || COALESCE(unit, '')) FROM pg_settings
                   WHERE name IN ('server_version', 'synchronous_commit', 'fsync', 'full_page_writes',
                                  'wal_level', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout',
                                  'wal_sync_method', 'work_mem')" >"$res/pg.json"
    jq -n --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" --arg commit "$commit" --arg mode "$mode" \
        --arg cpu "$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)" \
        --arg cores "$(nproc)" --arg mem "$(free -g | awk '/^Mem:/ {print $2 " GiB"}')" \
        --arg kernel "$(uname -r)" --arg os "$(. /etc/os-release && echo "$PRETTY_NAME")" \
        --arg nginx "$(nginx -v 2>&1 | sed 's/.*nginx\///')" --arg wrk "$(wrk -v 2>&1 | head -n1 | cut -d' ' -f2)" \
        --arg workers "$AGORA_WORKERS" --arg load_start "$load_start" \
        '{date:$date, commit:$commit, mode:$mode, cpu:$cpu, cores:$cores, mem:$mem, kernel:$kernel,
          os:$os, nginx:$nginx, wrk:$wrk, workers:$workers, load_start:$load_start}' >"$res/machine.json"
}

# bench_facts_end: the load average at the end, into results/machine.json.
bench_facts_end() {
    jq --arg l "$(cut -d' ' -f1-3 /proc/loadavg)" '. + {load_end: $l}' "$res/machine.json" >"$res/machine.json.tmp" &&
        mv "$res/machine.json.tmp" "$res/machine.json"
}

# with_cpu NAME COMMAND...: runs COMMAND and writes results/cpu-NAME.json:
# the CPU seconds PostgreSQL, the workers, nginx and the live publisher
# used meanwhile (bench/cpu.py), and those of the client (wrk or copyload) itself.
with_cpu() {
    local name=$1 before after client n0 n1 n2 TIMEFORMAT='%U %S'
    shift
    n0=$(count_executions)
    before=$(python3 "$bench/cpu.py" "$AGORA_VAR")
    client=$( { time "$@" >/dev/null 2>&1; } 2>&1 ) || die "$name failed"
    # Requests wrk left in flight are still being stored: wait until the
    # count stands still (exited COPY backends are reaped meanwhile too).
    n1=$(count_executions)
    while sleep 0.5; n2=$(count_executions); [[ $n2 != "$n1" ]]; do n1=$n2; done
    # The statistics deltas the phase queued are folded now, by this phase:
    # left to agora-live, a COPY phase's backlog was folded during the next
    # ingest phase, charged to it and slowing it.
    psql_super -c "SELECT agora.stats_fold(NULL)" >/dev/null
    after=$(python3 "$bench/cpu.py" "$AGORA_VAR")
    jq -n --argjson a "$before" --argjson b "$after" --arg client "$client" --argjson stored $((n2 - n0)) \
        '{stored: $stored, postgres: ($b.postgres - $a.postgres), workers: ($b.workers - $a.workers),
          nginx: ($b.nginx - $a.nginx), live: (($b.live // 0) - ($a.live // 0)),
          client: ($client | split(" ") | map(tonumber) | add)}' >"$res/cpu-$name.json"
}

# statement_log on|off: PostgreSQL logs every statement with its duration
# (bench/pgtime.py reads them), or stops. "on" prints the log's line count
# before, where pgtime.py is to start.
statement_log() {
    if [[ $1 == on ]]; then
        wc -l <"$AGORA_VAR/log/postgresql.log"
        psql_super -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "ALTER SYSTEM SET log_parameter_max_length = 0" \
            -c "SELECT pg_reload_conf()" >/dev/null
        sleep 0.5
    else
        psql_super -c "ALTER SYSTEM RESET log_min_duration_statement" -c "ALTER SYSTEM RESET log_parameter_max_length" \
            -c "SELECT pg_reload_conf()" >/dev/null
    fi
}

# child_pids PARENT: the processes whose parent is PARENT.
child_pids() {
    local stat pid rest ppid
    for stat in /proc/[0-9]*/stat; do
        { read -r pid rest <"$stat"; } 2>/dev/null || continue
        rest=${rest##*) }
        read -r _ ppid _ <<<"$rest"
        [[ $ppid == "$1" ]] && printf '%s\n' "$pid"
    done | sort -n
}

# worker_pids: the agora-worker processes (agora-supervise's children).
worker_pids() { child_pids "$(tr -dc '0-9' <"$AGORA_WORKERS_PIDFILE")"; }

# statements_table MARK N TITLE: the statements PostgreSQL logged since line
# MARK (statement_log on), parse / bind / execute / total per statement,
# averaged over N requests.
statements_table() {
    printf '%s\n' "$3"
    tail -n +"$(($1 + 1))" "$AGORA_VAR/log/postgresql.log" | grep 'duration:' | grep -v 'pg_reload_conf\|ALTER SYSTEM' |
        sed -E 's/.*duration: ([0-9.]+) ms +(parse|bind|execute|statement)[^:]*: (.*)/\2\t\1\t\3/' |
        awk -F'\t' -v N="$2" '{
            q = $3; sub(/^WITH b AS MATERIALIZED \(SELECT \$1::jsonb AS j\), */, "WITH ... ", q)
            q = substr(q, 1, 60); k = q SUBSEP $1
            s[k] += $2; if (!(q in seen)) { seen[q] = 1; order[++n] = q }
            tot[q] += $2 }
          END {
            printf "%-62s %8s %8s %8s %8s\n", "statement", "parse", "bind", "execute", "total"
            for (i = 1; i <= n; i++) { q = order[i]
              printf "%-62s %8.2f %8.2f %8.2f %8.2f\n", q, s[q SUBSEP "parse"] / N, s[q SUBSEP "bind"] / N,
                     s[q SUBSEP "execute"] / N, tot[q] / N; all += tot[q] }
            printf "%-62s %35.2f\n", "all statements", all / N }'
}

descendants() {  # descendants PID...: the pids and all their descendants
    local all
    all=$(ps -e -o pid=,ppid=)
    local todo=("$@") out=() p
    while ((${#todo[@]})); do
        p=${todo[0]}
        todo=("${todo[@]:1}")
        out+=("$p")
        mapfile -t -O "${#todo[@]}" todo < <(awk -v p="$p" '$2 == p {print $1}' <<<"$all")
    done
    printf '%s\n' "${out[@]}"
}
stack_pids() {
    descendants "$(head -n1 "$AGORA_PG_DATA/postmaster.pid")" "$(tr -dc 0-9 <"$AGORA_WORKERS_PIDFILE")" \
        "$(tr -dc 0-9 <"$AGORA_VAR/run/nginx.pid")" | paste -sd, -
}

# perf_while NAME PIDS SECONDS CMD...: runs CMD (SECONDS long) while perf
# record -g samples PIDS (a comma list; perf follows the processes they
# fork) into results/NAME.data.
perf_while() {
    local name=$1 pids=$2 secs=$3 perf_pid
    shift 3
    perf record -q -g -F 999 -p "$pids" -o "$res/$name.data" -- sleep "$((secs + 2))" >/dev/null 2>&1 &
    perf_pid=$!
    sleep 0.5
    "$@"
    wait "$perf_pid" || true
}

# postmaster_pids: the postmaster and its children, for perf_while.
postmaster_pids() { descendants "$(head -n1 "$AGORA_PG_DATA/postmaster.pid")" | paste -sd, -; }

# perf_report DATA TITLE: the share by program and the hottest functions.
perf_report() {
    set +o pipefail  # head closes perf's pipe early
    printf '%s\n' "$2"
    printf '\n== share of samples by program\n'
    perf report -i "$1" --no-children --sort comm --stdio -g none 2>/dev/null | grep -E '^ +[0-9]'
    printf '\n== hottest functions (self)\n'
    perf report -i "$1" --no-children --sort comm,dso,sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -n 40
    printf '\n== PostgreSQL, inclusive (with callees), top entries\n'
    perf report -i "$1" --children --comm postgres --sort sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -n 50
    set -o pipefail
}

# --- One backend's CPU per ingest, in scratch databases (bench/stats_cpu.sh,
# bench/alerts_cpu.sh). Each database of a running stack's cluster
# (AGORA_VAR) gets the migrations up to some number and one organization,
# project, workflow and owner; one psql session then runs N M-sized ingests
# in it, and the figure is that backend's CPU time (/proc/PID/schedstat)
# per ingest, which other work on the machine moves far less than
# wall time. The databases alternate, round after round, so a change in
# the machine's load hits all alike.

scratch_org=00000000-0000-4000-8000-0000000000c1 scratch_project=00000000-0000-4000-8000-0000000000c2
scratch_workflow=00000000-0000-4000-8000-0000000000c3 scratch_user=00000000-0000-4000-8000-0000000000c4

# scratch_init: the cluster's settings, and $tmp, a directory removed on exit
# with the databases scratch_db made.
scratch_init() {
    : "${AGORA_VAR:?set AGORA_VAR to the var directory of a running stack}"
    # shellcheck source=/dev/null
    . "$AGORA_VAR/env"
    export PGPASSFILE=$AGORA_VAR/secrets/pgpass PGOPTIONS="-c client_min_messages=warning"
    tmp=$(mktemp -d)
    scratch_dbs=()
    trap scratch_cleanup EXIT
    trap 'exit 130' INT TERM
}
scratch_cleanup() {
    local rc=$? db
    for db in "${scratch_dbs[@]}"; do scratch_sql agora -c "DROP DATABASE IF EXISTS $db" >/dev/null || true; done
    rm -rf "$tmp"
    exit "$rc"
}
scratch_url() { printf '%s' "${AGORA_ADMIN_DATABASE_URL/dbname=agora/dbname=$1}"; }
# scratch_sql DB ARGS...: psql as the superuser in DB.
scratch_sql() { "$AGORA_PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$(scratch_url "$1")" "${@:2}"; }

# scratch_db NAME LAST: a new database NAME with migrations 001..LAST, one
# organization, project and workflow, and scratch_user its owner.
declare -A scratch_last=()
scratch_db() {
    local f
    scratch_sql agora -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    scratch_dbs+=("$1")
    scratch_last[$1]=$((10#$2))
    for f in "$root"/sql/[0-9][0-9][0-9]_*.sql; do
        ((10#$(basename "$f" | cut -c1-3) <= 10#$2)) || continue
        { echo "BEGIN;"; cat "$f"; echo "COMMIT;"; } | scratch_sql "$1" >/dev/null
    done
    scratch_sql "$1" -c "INSERT INTO agora.organizations (id, name, created_by)
            VALUES ('$scratch_org', 'o', '$scratch_user');
        INSERT INTO agora.memberships (organization_id, user_id, role) VALUES ('$scratch_org', '$scratch_user', 'owner');
        INSERT INTO agora.projects (id, organization_id, name) VALUES ('$scratch_project', '$scratch_org', 'p');
        INSERT INTO agora.workflows (id, organization_id, project_id, name)
            VALUES ('$scratch_workflow', '$scratch_org', '$scratch_project', 'w')"
}

# cpu_pid, cpu_mark NAME: the lines of a psql script that note its
# backend's pid, and its time on a CPU so far (ns, /proc/PID/schedstat:
# finer than the 10 ms ticks of /proc/PID/stat) into $tmp/NAME.
cpu_pid() { printf '\\o %s/pid\nSELECT pg_backend_pid();\n\\o\n' "$tmp"; }
cpu_mark() { printf "\\\\! awk '{print \$1}' /proc/\$(cat %s/pid)/schedstat > %s/%s\n" "$tmp" "$tmp" "$1"; }

# cpu_ingest AS: one M-sized ingest, one transaction: an execution, then 20
# node executions of 20 nodes in one statement. In a database migrated to
# sql/025 or later (cpu_db, set by cpu_rounds) the node executions carry
# their run's created_at, read from its row in the same statement, as the
# ingest does. AS=super: as the
# superuser, plain INSERTs (stats_cpu.sh's recorded figures). AS=app: as
# the workers do it, under agora_app (the session ran SET ROLE agora_app)
# with scratch_user's identity (agora.begin_request), the node executions
# upserted on their client ids (the ingest's ON CONFLICT DO UPDATE, which
# fires the UPDATE statement triggers too).
cpu_ingest() {
    local who="" client="" upsert=""
    local rc="" rcv="" key="client_id"
    if [[ $1 == app ]]; then
        who="SELECT agora.begin_request('$scratch_user', NULL, NULL, NULL);"
        client="client_id, " upsert="gen_random_uuid(), "
    fi
    if ((${scratch_last[${cpu_db:-}]:-0} >= 25)); then
        rc="run_created_at, " rcv="(SELECT e.created_at FROM agora.executions e WHERE e.id = :'eid'), "
        key="client_id, organization_id, run_created_at"
    fi
    cat <<SQL
BEGIN;
$who
INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status, started_at,
    completed_at, duration_ms, input_tokens, output_tokens, cost_usd)
VALUES (gen_random_uuid(), '$scratch_org', '$scratch_project', '$scratch_workflow', 'b', 'success', now(), now(),
    random() * 1000, 100, 50, 0.001)
RETURNING id AS eid \\gset
INSERT INTO agora.node_executions AS t (${rc}organization_id, project_id, execution_id, ${client}node_name, status,
    started_at, prep_duration_ms, exec_duration_ms, post_duration_ms, retry_count, input_tokens, output_tokens,
    cost_usd)
SELECT ${rcv}'$scratch_org', '$scratch_project', :'eid', ${upsert}'node-' || k, 'success', now(), random(),
       random() * 100, random(), 0, 10, 5, 0.0001 FROM generate_series(1, 20) k
SQL
    [[ $1 == app ]] && echo "ON CONFLICT ($key) WHERE client_id IS NOT NULL DO UPDATE SET status = COALESCE(EXCLUDED.status, t.status)"
    printf ';\nCOMMIT;\n'
}

# cpu_app_script N: a session's commands for cpu_rounds: N ingests as
# agora_app (cpu_ingest app) between two CPU marks.
cpu_app_script() {
    local i
    cpu_pid
    echo "SET ROLE agora_app;"
    cpu_mark t0
    for ((i = 1; i <= $1; i++)); do cpu_ingest app; done
    cpu_mark t1
}

# cpu_rounds ROUNDS N DB:TITLE...: ROUNDS rounds; in each, every DB in turn
# runs the psql script the caller's function `script DB` prints (which
# marks t0 and t1 around its N ingests). Prints a Markdown table: the
# backend's CPU ms per ingest, a row per round, their mean and median (a
# busy machine's outliers move the mean).
cpu_rounds() {
    local rounds=$1 n=$2 r d db row ms head="| round" line="|---"
    local -A sum=() all=()
    shift 2
    for d in "$@"; do head+=" | ${d#*:}"; line+="|---"; done
    printf '%s | load average |\n%s|---|\n' "$head" "$line"
    for ((r = 1; r <= rounds; r++)); do
        row="| $r"
        for d in "$@"; do
            db=${d%%:*} cpu_db=${d%%:*}
            script "$db" >"$tmp/s.sql"
            scratch_sql "$db" -f "$tmp/s.sql" >/dev/null
            ms=$(echo "scale=3; ($(<"$tmp/t1") - $(<"$tmp/t0")) / 1000000 / $n" | bc)
            sum[$db]=$(echo "${sum[$db]:-0} + $ms" | bc)
            all[$db]+="$ms "
            row+=" | $ms"
        done
        echo "$row | $(cut -d' ' -f1-3 /proc/loadavg) |"
    done
    row="| mean"
    for d in "$@"; do row+=" | $(echo "scale=3; ${sum[${d%%:*}]} / $rounds" | bc)"; done
    echo "$row | |"
    row="| median"
    for d in "$@"; do
        row+=" | $(tr ' ' '\n' <<<"${all[${d%%:*}]}" | sed '/^$/d' | sort -n |
                   awk '{v[NR] = $1} END {printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
    done
    echo "$row | |"
}
