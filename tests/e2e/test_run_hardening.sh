#!/usr/bin/env bash
# Containers keep untrusted images in (issue 11): each attack is run by an image's command through
# anyarch run, and must fail. Covers: setuid files left in the writable layer, the caller's
# environment seen through /proc/1, the signals it ignores and its terminal (TIOCSTI), user
# namespaces and mounts inside (seccomp, under qemu for every bundled platform), the network
# (none / default / host), and the /etc files every container gets.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || fail "needs root"
img="oci:$(busybox_layout):latest"
platforms="linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v5 linux/386 linux/ppc64le linux/s390x linux/mips64le"

# 1. A setuid-root file the image's code leaves in its writable layer: a local user (nobody) who
# finds it there must not get euid 0 from it. The container directory is private (0700), so the
# file cannot even be reached; the snapshot cache is private too.
"$AA" run --platform linux/amd64 "$img" sh -c 'cp /bin/busybox /suid && chmod 4755 /suid' 2>"$WORK/e"
dir=$(sed -n 's/^anyarch: container files kept in \(.*\) (use --rm.*/\1/p' "$WORK/e")
[ -n "$dir" ] && [ -u "$dir/upper/suid" ] || fail "the setuid file was not kept in $dir/upper"
assert_eq "$(stat -c %a "$dir")" 700 "container directory mode"
assert_eq "$(stat -c %a "$ANYARCH_ROOT/snapshots")" 700 "snapshot directory mode"
set +e
out=$(runuser -u nobody -- "$dir/upper/suid" id -u 2>&1)
set -e
[ "$out" != 0 ] || fail "nobody got euid 0 through the setuid file"
pass "a setuid file in the writable layer gives a local user nothing"

# 2. No process inside sees a variable that only the caller's environment has, nor the host's
# command line or binary through /proc/1.
out=$(ANYARCH_TEST_SECRET=leaked-token "$AA" run --rm -e MINE=1 --platform linux/arm64 "$img" \
  sh -c 'for p in /proc/[0-9]*; do tr "\0" "\n" <$p/environ; tr "\0" " " <$p/cmdline; echo; done; ls -l /proc/1/exe')
assert_not_contains "$out" "leaked-token" "the caller's environment inside"
assert_not_contains "$out" "$AA" "the host's command line inside"
assert_contains "$out" "MINE=1" "the container's own environment"
assert_contains "$out" "memfd:init" "pid 1 is the minimal init"
pass "nothing of the caller's environment inside"

# 2b. Nor the signals its caller ignores (nohup's SIGHUP, a CI agent's SIGPIPE, even SIGCHLD,
# which anyarch itself needs to wait for its helpers): a pipe reader that exits early ends the
# writer quietly, as under runc. Emulated too, where qemu is the process that inherits them.
for p in linux/amd64 linux/arm64; do
  out=$(trap '' PIPE HUP CHLD && "$AA" run --rm --platform "$p" "$img" \
    sh -c 'grep SigIgn /proc/self/status; grep SigIgn /proc/1/status; yes | head -n 1' 2>&1) ||
    fail "$p: run with SIGPIPE, SIGHUP and SIGCHLD ignored by the caller: $out"
  assert_eq "$out" "SigIgn:	0000000000000000
SigIgn:	0000000000000000
y" "$p: no signal ignored inside, and yes ends on SIGPIPE without a message"
done
pass "signals the caller ignores are not ignored inside"

# 2c. Nor its terminal as a controlling terminal. A program given anyarch's terminal as stdio (run
# under `script`, which makes one) cannot push a command into it with TIOCSTI, through its stdin
# or /dev/tty; the caller's shell would run it once anyarch exits. Two defences, each checked on
# its own: the container is a session of its own (with seccomp off, the kernel refuses), and the
# seccomp profile refuses TIOCSTI. With -t the program gets a terminal of its own (another
# device than the caller's), and what it pushes (seccomp off) stays there.
inject=${ANYARCH_TTY_INJECT:?ANYARCH_TTY_INJECT must point at the tty_inject test program}
mkdir -p "$WORK/inject" && cp "$inject" "$WORK/inject/tty_inject"
in_script() { script -qec "stat -L -c 'caller %t:%T' /proc/self/fd/0; $AA run --rm $1 -v $WORK/inject:/x:ro --platform linux/amd64 $img /x/tty_inject" /dev/null </dev/null | tr -d '\r'; }
term_of() { grep -o 'terminal [0-9a-f]*:[0-9a-f]*' <<<"$1" | head -n 1 | cut -d' ' -f2; }
unconfined="--security-opt seccomp=unconfined"
for flags in "$unconfined" ""; do
  out=$(in_script "$flags") || true
  caller=$(sed -n 's/^caller //p' <<<"$out")
  [ -n "$caller" ] || fail "no caller terminal under script: $out"
  assert_eq "$(term_of "$out")" "$caller" "run $flags: the program has the caller's terminal as stdio"
  assert_contains "$out" "fd 0: refused (Operation not permitted)" "run $flags: TIOCSTI on the caller's terminal"
  assert_contains "$out" "/dev/tty: refused" "run $flags: TIOCSTI through /dev/tty"
