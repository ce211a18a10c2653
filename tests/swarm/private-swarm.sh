#!/usr/bin/env bash
# Runs a command against a private single-node swarm, never the shared engine:
#
#   tests/swarm/private-swarm.sh COMMAND [ARG...]
#
# Starts a second dockerd (tests/setup/private-engine.sh: its own socket, data-root, exec-root,
# log and bridge; no iptables), pre-creates its docker_gwbridge on a bridge of its own name (the
# default name would clash with another private swarm), makes it a swarm manager
# (`swarm init --advertise-addr 127.0.0.1` on a private listen and data-path port), loads the test
# image (and the images named in CCOMPOSE_SWARM_IMAGES, space-separated) into it, and runs COMMAND with DOCKER_HOST pointing at it. On exit, whatever happened, it
# leaves the swarm, kills the dockerd and removes its directories, mounts and bridges. Exits with
# COMMAND's status (or 1 when the swarm could not be made, after saying why on stderr).
# Needs root, dockerd and the test image on the shared engine (scripts/test-image.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
say() { echo "private-swarm: $*" >&2; }
if [ "$(id -u)" -ne 0 ]; then
    say "a private dockerd needs root"
    exit 1
fi
image=${CCOMPOSE_TEST_IMAGE:-ccompose-test/busybox:latest}
. tests/setup/private-engine.sh
gw=ccgw$$
host=unix://$CCOMPOSE_DOCKERD_SOCK
pd() { timeout 60 docker -H "$host" "$@"; }

teardown() {
    set +e
    if ping; then
        timeout 30 docker -H "$host" swarm leave --force >/dev/null 2>&1
    fi
    private_engine_cleanup
    ip link del "$gw" 2>/dev/null
    return 0
}
trap teardown EXIT
trap 'exit 130' INT TERM

if ! scripts/engine.sh 2>/dev/null; then
    say "the private dockerd did not start; its log:"
    tail -n 20 "$CCOMPOSE_DOCKERD_LOG" >&2
    exit 1
fi
# Ports for the swarm's control and data planes, away from the defaults and other runs.
port=$((20000 + $$ % 10000))
if ! pd network create --driver bridge --subnet "10.214.$(($$ % 250)).0/24" \
    --opt com.docker.network.bridge.name="$gw" \
    --opt com.docker.network.bridge.enable_icc=false docker_gwbridge >/dev/null ||
    ! pd swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$port" \
        --data-path-port $((port + 1)) >/dev/null; then
    say "could not make the private engine a swarm manager"
    tail -n 20 "$CCOMPOSE_DOCKERD_LOG" >&2
    exit 1
fi
# The images come from the shared engine; nothing can be pulled here. Loading the extra ones can
# take a minute each on a busy machine (the voting app's are 100-400 MB).
# shellcheck disable=SC2086 # the list is split on purpose
for img in "$image" ${CCOMPOSE_SWARM_IMAGES:-}; do
    if ! docker save "$img" | timeout 600 docker -H "$host" load >/dev/null; then
        say "could not load $img into the private engine"
        exit 1
    fi
done
export DOCKER_HOST=$host
"$@"
