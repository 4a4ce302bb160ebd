#!/usr/bin/env bash
# anyarch build end to end: the bundled example for three platforms into the local store (RUN
# steps emulated), each platform's image runs and reports its own machine; a rebuild runs no
# step; --source-date-epoch builds are byte-identical; --step-timeout stops a hanging step and
# leaves no process; failures name the file, line and platform; the result reaches a registry
# (read back by skopeo) and an OCI layout.
source "$(dirname "$0")/lib.sh"

busybox_in_store
ex="$SRC/examples/hello"
plats=linux/amd64,linux/arm64,linux/arm/v7

# 1. A cold three-platform build.
out=$("$AA" --progress=plain build --platform "$plats" -t hello:1 "$ex" 2>"$WORK/build.log") ||
  fail "build failed: $(tail -30 "$WORK/build.log")"
log=$(cat "$WORK/build.log")
assert_contains "$log" "[linux/arm64 stage-1 2/" "plain progress names platform, stage and step"
digest=$(tail -n 3 <<<"$out" | grep -oE '^sha256:[0-9a-f]{64}')
[ -n "$digest" ] || fail "no digest in: $out"
raw=$("$AA" inspect --raw local:hello:1)
assert_eq "$(jq -r .mediaType <<<"$raw")" "application/vnd.oci.image.index.v1+json" "an index"
assert_eq "$(jq -r '[.manifests[].platform | .architecture + (.variant // "" | if . == "" then "" else "/" + . end)] | join(",")' <<<"$raw")" \
  "amd64,arm64,arm/v7" "the index's platforms"
pass "three-platform build into the local store ($digest)"

