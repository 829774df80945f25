#!/usr/bin/env bash
# test.sh: installs what is missing, builds, and runs every test:
#   1. make check: the Criterion unit tests, and the Python client's
#      unittest suite (clients/python/tests), counted with them
#   2. pytest tests/integration: a real stack (PostgreSQL, workers, nginx
#      with TLS) started by ./run.sh in a temporary AGORA_VAR
#   3. node --test tests/browser: the timeline viewer in headless Chromium
#      (Debian's chromium, playwright-core from npm) against such a stack;
#      screenshots go to $AGORA_TEST_OUTPUT/browser or a /tmp/agora-browser-*
#      folder (printed)
#   4. redocly lint nginx/www/openapi.yaml (the API description; offline,
#      no telemetry), and tests/check_layers.py (the include graph of src/
#      follows the layer map of docs/DESIGN.md: nothing includes a layer
#      above its own, no cycle)
# Exits non-zero when anything fails; the last line sums the layers up.
#
# Options (RELIABILITY.md has the figures and the reasons):
#   --sanitize     build with -fsanitize=address,undefined (./configure
#                  --enable-sanitizers) in a COPY of the tree (the in-tree
#                  build stays the normal one), run the unit tests and the
#                  integration tests (all but test_install) against it, and
#                  fail on any AddressSanitizer, LeakSanitizer or UBSan
#                  report. Reports go to files (ASAN_OPTIONS/UBSAN_OPTIONS
#                  log_path) in the copy, so a worker's report outlives the
#                  test stack's var dir. No browser tests in this mode.
#   --fuzz[=S]     also run each libFuzzer target (fuzz/fuzz.sh) for S
#                  seconds, 30 by default; AGORA_FUZZ_SECONDS=S does the same.
#                  .ci/run uses it; without it no fuzzing runs.
#   --memcheck     also run tests/valgrind_worker.py: one worker under
#                  valgrind memcheck through an ingest + read run; fails on
#                  any memcheck error or byte definitely lost (.ci/run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"

mode=normal
fuzz_seconds=${AGORA_FUZZ_SECONDS:-0}
memcheck=0
for arg in "$@"; do
    case $arg in
        --sanitize) mode=sanitize ;;
        --memcheck) memcheck=1 ;;
        --fuzz) fuzz_seconds=30 ;;
        --fuzz=*) fuzz_seconds=${arg#--fuzz=} ;;
        -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) printf 'test.sh: unknown option %s (see ./test.sh --help)\n' "$arg" >&2; exit 2 ;;
    esac
done
[[ $fuzz_seconds =~ ^[0-9]+$ ]] || { printf 'test.sh: --fuzz takes whole seconds\n' >&2; exit 2; }

PKGS=(autoconf automake libtool pkg-config gcc make libfcgi-dev libjson-c-dev libpq-dev
      libjwt-dev libssl-dev libcriterion-dev libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev
      postgresql nginx libnginx-mod-nchan spawn-fcgi openssl curl jq
      python3-pytest python3-yaml python3-jsonschema python3-prometheus-client valgrind chromium
      python3-venv
      unicode-data
      systemd)  # systemd-analyze verify and systemd-sysusers check the installed units (test_install)
# The viewer's libraries and the browser tests come from npm (package-lock.json):
# Debian's node and npm, unless a node with npm is already installed.
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)
# Debian's python3 with Debian's pytest, even when a pyenv python comes first.
PYTHON=/usr/bin/python3

