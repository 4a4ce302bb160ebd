#!/usr/bin/env bash
# anyarch file on Debian's busybox-static binaries for every test architecture, and on
# scripts, text and missing files.
source "$(dirname "$0")/lib.sh"

declare -A want=(
  [amd64]=linux/amd64 [arm64]=linux/arm64 [armhf]=linux/arm/v7 [armel]=linux/arm/v5
  [i386]=linux/386 [ppc64el]=linux/ppc64le [s390x]=linux/s390x [mips64el]=linux/mips64le
)
for deb in "${!want[@]}"; do
  bin=$(busybox_bin "$deb")
  out=$("$AA" file "$bin")
  assert_contains "$out" ": ${want[$deb]} (" "anyarch file on busybox $deb"
  assert_contains "$out" "statically linked" "busybox $deb is static"
  json=$("$AA" file --json "$bin")
  got=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["platform"])' <<<"$json")
  assert_eq "$got" "${want[$deb]}" "JSON platform of busybox $deb"
done
pass "busybox binaries map to their platforms"

# armhf and armel are told apart by the ARM attributes, not guessed.
for deb in armhf armel; do
  src=$("$AA" file --json "$(busybox_bin $deb)" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["variant_from"])')
  assert_eq "$src" "attributes" "ARM variant source for $deb"
done
pass "ARM variants from Tag_CPU_arch"

# A dynamically linked host binary names its interpreter.
out=$("$AA" file /bin/sh)
assert_contains "$out" "dynamically linked, interpreter /lib" "dynamic binary"

# Scripts and non-ELF files are described without a platform; a missing file fails.
printf '#!/bin/sh\necho hi\n' >"$WORK/script.sh"
printf 'hello\n' >"$WORK/notes.txt"
out=$("$AA" file "$WORK/script.sh" "$WORK/notes.txt")
assert_contains "$out" "script.sh: script, runs on any platform that has /bin/sh" "script"
assert_contains "$out" "notes.txt: text, not an executable" "text file"
expect_fail "$AA" file "$WORK/script.sh" "$WORK/missing"
assert_contains "$ERR" "missing: No such file or directory" "missing file"
assert_contains "$OUT" "script.sh: script" "other paths are still reported"
# A truncated ELF file is reported as malformed, not a crash.
head -c 100 "$(busybox_bin arm64)" >"$WORK/truncated"
out=$("$AA" file "$WORK/truncated")
assert_contains "$out" "malformed ELF file" "truncated ELF"
pass "scripts, text, missing and truncated files"
