#!/usr/bin/env bash
# bench/replication.sh: one primary plus a hot standby (PostgreSQL's own
# streaming replication; README "Read replicas and failover"), measured in
# one command: what reads gain from the standby, what synchronous
# replication costs an ingest, and what a failover loses in each mode.
#
#   bench/replication.sh            full run (about 10 minutes on 2 cores)
#   bench/replication.sh --quick    smoke run: short phases, one failover per mode
#   options: --keep                 leave the stack running afterwards
#
# It starts its own stack (bench/lib.sh) and a standby of its cluster made
# with pg_basebackup (as tests/integration/test_failover.py does), on a
# port, socket and data directory of its own under the stack's /tmp dir.
#
# Phases:
#   1. reads, concurrency 8 through nginx+TLS (wrk with a list of paths):
#      list pages (GET /api/executions, with and without filters) and
#      single-execution reads (GET /api/executions/{id}) of M runs, half
#      and half, over SEED bulk-loaded executions plus the M ones; the
#      workers restarted with AGORA_READ_DATABASE_URL on the standby, then
#      without (primary only), alternating SEGS x SEG_S s (each first in
#      turn), once the primary's WAL stands still. The standby's own
#      scan count says the reads ran there; the primary's WAL written
#      meanwhile is what a standby read may wait to see replayed.
#   2. ingest of M payloads, concurrency 8: asynchronous replication
#      against synchronous (synchronous_standby_names naming the standby),
#      alternating SEGS x SEG_S s; with the WAL bytes per stored ingest.
#   3. failover, TRIALS times in each mode: a fresh standby, the workers on
#      a multi-host target_session_attrs=read-write string, 8 retrying
#      clients ingesting M payloads (bench/failover.py); the primary killed
#      (pg_ctl stop -m immediate), the standby promoted; the seconds from
#      the kill to the first acknowledged ingest sent after it, and the
#      acknowledged ingests missing on the promoted server. The old primary
#      is then started again (crash recovery) for the next trial.
# Prints the figures as Markdown; BENCHMARKS.md has the recorded ones.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options 2,35 -- "$@"
if [[ $mode == full ]]; then
    SEED=100000 SEED_S=10 SEGS=3 SEG_S=10 TRIALS=3 FO_BEFORE_S=5
else
    SEED=10000 SEED_S=3 SEGS=1 SEG_S=5 TRIALS=1 FO_BEFORE_S=3
fi
APP=agora_standby  # the standby's application_name, named by synchronous_standby_names

bench_tools
bench_stack_start
bench_facts "replication $mode"

standby_n=0 sb=''
repl_cleanup() {
    local rc=$?
    standby_remove || true
    set +e
    (exit "$rc")  # bench_cleanup exits with the status it finds in $?
    bench_cleanup
}
trap repl_cleanup EXIT

# pg_as PROGRAM ARGS...: a PostgreSQL program as the server's OS user.
pg_as() {
    local cmd=("$AGORA_PG_BINDIR/$1" "${@:2}")
    if [[ $(id -u) -eq 0 ]]; then cmd=(runuser -u postgres -- "${cmd[@]}"); fi
    (cd / && "${cmd[@]}")
}

# conninfo_value URL KEY: KEY's value in a key=value connection string.
conninfo_value() { sed -nE "s/(^|.* )$2=([^ ]+).*/\2/p" <<<"$1"; }

primary_sock=$(conninfo_value "$AGORA_ADMIN_DATABASE_URL" host)
primary_port=$(conninfo_value "$AGORA_ADMIN_DATABASE_URL" port)
app_pass=$(conninfo_value "$AGORA_DATABASE_URL" passfile)
primary_url=$AGORA_DATABASE_URL
(umask 077 && printf '%s\n' "$token" >"$bv/token")

