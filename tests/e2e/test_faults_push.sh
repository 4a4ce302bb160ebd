#!/usr/bin/env bash
# Registry -> registry copies through faults on both sides: the source answers 503/429 and drops
# blob downloads half way, the destination refuses upload starts, blob PUTs, chunk PATCHes and
# manifest PUTs a few times. Every copy completes with the source's index digest, and the
# destination's blobs are the right bytes (the registry checks the digest of every upload).
source "$(dirname "$0")/lib.sh"
digest=$(busybox_digest)
start_plain_registry SRCREG
push_busybox "$SRCREG" busybox:latest >/dev/null

check() {  # check REF WHAT
  assert_eq "sha256:$(skopeo inspect --tls-verify=false --raw "docker://$1" | sha256sum | cut -d' ' -f1)" "$digest" "$2"
  skopeo copy -q --src-tls-verify=false --override-arch s390x "docker://$1" "oci:$WORK/check-$RANDOM:x" \
    || fail "$2: skopeo cannot pull s390x"
}

# 1. Monolithic uploads.
start_plain_registry DST
start_faultproxy FROM "$SRCREG" --status '/manifests/:503:1' --status '/blobs/sha256:.*:429:2' \
  --drop '/blobs/sha256:.*:2' --retry-after 1
start_faultproxy PUSH "$DST" --status '/blobs/uploads/$:503:2' --status '/blobs/uploads/.+:503:2' \
  --status '/manifests/:500:1' --retry-after 1
"$AA" --progress plain --insecure copy --all "$FROM/busybox:latest" "$PUSH/busybox:1" >/dev/null 2>"$WORK/log" \
  || fail "copy through faults: $(tail -3 "$WORK/log")"
check "$DST/busybox:1" "monolithic uploads through faults"
grep -q 'starting it over' "$WORK/log" || fail "no blob upload was started over"
grep -q 'resuming' "$WORK/log" || fail "no download was resumed"
pass "registry -> registry through 503/429, dropped downloads and failed uploads"

# 2. Chunked uploads: a failed PATCH is resent after asking the registry what it has.
start_plain_registry DST2
start_faultproxy PUSH2 "$DST2" --status '/blobs/uploads/.+:503:3' --retry-after 1
"$AA" --progress plain --insecure copy --all --chunk-size 128KiB "$SRCREG/busybox:latest" "$PUSH2/busybox:1" >/dev/null \
  2>"$WORK/log2" || fail "chunked copy through faults: $(tail -3 "$WORK/log2")"
check "$DST2/busybox:1" "chunked uploads through faults"
[ "$(grep -c 'PATCH .* -> 503' "$PUSH2_LOG")" -gt 0 ] || fail "no PATCH was refused"
pass "chunked uploads recover from refused PATCHes"