done
# (script's end of input reaches the program's terminal as a NUL, which it echoes as ^@.)
out=$(in_script "-i -t $unconfined") || true
[ -n "$(term_of "$out")" ] || fail "with -t: no terminal reported: $out"
[ "$(term_of "$out")" != "$caller" ] || fail "with -t the program's terminal is the caller's: $out"
assert_contains "$out" "/dev/tty: injected" "with -t the program's own terminal is its controlling terminal"
out=$(in_script "-i -t") || true
assert_contains "$out" "fd 0: refused (Operation not permitted)" "with -t: seccomp refuses TIOCSTI"
pass "a container cannot type into the terminal that started it"

# 8. Seccomp: no user namespace and no mount inside, on every bundled platform (under qemu the
# host kernel sees qemu's calls for the guest); seccomp=unconfined turns the profile off.
for p in $platforms; do
  out=$("$AA" run --rm --platform "$p" "$img" sh -c 'unshare -U true && echo USERNS; mount -t tmpfs t /mnt && echo MOUNT; echo done' 2>&1)
  assert_contains "$out" "done" "$p: the container ran"
  assert_not_contains "$out" "USERNS" "$p: unshare -U inside"
  assert_not_contains "$out" "MOUNT" "$p: mount inside"
done
out=$("$AA" run --rm --security-opt seccomp=unconfined --platform linux/amd64 "$img" sh -c 'unshare -U true && echo USERNS')
assert_eq "$out" "USERNS" "seccomp=unconfined"
pass "seccomp on $platforms"

# /etc/hosts, /etc/resolv.conf and /etc/hostname in every container, never in the layer.
"$AA" run --platform linux/arm64 "$img" sh -c 'cat /etc/hostname; grep -c localhost /etc/hosts; test -e /etc/resolv.conf' >"$WORK/o" 2>"$WORK/e"
dir=$(sed -n 's/^anyarch: container files kept in \(.*\) (use --rm.*/\1/p' "$WORK/e")
assert_eq "$(sed -n 2p "$WORK/o")" 2 "localhost entries in /etc/hosts"
assert_eq "$(sed -n 1p "$WORK/o")" "$(basename "$dir")" "hostname"
# Only the /dev, /proc and /sys mount points stay (the image has none), empty, as BuildKit keeps
# them in a layer; no /etc file and nothing else.
assert_eq "$(cd "$dir/upper" && find . -mindepth 1 | sort | tr '\n' ' ')" "./dev ./proc ./sys " "mount stubs left in upper/"
pass "/etc files"

# 7. --network none: loopback only.
out=$("$AA" run --rm --network none --platform linux/amd64 "$img" ls /sys/class/net)
assert_eq "$out" "lo" "--network none"
pass "network none"

# 7. The default network: a server on the host's 127.0.0.1 is out of reach; with --network host
# it answers.
port=$(free_port)
mkdir -p "$WORK/www" && echo reachable >"$WORK/www/index.html"
busybox httpd -f -p "127.0.0.1:$port" -h "$WORK/www" &
srv=$!
on_exit "kill $srv"
wait_http "http://127.0.0.1:$port/"
get="printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | busybox nc 127.0.0.1 $port 2>&1; true"
out=$("$AA" run --rm --platform linux/amd64 "$img" sh -c "$get")
assert_not_contains "$out" "HTTP/1" "host loopback from the default network"
assert_contains "$out" "can't connect" "host loopback from the default network"
out=$("$AA" run --rm --network host --platform linux/amd64 "$img" sh -c "$get")
assert_contains "$out" "reachable" "host loopback with --network host"
out=$("$AA" run --rm --platform linux/amd64 "$img" sh -c 'ls /sys/class/net | tr "\n" " "; cat /etc/resolv.conf')
assert_eq "$out" "lo tap0 nameserver 10.0.2.3" "default network interfaces and DNS"
pass "default network keeps the host's loopback out; --network host reaches it"

# 1. The same for the builder: its snapshots, step working directories and cache mounts are
# private (a RUN step's setuid file is reachable by root only), and so is the store's content.
"$AA" copy --all "$img" local:busybox:latest >/dev/null 2>&1 || fail "busybox into the store"
mkdir -p "$WORK/ctx"
printf 'FROM busybox\nRUN --mount=type=cache,target=/c cp /bin/busybox /c/suid && chmod 4755 /c/suid\nRUN cp /bin/busybox /suid && chmod 4755 /suid\n' >"$WORK/ctx/Dockerfile"
"$AA" build --platform linux/amd64 -t suid:1 "$WORK/ctx" >/dev/null 2>&1 || fail "the setuid build"
for d in build build/cache build/tmp build/mounts build/mounts/* build/cache/* snapshots containers; do
  for p in "$ANYARCH_ROOT"/$d; do
    assert_eq "$(stat -c %a "$p")" 700 "mode of ${p#"$ANYARCH_ROOT"/}"
  done
done
pass "build snapshots, step directories and cache mounts are private"
