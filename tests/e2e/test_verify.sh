#!/usr/bin/env bash
# anyarch verify on the multi-platform busybox image, on an arm64 image with an amd64 binary
# added in a later layer, with a whiteout that removes it, and on broken inputs.
source "$(dirname "$0")/lib.sh"
mk="$SRC/tests/tools/make_image.py"
bb() { busybox_bin "$1"; }
layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null

out=$("$AA" verify "oci:$layout:latest")
for p in linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v5 linux/386 linux/ppc64le linux/s390x linux/mips64le; do
  echo "$out" | grep -qE "^$p sha256:[0-9a-f]{12}: [0-9]+ files, 1 ELF, ok$" || fail "verify of $p: $out"
done
pass "busybox index verifies on all eight platforms"

# An amd64 busybox added in a later layer of an arm64 image is caught and named.
python3 "$mk" "$layout" --tag bad --image "linux/arm64=busybox:$(bb arm64)" \
  --layer "linux/arm64:usr/local/bin/tool=$(bb amd64)" >/dev/null
expect_fail "$AA" verify "oci:$layout:bad"
assert_contains "$OUT" "wrong-platform /usr/local/bin/tool: found linux/amd64, expected linux/arm64" "mismatch named"
json=$("$AA" verify --json "oci:$layout:bad" || true)
python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["ok"] is False
m = d["platforms"][0]["mismatches"]
assert m == [{"path": "/usr/local/bin/tool", "kind": "wrong-platform", "found": "linux/amd64",
              "expected": "linux/arm64", "detail": "x86-64 binary in a linux/arm64 image"}], m
PY
pass "amd64 binary in an arm64 image"

# A whiteout in a later layer deletes it: verify passes again.
python3 "$mk" "$layout" --tag fixed --image "linux/arm64=busybox:$(bb arm64)" \
  --layer "linux/arm64:usr/local/bin/tool=$(bb amd64)" --layer "linux/arm64:usr/local/bin/tool~" >/dev/null
"$AA" verify "oci:$layout:fixed" >/dev/null || fail "whiteout should make verify pass"
# So does an opaque directory.
python3 "$mk" "$layout" --tag opaque --image "linux/arm64=busybox:$(bb arm64)" \
  --layer "linux/arm64:usr/local/bin/tool=$(bb amd64)" --layer "linux/arm64:usr/local/bin/~~" >/dev/null
"$AA" verify "oci:$layout:opaque" >/dev/null || fail "opaque directory should hide the file"
pass "whiteouts and opaque directories"

# armel (v5) binaries run on arm/v7; an armhf (v7) binary in a v5 image does not.
python3 "$mk" "$layout" --tag armv5 --image "linux/arm/v5=busybox:$(bb armel)" \
  --layer "linux/arm/v5:bin/v7tool=$(bb armhf)" >/dev/null
expect_fail "$AA" verify "oci:$layout:armv5"
assert_contains "$OUT" "/bin/v7tool: found linux/arm/v7, expected linux/arm/v5" "arm variant checked"

# A dynamically linked program whose interpreter is not in the image.
python3 "$mk" "$layout" --tag dyn --image "linux/amd64=busybox:$(bb amd64)" \
  --layer "linux/amd64:bin/dynls=/bin/ls" >/dev/null
expect_fail "$AA" verify "oci:$layout:dyn"
assert_contains "$OUT" "missing-interpreter /bin/dynls: found /lib64/ld-linux-x86-64.so.2" "missing interpreter"
# ...and found through the image's own symlinks (usrmerge style /lib64 -> usr/lib64).
python3 "$mk" "$layout" --tag dynok --image "linux/amd64=busybox:$(bb amd64)" \
  --layer "linux/amd64:bin/dynls=/bin/ls,lib64@=usr/lib64,usr/lib64/ld-linux-x86-64.so.2=$(bb amd64)" >/dev/null
"$AA" verify "oci:$layout:dynok" >/dev/null || fail "interpreter through a symlink should be found"
pass "dynamic interpreters"

