#!/usr/bin/env bash
# docs/errors.md stays true to the tests: every row of its tables names at least one test file and
# one test function, each file exists and defines the function, and the fixed words of the row's
# message (the parts between <placeholders>, ends trimmed of blanks and punctuation, those of six
# characters or more) appear in one of the files the row names, C string literals joined.
# Usage: tests/cli/errors-catalogue.sh
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
doc=$here/docs/errors.md
failed=0 rows=0

fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}

# The file's text with adjacent C string literals joined and \" and \\ unescaped, so that a
# message split over lines in a test reads as printed.
joined() {
    perl -0777 -pe 's/"\s*\n\s*"//g; s/\\"/"/g; s/\\\\/\\/g' "$1"
}

while IFS= read -r row; do
    rows=$((rows + 1))
    msg=$(sed -E 's/^\| `(([^`]|``)*)` \|.*/\1/' <<<"$row")
    tests_cell=${row##*| }
    tests_cell=${tests_cell% |}
    files=$(grep -oE '`tests/[^`]+`' <<<"$tests_cell" | tr -d '`')
    funcs=$(grep -oE '`test_[a-z0-9_]+`' <<<"$tests_cell" | tr -d '`')
    if [ -z "$files" ] || [ -z "$funcs" ]; then
        fail "row '$msg' names no test file and test function"
        continue
    fi
    text=""
    for f in $files; do
        if [ ! -f "$here/$f" ]; then
            fail "row '$msg' names $f, which does not exist"
            continue
        fi
        text+=$(joined "$here/$f")$'\n'
    done
    for fn in $funcs; do
        grep -qE "(void|int) $fn\(" <<<"$text" || fail "row '$msg': no function $fn in $files"
    done
    # The fixed words between placeholders.
    while IFS= read -r piece; do
        piece=$(sed -E 's/^[][ :(),.]+//; s/[ :(),.]+$//' <<<"$piece")
        [ ${#piece} -ge 6 ] || continue
        grep -qF -- "$piece" <<<"$text" ||
            fail "row '$msg': the words \"$piece\" are in no test it names ($files)"
    done < <(sed -E 's/<[^>]*>/\n/g' <<<"$msg")
done < <(grep -E '^\| `' "$doc")

[ "$rows" -ge 50 ] || fail "docs/errors.md has $rows rows; expected at least 50 (is the table format intact?)"
if [ "$failed" -gt 0 ]; then
    echo "$failed error catalogue check(s) failed"
    exit 1
fi
echo "error catalogue: $rows rows, each backed by a test that checks its words"
