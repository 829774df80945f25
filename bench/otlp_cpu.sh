#!/usr/bin/env bash
# bench/otlp_cpu.sh: CPU per OTLP request (protobuf, 100 and 500 spans),
# requests sent one at a time, for before/after comparisons of the ingest
# on a busy machine (BENCHMARKS.md, "OpenTelemetry ingest": CPU per
# request). Wall-clock throughput is bench/otlp.sh's.
#
#   bench/otlp_cpu.sh [N100 [N500 [ROUNDS [NWIDE]]]]    (default: 40 12 5 0)
#       NWIDE: also NWIDE requests per round of the wide body
#       (bench/otlp_gen.py: 500 traces of one span each), size "wide"
#   OTLP_CPU_AB=/path/to/other/agora-worker bench/otlp_cpu.sh ...
#       A/B: each round runs twice on the same stack, first with the other
#       worker program (say a build of the base commit, copied aside), then
#       with this tree's, the workers restarted in between: the two share
#       the database's growth and the machine's load, round by round. The
#       SQL is the worker's, so this compares the ingest's statements too.
#       One worker, restarted and warmed up before each round.
#
# Its own stack (bench/lib.sh, as bench/otlp.sh), an API key of the demo
# project, the bodies of bench/otlp_gen.py, one warm-up request of each
# size (creates the workflow and its nodes), then ROUNDS rounds of N100
# requests of 100 spans and N500 of 500, each request new traces:
# bench/otlp_cpu.py prints the CPU ms per request of PostgreSQL, the workers
# and nginx for each round, then the median (results/otlp-cpu.jsonl).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$root/bench
cd "$root"
keep=0
n100=${1:-40}
n500=${2:-12}
rounds=${3:-5}
nwide=${4:-0}
[[ $n100 =~ ^[0-9]+$ && $n500 =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ && $nwide =~ ^[0-9]+$ ]] ||
    { echo "usage: bench/otlp_cpu.sh [N100 [N500 [ROUNDS [NWIDE]]]]" >&2; exit 2; }
sizes=(100 500)
((nwide > 0)) && sizes+=(wide)
# count SIZE: the requests per round of that size.
count() { case $1 in 100) echo "$n100" ;; 500) echo "$n500" ;; *) echo "$nwide" ;; esac; }

# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
bench_tools
bench_stack_start
bench_facts otlp-cpu

key=$(curl -sS --cacert "$AGORA_TLS_CERT" -H @"$bv/auth-header" -X POST "$base/api/projects/$project/api-keys" | jq -r .key)
[[ $key == agk_* ]] || die "could not create an API key"
(umask 077 && printf 'Authorization: Bearer %s\n' "$key" >"$bv/key-header")
python3 "$bench/otlp_gen.py" "$pay" bench-otlp

say "warm-up: one request of each size"
for s in 100 500; do
    python3 "$bench/otlp_cpu.py" "$AGORA_VAR" "$base" "$bv/key-header" "$pay" "$s" 1 1 >/dev/null
done
# restart_workers BIN: the stack's workers, one running BIN, warmed up by
# two requests (its database connection new: statements prepared, caches
# filled) that are not counted.
restart_workers() {
    "$root/fcgi/agora-workers" stop >/dev/null
    AGORA_WORKERS=1 AGORA_WORKER_BIN=$1 "$root/fcgi/agora-workers" start >/dev/null
    sleep 1
    python3 "$bench/otlp_cpu.py" "$AGORA_VAR" "$base" "$bv/key-header" "$pay" 100 2 1 >/dev/null
}
# one_round SIZE N LABEL ROUND: one round, its JSON line labelled.
one_round() {
    python3 "$bench/otlp_cpu.py" "$AGORA_VAR" "$base" "$bv/key-header" "$pay" "$1" "$2" 1 | sed -n 1p |
        jq -c --arg w "$3" --argjson k "$4" '. + {worker: $w, round: $k}'
}
if [[ -n ${OTLP_CPU_AB:-} ]]; then
    [[ -x $OTLP_CPU_AB ]] || die "OTLP_CPU_AB: $OTLP_CPU_AB is not a program"
    say "A/B, CPU per request: $rounds rounds of $n100 x 100 spans, $n500 x 500 spans and $nwide x wide, one request at a time, A = $OTLP_CPU_AB, B = $root/agora-worker"
    for ((k = 1; k <= rounds; k++)); do
        for s in "${sizes[@]}"; do
            n=$(count "$s")
            restart_workers "$OTLP_CPU_AB"
            one_round "$s" "$n" A "$k"
            restart_workers "$root/agora-worker"
            one_round "$s" "$n" B "$k"
        done
    done | tee "$res/otlp-cpu.jsonl"
    say "medians (CPU ms per request) and B / A"
    jq -s -c 'group_by(.size)[] | . as $g | [ "A", "B" ] | map(. as $w | [$g[] | select(.worker == $w)]
        | {worker: .[0].worker, size: .[0].size, rounds: length,
           postgres: (map(.postgres) | sort | .[length / 2 | floor]),
           backend: (map(.backend) | sort | .[length / 2 | floor]),
           workers: (map(.workers) | sort | .[length / 2 | floor]),
           nginx: (map(.nginx) | sort | .[length / 2 | floor])})
        | . + [{size: .[0].size, "B/A postgres": (.[1].postgres / .[0].postgres * 100 | round),
                "B/A backend": (.[1].backend / .[0].backend * 100 | round),
                "B/A workers": (.[1].workers / .[0].workers * 100 | round)}] | .[]' "$res/otlp-cpu.jsonl" |
        tee "$res/otlp-cpu-summary.jsonl"
else
    say "CPU per request, $rounds rounds of $n100 x 100 spans, $n500 x 500 spans and $nwide x wide, one request at a time"
    for s in "${sizes[@]}"; do
        python3 "$bench/otlp_cpu.py" "$AGORA_VAR" "$base" "$bv/key-header" "$pay" "$s" "$(count "$s")" "$rounds"
    done | tee "$res/otlp-cpu.jsonl"
fi
bench_facts_end
jq -c '{commit, load_start, load_end}' "$res/machine.json"
