#!/usr/bin/env bash
# Downloads Debian's busybox-static .deb for every architecture the tests use and extracts the
# binary. Output (git-ignored, reused across runs):
#   cache/debs/busybox-static_<version>_<debarch>.deb
#   cache/busybox/<debarch>/busybox
# Debian architecture -> OCI platform: amd64 linux/amd64, arm64 linux/arm64, armhf linux/arm/v7,
# armel linux/arm/v5, i386 linux/386, ppc64el linux/ppc64le, s390x linux/s390x,
# mips64el linux/mips64le.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cache=${ANYARCH_CACHE:-$src/cache}
archs=(amd64 arm64 armhf armel i386 ppc64el s390x mips64el)
mkdir -p "$cache/debs" "$cache/busybox"

need=()
for a in "${archs[@]}"; do
  [ -x "$cache/busybox/$a/busybox" ] || need+=("$a")
done
[ "${#need[@]}" -eq 0 ] && exit 0

# apt-get download needs the foreign architectures in dpkg's list and fresh package lists.
added=0
for a in "${need[@]}"; do
  [ "$a" = "$(dpkg --print-architecture)" ] && continue
  if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
    dpkg --add-architecture "$a"
    added=1
  fi
done
if [ "$added" = 1 ] || [ ! -f "$cache/debs/.apt-updated" ]; then
  # A partial failure (a mirror mid-sync for one architecture's security index) is not fatal:
  # busybox-static comes from the main archive, and apt-get download below says if it is missing.
  apt-get update -qq || { sleep 5; apt-get update -qq; } || echo "fetch-busybox: apt-get update reported errors; trying the download anyway" >&2
  touch "$cache/debs/.apt-updated"
fi

for a in "${need[@]}"; do
  (cd "$cache/debs" && ls busybox-static_*_"$a".deb >/dev/null 2>&1 || apt-get download -qq "busybox-static:$a")
  deb=$(ls "$cache/debs"/busybox-static_*_"$a".deb | head -1)
  tmp=$(mktemp -d)
  dpkg-deb -x "$deb" "$tmp"
  mkdir -p "$cache/busybox/$a"
  install -m 0755 "$tmp/bin/busybox" "$cache/busybox/$a/busybox.tmp"
  mv "$cache/busybox/$a/busybox.tmp" "$cache/busybox/$a/busybox"
  rm -rf "$tmp"
done
