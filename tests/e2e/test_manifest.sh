#!/usr/bin/env bash
# anyarch manifest create / annotate / inspect / push / rm against docker-registry: three
# per-architecture tags become one index that skopeo and buildah pull for each platform, and no
# layer is downloaded on the way.
source "$(dirname "$0")/lib.sh"
mk="$SRC/tests/tools/make_image.py"
start_plain_registry REG
for pair in amd64=linux/amd64 arm64=linux/arm64 armhf=linux/arm; do
  deb=${pair%%=*}
  plat=${pair#*=}
  # The arm image says only "arm" (no variant), as images built without --platform often do.
  python3 "$mk" "$WORK/img-$deb" --single --tag x --image "$plat=busybox:$(busybox_bin "$deb")" >/dev/null
  skopeo copy -q --dest-tls-verify=false "oci:$WORK/img-$deb:x" "docker://$REG/app:$deb" >/dev/null
done
layer_digests=$(for d in "$WORK"/img-*; do
  python3 -c 'import json,sys,os; d=sys.argv[1]; i=json.load(open(d+"/index.json")); m=json.load(open(d+"/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print("\n".join(l["digest"] for l in m["layers"]))' "$d"
done)
layer_gets() {
  local n=0 d
  for d in $layer_digests; do n=$((n + $(grep -c "GET /v2/[^ ]*/blobs/$d" "$REG_LOG" || true))); done
  echo $n
}

# Only manifests (and, for images without a platform in an index, their configs) may be read
# while a list is created, annotated and pushed: never a layer.
before_create=$(layer_gets)
out=$("$AA" manifest create "$REG/app:1" "$REG/app:amd64" "$REG/app:arm64" "$REG/app:armhf")
assert_contains "$out" "(3 images)" "three entries"
assert_contains "$out" "linux/arm/v7" "arm normalised"
expect_fail "$AA" manifest create "$REG/app:1" "$REG/app:amd64"
assert_contains "$ERR" "--amend" "existing list needs --amend"
# A name that is no local list is read from its registry, exactly as served.
remote=$("$AA" --insecure manifest inspect "$REG/app:amd64")
assert_eq "$(printf '%s' "$remote" | sha256sum | cut -d' ' -f1)" \
  "$(skopeo inspect --tls-verify=false --raw "docker://$REG/app:amd64" | sha256sum | cut -d' ' -f1)" \
  "manifest inspect of a remote image gives its bytes"
expect_fail "$AA" --insecure manifest inspect "$REG/app:nope"
assert_contains "$ERR" "no local manifest list" "a name in neither place says both"
# --amend re-adding an image keeps its place; a second image for a platform is refused.
order() { "$AA" manifest inspect "$1" | jq -r '[.manifests[].digest] | join(",")'; }
first=$(order "$REG/app:1")
"$AA" manifest create --amend "$REG/app:1" "$REG/app:amd64" >/dev/null
assert_eq "$(order "$REG/app:1")" "$first" "--amend of an entry keeps the order"
python3 "$mk" "$WORK/img-amd64b" --single --tag x --image "linux/amd64=/bin/other=$(busybox_bin amd64)" >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$WORK/img-amd64b:x" "docker://$REG/app:amd64b" >/dev/null
"$AA" manifest create "$REG/dup:1" "$REG/app:amd64" >/dev/null
expect_fail "$AA" manifest create --amend "$REG/dup:1" "$REG/app:amd64b"
assert_contains "$ERR" "are both linux/amd64" "two images for one platform are refused"
"$AA" manifest rm "$REG/dup:1" >/dev/null
"$AA" manifest annotate "$REG/app:1" "$REG/app:armhf" --arch arm --variant v7 >/dev/null
idx=$("$AA" manifest inspect "$REG/app:1")
python3 - "$idx" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["mediaType"] == "application/vnd.oci.image.index.v1+json", d["mediaType"]
plats = sorted(m["platform"]["architecture"] + m["platform"].get("variant", "") for m in d["manifests"])
assert plats == ["amd64", "arm64", "armv7"], plats
PY
out=$("$AA" manifest push --purge "$REG/app:1")
assert_contains "$out" "pushed $REG/app:1@sha256:" "push"
assert_eq "$(layer_gets)" "$before_create" "layer downloads during create, annotate and push"
assert_not_contains "$("$AA" manifest ls)" "$REG/app:1" "purged"
# With the local list gone, inspect reads the pushed index from the registry.
assert_eq "$("$AA" manifest inspect "$REG/app:1" | jq '.manifests | length')" 3 \
  "manifest inspect after the purge reads the pushed index"
pass "create, annotate, inspect, push"

for p in "amd64:" "arm64:" "arm:v7"; do
  a=${p%%:*}
  v=${p#*:}
  args=(--override-arch "$a")
  [ -n "$v" ] && args+=(--override-variant "$v")
  skopeo copy -q --src-tls-verify=false "${args[@]}" "docker://$REG/app:1" "oci:$WORK/back:$a" >/dev/null
done
echo '{}' >"$WORK/buildah-auth.json"
B=(buildah --storage-driver vfs --root "$WORK/buildah/root" --runroot "$WORK/buildah/run")
REGISTRY_AUTH_FILE=$WORK/buildah-auth.json "${B[@]}" pull -q --tls-verify=false --arch arm --variant v7 "docker://$REG/app:1" >/dev/null
REGISTRY_AUTH_FILE=$WORK/buildah-auth.json "${B[@]}" pull -q --tls-verify=false --arch arm64 "docker://$REG/app:1" >/dev/null
assert_eq "$("$AA" run --rm --platform linux/arm/v7 "$REG/app:1" uname -m)" armv7l "the pushed index runs"
pass "skopeo and buildah pull every platform"

# Pushing the list to another repository copies the children by mounting their blobs.
before=$(layer_gets)
"$AA" manifest create "$REG/other/app:2" "$REG/app:amd64" "$REG/app:arm64" >/dev/null
out=$("$AA" manifest push "$REG/other/app:2")
assert_contains "$out" "2 images copied from other repositories" "children copied"
assert_contains "$out" "4 blobs mounted, 0 copied" "configs and layers mounted"
assert_eq "$(layer_gets)" "$before" "layer downloads during create and push"
skopeo inspect --tls-verify=false --raw "docker://$REG/other/app:2" >/dev/null
"$AA" manifest rm "$REG/other/app:2"
pass "no layer downloads"
