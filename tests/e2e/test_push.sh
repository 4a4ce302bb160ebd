#!/usr/bin/env bash
# Pushing with anyarch copy: skopeo sees the exact bytes anyarch reports, every platform can be
# pulled back by skopeo, and a copy within one registry mounts blobs instead of downloading them.
source "$(dirname "$0")/lib.sh"
layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null
start_plain_registry REG

"$AA" copy --all "oci:$layout:latest" "$REG/busybox:1" >/dev/null
ours=$("$AA" inspect --raw "$REG/busybox:1" | sha256sum | cut -d' ' -f1)
theirs=$(skopeo inspect --tls-verify=false --raw "docker://$REG/busybox:1" | sha256sum | cut -d' ' -f1)
assert_eq "$ours" "$theirs" "skopeo inspect --raw returns the bytes anyarch pushed"
assert_eq "$ours" "$(skopeo inspect --raw "oci:$layout:latest" | sha256sum | cut -d' ' -f1)" "index digest preserved"
for arch in arm64 s390x ppc64le; do
  skopeo copy -q --src-tls-verify=false --override-arch "$arch" "docker://$REG/busybox:1" "oci:$WORK/back-$arch:x" >/dev/null
done
skopeo copy -q --src-tls-verify=false --override-arch arm --override-variant v7 "docker://$REG/busybox:1" "oci:$WORK/back-armv7:x" >/dev/null
pass "push round trip with skopeo"

# Within one registry, blobs are mounted: no blob is downloaded.
before=$(blob_gets "$REG_LOG")
out=$("$AA" copy --all --json "$REG/busybox:1" "$REG/mirror/busybox:1")
after=$(blob_gets "$REG_LOG")
assert_eq "$((after - before))" 0 "blob downloads during a same-registry copy"
assert_eq "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["blobs_mounted"])' "$out")" 16 "blobs mounted"
assert_eq "$("$AA" run --rm --platform linux/arm64 "$REG/mirror/busybox:1" uname -m)" aarch64 "the mirror runs"
pass "cross-repository mount"

# Pushing again skips what is there.
out=$("$AA" copy --all --json "oci:$layout:latest" "$REG/busybox:1")
assert_eq "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["blobs_copied"], d["blobs_skipped"])' "$out")" "0 16" "HEAD skips existing blobs"
pass "idempotent push"
