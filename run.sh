#!/usr/bin/env bash
# run.sh: runs Agora Cloud on this machine.
#
#   ./run.sh [start]   install what is missing, build, start PostgreSQL, the
#                      workers and nginx; print the URL and a demo token
#   ./run.sh stop      stop what run.sh started (by pid file); quiet if none
#   ./run.sh status    report each part; exit 0 when all run, 3 otherwise
#
# All state lives under AGORA_VAR (default ./var; layout in docs/DESIGN.md).
# Settings (environment; defaults in brackets): AGORA_VAR, AGORA_HTTPS_PORT
# [8443], AGORA_HTTP_PORT [8080], AGORA_LISTEN [127.0.0.1], AGORA_SERVER_NAME
# [localhost, the name in URLs and the HTTP redirect], AGORA_WORKERS
# [nproc], AGORA_PG_PORT [54329, names the unix socket only],
# AGORA_MAX_BODY_BYTES [16777216], AGORA_JWT_SECRET [var/secrets/jwt_secret,
# made once], AGORA_JWT_ALG, AGORA_JWT_AUDIENCE, AGORA_JWT_ISSUER,
# AGORA_JWT_PUBLIC_KEY_FILE and AGORA_JWT_PRIVATE_KEY_FILE (RS256/ES256: the
# private key signs the demo token; without it none is printed),
# AGORA_LIVE_REPLAY_SECONDS [300], AGORA_LIVE_SUBSCRIPTION_SECONDS [600] and
# AGORA_LIVE_BATCH_MS [500] (live monitoring, docs/LIVE.md), and for alerts
# AGORA_WEBHOOK_ALLOW [none], AGORA_WEBHOOK_ALLOW_HTTP [off] and agora-alerts'
# AGORA_ALERTS_* (README "Alerts"), AGORA_RETENTION_EVERY [3600] (seconds
# between retention jobs, README "Retention").
#
# PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the
# `postgres` OS user, which owns var/pg. When that user cannot reach var/
# (a repository under /root, say), the cluster lives in
# /var/tmp/agora-pg-<hash of AGORA_VAR> and var/pg is a symlink to it.
# As root, the FastCGI workers run as the system user `agora` (made when
# missing) and nginx's workers as `www-data`; only nginx's master stays root
# (ports, certificate key). When those users cannot reach the repository or
# var/ (a repository under /root again), run.sh says so and runs them as
# root as before.
#
# Secrets are never printed, never passed on a command line; the only one
# shown is the demo user's development token at the end.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
caller_pwd=$PWD
cd "$root"

BUILD_PKGS=(autoconf automake libtool pkg-config gcc make libfcgi-dev libjson-c-dev
            libpq-dev libjwt-dev libssl-dev libcriterion-dev libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev)
RUN_PKGS=(postgresql nginx libnginx-mod-nchan spawn-fcgi openssl curl jq)
# The viewer's browser libraries come from npm (package-lock.json): Debian's
# node and npm, unless a node with npm is already installed.
VIEWER_PKGS=()
command -v npm >/dev/null 2>&1 || VIEWER_PKGS=(nodejs npm)
# The demo execution run.sh uploads once (fixed id), opened by the sign-in link.
DEMO_EXECUTION=5e7a1c00-de00-4000-8000-000000000001