say() { printf 'test.sh: %s\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

missing=()
for p in "${PKGS[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        die "missing Debian packages: ${missing[*]}
  install them as root, then run again:
    apt-get update && apt-get install -y ${missing[*]}"
    fi
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || die "apt-get update failed"
    apt-get install -y -q "${missing[@]}" || die "apt-get install failed"
fi

# The JSONTestSuite cases of tests/integration/test_bad_input.py (shared/
# beside the repository), found from the copy too.
suite=$(realpath -m "$root/../shared/testdata/JSONTestSuite/test_parsing")
if [[ -z ${AGORA_JSONTESTSUITE:-} && -d $suite ]]; then
    export AGORA_JSONTESTSUITE=$suite
fi

configure_flags=()
pytest_extra=()
if [[ $mode == sanitize ]]; then
    # The tree as git sees it (tracked and new files, nothing ignored: no
    # objects, no Makefile), plus the viewer's node_modules, in a fresh
    # directory: configured there with the sanitizers, so this tree's own
    # build is left as it is.
    # Again when package-lock.json changed since (the OpenTelemetry SDK of
    # test_otel_sdk.py is a devDependency), as run.sh decides.
    [[ -f node_modules/.package-lock.json && ! package-lock.json -nt node_modules/.package-lock.json ]] ||
        npm ci --no-audit --no-fund
    san=$(mktemp -d /tmp/agora-sanitize-XXXXXX)
    # As root, run.sh runs the workers and nginx's workers as unprivileged
    # users, who must reach the copy (mktemp makes it 0700).
    chmod 755 "$san"
    say "sanitize: copying the tree to $san"
    if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$root" ls-files -co --exclude-standard -z | grep -zv '^fuzz/build/' |
            tar -C "$root" -cf - --null -T - | tar -C "$san" -xf -
    else
        tar -C "$root" --exclude=./var --exclude=./node_modules --exclude=./fuzz/build -cf - . |
            tar -C "$san" -xf -
    fi
    cp -a node_modules "$san/"
    root=$san
    cd "$root"
    if [[ -f Makefile ]]; then make distclean >/dev/null; fi
    configure_flags=(--enable-sanitizers)
    reports=$root/sanitizer-reports
    mkdir -p "$reports"
    # Every instrumented process writes here, the workers too, which run
    # as the unprivileged workers' user when we are root.
    chmod 1777 "$reports"
    # Every instrumented process (unit tests, agora-admin, each worker)
    # writes its reports to $reports/<tool>.<pid>; LeakSanitizer runs when a
    # worker exits (./run.sh stop at the end of the session).
    export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1"
    export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp:print_suppressions=0"
    # make install of a copy proves nothing about memory: not here.
    pytest_extra=(--deselect tests/integration/test_install.py)
fi

say "build${configure_flags:+ (${configure_flags[*]})}"
[[ -x configure ]] || autoreconf -fi
[[ -f Makefile ]] || ./configure "${configure_flags[@]}"
make -j2
if [[ $mode == normal ]]; then
    say "viewer: npm ci, nginx/vendor.sh"
    npm ci --no-audit --no-fund
fi
sh nginx/vendor.sh

# The OpenAPI description, with the linter package-lock.json pins. It runs
# from node_modules alone: no telemetry, no update check, no network.
lint_status=0 lint_passed=0 lint_failed=0
if [[ $mode == normal ]]; then
    say "OpenAPI lint (redocly lint nginx/www/openapi.yaml)"
    REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
        npx --no-install redocly lint nginx/www/openapi.yaml || lint_status=$?
    if ((lint_status == 0)); then lint_passed=1; else lint_failed=1; fi
    say "layers (tests/check_layers.py)"
    if "$PYTHON" tests/check_layers.py; then
        lint_passed=$((lint_passed + 1))
    else
        lint_status=1 lint_failed=$((lint_failed + 1))
    fi
fi

unit_status=0
say "unit tests (make check)"
make -j2 check VERBOSE=1 || unit_status=$?

# Criterion prints "Synthesis: Tested: N | Passing: P | Failing: F | Crashing: C"
# per program; a program that died before it could is counted by automake.
shopt -s nullglob
unit_logs=(tests/unit/*.log)
shopt -u nullglob
unit_passed=0 unit_failed=0
if ((${#unit_logs[@]})); then
    read -r unit_passed unit_failed < <(awk '
        /Synthesis: Tested:/ {
            for (i = 1; i <= NF; i++) {
                if ($i == "Tested:") t += $(i + 1)
                if ($i == "Passing:") p += $(i + 1)
            }
        }
        END { printf "%d %d\n", p, t - p }' "${unit_logs[@]}")
fi
if ((unit_status != 0 && unit_failed == 0)); then
    unit_failed=1
fi

# The Python client's unit tests (stdlib unittest), counted with the unit
# tests: unittest ends with "Ran N tests" and "OK" or "FAILED (failures=F,
# errors=E)".
say "Python client unit tests (unittest clients/python/tests)"
py_log=$(mktemp /tmp/agora-pyunit-XXXXXX.log)
py_status=0
"$PYTHON" -m unittest discover clients/python/tests >"$py_log" 2>&1 || py_status=$?
tail -n 3 "$py_log"
read -r py_ran py_bad < <(awk '
    /^Ran [0-9]+ test/ { r = $2 }
    /^FAILED/ { if (match($0, /failures=[0-9]+/)) f += substr($0, RSTART + 9, RLENGTH - 9)
                if (match($0, /errors=[0-9]+/)) f += substr($0, RSTART + 7, RLENGTH - 7) }
    END { printf "%d %d\n", r, f }' "$py_log")
rm -f "$py_log"
if ((py_status != 0 && py_bad == 0)); then
    py_bad=1
fi
unit_passed=$((unit_passed + py_ran - py_bad)) unit_failed=$((unit_failed + py_bad))
((py_status == 0)) || unit_status=1

integration_status=0
junit=$(mktemp /tmp/agora-junit-XXXXXX.xml)
trap 'rm -f "$junit"' EXIT
say "integration tests (pytest tests/integration)"
"$PYTHON" -m pytest -q -p no:cacheprovider --junitxml="$junit" "${pytest_extra[@]}" tests/integration ||
    integration_status=$?

read -r it_passed it_failed it_skipped < <(
    "$PYTHON" - "$junit" <<'EOF' 2>/dev/null || echo "0 0 0"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = e = s = 0
for suite in suites:
    t += int(suite.get("tests", 0)); f += int(suite.get("failures", 0))
    e += int(suite.get("errors", 0)); s += int(suite.get("skipped", 0))
print(t - f - e - s, f + e, s)
EOF
)
if ((integration_status != 0 && it_failed == 0)); then
    it_failed=1  # collection error, no tests, or pytest itself failed
fi

browser_status=0
br_passed=0 br_failed=0 br_skipped=0
if [[ $mode == normal ]]; then
    browser_tap=$(mktemp /tmp/agora-browser-XXXXXX.tap)
    trap 'rm -f "$junit" "$browser_tap"' EXIT
    say "browser tests (node --test tests/browser)"
    node --test --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$browser_tap" tests/browser/ ||
        browser_status=$?
    # node's TAP ends with "# pass N", "# fail N", "# cancelled N", "# skipped N".
    read -r br_passed br_failed br_skipped < <(awk '
        /^# pass / { p = $3 } /^# fail / { f = $3 } /^# cancelled / { c = $3 } /^# skipped / { s = $3 }
        END { printf "%d %d %d\n", p, f + c, s }' "$browser_tap")
    if ((browser_status != 0 && br_failed == 0)); then
        br_failed=1  # the runner itself failed
    fi
fi

# Sanitizer reports, from every instrumented process of the unit and
# integration runs (the stack was stopped by then, so LeakSanitizer has run
# in each worker). One report file is one failure.
san_status=0 san_passed=0 san_failed=0
if [[ $mode == sanitize ]]; then
    mapfile -t found < <(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer' \
        "$reports"/* 2>/dev/null || true)
    if ((${#found[@]})); then
        san_status=1 san_failed=${#found[@]}
        say "sanitizer reports (${#found[@]}), kept with the build in $root:"
        for f in "${found[@]}"; do
            printf '==> %s <==\n' "$f"
            head -n 60 "$f"
        done
    else
        san_passed=1
        say "sanitizers: no report from any process"
    fi
fi

# The libFuzzer smoke run: each target for fuzz_seconds (fuzz/fuzz.sh).
fuzz_status=0 fz_passed=0 fz_failed=0
if ((fuzz_seconds > 0)); then
    say "fuzzing (fuzz/fuzz.sh run -t $fuzz_seconds)"
    fuzz_log=$(mktemp /tmp/agora-fuzz-XXXXXX.log)
    AGORA_FUZZ_DIR=${AGORA_FUZZ_DIR:-$root/fuzz/build} fuzz/fuzz.sh run -t "$fuzz_seconds" 2>&1 | tee "$fuzz_log" ||
        fuzz_status=$?
    fz_passed=$(grep -c ', no crash$' "$fuzz_log" || true)
    fz_failed=$(grep -c 'FAILED (exit' "$fuzz_log" || true)
    if ((fuzz_status != 0 && fz_failed == 0)); then
        fz_failed=1  # the build or the script itself failed
    fi
    rm -f "$fuzz_log"
fi

# Valgrind memcheck on one live worker (the normal build; valgrind cannot
# run the sanitizer build).
mc_status=0 mc_passed=0 mc_failed=0
if ((memcheck)); then
    if [[ $mode == sanitize ]]; then
        say "memcheck: skipped with --sanitize (run it with the normal build)"
    else
        say "memcheck (tests/valgrind_worker.py)"
        "$PYTHON" tests/valgrind_worker.py || mc_status=$?
        if ((mc_status == 0)); then mc_passed=1; else mc_failed=1; fi
    fi
fi

say "lint: $lint_passed passed, $lint_failed failed; unit: $unit_passed passed, $unit_failed failed; integration: $it_passed passed, $it_failed failed, $it_skipped skipped; browser: $br_passed passed, $br_failed failed, $br_skipped skipped${reports:+; sanitizers: $san_passed passed, $san_failed failed}$( ((fuzz_seconds > 0)) && printf '; fuzz: %d passed, %d failed' "$fz_passed" "$fz_failed")$( ((memcheck)) && printf '; memcheck: %d passed, %d failed' "$mc_passed" "$mc_failed")"
ok=0
((lint_status == 0 && unit_status == 0 && integration_status == 0 && browser_status == 0 && san_status == 0 && fuzz_status == 0 &&
  mc_status == 0)) || ok=1
if [[ $mode == sanitize && $ok == 0 ]]; then
    cd /
    rm -rf "$root"
fi
printf 'summary: %d passed, %d failed, %d skipped\n' \
    $((lint_passed + unit_passed + it_passed + br_passed + san_passed + fz_passed + mc_passed)) \
    $((lint_failed + unit_failed + it_failed + br_failed + san_failed + fz_failed + mc_failed)) $((it_skipped + br_skipped))
exit "$ok"
