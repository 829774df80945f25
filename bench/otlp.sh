#!/usr/bin/env bash
# bench/otlp.sh: OpenTelemetry trace ingest (POST /v1/traces) against
# PostgreSQL's COPY of the same rows (BENCHMARKS.md, "OpenTelemetry ingest").
#
#   bench/otlp.sh             about 7 minutes on 2 cores; prints the section
#   options: --quick          2 x 3 s segments instead of 3 x 8 s
#            --keep           leave the stack running afterwards
#            --conc N         concurrency (8)
#            --profile        afterwards, where the time goes for 100 spans in
#                             protobuf: perf record -g of the stack during the
#                             ingest and during COPY (results/perf-otlp.txt,
#                             perf-copy-otlp.txt), and PostgreSQL's time per
#                             statement over 10 requests (statements-otlp.txt)
#
# Its own stack, as bench/run.sh (bench/lib.sh: ./run.sh under a fresh
# AGORA_VAR in /tmp, free ports, stopped and removed at the end). Bodies from
# bench/otlp_gen.py: 100 and 500 spans per request (3 and 9 traces of an
# agent run), protobuf and JSON, posted with an API key by wrk
# (bench/wrk.lua, unique= gives every request trace ids of its own, so each
# is new executions, never a resend). The ceiling: the rows one request
# stored (executions, spans, events, node executions), read back from the
# database after a first request and loaded with COPY (bench/copyload.c),
# one transaction per request's rows, as the cluster superuser, from as many
# connections, alternating with the ingest in segments. COPY runs twice per
# segment: with random ids (the same rows as the ingest's: its execution
# and node-execution ids are derived from random trace and span ids), the
# ceiling; and with copyload's earlier sequential ids (COPYLOAD_IDS), which
# land side by side in every index and cost PostgreSQL less, shown for
# comparison with the figures measured that way before. CPU per stored
# request from /proc (bench/cpu.py). Raw results in results/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"

keep=0 SEGS=3 SEG_S=8 CONC=8 profile=0
while (($#)); do
    case $1 in
        --quick) SEGS=2 SEG_S=3 ;;
        --keep) keep=1 ;;
        --conc) CONC=$2; shift ;;
        --profile) profile=1 ;;
        -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) printf 'bench/otlp.sh: unknown option %s (try --help)\n' "$1" >&2; exit 2 ;;
    esac
    shift
done
SIZES=(100 500)
FORMATS=(protobuf json)
SERVICE=bench-otlp

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
if ((profile)); then bench_tools linux-perf; else bench_tools; fi
bench_stack_start
bench_facts otlp
jq -n --argjson c "$CONC" '{conc: $c}' >"$res/conf.json"

# An API key of the demo project, as an exporter would hold; wrk.lua reads
# it from the environment.
key=$(curl -sS --cacert "$AGORA_TLS_CERT" -H @"$bv/auth-header" -X POST "$base/api/projects/$project/api-keys" | jq -r .key)
[[ $key == agk_* ]] || die "could not create an API key"
export WRK_TOKEN=$key
(umask 077 && printf 'Authorization: Bearer %s\n' "$key" >"$bv/key-header")

python3 "$bench/otlp_gen.py" "$pay" "$SERVICE"
cp "$pay/otlp.json" "$res/otlp-bodies.json"
marker=$(jq -r .marker "$pay/otlp.json")

media() { [[ $1 == protobuf ]] && echo application/x-protobuf || echo application/json; }
ext() { [[ $1 == protobuf ]] && echo pb || echo json; }

# post_once SIZE FORMAT: one request as it is; it must store everything.
post_once() {
    local code
    code=$(curl -sS --cacert "$AGORA_TLS_CERT" -H @"$bv/key-header" -H "Content-Type: $(media "$2")" \
        -o "$bv/answer" -w '%{http_code}' --data-binary @"$pay/otlp-$1.$(ext "$2")" "$base/v1/traces")
    [[ $code == 200 ]] || die "POST /v1/traces ($1 spans, $2) answered $code: $(head -c 300 "$bv/answer")"
    if [[ $2 == json ]]; then
        [[ $(<"$bv/answer") == '{}' ]] || die "a partial success: $(<"$bv/answer")"
    else
        [[ ! -s $bv/answer ]] || die "a partial success (protobuf, $(stat -c %s "$bv/answer") bytes)"
    fi
}

