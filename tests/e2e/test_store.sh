#!/usr/bin/env bash
# The local store and the archive transports: pull, images, tag, push, export (oci-archive with
# every platform, docker-archive with one), import (ours and skopeo's), rmi and prune, checked
# against skopeo, oci-image-tool and anyarch run.
source "$(dirname "$0")/lib.sh"
digest=$(busybox_digest)
start_plain_registry REG
push_busybox "$REG" busybox:latest >/dev/null
sha() { sha256sum | cut -d' ' -f1; }
q=(--progress quiet)

# pull and images
"$AA" "${q[@]}" pull --all-platforms "$REG/busybox:latest" >/dev/null
out=$("$AA" images --json)
python3 - "$out" "$REG" "$digest" <<'PY'
import json, sys
rows, reg, digest = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
row = [r for r in rows if r["name"] == reg + "/busybox:latest"]
assert len(row) == 1, rows
assert row[0]["digest"] == digest, row
assert len(row[0]["platforms"]) == 8, row
PY
"$AA" tag "$REG/busybox:latest" example/busybox:stable
assert_contains "$("$AA" images)" "docker.io/example/busybox:stable" "tag"
pass "pull --all-platforms, images, tag"

# run takes a pulled image from the store, as docker run does; a platform the store lacks comes
# from the registry.
gets=$(blob_gets "$REG_LOG")
assert_eq "$("$AA" run --rm --platform linux/arm64 "$REG/busybox:latest" uname -m)" aarch64 "run of a pulled image"
assert_eq "$(blob_gets "$REG_LOG")" "$gets" "blob downloads when running a pulled image"
"$AA" "${q[@]}" pull --platform linux/arm64 "$REG/busybox:latest" >/dev/null
# A one-platform pull of a name that holds an index keeps the index (issue 9): s390x is still
# in the store and runs without a download.
assert_eq "$("$AA" run --rm --platform linux/s390x "$REG/busybox:latest" uname -m)" s390x "run after a one-platform pull"
assert_eq "$(blob_gets "$REG_LOG")" "$gets" "the one-platform pull kept the other platforms"
"$AA" "${q[@]}" pull --all-platforms "$REG/busybox:latest" >/dev/null
pass "run uses the local store first"

# push from the store: the registry gets the same index
out=$("$AA" "${q[@]}" push --json example/busybox:stable "$REG/pushed:1")
assert_contains "$out" "$digest" "push reports the digest"
assert_eq "sha256:$(skopeo inspect --tls-verify=false --raw "docker://$REG/pushed:1" | sha)" "$digest" "pushed index"
pass "push from the local store keeps the digest"

# export --format oci: an oci-archive with every platform that skopeo and oci-image-tool accept
"$AA" "${q[@]}" export example/busybox:stable -o "$WORK/all.tar" >/dev/null
assert_eq "sha256:$(skopeo inspect --raw "oci-archive:$WORK/all.tar:stable" | sha)" "$digest" "oci-archive index"
skopeo copy -q --all "oci-archive:$WORK/all.tar:stable" "oci:$WORK/from-archive:stable"
(cd "$WORK" && oci-image-tool validate --type image "$WORK/from-archive" >/dev/null) || fail "oci-image-tool"
pass "export --format oci: skopeo reads the index, oci-image-tool validates it"

# export --format docker: one platform, uncompressed layers named by diff_id, loadable by
# docker load (skopeo's docker-archive reader checks the same structure and diff_ids)
"$AA" "${q[@]}" export --format docker --platform linux/arm64 example/busybox:stable -o "$WORK/arm64.tar" >/dev/null
tar -xOf "$WORK/arm64.tar" manifest.json >"$WORK/manifest.json"
python3 - "$WORK/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert len(m) == 1 and m[0]["RepoTags"] == ["docker.io/example/busybox:stable"], m
assert all(l.endswith(".tar") and len(l) == 68 for l in m[0]["Layers"]), m
PY
assert_eq "$(skopeo inspect "docker-archive:$WORK/arm64.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Architecture"])')" arm64 "docker-archive platform"
skopeo copy -q "docker-archive:$WORK/arm64.tar" "oci:$WORK/from-docker:x" || fail "skopeo copy docker-archive"
pass "export --format docker: one arm64 image that skopeo reads"

