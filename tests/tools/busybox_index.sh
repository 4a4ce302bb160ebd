#!/usr/bin/env bash
# Builds the multi-platform busybox test image from Debian's busybox-static binaries:
#   busybox_index.sh OUT_DIR [TAG]
# OUT_DIR becomes an OCI layout whose TAG (default latest) is an index of linux/amd64, arm64,
# arm/v7, arm/v5, 386, ppc64le, s390x and mips64le images.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${ANYARCH_CACHE:-$src/cache}
out=$1
tag=${2:-latest}
bash "$src/scripts/fetch-busybox.sh" >/dev/null
args=()
for pair in amd64=linux/amd64 arm64=linux/arm64 armhf=linux/arm/v7 armel=linux/arm/v5 i386=linux/386 \
  ppc64el=linux/ppc64le s390x=linux/s390x mips64el=linux/mips64le; do
  deb=${pair%%=*}
  plat=${pair#*=}
  args+=(--image "$plat=busybox:$cache/busybox/$deb/busybox")
done
python3 "$here/make_image.py" "$out" --tag "$tag" "${args[@]}"
