#!/usr/bin/env bash
# anyarch run on the multi-platform busybox image: emulated platforms, exit codes, config and
# overrides, timeouts, and hostile layers that must not reach the host.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || fail "needs root"
layout="$WORK/layout"
bash "$SRC/tests/tools/busybox_index.sh" "$layout" latest >/dev/null
img="oci:$layout:latest"

declare -A want=([linux/arm64]=aarch64 [linux/arm/v7]=armv7l [linux/ppc64le]=ppc64le [linux/s390x]=s390x
  [linux/386]=i686 [linux/amd64]=x86_64 [linux/mips64le]=mips64)
for p in "${!want[@]}"; do
  got=$("$AA" run --rm --platform "$p" "$img" uname -m)
  assert_eq "$got" "${want[$p]}" "uname -m on $p"
done
pass "uname -m on every platform"

# The command's exit code comes back; stdout and stderr are passed through separately.
set +e
"$AA" run --rm --platform linux/arm64 "$img" sh -c 'echo out; echo err >&2; exit 3' >"$WORK/o" 2>"$WORK/e"
rc=$?
set -e
assert_eq "$rc" 3 "exit code"
assert_eq "$(cat "$WORK/o")" "out" "stdout"
assert_contains "$(cat "$WORK/e")" "err" "stderr"
pass "exit code and streams"

# Env, WorkingDir and User from the command line; the image's PATH and Cmd otherwise.
out=$("$AA" run --rm --platform linux/arm/v7 -e GREETING=hello -w /tmp/work -u 1000:1000 "$img" \
  sh -c 'echo "$GREETING $(pwd) $(id -u):$(id -g)"')
assert_eq "$out" "hello /tmp/work 1000:1000" "overrides"
out=$("$AA" run --rm --platform linux/s390x "$img" sh -c 'echo $PATH; hostname | wc -c; ls /dev | tr "\n" " "')
assert_contains "$out" "/usr/local/sbin:/usr/local/bin" "PATH from the image"
assert_contains "$out" "null" "/dev/null present"
assert_not_contains "$out" "sda" "no host disks in /dev"
out=$(echo piped | "$AA" run --rm --platform linux/arm64 "$img" cat)
assert_eq "$out" "piped" "stdin"
pass "config and overrides"

# A hang under emulation is ended by --timeout and reported as such.
set +e
"$AA" run --rm --timeout 2 --platform linux/arm64 "$img" sleep 60 2>"$WORK/e"
rc=$?
set -e
assert_eq "$rc" 124 "timeout exit code"
assert_contains "$(cat "$WORK/e")" "did not finish within 2 s" "hang reported"
pass "timeout"

# Errors: unknown command (127), platform not in the index (125 with the list), bad image.
expect_fail "$AA" run --rm --platform linux/arm64 "$img" no-such-command
assert_eq "$RC" 127 "command not found"
expect_fail "$AA" run --rm --platform linux/riscv64 "$img" true
assert_eq "$RC" 125 "platform missing"
assert_contains "$ERR" "it has linux/amd64, linux/arm64" "platforms listed"
expect_fail "$AA" run --rm "oci:$WORK/nope" true
assert_contains "$ERR" "not an OCI image layout" "bad image"
pass "errors"

# The rootfs is cached per layer chain: a second run reuses it.
n1=$(ls "$ANYARCH_ROOT/snapshots" | wc -l)
"$AA" run --rm --platform linux/arm64 "$img" true
n2=$(ls "$ANYARCH_ROOT/snapshots" | wc -l)
assert_eq "$n2" "$n1" "snapshot reused"
# Writes stay in the container's upper layer, never in the cached rootfs.
"$AA" run --rm --platform linux/arm64 "$img" sh -c 'echo x > /written; rm /bin/ls'
"$AA" run --rm --platform linux/arm64 "$img" sh -c 'test ! -e /written && test -e /bin/ls' ||
  fail "a run changed the cached rootfs"
pass "snapshot cache"

# Hostile layers: an absolute symlink out of the rootfs and a file written through it, a
# device node, and a hard link to a host file: nothing reaches the host.
sentinel="$WORK/sentinel"
mkdir -p "$sentinel"
echo secret >"$sentinel/host-file"
python3 "$SRC/tests/tools/make_image.py" "$layout" --tag hostile --image "linux/arm64=busybox:$(busybox_bin arm64)" \
  --layer "linux/arm64:escape@=$sentinel" --raw-layer "linux/arm64:escape/evil#=pwned" >/dev/null
out=$("$AA" run --rm --platform linux/arm64 "oci:$layout:hostile" cat "$sentinel/evil")
assert_eq "$out" "pwned" "the write landed inside the image"
[ ! -e "$sentinel/evil" ] || fail "a layer wrote outside the rootfs"
assert_eq "$(cat "$sentinel/host-file")" "secret" "host file untouched"
pass "hostile layers stay inside"
