#!/usr/bin/env bash
# Issue 9, item 3 (outputs people read): one table formatter (columns sized to content,
# --no-trunc for ids), colour on a terminal only (off with NO_COLOR, --color=never, or when
# piped), and the tty progress display (a bar per blob with bytes and a percentage, collapsed
# into one summary line) for pull, push, copy and run's layer fetch, with the plain and json
# modes unchanged. A terminal is made with util-linux's script(1).
source "$(dirname "$0")/lib.sh"
layout=$(busybox_layout)
start_plain_registry REG
q=(--insecure --progress quiet)
"$AA" "${q[@]}" copy --all "oci:$layout:latest" "$REG/busybox:latest" >/dev/null
index=$(busybox_digest)

# tty CMD...: runs CMD on a pseudo-terminal (stdout and stderr both the terminal) and prints
# everything the terminal received.
tty() { script -qfec "$*" /dev/null </dev/null || true; }
# last_screen TEXT: what stays on screen after the last line erase (ESC[2K) in TEXT.
# Colour codes are dropped from it ("done:" is green on a terminal).
last_screen() {
  printf '%s' "$1" | awk 'BEGIN{RS="\033\\[2K"} {last=$0} END{printf "%s", last}' |
    sed 's/\x1b\[[0-9;]*m//g'
}

# 1. Tables: ids cut to docker's 12 hex digits, whole with --no-trunc.
"$AA" "${q[@]}" copy --all "oci:$layout:latest" local:bb:1 >/dev/null
out=$("$AA" images)
echo "$out" | grep -qE '^NAME +ID +SIZE +PLATFORMS$' || fail "images header: $out"
echo "$out" | grep -qE "^docker.io/library/bb:1 +${index:7:12} +[0-9.]+ [KM]iB +linux/amd64," || fail "images row: $out"
out=$("$AA" images --no-trunc)
echo "$out" | grep -qE "^docker.io/library/bb:1 +$index +" || fail "images --no-trunc shows the digest: $out"
assert_eq "$("$AA" images -q)" "${index:7:12}" "images -q"
"$AA" "${q[@]}" copy --platform linux/arm64 "oci:$layout:latest" "$REG/app:arm64" >/dev/null
"$AA" "${q[@]}" copy --platform linux/s390x "oci:$layout:latest" "$REG/app:s390x" >/dev/null
out=$("$AA" "${q[@]}" manifest create "$REG/app:list" "$REG/app:arm64" "$REG/app:s390x")
arm64=$(skopeo inspect --tls-verify=false --raw "docker://$REG/app:arm64" | sha256sum | cut -c1-64)
echo "$out" | grep -qE '^PLATFORM +DIGEST +SOURCE$' || fail "manifest create header: $out"
echo "$out" | grep -qE "^linux/arm64 +${arm64:0:12} +$REG/app:arm64$" || fail "manifest row: $out"
out=$("$AA" manifest ls)
echo "$out" | grep -qE "^$REG/app:list +linux/s390x +[0-9a-f]{12} +$REG/app:s390x$" ||
  fail "manifest ls: $out"
"$AA" manifest ls --no-trunc | grep -qE "^$REG/app:list +linux/arm64 +sha256:$arm64 " ||
  fail "manifest ls --no-trunc: $("$AA" manifest ls --no-trunc)"
long="echo this command line is longer than thirty characters"
"$AA" run --platform linux/amd64 "oci:$layout:latest" sh -c "$long" >/dev/null 2>&1
assert_contains "$("$AA" ps -a)" "sh -c echo this command lin..." "ps cuts long commands"
assert_contains "$("$AA" ps -a --no-trunc)" "sh -c $long" "ps --no-trunc"
out=$("$AA" binfmt status --no-probe)
echo "$out" | grep -qE '^ARCH +PLATFORM +[A-Z]+ +FLAGS +INTERPRETER / DETAIL$' || fail "binfmt status header: $out"
echo "$out" | grep -qE '^aarch64 +linux/arm64 +[a-z]+ +[A-Z]+ +/' || fail "binfmt status row: $out"
busybox_in_store
mkdir -p "$WORK/ctx" && printf 'FROM busybox\nRUN echo built > /built\n' >"$WORK/ctx/Dockerfile"
out=$("$AA" build --platform linux/amd64 -t built:1 "$WORK/ctx" 2>/dev/null)
echo "$out" | grep -qE '^PLATFORM +MANIFEST +SIZE +STEPS$' || fail "build summary header: $out"
echo "$out" | grep -qE '^linux/amd64 +[0-9a-f]{12} +[0-9.]+ [KM]i?B +1 run, 0 cached$' || fail "build row: $out"
out=$("$AA" build --no-trunc --platform linux/amd64 -t built:1 "$WORK/ctx" 2>/dev/null)
echo "$out" | grep -qE '^linux/amd64 +sha256:[0-9a-f]{64} +.* +0 run, 1 cached$' || fail "build --no-trunc: $out"
pass "tables: 12-hex ids, --no-trunc shows whole ones"

# 2. Colour: bold headers and red errors on a terminal; none with NO_COLOR, --color=never,
# or when the output is piped (even with a terminal on the other stream).
out=$(tty "$AA images")
assert_contains "$out" $'\033[1mNAME' "bold header on a terminal"
assert_not_contains "$(tty "NO_COLOR=1 $AA images")" $'\033[' "NO_COLOR"
assert_not_contains "$(tty "$AA --color=never images")" $'\033[' "--color=never"
assert_not_contains "$(tty "$AA images | cat")" $'\033[' "stdout piped"
assert_contains "$("$AA" --color=always images)" $'\033[1mNAME' "--color=always"
out=$(tty "$AA --color=never imgaes")
assert_contains "$out" "anyarch: error: unknown command" "usage error"
assert_not_contains "$out" $'\033[' "--color=never on a usage error"
assert_contains "$(tty "$AA imgaes")" $'\033[1;31manyarch: error:\033[0m unknown command' \
  "a usage error in red on a terminal"
