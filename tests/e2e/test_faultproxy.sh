#!/usr/bin/env bash
# faultproxy.py itself: passthrough of a full skopeo push (POST, chunked PATCH, PUT, Location
# rewriting), injected 503/429 with Retry-After, a connection dropped mid-blob, a tampered blob.
source "$(dirname "$0")/lib.sh"

start_plain_registry REG
start_faultproxy PX "$REG" \
  --status '/manifests/:503:2' --status '/tags/list:429:1' \
  --drop '/blobs/sha256:.*:1' --tamper '/blobs/sha256:.*:1'

# 1. Everything passes through the proxy: skopeo pushes the whole index via the proxy, and the
#    upload Location the client saw pointed at the proxy, not at the registry.
start_faultproxy CLEAN "$REG"
push_busybox "$CLEAN" >/dev/null
digest=$(busybox_digest)
direct=sha256:$(skopeo inspect --tls-verify=false --raw "docker://$REG/busybox:latest" | sha256sum | cut -d' ' -f1)
assert_eq "$direct" "$digest" "index pushed through the proxy"
grep -q '^PATCH /v2/busybox/blobs/uploads/' "$CLEAN_LOG" || fail "no upload PATCH went through the proxy"
loc=$(curl -s -D - -o /dev/null -X POST "http://$CLEAN/v2/busybox/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
assert_contains "$loc" "http://$CLEAN/v2/busybox/blobs/uploads/" "Location rewritten to the proxy"
pass "passthrough push and Location rewriting"

accept='Accept: application/vnd.oci.image.index.v1+json'
# 2. 503 twice with Retry-After, then the real answer.
for i in 1 2; do
  hdrs=$(curl -s -D - -o /dev/null -H "$accept" "http://$PX/v2/busybox/manifests/latest" | tr -d '\r')
  assert_contains "$hdrs" "HTTP/1.1 503" "request $i status"
  assert_contains "$hdrs" "Retry-After: 1" "request $i Retry-After"
done
code=$(curl -s -o "$WORK/index" -w '%{http_code}' -H "$accept" "http://$PX/v2/busybox/manifests/latest")
assert_eq "$code" 200 "third manifest request"
assert_eq "sha256:$(sha256sum <"$WORK/index" | cut -d' ' -f1)" "$digest" "manifest bytes via the proxy"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$PX/v2/busybox/tags/list")" 429 "tags 429"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$PX/v2/busybox/tags/list")" 200 "tags after 429"
pass "503/429 with Retry-After for the first N matches only"

# 3. A blob: first GET dropped half way, second tampered (same length, other bytes), third intact.
layer=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["layers"][0]["digest"])' \
  "$(busybox_layout)/blobs/sha256/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$WORK/index")")
url="http://$PX/v2/busybox/blobs/$layer"
size=$(stat -c %s "$(busybox_layout)/blobs/sha256/${layer#sha256:}")
set +e; curl -s -o "$WORK/b1" "$url"; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "dropped blob download succeeded"
got=$(stat -c %s "$WORK/b1")
[ "$got" -lt "$size" ] && [ "$got" -gt 0 ] || fail "dropped blob: got $got of $size bytes"
curl -sf -o "$WORK/b2" "$url"
assert_eq "$(stat -c %s "$WORK/b2")" "$size" "tampered blob length"
[ "sha256:$(sha256sum <"$WORK/b2" | cut -d' ' -f1)" != "$layer" ] || fail "tampered blob has the right digest"
assert_eq "$(cmp -l "$WORK/b2" "$(busybox_layout)/blobs/sha256/${layer#sha256:}" | wc -l)" 1 "bytes changed by tamper"
curl -sf -o "$WORK/b3" "$url"
assert_eq "sha256:$(sha256sum <"$WORK/b3" | cut -d' ' -f1)" "$layer" "intact blob after the faults"
grep -q 'dropped after' "$PX_LOG" || fail "proxy log has no drop"
pass "drop mid-body ($got of $size bytes), tamper one byte, then intact"

# 4. A chunked PATCH upload of 3 MiB through the proxy, closed by PUT ?digest=, lands intact.
head -c 3145728 /dev/urandom >"$WORK/up"
want=sha256:$(sha256sum <"$WORK/up" | cut -d' ' -f1)
loc=$(curl -s -D - -o /dev/null -X POST "http://$CLEAN/v2/up/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
loc=$(curl -s -D - -o /dev/null -X PATCH -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
  --data-binary @"$WORK/up" "$loc" | tr -d '\r' | sed -n 's/^Location: //Ip')
assert_contains "$loc" "http://$CLEAN/" "Location after PATCH"
sep='?'; [[ "$loc" == *'?'* ]] && sep='&'
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$loc${sep}digest=$want")" 201 "closing PUT"
curl -sf -o "$WORK/down" "http://$REG/v2/up/blobs/$want"
cmp -s "$WORK/up" "$WORK/down" || fail "chunked upload through the proxy changed the bytes"
pass "chunked PATCH upload passthrough"
