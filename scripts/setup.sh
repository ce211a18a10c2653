#!/usr/bin/env bash
# Sets this machine up for ccompose (what `make setup`, `make check` and `make demo` run first):
#   1. scripts/packages.sh     the Debian packages in scripts/packages.txt that are missing
#   2. scripts/engine.sh       an engine that answers: DOCKER_HOST, /var/run/docker.sock, or a
#                              dockerd started here (stale pid files removed first)
#   3. scripts/base-image.sh   debian:bookworm-slim: present, pulled, or built with debootstrap
#   4. scripts/test-image.sh   ccompose-test/busybox:latest, the image the tests run
#   5. scripts/podman.sh       the second engine: Podman's API service on
#                              /run/ccompose-podman.sock, with both images copied into it
# Each step can be re-run on its own. Idempotent: about a second when everything is in place.
# Needs no terminal; messages go to stderr, prefixed "setup:".
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
for step in packages engine base-image test-image podman; do
    if ! "scripts/$step.sh"; then
        echo "setup: failed at scripts/$step.sh (see above); fix it and re-run make setup" >&2
        exit 1
    fi
    # A private dockerd (CCOMPOSE_DOCKERD_SOCK, see scripts/engine.sh) is the engine the image
    # steps must talk to.
    if [ $step = engine ] && [ -z "${DOCKER_HOST:-}" ] && [ -n "${CCOMPOSE_DOCKERD_SOCK:-}" ]; then
        export DOCKER_HOST=unix://$CCOMPOSE_DOCKERD_SOCK
    fi
done
echo "setup: ready in $((SECONDS - start))s (engine: ${DOCKER_HOST:-unix:///var/run/docker.sock})" >&2
