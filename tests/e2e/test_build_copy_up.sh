#!/usr/bin/env bash
# A RUN step that only touches metadata as it was (chown to the same owner, chmod to the same
# mode) makes overlayfs copy the files up; those copies are no change and no layer holds them
# (issue 8, item 4). A real change right beside them still makes a layer, with only that file.
source "$(dirname "$0")/lib.sh"
busybox_in_store
mkdir -p "$WORK/ctx"
cat >"$WORK/ctx/Dockerfile" <<'DF'
FROM busybox
RUN chown 0:0 /bin/busybox /etc/passwd && chmod "$(stat -c %a /etc/passwd)" /etc/passwd
RUN chown 0:0 /etc/group && echo changed >> /etc/passwd
DF
"$AA" --progress quiet build --platform linux/amd64,linux/arm64 -o "type=oci,dest=$WORK/out" "$WORK/ctx" >/dev/null ||
  fail "the build failed"
listing() { tar -tzf "$WORK/out/blobs/sha256/$1" | grep -v '/$' | sort | tr '\n' ' '; }
for p in amd64 arm64; do
  idx=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$WORK/out/index.json")
  m=$(jq -r --arg a "$p" '.manifests[] | select(.platform.architecture == $a) | .digest | sub("sha256:"; "")' "$WORK/out/blobs/sha256/$idx")
  mapfile -t layers < <(jq -r '.layers[].digest | sub("sha256:"; "")' "$WORK/out/blobs/sha256/$m")
  assert_eq "${#layers[@]}" 3 "$p: busybox's layer and one per RUN"
  # The first RUN's layer holds at most the directories every RUN leaves (/dev, /proc, /sys,
  # as BuildKit's do), no file: busybox (1 MiB) and passwd were only copied up.
  assert_eq "$(listing "${layers[1]}")" "" "$p: the metadata-only RUN's layer holds no file"
  assert_eq "$(listing "${layers[2]}")" "etc/passwd " "$p: the second RUN's layer holds only the file it changed"
done
pass "copy-ups that change nothing are left out of layers"
