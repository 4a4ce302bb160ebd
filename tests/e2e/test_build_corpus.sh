#!/usr/bin/env bash
# The differential build test: every case of tests/build-corpus is built for linux/amd64,
# linux/arm64 and linux/arm/v7 by anyarch and by buildah (--isolation chroot, its own storage
# under $WORK), both from the busybox base in a loopback registry, and the two final filesystems
# and configs must be equal per case and platform (tests/tools/fs_snapshot.py lists them; its
# docstring holds the one list of what is not compared).
#
# Where buildah is known to differ from BuildKit, BuildKit is what anyarch follows, so buildah's
# listing is edited into BuildKit's behaviour by the case's expected.txt (each edit says why), or,
# where buildah 1.28 cannot build a feature at all (heredocs), buildah builds an equivalent
# Dockerfile.buildah. Two differences hold for every case and are handled here, once:
# - buildah builds with --format docker: in its default OCI format it drops HEALTHCHECK, SHELL,
#   ONBUILD (and warns), which BuildKit keeps in the config (containers/buildah#2388, #2741).
# - tests/build-corpus/buildah-vs-buildkit.txt: what buildah 1.28 leaves after every RUN (empty
#   /etc/hosts, /etc/resolv.conf, /etc/hostname stubs and /run) and BuildKit does not.
# - --identity-label=false: buildah labels every image io.buildah.version; BuildKit adds no label.
#
# Env: ANYARCH_CORPUS_CASES="a b" builds only those cases (their parents too);
# ANYARCH_CORPUS_KEEP=DIR keeps every result, log, listing and diff there for a closer look.
source "$(dirname "$0")/lib.sh"
[ -z "${ANYARCH_CORPUS_KEEP:-}" ] || on_exit "rm -rf '$ANYARCH_CORPUS_KEEP'; cp -a '$WORK/out' '$ANYARCH_CORPUS_KEEP'"
corpus="$SRC/tests/build-corpus"
snap=(/usr/bin/python3 "$SRC/tests/tools/fs_snapshot.py")
plats=(linux/amd64 linux/arm64 linux/arm/v7)
plat_list=$(IFS=,; echo "${plats[*]}")
command -v buildah >/dev/null || fail "buildah is missing (scripts/install-deps.sh installs it)"

start_plain_registry REG
push_busybox "$REG" >/dev/null
bb="$REG/busybox:latest"
# buildah gets private storage and configuration: nothing of this machine's is read or written.
bh_dir="$WORK/buildah"
mkdir -p "$bh_dir/root" "$bh_dir/run"
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$bh_dir/policy.json"
printf 'unqualified-search-registries = []\n' >"$bh_dir/registries.conf"
printf '{"auths":{}}\n' >"$bh_dir/auth.json"
bh=(env CONTAINERS_REGISTRIES_CONF="$bh_dir/registries.conf" REGISTRY_AUTH_FILE="$bh_dir/auth.json"
  buildah --root "$bh_dir/root" --runroot "$bh_dir/run" --storage-driver vfs)
on_exit "${bh[*]} rm --all >/dev/null 2>&1"

conf() { corpus_conf "$@"; }
tag_of() { tr / _ <<<"$1"; }

# Cases in build order: a case's parent (case.conf parent=NAME) before the case.
corpus_order
want=(${ANYARCH_CORPUS_CASES:-${corpus_all[*]}})
all=("${corpus_all[@]}")
parents=" $(for c in "${order[@]}"; do conf "$c" parent; done | tr '\n' ' ') "
[ "${#want[@]}" -lt 30 ] || [ "${#all[@]}" -ge 30 ] || fail "the corpus has ${#all[@]} cases, want 30"

# context CASE DIR: the case's build context, with the harness's own files left out and
# @REGISTRY@ replaced by the test registry.
context() {
  rm -rf "$2"
  cp -a "$corpus/$1" "$2"
  rm -f "$2/case.conf" "$2/expected.txt"
  sed -i "s|@REGISTRY@|$REG|g" "$2/Dockerfile"
  [ ! -f "$2/Dockerfile.buildah" ] || sed -i "s|@REGISTRY@|$REG|g" "$2/Dockerfile.buildah"
}

