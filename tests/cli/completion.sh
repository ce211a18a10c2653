#!/usr/bin/env bash
# Drives bash's completion of ccompose (completion/ccompose.bash) as bash does on TAB: sets
# COMP_WORDS and COMP_CWORD, calls the function `complete -p ccompose` names, and checks
# COMPREPLY. Every command of `ccompose --help` must complete, and so must its flags.
# Usage: tests/cli/completion.sh [CCOMPOSE]   (default: $CCOMPOSE_BIN, else build/ccompose)
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-${CCOMPOSE_BIN:-build/ccompose}}")
# shellcheck source=../../completion/ccompose.bash
source "$here/completion/ccompose.bash"
func=$(complete -p ccompose | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$func" ] || { echo "FAIL: 'complete -p ccompose' names no function"; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/compose.yaml" <<'YAML'
services:
  web:
    image: busybox
    depends_on: [db]
  db:
    image: busybox
  tools:
    image: busybox
    profiles: [debug]
YAML
cat >"$dir/other.yaml" <<'YAML'
services:
  cache:
    image: busybox
YAML
cd "$dir" || exit 1

failed=0
# complete WORD... : completes the last word (may be empty) of `ccompose WORD...`.
complete_line() {
    COMP_WORDS=("$bin" "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    "$func" ccompose "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}
# expect "WANT..." WORD... : COMPREPLY, sorted, is exactly WANT (words separated by spaces).
expect() {
    local want=$1
    shift
    complete_line "$@"
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
    if [ "$got" != "$want" ]; then
        echo "FAIL: ccompose $* <TAB>: want '$want', got '$got'"
        failed=$((failed + 1))
    fi
}
# expect_has WORD WORDS... : COMPREPLY holds WORD.
expect_has() {
    local want=$1
    shift
    complete_line "$@"
    if ! printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$want"; then
        echo "FAIL: ccompose $* <TAB>: no '$want' in '${COMPREPLY[*]}'"
        failed=$((failed + 1))
    fi
}

# Commands: all of --help's, and only those that start with the word typed.
commands=$("$bin" --help | awk '/^Commands:/{f=1;next} f&&/^  [a-z]/{print $1} f&&/^$/{exit}')
[ "$(wc -l <<<"$commands")" -ge 10 ] || { echo "FAIL: too few commands in --help"; exit 1; }
expect "$(sort <<<"$commands" | xargs)" ""
expect "stack start stop" st
expect "$(grep '^st' <<<"$commands" | sort | xargs)" -f other.yaml st
expect "$(grep '^r' <<<"$commands" | sort | xargs)" help r

# Global flags and their values.
expect "--profile --progress --project-directory --project-name" --pro
expect "always auto never" --ansi ""
expect "auto json plain quiet tty" --progress ""
expect "debug" --profile ""
expect "other.yaml" -f oth
expect_has "-H" -
expect_has "--dry-run" --d

# Every command completes its flags from its own --help.
for c in $commands; do
    flags=$("$bin" "$c" --help | awk '/^Options:/{f=1;next} /^[^ ]/{f=0} f&&/^ +--?[a-zA-Z]/{print}')
    long=$(sed -n 's/^ *\(-[a-zA-Z0-9], \)\{0,1\}\(--[a-zA-Z0-9-]*\).*/\2/p' <<<"$flags" | head -n 1)
    [ -n "$long" ] || continue
    expect_has "$long" "$c" "${long:0:3}"
done
expect "--detach" up --d
expect "json k8s yaml" config --format ""
expect "always missing never" up --pull ""
expect "all local" down --rmi ""
expect "json pretty" version -f ""
expect "dot mermaid text" graph --format ""
expect "" stop -t ""

# Services: of the compose file here, of -f's, after flags, and none after exec's service.
expect "db web" up ""
expect "web" logs -f w
expect "cache" -f other.yaml stop ""
expect "db tools web" --profile debug up ""
expect "" exec web ""
expect "db web" exec ""
expect "config deploy ls ps rm services" stack ""
expect "" ps --services x

if [ "$failed" -gt 0 ]; then
    echo "$failed completion check(s) failed"
    exit 1
fi
echo "completion: all checks passed"
