#!/usr/bin/env bash
# Bad input gets a clear error, a non-zero exit and no partial state: malformed references, a
# manifest over 4 MiB, tampered blobs between two registries, an index whose child is missing,
# a platform the index lacks, and broken archives. The local store is compared byte for byte
# before and after every failure.
source "$(dirname "$0")/lib.sh"
layout=$(busybox_layout)
start_plain_registry REG
push_busybox "$REG" busybox:latest >/dev/null
"$AA" --progress quiet pull "$REG/busybox:latest" >/dev/null  # the store is not empty
store_state() { (cd "$ANYARCH_ROOT" && find . -type f ! -name gc.lock ! -name index.json.lock | sort | xargs sha256sum); }
before=$(store_state)
unchanged() { assert_eq "$(store_state)" "$before" "the store after: $1"; }

# 1. Malformed references: each error names the part that is wrong.
while IFS='|' read -r ref want; do
  expect_fail "$AA" inspect "$ref"
  assert_contains "$ERR" "$want" "error for '$ref'"
  expect_fail "$AA" pull "$ref"
  assert_contains "$ERR" "$want" "pull error for '$ref'"
done <<'CASES'
127.0.0.1:5000/app:bad!tag|invalid tag "bad!tag"
127.0.0.1:5000/App/x:1|repository name "App/x" must be lowercase
127.0.0.1:5000/app@sha256:1234|must have 64 lowercase hex characters
127.0.0.1:5000/app@md5:d41d8cd98f00b204e9800998ecf8427e|unsupported algorithm "md5"
127.0.0.1:5000/a//b:1|empty path component
|it is empty
CASES
unchanged "malformed references"
pass "malformed references name the bad part"

# 2. A manifest over 4 MiB (a registry that pads its answer) is refused without being kept.
start_faultproxy BIG "$REG" --bloat '/manifests/:100'
expect_fail "$AA" --insecure pull "$BIG/busybox:latest"
assert_contains "$ERR" "4 MiB" "the error gives the limit"
unchanged "a manifest over 4 MiB"
pass "manifest over 4 MiB: $(head -1 <<<"$ERR")"

# 3. Tampered blobs between two registries: the destination gets no blob, manifest or tag.
start_plain_registry DST
start_faultproxy TAMPER "$REG" --tamper '/blobs/sha256:.*:100000'
expect_fail "$AA" --insecure copy --all "$TAMPER/busybox:latest" "$DST/busybox:copied"
assert_contains "$ERR" "digest" "the error is about the digest"
assert_contains "$ERR" "expected sha256:" "the error gives the expected digest"
assert_eq "$(access_log_count "$DST_LOG" PUT '/v2/busybox/manifests/')" 0 "manifests put after a tampered blob"
[ ! -d "$DST_DIR/data/docker/registry/v2/blobs" ] || \
  [ -z "$(find "$DST_DIR/data/docker/registry/v2/blobs" -name data)" ] || fail "a blob was stored in the destination"
expect_fail skopeo inspect --tls-verify=false --raw "docker://$DST/busybox:copied"
pass "tampered blob registry -> registry: nothing stored"

# 4. An index whose child is missing: from a layout and from a registry.
cp -r "$layout" "$WORK/broken"
child=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][2]["digest"].split(":")[1])' \
  "$WORK/broken/blobs/sha256/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].split(":")[1])' "$WORK/broken/index.json")")
rm "$WORK/broken/blobs/sha256/$child"
expect_fail "$AA" copy --all "oci:$WORK/broken:latest" local:broken/busybox:1
assert_contains "$ERR" "$child" "the error names the missing child"
unchanged "an index with a missing child"
expect_fail "$AA" copy --all "oci:$WORK/broken:latest" "$DST/broken:1"
expect_fail skopeo inspect --tls-verify=false --raw "docker://$DST/broken:1"
expect_fail "$AA" manifest create "$REG/list:1" "$REG/busybox@sha256:$(printf 0%.0s {1..64})"
assert_contains "$ERR" "MANIFEST_UNKNOWN" "a child that does not exist in the registry"
expect_fail "$AA" manifest inspect "$REG/list:1"
pass "missing index children: clear errors, nothing written"

# 5. A platform the index lacks: the error lists what it has.
for cmd in "pull --platform linux/riscv64 $REG/busybox:latest" \
           "copy --platform linux/riscv64 $REG/busybox:latest local:x:1" \
           "inspect --platform linux/riscv64 $REG/busybox:latest" \
           "run --platform linux/riscv64 $REG/busybox:latest true"; do
  # shellcheck disable=SC2086
  expect_fail "$AA" $cmd
  assert_contains "$ERR" "linux/riscv64" "$cmd: names the platform asked for"
  assert_contains "$ERR" "linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v5, linux/386, linux/ppc64le, linux/s390x, linux/mips64le" "$cmd: lists the platforms there are"
done
unchanged "a platform the index lacks"
pass "a missing platform lists the ones the index has"

# 6. Broken archives: not a tar, a truncated tar, a tar holding ../ paths.
printf 'not a tar at all' >"$WORK/garbage.tar"
expect_fail "$AA" import "$WORK/garbage.tar" -t bad:1
assert_contains "$ERR" "garbage.tar" "names the file"
"$AA" --progress quiet export "$REG/busybox:latest" -o "$WORK/good.tar" >/dev/null
head -c 100000 "$WORK/good.tar" >"$WORK/truncated.tar"
expect_fail "$AA" import "$WORK/truncated.tar" -t bad:2
mkdir -p "$WORK/evil/sub"
echo '{"imageLayoutVersion":"1.0.0"}' >"$WORK/evil/oci-layout"
echo owned >"$WORK/evil/escape"
(cd "$WORK/evil/sub" && tar -cf "$WORK/evil.tar" ../oci-layout ../escape 2>/dev/null)
expect_fail "$AA" import "$WORK/evil.tar" -t bad:3
[ ! -e "$WORK/../escape" ] || fail "an archive wrote outside its directory"
unchanged "broken archives"
pass "broken archives are refused"

# 7. A docker-archive holds one image: asking for two platforms is an error, with no file left.
expect_fail "$AA" export --format docker --platform linux/amd64,linux/arm64 "$REG/busybox:latest" -o "$WORK/two.tar"
[ ! -e "$WORK/two.tar" ] || fail "a refused export left a file"
[ -z "$(ls -A "$WORK" | grep -E '^\.two\.tar' || true)" ] || fail "a refused export left a temporary file"
pass "docker-archive export of two platforms is refused"