# standby_create: a hot standby of the stack's cluster in $sb (data, sock,
# log), on port $sb_port, streaming asynchronously.
standby_create() {
    standby_n=$((standby_n + 1))
    sb=$bv/standby-$standby_n
    sb_port=$(free_port)
    mkdir -p "$sb/sock"
    (umask 077 && printf '*:*:*:agora_super:%s\n' "$(<"$AGORA_VAR/secrets/pg_super_password")" >"$sb/pgpass")
    if [[ $(id -u) -eq 0 ]]; then
        # The server runs as postgres; the workers' user reaches the socket
        # through the group of the directories above it.
        chown postgres:"${AGORA_WORKERS_USER:-agora}" "$sb" "$sb/sock"
        chmod 0710 "$sb" "$sb/sock"
        chown postgres:postgres "$sb/pgpass"
    fi
    pg_as pg_basebackup -D "$sb/data" -R -X stream -c fast \
        -d "host=$primary_sock port=$primary_port user=agora_super passfile=$sb/pgpass application_name=$APP" \
        >"$res/standby-$standby_n-basebackup.log" 2>&1 || die "pg_basebackup failed: $(tail -n 5 "$res/standby-$standby_n-basebackup.log")"
    # The copy names the primary's port and socket: its own instead.
    printf "listen_addresses = ''\nport = %s\nunix_socket_directories = '%s'\nunix_socket_permissions = %s\n" \
        "$sb_port" "$sb/sock" "$([[ $(id -u) -eq 0 ]] && echo 0777 || echo 0700)" >"$sb/data/agora.conf"
    [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$sb/data/agora.conf"
    pg_as pg_ctl -D "$sb/data" -l "$sb/postgresql.log" -w -t 60 start >/dev/null ||
        die "the standby did not start: $(tail -n 5 "$sb/postgresql.log")"
    sb_super="host=$sb/sock port=$sb_port dbname=agora user=agora_super passfile=$AGORA_VAR/secrets/pgpass"
    sb_app="host=$sb/sock port=$sb_port dbname=agora user=agora_app passfile=$app_pass"
}

standby_remove() {
    [[ -n $sb && -d $sb ]] || return 0
    if [[ -f $sb/data/postmaster.pid ]]; then
        pg_as pg_ctl -D "$sb/data" -w -t 60 stop -m immediate >/dev/null 2>&1 || true
    fi
    rm -rf "$sb"
}

psql_standby() { "$AGORA_PG_BINDIR/psql" -XAtq -v ON_ERROR_STOP=1 -d "$sb_super" "$@"; }

# replication async|sync: synchronous_standby_names on the primary, and
# wait until the standby streams in that mode.
replication() {
    if [[ $1 == sync ]]; then
        psql_super -c "ALTER SYSTEM SET synchronous_standby_names = '$APP'" -c "SELECT pg_reload_conf()" >/dev/null
    else
        psql_super -c "ALTER SYSTEM RESET synchronous_standby_names" -c "SELECT pg_reload_conf()" >/dev/null
    fi
    local i
    for ((i = 0; i < 300; i++)); do
        [[ $(psql_super -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$APP'") == "$1" ]] &&
            return 0
        sleep 0.1
    done
    die "the standby never became $1"
}

# workers_restart URL [READ_URL]: the workers on URL, with READ_URL as
# their standby for the read routes (none when absent).
workers_restart() {
    "$root/fcgi/agora-workers" stop >/dev/null
    if [[ -n ${2:-} ]]; then
        AGORA_DATABASE_URL=$1 AGORA_READ_DATABASE_URL=$2 "$root/fcgi/agora-workers" start >/dev/null
    else
        AGORA_DATABASE_URL=$1 "$root/fcgi/agora-workers" start >/dev/null
    fi
    local i
    for ((i = 0; i < 100; i++)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$AGORA_TLS_CERT" "$base/api/health") == 200 ]] && return 0
        sleep 0.2
    done
    die "the workers did not come back"
}

standby_scans() {
    psql_standby -c "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables
                     WHERE schemaname = 'agora' AND relname = 'executions'"
}

wal_lsn() { psql_super -c "SELECT pg_current_wal_lsn()"; }

# standby_caught_up: waits until the standby has replayed the primary's
# current WAL position.
standby_caught_up() {
    local lsn i
    lsn=$(wal_lsn)
    for ((i = 0; i < 600; i++)); do
        [[ $(psql_standby -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'") == t ]] && return 0
        sleep 0.1
    done
    die "the standby did not catch up with $lsn"
}

standby_create
replication async

# ---------------------------------------------------------------- 1. reads

say "seeding: $SEED bulk executions, ${SEED_S}s of M ingests"
psql_super -v org="$org" -v project="$project" -v workflow="$workflow" -v n="$SEED" -v seed=0 \
    -f "$bench/bulk.sql" >/dev/null
wrk_run seed 8 "$SEED_S" "$base/api/executions/ingest" auth=1 body="$(bodies M)"
# Vacuumed now, so autovacuum does not write WAL (which the standby must
# replay before each read) during the read phase.
psql_super -c "VACUUM (FREEZE, ANALYZE)" -c "CHECKPOINT" >/dev/null
# Half list pages, half single runs: 8 list variants, 8 runs, interleaved.
{
    psql_super -c "SELECT id FROM agora.executions WHERE session_id LIKE 'bench-M-%' ORDER BY random() LIMIT 8" |
        sed 's|^|/api/executions/|' >"$bv/singles"
    printf '%s\n' "/api/executions" "/api/executions?limit=20" "/api/executions?workflow_id=$workflow&limit=50" \
        "/api/executions?project_id=$project" "/api/executions?status=error&limit=20" \
        "/api/executions?workflow_id=$workflow&status=success" "/api/executions?limit=100" \
        "/api/executions?project_id=$project&status=cancelled&limit=50" >"$bv/lists"
    paste -d'\n' "$bv/lists" "$bv/singles"
} >"$bv/read-paths"
while read -r p; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$AGORA_TLS_CERT" -H @"$bv/auth-header" "$base$p")
    [[ $code == 200 ]] || die "GET $p answered $code"
done <"$bv/read-paths"

# The bulk load and its vacuum leave the primary writing WAL for a while
# (a standby read waits for its replay): phase 1 starts once the primary's
# WAL position has stood still for 2 s (at most 120 s).
quiet_t0=$SECONDS
while l0=$(wal_lsn); sleep 2; [[ $(wal_lsn) != "$l0" ]] && ((SECONDS - quiet_t0 < 120)); do :; done
say "the primary's WAL stood still after $((SECONDS - quiet_t0)) s"
printf '{"wal_quiet_after_s":%d}\n' $((SECONDS - quiet_t0)) >"$res/wal-quiet.json"

say "1. reads (lists and single runs), concurrency 8: standby vs primary only, ${SEGS} x (${SEG_S}s + ${SEG_S}s)"
for ((k = 1; k <= SEGS; k++)); do
    order=(standby primary)
    ((k % 2)) || order=(primary standby)  # each goes first in turn
    for m in "${order[@]}"; do
        if [[ $m == standby ]]; then workers_restart "$primary_url" "$sb_app"; else workers_restart "$primary_url"; fi
        wrk -t2 -c8 -d2s -s "$bench/wrk.lua" "$base/" -- auth=1 paths="$bv/read-paths" >/dev/null 2>&1  # warm-up
        standby_caught_up
        s0=$(standby_scans) l0=$(wal_lsn)
        wrk_run "reads-$m-$k" 8 "$SEG_S" "$base/" auth=1 paths="$bv/read-paths"
        # WAL the primary wrote meanwhile: each read on the standby waits
        # until the standby has replayed it.
        wal=$(psql_super -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$l0')::bigint")
        sleep 1  # the standby's statistics reach the view within its flush interval
        jq --argjson s "$(($(standby_scans) - s0))" --argjson w "$wal" '. + {standby_scans: $s, primary_wal_bytes: $w}' \
            "$res/reads-$m-$k.json" \
            >"$res/reads-$m-$k.tmp" && mv "$res/reads-$m-$k.tmp" "$res/reads-$m-$k.json"
    done
done
workers_restart "$primary_url"

# ---------------------------------------------------------------- 2. ingest

say "2. M ingests, concurrency 8: asynchronous vs synchronous replication, ${SEGS} x (${SEG_S}s + ${SEG_S}s)"
for ((k = 1; k <= SEGS; k++)); do
    for m in async sync; do
        replication "$m"
        n0=$(count_executions) l0=$(wal_lsn)
        wrk_run "ingest-$m-$k" 8 "$SEG_S" "$base/api/executions/ingest" auth=1 body="$(bodies M)"
        n1=$(count_executions)
        wal=$(psql_super -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$l0')::bigint")
        jq --argjson st $((n1 - n0)) --argjson w "$wal" '. + {stored: $st, wal_bytes: $w}' "$res/ingest-$m-$k.json" \
            >"$res/ingest-$m-$k.tmp" && mv "$res/ingest-$m-$k.tmp" "$res/ingest-$m-$k.json"
    done
done
replication async
standby_remove

# ---------------------------------------------------------------- 3. failover

primary_start() {
    [[ -f $AGORA_PG_DATA/postmaster.pid ]] && return 0
    pg_as pg_ctl -D "$AGORA_PG_DATA" -w -t 120 start >>"$AGORA_VAR/log/postgresql.log" 2>&1 ||
        die "the primary did not start again"
}

say "3. failover under M ingests (8 retrying clients), $TRIALS per mode"
for ((k = 1; k <= TRIALS; k++)); do
    for m in sync async; do
        primary_start
        psql_super -c "ALTER SYSTEM RESET synchronous_standby_names" -c "SELECT pg_reload_conf()" >/dev/null
        standby_create
        replication "$m"
        multi="host=$primary_sock,$sb/sock port=$primary_port,$sb_port dbname=agora user=agora_app"
        multi+=" passfile=$app_pass target_session_attrs=read-write"
        workers_restart "$multi"
        su=()
        [[ $(id -u) -ne 0 ]] || su=(runuser -u postgres --)
        printf -v kill_cmd '%q ' "${su[@]}" "$AGORA_PG_BINDIR/pg_ctl" -D "$AGORA_PG_DATA" -w -t 60 stop -m immediate
        printf -v promote_cmd '%q ' "${su[@]}" "$AGORA_PG_BINDIR/pg_ctl" -D "$sb/data" -w -t 60 promote
        tag=fo-$m-$k
        say "   $m $k: killing the primary after ${FO_BEFORE_S}s"
        (cd / && python3 "$bench/failover.py" "$base" "$AGORA_TLS_CERT" "$bv/token" "$pay/M-0.json" "$tag" 8 \
            "$FO_BEFORE_S" 2 "$kill_cmd" "$promote_cmd" "$res/failover-$m-$k.acked") >"$res/failover-$m-$k.run.json" ||
            die "failover $m $k failed"
        [[ $(psql_standby -c "SELECT pg_is_in_recovery()") == f ]] || die "the standby was not promoted"
        psql_standby -c "SELECT session_id FROM agora.executions WHERE session_id LIKE '$tag-%'" | sort -u >"$res/failover-$m-$k.stored"
        sort -u "$res/failover-$m-$k.acked" >"$res/failover-$m-$k.acked.sorted"
        missing=$(comm -23 "$res/failover-$m-$k.acked.sorted" "$res/failover-$m-$k.stored" | wc -l)
        jq --argjson miss "$missing" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
            '. + {missing: $miss, load: $load}' "$res/failover-$m-$k.run.json" >"$res/failover-$m-$k.json"
        say "   $m $k: $(cat "$res/failover-$m-$k.json")"
        standby_remove
    done
done
primary_start
workers_restart "$primary_url"
bench_facts_end

say "report"
python3 - "$res" "$SEGS" "$TRIALS" <<'PY'
import json, sys
res, segs, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda f: json.load(open(f"{res}/{f}.json"))
m = load("machine")
print(f"commit {m.get('commit')}, {m.get('mode')}, load average {m.get('load_start')} at the start, "
      f"{m.get('load_end')} at the end")


def rate(names):
    runs = [load(n) for n in names]
    assert not sum(r["errors_status"] + r["errors_timeout"] for r in runs), f"failed requests in {names}"
    return sum(r["requests"] for r in runs) / sum(r["duration_s"] for r in runs), runs


print()
print("| reads, concurrency 8 | req/s (each segment) | p50 ms | p99 ms | scans on the standby | primary's WAL meanwhile, kB |")
print("|---|---|---|---|---|---|")
for mode, label in (("standby", "workers reading from the standby"), ("primary", "primary only")):
    r, runs = rate([f"reads-{mode}-{k}" for k in range(1, segs + 1)])
    each = ", ".join(f"{x['requests'] / x['duration_s']:.0f}" for x in runs)
    p50 = sorted(x["p50_ms"] for x in runs)[len(runs) // 2]
    p99 = max(x["p99_ms"] for x in runs)
    print(f"| {label} | {r:.0f} ({each}) | {p50:.1f} | {p99:.1f} | {sum(x['standby_scans'] for x in runs)} |"
          f" {sum(x['primary_wal_bytes'] for x in runs) / 1024:.0f} |")
print()
print("| M ingests, concurrency 8 | req/s (each segment) | p50 ms | p99 ms | WAL kB per ingest |")
print("|---|---|---|---|---|")
for mode in ("async", "sync"):
    r, runs = rate([f"ingest-{mode}-{k}" for k in range(1, segs + 1)])
    each = ", ".join(f"{x['requests'] / x['duration_s']:.0f}" for x in runs)
    p50 = sorted(x["p50_ms"] for x in runs)[len(runs) // 2]
    p99 = max(x["p99_ms"] for x in runs)
    wal = sum(x["wal_bytes"] for x in runs) / max(1, sum(x["stored"] for x in runs)) / 1024
    print(f"| {mode}hronous | {r:.0f} ({each}) | {p50:.1f} | {p99:.1f} | {wal:.0f} |")
print()
print("| failover | trial | acknowledged (before the kill) | kill s | promote s | kill -> first ack s |"
      " answers | transport errors | acknowledged, missing after promotion |")
print("|---|---|---|---|---|---|---|---|---|")
for mode in ("sync", "async"):
    for k in range(1, trials + 1):
        f = load(f"failover-{mode}-{k}")
        answers = ", ".join(f"{s}: {n}" for s, n in f["statuses"].items())
        print(f"| {mode}hronous | {k} | {f['acknowledged']} ({f['acknowledged_before_kill']}) | {f['kill_s']} |"
              f" {f['promote_s']} | {f['first_success_s']} | {answers} | {f['transport_errors']} | {f['missing']} |")
PY
