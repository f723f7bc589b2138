#!/usr/bin/env bash
# Build one lab node image: debootstrap a Debian release, then `podman import` it.
# The image is cached: it is rebuilt only when this recipe (this file, and the
# release name) changes. The recipe hash is stored as an image label.
#
# usage: lab/build-image.sh bookworm|trixie|forky
#   forky: the host's cgroup v1 cannot boot forky's systemd (258+), so the
#   "forky" node is trixie with containerd pinned from forky (2.1.x).
set -euo pipefail
release=${1:?usage: build-image.sh bookworm|trixie|forky}
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
mirror=${KUBELAYER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
image=localhost/kubelayer-node:$release
case $release in
  bookworm|trixie) suite=$release ;;
  forky) suite=trixie ;;
  *) echo "unknown release: $release" >&2; exit 2 ;;
esac
recipe=$( (cat "$0"; echo "$release $mirror") | sha256sum | cut -c1-16)
if [ "$(podman image inspect --format '{{ index .Labels "kubelayer.recipe" }}' "$image" 2>/dev/null || true)" = "$recipe" ]; then
  echo "image $image is up to date (recipe $recipe)"
  exit 0
fi
cache=${KUBELAYER_LAB_CACHE:-$here/.cache}
root=$cache/rootfs-$release
mkdir -p "$cache"
rm -rf "$root"
echo "building $image from $suite ($mirror)"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,python3,python3-apt,iproute2,ca-certificates,procps,kmod,udev \
  "$suite" "$root" "$mirror" >"$cache/debootstrap-$release.log" 2>&1 \
  || { tail -30 "$cache/debootstrap-$release.log" >&2; exit 1; }
# apt sources inside the node (the same mirror as the build)
cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror $suite main
SRC
if [ "$release" = forky ]; then
  echo "deb $mirror forky main" >"$root/etc/apt/sources.list.d/forky.list"
  # forky's Release file has expired on the mirror seen here
  echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99kubelayer-forky"
  cat >"$root/etc/apt/preferences.d/kubelayer-forky" <<PIN
Package: *
Pin: release n=forky
Pin-Priority: 100

Package: containerd
Pin: release n=forky
Pin-Priority: 990
PIN
fi
# a container boots with systemd as PID 1: keep only what a node needs
chroot "$root" systemctl mask systemd-udevd.service systemd-udevd-control.socket \
  systemd-udevd-kernel.socket getty.target console-getty.service \
  systemd-firstboot.service systemd-networkd-wait-online.service >/dev/null 2>&1 || true
echo "$release" >"$root/etc/kubelayer-lab-release"
# package lists in place, as on an installed machine (check mode of an apt task needs them)
chroot "$root" apt-get update -qq >>"$cache/debootstrap-$release.log" 2>&1 \
  || { tail -30 "$cache/debootstrap-$release.log" >&2; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | podman import \
  --change 'CMD ["/sbin/init"]' \
  --change 'ENV container=podman' \
  --change "LABEL kubelayer.recipe=$recipe" \
  - "$image" >/dev/null
rm -rf "$root"
echo "built $image (recipe $recipe)"
