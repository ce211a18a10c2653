#!/usr/bin/env bash
# Makes the small image the integration tests run: busybox (from Debian's busybox-static) with its
# applets linked, imported as ccompose-test/busybox:latest. Nothing can be pulled here, so tests
# never depend on a registry. Idempotent: does nothing when the image exists.
# Known quirk of Debian's static busybox: `wget -T N` segfaults; use `timeout N wget ...`.
set -euo pipefail
image=${CCOMPOSE_TEST_IMAGE:-ccompose-test/busybox:latest}
if docker image inspect "$image" >/dev/null 2>&1; then
    exit 0
fi
bb=/bin/busybox
[ -x "$bb" ] || { echo "test-image: $bb missing: apt-get install busybox-static" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/bin "$root"/etc "$root"/tmp "$root"/root "$root"/proc "$root"/sys "$root"/dev
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
    >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' -m 'ccompose test image (busybox-static)' \
    - "$image" >/dev/null
echo "test-image: made $image"
