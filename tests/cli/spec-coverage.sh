#!/usr/bin/env bash
# docs/spec-coverage.md stays true to the code: every key of the service table in
# compose/model-service.c has a row, every key of that table has a state the table allows, and
# every test file it names exists. Usage: tests/cli/spec-coverage.sh
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
doc=$here/docs/spec-coverage.md
failed=0

# The table's lines, "key MF_KIND".
table=$(awk '/^static const struct mfield service_fields\[\] = \{/{f=1;next} f&&/^};/{exit}
    f && match($0, /\{"[a-z_x-]+", MF_[A-Z]+/) {
        split(substr($0, RSTART + 2, RLENGTH - 2), w, /", /); print w[1], w[2] }' \
    "$here/compose/model-service.c")
keys=$(cut -d' ' -f1 <<<"$table")
[ "$(wc -l <<<"$keys")" -ge 60 ] || { echo "FAIL: could not read service_fields"; exit 1; }
for k in $keys; do
    row=$(grep -E "^\| \`$k\` \|" "$doc")
    if [ -z "$row" ]; then
        echo "FAIL: service key '$k' (compose/model-service.c) has no row in docs/spec-coverage.md"
        failed=$((failed + 1))
        continue
    fi
    # Keys the model drops must say so.
    if grep -qx "$k MF_ACCEPTED" <<<"$table" &&
        ! grep -q "| accepted |" <<<"$row"; then
        echo "FAIL: '$k' is accepted and dropped by the model, but its row says otherwise"
        failed=$((failed + 1))
    fi
done
while IFS= read -r t; do
    if [ ! -e "$here/$t" ]; then
        echo "FAIL: docs/spec-coverage.md names $t, which does not exist"
        failed=$((failed + 1))
    fi
done < <(grep -o '`tests/[^`]*`' "$doc" | tr -d '`' | sort -u)
if grep -E '^\| [^|]* \| [^|]* \| *\|' "$doc"; then
    echo "FAIL: a row above names no test and is not marked untested"
    failed=$((failed + 1))
fi

if [ "$failed" -gt 0 ]; then
    echo "$failed spec coverage check(s) failed"
    exit 1
fi
echo "spec coverage: all checks passed"
