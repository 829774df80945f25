#!/usr/bin/env bash
# bench/otlp_pure.sh [BODY [N]]: the worker's own part of an OTLP request
# (decode, plan, parameters; bench/otlp_pure.c), with the worker's
# allocator settings and with glibc's defaults, over bench/otlp_gen.py's
# bodies (or BODY). No stack: builds against the tree's libagora.a (run
# make first). Prints one JSON line per body and setting.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -f $root/libagora.a ]] || { echo "bench/otlp_pure.sh: build the tree first (make)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -I"$root/src" -I"$root/gen" -I"$(pg_config --includedir)" $(pkg-config --cflags json-c) \
    -o "$tmp/otlp_pure" "$root/bench/otlp_pure.c" "$root/libagora.a" \
    $(pkg-config --libs json-c libprotobuf-c zlib) -lpq -ljwt -lcrypto -lm
if (($#)); then bodies=("$1"); else
    python3 "$root/bench/otlp_gen.py" "$tmp" bench-otlp
    bodies=("$tmp/otlp-100.pb" "$tmp/otlp-500.pb" "$tmp/otlp-500.json")
fi
for b in "${bodies[@]}"; do
    for i in 1 2 3; do  # alternating, as the machine's load moves
        AGORA_GLIBC_DEFAULTS=1 "$tmp/otlp_pure" "$b" "${2:-200}"
        "$tmp/otlp_pure" "$b" "${2:-200}"
    done
done
