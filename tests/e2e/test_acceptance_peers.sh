#!/usr/bin/env bash
# Peers write, anyarch reads: an index that buildah assembled and pushed (buildah manifest
# create/add/push --all, vfs storage under the test's temp dir) is read by anyarch from the
# registry and from the oci: layout skopeo copied it into: every platform and child digest is
# seen, and a child that buildah labelled with the wrong architecture is caught by anyarch verify.
source "$(dirname "$0")/lib.sh"

start_plain_registry REG
push_busybox "$REG" >/dev/null
echo '{}' >"$WORK/buildah-auth.json"
export REGISTRY_AUTH_FILE=$WORK/buildah-auth.json
B=(buildah --storage-driver vfs --root "$WORK/buildah/root" --runroot "$WORK/buildah/run")

children=$(skopeo inspect --tls-verify=false --raw "docker://$REG/busybox:latest" |
  python3 -c 'import json,sys
for m in json.load(sys.stdin)["manifests"]:
    p=m["platform"]
    if p["architecture"] in ("amd64","arm64") or p.get("variant")=="v7":
        print(m["digest"])')
[ "$(wc -l <<<"$children")" = 3 ] || fail "expected three children, got: $children"

"${B[@]}" manifest create localhost/good >/dev/null
for d in $children; do
  "${B[@]}" manifest add --tls-verify=false localhost/good "docker://$REG/busybox@$d" >/dev/null
done
"${B[@]}" manifest push -q --all --tls-verify=false localhost/good "docker://$REG/from-buildah:good" 2>/dev/null
skopeo copy -q --all --src-tls-verify=false "docker://$REG/from-buildah:good" "oci:$WORK/sk:good"

# What buildah pushed, as skopeo serves it.
want=$(skopeo inspect --tls-verify=false --raw "docker://$REG/from-buildah:good" |
  python3 -c 'import json,sys
for m in json.load(sys.stdin)["manifests"]:
    p=m["platform"]; print("/".join(filter(None,[p["os"],p["architecture"],p.get("variant")])), m["digest"])' | sort)
got=$("$AA" verify --json "oci:$WORK/sk:good" | python3 -c 'import json,sys
r=json.load(sys.stdin); assert r["ok"] is True, r
for p in r["platforms"]: print(p["platform"], p["manifest"])' | sort)
assert_eq "$got" "$want" "platforms and manifests anyarch read from the buildah/skopeo layout"
pass "anyarch reads the index buildah pushed, via an oci: layout skopeo wrote ($(wc -l <<<"$got") platforms)"

# The same index straight from the registry buildah pushed it to.
got=$("$AA" verify --json "$REG/from-buildah:good" | python3 -c 'import json,sys
r=json.load(sys.stdin); assert r["ok"] is True, r
for p in r["platforms"]: print(p["platform"], p["manifest"])' | sort)
assert_eq "$got" "$want" "platforms and manifests anyarch read from buildah's push"
pass "anyarch reads the index buildah pushed, from the registry"

# buildah relabels the amd64 child as arm64; anyarch verify must notice the ELF does not match.
amd64=$(head -1 <<<"$children")
"${B[@]}" manifest create localhost/bad >/dev/null
"${B[@]}" manifest add --tls-verify=false localhost/bad "docker://$REG/busybox@$amd64" >/dev/null
"${B[@]}" manifest annotate --arch arm64 localhost/bad "$amd64" >/dev/null
"${B[@]}" manifest push -q --all --tls-verify=false localhost/bad "docker://$REG/from-buildah:bad" 2>/dev/null
skopeo copy -q --all --src-tls-verify=false "docker://$REG/from-buildah:bad" "oci:$WORK/sk:bad"
label=$(skopeo inspect --raw "oci:$WORK/sk:bad" | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifests"][0]["platform"]["architecture"])')
assert_eq "$label" arm64 "buildah's annotation"
expect_fail "$AA" verify "oci:$WORK/sk:bad"
assert_contains "$OUT$ERR" "/bin/busybox: found linux/amd64, expected linux/arm64" "verify names the file and both platforms"
pass "a child that buildah mislabelled is rejected by anyarch verify"
