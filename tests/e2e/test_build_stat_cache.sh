#!/usr/bin/env bash
# The context hash remembers unchanged files between builds (build/stat_cache.h), and never
# misses a change: a file rewritten with the same size and its old mtime put back (touch -r, as
# a checkout or an rsync -t can leave it) is read again and its COPY re-runs.
source "$(dirname "$0")/lib.sh"
busybox_in_store
mkdir -p "$WORK/ctx/files"
for i in $(seq 50); do echo "file $i" >"$WORK/ctx/files/f$i"; done
printf 'FROM busybox\nCOPY files /files\nRUN cat /files/f7\n' >"$WORK/ctx/Dockerfile"
sleep 2.2  # older than the racy window, so the first build remembers them
# ran: the steps a build ran, from its json events.
ran() {
  "$AA" --progress json build --platform linux/amd64 "$WORK/ctx" 2>"$WORK/events" >/dev/null ||
    fail "build: $(tail -n 5 "$WORK/events")"
  jq -r 'select(.event == "done" and .step > 1) | .instruction | split(" ")[0]' "$WORK/events" | tr '\n' ' '
}
assert_eq "$(ran)" "COPY RUN " "the first build runs both steps"
cache=$(find "$ANYARCH_ROOT/build/statcache" -type f)
assert_eq "$(wc -l <"$cache")" 50 "the stat cache holds the 50 copied files"
assert_eq "$(ran)" "" "a rebuild runs nothing"
cp -p "$WORK/ctx/files/f7" "$WORK/f7.orig"
echo "FILE 7" >"$WORK/ctx/files/f7"  # same size
touch -r "$WORK/f7.orig" "$WORK/ctx/files/f7"
assert_eq "$(stat -c '%s %Y' "$WORK/ctx/files/f7")" "$(stat -c '%s %Y' "$WORK/f7.orig")" "same size and mtime"
assert_eq "$(ran)" "COPY RUN " "the rewritten file is seen: COPY and the RUN after it run again"
grep -q 'FILE 7' "$WORK/events" || fail "the RUN did not see the new content"
pass "the stat cache skips unchanged files and never a changed one"