# copy_template SIZE: the rows the first request of SIZE stored, as COPY
# text for copyload: executions, node executions, spans, events, each with
# every column but the identity ones; execution ids and node executions'
# client ids become copyload's placeholders (one each).
copy_template() {
    local size=$1 traces t cols sel c
    traces=$(jq -c --arg s "$size" '.sizes[$s].traces' "$pay/otlp.json")
    psql_super -c "SET client_min_messages = warning" -c "CREATE TABLE IF NOT EXISTS bench_ph (id uuid PRIMARY KEY, ph text)" -c "TRUNCATE bench_ph" \
        -c "INSERT INTO bench_ph SELECT id, 'ffffffff-ffff-4fff-bfff-ffffffff' || lpad(to_hex((row_number() OVER (ORDER BY id))::int - 1), 4, '0')
            FROM (SELECT id FROM agora.executions WHERE metadata->>'trace_id' IN (SELECT jsonb_array_elements_text('$traces'))
                  UNION ALL
                  SELECT n.client_id FROM agora.node_executions n JOIN agora.executions e ON e.id = n.execution_id
                  WHERE e.metadata->>'trace_id' IN (SELECT jsonb_array_elements_text('$traces'))) x"
    : >"$pay/copy-otlp-$size.txt"
    for t in executions node_executions telemetry_spans telemetry_events; do
        cols=$(psql_super -c "SELECT string_agg(quote_ident(attname), ',' ORDER BY attnum) FROM pg_attribute
                              WHERE attrelid = 'agora.$t'::regclass AND attnum > 0 AND NOT attisdropped AND attidentity = ''")
        sel=
        for c in ${cols//,/ }; do
            case $t:$c in
                executions:id) c='x.ph' ;;
                *:execution_id) c='x.ph' ;;
                node_executions:client_id) c='(SELECT ph FROM bench_ph WHERE id = t.client_id)' ;;
                *) c="t.$c" ;;
            esac
            sel+=${sel:+,}$c
        done
        printf '@@COPY agora.%s (%s) FROM STDIN\n' "$t" "$cols" >>"$pay/copy-otlp-$size.txt"
        psql_super -c "COPY (SELECT $sel FROM agora.$t t JOIN bench_ph x ON x.id = t.$([[ $t == executions ]] && echo id || echo execution_id)) TO STDOUT" \
            >>"$pay/copy-otlp-$size.txt"
    done
    jq -n --arg s "$size" --argjson rows "$(grep -vc '^@@' "$pay/copy-otlp-$size.txt")" \
        --argjson sections "$(grep -c '^@@' "$pay/copy-otlp-$size.txt")" \
        '{size: $s, rows: $rows, sections: $sections}' >"$res/copy-otlp-$size.json"
}

say "warm-up: one request of each size and format (creates the workflow and its nodes)"
for s in "${SIZES[@]}"; do
    for f in "${FORMATS[@]}"; do post_once "$s" "$f"; done  # the second is a resend: nothing stored
    copy_template "$s"
done
# Then 10 s of 100-span protobuf, not recorded, and what autovacuum does
# within its first minute: the segments measure a stack past its first
# minute (bench/run.sh reads and ingests on analyzed tables too). On the
# empty tables of a fresh stack the ingest got slower segment by segment
# until autovacuum's first pass, about a minute in (plans made before any
# statistics, or that pass's own CPU: not separated; BENCHMARKS.md).
wrk_run warm-otlp "$CONC" 10 "$base/v1/traces" auth=1 body="$pay/otlp-100.pb" type=application/x-protobuf unique="$marker"
psql_super -c "VACUUM ANALYZE agora.executions, agora.node_executions, agora.telemetry_spans, agora.telemetry_events" >/dev/null
psql_super -c "SELECT json_build_object('executions', count(*), 'spans', sum(telemetry_spans_count),
    'events', sum(telemetry_events_count), 'nodes', sum(node_executions_count))
    FROM agora.executions WHERE metadata->>'source' = 'otlp'" >"$res/warmup.json"

copy_run() {  # copy_run SIZE SEGMENT [IDS]: IDS random (copy-otlp-*) or sequential (copyseq-otlp-*)
    local ids=${3:-random} name
    name=$([[ $ids == random ]] && echo copy || echo copyseq)-otlp-$1-$2
    COPYLOAD_IDS=$ids "$bv/copyload" "$AGORA_ADMIN_DATABASE_URL" "$pay/copy-otlp-$1.txt" "$CONC" "$SEG_S" \
        >"$res/$name.json" 2>"$res/$name.err" || die "copyload $1 failed: $(tail -n 3 "$res/$name.err")"
}

