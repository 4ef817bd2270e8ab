#!/usr/bin/env bash
# Install what the image test needs (buildah, debootstrap) and build the local base image
# `localhost/pollsite-base:trixie`: Debian trixie made with debootstrap, with python3
# (3.13), python3-venv and ca-certificates. CI has no registry, so the Dockerfile's
# default base (python:3.13-slim) is replaced by this one through --build-arg BASE_IMAGE.
#
# Idempotent: installs only missing packages and builds the base only when buildah's
# local storage does not hold it yet. Run as root on Debian. Quiet unless it fails;
# prints what it did and how long it took.
#
#   .ci/setup-image-tools.sh            # install + build the base if missing
#   FORCE_BASE=1 .ci/setup-image-tools.sh   # rebuild the base
set -euo pipefail

BASE_IMAGE="${POLLSITE_BASE_IMAGE:-localhost/pollsite-base:trixie}"
SUITE="${POLLSITE_BASE_SUITE:-trixie}"
MIRROR="${POLLSITE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES=(buildah debootstrap fuse-overlayfs uidmap containers-storage netavark crun)
start=$(date +%s)
log=$(mktemp /tmp/setup-image-tools.XXXXXX.log)
trap 'rm -f "$log"' EXIT

fail() {
    echo "setup-image-tools: $1 (log below)" >&2
    tail -n 40 "$log" >&2
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    echo "setup-image-tools: run as root (apt-get, debootstrap and buildah's storage need it)" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >>"$log" 2>&1 || fail "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || fail "apt-get install ${missing[*]} failed"
    echo "setup-image-tools: installed ${missing[*]}"
fi

# bookworm's debootstrap may not know trixie yet by name; trixie bootstraps like sid.
if [ ! -e "/usr/share/debootstrap/scripts/$SUITE" ] && [ -e /usr/share/debootstrap/scripts/sid ]; then
    ln -s sid "/usr/share/debootstrap/scripts/$SUITE"
fi

if [ -z "${FORCE_BASE:-}" ] && buildah images --quiet "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "setup-image-tools: $BASE_IMAGE already present ($(( $(date +%s) - start ))s)"
    exit 0
fi

rootfs=$(mktemp -d /var/tmp/pollsite-base.XXXXXX)
trap 'rm -f "$log" "$rootfs.tar"; rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$rootfs" "$MIRROR" >>"$log" 2>&1 || fail "debootstrap $SUITE failed"
# A small base: no apt lists, caches, docs or man pages.
chroot "$rootfs" apt-get clean >>"$log" 2>&1
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log "$rootfs"/tmp/*
python_version=$(chroot "$rootfs" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$python_version" = "3.13" ] || fail "$SUITE base has python $python_version, expected 3.13"

ctr=$(buildah from scratch 2>>"$log") || fail "buildah from scratch failed"
tar -C "$rootfs" -cf "$rootfs.tar" . || fail "could not archive the root filesystem"
buildah add --quiet "$ctr" "$rootfs.tar" / >>"$log" 2>&1 || fail "buildah add failed"
rm -f "$rootfs.tar"
buildah config --env LANG=C.UTF-8 --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash --label org.opencontainers.image.description="Debian $SUITE minbase + python3 $python_version (pollsite CI base)" \
    "$ctr" >>"$log" 2>&1
buildah commit --quiet --rm "$ctr" "$BASE_IMAGE" >>"$log" 2>&1 || fail "buildah commit failed"
size=$(buildah images --format '{{.Size}}' "$BASE_IMAGE" | head -n 1)
echo "setup-image-tools: built $BASE_IMAGE (python $python_version, $size) in $(( $(date +%s) - start ))s"
