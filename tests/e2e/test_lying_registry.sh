#!/usr/bin/env bash
# A registry that lies (tests/e2e/faultproxy.py in front of docker-registry): a Content-Length
# that disagrees with the body, a body without end, megabytes of headers, a redirect loop, a
# redirect to another host (credentials must not follow), a token endpoint that answers garbage
# or never answers, a Content-Type that contradicts the manifest's mediaType, an index served
# again under a digest it lists, and a 200 with other bytes for a blob. Each `anyarch pull
# --all-platforms` through a lie must fail with its own error class (exit code and message)
# within a time bound, and leave the local store exactly as it was: no blob, no temporary file.
source "$(dirname "$0")/lib.sh"

start_plain_registry REG
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

# A small two-platform image of our own (no base images needed): layers of a few KiB.
head -c 20000 /dev/urandom >"$WORK/noise"
python3 "$SRC/tests/tools/make_image.py" "$WORK/img" --tag latest \
  --image "linux/amd64=etc/hello#=amd64,bin/noise=$WORK/noise" \
  --image "linux/arm64=etc/hello#=arm64,bin/noise=$WORK/noise" >/dev/null
skopeo copy -q --all --dest-tls-verify=false "oci:$WORK/img:latest" "docker://$REG/lies:latest" \
  || fail "skopeo could not push the test image"

# The store before any lie holds another image (other blobs), pulled directly: a lie must leave
# every file of it as it is (names, sizes, contents) and add none.
head -c 20000 /dev/urandom >"$WORK/other"
python3 "$SRC/tests/tools/make_image.py" "$WORK/ok" --tag latest \
  --image "linux/amd64=etc/ok#=ok,bin/other=$WORK/other" >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$WORK/ok:latest" "docker://$REG/ok:latest" \
  || fail "skopeo could not push the second image"
"$AA" pull "$REG/ok:latest" >/dev/null
store_state() { (cd "$ANYARCH_ROOT" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
before=$(store_state)
[ -n "$before" ] || fail "the store is empty after a pull"

# lie NAME MAX_SECONDS WANT_RC MESSAGE -- FAULT ARGS...: a fresh proxy with the fault, one pull
# through it; the pull must exit WANT_RC within MAX_SECONDS with MESSAGE in its error, and the
# store and TMPDIR must be unchanged.
lie() {
  local name=$1 max=$2 want_rc=$3 msg=$4 t0 t1
  shift 5
  start_faultproxy PX "$REG" "$@"
  t0=$(date +%s%N)
  expect_fail "$AA" pull --all-platforms "$PX/lies:latest"
  t1=$(date +%s%N)
  local ms=$(((t1 - t0) / 1000000))
  assert_eq "$RC" "$want_rc" "$name: exit code (stderr: $ERR)"
  assert_contains "$ERR" "$msg" "$name: error message"
  ((ms <= max * 1000)) || fail "$name: took $ms ms, bound ${max}s"
  assert_eq "$(store_state)" "$before" "$name: the store changed"
  assert_eq "$(find "$TMPDIR" -mindepth 1)" "" "$name: files left in TMPDIR"
  pass "$name: exit $RC in $ms ms, store unchanged: $(head -1 <<<"$ERR" | cut -c1-150)"
}

# The exit codes by error class (the README's table): 1 I/O, 4 unauthorized, 5 unavailable,
# 6 invalid input, 7 digest mismatch; each case also names its cause.
# 1. Content-Length larger than the body: every blob answer is cut short; retried with Range,
#    then given up.
lie "Content-Length above the body" 60 1 "ended before the end of the body" -- \
  --length '/blobs/sha256:.*:1000:1000'
# ... and smaller than the body: the body ends cleanly before the descriptor's size.
lie "Content-Length below the body" 30 7 "the registry sent" -- --length '/blobs/sha256:.*:-100:1000'
# 2. A body that never ends: manifests are cut at 4 MiB, blobs at their descriptor's size.
lie "endless manifest body" 30 6 "over 4 MiB" -- --endless '/manifests/:1000'
lie "endless blob body" 30 7 "more than the" -- --endless '/blobs/sha256:.*:1000'
# 3. 4 MiB of headers: refused at 256 KiB, not retried.
lie "4 MiB of headers" 30 6 "KiB of response headers" -- --huge-headers '/manifests/:1000'
# 4. A redirect loop: curl stops after 5, and the loop is not retried.
lie "redirect loop" 30 1 "redirected more than 5 times" -- --redirect-loop '/manifests/:1000'
# 5. Token server garbage, a token response without a token, a token server that never answers
#    (the request has 30 s).
lie "token garbage" 30 6 "sent no JSON" -- --token garbage
lie "token response without a token" 30 4 "gave no token" -- --token notoken
lie "token server never answers" 60 5 "did not answer within 30 s" -- --token stall
# 6. Content-Type says image manifest, the document says index.
lie "Content-Type against mediaType" 30 6 "but was served as" -- \
  --content-type '/manifests/:application/vnd.docker.distribution.manifest.v2+json:1000'
# 7. The index again, served under the digest of one of its own children.
lie "index listing itself" 30 7 "expected sha256:" -- --self-index '/manifests/:1000'
# 8. A 200 for a blob with other bytes (other length, a consistent Content-Length).
lie "200 with the wrong bytes" 30 7 "the registry sent" -- --wrong-blob '/blobs/sha256:.*:1000'

# 9. A redirect to another host (blob storage): the pull succeeds, and the other host never saw
#    the credentials (a Basic-auth registry behind the proxy; the storage host serves with the
#    original request's credentials, as a presigned URL would).
start_basic_registry AUTH alice 'pa55-w0rd'
skopeo copy -q --all --dest-tls-verify=false --dest-creds 'alice:pa55-w0rd' \
  "oci:$WORK/img:latest" "docker://$AUTH/lies:latest" || fail "skopeo could not push to $AUTH"
start_faultproxy AWAY "$AUTH" --redirect-away '/blobs/sha256:.*:1000'
printf 'pa55-w0rd' | "$AA" login --username alice --password-stdin "$AWAY" >/dev/null
"$AA" pull --all-platforms "$AWAY/lies:latest" >/dev/null 2>"$WORK/away.err" \
  || fail "pull through a redirect to another host: $(cat "$WORK/away.err")"
n=$(grep -c '^AWAY GET /_away/' "$AWAY_LOG" || true)
((n >= 4)) || fail "only $n blob GETs were redirected away"
if grep -q '^AWAY .* auth=yes' "$AWAY_LOG"; then fail "credentials followed a redirect to another host"; fi
assert_not_contains "$(cat "$WORK/away.err")" "pa55-w0rd" "password in the output"
pass "redirect to another host: $n blob GETs served there, none carried Authorization"
