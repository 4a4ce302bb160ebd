#!/usr/bin/env bash
# COPY --link: the layer depends only on what is copied. After a change to the steps before it,
# the --link step is a cache hit and its layer (same digest) is reused, where a plain COPY reruns;
# the files land with their parents as on a fresh tree, on top of the changed base.
source "$(dirname "$0")/lib.sh"

busybox_in_store
ctx="$WORK/ctx"
mkdir -p "$ctx"
echo "linked file" >"$ctx/f.txt"
write() {
  printf 'FROM busybox\nRUN echo %s > /base.txt\nCOPY --link --chown=5:6 f.txt /app/deep/f.txt\nCOPY f.txt /plain/f.txt\n' \
    "$1" >"$ctx/Dockerfile"
}
layers() { # the layer digests of NAME's image, one per line
  "$AA" inspect --raw "local:$1" | jq -r '.layers[].digest'
}

write one
"$AA" --progress=json build --platform linux/amd64 -t link:1 "$ctx" >/dev/null 2>"$WORK/b1.json" ||
  fail "first build: $(tail -5 "$WORK/b1.json")"
write two
"$AA" --progress=json build --platform linux/amd64 -t link:2 "$ctx" >/dev/null 2>"$WORK/b2.json" ||
  fail "second build: $(tail -5 "$WORK/b2.json")"
cached=$(jq -r 'select(.event=="cached") | .instruction' "$WORK/b2.json")
started=$(jq -r 'select(.event=="step_started") | .instruction' "$WORK/b2.json")
assert_contains "$cached" "COPY --link" "the --link step is cached after a change before it"
assert_contains "$started" "COPY f.txt /plain/f.txt" "the plain COPY after the change reruns"
assert_not_contains "$started" "COPY --link" "the --link step does not run again"
l1=$(layers link:1) l2=$(layers link:2)
n=$(wc -l <<<"$l1")
assert_eq "$(sed -n "$((n - 1))p" <<<"$l2")" "$(sed -n "$((n - 1))p" <<<"$l1")" \
  "the --link layer is the same blob in both images"
[ "$(sed -n "$((n - 2))p" <<<"$l2")" != "$(sed -n "$((n - 2))p" <<<"$l1")" ] ||
  fail "the RUN layer should differ between the two builds"
pass "COPY --link reuses its layer across a changed base"

"$AA" build -q --platform linux/amd64 -o "type=local,dest=$WORK/out" "$ctx" >/dev/null 2>"$WORK/b3.log" ||
  fail "local output: $(cat "$WORK/b3.log")"
assert_eq "$(cat "$WORK/out/base.txt")" "two" "the changed base is below the linked layer"
assert_eq "$(cat "$WORK/out/app/deep/f.txt")" "linked file" "the linked file"
assert_eq "$(stat -c '%u:%g' "$WORK/out/app/deep/f.txt")" "5:6" "--chown with --link"
[ -x "$WORK/out/bin/busybox" ] || fail "the base's files are still there"
pass "a --link layer applies on top of the stage"
