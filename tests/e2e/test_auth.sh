#!/usr/bin/env bash
# Authentication against docker-registry in htpasswd (Basic) and token (Bearer) modes, with the
# credentials anyarch login keeps in config.json and with a docker-credential-* helper: pushes,
# pulls and manifest lists work; a wrong password fails naming the registry; anonymous pushes are
# refused with what to do; and no secret shows up in any output of ours.
source "$(dirname "$0")/lib.sh"
layout=$(busybox_layout)
USER_NAME=ci-bot
PASSWORD='pw-Zq81!x'
B64=$(printf '%s' "$USER_NAME:$PASSWORD" | base64)
outputs="$WORK/all-output"
: >"$outputs"
# run_aa ARGS...: anyarch with stdout+stderr kept for the secret scan; sets OUT and RC.
run_aa() {
  set +e
  OUT=$("$AA" --debug --progress plain "$@" 2>&1)
  RC=$?
  set -e
  printf '%s\n' "$OUT" >>"$outputs"
}

for mode in basic token; do
  rm -f "$DOCKER_CONFIG/config.json"
  if [ "$mode" = basic ]; then
    start_basic_registry REG "$USER_NAME" "$PASSWORD"
  else
    start_token_registry REG "$USER_NAME" "$PASSWORD"
  fi

  # Without credentials: pushing is refused and the message says how to log in.
  run_aa copy --all "oci:$layout:latest" "$REG/app:anon"
  [ "$RC" -ne 0 ] || fail "$mode: anonymous push succeeded"
  assert_contains "$OUT" "anyarch login $REG" "$mode: anonymous push says how to log in"

  # A wrong password: login fails naming the registry and stores nothing.
  set +e
  out=$(printf '%s' 'wrong-password' | "$AA" login -u "$USER_NAME" --password-stdin "$REG" 2>&1)
  rc=$?
  set -e
  printf '%s\n' "$out" >>"$outputs"
  [ "$rc" -ne 0 ] || fail "$mode: login with a wrong password succeeded"
  assert_contains "$out" "$REG" "$mode: the login error names the registry"
  [ ! -s "$DOCKER_CONFIG/config.json" ] || ! grep -q "$REG" "$DOCKER_CONFIG/config.json" \
    || fail "$mode: a refused login was stored"

  # The right password: stored in config.json (0600), then every command uses it.
  out=$(printf '%s\n' "$PASSWORD" | "$AA" login -u "$USER_NAME" --password-stdin "$REG" 2>&1)
  printf '%s\n' "$out" >>"$outputs"
  assert_contains "$out" "succeeded" "$mode: login"
  assert_eq "$(stat -c %a "$DOCKER_CONFIG/config.json")" 600 "$mode: config.json mode"
  assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"])' \
    "$DOCKER_CONFIG/config.json" "$REG")" "$B64" "$mode: auths entry"
  run_aa copy --all "oci:$layout:latest" "$REG/app:1"
  [ "$RC" -eq 0 ] || fail "$mode: push with stored credentials: $OUT"
  run_aa inspect --raw "$REG/app:1"
  assert_eq "$(printf '%s' "$OUT" | sha256sum | cut -d' ' -f1)" "$(busybox_digest | cut -d: -f2)" "$mode: inspect"
  run_aa pull --platform linux/arm64 "$REG/app:1"
  [ "$RC" -eq 0 ] || fail "$mode: pull: $OUT"
  run_aa manifest create "$REG/app:list" "$REG/app:1"
  [ "$RC" -eq 0 ] || fail "$mode: manifest create: $OUT"
  run_aa manifest push --purge "$REG/app:list" "$REG/other:list"
  [ "$RC" -eq 0 ] || fail "$mode: manifest push across repositories: $OUT"
  run_aa tags "$REG/app"
  assert_eq "$(printf '%s' "$OUT" | sort | tr '\n' ' ')" "1 " "$mode: tags"
  skopeo inspect --tls-verify=false --creds "$USER_NAME:$PASSWORD" --raw "docker://$REG/other:list" >/dev/null \
    || fail "$mode: skopeo cannot read what anyarch pushed"

  # A stored password that has gone stale fails with the registry's name, not the password.
  python3 - "$DOCKER_CONFIG/config.json" "$REG" <<'PY'
import base64, json, sys
p, reg = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["auths"][reg]["auth"] = base64.b64encode(b"ci-bot:stale-password").decode()
json.dump(c, open(p, "w"))
PY
  run_aa inspect "$REG/app:1"
  [ "$RC" -ne 0 ] || fail "$mode: a stale password was accepted"
  assert_contains "$OUT" "$REG" "$mode: the error names the registry"
  assert_contains "$OUT" "anyarch login" "$mode: the error says what to do"
  assert_not_contains "$OUT" "stale-password" "$mode: the error hides the password"

  # logout removes the entry.
  out=$("$AA" logout "$REG")
  printf '%s\n' "$out" >>"$outputs"
  python3 -c 'import json,sys; assert sys.argv[2] not in json.load(open(sys.argv[1])).get("auths",{})' \
    "$DOCKER_CONFIG/config.json" "$REG" || fail "$mode: logout left the entry"
  pass "$mode auth: login, push, pull, manifest lists, wrong and stale passwords, logout"
done

# A credential helper (credHelpers), as docker's own helpers work: anyarch asks it, never stores.
mkdir -p "$WORK/bin"
cat >"$WORK/bin/docker-credential-e2e" <<SH
#!/bin/sh
read -r server
[ "\$1" = get ] || exit 1
[ "\$server" = "$REG" ] || { echo "credentials not found in native keychain"; exit 1; }
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}' "\$server" "$USER_NAME" '$PASSWORD'
SH
chmod +x "$WORK/bin/docker-credential-e2e"
printf '{"credHelpers": {"%s": "e2e"}}' "$REG" >"$DOCKER_CONFIG/config.json"
PATH="$WORK/bin:$PATH" run_aa copy --all "$REG/app:1" "$REG/helper:1"
[ "$RC" -eq 0 ] || fail "push with a credential helper: $OUT"
assert_not_contains "$(cat "$DOCKER_CONFIG/config.json")" "$PASSWORD" "the helper's secret stays out of config.json"
pass "credential helper"

# Nothing we printed, in any mode, carries the password or its base64 form.
if grep -qF -e "$PASSWORD" -e "$B64" "$outputs"; then
  fail "a credential appears in anyarch's output: $(grep -F -e "$PASSWORD" -e "$B64" "$outputs" | head -3)"
fi
if grep -qF -e "$PASSWORD" "$REG_TOKEN_LOG"; then fail "the password appears in the token server log"; fi
pass "no credential in any output"