# build_anyarch CASE BASE: all platforms in one build into an OCI layout.
build_anyarch() {
  local c=$1 base=$2 ctx="$WORK/ctx-aa/$1" out="$WORK/out/$1/anyarch" args=() s
  context "$c" "$ctx"
  rm -f "$ctx/Dockerfile.buildah"
  s=$(conf "$c" secret)
  [ -z "$s" ] || args+=(--secret "${s/src=/src=$corpus/$c/}")
  /usr/bin/time -f %M -o "$WORK/out/$c/anyarch.rss" "$AA" --insecure --progress=plain build \
    --platform "$plat_list" -t "corpus/$c:latest" -o "type=oci,dest=$out" \
    --build-arg "BASE=$base" "${args[@]}" "$ctx" >"$WORK/out/$c/anyarch.log" 2>&1
}

# build_buildah CASE BASE: one platform per call, each pushed to an OCI layout under its own tag.
# The calls take turns: buildah names a pulled base by its tag, so two platforms pulling the same
# tag at once lose each other's image. The push keeps Docker's manifest and config (v2s2):
# converting to OCI would drop Healthcheck, Shell and OnBuild again.
build_buildah() {
  local c=$1 base=$2 ctx="$WORK/ctx-bh/$1" out="$WORK/out/$1/buildah" args=() s p df
  context "$c" "$ctx"
  df="$ctx/Dockerfile"
  [ ! -f "$ctx/Dockerfile.buildah" ] || df="$ctx/Dockerfile.buildah"
  s=$(conf "$c" secret)
  [ -z "$s" ] || args+=(--secret "${s/src=/src=$corpus/$c/}")
  for p in "${plats[@]}"; do
    "${bh[@]}" bud --isolation chroot --format docker --tls-verify=false \
      --signature-policy "$bh_dir/policy.json" --identity-label=false --platform "$p" \
      --build-arg "BASE=$base" \
      "${args[@]}" -t "corpus-$c-$(tag_of "$p")" -f "$df" "$ctx" || return 1
    "${bh[@]}" push --signature-policy "$bh_dir/policy.json" -q --format v2s2 \
      "corpus-$c-$(tag_of "$p")" "oci:$out:$(tag_of "$p")" || return 1
  done
  [[ "$parents" != *" $c "* ]] || {
    "${bh[@]}" manifest rm "corpus-$c" >/dev/null 2>&1 || true
    "${bh[@]}" manifest create "corpus-$c" >/dev/null || return 1
    for p in "${plats[@]}"; do
      "${bh[@]}" manifest add "corpus-$c" "containers-storage:localhost/corpus-$c-$(tag_of "$p")" \
        >/dev/null || return 1
    done
  }
}

# publish TOOL CASE: a parent case's result goes to the registry, for its children's FROM.
publish() {
  local dest="$REG/corpus-$1/$2:latest"
  if [ "$1" == anyarch ]; then
    skopeo copy -q --all --dest-tls-verify=false "oci:$WORK/out/$2/anyarch:latest" "docker://$dest"
  else
    "${bh[@]}" manifest push --signature-policy "$bh_dir/policy.json" --all -q --format v2s2 \
      --tls-verify=false "corpus-$2" "docker://$dest"
  fi
}

