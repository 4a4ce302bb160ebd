#!/usr/bin/env bash
# verify on hostile images (issue 11, items 4 and 5): nested indexes are walked or refused, never
# passed having checked nothing; what `run` refuses (a wrong diff_id, a hard link to a file not in
# the image, a name no filesystem holds, a blob whose size is not its descriptor's) verify refuses
# too, and `run oci:` refuses a lying descriptor size as copy does.
source "$(dirname "$0")/lib.sh"
mk="$SRC/tests/tools/make_image.py"
hl() { python3 "$SRC/tests/tools/hostile_layout.py" "$layout" "$@" >/dev/null; }
bb() { busybox_bin "$1"; }
layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null
python3 "$mk" "$layout" --tag bad --image "linux/arm64=busybox:$(bb arm64)" \
  --layer "linux/arm64:usr/local/bin/tool=$(bb amd64)" >/dev/null
python3 "$mk" "$layout" --tag amd --image "linux/amd64=busybox:$(bb amd64)" >/dev/null
all8="linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v5 linux/386 linux/ppc64le linux/s390x linux/mips64le"

# 1. Nested indexes: two and three levels of indexes above the images are walked and checked.
for depth in 1 2; do
  levels=$((depth + 1))
  hl nest latest "$depth" "nest$levels"
  out=$("$AA" verify "oci:$layout:nest$levels") || fail "nested ($levels levels) verify failed: $out"
  for p in $all8; do
    echo "$out" | grep -qE "^$p sha256:[0-9a-f]{12}: [0-9]+ files, 1 ELF, ok$" ||
      fail "$levels levels: $p not checked: $out"
  done
  json=$("$AA" verify --json "oci:$layout:nest$levels")
  assert_eq "$(jq '.platforms | length' <<<"$json")" 8 "$levels levels: every platform in the JSON"
  assert_eq "$(jq .ok <<<"$json")" true "$levels levels: ok"
  # An amd64 binary in an arm64 image behind the same nesting is found, not passed over.
  hl nest bad "$depth" "nestbad$levels"
  expect_fail "$AA" verify "oci:$layout:nestbad$levels"
  assert_eq "$RC" 1 "$levels levels: a mismatch exits 1"
  assert_contains "$OUT" "wrong-platform /usr/local/bin/tool: found linux/amd64, expected linux/arm64" \
    "$levels levels: the nested mismatch is named"
  json=$("$AA" verify --json "oci:$layout:nestbad$levels" || true)
  assert_eq "$(jq -c '[.ok, (.platforms | length)]' <<<"$json")" '[false,1]' "$levels levels: JSON"
done
out=$("$AA" verify --platform linux/s390x "oci:$layout:nest3")
assert_eq "$(echo "$out" | wc -l)" 1 "--platform selects among nested images"
assert_contains "$out" "linux/s390x" "--platform selects among nested images"
expect_fail "$AA" verify --platform linux/riscv64 "oci:$layout:nest3"
assert_contains "$ERR" "no image for linux/riscv64" "an absent platform behind nesting"
assert_contains "$ERR" "it has linux/amd64, linux/arm64" "the nested platforms are listed"
pass "nested indexes two and three levels deep are walked"

# Nine levels of indexes exceed the bound; an index that contains itself is refused; an index
# with nothing to check is an error, never {"ok": true, "platforms": []}.
hl nest latest 8 nest9
expect_fail "$AA" verify "oci:$layout:nest9"
assert_contains "$ERR" "nested more than 8 indexes deep" "the nesting bound"
hl cycle cycle
expect_fail "$AA" verify "oci:$layout:cycle"
assert_contains "$ERR" "anyarch: error:" "a cycle is an error"
assert_not_contains "$OUT" '"ok": true' "a cycle is not ok"
hl empty empty
expect_fail "$AA" verify "oci:$layout:empty"
assert_contains "$ERR" "holds no image to check" "nothing to check is an error"
expect_fail "$AA" verify --json "oci:$layout:empty"
assert_not_contains "$OUT" '"ok": true' "nothing checked is not ok in JSON"
pass "too deep, cyclic and empty indexes are refused"

# 2. What run refuses, verify refuses: each time both fail, for the same reason.
python3 "$mk" "$layout" --tag baddiff --image "linux/amd64=busybox:$(bb amd64)" \
  --layer "linux/amd64:etc/motd#=hello" --bad-diff-id linux/amd64 >/dev/null
hl layer amd hardlink hardlink
hl layer amd longname longname
check_refused() {  # TAG MESSAGE
  expect_fail "$AA" verify "oci:$layout:$1"
  assert_contains "$ERR" "$2" "verify refuses $1"
  assert_not_contains "$OUT" "ok" "verify gives no verdict for $1"
  expect_fail "$AA" run --rm "oci:$layout:$1" true
  assert_contains "$ERR" "$2" "run refuses $1"
}
check_refused baddiff "but the image config's diff_id is"
check_refused hardlink "hard link /bin/sh2 points at /bin/nothere, which is not in the image"
check_refused longname "the limit is 255 (NAME_MAX)"
pass "a wrong diff_id, a hard link to a missing file and a 10,000-character name are refused"

# 3. A layer descriptor whose size is a lie: run oci: refuses it as copy and verify do. (Run
# first, in a store that has no snapshot of these layers yet: a cached snapshot is not re-read.)
hl lie amd lie
expect_fail "$AA" run --rm "oci:$layout:lie" true
assert_contains "$ERR" "bytes, expected" "run oci: refuses a lying size"
expect_fail "$AA" verify "oci:$layout:lie"
assert_contains "$ERR" "bytes, expected" "verify refuses a lying size"
expect_fail "$AA" copy "oci:$layout:lie" "oci:$WORK/copied:lie"
assert_contains "$ERR" "bytes, expected" "copy refuses a lying size"
pass "a lying descriptor size is refused by run, verify and copy"
