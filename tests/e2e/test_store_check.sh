#!/usr/bin/env bash
# anyarch store check [--repair] (issue 11, item 9): a sound store exits 0; leftovers of killed
# processes are listed and do not make it unsound; a corrupt blob exits 7 and --repair moves it
# to corrupt/; the image that needed it is then missing a blob (exit 3) until it is pulled again;
# a stray file under blobs/ and a broken index.json exit 6; --json is one parseable object.
source "$(dirname "$0")/lib.sh"
"$AA" copy --all "oci:$(busybox_layout):latest" local:busybox:latest >/dev/null 2>&1 || fail "copy in"
out=$("$AA" store check)
assert_contains "$out" "the store is sound" "a fresh store"
"$AA" store check --json | jq -e '.sound == true and .problems == [] and .names == 1 and .images == 8' >/dev/null ||
  fail "store check --json on a sound store: $("$AA" store check --json)"

# Leftovers: listed, sound, removed by --repair.
touch "$ANYARCH_ROOT/blobs/sha256/.0123.tmp-abcdef" "$ANYARCH_ROOT/.index.json.tmp-zzzzzz"
mkdir -p "$ANYARCH_ROOT/snapshots/.unpack-999999.abcdef"
out=$("$AA" store check)
assert_contains "$out" "leftover: blobs/sha256/.0123.tmp-abcdef" "a blob temp file"
assert_contains "$out" "leftover: .index.json.tmp-zzzzzz" "an index temp file"
assert_contains "$out" "leftover: snapshots/.unpack-999999.abcdef" "a half-unpacked snapshot"
assert_contains "$out" "the store is sound (3 leftovers" "leftovers keep the store sound"
"$AA" store check --repair >/dev/null
[ ! -e "$ANYARCH_ROOT/blobs/sha256/.0123.tmp-abcdef" ] && [ ! -e "$ANYARCH_ROOT/snapshots/.unpack-999999.abcdef" ] ||
  fail "--repair left the leftovers"
assert_eq "$("$AA" store check --json | jq '.leftovers | length')" 0 "leftovers after --repair"
pass "leftovers are listed and removed"

# A corrupt layer: exit 7, named with the image that needs it; --repair moves it aside.
man=$(jq -r '.manifests[0].digest' "$(busybox_layout)/blobs/sha256/$(jq -r '.manifests[0].digest' "$(busybox_layout)/index.json" | cut -d: -f2)" | cut -d: -f2)
layer=$(jq -r '.layers[0].digest' "$ANYARCH_ROOT/blobs/sha256/$man" | cut -d: -f2)
printf 'x' >>"$ANYARCH_ROOT/blobs/sha256/$layer"
expect_fail "$AA" store check
assert_eq "$RC" 7 "exit code for a corrupt blob"
assert_contains "$OUT" "problem: blobs/sha256/$layer: its bytes have digest" "the corrupt blob"
assert_contains "$OUT" "needed by docker.io/library/busybox:latest" "the image that needs it"
assert_contains "$ERR" "has 1 problem" "the summary on stderr"
expect_fail "$AA" store check --json
jq -e '.sound == false and .problems[0].kind == "corrupt_blob" and .problems[0].code == "digest_mismatch"' <<<"$OUT" >/dev/null ||
  fail "store check --json with a corrupt blob: $OUT"
expect_fail "$AA" store check --repair
assert_contains "$OUT" "[moved to corrupt/]" "--repair"
[ -f "$ANYARCH_ROOT/corrupt/$layer" ] && [ ! -e "$ANYARCH_ROOT/blobs/sha256/$layer" ] || fail "the corrupt blob was not moved aside"
expect_fail "$AA" store check
assert_eq "$RC" 3 "exit code once the blob is missing"
assert_contains "$OUT" "is missing" "the missing layer"
"$AA" copy --all "oci:$(busybox_layout):latest" local:busybox:latest >/dev/null 2>&1 || fail "copy in again"
"$AA" store check >/dev/null || fail "the store is not sound after pulling the image again"
pass "a corrupt blob is found, moved aside, and the image pulled again"

# A stray file under blobs/ and a broken index.json: invalid (6).
echo hi >"$ANYARCH_ROOT/blobs/sha256/not-a-digest"
expect_fail "$AA" store check
assert_eq "$RC" 6 "exit code for a stray file"
rm "$ANYARCH_ROOT/blobs/sha256/not-a-digest"
cp "$ANYARCH_ROOT/index.json" "$WORK/index.json"
echo '{' >"$ANYARCH_ROOT/index.json"
expect_fail "$AA" store check
assert_eq "$RC" 6 "exit code for a broken index.json"
cp "$WORK/index.json" "$ANYARCH_ROOT/index.json"
"$AA" store check >/dev/null || fail "the store is not sound once index.json is back"
pass "stray files and a broken index.json"

# The usage: store alone and an unknown subcommand.
expect_fail "$AA" store chek
assert_eq "$RC" 2 "exit code for store chek"
assert_contains "$ERR" 'did you mean "store check"' "the suggestion"
pass "store chek is a usage error with a suggestion"
