#!/usr/bin/env bash
# The README's exit-code table (issue 9, item 3): each class provoked through the binary, the code
# checked against the table as the README states it, and --json failures printing the error
# object on stdout.
source "$(dirname "$0")/lib.sh"
q=(--progress quiet)

# The table, read from the README, so the two cannot drift apart.
declare -A table
while IFS='|' read -r _ code meaning _; do
  code=$(echo "$code" | tr -d ' ')
  [[ "$code" =~ ^[0-9]+$ ]] && table[$code]=$meaning
done <"$SRC/README.md"
for c in 0 1 2 3 4 5 6 7; do
  [ -n "${table[$c]:-}" ] || fail "README exit-code table has no row for $c"
done
# expect_code CODE WORD CMD...: CMD exits with CODE, whose README row mentions WORD.
expect_code() {
  local code=$1 word=$2
  shift 2
  [[ "${table[$code]}" == *"$word"* ]] || fail "README row $code does not say '$word': ${table[$code]}"
  if [ "$code" -eq 0 ]; then
    "$@" >/dev/null 2>&1 || fail "expected success from: $*"
    return
  fi
  expect_fail "$@"
  assert_eq "$RC" "$code" "exit code of: $* ($ERR)"
}

layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null
start_plain_registry REG
start_basic_registry AUTH alice s3cret
port=$(free_port)  # nothing listens there

expect_code 0 success "$AA" "${q[@]}" inspect "oci:$layout:latest"
expect_code 2 usage "$AA" imgaes
expect_code 2 usage "$AA" copy "oci:$layout:latest"
expect_code 3 "not found" "$AA" "${q[@]}" inspect "local:nothing:here"
expect_code 3 "not found" "$AA" "${q[@]}" inspect "$REG/missing:1"
expect_code 4 unauthorized "$AA" "${q[@]}" inspect "$AUTH/busybox:latest"
expect_code 5 unavailable "$AA" "${q[@]}" inspect "127.0.0.1:$port/busybox:latest"
echo "not a tar" >"$WORK/bad.tar"
expect_code 6 invalid "$AA" "${q[@]}" import "$WORK/bad.tar"
expect_code 6 invalid "$AA" "${q[@]}" inspect "oci:"
# A config blob whose bytes no longer match its digest (same size).
cp -r "$layout" "$WORK/tampered"
cfg=$(python3 - "$WORK/tampered" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(f"{d}/index.json"))
top = idx["manifests"][0]["digest"].split(":")[1]
child = json.load(open(f"{d}/blobs/sha256/{top}"))["manifests"][0]["digest"].split(":")[1]
print(json.load(open(f"{d}/blobs/sha256/{child}"))["config"]["digest"].split(":")[1])
PY
)
python3 - "$WORK/tampered/blobs/sha256/$cfg" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-2] = ord("x") if b[-2] != ord("x") else ord("y")
open(p, "wb").write(bytes(b))
PY
expect_code 7 "digest mismatch" "$AA" "${q[@]}" copy --all "oci:$WORK/tampered:latest" "oci:$WORK/out:1"
pass "exit codes 0, 2, 3, 4, 5, 6 and 7 as the README's table says"

# run's own codes.
expect_fail "$AA" run --rm --timeout 1 --platform linux/amd64 "oci:$layout:latest" sleep 30
assert_eq "$RC" 124 "run --timeout"
expect_fail "$AA" run --rm --platform linux/amd64 "oci:$layout:latest" /no/such/program
assert_eq "$RC" 127 "run of a missing command"
expect_fail "$AA" run --rm --platform linux/amd64 "oci:$WORK/none:1" true
assert_eq "$RC" 125 "run of a missing image"
grep -q '^| 124, 125, 127 | `run`: the command timed out, anyarch failed, the command is not in the image' \
  "$SRC/README.md" || fail "README does not list run's 124, 125 and 127"
pass "run: 124, 125, 127"

# --json failures print the error object on stdout, and still exit by class.
expect_fail "$AA" "${q[@]}" inspect --json "local:nothing:here"
assert_eq "$RC" 3 "inspect --json exit code"
python3 - "$OUT" <<'PY'
import json, sys
e = json.loads(sys.argv[1])["error"]
assert e["code"] == "not_found", e
assert "nothing:here" in e["message"], e
assert isinstance(e["context"], list), e
PY
expect_fail "$AA" "${q[@]}" copy --json --platform linux/riscv64 "oci:$layout:latest" "oci:$WORK/x:1"
python3 - "$OUT" <<'PY'
import json, sys
e = json.loads(sys.argv[1])["error"]
assert e["code"] == "not_found", e
assert "no image for linux/riscv64" in e["message"], e
assert e["context"], e
PY
# Without --json, stdout stays empty.
expect_fail "$AA" "${q[@]}" inspect "local:nothing:here"
assert_eq "$OUT" "" "stdout of a failed command without --json"
pass "--json errors on stdout"

# --json on login, logout, tag and the manifest subcommands.
printf '%s' s3cret | "$AA" "${q[@]}" login --json -u alice --password-stdin "$AUTH" >"$WORK/login.json"
jq -e ".registry == \"$AUTH\"" "$WORK/login.json" >/dev/null || fail "login --json: $(cat "$WORK/login.json")"
"$AA" "${q[@]}" copy --all "oci:$layout:latest" local:bb:1 >/dev/null
"$AA" "${q[@]}" tag --json bb:1 bb:2 | jq -e '.target == "bb:2"' >/dev/null || fail "tag --json"
"$AA" "${q[@]}" copy --platform linux/amd64 "oci:$layout:latest" "$REG/one:amd64" >/dev/null
"$AA" "${q[@]}" manifest create --json "$REG/list:1" "$REG/one:amd64" |
  jq -e '.entries[0].platform == "linux/amd64"' >/dev/null || fail "manifest create --json"
"$AA" "${q[@]}" manifest annotate --json "$REG/list:1" "$REG/one:amd64" --os-version 1 |
  jq -e '.name' >/dev/null || fail "manifest annotate --json"
"$AA" "${q[@]}" manifest inspect --json "$REG/list:1" | jq -e '.manifests | length == 1' >/dev/null ||
  fail "manifest inspect --json"
"$AA" "${q[@]}" manifest rm --json "$REG/list:1" | jq -e '.removed | length == 1' >/dev/null ||
  fail "manifest rm --json"
"$AA" "${q[@]}" logout --json "$AUTH" | jq -e ".registry == \"$AUTH\"" >/dev/null || fail "logout --json"
pass "--json on login, logout, tag and manifest create/annotate/inspect/rm"

# Colour only when asked for or on a terminal, never with NO_COLOR.
expect_fail "$AA" --color=always inspect "local:nothing:here"
assert_contains "$ERR" $'\033[1;31manyarch: error:' "--color=always"
expect_fail "$AA" inspect "local:nothing:here"
assert_not_contains "$ERR" $'\033[' "no colour off a terminal"
script -qec "NO_COLOR=1 $AA inspect local:nothing:here" /dev/null >"$WORK/tty.out" || true
assert_not_contains "$(cat "$WORK/tty.out")" $'\033[1;31m' "NO_COLOR on a terminal"
script -qec "$AA inspect local:nothing:here" /dev/null >"$WORK/tty.out" || true
assert_contains "$(cat "$WORK/tty.out")" $'\033[1;31manyarch: error:' "colour on a terminal"
pass "colour on a tty only, off with NO_COLOR or --color=never"
