#!/usr/bin/env bash
# Runs every test binary under BUILD (unit tests, then integration tests), each in its own process
# with its own time limit, adds up cmocka's counts and ends with the line CI reads:
#   N passed, N failed
# Before that line, one line per failure: "failed: PROGRAM TEST: FILE:LINE: MESSAGE".
# Usage: scripts/run-tests.sh [--unit|--integration] [BUILD] [FILTER]
# FILTER (a substring of the binary's path) runs only matching binaries.
# CCOMPOSE_TEST_WRAP, when set, is a command (words split on blanks) each test binary runs under,
# e.g. valgrind with its options (scripts/valgrind-test.sh).
# CCOMPOSE_TEST_JOBS (default 1): how many test binaries run at once.
# CCOMPOSE_TEST_ENGINE picks the engine the integration tests run against: docker (the default:
# DOCKER_HOST or /var/run/docker.sock) or podman (DOCKER_HOST defaults to the socket that
# scripts/podman.sh serves; tests that cannot pass there skip themselves and say why; the swarm
# tests are left out, Podman has no swarm mode, and so are the programs that talk to no engine).
set -uo pipefail
which=all
case "${1:-}" in
--unit) which=unit; shift ;;
--integration) which=integration; shift ;;
esac
build=${1:-build}
filter=${2:-${TESTS:-}}
per_test_timeout=${CCOMPOSE_TEST_TIMEOUT:-900}

bins=()
if [ "$which" != integration ]; then
    while IFS= read -r f; do bins+=("$f"); done < <(find "$build/tests/unit" -type f -name 'test-*' -perm -u+x 2>/dev/null | sort)
fi
if [ "$which" != unit ]; then
    while IFS= read -r f; do bins+=("$f"); done < <(find "$build/tests/integration" "$build/tests/swarm" -type f -name 'test-*' -perm -u+x 2>/dev/null | sort)
fi

engine=${CCOMPOSE_TEST_ENGINE:-docker}
case $engine in
docker) ;;
podman) export DOCKER_HOST=${DOCKER_HOST:-unix://${CCOMPOSE_PODMAN_SOCK:-/run/ccompose-podman.sock}} ;;
*) echo "run-tests: CCOMPOSE_TEST_ENGINE=$engine: say docker or podman" >&2; exit 2 ;;
esac
export CCOMPOSE_TEST_ENGINE=$engine
engine_free="test-cli-config test-cli-graph test-cli-help"

passed=0 failed=0 broken=() whys=()
export CCOMPOSE_BIN=${CCOMPOSE_BIN:-$PWD/$build/ccompose}
jobs=${CCOMPOSE_TEST_JOBS:-1}
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# Runs one binary with its output in $results/N.out and "rc seconds" in $results/N.rc.
run_one() {
    local n=$1 bin=$2 wrap=() start=$SECONDS rc
    # Swarm tests get a private single-node swarm of their own, made and removed around them.
    [[ "$bin" == */tests/swarm/* ]] && wrap=(tests/swarm/private-swarm.sh)
    # shellcheck disable=SC2206 # the wrapper's words are meant to split
    [ -n "${CCOMPOSE_TEST_WRAP:-}" ] && wrap+=(${CCOMPOSE_TEST_WRAP})
    timeout --kill-after=10 "$per_test_timeout" "${wrap[@]}" "$bin" >"$results/$n.out" 2>&1
    rc=$?
    echo "$rc $((SECONDS - start))" >"$results/$n.rc.tmp"
    mv "$results/$n.rc.tmp" "$results/$n.rc"
}

# Prints a finished binary's output and adds up its counts.
report_one() {
    local n=$1 bin=$2 out=$results/$1.out rc secs p f line
    read -r rc secs <"$results/$n.rc"
    echo "== $bin"
    cat "$out"
    echo "-- $bin: ${secs}s"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        # Crashed, timed out or a sanitizer stopped it before cmocka could count: one failure.
        [ "$rc" -eq 124 ] && echo "!! $bin timed out after ${per_test_timeout}s"
        failed=$((failed + 1))
    fi
    [ "$rc" -ne 0 ] && broken+=("$bin (exit $rc)")
    # One line per failed test, where and why (cmocka's ERROR and LINE lines), for the summary.
    while IFS= read -r line; do whys+=("$line"); done < <(awk -v prog="${bin##*/}" '
        /^\[ RUN      \] / { test = $4; msg = ""; loc = "" }
        /^ERROR: / { if (msg == "") msg = substr($0, 8, 200) }
        /\[  ERROR   \] --- / { m = $0; sub(/.*\[  ERROR   \] --- /, "", m); if (msg == "" && m !~ /^\[/) msg = substr(m, 1, 200) }
        /\[   LINE   \] --- / { l = $0; sub(/.*\[   LINE   \] --- /, "", l); sub(/: error: Failure!$/, "", l); loc = l }
        /^\[  FAILED  \] test/ && test != "" && $4 == test { print "failed: " prog " " test ": " loc ": " msg; test = "" }
    ' "$out")
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && whys+=("failed: ${bin##*/} (exit $rc) before cmocka could count")
    rm -f "$out" "$results/$n.rc"
}

# CCOMPOSE_TEST_JOBS binaries run at once (default 1); each one's output is printed whole when it
# ends, so the log reads as with one job, in the order they end. The tests share the engine
# safely: each names its resources uniquely and removes only those.
todo=() n=0 running=()
for bin in "${bins[@]}"; do
    [ -n "$filter" ] && [[ "$bin" != *"$filter"* ]] && continue
    if [ "$engine" = podman ] && [[ "$bin" == */tests/swarm/* ]]; then
        echo "== $bin: skipped on podman: Podman has no swarm mode (these run on a private dockerd)"
        continue
    fi
    # Programs that need no engine at all (they say so at their top) would only run again.
    if [ "$engine" = podman ] && [[ " $engine_free " == *" ${bin##*/} "* ]]; then
        echo "== $bin: skipped on podman: it talks to no engine (run with the docker engine)"
        continue
    fi
    todo+=("$bin")
done
reap() { # reports the binaries that have ended, keeps the others in running
    local still=() k
    for k in "${running[@]}"; do
        if [ -e "$results/$k.rc" ]; then
            report_one "$k" "${todo[$k]}"
        else
            still+=("$k")
        fi
    done
    running=("${still[@]}")
}
while [ $n -lt ${#todo[@]} ] || [ ${#running[@]} -gt 0 ]; do
    if [ $n -lt ${#todo[@]} ] && [ ${#running[@]} -lt "$jobs" ]; then
        run_one "$n" "${todo[$n]}" &
        running+=("$n")
        n=$((n + 1))
        continue
    fi
    wait -n
    if [ $? -eq 127 ]; then
        # No child left, yet some never wrote their status (killed from outside): count them.
        for k in "${running[@]}"; do
            [ -e "$results/$k.rc" ] || echo "1 0" >"$results/$k.rc"
        done
    fi
    reap
done
if [ ${#broken[@]} -gt 0 ]; then
    echo
    echo "failing test programs:"
    printf '  %s\n' "${broken[@]}"
fi
echo
[ "$engine" != docker ] && echo "engine: $engine ($DOCKER_HOST)"
# Read by scripts/counted.sh and scripts/check.sh, which repeat them where CI's tail shows them.
[ ${#whys[@]} -eq 0 ] || printf '%s\n' "${whys[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
