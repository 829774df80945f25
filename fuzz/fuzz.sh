#!/usr/bin/env bash
# fuzz/fuzz.sh: builds and runs the libFuzzer harnesses of Agora Cloud.
#
#   fuzz/fuzz.sh build                  compile the harnesses (clang, ASan+UBSan+libFuzzer)
#   fuzz/fuzz.sh run [-t S] [-j N] [TARGET...]
#                                       build, make the seed corpora, run each TARGET
#                                       for S seconds (default 10), N at a time
#                                       (default 2); all targets when none is named
#   fuzz/fuzz.sh list                   the targets
#
# Targets: ingest (ingest_validate), json_tree (the parser of
# the tenancy and workflow bodies against json-c, and its shaped trees
# against whole ones under the workflow checks), timestamp (ts_parse),
# router (router_match on agora_routes + query_parse_or_reply), cursor
# (cursor_decode), auth (auth_bearer_token + auth_verify_jwt + apikey_parse),
# live (the subscription path, Last-Event-ID, ticket and notification parsers),
# ingest_client (what agora-upload reads: Retry-After, the server's answers,
# a payload's execution_id, the configured URL), otlp_proto and otlp_json
# (the OTLP trace decoders and their model, each round-tripped through both
# formats, fuzz_otlp.h), state_diff (the compare route's JSON state diff),
# webhook (alert delivery's webhook URLs, allowance and address networks).
#
# The library's sources (src/*/*.c but the programs in src/main/ and the
# FastCGI glue, and the C protoc-c makes of src/otlp/trace.proto) are
# compiled directly with clang into
# AGORA_FUZZ_DIR (default fuzz/build, not in git): the in-tree autotools
# build is untouched. Seeds come from fuzz/make_seeds.py (the project's tests
# and JSONTestSuite from shared/testdata, AGORA_JSONTESTSUITE overrides its
# test_parsing directory). Each target's corpus grows in
# AGORA_FUZZ_DIR/corpus/TARGET across runs; a crash leaves its input in
# AGORA_FUZZ_DIR/artifacts/TARGET/ and makes the run exit 1. The last line of
# each target's report is libFuzzer's final coverage and execution count,
# also appended to AGORA_FUZZ_DIR/results.txt.
#
# Reproduce a crash:  AGORA_FUZZ_DIR/fuzz_TARGET AGORA_FUZZ_DIR/artifacts/TARGET/crash-...
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
out=${AGORA_FUZZ_DIR:-$here/build}
suite=${AGORA_JSONTESTSUITE:-$root/../shared/testdata/JSONTestSuite/test_parsing}
TARGETS=(ingest json_tree timestamp router cursor auth live ingest_client otlp_proto otlp_json state_diff webhook)
PKGS=(clang libclang-rt-14-dev libjson-c-dev libpq-dev libjwt-dev libssl-dev pkg-config python3
      libprotobuf-c-dev protobuf-c-compiler zlib1g-dev)

say() { printf 'fuzz: %s\n' "$*"; }
die() { printf 'fuzz: %s\n' "$*" >&2; exit 1; }

# Per-target options: the longest input worth trying and the dictionary.
max_len() {
    case $1 in
        ingest | json_tree | otlp_proto | otlp_json | state_diff) echo 16384 ;; timestamp) echo 64 ;; router) echo 1024 ;; cursor) echo 128 ;; auth) echo 4096 ;; live) echo 512 ;; ingest_client) echo 4096 ;; webhook) echo 4096 ;;
    esac
}

ensure_packages() {
    local p missing=()
    for p in "${PKGS[@]}"; do
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    [[ $(id -u) -eq 0 ]] || die "missing Debian packages: ${missing[*]} (apt-get install -y ${missing[*]})"
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || die "apt-get update failed"
    apt-get install -y -q "${missing[@]}" >/dev/null || die "apt-get install failed"
}

