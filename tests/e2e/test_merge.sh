#!/usr/bin/env bash
# anyarch manifest merge (buildx imagetools create): indexes and single images from several
# repositories and registries become one index. Within one registry no layer is downloaded
# (children are mounted); from another registry the children are copied; --platform filters;
# two images for one platform are refused; --dry-run pushes nothing; skopeo and buildah pull
# every platform of the result.
source "$(dirname "$0")/lib.sh"
mk="$SRC/tests/tools/make_image.py"
digest=$(busybox_digest)
start_plain_registry REG
start_plain_registry OTHER
push_busybox "$REG" base/busybox:latest >/dev/null
for pair in amd64=linux/amd64 arm64=linux/arm64; do
  deb=${pair%%=*}
  python3 "$mk" "$WORK/img-$deb" --single --tag x --docker-types \
    --image "${pair#*=}=busybox:$(busybox_bin "$deb"),etc/app#=$deb" >/dev/null
  # skopeo 1.9 skips index.json entries with Docker media types: anyarch pushes these.
  "$AA" --progress quiet copy "oci:$WORK/img-$deb:x" "$REG/app:$deb" >/dev/null
done
python3 "$mk" "$WORK/img-s390x" --single --tag x \
  --image "linux/s390x=busybox:$(busybox_bin s390x),etc/app#=s390x" >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$WORK/img-s390x:x" "docker://$OTHER/app:s390x"
layer_gets() { layer_downloads "$REG_LOG"; }
q=(--progress quiet)

# 1. Two Docker schema 2 images in one repository -> a Docker manifest list, no download.
before=$(layer_gets)
out=$("$AA" "${q[@]}" manifest merge --json -t "$REG/app:multi" "$REG/app:amd64" "$REG/app:arm64")
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json", d
assert sorted(d["platforms"]) == ["linux/amd64", "linux/arm64"], d
assert d["children_copied"] == 0, d
PY
assert_eq "$(layer_gets)" "$before" "blob downloads during a same-repository merge"
pass "merge of two images: a Docker manifest list, nothing downloaded"

# 2. An index plus images from another repository, filtered by platform: children are mounted.
before=$(layer_gets)
out=$("$AA" "${q[@]}" manifest merge --json -t "$REG/mixed:1" -t "$REG/mixed:latest" \
  --platform linux/arm/v7,linux/ppc64le,linux/amd64 "$REG/base/busybox:latest" "$REG/app:arm64")
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert sorted(d["platforms"]) == ["linux/amd64", "linux/arm/v7", "linux/ppc64le"], d
assert d["blobs_copied"] == 0 and d["blobs_mounted"] > 0, d
assert len(d["targets"]) == 2, d
PY
assert_eq "$(layer_gets)" "$before" "blob downloads during a cross-repository merge"
for t in 1 latest; do
  assert_eq "$(skopeo inspect --tls-verify=false --raw "docker://$REG/mixed:$t" | sha256sum | cut -d' ' -f1)" \
    "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["digest"][7:])' "$out")" "tag $t"
done
assert_eq "$("$AA" run --rm --platform linux/arm/v7 "$REG/mixed:1" uname -m)" armv7l "the merged index runs"
[ "$(layer_gets)" -gt "$before" ] || fail "the layer counter saw no download even for a run"
pass "merge with --platform across repositories: blobs mounted, both tags point at the index"

# 3. Across registries: the s390x child is copied from OTHER, then everything pulls.
out=$("$AA" "${q[@]}" manifest merge --json -t "$REG/app:all" "$REG/app:multi" "$OTHER/app:s390x")
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["mediaType"] == "application/vnd.oci.image.index.v1+json", d  # mixed children
assert sorted(d["platforms"]) == ["linux/amd64", "linux/arm64", "linux/s390x"], d
assert d["children_copied"] == 1 and d["blobs_copied"] == 2, d
PY
for a in amd64 arm64 s390x; do
  skopeo copy -q --src-tls-verify=false --override-arch "$a" "docker://$REG/app:all" "oci:$WORK/back:$a"
done
echo '{}' >"$WORK/auth.json"
REGISTRY_AUTH_FILE=$WORK/auth.json buildah --storage-driver vfs --root "$WORK/b/root" --runroot "$WORK/b/run" \
  pull -q --tls-verify=false --arch s390x "docker://$REG/app:all" >/dev/null || fail "buildah pull"
assert_eq "$("$AA" run --rm --platform linux/s390x "$REG/app:all" cat /etc/app)" s390x "the copied child runs"
pass "merge across registries copies the foreign child; skopeo and buildah pull every platform"

# 4. Refusals and dry runs.
expect_fail "$AA" manifest merge -t "$REG/bad:1" "$REG/app:amd64" "$REG/mixed:1"
assert_contains "$ERR" "two images for linux/amd64" "duplicate platform"
expect_fail "$AA" manifest merge -t "$REG/bad:1" --platform linux/riscv64 "$REG/app:amd64"
assert_contains "$ERR" "linux/riscv64" "no match names the platform"
puts=$(access_log_count "$REG_LOG" PUT '/v2/')
out=$("$AA" "${q[@]}" manifest merge --dry-run --annotation org.opencontainers.image.version=1.0 \
  -t "$REG/dry:1" "$REG/app:amd64" "$REG/app:arm64")
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["mediaType"] == "application/vnd.oci.image.index.v1+json", d  # annotations need OCI
assert d["annotations"] == {"org.opencontainers.image.version": "1.0"}, d
PY
assert_eq "$(access_log_count "$REG_LOG" PUT '/v2/')" "$puts" "PUTs during a dry run"
pass "duplicate platforms refused; --dry-run pushes nothing"
