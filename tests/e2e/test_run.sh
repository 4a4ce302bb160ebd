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
# The container's / keeps the image's mode whatever anyarch's umask: an unprivileged user inside
# can still run programs, and files made inside get the container's umask, 0022.
out=$(umask 0077 && "$AA" run --rm --user 65534:65534 --platform linux/arm64 "$img" stat -c %a / 2>&1) ||
  fail "run --user 65534 under umask 0077: $out"
assert_eq "$out" 755 "umask 0077 outside: an unprivileged user runs programs, / is 0755"
out=$(umask 0077 && "$AA" run --rm --platform linux/arm64 "$img" sh -c 'touch /f; stat -c %a /f' 2>&1)
assert_eq "$out" 644 "umask 0077 outside: a file made inside is 0644"
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

# pids_of UID REGEX: processes of that uid whose command line (arguments joined by spaces)
# matches REGEX.
pids_of() {
  local d uid cmd
  for d in /proc/[0-9]*; do
    uid=$(awk '/^Uid:/ {print $2}' "$d/status" 2>/dev/null) || continue
    [ "$uid" = "$1" ] || continue
    cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
    if [[ "$cmd" =~ $2 ]]; then echo "${d#/proc/}"; fi
  done
  return 0
}

# The container's root is not the host's: Docker's 14 default capabilities, no_new_privs, device
# nodes unusable (nodev), /proc/sys and friends read-only, /proc/timer_list and friends masked.
# Emulated programs keep working (binfmt's F flag holds qemu open across pivot_root).
for p in linux/amd64 linux/arm64; do
  out=$("$AA" run --rm --platform "$p" "$img" sh -c '
    grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status | tr -d "\t"
    busybox mknod /tmp/mem c 1 1 && echo made-node
    head -c 1 /tmp/mem >/dev/null 2>&1 && echo READ-HOST-MEMORY
    busybox mknod /tmp/zero c 1 5 && head -c 1 /tmp/zero >/dev/null 2>&1 && echo OPENED-DEVICE-NODE
    busybox mknod /dev/zero2 c 1 5 && head -c 1 /dev/zero2 >/dev/null 2>&1 && echo OPENED-NODE-IN-DEV
    read v </proc/sys/kernel/domainname
    (echo "$v" >/proc/sys/kernel/domainname) 2>/dev/null && echo PROC-SYS-WRITABLE
    busybox awk "\$5 ~ /^\/proc\/(sys|sysrq-trigger|irq|bus)\$/ {print \$5, substr(\$6, 1, 2)}" /proc/self/mountinfo
    for f in /proc/timer_list /proc/keys /proc/kcore; do
      [ -e $f ] && echo "$f $(cat $f 2>/dev/null | wc -c)"
    done
    busybox mount -t tmpfs none /tmp 2>/dev/null && echo MOUNTED
    id -u' 2>/dev/null)
  assert_contains "$out" "CapEff:00000000a80425fb" "$p: Docker's default capabilities"
  assert_contains "$out" "CapBnd:00000000a80425fb" "$p: bounding set"
  assert_contains "$out" "CapInh:0000000000000000" "$p: no inheritable capabilities"
  assert_contains "$out" "NoNewPrivs:1" "$p: no_new_privs"
  assert_contains "$out" "made-node" "$p: mknod is allowed (CAP_MKNOD, as in Docker)"
  for bad in READ-HOST-MEMORY OPENED-DEVICE-NODE OPENED-NODE-IN-DEV PROC-SYS-WRITABLE MOUNTED "rw"; do
    assert_not_contains "$out" "$bad" "$p: $bad"
  done
  assert_contains "$out" "/proc/sys ro" "$p: /proc/sys read-only"
  if [ -e /proc/sysrq-trigger ]; then
    assert_contains "$out" "/proc/sysrq-trigger ro" "$p: /proc/sysrq-trigger read-only"
  fi
  if [ -e /proc/timer_list ]; then
    assert_contains "$out" "/proc/timer_list 0" "$p: /proc/timer_list masked"
  fi
  [ -e /proc/kcore ] && assert_contains "$out" "/proc/kcore 0" "$p: /proc/kcore masked"
  out=$("$AA" run --rm --platform "$p" -u 1000 "$img" grep CapEff /proc/self/status | tr -d '\t')
  assert_eq "$out" "CapEff:0000000000000000" "$p: no capabilities for a user"
done
pass "privileges of the container's root"

# --timeout ends the whole container, also when the program runs as another user (setuid used to
# clear the parent-death signal, and only the process between anyarch and the program was killed).
for p in linux/amd64:37 linux/arm64:38; do
  plat=${p%:*} secs=${p#*:}
  set +e
  "$AA" run --rm --timeout 2 --user 1000 --platform "$plat" "$img" sleep "$secs" 2>/dev/null
  rc=$?
  set -e
  assert_eq "$rc" 124 "$plat: timeout exit code with --user"
  left=$(pids_of 1000 "sleep $secs \$")
  if [ -n "$left" ]; then
    kill -9 $left
    fail "$plat: the program outlived --timeout: pids $left"
  fi
done
# However anyarch ends (here SIGKILL, which it cannot catch), the container ends with it.
"$AA" run --rm --user 1000 --platform linux/amd64 "$img" sleep 41 2>/dev/null &
apid=$!
for ((i = 0; i < 100; i++)); do
  [ -n "$(pids_of 1000 '^sleep 41 $')" ] && break
  sleep 0.1
done
[ -n "$(pids_of 1000 '^sleep 41 $')" ] || fail "the program did not start"
kill -KILL "$apid"
wait "$apid" 2>/dev/null || true
for ((i = 0; i < 30; i++)); do
  [ -z "$(pids_of 1000 '^sleep 41 $')" ] && break
  sleep 0.1
done
left=$(pids_of 1000 '^sleep 41 $')
if [ -n "$left" ]; then
  kill -9 $left
  fail "the program outlived a killed anyarch: pids $left"
fi
pass "timeout with --user leaves nothing behind"

# A native program is not pid 1 (which ignores signals it has no handler for): a minimal init
# forwards SIGTERM to it, and anyarch ends with 128+15.
"$AA" run --rm --platform linux/amd64 "$img" sleep 39 &
apid=$!
on_exit "kill -9 $apid 2>/dev/null"
for ((i = 0; i < 100; i++)); do
  [ -n "$(pids_of 0 '^sleep 39 $')" ] && break
  sleep 0.1
done
[ -n "$(pids_of 0 '^sleep 39 $')" ] || fail "the program did not start"
kill -TERM "$apid"
for ((i = 0; i < 50; i++)); do
  kill -0 "$apid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$apid" 2>/dev/null && fail "anyarch run still running 5 s after SIGTERM"
set +e
wait "$apid"
rc=$?
set -e
assert_eq "$rc" 143 "exit code after SIGTERM"
[ -z "$(pids_of 0 '^sleep 39 $')" ] || fail "the program survived SIGTERM"
# The program is not pid 1; the init reaps orphans and passes the program's status on.
out=$("$AA" run --rm --platform linux/amd64 "$img" sh -c 'echo $$; (sleep 0.2 &); sleep 0.5
  ps -o stat | grep -c "^Z"; exit 7' || echo "rc=$?")
assert_eq "$out" $'2\n0\nrc=7' "pid, zombies and exit status"
pass "signals reach the program"

# The rootfs cache is keyed by the config's diff_ids: a layer whose content is not its diff_id is
# refused before anything is published under that chain ID.
python3 "$SRC/tests/tools/make_image.py" "$layout" --tag poisoned --image "linux/arm64=busybox:$(busybox_bin arm64)" \
  --layer "linux/arm64:etc/motd#=not what the config says" --bad-diff-id linux/arm64 >/dev/null
before=$(ls -A "$ANYARCH_ROOT/snapshots" | sort)
expect_fail "$AA" run --rm --platform linux/arm64 "oci:$layout:poisoned" true
assert_eq "$RC" 125 "poisoned layer exit code"
assert_contains "$ERR" "unpacking layer 2" "the layer is named"
assert_contains "$ERR" "diff_id is sha256:$(printf 'not this layer' | sha256sum | cut -d' ' -f1)" "expected diff_id"
assert_eq "$(ls -A "$ANYARCH_ROOT/snapshots" | sort)" "$before" "nothing published or left behind"
pass "diff_ids are checked"

# Layers made with `tar -C dir -c .` start with a "./" entry for the root.
mkdir -p "$WORK/dirlayer/etc"
echo hello >"$WORK/dirlayer/etc/greeting"
python3 "$SRC/tests/tools/make_image.py" "$layout" --tag dotroot --image "linux/amd64=busybox:$(busybox_bin amd64)" \
  --dir-layer "linux/amd64:$WORK/dirlayer" >/dev/null
tar -tzf "$layout/blobs/sha256/$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/index.json"))
i=[x for x in m["manifests"] if x["annotations"]["org.opencontainers.image.ref.name"]=="dotroot"][0]
idx=json.load(open(sys.argv[1]+"/blobs/sha256/"+i["digest"][7:]))
man=json.load(open(sys.argv[1]+"/blobs/sha256/"+idx["manifests"][0]["digest"][7:]))
print(man["layers"][-1]["digest"][7:])' "$layout")" | sed -n 1p | grep -qx './' || fail "the test layer has no ./ entry"
out=$("$AA" run --rm --platform linux/amd64 "oci:$layout:dotroot" cat /etc/greeting)
assert_eq "$out" "hello" "layer with a ./ entry"
pass "root entries in layers"

# The image's files keep their times and the xattrs a layer carries (never overlay's own); a RUN
# step that copies one up (chmod) writes them into its layer.
python3 - "$WORK/attrs.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo("data"); d.type = tarfile.DIRTYPE; d.mode = 0o755; d.mtime = 1000000000
    t.addfile(d)
    f = tarfile.TarInfo("data/stamp"); f.size = 3; f.mode = 0o644; f.mtime = 946684800
    f.pax_headers = {"SCHILY.xattr.user.note": "hi", "SCHILY.xattr.user.overlay.opaque": "y"}
    t.addfile(f, io.BytesIO(b"hi\n"))
PY
python3 "$SRC/tests/tools/make_image.py" "$layout" --tag attrs --image "linux/amd64=busybox:$(busybox_bin amd64)" \
  --tar-layer "linux/amd64:$WORK/attrs.tar" >/dev/null
out=$("$AA" run --rm --platform linux/amd64 "oci:$layout:attrs" stat -c '%n %Y' /data /data/stamp)
assert_eq "$out" "/data 1000000000
/data/stamp 946684800" "mtimes from the layer (the directory's after its entries)"
mkdir -p "$WORK/attrs-ctx"
printf 'FROM base\nRUN chmod 600 /data/stamp\n' >"$WORK/attrs-ctx/Dockerfile"
"$AA" --progress quiet build --platform linux/amd64 --build-context "base=oci:$layout:attrs" \
  -o "type=oci,dest=$WORK/attrs-out" "$WORK/attrs-ctx" >/dev/null || fail "build FROM the image with xattrs"
top=$(python3 -c 'import json,sys
d=sys.argv[1]+"/blobs/sha256/"
m=json.load(open(d+json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"][7:]))
if "manifests" in m: m=json.load(open(d+m["manifests"][0]["digest"][7:]))
print(d+m["layers"][-1]["digest"][7:])' "$WORK/attrs-out")
dump=$(python3 "$SRC/tests/tools/layer_dump.py" "$top")
stamp=$(grep '^data/stamp ' <<<"$dump")
assert_contains "$stamp" "data/stamp type=b'0' mode=600 owner=0:0 names=: size=3 mtime=946684800" \
  "the copied-up file keeps its mtime in the RUN layer"
assert_contains "$stamp" "SCHILY.xattr.user.note='hi'" "and its user xattr"
assert_not_contains "$dump" "overlay" "overlay's own xattrs stay out of the image"
pass "the image's times and xattrs"

# --user: numbers and names from the image's own /etc/passwd, malformed input refused cleanly,
# and an /etc/passwd symlinked to the host's file resolved inside the image.
python3 "$SRC/tests/tools/make_image.py" "$layout" --tag users --image "linux/amd64=busybox:$(busybox_bin amd64)" \
  --layer 'linux/amd64:etc/passwd#=root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/:/bin/sh\nbob:x:abc:100::/:/bin/sh\n' >/dev/null
out=$("$AA" run --rm --platform linux/amd64 -u 1000 "oci:$layout:users" sh -c 'echo $(id -u):$(id -g)')
assert_eq "$out" "1000:1001" "numeric user takes the gid of its passwd entry"
out=$("$AA" run --rm --platform linux/amd64 -u 4242 "oci:$layout:users" sh -c 'echo $(id -u):$(id -g)')
assert_eq "$out" "4242:0" "numeric user without an entry gets gid 0"
expect_fail "$AA" run --rm --platform linux/amd64 -u 99999999999999999999 "oci:$layout:users" true
assert_eq "$RC" 125 "huge uid"
assert_contains "$ERR" 'user "99999999999999999999" is not a valid uid' "huge uid named"
expect_fail "$AA" run --rm --platform linux/amd64 -u bob "oci:$layout:users" true
assert_eq "$RC" 125 "malformed passwd line"
assert_contains "$ERR" 'invalid uid "abc"' "malformed uid named"
echo 'evil:x:4242:4242::/:/bin/sh' >"$WORK/host-passwd"
python3 "$SRC/tests/tools/make_image.py" "$layout" --tag hostpasswd --image "linux/amd64=busybox:$(busybox_bin amd64)" \
  --raw-layer "linux/amd64:etc/passwd@=$WORK/host-passwd" >/dev/null
expect_fail "$AA" run --rm --platform linux/amd64 -u evil "oci:$layout:hostpasswd" true
assert_contains "$ERR" 'user "evil" is not in the image' "the host's passwd is not read"
pass "user lookup"
