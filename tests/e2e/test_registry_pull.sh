#!/usr/bin/env bash
# run and verify straight from a real registry (Debian's docker-registry on 127.0.0.1): plain
# HTTP, and htpasswd Basic auth with credentials from the docker config.json.
source "$(dirname "$0")/lib.sh"
layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null
push_oci() {
  local src=$1 dest=$2
  shift 2
  skopeo copy -q --all --dest-tls-verify=false "$@" "oci:$src" "docker://$dest" >/dev/null
}
# start_htpasswd_registry VAR HTPASSWD: like start_plain_registry, with Basic auth.
start_htpasswd_registry() {
  local var=$1 htpasswd=$2 dir port pid
  dir=$(mktemp -d "$WORK/registry.XXXXXX")
  port=$(free_port)
  printf 'version: 0.1\nlog: {level: info}\nstorage: {filesystem: {rootdirectory: %s/data}}\nhttp: {addr: 127.0.0.1:%s}\nauth: {htpasswd: {realm: anyarch-test, path: %s}}\n' \
    "$dir" "$port" "$htpasswd" >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  pid=$!
  on_exit "kill $pid; wait $pid 2>/dev/null"
  wait_http "http://127.0.0.1:$port/v2/"
  printf -v "$var" '%s' "127.0.0.1:$port"
}

start_plain_registry REGISTRY_plain
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
start_htpasswd_registry REGISTRY_auth "$WORK/htpasswd"
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

# login / logout: credentials checked against the registry, stored 0600, never printed.
rm -f "$DOCKER_CONFIG/config.json"
set +e
out=$(printf 'nope-nope' | "$AA" login -u tester --password-stdin "$REGISTRY_auth" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "login with a wrong password succeeded"
assert_contains "$out" "$REGISTRY_auth" "login error names the registry"
assert_not_contains "$out" "nope-nope" "password not shown"
[ ! -e "$DOCKER_CONFIG/config.json" ] || fail "a failed login wrote credentials"
out=$(printf 'S3cret-pass\n' | "$AA" login -u tester --password-stdin "$REGISTRY_auth")
assert_contains "$out" "Login to $REGISTRY_auth succeeded" "login"
assert_not_contains "$out" "S3cret" "password not shown"
assert_eq "$(stat -c %a "$DOCKER_CONFIG/config.json")" 600 "config.json mode"
"$AA" verify --platform linux/arm64 "$REGISTRY_auth/busybox:latest" >/dev/null
skopeo inspect --tls-verify=false "docker://$REGISTRY_auth/busybox:latest" >/dev/null  # skopeo reads our config too
"$AA" logout "$REGISTRY_auth" >/dev/null
expect_fail "$AA" verify --platform linux/arm64 "$REGISTRY_auth/busybox:latest"
expect_fail "$AA" login -u tester "$REGISTRY_auth"
assert_contains "$ERR" "--password-stdin" "password only from stdin"
pass "login and logout"
