#!/usr/bin/env bash
# Never substitute or destroy silently (issue 9, item 1), driven as a user would:
# - copy, pull, run and manifest merge asked for linux/arm64 on an index of amd64 and arm/v7 fail
#   with the platforms the index has (exit 3), and take a lower arm variant only with a warning;
# - pull --all-platforms then pull --platform keeps the local index, so a later push leaves the
#   registry's index as it was (this lost seven of eight platforms before);
# - a push that would replace a remote index by fewer platforms is refused (exit 6) unless
#   --force, naming what would be lost;
# - pulling a second platform of a name adds it to what the store holds.
source "$(dirname "$0")/lib.sh"
start_plain_registry REG
q=(--progress quiet)
app=$(push_busybox "$REG" app:1)
digest=$(busybox_digest)

# An index with linux/amd64 and linux/arm/v7 only, and one with linux/amd64 and linux/arm/v5.
"$AA" "${q[@]}" copy --platform linux/amd64,linux/arm/v7 "$app" "$REG/two:1" >/dev/null
"$AA" "${q[@]}" copy --platform linux/amd64,linux/arm/v5 "$app" "$REG/v5:1" >/dev/null

# 1. Another architecture is never a match, for any command that selects a platform.
want_list='no image for linux/arm64 in index'
want_has='it has linux/amd64, linux/arm/v7'
expect_fail "$AA" "${q[@]}" copy --platform linux/arm64 "$REG/two:1" "oci:$WORK/out:1"
assert_eq "$RC" 3 "copy --platform linux/arm64: exit code (not found)"
assert_contains "$ERR" "$want_list" "copy --platform linux/arm64"
assert_contains "$ERR" "$want_has" "copy --platform linux/arm64"
expect_fail "$AA" "${q[@]}" pull --platform linux/arm64 "$REG/two:1"
assert_eq "$RC" 3 "pull --platform linux/arm64: exit code"
assert_contains "$ERR" "$want_has" "pull --platform linux/arm64"
expect_fail "$AA" "${q[@]}" inspect "local:$REG/two:1"
assert_contains "$ERR" "no image $REG/two:1 in the local store" "a refused pull named nothing"
expect_fail "$AA" run --rm --platform linux/arm64 "$REG/two:1" true
assert_eq "$RC" 125 "run --platform linux/arm64: exit code (anyarch failed)"
assert_contains "$ERR" "$want_has" "run --platform linux/arm64"
expect_fail "$AA" "${q[@]}" manifest merge --platform linux/arm64 -t "$REG/merged:1" "$REG/two:1"
assert_eq "$RC" 3 "manifest merge --platform linux/arm64: exit code"
assert_contains "$ERR" "no image for linux/arm64 in the sources; they have linux/amd64, linux/arm/v7" \
  "manifest merge --platform linux/arm64"
expect_fail skopeo inspect --raw --tls-verify=false "docker://$REG/merged:1"
pass "linux/arm64 asked, amd64 and arm/v7 there: copy, pull, run and merge fail and list the platforms"

# 2. A lower arm variant of the same architecture is used, with a warning naming it.
"$AA" --progress plain copy --platform linux/arm/v7 "$REG/v5:1" "oci:$WORK/v5:1" \
  >"$WORK/v5.out" 2>"$WORK/v5.err"
assert_contains "$(cat "$WORK/v5.err")" \
  "anyarch: warning: using linux/arm/v5 for linux/arm/v7 (there is no linux/arm/v7 image)" \
  "copy --platform linux/arm/v7 from an arm/v5 index"
out=$("$AA" "${q[@]}" inspect --json "oci:$WORK/v5:1")
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["config"]["platform"] == "linux/arm/v5", d["config"]
PY
out=$("$AA" "${q[@]}" run --rm --platform linux/arm/v7 "$REG/v5:1" uname -m 2>"$WORK/run.err")
assert_contains "$(cat "$WORK/run.err")" "using linux/arm/v5 for linux/arm/v7" "run arm/v7 on arm/v5"
assert_eq "$out" "armv7l" "the arm/v5 image ran (qemu-arm reports armv7l)"
pass "arm/v7 asked, arm/v5 there: used, with a warning naming it"

# 3. Data loss 1: pull --all-platforms, then pull one platform: the local index stays, and a
# push leaves the registry's eight-platform index as it was.
"$AA" "${q[@]}" pull --all-platforms "$app" >/dev/null
"$AA" "${q[@]}" pull --platform linux/arm/v7 "$app" >/dev/null
local_digest=sha256:$("$AA" "${q[@]}" inspect --raw "local:$app" | sha256sum | cut -d' ' -f1)
assert_eq "$local_digest" "$digest" "the local index after pulling one platform of it"
"$AA" "${q[@]}" push "$app" >/dev/null
remote_digest=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$app" | sha256sum | cut -d' ' -f1)
assert_eq "$remote_digest" "$digest" "the registry's index after push"
n=$(skopeo inspect --raw --tls-verify=false "docker://$app" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["manifests"]))')
assert_eq "$n" 8 "platforms in the registry's index after push"
pass "pull --all-platforms, pull --platform, push: the index survives, digest unchanged"

# 4. Data loss 2: a store holding one platform must not replace the remote index on push.
export ANYARCH_ROOT=$WORK/store2
"$AA" "${q[@]}" pull --platform linux/arm/v7 "$app" >/dev/null
expect_fail "$AA" "${q[@]}" push "$app"
assert_eq "$RC" 6 "push of one platform over an index: exit code (invalid)"
assert_contains "$ERR" "$app is an index of linux/amd64, linux/arm64, linux/arm/v7" "push refusal"
assert_contains "$ERR" "would replace it and lose linux/amd64, linux/arm64, linux/arm/v5, linux/386, linux/ppc64le, linux/s390x, linux/mips64le" \
  "push refusal names what would be lost"
assert_contains "$ERR" "--force" "push refusal says how to override"
remote_digest=sha256:$(skopeo inspect --raw --tls-verify=false "docker://$app" | sha256sum | cut -d' ' -f1)
assert_eq "$remote_digest" "$digest" "the registry's index after a refused push"
# To another, new tag there is nothing to lose.
"$AA" "${q[@]}" push "$app" "$REG/app:armonly" >/dev/null
"$AA" "${q[@]}" push --force "$app" >/dev/null
mt=$(skopeo inspect --raw --tls-verify=false "docker://$app" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mediaType"])')
assert_eq "$mt" "application/vnd.oci.image.manifest.v1+json" "push --force replaced the index"
pass "push refuses to replace an index by fewer platforms; --force does it"

# 5. Pulling a second platform adds it to what the store has.
skopeo copy -q --all --dest-tls-verify=false "oci:$(busybox_layout):latest" "docker://$REG/add:1"
export ANYARCH_ROOT=$WORK/store3
"$AA" "${q[@]}" pull --platform linux/arm64 "$REG/add:1" >/dev/null
"$AA" "${q[@]}" pull --platform linux/s390x "$REG/add:1" >/dev/null
out=$("$AA" "${q[@]}" inspect --json "local:$REG/add:1")
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
got = sorted(m["platform"] for m in d["manifests"])
assert got == ["linux/arm64", "linux/s390x"], got
PY
out=$("$AA" "${q[@]}" run --rm --platform linux/arm64 "$REG/add:1" uname -m)
assert_eq "$out" "aarch64" "run the first platform pulled"
out=$("$AA" "${q[@]}" run --rm --platform linux/s390x "$REG/add:1" uname -m)
assert_eq "$out" "s390x" "run the second platform pulled"
pass "pull of a second platform adds it to the local index"
