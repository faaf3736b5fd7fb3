#!/usr/bin/env bash
# `npm test`: the formatter and linter, the unit and integration suites (files in parallel), then the mail lab on its own
# (root on Linux; LAB=0 leaves it out), so nothing competes with it for the CPU or for ports.
#
# REQUIRE_ALL=1 (CI): a skipped test fails the run, so CI can never be green by skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
node=(bash scripts/node.sh)
mkdir -p out/test

suite() { # name, test files…
    local name=$1
    shift
    local tap=out/test/$name.tap status=0
    "${node[@]}" --test --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$tap" "$@" || status=$?
    local skipped
    skipped=$(bash scripts/tap-skips.sh "$tap" 2>/dev/null)
    if [ "${REQUIRE_ALL:-0}" = 1 ] && [ "$skipped" != 0 ]; then
        echo "REQUIRE_ALL=1: $skipped test(s) or suite(s) of the $name suite were skipped; every test must run here:" >&2
        bash scripts/tap-skips.sh "$tap" >/dev/null
        status=1
    fi
    return "$status"
}

# The shell scripts and Python programs, which Biome does not read: shellcheck (every level) and
# pyflakes. The scripts the component renders for the host are checked by test/hostScripts.test.ts.
lint_scripts() {
    local tool absent=()
    for tool in shellcheck pyflakes3; do command -v "$tool" >/dev/null 2>&1 || absent+=("$tool"); done
    if [ ${#absent[@]} -gt 0 ]; then
        echo "${absent[*]} not installed (apt-get install ${absent[*]}; npm test installs them when run as root): the shell and Python lint is skipped" >&2
        [ "${REQUIRE_ALL:-0}" != 1 ]
        return
    fi
    local sh py
    mapfile -t sh < <(find . -name '*.sh' -not -path './node_modules/*' -not -path './.cache/*' -not -path './out/*' | sort)
    mapfile -t py < <(find . -name '*.py' -not -path './node_modules/*' -not -path './.cache/*' -not -path './out/*' | sort)
    shellcheck "${sh[@]}" && pyflakes3 "${py[@]}" components/host/applier/mailserver-apply
}

status=0
echo "biome: format and lint"
"${node[@]}" node_modules/@biomejs/biome/bin/biome check . || status=$?
echo "shellcheck and pyflakes: the shell scripts and Python programs"
lint_scripts || status=$?
suite unit 'dist/test/**/*.test.js' 'dist/lab/unit.test.js' || status=$?
if [ "${LAB:-1}" = 0 ]; then
    echo "LAB=0: the mail lab is left out"
elif [ "$status" != 0 ]; then
    echo "the unit suite failed: the mail lab is not run"
else
    suite lab --test-concurrency=1 'dist/lab/lab.test.js' || status=$?
fi
exit "$status"