for p in linux/amd64:x86_64 linux/arm64:aarch64 linux/arm/v7:armv7l; do
  plat=${p%%:*} machine=${p##*:}
  got=$("$AA" run --rm --platform "$plat" hello:1 2>&1) || fail "run $plat: $got"
  assert_contains "$got" "machine: $machine (built as $machine)" "$plat runs its own binaries"
  assert_contains "$got" "Hello from ${plat#linux/}, world!" "$plat got its own greeting"
  assert_contains "$got" "for $plat" "$plat: the per-target build stage saw TARGETPLATFORM"
done
pass "each platform's image runs and prints its own uname -m"

# The config: the target platform exactly, and what the Dockerfile set.
cfg=$(skopeo inspect --config "oci:$ANYARCH_ROOT:hello:1" 2>/dev/null || true)
if [ -z "$cfg" ]; then
  mdig=$(jq -r '.manifests[] | select(.platform.architecture=="arm") | .digest' <<<"$raw")
  cfgdig=$(jq -r .config.digest "$ANYARCH_ROOT/blobs/sha256/${mdig#sha256:}")
  cfg=$(cat "$ANYARCH_ROOT/blobs/sha256/${cfgdig#sha256:}")
fi
assert_eq "$(jq -r '.architecture + "/" + (.variant // "")' <<<"$cfg")" "arm/v7" "config platform"
assert_eq "$(jq -r '.config.User' <<<"$cfg")" "app" "USER"
assert_eq "$(jq -c '.config.Entrypoint' <<<"$cfg")" '["/usr/local/bin/hello"]' "ENTRYPOINT"
assert_eq "$(jq -c '.config.Cmd' <<<"$cfg")" '["world"]' "CMD"
assert_eq "$(jq -r '.config.WorkingDir' <<<"$cfg")" "/home/app" "WORKDIR"
assert_contains "$(jq -c '.config.Env' <<<"$cfg")" '"HELLO_HOME=/srv/hello"' "ENV"
assert_eq "$(jq '.rootfs.diff_ids | length' <<<"$cfg")" \
  "$(jq '.history | map(select(.empty_layer != true)) | length' <<<"$cfg")" \
  "one history entry per layer"
pass "config fields"

# 2. Nothing changed: every step is cached, nothing runs.
"$AA" --progress=json build --platform "$plats" -t hello:1 "$ex" >/dev/null 2>"$WORK/rebuild.json" ||
  fail "rebuild failed: $(tail -5 "$WORK/rebuild.json")"
started=$(jq -r 'select(.event=="step_started" and (.instruction|test("^(RUN|COPY)")))' "$WORK/rebuild.json" | wc -l)
cached=$(jq -r 'select(.event=="cached")' "$WORK/rebuild.json" | jq -s length)
assert_eq "$started" 0 "no RUN or COPY executed on a no-change rebuild"
[ "$cached" -ge 9 ] || fail "expected the steps reported as cached, got $cached"
pass "a no-change rebuild runs no step ($cached cached)"

# 3. One copied file changes: the steps that read it run again, the others stay cached.
cp -a "$ex" "$WORK/hello"
echo "Hello again from @ARCH@" >"$WORK/hello/greeting.txt"
"$AA" --progress=json build --platform linux/arm64 -t hello:2 "$WORK/hello" >/dev/null 2>"$WORK/change.json" ||
  fail "changed build failed"
ran=$(jq -r 'select(.event=="step_started") | .instruction' "$WORK/change.json" | grep -E '^(RUN|COPY)' | cut -c1-24 | sort | tr '\n' '|')
# The prep RUN reads the file; the COPY --from takes its output; the COPY after it has a new
# parent. The stage's first RUN, before them, stays cached.
assert_eq "$ran" 'COPY --chmod=0755 hello.|COPY --from=prep --chown|COPY greeting.txt motd.t|RUN echo "built on $(una|' \
  "exactly the steps that depend on the changed file ran"
assert_eq "$(jq -r 'select(.event=="cached") | .instruction' "$WORK/change.json" | grep -c '^RUN --mount=type=cache')" 1 \
  "the stage's first RUN stays cached"
pass "a change to one file re-runs only what depends on it"

# 4. Reproducible: builds with a source date epoch give the same digest, whether their steps
# ran or came from the cache that the builds above (with no epoch) filled, and whatever the
# umask anyarch runs under (RUN steps get runc's 0022).
d0=$("$AA" build -q --source-date-epoch 1700000000 --platform "$plats" "$ex" 2>/dev/null) || fail "epoch build 0"
d1=$("$AA" build -q --no-cache --source-date-epoch 1700000000 --platform "$plats" "$ex" 2>/dev/null) || fail "epoch build 1"
d2=$(umask 077 && "$AA" build -q --no-cache --source-date-epoch 1700000000 --platform "$plats" "$ex" 2>/dev/null) ||
  fail "epoch build 2"
assert_eq "$d1" "$d2" "--source-date-epoch builds are byte-identical, under umask 0022 and 0077"
assert_eq "$d0" "$d1" "a build with an epoch reuses no layer of a build without one"
pass "reproducible index digest $d1"

# 5. A step that hangs is stopped, with every process it started.
mkdir -p "$WORK/hang"
printf 'FROM busybox\nRUN sleep 1000 & sleep 1001\n' >"$WORK/hang/Dockerfile"
start=$(date +%s)
expect_fail "$AA" build --platform linux/arm64 --step-timeout 5s "$WORK/hang"
took=$(($(date +%s) - start))
[ "$took" -lt 40 ] || fail "--step-timeout 5s took ${took}s"
assert_contains "$ERR" "step-timeout" "the error names the timeout"
assert_contains "$ERR" "Dockerfile:2" "the error names the line"
assert_contains "$ERR" "linux/arm64" "the error names the platform"
assert_contains "$ERR" "emulated" "the error says emulated programs can hang"
sleep 1
if pgrep -f 'sleep 100[01]' >/dev/null; then fail "processes of the stopped step are left"; fi
pass "--step-timeout stopped a hanging step in ${took}s and left no process"

# 6. Failures name what is wrong.
mkdir -p "$WORK/bad"
printf 'FROM busybox\nRUN echo first; echo to-stderr >&2; exit 3\n' >"$WORK/bad/Dockerfile"
expect_fail "$AA" build --platform linux/arm/v7 "$WORK/bad"
assert_contains "$ERR" "exit code 3" "the exit code"
assert_contains "$ERR" "Dockerfile:2 (linux/arm/v7)" "file, line and platform"
assert_contains "$ERR" "to-stderr" "the last output lines"
printf 'FROM busybox\nCOPY notes.md /\n' >"$WORK/bad/Dockerfile"
echo x >"$WORK/bad/notes.md"
echo '*.md' >"$WORK/bad/.dockerignore"
expect_fail "$AA" build "$WORK/bad"
assert_contains "$ERR" "excluded by" "a missing source names .dockerignore"
printf 'FROM busybox\n' >"$WORK/bad/Dockerfile"
expect_fail "$AA" build --platform linux/riscv64 "$WORK/bad"
assert_contains "$ERR" "has no image for linux/riscv64" "a base without the platform"
assert_contains "$ERR" "linux/arm64" "the error lists what the base has"
before=$(cat "$ANYARCH_ROOT/index.json")
printf 'FROM busybox\nRUN touch /ok\nRUN exit 1\n' >"$WORK/bad/Dockerfile"
expect_fail "$AA" build -t willfail:1 "$WORK/bad"
assert_eq "$(cat "$ANYARCH_ROOT/index.json")" "$before" "a failed build names nothing in the store"
pass "failures name the file, line and platform, and leave the store's names alone"

# 7. A lower arm variant is used with a warning; another architecture never is.
mkdir -p "$WORK/v6"
printf 'FROM busybox\nRUN uname -m > /machine\n' >"$WORK/v6/Dockerfile"
"$AA" build --platform linux/arm/v6 -t v6:1 "$WORK/v6" 2>"$WORK/v6.log" >/dev/null ||
  fail "arm/v6 build: $(cat "$WORK/v6.log")"
assert_contains "$(cat "$WORK/v6.log")" "linux/arm/v5" "the warning names the variant used"
pass "arm/v6 falls back to the base's arm/v5 with a warning"

# 8. Outputs: a registry (read by skopeo) and an OCI layout.
start_plain_registry REG
"$AA" --insecure build --platform "$plats" -t "$REG/hello:1" --push "$ex" >/dev/null 2>"$WORK/push.log" ||
  fail "push build: $(tail -5 "$WORK/push.log")"
remote=$(skopeo inspect --tls-verify=false --raw "docker://$REG/hello:1")
assert_eq "$(jq '.manifests | length' <<<"$remote")" 3 "the pushed index has three platforms"
skopeo copy -q --all --src-tls-verify=false "docker://$REG/hello:1" "oci:$WORK/copied:1" ||
  fail "skopeo copy --all of the pushed build"
"$AA" build --platform linux/arm64 -o "type=oci,dest=$WORK/layout" -t hello:oci "$ex" >/dev/null 2>&1 ||
  fail "type=oci output"
skopeo inspect --raw "oci:$WORK/layout:oci" >/dev/null || fail "skopeo reads the oci output"
"$AA" build --platform linux/arm64,linux/arm/v7 -o "type=local,dest=$WORK/fs" "$ex" >/dev/null 2>&1 ||
  fail "type=local output"
[ -x "$WORK/fs/linux_arm64/usr/local/bin/hello" ] || fail "type=local: no linux_arm64/usr/local/bin/hello"
[ -f "$WORK/fs/linux_arm_v7/srv/hello/greeting" ] || fail "type=local: no linux_arm_v7 tree"
pass "push (skopeo reads it), type=oci and type=local outputs"

# 9. type=docker with two platforms: one image each, tagged NAME:TAG-os-arch[-variant], both
# readable as docker-archive images that run on their own platform.
"$AA" build --platform linux/arm64,linux/arm/v7 -t hello:d -o "type=docker,dest=$WORK/d.tar" "$ex" \
  >/dev/null 2>"$WORK/docker.log" || fail "type=docker output: $(tail -5 "$WORK/docker.log")"
tags=$(tar -xOf "$WORK/d.tar" manifest.json | jq -r '[.[].RepoTags[]] | join(",")')
assert_eq "$tags" "hello:d-linux-arm64,hello:d-linux-arm-v7" \
  "one RepoTag per platform"
for p in linux/arm64:aarch64:d-linux-arm64 linux/arm/v7:armv7l:d-linux-arm-v7; do
  IFS=: read -r plat machine tag <<<"$p"
  "$AA" copy "docker-archive:$WORK/d.tar:hello:$tag" "local:fromdocker:$tag" >/dev/null 2>&1 ||
    fail "reading hello:$tag from the docker-archive"
  got=$("$AA" run --rm --platform "$plat" "fromdocker:$tag" 2>&1) || fail "run $tag: $got"
  assert_contains "$got" "machine: $machine" "the $plat image of the docker-archive runs"
done
pass "type=docker holds every platform as its own tagged image"
