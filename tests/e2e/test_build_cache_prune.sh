#!/usr/bin/env bash
# The build cache in the store (issue 8, item 2): plain prune keeps it (its layers are no image's,
# but a rebuild needs them), du shows it, prune --keep-storage SIZE removes its least recently
# used entries until it holds at most SIZE, and prune --build-cache removes all of it. What is
# left is still used: a rebuild runs exactly the steps whose entries went.
source "$(dirname "$0")/lib.sh"
busybox_in_store

mkdir -p "$WORK/old" "$WORK/new"
cat >"$WORK/old/Dockerfile" <<'DF'
FROM busybox
RUN head -c 1000000 /dev/urandom > /one
RUN head -c 1000000 /dev/urandom > /two
DF
cat >"$WORK/new/Dockerfile" <<'DF'
FROM busybox
RUN head -c 300000 /dev/urandom > /three
DF
# runs DIR: how many RUN steps a build of DIR ran (not taken from the cache), from its json events.
runs() {
  "$AA" --progress json build --platform linux/amd64 "$1" 2>"$WORK/events" >/dev/null ||
    fail "build $1: $(tail -n 5 "$WORK/events")"
  jq -s '[.[] | select(.event == "done" and (.instruction | startswith("RUN")))] | length' "$WORK/events"
}
cache_bytes() {
  "$AA" du --json | jq '[.build_cache[] | .bytes + .layer_bytes] | add // 0'
}

assert_eq "$(runs "$WORK/old")" 2 "the first build runs both steps"
sleep 1.1  # last use has a resolution of one second
assert_eq "$(runs "$WORK/new")" 1 "the other build runs its step"
"$AA" prune >/dev/null
assert_eq "$(runs "$WORK/old")" 0 "after a plain prune, a rebuild runs nothing"
assert_eq "$(runs "$WORK/new")" 0 "nor does the other"
pass "plain prune keeps the build cache and its layers"

du=$("$AA" du --json)
assert_eq "$(jq -r '.usage[] | select(.kind == "build cache") | .count' <<<"$du")" 3 "du counts three cached steps"
total=$(cache_bytes)
((total > 2300000)) || fail "du: the build cache holds $total bytes, want over 2.3 MB: $du"
"$AA" du | grep -qE '^build cache +3 ' || fail "du's table has no build cache line: $("$AA" du)"
pass "du shows the build cache"

# Touch "new" last, so the two steps of "old" are the least recently used.
sleep 1.1
assert_eq "$(runs "$WORK/new")" 0 "the other build is cached"
"$AA" prune --keep-storage 600KB >/dev/null
left=$(cache_bytes)
((left <= 614400)) || fail "prune --keep-storage 600KB left $left bytes"
assert_eq "$(runs "$WORK/new")" 0 "the most recently used entry stays"
assert_eq "$(runs "$WORK/old")" 2 "the least recently used ones went, and only they run again"
pass "prune --keep-storage removes the least recently used entries down to the size"

"$AA" prune --build-cache >/dev/null
assert_eq "$(jq '.build_cache | length' <<<"$("$AA" du --json)")" 0 "prune --build-cache empties it"
assert_eq "$(runs "$WORK/new")" 1 "and the next build runs its step again"
expect_fail "$AA" prune --keep-storage lots
assert_eq "$RC" 2 "a size that is no size is a usage error"
assert_contains "$ERR" "lots is not a size" "the error names the value"
pass "prune --build-cache removes the build cache"
