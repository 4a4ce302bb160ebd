#!/usr/bin/env bash
# A multi-platform anyarch build pushed to a loopback registry is what the other tools expect:
# skopeo reads the index (inspect --raw) and copies every platform (copy --all); buildah (chroot)
# and Debian's docker (a private dockerd) run each platform and see its own machine; anyarch run
# does too and anyarch verify passes. A --verify build whose arm64 image has an amd64 binary
# copied in fails and names the file, and writes nothing.
source "$(dirname "$0")/lib.sh"
start_plain_registry REG
bb=$(push_busybox "$REG")
plats=linux/amd64,linux/arm64,linux/arm/v7
machines=(linux/amd64:x86_64 linux/arm64:aarch64 linux/arm/v7:armv7l)

ctx="$WORK/app"
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<'EOF'
ARG BASE=busybox
FROM $BASE
RUN uname -m > /built-on && mkdir -p /app && echo "peers" > /app/name && \
  seq 1 400000 > /app/text && head -c 2097152 /dev/urandom > /app/random
CMD ["uname", "-m"]
EOF
ref="$REG/peers/app:1"
"$AA" --insecure build --platform "$plats" --build-arg "BASE=$bb" -t "$ref" --push "$ctx" \
  >/dev/null 2>"$WORK/build.log" || fail "the push build failed: $(tail -n 20 "$WORK/build.log")"

# skopeo
raw=$(skopeo inspect --tls-verify=false --raw "docker://$ref") || fail "skopeo inspect --raw"
assert_eq "$(jq -r '[.manifests[].platform | .os + "/" + .architecture + (if .variant then "/" + .variant else "" end)] | join(",")' <<<"$raw")" \
  "$plats" "the pushed index names the three platforms"
skopeo copy -q --all --src-tls-verify=false "docker://$ref" "oci:$WORK/copied:1" ||
  fail "skopeo copy --all of the pushed build"
assert_eq "$(jq '.manifests | length' "$WORK/copied/blobs/sha256/$(jq -r '.manifests[0].digest' "$WORK/copied/index.json" | cut -d: -f2)")" \
  3 "skopeo copied an index of three"
pass "skopeo inspects and copies the pushed index"

# The layers anyarch wrote (gzip made on every core, several 1 MiB chunks in one member) read
# with gzip -d, whose output is the config's diff_id, and with Python's tarfile in stream mode,
# which stops at the end of the first gzip member.
blobs="$WORK/copied/blobs/sha256"
checked=0
for m in $(jq -r '.manifests[].digest | sub("sha256:"; "")' "$blobs/$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$WORK/copied/index.json")"); do
  cfg=$(jq -r '.config.digest | sub("sha256:"; "")' "$blobs/$m")
  last=$(jq -r '.layers[-1].digest | sub("sha256:"; "")' "$blobs/$m")
  gzip -t "$blobs/$last" || fail "gzip -t refuses layer $last"
  got=$(gzip -dc "$blobs/$last" | sha256sum | cut -d' ' -f1)
  assert_eq "sha256:$got" "$(jq -r '.rootfs.diff_ids[-1]' "$blobs/$cfg")" "gzip -d gives the diff_id of $last"
  python3 - "$blobs/$last" <<'PY' || fail "Python's tarfile cannot stream layer $last"
import sys, tarfile
sizes = {}
with tarfile.open(sys.argv[1], "r|gz") as t:
    for m in t:
        if m.isfile():
            sizes[m.name] = len(t.extractfile(m).read())
assert sizes.get("app/random") == 2097152, sizes
assert sizes.get("app/text", 0) > 2000000, sizes
PY
  checked=$((checked + 1))
done
assert_eq "$checked" 3 "every platform's RUN layer was read"
pass "the layers decompress with gzip -d (to their diff_ids) and stream through Python's tarfile"

# buildah: private storage; each platform's container runs its own binaries (emulated).
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$WORK/policy.json"
printf '{"auths":{}}\n' >"$WORK/buildah-auth.json"
bh=(env REGISTRY_AUTH_FILE="$WORK/buildah-auth.json"
  buildah --root "$WORK/buildah/root" --runroot "$WORK/buildah/run" --storage-driver vfs)
on_exit "${bh[*]} rm --all >/dev/null 2>&1"
for pm in "${machines[@]}"; do
  p=${pm%%:*} m=${pm##*:}
  ctr=$("${bh[@]}" from -q --tls-verify=false --signature-policy "$WORK/policy.json" --platform "$p" \
    --name "peers-$(tr / - <<<"$p")" "docker://$ref" 2>"$WORK/bh-from.log") ||
    fail "buildah from $p: $(tail -n 5 "$WORK/bh-from.log")"
  got=$("${bh[@]}" run --isolation chroot "$ctr" -- uname -m 2>&1) || fail "buildah run $p: $got"
  assert_eq "$got" "$m" "buildah runs the $p image"
  assert_eq "$("${bh[@]}" run --isolation chroot "$ctr" -- cat /built-on 2>&1)" "$m" \
    "the $p image's RUN step ran as $m"
  "${bh[@]}" rm "$ctr" >/dev/null
done
pass "buildah runs every platform and sees its machine"

# docker: 127.0.0.0/8 registries are plain-HTTP by default; the tag is removed between platforms
# so each run pulls the requested one.
start_dockerd DOCKER
for pm in "${machines[@]}"; do
  p=${pm%%:*} m=${pm##*:}
  got=$($DOCKER run --rm --network none --platform "$p" "$ref" 2>"$WORK/docker.log") ||
    fail "docker run --platform $p: $(tail -n 5 "$WORK/docker.log")"
  assert_eq "$got" "$m" "docker runs the $p image"
  assert_eq "$($DOCKER image inspect "$ref" --format '{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}')" \
    "$p" "docker pulled the $p image"
  $DOCKER rmi "$ref" >/dev/null
done
pass "docker runs every platform and sees its machine"

# anyarch itself
for pm in "${machines[@]}"; do
  p=${pm%%:*} m=${pm##*:}
  got=$("$AA" --insecure run --rm --platform "$p" "$ref" 2>&1) || fail "anyarch run $p: $got"
  assert_eq "$got" "$m" "anyarch runs the $p image"
done
"$AA" --insecure verify "$ref" >"$WORK/verify.log" 2>&1 || fail "anyarch verify: $(cat "$WORK/verify.log")"
pass "anyarch runs every platform and verify passes"

# --verify: an amd64 binary copied into the arm64 image fails the build, naming the file; the
# same Dockerfile for amd64 passes, so the check is about the platform and not the file.
bad="$WORK/bad"
mkdir -p "$bad"
cp "$(busybox_bin amd64)" "$bad/tool-amd64"
cat >"$bad/Dockerfile" <<'EOF'
ARG BASE=busybox
FROM $BASE
COPY tool-amd64 /usr/local/bin/tool
EOF
expect_fail "$AA" --insecure build --verify --platform linux/arm64 --build-arg "BASE=$bb" \
  -t "$REG/peers/bad:1" --push "$bad"
assert_contains "$ERR" "/usr/local/bin/tool" "the --verify error names the file"
assert_contains "$ERR" "amd64" "the --verify error names the file's architecture"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/peers/bad/manifests/1")
assert_eq "$code" 404 "a build that fails --verify pushes no tag"
"$AA" --insecure build -q --verify --platform linux/amd64 --build-arg "BASE=$bb" "$bad" \
  >/dev/null 2>"$WORK/good.log" || fail "the amd64 --verify build: $(tail -n 5 "$WORK/good.log")"
pass "--verify fails an arm64 build with an amd64 binary, naming it; the amd64 build passes"
