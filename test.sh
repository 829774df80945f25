#!/usr/bin/env bash
# test.sh: installs what is missing, builds, and runs every test:
#   1. make check: the Criterion unit tests
#   2. pytest tests/integration: a real stack (PostgreSQL, workers, nginx
#      with TLS) started by ./run.sh in a temporary AGORA_VAR
#   3. node --test tests/browser: the timeline viewer in headless Chromium
#      (Debian's chromium, playwright-core from npm) against such a stack;
#      screenshots go to $AGORA_TEST_OUTPUT/browser or a /tmp/agora-browser-*
#      folder (printed)
# Exits non-zero when anything fails; the last line sums the layers up.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"

PKGS=(autoconf automake libtool pkg-config gcc make libfcgi-dev libjson-c-dev libpq-dev
      libjwt-dev libssl-dev libcriterion-dev
      postgresql nginx spawn-fcgi multiwatch openssl curl jq
      python3-pytest valgrind chromium)
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

say "build"
[[ -x configure ]] || autoreconf -fi
[[ -f Makefile ]] || ./configure
make -j2
say "viewer: npm ci, nginx/vendor.sh"
npm ci --no-audit --no-fund
sh nginx/vendor.sh

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

integration_status=0
junit=$(mktemp /tmp/agora-junit-XXXXXX.xml)
trap 'rm -f "$junit"' EXIT
say "integration tests (pytest tests/integration)"
"$PYTHON" -m pytest -q -p no:cacheprovider --junitxml="$junit" tests/integration ||
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

say "unit: $unit_passed passed, $unit_failed failed; integration: $it_passed passed, $it_failed failed, $it_skipped skipped; browser: $br_passed passed, $br_failed failed, $br_skipped skipped"
printf 'summary: %d passed, %d failed, %d skipped\n' \
    $((unit_passed + it_passed + br_passed)) $((unit_failed + it_failed + br_failed)) $((it_skipped + br_skipped))
((unit_status == 0 && integration_status == 0 && browser_status == 0))