build() {
    ensure_packages
    local cc=clang flags deps src obj objs=() newest_h t pids=()
    mkdir -p "$out/obj" "$out/gen"
    # The OTLP messages in C, as Makefile.am makes them.
    if [[ ! -f $out/gen/otlp/trace.pb-c.c || $root/src/otlp/trace.proto -nt $out/gen/otlp/trace.pb-c.c ]]; then
        protoc-c --proto_path="$root/src" --c_out="$out/gen" otlp/trace.proto || die "protoc-c failed"
    fi
    # shellcheck disable=SC2207
    deps=($(pkg-config --cflags json-c libpq libjwt libcrypto libprotobuf-c zlib))
    flags=(-std=c11 -D_GNU_SOURCE "-DAGORA_SQLDIR=\"/nonexistent\"" -I"$root/src" -I"$out/gen" -I"$here" "${deps[@]}"
           -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
           -Wall -Wextra -Wno-unused-parameter)
    newest_h=$(find "$root/src" "$here" "$root/tests/reference" "$out/gen" -name '*.h' -printf '%T@\n' |
        sort -n | tail -n 1)
    for src in "$root"/src/*/*.c "$root"/tests/reference/*.c "$out"/gen/otlp/*.c; do
        case $src in */src/main/* | */fcgi_io.c) continue ;; esac
        obj=$out/obj/$(basename "$(dirname "$src")")_$(basename "${src%.c}").o
        objs+=("$obj")
        if [[ ! -f $obj || $src -nt $obj ]] ||
            awk -v a="$newest_h" -v b="$(stat -c %Y "$obj")" 'BEGIN { exit !(a > b) }'; then
            "$cc" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
            pids+=($!)
            if ((${#pids[@]} >= $(nproc))); then wait "${pids[0]}" || die "compiling failed"; pids=("${pids[@]:1}"); fi
        fi
    done
    for p in "${pids[@]}"; do wait "$p" || die "compiling failed"; done
    # shellcheck disable=SC2207
    local libs=($(pkg-config --libs json-c libpq libjwt libcrypto libprotobuf-c zlib) -lm)
    for t in "${TARGETS[@]}"; do
        "$cc" "${flags[@]}" -fsanitize=fuzzer "$here/fuzz_$t.c" "${objs[@]}" "${libs[@]}" -o "$out/fuzz_$t" ||
            die "linking fuzz_$t failed"
    done
    say "built ${TARGETS[*]} in $out"
}

seeds() {
    rm -rf "$out/seeds"
    python3 "$here/make_seeds.py" "$out/seeds" "$suite" | sed 's/^/fuzz: /'
}

# run_one TARGET SECONDS: one libFuzzer run; its log in $out/logs/TARGET.log.
run_one() {
    local t=$1 secs=$2 dict=() rc=0 log=$out/logs/$1.log
    mkdir -p "$out/corpus/$t" "$out/artifacts/$t" "$out/logs"
    local d=$t
    [[ $t == json_tree ]] && d=ingest
    [[ -f $here/$d.dict ]] && dict=(-dict="$here/$d.dict")
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" "${dict[@]}" \
        "$out/corpus/$t" "$out/seeds/$t" >"$log" 2>&1 || rc=$?
    report "$t" "$rc" "$secs"
    return "$rc"
}

# report TARGET RC SECONDS: one line from the log's final stats.
report() {
    local t=$1 rc=$2 log=$out/logs/$1.log last execs line
    last=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log" | tail -n 1)
    line=$(printf '%s: %s s, %s executions, %s, corpus %s%s' "$t" "$3" "${execs:-?}" \
        "$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$last" || echo 'cov: ? ft: ?')" \
        "$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]+' <<<"$last" | cut -d' ' -f2 || echo '?')" \
        "$( ((rc == 0)) && echo ', no crash' || echo ", FAILED (exit $rc, log $log)")")
    say "$line"
    printf '%s %s\n' "$(date -u +%FT%TZ)" "$line" >>"$out/results.txt"
    if ((rc != 0)); then
        grep -E 'ERROR:|runtime error:|SUMMARY:|Test unit written' "$log" | head -n 20 >&2 || true
    fi
}

cmd_run() {
    local secs=10 jobs=2 t failed=0 pids=() names=() i
    while (($#)); do
        case $1 in
            -t) secs=$2; shift 2 ;;
            -j) jobs=$2; shift 2 ;;
            -*) die "unknown option $1" ;;
            *) break ;;
        esac
    done
    [[ $secs =~ ^[1-9][0-9]*$ && $jobs =~ ^[1-9][0-9]*$ ]] || die "-t and -j take positive integers"
    local want=("$@")
    ((${#want[@]})) || want=("${TARGETS[@]}")
    for t in "${want[@]}"; do
        [[ " ${TARGETS[*]} " == *" $t "* ]] || die "no target '$t' (targets: ${TARGETS[*]})"
    done
    build
    seeds
    say "running ${want[*]}: $secs s each, $jobs at a time"
    for t in "${want[@]}"; do
        while (($(jobs -rp | wc -l) >= jobs)); do wait -n || failed=1; done
        run_one "$t" "$secs" &
    done
    while (($(jobs -rp | wc -l) > 0)); do wait -n || failed=1; done
    wait || failed=1
    ((failed == 0)) || die "a fuzz target failed (inputs in $out/artifacts/)"
    say "all ${#want[@]} targets ran $secs s without a crash"
}

case ${1:-} in
    build) build ;;
    run) shift; cmd_run "$@" ;;
    list) printf '%s\n' "${TARGETS[@]}" ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