# import: our archives and skopeo's, then run what was imported
"$AA" "${q[@]}" import "$WORK/arm64.tar" >/dev/null
assert_eq "$("$AA" run --rm --platform linux/arm64 local:example/busybox:stable uname -m)" aarch64 "run the docker-archive import"
skopeo copy -q --override-arch s390x "oci-archive:$WORK/all.tar:stable" "docker-archive:$WORK/sk-s390x.tar:skopeo/bb:s390x"
"$AA" "${q[@]}" import "$WORK/sk-s390x.tar" >/dev/null
assert_eq "$("$AA" run --rm local:skopeo/bb:s390x uname -m)" s390x "run skopeo's docker-archive"
skopeo copy -q --all "oci:$(busybox_layout):latest" "oci-archive:$WORK/sk-oci.tar:v9"
"$AA" "${q[@]}" import -t from/skopeo-oci:v9 "$WORK/sk-oci.tar" >/dev/null
assert_eq "$("$AA" inspect --raw local:from/skopeo-oci:v9 | sha)" "${digest#sha256:}" "skopeo's oci-archive imported whole"
expect_fail "$AA" import "$WORK/sk-oci.tar"
assert_contains "$ERR" "-t" "an oci-archive that names no image asks for -t"
pass "import: our docker-archive, skopeo's docker-archive and oci-archive"

# export then import gets the image back under its full name, as docker save/load do.
"$AA" "${q[@]}" tag example/busybox:stable 127.0.0.1:5000/team/rt:1.2
rt=$("$AA" inspect --raw local:127.0.0.1:5000/team/rt:1.2 | sha)
"$AA" "${q[@]}" export 127.0.0.1:5000/team/rt:1.2 -o "$WORK/rt.tar" >/dev/null
"$AA" "${q[@]}" rmi 127.0.0.1:5000/team/rt:1.2 >/dev/null
"$AA" "${q[@]}" import "$WORK/rt.tar" >/dev/null
assert_eq "$("$AA" inspect --raw local:127.0.0.1:5000/team/rt:1.2 | sha)" "$rt" \
  "the oci-archive import is named as it was exported"
"$AA" "${q[@]}" rmi 127.0.0.1:5000/team/rt:1.2 >/dev/null
pass "export and import round-trip the name"

# rmi removes names and the blobs nothing else uses; prune clears leftovers
du_before=$(du -sb "$ANYARCH_ROOT/blobs" | cut -f1)
out=$("$AA" rmi --json from/skopeo-oci:v9 skopeo/bb:s390x)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert len(d["untagged"]) == 2, d' "$out"
expect_fail "$AA" inspect local:skopeo/bb:s390x
# The busybox blobs are still used by the other names: rmi kept them.
"$AA" run --rm --platform linux/ppc64le "local:$REG/busybox:latest" true
touch "$ANYARCH_ROOT/blobs/sha256/.leftover.tmp-abc123"
printf x >"$ANYARCH_ROOT/blobs/sha256/$(printf 'x' | sha)"
out=$("$AA" prune --json)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["blobs_removed"] == 1 and d["temp_files_removed"] == 1, d' "$out"
"$AA" rmi "$REG/busybox:latest" example/busybox:stable >/dev/null
"$AA" prune >/dev/null
assert_eq "$(ls "$ANYARCH_ROOT/blobs/sha256" | wc -l)" 0 "blobs after removing every name (was $du_before bytes)"
expect_fail "$AA" rmi example/busybox:stable
assert_contains "$ERR" "no image" "rmi of a missing name"
pass "rmi and prune"