# with_cpu counts executions: a request of SIZE is traces executions.
for s in "${SIZES[@]}"; do
    for f in "${FORMATS[@]}"; do
        say "$s spans per request, $f, concurrency $CONC: ingest and COPY (random, sequential ids), alternating $SEGS x 3 x ${SEG_S}s"
        for ((k = 1; k <= SEGS; k++)); do
            printf '{"segment":"%s","load":"%s"}\n' "$s-$f-$k" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$res/load.jsonl"
            with_cpu "otlp-$s-$f-$k" wrk_run "otlp-$s-$f-$k" "$CONC" "$SEG_S" "$base/v1/traces" \
                auth=1 body="$pay/otlp-$s.$(ext "$f")" type="$(media "$f")" unique="$marker"
            with_cpu "copy-otlp-$s-$f-$k" copy_run "$s" "$f-$k"
            with_cpu "copyseq-otlp-$s-$f-$k" copy_run "$s" "$f-$k" sequential
        done
    done
done

# What the ingest stored, against what was sent: every 2xx stored all its spans.
psql_super -c "SELECT json_build_object('executions', count(*), 'spans', sum(telemetry_spans_count),
    'events', sum(telemetry_events_count), 'nodes', sum(node_executions_count),
    'running', count(*) FILTER (WHERE status = 'running'))
    FROM agora.executions WHERE metadata->>'source' = 'otlp'" >"$res/stored.json"
bench_facts_end
jq -n --argjson u "$(grep -c '"upstream_status":"5' "$AGORA_VAR/log/nginx-access.log" || true)" \
    '{upstream_5xx: $u}' >"$res/nginx.json"

if ((profile)); then
    say "perf: 100 spans, protobuf, concurrency $CONC, ${SEG_S}s of ingest, then of COPY"
    perf_while perf-otlp "$(stack_pids)" "$SEG_S" wrk_run profile-otlp "$CONC" "$SEG_S" "$base/v1/traces" auth=1 \
        body="$pay/otlp-100.pb" type=application/x-protobuf unique="$marker"
    perf_report "$res/perf-otlp.data" "perf record -g -p <this stack's postgres, agora-worker, nginx processes>: OTLP ingest, 100 spans, protobuf, concurrency $CONC, ${SEG_S}s: $(jq -c . "$res/profile-otlp.json")" \
        >"$res/perf-otlp.txt"
    copy_profile_run() { "$bv/copyload" "$AGORA_ADMIN_DATABASE_URL" "$pay/copy-otlp-100.txt" "$CONC" "$SEG_S" >"$res/profile-copy-otlp.json"; }
    perf_while perf-copy-otlp "$(postmaster_pids)" "$SEG_S" copy_profile_run
    perf_report "$res/perf-copy-otlp.data" "perf record -g -p <this stack's postmaster and children>: COPY of the rows of 100 spans, $CONC clients, ${SEG_S}s: $(jq -c . "$res/profile-copy-otlp.json")" \
        >"$res/perf-copy-otlp.txt"
    say "statements: 10 requests of 100 spans (protobuf), one at a time, timed by PostgreSQL"
    mark=$(statement_log on)
    for i in 1 2 3 4 5 6 7 8 9 10; do
        # the same spans in new traces: the marker's bytes made unique
        python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); m = bytes.fromhex(sys.argv[2]);
sys.stdout.buffer.write(d.replace(m, m[:6] + bytes([0xaa, int(sys.argv[3])])))' "$pay/otlp-100.pb" "$marker" "$i" \
            >"$pay/otlp-100-stmt.pb"
        curl -sS -o /dev/null --cacert "$AGORA_TLS_CERT" -H @"$bv/key-header" -H 'Content-Type: application/x-protobuf' \
            --data-binary @"$pay/otlp-100-stmt.pb" "$base/v1/traces"
    done
    statement_log off
    statements_table "$mark" 10 "PostgreSQL statement timing for one OTLP request of 100 spans, protobuf (average of 10, ms; bind includes planning)" \
        >"$res/statements-otlp.txt"
fi

say "report"
python3 "$bench/otlp_report.py" "$res" | tee "$res/report.md"
