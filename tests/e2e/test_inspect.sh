#!/usr/bin/env bash
# anyarch inspect on a registry and an OCI layout: human, --raw (exact bytes, same digest as
# skopeo) and --json output, platform selection and errors.
source "$(dirname "$0")/lib.sh"
layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null
start_plain_registry REG
skopeo copy -q --all --dest-tls-verify=false "oci:$layout:latest" "docker://$REG/busybox:latest" >/dev/null

for src in "$REG/busybox:latest" "oci:$layout:latest"; do
  skopeo_src="docker://$src"
  [[ $src == oci:* ]] && skopeo_src=$src
  ours=$("$AA" inspect --raw "$src" | sha256sum | cut -d' ' -f1)
  theirs=$(skopeo inspect --tls-verify=false --raw "$skopeo_src" | sha256sum | cut -d' ' -f1)
  assert_eq "$ours" "$theirs" "raw bytes of $src"
  out=$("$AA" inspect "$src")
  assert_contains "$out" "Digest:    sha256:$ours" "digest shown for $src"
  # One table row per platform: PLATFORM DIGEST SIZE MEDIA TYPE.
  assert_eq "$(echo "$out" | grep -cE '^linux/[a-z0-9/]+ +sha256:[0-9a-f]{64} +[0-9.]+ [KM]?i?B +application/')" 8 \
    "eight platforms in $src"
  echo "$out" | grep -qE '^PLATFORM +DIGEST +SIZE +MEDIA TYPE$' || fail "the table's header: $out"
  echo "$out" | grep -qE '^linux/arm/v5 +sha256:' || fail "arm/v5 listed: $out"
done
pass "raw bytes and digests match skopeo"

json=$("$AA" inspect --json --platform linux/s390x "$REG/busybox:latest")
python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["mediaType"] == "application/vnd.oci.image.index.v1+json", d
assert len(d["manifests"]) == 8
assert d["config"]["platform"] == "linux/s390x", d["config"]
assert d["config"]["cmd"] == ["sh"], d["config"]
assert len(d["image"]["layers"]) == 1
PY
raw_child=$("$AA" inspect --raw --platform linux/arm64 "$REG/busybox:latest" | sha256sum | cut -d' ' -f1)
child=$(python3 -c 'import json,sys; print([m["digest"] for m in json.loads(sys.argv[1])["manifests"] if m["platform"]=="linux/arm64"][0])' "$json")
assert_eq "sha256:$raw_child" "$child" "raw child manifest matches its index entry"
pass "json and platform selection"

# Human output of one platform: its image, then a table of its layers.
out=$("$AA" inspect --platform linux/s390x "$REG/busybox:latest")
assert_contains "$out" "Image (linux/s390x):" "the selected image"
assert_contains "$out" "Cmd:       sh" "its command"
echo "$out" | grep -qE '^LAYER +DIGEST +SIZE +MEDIA TYPE$' || fail "layers table header: $out"
echo "$out" | grep -qE '^1 +sha256:[0-9a-f]{64} +[0-9.]+ [KM]iB +application/vnd\.oci\.image\.layer' ||
  fail "layer row: $out"
assert_not_contains "$out" $'\033[' "no colour in captured output"
pass "human output is tables"

expect_fail "$AA" inspect --platform linux/riscv64 "$REG/busybox:latest"
assert_contains "$ERR" "it has linux/amd64, linux/arm64" "missing platform lists the index"
expect_fail "$AA" inspect "$REG/busybox:nosuchtag"
assert_contains "$ERR" "HTTP 404" "unknown tag"
expect_fail "$AA" inspect "Bad/Reference"
assert_contains "$ERR" "must be lowercase" "malformed reference names the part"
pass "errors"