failed=() mismatched=() compared=0 rss_max=0
t0=$(date +%s)
for c in "${order[@]}"; do
  mkdir -p "$WORK/out/$c" "$WORK/ctx-aa" "$WORK/ctx-bh"
  p=$(conf "$c" parent)
  base_aa=$bb base_bh=$bb
  [ -z "$p" ] || base_aa="$REG/corpus-anyarch/$p:latest" base_bh="$REG/corpus-buildah/$p:latest"
  start=$(date +%s)
  build_anyarch "$c" "$base_aa" &
  aa_pid=$!
  build_buildah "$c" "$base_bh" >"$WORK/out/$c/buildah.log" 2>&1 && bh_ok=1 || bh_ok=0
  wait "$aa_pid" && aa_ok=1 || aa_ok=0
  rss=$(tail -n 1 "$WORK/out/$c/anyarch.rss" 2>/dev/null || echo 0)
  [[ "$rss" =~ ^[0-9]+$ ]] && ((rss > rss_max)) && rss_max=$rss
  echo "case $c: anyarch $([ $aa_ok = 1 ] && echo built || echo FAILED), buildah $([ $bh_ok = 1 ] && echo built || echo FAILED), $(($(date +%s) - start))s, anyarch peak RSS ${rss} KiB"
  if [ "$bh_ok" != 1 ]; then
    failed+=("$c(buildah)")
    echo "--- buildah's log for $c:"; tail -n 20 "$WORK/out/$c/buildah.log"
  fi
  if [ "$aa_ok" != 1 ]; then
    failed+=("$c(anyarch)")
    echo "--- anyarch's log for $c:"; tail -n 20 "$WORK/out/$c/anyarch.log"
  fi
  if [[ "$parents" == *" $c "* ]]; then
    [ "$aa_ok" != 1 ] || publish anyarch "$c" || failed+=("$c(publish anyarch)")
    [ "$bh_ok" != 1 ] || publish buildah "$c" || failed+=("$c(publish buildah)")
  fi
  [ "$aa_ok" == 1 ] && [ "$bh_ok" == 1 ] || continue
  pins=(--pins "$corpus/buildah-vs-buildkit.txt")
  [ ! -f "$corpus/$c/expected.txt" ] || pins+=(--pins "$corpus/$c/expected.txt")
  for p in "${plats[@]}"; do
    a="$WORK/out/$c/anyarch.$(tag_of "$p").txt" b="$WORK/out/$c/buildah.$(tag_of "$p").txt"
    "${snap[@]}" "$WORK/out/$c/anyarch" --platform "$p" >"$a" || { mismatched+=("$c:$p(listing)"); continue; }
    "${snap[@]}" "$WORK/out/$c/buildah" --platform "$p" "${pins[@]}" >"$b" || { mismatched+=("$c:$p(listing)"); continue; }
    compared=$((compared + 1))
    if ! diff -u --label "buildah (pinned to BuildKit) $c $p" --label "anyarch $c $p" "$b" "$a" >"$WORK/out/$c/diff.$(tag_of "$p")"; then
      mismatched+=("$c:$p")
      echo "--- $c $p differs:"; head -n 40 "$WORK/out/$c/diff.$(tag_of "$p")"
    fi
  done
  # A secret is never in any blob of either result (layers decompressed, configs as they are).
  s=$(conf "$c" secret)
  if [ -n "$s" ]; then
    value=$(cat "$corpus/$c/$(sed -n 's/.*src=\([^,]*\).*/\1/p' <<<"$s")")
    for tool in anyarch buildah; do
      for blob in "$WORK/out/$c/$tool"/blobs/sha256/*; do
        if { zcat -f "$blob" 2>/dev/null || cat "$blob"; } | grep -qF "$value"; then
          mismatched+=("$c($tool stored the secret in ${blob##*/})")
        fi
      done
    done
  fi
done

# Nothing was written outside the images: the hostile cases' canary is only in image roots.
for f in /etc/anyarch-corpus-canary /tmp/anyarch-corpus-canary /anyarch-corpus-canary; do
  [ ! -e "$f" ] || { rm -f "$f"; fail "a build wrote $f on the host"; }
done

took=$(($(date +%s) - t0))
echo "corpus: ${#order[@]} cases, $compared case/platform listings compared, ${took}s, anyarch peak RSS $((rss_max / 1024)) MiB"
[ "${#failed[@]}" -eq 0 ] || fail "builds failed: ${failed[*]}"
[ "${#mismatched[@]}" -eq 0 ] || fail "anyarch differs from buildah/BuildKit: ${mismatched[*]}"
pass "every corpus case builds the same filesystem and config as buildah (pinned to BuildKit where they differ) on ${plat_list}"
