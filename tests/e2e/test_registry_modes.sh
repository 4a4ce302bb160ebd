#!/usr/bin/env bash
# The registry fixtures in lib.sh, proved with real peers (skopeo, curl), not with anyarch: HTTPS
# with the test CA, htpasswd Basic auth, token auth through tests/tools/token_server.py, and
# faultproxy --bloat serving a manifest over 4 MiB.
source "$(dirname "$0")/lib.sh"

src="oci:$(busybox_layout):latest"
digest=$(busybox_digest)
echo '{}' >"$WORK/auth.json"
export REGISTRY_AUTH_FILE=$WORK/auth.json # skopeo sees only the credentials a step passes

# read_digest SKOPEO_ARGS... REF: sha256 of the manifest skopeo reads back.
read_digest() { echo "sha256:$(skopeo inspect --raw "$@" | sha256sum | cut -d' ' -f1)"; }
# http_code CURL_ARGS...: the HTTP status curl gets.
http_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# challenge URL: status line and WWW-Authenticate header(s) of an anonymous GET.
challenge() { curl -s -D - -o /dev/null "$1" | tr -d '\r' | grep -i -e '^HTTP/' -e '^www-authenticate:'; }

# 1. TLS: skopeo pushes with the CA in a cert dir (verification on), and fails without it.
start_tls_registry TLS
assert_eq "$(ls "$TLS_CERT_DIR")" ca.crt "cert dir holds only the CA"
cmp -s "$TLS_CERT_DIR/ca.crt" "$TLS_CA" || fail "cert dir CA differs from TLS_CA"
skopeo copy -q --all --dest-cert-dir "$TLS_CERT_DIR" "$src" "docker://$TLS/busybox:latest" >/dev/null \
  || fail "skopeo push over TLS with the CA"
assert_eq "$(read_digest --cert-dir "$TLS_CERT_DIR" "docker://$TLS/busybox:latest")" "$digest" \
  "index read back over TLS"
assert_eq "$(access_log_count "$TLS_LOG" PUT '/v2/busybox/manifests/latest')" 1 "index PUT in the access log"
expect_fail skopeo copy -q --dest-tls-verify=true "$src" "docker://$TLS/busybox:noca"
assert_contains "$ERR" "x509: certificate signed by unknown authority" "skopeo without the CA"
port=${TLS#*:}
assert_eq "$(http_code --cacert "$TLS_CA" --resolve "localhost:$port:127.0.0.1" "https://localhost:$port/v2/")" \
  200 "certificate valid for DNS:localhost"
set +e; curl -s -o /dev/null "https://$TLS/v2/"; rc=$?; set -e
assert_eq "$rc" 60 "curl without the CA (60: peer certificate cannot be verified)"
pass "TLS registry: push with the CA, certificate error without it"

# 2. htpasswd Basic auth.
start_basic_registry BASIC tester 'B4sic-pass'
hdrs=$(challenge "http://$BASIC/v2/")
assert_contains "$hdrs" "HTTP/1.1 401" "anonymous /v2/ on the basic registry"
echo "$hdrs" | grep -qixF 'www-authenticate: Basic realm="anyarch-test"' || fail "no Basic challenge in: $hdrs"
skopeo copy -q --all --dest-tls-verify=false --dest-creds 'tester:B4sic-pass' "$src" \
  "docker://$BASIC/busybox:latest" >/dev/null || fail "skopeo push with Basic credentials"
assert_eq "$(read_digest --tls-verify=false --creds 'tester:B4sic-pass' "docker://$BASIC/busybox:latest")" \
  "$digest" "index read back with Basic credentials"
expect_fail skopeo copy -q --dest-tls-verify=false --dest-creds 'tester:wrong-pass' "$src" \
  "docker://$BASIC/busybox:bad"
assert_contains "$ERR" "unauthorized: authentication required" "skopeo with a wrong Basic password"
assert_eq "$(access_log_count "$BASIC_LOG" PUT '/v2/busybox/manifests/bad')" 0 "pushed with a wrong password"
pass "basic-auth registry: 401 Basic challenge, push with credentials, wrong password refused"

# 3. Token auth: the challenge, a push and read-back through the token server, a wrong password.
start_token_registry TOK tester 'T0ken-pass'
assert_contains "$TOK_REALM" "http://127.0.0.1:" "token realm on loopback"
hdrs=$(challenge "http://$TOK/v2/")
assert_contains "$hdrs" "HTTP/1.1 401" "anonymous /v2/ on the token registry"
echo "$hdrs" | grep -qixF "www-authenticate: Bearer realm=\"$TOK_REALM\",service=\"anyarch-test-registry\"" \
  || fail "no Bearer challenge in: $hdrs"
skopeo copy -q --all --dest-tls-verify=false --dest-creds 'tester:T0ken-pass' "$src" \
  "docker://$TOK/busybox:latest" >/dev/null || fail "skopeo push through the token server"
assert_eq "$(read_digest --tls-verify=false --creds 'tester:T0ken-pass' "docker://$TOK/busybox:latest")" \
  "$digest" "index read back with a token"
grep -q 'user=tester -> 200 granted repository:busybox:.*push' "$TOK_TOKEN_LOG" \
  || fail "no push grant in the token log"
expect_fail skopeo copy -q --dest-tls-verify=false --dest-creds 'tester:wrong-pass' "$src" \
  "docker://$TOK/busybox:bad"
assert_contains "$ERR" "unable to retrieve auth token: invalid username/password" "skopeo, wrong token password"
grep -q 'user=tester -> 401 bad credentials' "$TOK_TOKEN_LOG" || fail "token server took the wrong password"

# The token answer and its claims, straight from the token server. token_field FILE FIELD prints a
# field of a saved answer; FIELD "claims" or "header" gives that JWT part as compact sorted JSON.
token_field() {
  python3 - "$@" <<'PY'
import base64, json, sys
answer = json.load(open(sys.argv[1]))
header, claims, _ = answer["token"].split(".")
part = {"header": header, "claims": claims}.get(sys.argv[2])
if part is None:
    print(answer[sys.argv[2]])
else:
    print(json.dumps(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))),
                     sort_keys=True, separators=(",", ":")))
