#!/usr/bin/env bash
# anyarch build --verify: a Dockerfile that copies an amd64 program into every target (the
# s6-overlay trap) fails for linux/amd64,linux/arm64, naming the file and the platform, and names
# nothing in the store (an existing name keeps its image); the same build without that file passes.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || fail "needs root"

busybox_in_store
plats=linux/amd64,linux/arm64

ctx="$WORK/ctx"
mkdir -p "$ctx"
echo "hello" >"$ctx/motd.txt"
cp "$(busybox_bin amd64)" "$ctx/tool"
cat >"$ctx/Dockerfile.good" <<'DF'
FROM busybox
COPY motd.txt /etc/motd
DF
cat >"$ctx/Dockerfile.bad" <<'DF'
FROM busybox
COPY motd.txt /etc/motd
COPY tool /usr/local/bin/tool
DF

# The good build passes --verify and is named.
out=$("$AA" --progress=plain build --verify --platform "$plats" -f "$ctx/Dockerfile.good" -t bv:1 \
  "$ctx" 2>"$WORK/good.log") || fail "the good build failed --verify: $(tail -20 "$WORK/good.log")"
good=$("$AA" inspect --raw local:bv:1 | sha256sum | cut -d' ' -f1)
assert_contains "$("$AA" images)" "bv" "the good build is named"
"$AA" verify local:bv:1 >/dev/null || fail "anyarch verify disagrees with build --verify"
pass "a build whose binaries match their platforms passes --verify"

# The bad build fails, names the file and its platform, and names nothing.
expect_fail "$AA" --progress=plain build --verify --platform "$plats" -f "$ctx/Dockerfile.bad" \
  -t bv:1 -t bv:2 "$ctx"
assert_contains "$ERR" "--verify found a file that does not match its image's platform" "the verdict"
assert_contains "$ERR" "linux/arm64: /usr/local/bin/tool is an x86-64 ELF (linux/amd64)" \
  "the file and its platform are named"
assert_not_contains "$ERR" "linux/amd64: /usr/local/bin/tool" "the amd64 image is fine"
assert_eq "$RC" 6 "--verify findings are invalid input (exit 6)"
assert_not_contains "$("$AA" images)" "bv:2" "no new name"
assert_eq "$("$AA" inspect --raw local:bv:1 | sha256sum | cut -d' ' -f1)" "$good" \
  "an existing name keeps its image"
expect_fail "$AA" inspect --raw local:bv:2
pass "a wrong-architecture binary fails the build, named with its platform, and nothing is named"

# Without --verify the same build goes through (and anyarch verify then finds it).
"$AA" --progress=plain build --platform "$plats" -f "$ctx/Dockerfile.bad" -t bv:unchecked "$ctx" \
  >/dev/null 2>"$WORK/unchecked.log" || fail "the unchecked build failed: $(tail -20 "$WORK/unchecked.log")"
expect_fail "$AA" verify local:bv:unchecked
assert_contains "$OUT" "wrong-platform /usr/local/bin/tool: found linux/amd64, expected linux/arm64" \
  "verify finds what build --verify refused"
pass "without --verify the build is named and anyarch verify finds the file"
