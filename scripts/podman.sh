#!/usr/bin/env bash
# Makes sure Podman's Docker-compatible API answers on a socket of its own, next to the Docker
# engine (never instead of it), with the images the tests run:
#
#   the socket answers        used as it is
#   otherwise                 a stale pid file or socket (left when the service is killed) is
#                             removed, `podman system service --time=0` is started in its own session
#                             with CONTAINERS_CONF set (scripts/podman/containers.conf: the rlimits
#                             runc needs here) and CONTAINERS_REGISTRIES_CONF
#                             (scripts/podman/registries.conf: registries on 127.0.0.1 and
#                             localhost spoken to over HTTP, as Docker does), its output in a log
#                             file, and /_ping is polled
#   a service started with    restarted: the service reads both files once, at start
#   other files, or before
#   they last changed
#   images                    each of CCOMPOSE_PODMAN_IMAGES that Podman lacks is copied from the
#                             Docker engine (docker save | podman load); the Docker engine is only
#                             read from
#
# Overridable:
#   CCOMPOSE_PODMAN_SOCK      the socket             (default /run/ccompose-podman.sock)
#   CCOMPOSE_PODMAN_PIDFILE   the service's pid      (default /run/ccompose-podman.pid)
#   CCOMPOSE_PODMAN_LOG       the service's output   (default /var/log/ccompose-podman.log)
#   CCOMPOSE_PODMAN_CONF      its containers.conf    (default scripts/podman/containers.conf,
#                             installed as /etc/ccompose/podman-containers.conf, which the
#                             service reads; a service running with another one is restarted)
#   CCOMPOSE_PODMAN_REGISTRIES_CONF  its registries.conf (default scripts/podman/registries.conf,
#                             installed as /etc/ccompose/podman-registries.conf, likewise)
#   CCOMPOSE_PODMAN_IMAGES    images to copy         (default: the test image and debian:bookworm-slim)
#   CCOMPOSE_ENGINE_TIMEOUT   seconds to wait for /_ping (default 60)
# Use it with DOCKER_HOST=unix:///run/ccompose-podman.sock (docs/podman.md).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "setup: podman: $*" >&2; }
. scripts/engine-lib.sh

timeout_s=${CCOMPOSE_ENGINE_TIMEOUT:-60}
sock=${CCOMPOSE_PODMAN_SOCK:-/run/ccompose-podman.sock}
pidfile=${CCOMPOSE_PODMAN_PIDFILE:-/run/ccompose-podman.pid}
log=${CCOMPOSE_PODMAN_LOG:-/var/log/ccompose-podman.log}
src_conf=$(realpath "${CCOMPOSE_PODMAN_CONF:-scripts/podman/containers.conf}")
# The service reads its containers.conf for as long as it runs, and outlives this checkout: it
# gets a copy in a place of its own, not a path into a work tree that may be deleted.
conf=${CCOMPOSE_PODMAN_CONF_INSTALLED:-/etc/ccompose/podman-containers.conf}
src_regconf=$(realpath "${CCOMPOSE_PODMAN_REGISTRIES_CONF:-scripts/podman/registries.conf}")
regconf=${CCOMPOSE_PODMAN_REGISTRIES_CONF_INSTALLED:-/etc/ccompose/podman-registries.conf}
images=${CCOMPOSE_PODMAN_IMAGES:-${CCOMPOSE_TEST_IMAGE:-ccompose-test/busybox:latest} debian:bookworm-slim}

if ! command -v podman >/dev/null; then
    say "podman is not installed: run scripts/packages.sh"
    exit 1
fi

start_service() {
    if [ "$(id -u)" -ne 0 ]; then
        say "no Podman service answers on unix://$sock and starting one here needs root"
        exit 1
    fi
    local pid
    if pid=$(live_pid "$pidfile" podman); then
        say "podman (pid $pid) runs but unix://$sock does not answer; waiting up to ${timeout_s}s"
    else
        remove_stale "$pidfile" podman
        # A socket file nobody listens on makes the new service fail with "address in use".
        if [ -S "$sock" ]; then
            say "removing stale socket $sock (nothing answers on it)"
            rm -f "$sock"
        fi
        mkdir -p "$(dirname "$log")" "$(dirname "$sock")"
        echo "=== $(date -Is) scripts/podman.sh: podman system service --time=0 unix://$sock" >>"$log"
        # setsid: its own session, so it outlives the CI step or terminal that ran us (see
        # scripts/engine.sh). From /: it outlives this checkout too, and conmon, which it starts
        # for every container, fails ("Failed to get working directory") once its directory is
        # removed.
        set +m
        (cd / && CONTAINERS_CONF=$conf CONTAINERS_REGISTRIES_CONF=$regconf \
            exec setsid podman system service --time=0 "unix://$sock") \
            </dev/null >>"$log" 2>&1 &
        pid=$!
        echo "$pid" >"$pidfile"
        say "started podman system service (pid $pid), log $log"
    fi
    local deadline=$((SECONDS + timeout_s))
    until ping_engine "unix://$sock"; do
        if ! alive "$pid"; then
            say "podman (pid $pid) exited before answering on unix://$sock; last lines of $log:"
            tail -n 20 "$log" | sed 's/^/    /' >&2
            exit 1
        fi
        if [ $SECONDS -ge $deadline ]; then
            say "podman (pid $pid) did not answer on unix://$sock within ${timeout_s}s; read $log," \
                "stop it (kill $pid) and re-run scripts/podman.sh"
            exit 1
        fi
        sleep 0.1
    done
    disown "$pid" 2>/dev/null || true
}

if [ "$(id -u)" -eq 0 ]; then
    cmp -s "$src_conf" "$conf" 2>/dev/null || install -D -m 0644 "$src_conf" "$conf"
    cmp -s "$src_regconf" "$regconf" 2>/dev/null || install -D -m 0644 "$src_regconf" "$regconf"
fi

# The service reads containers.conf and registries.conf once, when it starts (the pid file is
# written then): one started with other files (an older set-up, or one whose files are gone), or
# before one of them last changed, is stopped, to be started again with these. So is one whose
# working directory is gone (started from a checkout since removed): it can start no container.
stale_config() {
    local pid=$1 env
    [[ $(readlink "/proc/$pid/cwd") == *" (deleted)" ]] && return 0
    env=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null) || return 0
    grep -qx "CONTAINERS_CONF=$conf" <<<"$env" &&
        grep -qx "CONTAINERS_REGISTRIES_CONF=$regconf" <<<"$env" &&
        ! [ "$conf" -nt "$pidfile" ] && ! [ "$regconf" -nt "$pidfile" ] && return 1
    return 0
}
if ping_engine "unix://$sock" && pid=$(live_pid "$pidfile" podman) && stale_config "$pid"; then
    say "podman (pid $pid) was started with other containers.conf or registries.conf files, older ones, or from a directory since removed: restarting it"
    kill "$pid"
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
fi

if ping_engine "unix://$sock"; then
    say "using unix://$sock"
else
    start_service
    say "answers on unix://$sock"
fi

# Podman names images loaded from a Docker archive as Docker does (docker.io/library/ for short
# names, which the engine-client shortens again), so one check by name suffices.
for image in $images; do
    if podman image exists "$image" 2>/dev/null; then
        continue
    fi
    if ! docker image inspect "$image" >/dev/null 2>&1; then
        say "$image: not in the Docker engine either (run scripts/test-image.sh / base-image.sh first)"
        exit 1
    fi
    say "copying $image from the Docker engine"
    if ! docker save "$image" | podman load -q >/dev/null; then
        say "docker save $image | podman load failed"
        exit 1
    fi
done
