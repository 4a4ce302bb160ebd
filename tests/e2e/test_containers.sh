#!/usr/bin/env bash
# anyarch ps / rm / prune: run without --rm keeps a container that ps lists (running, exited with
# its code, or dead when anyarch was killed), rm removes it (not while it runs), and prune
# removes every one that is not running.
source "$(dirname "$0")/lib.sh"
img="oci:$(busybox_layout):latest"

"$AA" run --platform linux/arm64 "$img" sh -c 'echo kept > /marker; exit 3' >/dev/null 2>&1 || true
list=$("$AA" ps -a --json)
assert_eq "$(jq length <<<"$list")" 1 "one kept container"
assert_eq "$(jq -r '.[0].status + " " + (.[0].exit_code|tostring)' <<<"$list")" "exited 3" "exited with its code"
assert_eq "$(jq -r '.[0].platform' <<<"$list")" "linux/arm64" "its platform"
dir=$(jq -r '.[0].dir' <<<"$list")
first=$(jq -r '.[0].id' <<<"$list")
assert_eq "$(cat "$dir/upper/marker")" "kept" "its writable layer is kept"
assert_eq "$("$AA" ps -q)" "" "ps without -a lists only running ones"
pass "run without --rm keeps a container that ps lists"

# A running one is listed as running and cannot be removed.
"$AA" run "$img" sleep 30 >/dev/null 2>&1 &
runner=$!
on_exit "kill -9 $runner 2>/dev/null"
for _ in $(seq 50); do [ -n "$("$AA" ps -q)" ] && break; sleep 0.1; done
running=$("$AA" ps -q)
[ -n "$running" ] || fail "the running container is not listed"
expect_fail "$AA" rm "$running"
assert_contains "$ERR" "is running" "rm refuses a running container"
# anyarch killed: its container is dead, not running.
kill -9 "$runner"
wait "$runner" 2>/dev/null || true
for _ in $(seq 50); do [ -z "$("$AA" ps -q)" ] && break; sleep 0.1; done
assert_eq "$("$AA" ps -a --json | jq -r --arg id "$running" '.[] | select(.id == $id) | .status')" \
  "dead" "a container whose anyarch was killed is dead"
pass "running containers are listed and kept from rm; killed ones show as dead"

# Both containers may share a creation second, so the first is named by the id ps gave it.
out=$("$AA" rm "${first:0:5}")
assert_eq "$out" "$first" "rm by a unique prefix"
[ ! -e "$dir" ] || fail "rm left the container's directory"
out=$("$AA" prune --json)
assert_eq "$(jq .containers_removed <<<"$out")" 1 "prune removes the dead container"
assert_eq "$("$AA" ps -aq)" "" "nothing kept after prune"
expect_fail "$AA" rm nope
assert_contains "$ERR" "no container nope" "an unknown id is named"
pass "rm and prune remove kept containers"
