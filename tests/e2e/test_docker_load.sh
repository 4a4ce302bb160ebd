#!/usr/bin/env bash
# The docker-archive anyarch writes is what `docker load` reads, checked with a real Docker engine
# (Debian's dockerd on a private socket, no networking): each exported platform loads with its
# architecture and layers, the amd64 one runs, and what `docker save` writes imports back into
# anyarch and runs under emulation.
source "$(dirname "$0")/lib.sh"
start_dockerd DOCKER
q=(--progress quiet)
"$AA" "${q[@]}" copy --all "oci:$(busybox_layout):latest" local:example/bb:1 >/dev/null

"$AA" "${q[@]}" export --format docker example/bb:1 -o "$WORK/amd64.tar" >/dev/null
out=$($DOCKER load -i "$WORK/amd64.tar")
assert_contains "$out" "Loaded image: example/bb:1" "docker load names the image"
diff_id=$("$AA" inspect --json --platform linux/amd64 local:example/bb:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"]["config"])')
[ -n "$diff_id" ] || fail "no config digest"
assert_eq "$($DOCKER image inspect example/bb:1 --format '{{.Id}} {{.Architecture}}')" "$diff_id amd64" \
  "the loaded image has our config (same image ID) and platform"
assert_eq "$($DOCKER run --rm --network none example/bb:1 uname -m)" x86_64 "docker runs the loaded image"
pass "docker load takes the amd64 docker-archive, and docker runs it"

"$AA" "${q[@]}" export --format docker --platform linux/arm64 example/bb:1 -o "$WORK/arm64.tar" >/dev/null
$DOCKER load -i "$WORK/arm64.tar" >/dev/null
assert_eq "$($DOCKER image inspect example/bb:1 --format '{{.Architecture}}')" arm64 "arm64 archive"
pass "docker load takes the arm64 docker-archive"

$DOCKER save example/bb:1 -o "$WORK/saved.tar"
"$AA" "${q[@]}" import "$WORK/saved.tar" -t from/docker:save >/dev/null
assert_eq "$("$AA" run --rm local:from/docker:save uname -m)" aarch64 "docker save -> anyarch import -> run"
pass "anyarch imports what docker save writes"
