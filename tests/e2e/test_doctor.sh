#!/usr/bin/env bash
# anyarch doctor: one line per check, the fix for what fails, JSON for scripts.
source "$(dirname "$0")/lib.sh"
restore() { "$AA" binfmt install --force all >/dev/null 2>&1 || true; }
on_exit restore

out=$("$AA" doctor)
for check in kernel binfmt_misc emulators overlayfs namespaces cgroups store config platforms; do
  echo "$out" | grep -qE "^\[(ok|warn|fail)\] +$check " || fail "doctor has no line for $check: $out"
done
assert_contains "$out" "[ok]   binfmt_misc" "binfmt_misc mounted"
assert_contains "$out" "linux/arm64" "arm64 runnable after setup"
assert_contains "$out" "linux/s390x" "s390x runnable after setup"
pass "all checks present"

# A broken config is a failure with its line and column, and the exit code says so.
printf '[registry."127.0.0.1:5000"\nhttp = true\n' >"$WORK/bad.toml"
expect_fail "$AA" --config "$WORK/bad.toml" doctor
assert_contains "$OUT" "[fail] config" "bad config fails"
assert_contains "$OUT" "bad.toml:1:" "position of the syntax error"
printf '[registry."127.0.0.1:5000"]\nhttp = "yes"\nmirrors = ["a"]\n' >"$WORK/wrong-type.toml"
expect_fail "$AA" --config "$WORK/wrong-type.toml" doctor
assert_contains "$OUT" 'http must be true or false' "wrong type"
# The fix names documentation that exists.
set +e
out=$("$AA" --config "$WORK/wrong-type.toml" doctor --json)
set -e
python3 - "$out" "$SRC" <<'PY'
import json, os, re, sys
d = json.loads(sys.argv[1])
cfg = [c for c in d["checks"] if c["check"] == "config"][0]
docs = re.findall(r"docs/[\w.-]+\.md", cfg["fix"])
assert docs, cfg
for p in docs:
    assert os.path.isfile(os.path.join(sys.argv[2], p)), "fix points at missing " + p
PY
printf '[registry."127.0.0.1:5000"]\nhttp = true\ninsecure = true\nca = ["/etc/ca.pem"]\n' >"$WORK/good.toml"
out=$("$AA" --config "$WORK/good.toml" doctor)
assert_contains "$out" "[ok]   config" "valid config"
printf 'debug = true\n[registry."127.0.0.1:5000"]\nhttp = true\n' >"$WORK/buildkitd.toml"
out=$("$AA" --config "$WORK/buildkitd.toml" doctor || true)
assert_contains "$out" "[warn] config" "a buildkitd.toml with other sections is accepted with a warning"
pass "config"

# A missing emulator is reported with the fix.
"$AA" binfmt uninstall riscv64 >/dev/null
out=$("$AA" doctor --json)
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
emu = [c for c in d["checks"] if c["check"] == "emulators"][0]
assert emu["status"] == "warn" and "missing: riscv64" in emu["detail"], emu
assert "anyarch binfmt install" in emu["fix"], emu
assert "linux/riscv64" not in d["runnable_platforms"], d["runnable_platforms"]
PY
pass "missing emulator reported"
