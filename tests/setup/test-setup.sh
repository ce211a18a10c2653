#!/usr/bin/env bash
# Runs the whole set-up (scripts/setup.sh) against an empty, private dockerd, as on a bare machine
# with no registry: the engine is started, debian:bookworm-slim cannot be pulled and is built with
# debootstrap, the test image is made; then both images must run, and a second set-up must find
# everything in place and be fast. The private engine and all it holds are removed on exit.
# Needs root and the Debian mirror; about a minute. Usage: tests/setup/test-setup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/setup/private-engine.sh
trap private_engine_cleanup EXIT
export CCOMPOSE_PULL_TIMEOUT=${CCOMPOSE_PULL_TIMEOUT:-10}

if scripts/setup.sh; then ok "set-up on an empty engine"; else fail "set-up on an empty engine"; fi
export DOCKER_HOST=unix://$CCOMPOSE_DOCKERD_SOCK
v=$(docker run --rm --network none debian:bookworm-slim cat /etc/debian_version 2>&1) &&
    [[ $v == 12.* ]] && ok "debian:bookworm-slim runs (Debian $v)" || fail "base image: $v"
cmd=$(docker image inspect -f '{{json .Config.Cmd}}' debian:bookworm-slim 2>&1)
[ "$cmd" = '["bash"]' ] && ok "base image CMD is $cmd" || fail "base image CMD: $cmd"
v=$(docker run --rm --network none ccompose-test/busybox:latest busybox 2>&1) || true
[[ $v == *BusyBox* ]] && ok "test image runs busybox" || fail "test image: ${v:0:300}"
leftover=$(ls -d /var/tmp/ccompose-base-image.* 2>/dev/null || true)
[ -z "$leftover" ] && ok "debootstrap work directory removed" || fail "left behind: $leftover"

start=$(date +%s%N)
out=$(scripts/setup.sh 2>&1) || fail "second set-up: $out"
ms=$((($(date +%s%N) - start) / 1000000))
echo "$out" | sed 's/^/    /'
[ $ms -lt 3000 ] && ok "second set-up did nothing, in ${ms} ms" || fail "second set-up took ${ms} ms"

[ $failed -eq 0 ] && echo "set-up: all passed" || echo "set-up: FAILED"
exit $failed
