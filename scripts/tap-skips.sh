#!/usr/bin/env bash
# Prints how many tests or whole suites a TAP file (node --test) reports as skipped, and lists them
# on stderr. Node's closing "# skipped N" leaves out a skipped describe(), so the lines are counted.
#   scripts/tap-skips.sh FILE.tap
set -euo pipefail
grep -E '^ *(not )?ok .* # SKIP' "$1" >&2 || true
grep -cE '^ *(not )?ok .* # SKIP' "$1" || true
