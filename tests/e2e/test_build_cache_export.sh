#!/usr/bin/env bash
# --cache-to / --cache-from (issue 8, item 3): a build exports its steps' cache to a registry;
# a fresh store that imports it runs no step and builds the same image digest. The registry
# cache is an ordinary OCI artifact: skopeo copies it into an OCI layout, which works as
# type=local. mode=min exports the target stage's steps only; type=inline puts the records into
# the image's configs; a missing cache is a warning.
source "$(dirname "$0")/lib.sh"
start_plain_registry REG
push_busybox "$REG" >/dev/null
plats=linux/amd64,linux/arm64,linux/arm/v7
mkdir -p "$WORK/ctx"
for i in $(seq 20); do echo "file $i" >"$WORK/ctx/f$i"; done
cat >"$WORK/ctx/Dockerfile" <<DF
FROM $REG/busybox:latest AS base
RUN mkdir -p /d/sub && echo one > /d/sub/f && echo keep > /d/k && uname -m > /d/arch
FROM base
RUN rm -rf /d/sub && mkdir /d/sub && echo two > /d/sub/g && rm /d/k
COPY f* /files/
RUN find /d /files | sort > /list && uname -m >> /list
DF
# build STORE EVENTS ARGS...: a build in its own store; prints the image digest.
build() {
  local store=$1 events=$2
  shift 2
  ANYARCH_ROOT="$store" "$AA" --insecure --progress json build --platform "$plats" \
    --source-date-epoch 0 --metadata-file "$events.meta" "$@" "$WORK/ctx" 2>"$events" >/dev/null ||
    fail "build in $store: $(grep -v '"event":"output"' "$events" | tail -n 5)"
  jq -r '."containerimage.digest"' "$events.meta"
}
# ran EVENTS: the steps that ran (not from the cache), as "platform instruction" lines.
ran() { jq -r 'select(.event == "done" and .step > 1) | .platform + " " + (.instruction | split(" ")[0])' "$1" | sort; }

cache="$REG/cache/app:buildcache"
want=$(build "$WORK/s1" "$WORK/e1" --cache-to "type=registry,ref=$cache,mode=max")
assert_eq "$(ran "$WORK/e1" | wc -l)" 12 "the first build runs its 4 steps for 3 platforms"
grep -q '"event":"cache".*exported 12 cached steps' "$WORK/e1" || fail "no export event: $(grep cache "$WORK/e1")"

got=$(build "$WORK/s2" "$WORK/e2" --cache-from "type=registry,ref=$cache")
assert_eq "$(ran "$WORK/e2")" "" "a fresh store importing the cache runs no step"
assert_eq "$got" "$want" "and builds the same image"
pass "registry cache round trip: no step runs, same digest"

# Imported steps are unpacked only when a step runs on top of them: with one copied file
# changed, the fresh store runs COPY and the last RUN on the imported layers (the base stage's
# whiteouts and opaque directory among them) and must build what the store that built them does.
echo changed >"$WORK/ctx/f1"
changed=$(build "$WORK/s1" "$WORK/e1c")
got=$(build "$WORK/s2c" "$WORK/e2c" --cache-from "type=registry,ref=$cache")
assert_eq "$(ran "$WORK/e2c")" "linux/amd64 COPY
linux/amd64 RUN
linux/arm/v7 COPY
linux/arm/v7 RUN
linux/arm64 COPY
linux/arm64 RUN" "one file changed: COPY and the RUN after it run, on the imported layers"
assert_eq "$got" "$changed" "the same image as the store that built every step"
[ "$(find "$WORK/s2c/build/cache" -mindepth 2 -maxdepth 2 -name upper | wc -l)" -lt \
  "$(find "$WORK/s2c/build/cache" -mindepth 1 -maxdepth 1 -type d | wc -l)" ] ||
  fail "every imported entry was unpacked, even those no step ran on"
echo "file 1" >"$WORK/ctx/f1"
pass "steps run on imported layers, unpacked when first mounted"

