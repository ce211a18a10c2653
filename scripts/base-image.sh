#!/usr/bin/env bash
# Makes sure the base image (debian:bookworm-slim) exists on the engine:
#   present                 nothing to do
#   a registry answers      pulled, with a short time limit
#   otherwise               built: `debootstrap --variant=minbase` into a temporary directory (removed
#                           even on failure) and `docker import`ed with CMD ["bash"]; about 30 s
# Environment: CCOMPOSE_BASE_IMAGE (image name, default debian:bookworm-slim), CCOMPOSE_DEBIAN_SUITE
# (bookworm), CCOMPOSE_DEBIAN_MIRROR (http://deb.debian.org/debian), CCOMPOSE_PULL_TIMEOUT (seconds,
# default 20; 0 skips the pull). The engine is the docker CLI's: DOCKER_HOST or /var/run/docker.sock.
set -euo pipefail
say() { echo "setup: base-image: $*" >&2; }

image=${CCOMPOSE_BASE_IMAGE:-debian:bookworm-slim}
suite=${CCOMPOSE_DEBIAN_SUITE:-bookworm}
mirror=${CCOMPOSE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
pull_timeout=${CCOMPOSE_PULL_TIMEOUT:-20}

if docker image inspect "$image" >/dev/null 2>&1; then
    say "$image present"
    exit 0
fi

if [ "$pull_timeout" != 0 ]; then
    say "$image missing; trying a pull (up to ${pull_timeout}s)"
    if err=$(timeout -k 5 "$pull_timeout" docker pull -q "$image" 2>&1 >/dev/null); then
        say "pulled $image"
        exit 0
    fi
    say "pull failed (${err:-timed out after ${pull_timeout}s}); building it with debootstrap"
fi

if [ "$(id -u)" -ne 0 ]; then
    say "building $image with debootstrap needs root: run as root, or load the image yourself"
    exit 1
fi
command -v debootstrap >/dev/null || { say "debootstrap missing: run scripts/packages.sh"; exit 1; }

work=$(mktemp -d /var/tmp/ccompose-base-image.XXXXXX)
# debootstrap mounts proc and sys inside the target and may leave them on failure: unmount what is
# under the work directory, deepest first, and never let rm cross into a mount.
cleanup() {
    local i m
    for i in 1 2 3 4 5; do
        m=$(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
        [ -n "$m" ] || break
        echo "$m" | while read -r p; do umount "$p" 2>/dev/null || umount -l "$p"; done
    done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "debootstrap --variant=minbase $suite from $mirror (log $work/debootstrap.log while it runs)"
start=$SECONDS
if ! debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    say "debootstrap failed; last lines of its log:"
    tail -n 15 "$work/debootstrap.log" | sed 's/^/    /' >&2
    say "fix: the mirror must answer (CCOMPOSE_DEBIAN_MIRROR=$mirror), then re-run scripts/base-image.sh"
    exit 1
fi
# Package caches are not part of an image.
rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*_Packages
tar --numeric-owner -C "$work/rootfs" -c . |
    docker import -c 'CMD ["bash"]' -m "debootstrap --variant=minbase $suite (ccompose set-up)" \
        - "$image" >/dev/null
say "built $image with debootstrap in $((SECONDS - start))s"