# A warning (arm/v6 asked, v5 used) in yellow, from the progress display.
out=$(tty "$AA --insecure pull --platform linux/arm/v6 $REG/busybox:latest")
assert_contains "$out" $'\033[1;33manyarch: warning:\033[0m' "yellow warning on a terminal"
out=$("$AA" --insecure pull --platform linux/arm/v6 "$REG/busybox:latest" 2>&1 >/dev/null)
assert_contains "$out" "anyarch: warning: " "the warning off a terminal"
assert_not_contains "$out" $'\033[' "no colour off a terminal"
pass "colour on a terminal only, off with NO_COLOR, --color=never and pipes"

# 3. tty progress: bars with a percentage and bytes, then one summary line; nothing of the
# bars is left on screen.
check_bars() { # NAME OUTPUT SUMMARY
  assert_contains "$2" "100%" "$1: a bar at 100%"
  printf '%s' "$2" | grep -qE '[0-9.]+ (B|KiB|MiB) / [0-9.]+ (B|KiB|MiB)' || fail "$1: bytes done / total: $2"
  assert_contains "$2" "[============]" "$1: a full bar"
  screen=$(last_screen "$2")
  assert_contains "$screen" "$3" "$1: the summary stays"
  assert_not_contains "$screen" "[===" "$1: the bars collapsed"
}
rm -rf "$WORK/store"
out=$(tty "$AA --insecure pull --platform linux/arm64 $REG/busybox:latest")
check_bars pull "$out" "done: copied 2 blobs ("
assert_contains "$(last_screen "$out")" "copied $REG/busybox:latest to local:" "pull's result"
out=$(tty "$AA --insecure push $REG/busybox:latest $REG/pushed:1")
check_bars push "$out" "done: copied 2 blobs ("
out=$(tty "$AA --insecure copy --platform linux/s390x $REG/busybox:latest oci:$WORK/out:1")
check_bars copy "$out" "done: copied 2 blobs ("
# The same blobs again: the destination has them.
out=$(tty "$AA --insecure copy --platform linux/s390x $REG/busybox:latest oci:$WORK/out:1")
assert_contains "$(last_screen "$out")" "done: 2 already there" "copy of what is there"
# run: the layers it fetches from the registry into a new store, then the command's output.
out=$(tty "ANYARCH_ROOT=$WORK/runstore $AA --insecure run --rm --platform linux/s390x $REG/busybox:latest echo ran-it")
check_bars run "$out" "done: fetched 1 layer ("
screen=$(last_screen "$out")
assert_contains "$screen" "ran-it" "the command's output follows the summary"
# A 3 MiB layer over a slow link (1 MiB/s): the bar moves, with a rate and the time left.
printf 'FROM busybox\nRUN dd if=/dev/urandom of=/big bs=1024 count=3072 2>/dev/null\n' >"$WORK/ctx/Dockerfile"
busybox_in_store
"$AA" --insecure --progress quiet build --platform linux/amd64 -t "$REG/big:1" --push "$WORK/ctx" >/dev/null
start_faultproxy SLOW "$REG" --slow '/blobs/sha256::1048576:10'
rm -rf "$WORK/store"
out=$(tty "$AA --insecure pull $SLOW/big:1")
printf '%s' "$out" | grep -qE '\[=+>? *\] +[0-9]{1,2}%  [0-9.]+ (KiB|MiB) / [0-9.]+ MiB  [0-9.]+ (KiB|MiB)/s  ETA [0-9]+s' ||
  fail "a moving bar with rate and ETA: $out"
assert_contains "$(last_screen "$out")" "done: copied 3 blobs (" "slow pull: summary"
pass "tty progress: per-blob bars that collapse into a summary"

# Plain and json modes are what they were: lines per finished blob, one JSON object per event.
out=$("$AA" --insecure copy --platform linux/ppc64le "$REG/busybox:latest" "oci:$WORK/plain:1" 2>&1 >/dev/null)
printf '%s\n' "$out" | grep -qE '^copied sha256:[0-9a-f]{12} \([0-9.]+ [KM]iB\)$' || fail "plain lines: $out"
assert_not_contains "$out" "%" "no bars in plain mode"
out=$(tty "$AA --insecure --progress plain copy --platform linux/386 $REG/busybox:latest oci:$WORK/plain:2")
assert_not_contains "$out" "[===" "--progress plain on a terminal draws no bars"
"$AA" --insecure --progress json copy --platform linux/mips64le "$REG/busybox:latest" "oci:$WORK/j:1" \
  2>"$WORK/progress.json" >/dev/null
jq -se 'length > 0 and all(.[]; has("id") and has("action") and has("current") and has("total") and has("done"))' \
  "$WORK/progress.json" >/dev/null || fail "json progress events: $(cat "$WORK/progress.json")"
ANYARCH_ROOT=$WORK/runstore2 "$AA" --insecure --progress json run --rm --platform linux/arm64 \
  "$REG/busybox:latest" true 2>"$WORK/run.json"
assert_not_contains "$(cat "$WORK/run.json")" '"fetch"' "run's fetch events stay out of json"
pass "plain and json progress unchanged"
