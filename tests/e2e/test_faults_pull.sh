#!/usr/bin/env bash
# Reading images from a registry behind faultproxy (tests/e2e/faultproxy.py): anyarch retries
# 503 and 429 (Retry-After) and connections dropped mid-blob, and still checks every digest;
# a tampered blob fails with an error that names the blob and both digests, and leaves no staged
# blob behind. Uses anyarch verify and run, which read registry references through the pull client.
source "$(dirname "$0")/lib.sh"

start_plain_registry REG
push_busybox "$REG" >/dev/null
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

# 1. Transient faults: two 503s on manifests, two 429s and then two mid-body drops on blobs.
start_faultproxy PX "$REG" --status '/manifests/:503:2' --status '/blobs/sha256:.*:429:2' \
  --drop '/blobs/sha256:.*:2' --retry-after 1
out=$("$AA" verify "$PX/busybox:latest") || fail "verify through transient faults: $out"
assert_eq "$(grep -cE ', ok$' <<<"$out")" 8 "platforms verified through the faults"
assert_eq "$(grep -c ' -> 503 \[injected\]' "$PX_LOG")" 2 "503 answers served"
assert_eq "$(grep -c ' -> 429 \[injected\]' "$PX_LOG")" 2 "429 answers served"
assert_eq "$(grep -c 'dropped after' "$PX_LOG")" 2 "blob downloads dropped mid-body"
pass "verify of 8 platforms completes through 2x503, 2x429 and 2 mid-blob drops"

start_faultproxy PX2 "$REG" --status '/blobs/sha256:.*:503:1' --drop '/blobs/sha256:.*:1'
assert_eq "$("$AA" run --rm --platform linux/amd64 "$PX2/busybox:latest" uname -m)" x86_64 "run through faults"
grep -q 'dropped after' "$PX2_LOG" || fail "no drop happened during run"
pass "run pulls through a 503 and a mid-blob drop"

# 2. Every blob tampered (same length, one byte flipped): a clear digest error, nothing staged left.
start_faultproxy BAD "$REG" --tamper '/blobs/sha256:.*:100000'
expect_fail "$AA" verify "$BAD/busybox:latest"
assert_contains "$ERR" "expected sha256:" "error gives the expected digest"
assert_contains "$ERR" "has digest sha256:" "error gives the digest received"
grep -q '\[tamper\]' "$BAD_LOG" || fail "the proxy tampered nothing"
expect_fail "$AA" run --rm --platform linux/arm64 "$BAD/busybox:latest" uname -m
assert_contains "$ERR" "expected sha256:" "run's error on a tampered blob"
left=$(find "$TMPDIR" -type f)
assert_eq "$left" "" "staged files left in TMPDIR after failed reads"
pass "tampered blob rejected: $(head -1 <<<"$ERR" | cut -c1-160)"