PY
}
bearer() { echo "Authorization: Bearer $(token_field "$1" token)"; }
index_with() { # TOKEN_FILE: status of the index GET with that token
  http_code -H "$(bearer "$1")" -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$TOK/v2/busybox/manifests/latest"
}
q="service=anyarch-test-registry&scope=repository:busybox:pull"
curl -sf -u 'tester:T0ken-pass' -o "$WORK/tok.json" "$TOK_REALM?$q&scope=repository:other:pull,push"
claims=$(token_field "$WORK/tok.json" claims)
want='"access":[{"actions":["pull"],"name":"busybox","type":"repository"},'
want+='{"actions":["pull","push"],"name":"other","type":"repository"}]'
assert_contains "$claims" "$want" "granted access"
assert_contains "$claims" '"aud":"anyarch-test-registry"' "aud claim"
assert_contains "$claims" '"iss":"anyarch-test-token-server"' "iss claim"
assert_contains "$claims" '"sub":"tester"' "sub claim"
assert_contains "$(token_field "$WORK/tok.json" header)" '"alg":"RS256"' "JWT alg"
assert_eq "$(token_field "$WORK/tok.json" expires_in)" 300 "default expires_in"
assert_eq "$(token_field "$WORK/tok.json" access_token)" "$(token_field "$WORK/tok.json" token)" \
  "access_token = token"
[[ "$(token_field "$WORK/tok.json" issued_at)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] \
  || fail "issued_at not RFC 3339"
assert_eq "$(index_with "$WORK/tok.json")" 200 "index GET with the user's token"
# An anonymous token carries no access: it opens /v2/ and nothing else.
curl -sf -o "$WORK/anon.json" "$TOK_REALM?$q"
assert_contains "$(token_field "$WORK/anon.json" claims)" '"access":[]' "anonymous token access"
assert_contains "$(token_field "$WORK/anon.json" claims)" '"sub":""' "anonymous token subject"
assert_eq "$(http_code -H "$(bearer "$WORK/anon.json")" "http://$TOK/v2/")" 200 "/v2/ with the anonymous token"
assert_eq "$(index_with "$WORK/anon.json")" 401 "index GET with the anonymous token"
assert_eq "$(http_code -u 'tester:wrong-pass' "$TOK_REALM?$q")" 401 "token with a wrong password"
# No password, encoded credentials or Authorization header in the token server's log.
log=$(cat "$TOK_TOKEN_LOG")
for secret in 'T0ken-pass' 'wrong-pass' "$(printf 'tester:T0ken-pass' | base64)" \
  "$(printf 'tester:wrong-pass' | base64)" 'Authorization' 'Basic '; do
  assert_not_contains "$log" "$secret" "token server log"
done
# Short-lived tokens: with --exp-offset -60 the registry refuses them once expires_in has passed
# (distribution otherwise adds 60 s of leeway to exp).
start_token_registry SHORT tester 'T0ken-pass' --expires-in 2 --exp-offset -60
curl -sf -u 'tester:T0ken-pass' -o "$WORK/short.json" "$SHORT_REALM?$q&scope=registry:catalog:*"
assert_eq "$(token_field "$WORK/short.json" expires_in)" 2 "--expires-in"
assert_eq "$(http_code -H "$(bearer "$WORK/short.json")" "http://$SHORT/v2/_catalog")" 200 "fresh short token"
sleep 3
assert_eq "$(http_code -H "$(bearer "$WORK/short.json")" "http://$SHORT/v2/_catalog")" 401 "expired short token"
pass "token registry: Bearer challenge, push and read back, scopes, wrong password, clean log, expiry"

# 4. faultproxy --bloat: the first manifest GET gets 5 MiB of trailing spaces (still JSON, > 4 MiB,
#    Content-Length right), the next one is intact.
start_plain_registry REG
push_busybox "$REG" >/dev/null
start_faultproxy PX "$REG" --bloat '/manifests/:1'
accept='Accept: application/vnd.oci.image.index.v1+json'
curl -sf -D "$WORK/big.hdrs" -o "$WORK/big" -H "$accept" "http://$PX/v2/busybox/manifests/latest"
size=$(stat -c %s "$WORK/big")
[ "$size" -gt 4194304 ] || fail "bloated manifest is only $size bytes"
assert_eq "$(tr -d '\r' <"$WORK/big.hdrs" | sed -n 's/^Content-Length: //Ip')" "$size" "bloated Content-Length"
curl -sf -o "$WORK/small" -H "$accept" "http://$PX/v2/busybox/manifests/latest"
assert_eq "sha256:$(sha256sum <"$WORK/small" | cut -d' ' -f1)" "$digest" "second manifest GET intact"
small=$(stat -c %s "$WORK/small")
assert_eq "$((size - small))" 5242880 "bytes appended"
cmp -s -n "$small" "$WORK/big" "$WORK/small" || fail "bloated body does not start with the manifest"
python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
  "$WORK/big" "$WORK/small" || fail "bloated manifest does not parse as the same JSON"
grep -q '^GET /v2/busybox/manifests/latest -> 200 \[bloated by 5242880 bytes\]$' "$PX_LOG" \
  || fail "proxy log has no bloat"
pass "faultproxy --bloat: $size-byte manifest that still parses as JSON"