say() { printf '%s\n' "$*"; }
warn() { printf 'run.sh: %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# ---------------------------------------------------------------- settings

var=$(cd "$caller_pwd" && realpath -ms -- "${AGORA_VAR:-$root/var}")
# Paths end up in nginx.conf, libpq conninfo strings and sed replacements:
# keep them to characters that need no quoting anywhere.
for p in "$var" "$root"; do
    [[ $p =~ ^[A-Za-z0-9._/+@,~-]+$ ]] ||
        die "path '$p' has characters run.sh does not support (spaces, quotes, ...); set AGORA_VAR to a plain path"
done
https_port=${AGORA_HTTPS_PORT:-8443}
http_port=${AGORA_HTTP_PORT:-8080}
pg_port=${AGORA_PG_PORT:-54329}
listen=${AGORA_LISTEN:-127.0.0.1}
server_name=${AGORA_SERVER_NAME:-localhost}
workers=${AGORA_WORKERS:-$(nproc)}
max_body=${AGORA_MAX_BODY_BYTES:-16777216}

secrets=$var/secrets
logdir=$var/log
rundir=$var/run
pg_log=$logdir/postgresql.log
nginx_conf=$var/nginx/nginx.conf
nginx_pidfile=$rundir/nginx.pid
workers_pidfile=$rundir/workers.pid
live_pidfile=$rundir/live.pid
alerts_pidfile=$rundir/alerts.pid
retention_pidfile=$rundir/retention.pid
# agora-live's socket to nginx's publisher, in a directory of its own that
# only nginx's master (root or the user) and agora-live's user reach.
live_dir=$rundir/live
live_sock=$live_dir/live-pub.sock
live_replay=${AGORA_LIVE_REPLAY_SECONDS:-300}
live_sub_seconds=${AGORA_LIVE_SUBSCRIPTION_SECONDS:-600}
nchan_module=/usr/lib/nginx/modules/ngx_nchan_module.so
sock=$rundir/agora.sock
pgpass=$secrets/pgpass
pgpass_app=$secrets/pgpass_app

check_settings() {
    local name value
    for name in https_port http_port pg_port; do
        value=${!name}
        if [[ ! $value =~ ^[1-9][0-9]{0,4}$ ]] || ((value > 65535)); then
            die "AGORA_${name^^} must be a port number, not '$value'"
        fi
    done
    [[ $https_port != "$http_port" ]] || die "AGORA_HTTPS_PORT and AGORA_HTTP_PORT must differ"
    [[ $workers =~ ^[1-9][0-9]*$ ]] || die "AGORA_WORKERS must be a positive integer, not '$workers'"
    [[ $max_body =~ ^[1-9][0-9]*$ ]] || die "AGORA_MAX_BODY_BYTES must be a positive integer, not '$max_body'"
    [[ $listen =~ ^([0-9.]+|\[[0-9a-fA-F:.]+\]|\*|localhost)$ ]] ||
        die "AGORA_LISTEN must be an IPv4 address, [IPv6] address or *, not '$listen'"
    if [[ -n ${AGORA_JWT_PRIVATE_KEY_FILE:-} ]]; then
        AGORA_JWT_PRIVATE_KEY_FILE=$(cd "$caller_pwd" && realpath -m -- "$AGORA_JWT_PRIVATE_KEY_FILE")
        [[ -f $AGORA_JWT_PRIVATE_KEY_FILE && -r $AGORA_JWT_PRIVATE_KEY_FILE ]] ||
            die "AGORA_JWT_PRIVATE_KEY_FILE: cannot read $AGORA_JWT_PRIVATE_KEY_FILE"
    fi
    # agora-live refuses a bad one too, but under its supervisor that is a
    # restart loop in live.log: say it here, before anything starts.
    if [[ -n ${AGORA_LIVE_BATCH_MS:-} ]] && { [[ ! $AGORA_LIVE_BATCH_MS =~ ^[0-9]{1,4}$ ]] ||
        ((10#$AGORA_LIVE_BATCH_MS > 1000)); }; then
        die "AGORA_LIVE_BATCH_MS must be a whole number from 0 to 1000, not '$AGORA_LIVE_BATCH_MS'"
    fi
    [[ ${#server_name} -le 253 && $server_name =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] ||
        die "AGORA_SERVER_NAME must be a host name or IPv4 address, not '$server_name'"
}

# Where to reach nginx from here, for the health check.
probe_host() {
    case $listen in
        '*' | 0.0.0.0 | localhost) printf '127.0.0.1' ;;
        '[::]') printf '[::1]' ;;
        *) printf '%s' "$listen" ;;
    esac
}

# saved NAME DEFAULT: NAME's value in var/env (what the running stack uses),
# else DEFAULT.
saved() {
    local line
    line=$(grep -m 1 "^export $1=" "$var/env" 2>/dev/null) || { printf '%s' "$2"; return; }
    line=${line#*=}
    line=${line#\'}
    printf '%s' "${line%\'}"
}

# ---------------------------------------------------------------- processes

# live PID: the process exists and is not a zombie waiting to be reaped.
live() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# alive PID COMM: the process is live and is called COMM.
alive() {
    local comm
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
    [[ $comm == "$2" ]] && live "$1"
}

# pid_from FILE COMM: prints the pid when FILE names a live COMM.
pid_from() {
    local pid
    [[ -r $1 ]] || return 1
    pid=$(head -n 1 "$1" 2>/dev/null | tr -dc '0-9')
    alive "$pid" "$2" || return 1
    printf '%s' "$pid"
}

pg_data_dir() { printf '%s/pg/data' "$var"; }
pg_pid() { pid_from "$(pg_data_dir)/postmaster.pid" postgres; }
nginx_pid() { pid_from "$nginx_pidfile" nginx; }
workers_pid() { pid_from "$workers_pidfile" agora-supervise; }
live_pid() { pid_from "$live_pidfile" agora-supervise; }
alerts_pid() { pid_from "$alerts_pidfile" agora-supervise; }
retention_pid() { pid_from "$retention_pidfile" agora-supervise; }

# children_count PID: how many processes PID is the parent of.
children_count() {
    local stat rest n=0
    for stat in /proc/[0-9]*/stat; do
        { read -r _ rest <"$stat"; } 2>/dev/null || continue
        rest=${rest##*) }
        [[ ${rest#* } == "$1 "* ]] && n=$((n + 1))
    done
    printf '%d' "$n"
}

# Waits up to 10 s for PID to go, then SIGKILLs it.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        live "$pid" || return 0
        sleep 0.1
    done
    warn "pid $pid still running after 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- packages

missing_packages() {
    local p
    for p in "$@"; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] ||
            printf '%s\n' "$p"
    done
}

ensure_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    ((${#missing[@]})) || return 0
    if ! is_root; then
        die "missing Debian packages: ${missing[*]}
  install them as root, then run again:
    apt-get update && apt-get install -y ${missing[*]}"
    fi
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || die "apt-get update failed"
    apt-get install -y -q "${missing[@]}" || die "apt-get install failed"
}

# ---------------------------------------------------------------- build

build() {
    local log=$logdir/build.log
    : >"$log"
    if [[ ! -x configure ]]; then
        say "build: autoreconf -fi"
        autoreconf -fi >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "autoreconf failed (log: $log)"; }
    fi
    if [[ ! -f Makefile ]]; then
        say "build: ./configure"
        ./configure >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "configure failed (log: $log)"; }
    fi
    make -j2 >>"$log" 2>&1 || { tail -n 40 "$log" >&2; die "make failed (log: $log)"; }
    [[ -x agora-worker && -x agora-admin && -x agora-supervise ]] ||
        die "make did not produce agora-worker, agora-admin and agora-supervise"
}

# The viewer's third-party files: npm ci when package-lock.json is newer than
# what node_modules holds, then nginx/vendor.sh copies them to nginx/www/vendor.
viewer_assets() {
    local log=$logdir/npm.log
    if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
        say "viewer: npm ci"
        npm ci --no-audit --no-fund >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "npm ci failed (log: $log)"; }
    fi
    sh nginx/vendor.sh || die "nginx/vendor.sh failed"
}

# ---------------------------------------------------------------- users

# Who runs the FastCGI workers and nginx's workers: set by setup_users as
# root, empty otherwise (the invoking user runs everything).
worker_user=
nginx_user=

# runs_as USER TEST-ARGS...: test(1) as USER.
runs_as() { (cd / && runuser -u "$1" -- test "${@:2}") 2>/dev/null; }

setup_users() {
    local group_opt=(--user-group)
    is_root || return 0
    if ! id -u agora >/dev/null 2>&1; then
        say "users: creating the system user agora (runs the FastCGI workers)"
        getent group agora >/dev/null && group_opt=(-g agora)
        useradd --system "${group_opt[@]}" --home-dir / --no-create-home --shell /usr/sbin/nologin \
            --comment "Agora Cloud workers" agora || die "useradd agora failed"
    fi
    id -u www-data >/dev/null 2>&1 || die "there is no user www-data (Debian's nginx runs as it)"
    # var/ and the directories the workers' sockets live in: traversable.
    chmod 755 "$var" "$rundir" "$logdir" "$var/nginx"
    if ! runs_as agora -x "$root/agora-worker" -a -x "$root/agora-supervise" -a -x "$rundir" ||
        ! runs_as www-data -r "$root/nginx/www/index.html" -a -r "$root/nginx/errors/unavailable.json" \
            -a -x "$rundir"; then
        warn "the users agora and www-data cannot reach $root or $var: the FastCGI workers and nginx's workers run as root (put the repository and AGORA_VAR where other users can traverse, e.g. under /srv, to run them unprivileged)"
        return 0
    fi
    worker_user=agora
    nginx_user=www-data
}

# ---------------------------------------------------------------- secrets

# make_secret NAME COMMAND...: var/secrets/NAME from COMMAND's output, once.
# Stored without a trailing newline.
make_secret() {
    local file=$secrets/$1 value
    shift
    [[ -s $file ]] && return 0
    value=$("$@") || die "could not generate $file"
    (umask 077 && printf '%s' "$value" >"$file.tmp") && mv "$file.tmp" "$file"
}

# With a worker user, it reads (and only it): the directory (0710, group
# agora), jwt_secret (0640, group agora) and pgpass_app (its own, 0600:
# libpq wants no group access). pgpass, with the superuser's password,
# stays root's.
setup_secrets() {
    mkdir -p "$secrets"
    chmod 700 "$secrets"
    make_secret pg_super_password openssl rand -hex 24
    make_secret pg_app_password openssl rand -hex 24
    make_secret demo_user cat /proc/sys/kernel/random/uuid
    if [[ -n ${AGORA_JWT_SECRET:-} ]]; then
        unset AGORA_JWT_SECRET_FILE  # the environment's secret wins, alone
    else
        make_secret jwt_secret openssl rand -hex 32
    fi
    # Passwords for libpq, any socket, port and database: both in pgpass
    # (run.sh, agora-admin), the app's alone in pgpass_app (the workers).
    (umask 077 && printf '*:*:*:agora_super:%s\n*:*:*:agora_app:%s\n' \
        "$(<"$secrets/pg_super_password")" "$(<"$secrets/pg_app_password")" >"$pgpass.tmp")
    mv "$pgpass.tmp" "$pgpass"
    (umask 077 && printf '*:*:*:agora_app:%s\n' "$(<"$secrets/pg_app_password")" >"$pgpass_app.tmp")
    mv "$pgpass_app.tmp" "$pgpass_app"
    if [[ -n $worker_user ]]; then
        chown "$worker_user:" "$pgpass_app"
        chgrp "$worker_user" "$secrets"
        chmod 710 "$secrets"
        if [[ -f $secrets/jwt_secret ]]; then
            chgrp "$worker_user" "$secrets/jwt_secret"
            chmod 640 "$secrets/jwt_secret"
        fi
    fi
}

# ---------------------------------------------------------------- postgres

pg_bindir() {
    local d
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    [[ -n $d && -x $d/initdb ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install -y postgresql)"
    printf '%s' "$d"
}

# Runs a PostgreSQL server program: as the postgres OS user when we are root.
pg_as() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

own_pg() { if is_root; then chown postgres:postgres "$@"; fi; }

# Creates var/pg (or its /var/tmp home) so that whoever runs the server owns it.
setup_pg_dir() {
    local link=$var/pg target
    if [[ -L $link && ! -d $link ]]; then
        warn "var/pg pointed to $(readlink "$link"), which is gone: making a new cluster"
        rm -f "$link"
    fi
    if [[ ! -e $link ]]; then
        if ! is_root; then
            mkdir -m 700 "$link"
        elif runs_as postgres -x "$var"; then
            mkdir -m 700 "$link"
            chown postgres:postgres "$link"
        else
            target=/var/tmp/agora-pg-$(printf '%s' "$var" | sha256sum | cut -c1-16)
            if [[ -e $target ]]; then
                if pid_from "$target/data/postmaster.pid" postgres >/dev/null; then
                    die "$target holds a running cluster of a deleted $var: stop it first"
                fi
                rm -rf "$target"  # left over from an earlier var/ that was removed
            fi
            mkdir -m 700 "$target"
            chown postgres:postgres "$target"
            ln -s "$target" "$link"
            say "postgres: the postgres user cannot reach $var; cluster in $target"
        fi
    fi
    pg_real=$(readlink -f "$link")
    mkdir -p "$pg_real/sock"
    own_pg "$pg_real/sock"
    # The workers' user reaches the socket through the group of the two
    # directories above it (0710); the data directory stays 0700.
    if [[ -n $worker_user ]]; then
        chgrp "$worker_user" "$pg_real" "$pg_real/sock"
        chmod 710 "$pg_real" "$pg_real/sock"
    else
        chmod 700 "$pg_real" "$pg_real/sock"
    fi
}

# The settings run.sh owns, rewritten on every start (port may change).
# With a worker user the socket is 0777: the directory (0710, group agora)
# is what keeps other users out (the postgres user may not give the socket
# a group it is not in), and every role needs its password anyway.
write_pg_conf() {
    local data=$pg_real/data conf perms=0700
    [[ -z $worker_user ]] || perms=0777
    conf=$(printf '%s\n' \
        "# Written by run.sh on every start; edit run.sh, not this file." \
        "listen_addresses = ''" \
        "port = $pg_port" \
        "unix_socket_directories = '$pg_real/sock'" \
        "unix_socket_permissions = $perms")
    printf '%s\n' "$conf" >"$data/agora.conf"
    own_pg "$data/agora.conf"
    grep -qx "include_if_exists = 'agora.conf'" "$data/postgresql.conf" ||
        printf "\ninclude_if_exists = 'agora.conf'\n" >>"$data/postgresql.conf"
}

init_cluster() {
    local data=$pg_real/data pwfile=$pg_real/.initdb-pw
    [[ -f $data/PG_VERSION ]] && return 0
    say "postgres: initdb (superuser agora_super)"
    rm -rf "$data"
    # initdb reads the superuser's password from a file it can open: a
    # short-lived copy next to the cluster, owned by whoever runs initdb.
    (umask 077 && printf '%s\n' "$(<"$secrets/pg_super_password")" >"$pwfile")
    own_pg "$pwfile"
    if ! pg_as "$pg_bin/initdb" -D "$data" -U agora_super --auth-local=scram-sha-256 \
            --auth-host=scram-sha-256 --pwfile="$pwfile" -E UTF8 --no-locale \
            >>"$pg_log" 2>&1; then
        rm -f "$pwfile"
        rm -rf "$data"
        tail -n 20 "$pg_log" >&2
        die "initdb failed (log: $pg_log)"
    fi
    rm -f "$pwfile"
}

start_postgres() {
    local pid
    if pid=$(pg_pid); then
        say "postgres: already running (pid $pid)"
        return 0
    fi
    say "postgres: starting (socket $var/pg/sock, port $pg_port)"
    # The log is opened here, by us, so it can live where the postgres user
    # cannot go; the server inherits the descriptor.
    if ! pg_as "$pg_bin/pg_ctl" -D "$pg_real/data" -w -t 30 start >>"$pg_log" 2>&1; then
        tail -n 20 "$pg_log" >&2
        die "PostgreSQL did not start (log: $pg_log)"
    fi
}

super_url() { printf 'host=%s port=%s dbname=%s user=agora_super passfile=%s' "$var/pg/sock" "$pg_port" "$1" "$pgpass"; }
app_url() { printf 'host=%s port=%s dbname=agora user=agora_app passfile=%s' "$var/pg/sock" "$pg_port" "$pgpass_app"; }

psql_super() { "$pg_bin/psql" -XAtq -v ON_ERROR_STOP=1 -d "$(super_url "$1")"; }

setup_database() {
    local exists
    exists=$(psql_super postgres <<<"SELECT 1 FROM pg_database WHERE datname = 'agora'") ||
        die "cannot connect to PostgreSQL as agora_super (log: $pg_log)"
    if [[ $exists != 1 ]]; then
        say "postgres: creating database agora"
        psql_super postgres <<<"CREATE DATABASE agora" || die "CREATE DATABASE failed"
    fi
    say "migrate: ./agora-admin migrate"
    AGORA_ADMIN_DATABASE_URL=$(super_url agora) ./agora-admin migrate --dir "$root/sql" ||
        die "migrations failed"
    # The workers' role gets its password from the file, through stdin: never
    # on a command line, and kept out of the server log even on error.
    {
        printf '\\set pw %s\n' "'$(<"$secrets/pg_app_password")'"
        printf '%s\n' "SET log_statement = 'none';" \
            "SET log_min_error_statement = 'panic';" \
            "ALTER ROLE agora_app PASSWORD :'pw';"
    } | psql_super agora || die "could not set agora_app's password (does the migration create role agora_app?)"
}

# ---------------------------------------------------------------- settings file

# q VALUE: VALUE in single quotes for the shell.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

write_env() {
    local name
    {
        printf '# Agora Cloud settings written by run.sh (no secret values, only paths).\n'
        printf '# Source it:  . %s/env\n' "$var"
        printf 'export %s=%s\n' \
            AGORA_VAR "$(q "$var")" \
            AGORA_URL "$(q "https://$server_name:$https_port")" \
            AGORA_SERVER_NAME "$(q "$server_name")" \
            AGORA_HTTPS_PORT "$https_port" \
            AGORA_HTTP_PORT "$http_port" \
            AGORA_LISTEN "$(q "$listen")" \
            AGORA_PG_PORT "$pg_port" \
            AGORA_WORKERS "$workers" \
            AGORA_MAX_BODY_BYTES "$max_body" \
            AGORA_DATABASE_URL "$(q "$(app_url)")" \
            AGORA_ADMIN_DATABASE_URL "$(q "$(super_url agora)")" \
            AGORA_SOCKET "$(q "$sock")" \
            AGORA_WORKER_BIN "$(q "$root/agora-worker")" \
            AGORA_WORKERS_PIDFILE "$(q "$workers_pidfile")" \
            AGORA_WORKERS_LOG "$(q "$logdir/workers.log")" \
            AGORA_LIVE_PUBLISH_SOCKET "$(q "$live_sock")" \
            AGORA_METRICS_FILE "$(q "$rundir/metrics")" \
            AGORA_TLS_CERT "$(q "$var/tls/cert.pem")" \
            AGORA_PG_BINDIR "$(q "$pg_bin")" \
            AGORA_PG_DATA "$(q "$pg_real/data")"
        if [[ -n ${AGORA_JWT_SECRET:-} ]]; then
            printf '# The JWT secret came from AGORA_JWT_SECRET in the environment of run.sh.\n'
        else
            printf 'export AGORA_JWT_SECRET_FILE=%s\n' "$(q "$secrets/jwt_secret")"
        fi
        if [[ -n $worker_user ]]; then
            printf 'export %s=%s\n' AGORA_WORKERS_USER "$worker_user" AGORA_SOCKET_GROUP "$nginx_user"
        fi
        for name in AGORA_JWT_ALG AGORA_JWT_AUDIENCE AGORA_JWT_ISSUER AGORA_JWT_PUBLIC_KEY_FILE \
                    AGORA_JWT_PRIVATE_KEY_FILE AGORA_JWT_LEEWAY_SECONDS AGORA_ACCESS_LOG \
                    AGORA_LIVE_REPLAY_SECONDS AGORA_LIVE_TICKET_SECONDS AGORA_LIVE_BATCH_MS AGORA_STALE_MINUTES \
                    AGORA_WEBHOOK_ALLOW AGORA_WEBHOOK_ALLOW_HTTP AGORA_ALERTS_POLL_MS \
                    AGORA_ALERTS_EVALUATE_SECONDS AGORA_ALERTS_RETRY_SECONDS AGORA_ALERTS_TIMEOUT_SECONDS; do
            if [[ -n ${!name:-} ]]; then
                printf 'export %s=%s\n' "$name" "$(q "${!name}")"
            fi
        done
    } >"$var/env.tmp"
    mv "$var/env.tmp" "$var/env"
}

# ---------------------------------------------------------------- TLS, nginx

# The development certificate names localhost, 127.0.0.1 and
# AGORA_SERVER_NAME; made again when it expires within a day or does not
# name the server.
make_cert() {
    local dir=$var/tls san=DNS:localhost,IP:127.0.0.1 check=(-checkhost "$server_name")
    if [[ $server_name =~ ^[0-9.]+$ ]]; then
        check=(-checkip "$server_name")
        [[ $server_name == 127.0.0.1 ]] || san+=",IP:$server_name"
    elif [[ $server_name != localhost ]]; then
        san+=",DNS:$server_name"
    fi
    mkdir -p "$dir"
    if [[ -s $dir/cert.pem && -s $dir/key.pem ]] &&
        openssl x509 -checkend 86400 -noout -in "$dir/cert.pem" >/dev/null 2>&1 &&
        openssl x509 -noout "${check[@]}" -in "$dir/cert.pem" 2>/dev/null | grep -q 'does match'; then
        return 0
    fi
    say "tls: development certificate for $server_name (var/tls/cert.pem)"
    (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$server_name" \
        -addext "subjectAltName=$san" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" >>"$logdir/tls.log" 2>&1) ||
        die "openssl could not make the certificate (log: $logdir/tls.log)"
    chmod 644 "$dir/cert.pem"
}

# sed replacement text: escape \, & and the | delimiter.
sed_esc() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

render_nginx_conf() {
    local user_line='# (not root: nginx runs as the invoking user)'
    if [[ -n $nginx_user ]]; then
        user_line="user $nginx_user;"
    elif is_root; then
        user_line='user root;'
    fi
    mkdir -p "$var/nginx"/{client_body,fastcgi,proxy,uwsgi,scgi}
    sed -e "s|@USER@|$(sed_esc "$user_line")|g" \
        -e "s|@VAR@|$(sed_esc "$var")|g" \
        -e "s|@NGINX_DIR@|$(sed_esc "$root/nginx")|g" \
        -e "s|@WWW@|$(sed_esc "$root/nginx/www")|g" \
        -e "s|@ERRORS@|$(sed_esc "$root/nginx/errors")|g" \
        -e "s|@SOCK@|$(sed_esc "$sock")|g" \
        -e "s|@LISTEN@|$(sed_esc "$listen")|g" \
        -e "s|@SERVER_NAME@|$server_name|g" \
        -e "s|@HTTPS_PORT@|$https_port|g" \
        -e "s|@HTTP_PORT@|$http_port|g" \
        -e "s|@MAX_BODY@|$max_body|g" \
        -e "s|@NCHAN_MODULE@|$(sed_esc "$nchan_module")|g" \
        -e "s|@LIVE_PUB_SOCK@|$(sed_esc "$live_sock")|g" \
        -e "s|@LIVE_REPLAY@|$live_replay|g" \
        -e "s|@LIVE_SUB_SECONDS@|$live_sub_seconds|g" \
        nginx/agora.conf.in >"$nginx_conf.tmp"
    if grep -q '@[A-Z_]*@' "$nginx_conf.tmp"; then
        die "nginx/agora.conf.in has tokens run.sh does not know: $(grep -o '@[A-Z_]*@' "$nginx_conf.tmp" | sort -u | tr '\n' ' ')"
    fi
    mv "$nginx_conf.tmp" "$nginx_conf"
}

# A background program under agora-supervise -S, which starts it again
# should it die; as root it runs as the workers' user. $1 names it in
# messages, $2 is its pid file, $3 its log, the rest its command. It reads
# its settings from the environment (var/env, sourced).
start_supervised() {
    local name=$1 pidfile=$2 log=$3 pid cmd
    shift 3
    if pid=$(pid_from "$pidfile" agora-supervise); then
        say "$name: already running (supervisor pid $pid)"
        return 0
    fi
    cmd=("$root/agora-supervise" -n 1 -S -- "$@")
    touch "$log"
    if [[ -n $worker_user ]]; then
        chown "$worker_user:" "$log"
        cmd=(setpriv --reuid="$worker_user" --regid="$worker_user" --init-groups "${cmd[@]}")
    fi
    setsid "${cmd[@]}" </dev/null >>"$log" 2>&1 &
    printf '%s\n' "$!" >"$pidfile"
}

# The live publisher (src/main/live.c).
start_live() {
    live_pid >/dev/null || say "live: starting the publisher (agora-live -> $live_sock)"
    AGORA_LIVE_PUBLISH_SOCKET=$live_sock start_supervised live "$live_pidfile" "$logdir/live.log" "$root/agora-live"
}

# Alert delivery (src/main/alerts.c): the database URL, AGORA_URL (for
# links) and the alert settings come from var/env.
start_alerts() {
    alerts_pid >/dev/null || say "alerts: starting the webhook deliverer (agora-alerts)"
    start_supervised alerts "$alerts_pidfile" "$logdir/alerts.log" "$root/agora-alerts"
}

# Retention (src/main/retention.c): applies the policies now and every
# AGORA_RETENTION_EVERY seconds [3600], as the database superuser (its
# functions are not agora_app's), so as run.sh's own user, who alone reads
# pgpass; what it removed goes to its log.
start_retention() {
    retention_pid >/dev/null || say "retention: starting the retention job (agora-retention, every ${AGORA_RETENTION_EVERY:-3600} s)"
    AGORA_ADMIN_DATABASE_URL=$(super_url agora) worker_user='' start_supervised retention "$retention_pidfile" \
        "$logdir/retention.log" "$root/agora-retention" --every "${AGORA_RETENTION_EVERY:-3600}"
}

# The publisher socket's directory: nginx's master makes the socket (mode
# 0666), so the directory decides who may publish.
setup_live_dir() {
    mkdir -p "$live_dir"
    chmod 0750 "$live_dir"
    if [[ -n $worker_user ]]; then
        chown "root:$worker_user" "$live_dir"
    fi
    [[ -r $nchan_module ]] ||
        die "$nchan_module is missing: install Debian's libnginx-mod-nchan (apt-get install -y libnginx-mod-nchan)"
}

nginx_cmd() { nginx -p "$var/nginx/" -c "$nginx_conf" -e "$logdir/nginx-error.log" "$@"; }

start_nginx() {
    local pid out
    if pid=$(nginx_pid); then
        say "nginx: already running (pid $pid)"
        return 0
    fi
    # A publisher socket left by an nginx that did not stop cleanly (or did
    # not start) would make this one's bind fail: no nginx runs, so none
    # listens on it.
    rm -f "$live_sock"
    out=$(nginx_cmd -t -q 2>&1) || { printf '%s\n' "$out" >&2; die "nginx rejected $nginx_conf"; }
    say "nginx: starting (https://$server_name:$https_port/, http $http_port redirects)"
    nginx_cmd || { tail -n 20 "$logdir/nginx-error.log" >&2; die "nginx did not start"; }
}

wait_healthy() {
    local url code deadline=$((SECONDS + 30))
    url="https://$(probe_host):$https_port/api/health"
    while ((SECONDS < deadline)); do
        code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null) || true
        [[ $code == 200 ]] && return 0
        sleep 0.5
    done
    warn "$url did not answer 200 within 30 s (last: ${code:-none}). Last log lines:"
    local f
    for f in nginx-error.log workers.log postgresql.log; do
        [[ -s $logdir/$f ]] || continue
        printf '==> %s <==\n' "$logdir/$f" >&2
        tail -n 15 "$logdir/$f" >&2
    done
    exit 1
}

# ---------------------------------------------------------------- demo execution

# demo_execution WORKFLOW TOKEN: uploads the demo execution unless it exists.
demo_execution() {
    local api code
    api="https://$(probe_host):$https_port/api"
    code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $2" \
        "$api/executions/$DEMO_EXECUTION") || true
    [[ $code == 404 ]] || return 0
    code=$(node nginx/demo-execution.mjs "$1" "$DEMO_EXECUTION" |
        curl -sk -o "$logdir/demo-ingest.json" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $2" \
            -H 'Content-Type: application/json' --data-binary @- "$api/executions/ingest") || true
    [[ $code == 201 ]] || warn "the demo execution was not uploaded (HTTP ${code:-none}, see $logdir/demo-ingest.json)"
}

# ---------------------------------------------------------------- demo token

# demo_token USER: prints a 24-hour token for USER. HS256 signs with the
# secret; RS256 and ES256 with AGORA_JWT_PRIVATE_KEY_FILE (and the audience
# and issuer the workers require). Returns 1, printing nothing, when there
# is no private key to sign with; 2 when agora-admin fails.
demo_token() {
    local args=(token --user "$1" --ttl 86400)
    if [[ ${AGORA_JWT_ALG:-HS256} != HS256 ]]; then
        [[ -n ${AGORA_JWT_PRIVATE_KEY_FILE:-} ]] || return 1
        args+=(--private-key "$AGORA_JWT_PRIVATE_KEY_FILE")
        [[ -z ${AGORA_JWT_AUDIENCE:-} ]] || args+=(--aud "$AGORA_JWT_AUDIENCE")
        [[ -z ${AGORA_JWT_ISSUER:-} ]] || args+=(--iss "$AGORA_JWT_ISSUER")
    fi
    ./agora-admin "${args[@]}" || return 2
}

# ---------------------------------------------------------------- commands

all_running() {
    pg_pid >/dev/null && workers_pid >/dev/null && nginx_pid >/dev/null && live_pid >/dev/null &&
        alerts_pid >/dev/null && retention_pid >/dev/null
}

cmd_start() {
    local pid demo demo_user token org project workflow
    if all_running; then
        say "Agora Cloud is already running at $(saved AGORA_URL "https://$server_name:$https_port")/ (./run.sh status; ./run.sh stop)."
        return 0
    fi
    check_settings
    ensure_packages "${BUILD_PKGS[@]}" "${RUN_PKGS[@]}" "${VIEWER_PKGS[@]}"
    mkdir -p "$var" "$logdir" "$rundir" "$var/nginx"
    build
    viewer_assets
    setup_users
    pg_bin=$(pg_bindir)

    setup_secrets
    setup_pg_dir
    init_cluster
    write_pg_conf
    start_postgres
    setup_database
    write_env

    # From here on, the workers, nginx and agora-admin see the same settings.
    # shellcheck source=/dev/null
    . "$var/env"

    make_cert
    if pid=$(workers_pid); then
        say "workers: already running (supervisor pid $pid)"
    else
        fcgi/agora-workers start
    fi
    setup_live_dir
    render_nginx_conf
    start_nginx
    wait_healthy
    start_live
    start_alerts
    start_retention

    # agora-admin demo creates the demo data once and prints the same ids on
    # every later call.
    demo_user=$(<"$secrets/demo_user")
    demo=$(./agora-admin demo --user "$demo_user") || die "agora-admin demo failed"
    org=$(jq -r '.organization_id // empty' <<<"$demo" 2>/dev/null) || true
    project=$(jq -r '.project_id // empty' <<<"$demo" 2>/dev/null) || true
    workflow=$(jq -r '.workflow_id // empty' <<<"$demo" 2>/dev/null) || true
    local base="https://$server_name:$https_port" rc
    token=$(demo_token "$demo_user") && rc=0 || rc=$?
    ((rc != 2)) || die "agora-admin token failed"
    if ((rc == 1)); then
        cat <<EOF

Agora Cloud is running.

  Open:          $base/
  Demo user:     $demo_user
  Organization:  ${org:-?}
  Project:       ${project:-?}
  Workflow:      ${workflow:-?}

  No demo token: AGORA_JWT_ALG=$AGORA_JWT_ALG tokens are signed with a private
  key and run.sh was given none. Set AGORA_JWT_PRIVATE_KEY_FILE to the PEM
  private key that goes with AGORA_JWT_PUBLIC_KEY_FILE to have one printed,
  or sign one:  ./agora-admin token --user $demo_user --private-key FILE

  Try it (the development certificate is $var/tls/cert.pem):
    curl --cacert $var/tls/cert.pem $base/api/health

  Settings: . $var/env     Logs: $logdir/     Stop: ./run.sh stop
EOF
        return 0
    fi
    [[ -z $workflow ]] || demo_execution "$workflow" "$token"

    cat <<EOF

Agora Cloud is running.

  Open:          $base/
  Signed in:     $base/#token=$token&execution=$DEMO_EXECUTION
  Demo user:     $demo_user
  Organization:  ${org:-?}
  Project:       ${project:-?}
  Workflow:      ${workflow:-?}

  Token for the demo user (valid 24 h):
    $token

  Try it (the development certificate is $var/tls/cert.pem):
    export TOKEN=$token
    curl --cacert $var/tls/cert.pem $base/api/health
    curl --cacert $var/tls/cert.pem -H "Authorization: Bearer \$TOKEN" $base/api/projects
    curl --cacert $var/tls/cert.pem -H "Authorization: Bearer \$TOKEN" $base/api/organizations

  Settings: . $var/env     Logs: $logdir/     Stop: ./run.sh stop
EOF
}

cmd_stop() {
    local pid
    if pid=$(retention_pid); then
        stop_pid "$pid"
        rm -f "$retention_pidfile"
        say "retention: stopped"
    fi
    if pid=$(alerts_pid); then
        stop_pid "$pid"
        rm -f "$alerts_pidfile"
        say "alerts: stopped"
    fi
    if pid=$(live_pid); then
        stop_pid "$pid"
        rm -f "$live_pidfile"
        say "live: stopped"
    fi
    if pid=$(nginx_pid); then
        stop_pid "$pid"
        rm -f "$nginx_pidfile"
        say "nginx: stopped"
    fi
    if workers_pid >/dev/null; then
        AGORA_VAR=$var AGORA_WORKERS_PIDFILE=$workers_pidfile AGORA_SOCKET=$sock \
            fcgi/agora-workers stop >/dev/null
        say "workers: stopped"
    fi
    if pg_pid >/dev/null; then
        pg_bin=$(pg_bindir)
        pg_as "$pg_bin/pg_ctl" -D "$(readlink -f "$var/pg")/data" -w -t 60 stop -m fast >>"$pg_log" 2>&1 ||
            die "pg_ctl stop failed (log: $pg_log)"
        say "postgres: stopped"
    fi
}

cmd_status() {
    local pid rc=0 code
    https_port=$(saved AGORA_HTTPS_PORT "$https_port")
    pg_port=$(saved AGORA_PG_PORT "$pg_port")
    listen=$(saved AGORA_LISTEN "$listen")
    if pid=$(pg_pid); then
        say "postgres: running (pid $pid, socket $var/pg/sock, port $pg_port)"
    else
        say "postgres: stopped"; rc=3
    fi
    if pid=$(workers_pid); then
        say "workers:  running (supervisor pid $pid, $(children_count "$pid") of $(saved AGORA_WORKERS "$workers") workers, socket $sock)"
    else
        say "workers:  stopped"; rc=3
    fi
    if pid=$(live_pid); then
        say "live:     running (supervisor pid $pid, publishing to $live_sock)"
    else
        say "live:     stopped"; rc=3
    fi
    if pid=$(alerts_pid); then
        say "alerts:   running (supervisor pid $pid, log $logdir/alerts.log)"
    else
        say "alerts:   stopped"; rc=3
    fi
    if pid=$(retention_pid); then
        say "retention: running (supervisor pid $pid, log $logdir/retention.log)"
    else
        say "retention: stopped"; rc=3
    fi
    if pid=$(nginx_pid); then
        code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 3 \
            "https://$(probe_host):$https_port/api/health" 2>/dev/null) || true
        say "nginx:    running (pid $pid, $(saved AGORA_URL "https://$server_name:$https_port")/, /api/health: ${code:-no answer})"
    else
        say "nginx:    stopped"; rc=3
    fi
    return "$rc"
}

case ${1:-start} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    -h | --help | help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "usage: ./run.sh [start|stop|status]" ;;
esac
