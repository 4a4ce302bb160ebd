#!/usr/bin/env bash
# anyarch copy / pull into OCI layouts and the local store, images, and what a failed copy
# leaves behind (nothing).
source "$(dirname "$0")/lib.sh"
layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null
index_digest="sha256:$(skopeo inspect --raw "oci:$layout:latest" | sha256sum | cut -d' ' -f1)"
start_plain_registry REG
skopeo copy -q --all --dest-tls-verify=false "oci:$layout:latest" "docker://$REG/busybox:latest" >/dev/null

# --all keeps the index bytes: same digest; skopeo reads the result.
out=$("$AA" copy --all "$REG/busybox:latest" "oci:$WORK/copy:all")
assert_contains "$out" "digest:    $index_digest" "--all keeps the digest"
assert_eq "sha256:$(skopeo inspect --raw "oci:$WORK/copy:all" | sha256sum | cut -d' ' -f1)" "$index_digest" "skopeo reads it"
# A second copy skips every blob.
out=$("$AA" copy --all --json "$REG/busybox:latest" "oci:$WORK/copy:again")
assert_eq "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["blobs_copied"], d["blobs_skipped"])' "$out")" "0 16" "existing blobs skipped"
pass "copy --all"

# A platform subset makes a new index with only those platforms.
"$AA" copy --platform linux/arm64,linux/arm/v7 "oci:$layout:latest" "oci:$WORK/copy:sub" >/dev/null
plats=$(skopeo inspect --raw "oci:$WORK/copy:sub" | python3 -c 'import json,sys; print(",".join(m["platform"]["architecture"]+m["platform"].get("variant","") for m in json.load(sys.stdin)["manifests"]))')
assert_eq "$plats" "arm64,armv7" "subset index"
skopeo copy -q "--override-arch=arm" "--override-variant=v7" "oci:$WORK/copy:sub" "oci:$WORK/skopeo-out:v7" >/dev/null
pass "platform subset"

# pull into the local store; images lists it; run and verify use it.
"$AA" pull --all-platforms "$REG/busybox:latest" >/dev/null
out=$("$AA" images)
assert_contains "$out" "$REG/busybox:latest" "images lists the pull"
assert_contains "$out" "linux/arm/v5" "platforms listed"
assert_eq "$("$AA" run --rm --platform linux/s390x "local:$REG/busybox:latest" uname -m)" s390x "run from the store"
pass "pull, images, run local:"

# --platform asking for an architecture the index lacks lists what it has; nothing is tagged.
expect_fail "$AA" copy --platform linux/riscv64 "oci:$layout:latest" "oci:$WORK/copy:nope"
assert_contains "$ERR" "it has linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v5" "platforms listed"
if grep -q '"nope"' "$WORK/copy/index.json"; then fail "a failed copy left a tag"; fi

# A tampered blob fails the copy with a digest error, and leaves neither the tag nor the blob.
cp -r "$layout" "$WORK/tampered"
victim=$(ls -S "$WORK/tampered/blobs/sha256" | head -1)
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[100]^=1; open(p,"wb").write(bytes(b))' \
  "$WORK/tampered/blobs/sha256/$victim"
expect_fail "$AA" copy --all "oci:$WORK/tampered:latest" "oci:$WORK/dest:t"
assert_contains "$ERR" "sha256:$victim" "tampered blob named"
assert_contains "$ERR" "content has digest" "digest mismatch"
[ ! -e "$WORK/dest/blobs/sha256/$victim" ] || fail "the tampered blob was stored"
! grep -q '"t"' "$WORK/dest/index.json" || fail "the failed copy was tagged"
[ -z "$(find "$WORK/dest" -name '.*tmp*')" ] || fail "temporary files left behind"
pass "tampered blob leaves nothing"


# copy --all of an index to a docker-archive fails before any blob moves (as export does).
expect_fail "$AA" copy --all "oci:$(busybox_layout):latest" "docker-archive:$WORK/all.tar"
assert_eq "$RC" 6 "invalid input"
assert_contains "$ERR" "holds one image" "the error says why"
assert_contains "$ERR" "linux/arm64" "the error lists the platforms"
assert_not_contains "$ERR$OUT" "copied sha256" "nothing was copied first"
[ -z "$(ls -A "$WORK" | grep -F all.tar)" ] || fail "a docker-archive copy that failed left files"
pass "copy --all to a docker-archive is refused up front"
