#!/usr/bin/env bash
# anyarch binfmt: install, status, test, uninstall, conflicts with other tools' entries.
# Changes the machine's binfmt_misc registrations and always restores anyarch's at the end.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || fail "needs root"
mnt=/proc/sys/fs/binfmt_misc
restore() { "$AA" binfmt install --force all >/dev/null 2>&1 || true; }
on_exit restore

# Install everything; the host's own architectures are left alone.
out=$("$AA" binfmt install --force all)
echo "$out" | grep -qE "^x86_64 +linux/amd64 +native" || fail "host architecture not skipped: $out"
[ ! -e "$mnt/qemu-x86_64" ] || fail "the host architecture must not be registered"
flags=$(sed -n 's/^flags: //p' "$mnt/qemu-aarch64")
assert_contains "$flags" "F" "F flag"
assert_contains "$flags" "C" "C flag"

# The probes pass for every architecture the issue lists.
out=$("$AA" binfmt test arm64 arm 386 ppc64le s390x riscv64 mips64le)
for a in aarch64 arm ppc64le s390x riscv64 mips64el; do
  echo "$out" | grep -qE "^$a +linux/[a-z0-9/]+ +pass " || fail "probe for $a did not pass: $out"
done
echo "$out" | grep -qE "^i386 +linux/386 +native " || fail "386 should run natively: $out"
pass "probes pass"

# A second install changes nothing.
out=$("$AA" binfmt install arm64)
assert_contains "$out" "unchanged" "idempotent install"

# An entry made by another tool with other flags is a conflict without --force...
"$AA" binfmt uninstall riscv64 >/dev/null
printf ':qemu-riscv64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xf3\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-riscv64-static:' >"$mnt/register"
expect_fail "$AA" binfmt install riscv64
assert_contains "$OUT" "conflict" "conflict reported"
assert_contains "$OUT" "flags: (none) -> " "difference shown"
# ...and without F, the chroot probe cannot find the interpreter: ENOENT, told apart.
expect_fail "$AA" binfmt test riscv64
assert_contains "$OUT" "no-interpreter" "ENOENT without F"
# --force replaces it and the probe passes again.
out=$("$AA" binfmt install --force riscv64)
assert_contains "$out" "replaced" "forced replacement"
"$AA" binfmt test riscv64 >/dev/null
pass "conflicts"

# Uninstall: no handler any more (ENOEXEC), then reinstall.
"$AA" binfmt uninstall s390x >/dev/null
[ ! -e "$mnt/qemu-s390x" ] || fail "s390x entry still present"
expect_fail "$AA" binfmt test s390x
assert_contains "$OUT" "no-handler" "ENOEXEC after uninstall"
"$AA" binfmt install s390x >/dev/null
"$AA" binfmt test s390x >/dev/null
pass "uninstall and reinstall"

# Status shows entries, and --json is machine-readable.
json=$("$AA" binfmt status --json arm64)
python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
a = d["arches"][0]
assert a["arch"] == "aarch64" and a["action"] == "registered" and a["probe"] == "pass", a
assert "F" in a["flags"], a
PY
pass "status"

# Unknown architectures are refused with the list of known ones.
expect_fail "$AA" binfmt install nonsense
assert_contains "$ERR" "unknown architecture \"nonsense\"" "unknown arch"
pass "errors"
