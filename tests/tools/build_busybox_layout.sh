#!/usr/bin/env bash
# build_busybox_layout.sh OUT_DIR: writes the multi-platform busybox OCI layout to OUT_DIR (tag
# "latest") from $ANYARCH_CACHE/busybox/<debarch>/busybox (run scripts/fetch-busybox.sh first).
# Skips the build when OUT_DIR/.inputs matches the hash of the generator and the binaries. The
# layout is built next to OUT_DIR and renamed into place, so OUT_DIR is either old or complete.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${ANYARCH_CACHE:-$src/cache}
out=${1:?usage: build_busybox_layout.sh OUT_DIR}
inputs=$(cat "$here/make_base_image.py" "$cache"/busybox/*/busybox | sha256sum | cut -d' ' -f1)
if [ -f "$out/.inputs" ] && [ "$(cat "$out/.inputs")" = "$inputs" ] && [ -f "$out/index.json" ]; then
  echo "busybox layout up to date: $out"
  exit 0
fi
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$out.new.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
digest=$(python3 "$here/make_base_image.py" busybox --busybox-dir "$cache/busybox" --out "$tmp" --tag latest)
# Peers must accept it before anything uses it.
(cd "$tmp" && oci-image-tool validate --type image "$tmp" >/dev/null)
raw=$(skopeo inspect --raw "oci:$tmp:latest")
got=sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)
[ "$got" = "$digest" ] || { echo "busybox layout: skopeo sees $got, generator wrote $digest" >&2; exit 1; }
n=$(printf '%s' "$raw" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["manifests"]))')
[ "$n" = 8 ] || { echo "busybox layout: index has $n platforms, want 8" >&2; exit 1; }
echo "$inputs" >"$tmp/.inputs"
rm -rf "$out.old"
[ -e "$out" ] && mv "$out" "$out.old"
mv "$tmp" "$out"
rm -rf "$out.old"
trap - EXIT
echo "busybox layout built: $out ($digest)"
