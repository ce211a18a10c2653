#!/usr/bin/env bash
# The man page (docs/ccompose.1): man(1) renders it at 80 columns without a single warning, it
# has a section (.SS) for every command `ccompose --help` lists, a line for every global flag,
# and each command's section names every flag of `ccompose COMMAND --help` (by its long or its
# short name; convert's section may lean on config's), so that a command or flag added without
# its page fails here.
# Usage: tests/cli/man.sh [CCOMPOSE]   (default: $CCOMPOSE_BIN, else build/ccompose)
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-${CCOMPOSE_BIN:-build/ccompose}}")
page=$here/docs/ccompose.1
failed=0

warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
if [ -n "$warnings" ]; then
    echo "FAIL: man warns about $page:"
    echo "$warnings"
    failed=$((failed + 1))
fi
text=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
if [ "$(wc -l <<<"$text")" -lt 100 ]; then
    echo "FAIL: the rendered page has fewer than 100 lines"
    failed=$((failed + 1))
fi
if awk 'length > 80 { exit 1 }' <<<"$text"; then :; else
    echo "FAIL: a rendered line is wider than 80 columns"
    failed=$((failed + 1))
fi

commands=$("$bin" --help | awk '/^Commands:/{f=1;next} f&&/^  [a-z]/{print $1} f&&/^$/{exit}')
[ "$(wc -l <<<"$commands")" -ge 10 ] || { echo "FAIL: too few commands in --help"; exit 1; }
for c in $commands; do
    if ! grep -qE "^\.SS \"?$c( |\"|$)" "$page"; then
        echo "FAIL: command '$c' (in ccompose --help) has no '.SS $c' section in $page"
        failed=$((failed + 1))
    fi
done
# The source lines of command c's section(s), with roff's \- and font escapes undone.
section_of() {
    awk -v c="$1" '/^\.S[SH] / { on = 0 } $0 ~ "^\\.SS \"?" c "( |\"|$)" { on = 1 } on' "$page" |
        sed 's/\\-/-/g; s/\\f[BIRP]//g'
}
for c in $commands; do
    section=$(section_of "$c")
    [ "$c" = convert ] && section+=$'\n'$(section_of config)
    while read -r short long; do
        [ -z "$long" ] && { long=$short; short=; }
        short=${short%,}
        [ "$long" = --help ] && continue
        grep -qE -- "(^|[^a-zA-Z-])$long([^a-zA-Z-]|\$)" <<<"$section" && continue
        [ -n "$short" ] && grep -qE -- "(^|[^a-zA-Z-])$short([^a-zA-Z-]|\$)" <<<"$section" && continue
        echo "FAIL: '$c --help' lists ${short:+$short, }$long, which its section of $page does not name"
        failed=$((failed + 1))
    done < <("$bin" "$c" --help | grep -oE -- '(-[a-zA-Z], )?--[a-zA-Z][a-zA-Z0-9-]*' | sort -u)
done
flags=$("$bin" --help | awk '/^Options:/{f=1;next} /^[^ ]/{f=0} f' |
    sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z-]*\).*/\2/p')
for f in $flags; do
    if ! grep -q -- "--$f" <<<"$text"; then
        echo "FAIL: global flag --$f is not in the man page"
        failed=$((failed + 1))
    fi
done

if [ "$failed" -gt 0 ]; then
    echo "$failed man page check(s) failed"
    exit 1
fi
echo "man page: all checks passed"
