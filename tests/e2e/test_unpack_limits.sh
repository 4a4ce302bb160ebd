#!/usr/bin/env bash
# What an image's layers cost the host (issue 11, items 3 and 6): a file hundreds of directories
# deep with no directory entries unpacks; a 1 TiB sparse entry (every sparse format GNU tar
# writes: old GNU 'S', PAX 0.0, 0.1, 1.0) becomes a sparse file in under a second and almost no
# disk, for run and for a build's ADD; a plain file of zeros that would fill a small store stops
# with a clear error and leaves nothing half-written.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || fail "needs root"
mk() { python3 "$SRC/tests/tools/make_image.py" "$@" >/dev/null; }
bb="linux/amd64=busybox:$(busybox_bin amd64)"
layout=$WORK/layout

# 6. Deep paths: 120 directories, no directory entries in the tar.
deep=$(printf 'dir%d/' $(seq 1 120))
mk "$layout" --tag deep --image "$bb" --raw-layer "linux/amd64:${deep}file#=deep"
out=$("$AA" run --rm --network none "oci:$layout:deep" cat "/${deep}file")
assert_eq "$out" "deep" "a file 120 directories deep"
pass "deep paths unpack"

# 3. Sparse entries: a 1 TiB file whose only data is its last three bytes.
mkdir -p "$WORK/sparse"
truncate -s 1T "$WORK/sparse/big"
printf end | dd of="$WORK/sparse/big" bs=1 seek=$(((1 << 40) - 3)) conv=notrunc status=none
tib=$((1 << 40))
for f in gnu posix:0.0 posix:0.1 posix:1.0; do
  fmt=${f%%:*} ver=${f#*:}
  [ "$ver" != "$f" ] || ver=""
  tag=sparse-$fmt${ver//./}
  tar -C "$WORK/sparse" --sparse --format="$fmt" ${ver:+--sparse-version=$ver} -cf "$WORK/$tag.tar" big
  mk "$layout" --tag "$tag" --image "$bb" --tar-layer "linux/amd64:$WORK/$tag.tar"
  before=$(du -sk "$ANYARCH_ROOT" 2>/dev/null | cut -f1 || echo 0)
  t0=$(date +%s%N)
  out=$("$AA" run --rm --network none "oci:$layout:$tag" stat -c %s /big)
  ms=$((($(date +%s%N) - t0) / 1000000))
  after=$(du -sk "$ANYARCH_ROOT" | cut -f1)
  assert_eq "$out" "$tib" "$tag: apparent size inside the container"
  # This image's snapshot: the newest one.
  file=$(ls -td "$ANYARCH_ROOT"/snapshots/*/ | head -n 1)rootfs/big
  [ "$(stat -c %s "$file")" = "$tib" ] || fail "$tag: no unpacked 1 TiB /big in the store"
  tail_bytes=$(python3 -c 'import sys; f=open(sys.argv[1],"rb"); f.seek(-3,2); print(f.read().decode())' "$file")
  assert_eq "$tail_bytes" "end" "$tag: the data at the end of the sparse file"
  used=$(du -k "$file" | cut -f1)
  [ "$used" -lt 1024 ] || fail "$tag: the sparse file uses $used KiB of disk"
  # The store grows by the new snapshot: busybox's files and the sparse file's few blocks.
  rest=$(du -sk --exclude=big "${file%/big}" | cut -f1)
  [ $((after - before - rest)) -lt 1024 ] || fail "$tag: the store grew by $((after - before)) KiB"
  [ "$ms" -lt 3000 ] || fail "$tag: run took $ms ms"
  echo "  $tag: layer $(gzip -c "$WORK/$tag.tar" | wc -c) bytes gzipped; run (unpack and start) $ms ms; /big uses $used KiB; store +$((after - before)) KiB, of which busybox $rest KiB"
  rm -f "$WORK/$tag.tar"
done
pass "sparse entries become sparse files (gnu, posix 0.0, 0.1, 1.0)"

# The same for ADD of a local archive in a build: the unpacked file keeps its holes. (Smaller,
# 256 MiB: committing the step's layer still reads a sparse file's holes as zeros.)
mkdir -p "$WORK/ctx" "$WORK/sparse2"
truncate -s 256M "$WORK/sparse2/big"
printf end | dd of="$WORK/sparse2/big" bs=1 seek=$(((256 << 20) - 3)) conv=notrunc status=none
tar -C "$WORK/sparse2" --sparse --format=posix -cf "$WORK/ctx/big.tar" big
printf 'FROM busybox\nADD big.tar /data/\n' >"$WORK/ctx/Dockerfile"
"$AA" copy --all "oci:$(busybox_layout):latest" local:busybox:latest >/dev/null 2>&1 || fail "copying busybox into the store"
out=$("$AA" build --progress plain --platform linux/amd64 -t sparse:add "$WORK/ctx" 2>&1) ||
  fail "build with ADD of a sparse archive: $out"
added=$(ls -d "$ANYARCH_ROOT"/build/cache/*/upper/data/big)
assert_eq "$(stat -c %s "$added")" $((256 << 20)) "ADD: apparent size of the unpacked file"
used=$(du -k "$added" | cut -f1)
[ "$used" -lt 1024 ] || fail "ADD: the unpacked sparse file uses $used KiB"
pass "ADD of a sparse archive keeps the holes ($used KiB on disk for 256 MiB)"

# A plain (non-sparse) file of zeros, 96 MiB, gzipped to about 100 KiB, in a 64 MiB store: the
# unpack stops before the filesystem is full, with a clear error, and leaves no partial rootfs.
small=$WORK/small
mkdir -p "$small"
mount -t tmpfs -o size=64m anyarch-e2e-small "$small"
on_exit "umount -l $small"
mkdir -p "$WORK/zeros"
head -c 96M /dev/zero >"$WORK/zeros/zeros"
tar -C "$WORK/zeros" -cf "$WORK/zeros.tar" zeros
rm -f "$WORK/zeros/zeros"
mk "$layout" --tag zeros --image "$bb" --tar-layer "linux/amd64:$WORK/zeros.tar"
rm -f "$WORK/zeros.tar"
expect_fail env ANYARCH_ROOT="$small/store" "$AA" run --rm --network none "oci:$layout:zeros" true
assert_eq "$RC" 125 "exit code of run when the store is full"
assert_contains "$ERR" "not enough free space" "the error says why"
assert_contains "$ERR" "/zeros" "the error names the file"
left=$(find "$small/store/snapshots" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
assert_eq "$left" 0 "snapshots left in the full store"
used=$(df -k --output=used "$small" | tail -n 1 | tr -d ' ')
[ "$used" -lt 8192 ] || fail "the small store still uses $used KiB after the failed unpack"
ANYARCH_ROOT="$small/store" "$AA" store check >/dev/null || fail "store check after the refused unpack"
# The same store still works for an image that fits.
out=$(ANYARCH_ROOT="$small/store" "$AA" run --rm --network none "oci:$layout:deep" echo fits)
assert_eq "$out" "fits" "a run in the small store after the refused one"
pass "zeros that would fill the store stop with a clear error, nothing left behind"
