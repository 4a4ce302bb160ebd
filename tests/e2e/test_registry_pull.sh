#!/usr/bin/env bash
# run and verify straight from a real registry (Debian's docker-registry on 127.0.0.1): plain
# HTTP, and htpasswd Basic auth with credentials from the docker config.json.
source "$(dirname "$0")/lib.sh"
layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null

registry_start plain
push_oci "$layout:latest" "$REGISTRY_plain/busybox:latest"
out=$("$AA" verify "$REGISTRY_plain/busybox:latest")
assert_eq "$(echo "$out" | grep -c ', ok$')" 8 "all platforms verified from the registry"
assert_eq "$("$AA" run --rm --platform linux/arm/v7 "$REGISTRY_plain/busybox:latest" uname -m)" armv7l "run from registry"
expect_fail "$AA" verify "$REGISTRY_plain/nothing:here"
assert_contains "$ERR" "$REGISTRY_plain answered HTTP 404" "missing repository"
pass "plain HTTP registry"

# htpasswd (bcrypt) auth: credentials from config.json; a wrong password names the registry and
# never shows the password.
htpasswd -Bbc "$WORK/htpasswd" tester 'S3cret-pass' 2>/dev/null
registry_start auth "$WORK/htpasswd"
push_oci "$layout:latest" "$REGISTRY_auth/busybox:latest" --dest-creds 'tester:S3cret-pass'
expect_fail "$AA" verify --platform linux/arm64 "$REGISTRY_auth/busybox:latest"
assert_contains "$ERR" "$REGISTRY_auth needs credentials" "no credentials"
auth=$(printf 'tester:%s' 'wrong-password' | base64)
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REGISTRY_auth" "$auth" >"$DOCKER_CONFIG/config.json"
expect_fail "$AA" verify --platform linux/arm64 "$REGISTRY_auth/busybox:latest"
assert_contains "$ERR" "$REGISTRY_auth" "error names the registry"
assert_not_contains "$ERR$OUT" "wrong-password" "password not shown"
assert_not_contains "$ERR$OUT" "$auth" "encoded credentials not shown"
auth=$(printf 'tester:%s' 'S3cret-pass' | base64)
printf '{"auths":{"http://%s":{"auth":"%s"}}}' "$REGISTRY_auth" "$auth" >"$DOCKER_CONFIG/config.json"
out=$("$AA" verify --platform linux/arm64 "$REGISTRY_auth/busybox:latest" 2>&1)
assert_contains "$out" "linux/arm64" "verify with credentials"
assert_not_contains "$out" "S3cret-pass" "password not shown"
pass "htpasswd auth"
