#!/usr/bin/env bash
# anyarch copy against a registry behind faultproxy: 503/429 with Retry-After and a connection
# dropped mid-blob are retried and the copy completes with every digest right; a tampered blob
# fails the copy with a digest error and leaves nothing behind in the local store.
source "$(dirname "$0")/lib.sh"

start_plain_registry REG
push_busybox "$REG" >/dev/null
digest=$(busybox_digest)

# check_layout DIR: every blob's sha256 equals its name.
check_layout() {
  python3 - "$1" <<'PY'
import hashlib, os, sys
d = os.path.join(sys.argv[1], "blobs", "sha256")
bad = [n for n in os.listdir(d) if hashlib.sha256(open(os.path.join(d, n), "rb").read()).hexdigest() != n]
assert not bad, "blobs with wrong content: %s" % bad
print(len(os.listdir(d)))
PY
}

# 1. Transient faults: retried, and the result is exact.
start_faultproxy PX "$REG" --status '/manifests/:503:2' --status '/blobs/sha256:.*:429:2' \
  --drop '/blobs/sha256:.*:2' --retry-after 1
"$AA" --insecure copy --all "$PX/busybox:latest" "oci:$WORK/out:v1" || fail "copy through transient faults"
n=$(check_layout "$WORK/out") || fail "blob digests after the faults"
assert_eq "$(skopeo inspect --raw "oci:$WORK/out:v1" | sha256sum | cut -d' ' -f1)" "${digest#sha256:}" "index digest after the faults"
assert_eq "$(grep -c 'injected' "$PX_LOG")" 4 "injected 503/429 answers seen"
assert_eq "$(grep -c 'dropped after' "$PX_LOG")" 2 "dropped blob downloads seen"
pass "copy completes through 503, 429 and two mid-blob drops ($n blobs, all verified)"

# 2. The same into the local store.
start_faultproxy PX2 "$REG" --status '/blobs/sha256:.*:503:1' --drop '/blobs/sha256:.*:1'
"$AA" --insecure copy --all "$PX2/busybox:latest" local:faults/busybox:ok
check_layout "$ANYARCH_ROOT" >/dev/null || fail "store blobs after the faults"
pass "copy into the local store completes through faults"

# 3. Tampered blobs (every GET): a clear digest error, and no trace in the store. A second store
#    that holds only the amd64 image, so the other platforms' blobs must be downloaded.
export ANYARCH_ROOT=$WORK/store-tamper
"$AA" --insecure copy --platform linux/amd64 "$REG/busybox:latest" local:faults/busybox:amd64
before=$(cd "$ANYARCH_ROOT" && find . -type f | sort | xargs sha256sum)
start_faultproxy BAD "$REG" --tamper '/blobs/sha256:.*:100000'
expect_fail "$AA" --insecure copy --all "$BAD/busybox:latest" local:faults/busybox:tampered
assert_contains "$ERR" "digest" "error names the digest problem"
grep -q 'tamper' "$BAD_LOG" || fail "the proxy tampered nothing"
after=$(cd "$ANYARCH_ROOT" && find . -type f | sort | xargs sha256sum)
assert_eq "$after" "$before" "store after a failed copy"
assert_not_contains "$("$AA" images 2>&1)" "tampered" "images after a failed copy"
pass "tampered blob: '$(head -1 <<<"$ERR")' and the store is unchanged"

# 4. The same into an oci: layout: no index entry and no bad blob left.
expect_fail "$AA" --insecure copy --all "$BAD/busybox:latest" "oci:$WORK/bad:v1"
if [ -f "$WORK/bad/index.json" ]; then
  assert_not_contains "$(cat "$WORK/bad/index.json")" '"v1"' "index.json after a failed copy"
fi
[ ! -d "$WORK/bad/blobs" ] || check_layout "$WORK/bad" >/dev/null || fail "bad blob left in the layout"
pass "tampered blob into oci: leaves no tag and no bad blob"