raw=$(skopeo inspect --raw --tls-verify=false "docker://$cache") || fail "skopeo cannot read the cache"
assert_eq "$(jq -r .artifactType <<<"$raw")" "application/vnd.anyarch.buildcache.v1+json" "its artifact type"
skopeo copy -q --src-tls-verify=false "docker://$cache" "oci:$WORK/copied:cache" || fail "skopeo copy of the cache"
got=$(build "$WORK/s3" "$WORK/e3" --cache-from "type=local,src=$WORK/copied")
assert_eq "$(ran "$WORK/e3")" "" "the cache skopeo copied to a layout imports as type=local"
assert_eq "$got" "$want" "same image from the local cache"
pass "the registry cache is an OCI artifact that skopeo copies and type=local reads"

# mode=min: only the target stage's steps; the fresh store runs the base stage's RUN again, and
# its result has the same key, so the target stage's steps are hits.
build "$WORK/s1" "$WORK/e4" --cache-to "type=local,dest=$WORK/min" >/dev/null
got=$(build "$WORK/s4" "$WORK/e5" --cache-from "type=local,src=$WORK/min")
assert_eq "$(ran "$WORK/e5")" "linux/amd64 RUN
linux/arm/v7 RUN
linux/arm64 RUN" "mode=min: only the base stage's RUN runs again, once per platform"
assert_eq "$got" "$want" "mode=min: same image"
pass "mode=min exports the target stage's steps only"

# type=inline: the records ride in the pushed image's configs; a fresh store imports them from
# the image itself (--cache-from type=registry,ref=IMAGE, as with buildx).
img="$REG/app/inline:1"
inl=$(build "$WORK/s6" "$WORK/e7" --cache-to type=inline -t "$img" --push)
cfg=$(skopeo inspect --config --raw --tls-verify=false --override-arch arm64 "docker://$img") ||
  fail "skopeo cannot read the pushed image's config"
[ "$(jq '."anyarch.buildcache.v1" | length' <<<"$cfg")" -ge 3 ] || fail "no inline records: $cfg"
got=$(build "$WORK/s7" "$WORK/e8" --cache-to type=inline --cache-from "type=registry,ref=$img")
assert_eq "$(ran "$WORK/e8")" "" "a fresh store importing the inline cache runs no step"
assert_eq "$got" "$inl" "and builds the same image (records included)"
# A base built with an inline cache does not pass its records on.
printf 'FROM %s\nRUN echo child > /child\n' "$img" >"$WORK/child.Dockerfile"
ANYARCH_ROOT="$WORK/s7" "$AA" --insecure --progress quiet build --platform linux/arm64 \
  -f "$WORK/child.Dockerfile" -o "type=oci,dest=$WORK/child" "$WORK/ctx" >/dev/null || fail "child build"
ccfg=$(skopeo inspect --config --raw "oci:$WORK/child") || fail "child config"
assert_eq "$(jq 'has("anyarch.buildcache.v1")' <<<"$ccfg")" false "the child's config has no records of its base"
pass "type=inline: the image carries its cache, a fresh store imports it from the image"

# No cache there: a warning, and the build runs.
got=$(build "$WORK/s5" "$WORK/e6" --cache-from "type=registry,ref=$REG/cache/none:x")
grep -q '"event":"warning".*--cache-from.*building without it' "$WORK/e6" || fail "no warning for a missing cache"
assert_eq "$got" "$want" "a build without the cache still builds the same image"
expect_fail "$AA" build --cache-to type=gha "$WORK/ctx"
assert_contains "$ERR" "type must be registry" "an unsupported cache type is named"
expect_fail "$AA" build --cache-to type=inline,mode=max "$WORK/ctx"
assert_contains "$ERR" "mode=max cannot be inline" "inline is mode=min"
expect_fail "$AA" build --cache-to "type=registry,ref=$cache,mode=most" "$WORK/ctx"
assert_contains "$ERR" "mode=most: expected min or max" "a bad mode is named"
pass "a missing cache is a warning; bad --cache-to values are errors that say why"