# ELF files verify cannot place on a platform are reported, not passed over: an e_machine with no
# OCI platform (m68k), and a truncated header.
python3 - "$WORK" <<'PY'
import struct, sys
ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little endian
hdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 4, 1, 0x400000, 0, 0, 0, 64, 56, 0, 64, 0, 0)
open(sys.argv[1] + "/m68k.elf", "wb").write(hdr)
open(sys.argv[1] + "/short.elf", "wb").write(ident + b"\x02\x00")
PY
python3 "$mk" "$layout" --tag oddelf --image "linux/arm64=busybox:$(bb arm64)" \
  --layer "linux/arm64:opt/m68k=$WORK/m68k.elf,opt/short=$WORK/short.elf" >/dev/null
expect_fail "$AA" verify "oci:$layout:oddelf"
assert_eq "$RC" 1 "odd ELF files fail verify"
assert_contains "$OUT" "3 ELF, 2 mismatch(es)" "counted"
assert_contains "$OUT" "unsupported-elf /opt/m68k:" "unsupported machine reported"
assert_contains "$OUT" "ELF e_machine 4 has no OCI architecture" "machine named once"
assert_contains "$OUT" "malformed-elf /opt/short:" "malformed file reported"
json=$("$AA" verify --json "oci:$layout:oddelf" || true)
python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["ok"] is False
m = {x["path"]: x for x in d["platforms"][0]["mismatches"]}
assert set(m) == {"/opt/m68k", "/opt/short"}, m
for x in m.values():
    assert set(x) == {"path", "kind", "found", "expected", "detail"}, x
    assert x["expected"] == "linux/arm64", x
assert m["/opt/m68k"]["kind"] == "unsupported-elf", m
assert m["/opt/m68k"]["detail"] == "ELF e_machine 4 has no OCI architecture", m
assert m["/opt/short"]["kind"] == "malformed-elf", m
assert "truncated" in m["/opt/short"]["detail"] or "past the end" in m["/opt/short"]["detail"], m
PY
pass "unsupported and malformed ELF files"

# --platform narrows; an absent platform lists what the index has.
out=$("$AA" verify --platform linux/s390x "oci:$layout:latest")
assert_eq "$(echo "$out" | wc -l)" 1 "one platform checked"
expect_fail "$AA" verify --platform linux/riscv64 "oci:$layout:latest"
assert_contains "$ERR" "no image for linux/riscv64" "absent platform"
assert_contains "$ERR" "it has linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v5, linux/386, linux/ppc64le, linux/s390x, linux/mips64le" "platforms listed"
pass "platform selection"

# A tampered blob is a digest error, not a verdict.
cp -r "$layout" "$WORK/tampered"
blob=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"].split(":")[1])' \
  "$WORK/tampered/blobs/sha256/$(python3 -c 'import json,sys; print([m for m in json.load(open(sys.argv[1]))["manifests"] if m["platform"]["architecture"]=="s390x"][0]["digest"].split(":")[1])' \
  "$WORK/tampered/blobs/sha256/$(python3 -c 'import json; print([m for m in json.load(open("'"$WORK"'/tampered/index.json"))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]=="latest"][0]["digest"].split(":")[1])')")")
python3 - "$WORK/tampered/blobs/sha256/$blob" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xff
open(p, "wb").write(bytes(b))
PY
expect_fail "$AA" verify --platform linux/s390x "oci:$WORK/tampered:latest"
assert_contains "$ERR" "blob sha256:$blob: content has digest" "tampered blob named"
assert_contains "$ERR" ", expected sha256:$blob" "digest mismatch reported"
pass "tampered blob"

# Unknown tags and non-layouts are clear errors.
expect_fail "$AA" verify "oci:$layout:nosuch"
assert_contains "$ERR" "no image tagged \"nosuch\"" "unknown tag"
expect_fail "$AA" verify "oci:$WORK"
assert_contains "$ERR" "is not an OCI image layout" "not a layout"
pass "errors"
