#!/usr/bin/env bash
# Round trips between anyarch and the peers: what skopeo and buildah pushed, anyarch reads byte
# for byte and copies with the same digest; oci: layouts anyarch writes (from a registry and from
# a layout skopeo wrote) pass oci-image-tool validate and read back in skopeo with that digest.
source "$(dirname "$0")/lib.sh"

start_plain_registry REG
layout=$(busybox_layout)
digest=$(busybox_digest)
sha() { echo "sha256:$(sha256sum | cut -d' ' -f1)"; }

# 1. skopeo pushes the index; anyarch inspect --raw returns the exact bytes and --json the digest.
push_busybox "$REG" rt:latest >/dev/null
"$AA" inspect --raw "$REG/rt:latest" >"$WORK/aa.raw"
skopeo inspect --tls-verify=false --raw "docker://$REG/rt:latest" >"$WORK/sk.raw"
cmp -s "$WORK/aa.raw" "$WORK/sk.raw" || fail "anyarch inspect --raw and skopeo inspect --raw differ"
assert_eq "$(sha <"$WORK/aa.raw")" "$digest" "digest of anyarch inspect --raw"
assert_contains "$("$AA" inspect --json "$REG/rt:latest")" "$digest" "digest in anyarch inspect --json"
pass "anyarch inspect reads skopeo's push byte for byte ($digest)"

# 2. buildah assembles and pushes an index; anyarch reads exactly what the registry holds.
echo '{}' >"$WORK/buildah-auth.json"
export REGISTRY_AUTH_FILE=$WORK/buildah-auth.json
B=(buildah --storage-driver vfs --root "$WORK/buildah/root" --runroot "$WORK/buildah/run")
"${B[@]}" manifest create localhost/list >/dev/null
for d in $(python3 -c 'import json,sys; [print(m["digest"]) for m in json.load(open(sys.argv[1]))["manifests"][:4]]' "$WORK/sk.raw"); do
  "${B[@]}" manifest add --tls-verify=false localhost/list "docker://$REG/rt@$d" >/dev/null
done
"${B[@]}" manifest push -q --all --tls-verify=false localhost/list "docker://$REG/from-buildah:latest" 2>/dev/null
skopeo inspect --tls-verify=false --raw "docker://$REG/from-buildah:latest" >"$WORK/bh.raw"
"$AA" inspect --raw "$REG/from-buildah:latest" >"$WORK/bh-aa.raw"
cmp -s "$WORK/bh.raw" "$WORK/bh-aa.raw" || fail "anyarch reads different bytes for buildah's index"
"$AA" copy --all "$REG/from-buildah:latest" "oci:$WORK/aa-bh:v1"
assert_eq "$(skopeo inspect --raw "oci:$WORK/aa-bh:v1" | sha)" "$(sha <"$WORK/bh.raw")" "buildah's index copied by anyarch"
pass "anyarch reads and copies the index buildah pushed"

# 3. A layout skopeo wrote -> anyarch -> a layout anyarch wrote, which oci-image-tool accepts.
skopeo copy -q --all "oci:$layout:latest" "oci:$WORK/sk-layout:v2"
"$AA" copy --all "oci:$WORK/sk-layout:v2" "oci:$WORK/aa-layout:v3"
(cd "$WORK" && oci-image-tool validate --type image "$WORK/aa-layout" >/dev/null) || fail "oci-image-tool rejects anyarch's layout"
(cd "$WORK" && oci-image-tool validate --type image "$WORK/aa-bh" >/dev/null) || fail "oci-image-tool rejects anyarch's layout (buildah source)"
assert_eq "$(skopeo inspect --raw "oci:$WORK/aa-layout:v3" | sha)" "$digest" "digest of anyarch's layout"
pass "oci: layouts anyarch wrote validate and read back in skopeo"
