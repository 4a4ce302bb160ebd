#!/usr/bin/env bash
# Rootless mode (docs/rootless.md), as an ordinary user with /etc/subuid and /etc/subgid ranges,
# on a host whose binfmt_misc has no qemu entry at all (this test removes them and puts them back
# after):
# - `run --platform linux/arm64 ... sh -c 'uname -m; busybox sh -c "uname -m"'` prints aarch64
#   twice: a foreign program started by a foreign program, through a binfmt_misc of anyarch's own;
# - every build-corpus case, built for linux/amd64, linux/arm64 and linux/arm/v7 with
#   --source-date-epoch, has the index digest of the same build by root (under umask 0077);
# - afterwards the host's binfmt_misc is still empty, and nothing of the user's (or of their
#   subordinate ids) exists outside their home, where their store and temporary files are;
# - pull, push, copy, images, file, verify, binfmt test work unprivileged; binfmt install says it
#   needs root.
# Env: ANYARCH_CORPUS_CASES="a b" builds only those cases (their parents too).
#      ANYARCH_E2E_KEEP=DIR keeps the layers of a digest mismatch in DIR.
source "$(dirname "$0")/lib.sh"
corpus="$SRC/tests/build-corpus"
plats=linux/amd64,linux/arm64,linux/arm/v7
bfm=/proc/sys/fs/binfmt_misc
[ -f "$bfm/register" ] || fail "binfmt_misc is not mounted (tests/setup.sh mounts it)"
command -v newuidmap >/dev/null || fail "newuidmap is missing (scripts/install-deps.sh installs uidmap)"
# The file outlives this run, so that a run killed before its exit hook (a ctest timeout) has its
# entries put back by the next one, before it saves them again.
saved="$CACHE/rootless-binfmt-saved"
mkdir -p "$CACHE"
restore_binfmt() {
  local state line name
  [ -f "$saved" ] || return 0
  while read -r state line; do
    name=$(cut -d: -f2 <<<"$line")
    [ -e "$bfm/$name" ] || printf '%s' "$line" >"$bfm/register"
    [ "$state" = enabled ] || echo 0 >"$bfm/$name"
  done <"$saved"
  rm -f "$saved"
}
restore_binfmt

# The user, with subordinate ranges of its own (useradd gives them on Debian; made if not).
user=anyarch-rootless
id "$user" >/dev/null 2>&1 || useradd -m -s /bin/sh "$user" || fail "useradd $user"
uhome=$(getent passwd "$user" | cut -d: -f6)
uid=$(id -u "$user")
if ! grep -q "^$user:" /etc/subuid || ! grep -q "^$user:" /etc/subgid; then
  usermod --add-subuids 500000-565535 --add-subgids 500000-565535 "$user" || fail "usermod"
fi
sub_start=$(sed -n "s/^$user:\([0-9]*\):.*/\1/p" /etc/subuid | head -n 1)
sub_count=$(sed -n "s/^$user:[0-9]*:\([0-9]*\)/\1/p" /etc/subuid | head -n 1)
rm -rf "$uhome/.local/share/anyarch" "$uhome/t"
# Everything the user gets goes under its home: the binary, contexts, outputs, TMPDIR.
mkdir -p "$uhome/t/tmp" "$uhome/t/ctx" "$uhome/t/out"
install -m 0755 "$AA" "$uhome/t/anyarch"
chown -R "$user:" "$uhome/t"
on_exit "rm -rf '$uhome/t' '$uhome/.local/share/anyarch'"
as_user() { # as_user ARGS...: the copied anyarch as the user, with a clean environment
  runuser -u "$user" -- env -i HOME="$uhome" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    TMPDIR="$uhome/t/tmp" "$uhome/t/anyarch" "$@"
}

# slirp4netns opens /dev/net/tun as the user: Debian's default mode is 0666.
tun_mode=$(stat -c %a /dev/net/tun)
chmod 0666 /dev/net/tun
on_exit "chmod $tun_mode /dev/net/tun"

start_plain_registry REG
push_busybox "$REG" >/dev/null
bb="$REG/busybox:latest"

# --- The corpus cases, parents first.
conf() { corpus_conf "$@"; }
corpus_order
# Root builds every case first, while the host still has its qemu entries; parents go to the
# registry, so that root's and the user's builds of a child start from the same image.
declare -A want=()
failed=()
is_parent() { [[ " $(for x in "${order[@]}"; do conf "$x" parent; done | tr '\n' ' ') " == *" $1 "* ]]; }
case_args() { # case_args CASE CTX: the build flags of a case
  local p base s
  p=$(conf "$1" parent)
  base="$REG/busybox:latest"
  [ -z "$p" ] || base="$REG/corpus-root/$p:latest"
  args=(--insecure --progress plain build --platform "$plats" --source-date-epoch 0 -t "corpus/$1:latest"
    --build-arg "BASE=$base")
  s=$(conf "$1" secret)
  [ -z "$s" ] || args+=(--secret "${s/src=/src=$2/}")
}
t0=$(date +%s)
for c in "${order[@]}"; do
  ctx="$uhome/t/ctx/$c"
  rm -rf "$ctx"
  cp -a "$corpus/$c" "$ctx"
  rm -f "$ctx/case.conf" "$ctx/expected.txt" "$ctx/Dockerfile.buildah"
  sed -i "s|@REGISTRY@|$REG|g" "$ctx/Dockerfile"
  chown -R "$user:" "$ctx"
  case_args "$c" "$ctx"
  # Under a umask unlike the user's (0022): it must not reach the image.
  (umask 0077 && "$AA" "${args[@]}" -o "type=oci,dest=$WORK/root-$c" "$ctx") >"$WORK/root-$c.log" 2>&1 ||
    { failed+=("$c(root)"); tail -n 15 "$WORK/root-$c.log"; continue; }
  want[$c]=$(jq -r '.manifests[0].digest' "$WORK/root-$c/index.json")
  if is_parent "$c"; then
    skopeo copy -q --all --dest-tls-verify=false "oci:$WORK/root-$c:latest" \
      "docker://$REG/corpus-root/$c:latest" || failed+=("$c(publish)")
  fi
done
echo "root corpus: ${#order[@]} cases in $(($(date +%s) - t0))s"
[ "${#failed[@]}" -eq 0 ] || fail "root builds failed: ${failed[*]}"

# The host's qemu entries are saved as register lines (restore_binfmt, above), removed, and put
# back at the end.
: >"$saved.new"
for e in "$bfm"/qemu-*; do
  [ -f "$e" ] || continue
  name=${e##*/}
  interp=$(sed -n 's/^interpreter //p' "$e")
  flags=$(sed -n 's/^flags: //p' "$e")
  offset=$(sed -n 's/^offset //p' "$e")
  magic=$(sed -n 's/^magic //p' "$e" | sed 's/../\\x&/g')
  mask=$(sed -n 's/^mask //p' "$e" | sed 's/../\\x&/g')
  state=$(head -n 1 "$e")
  printf '%s %s\n' "$state" ":$name:M:$offset:$magic:$mask:$interp:$flags" >>"$saved.new"
done
mv "$saved.new" "$saved"
on_exit restore_binfmt
while read -r _ line; do echo -1 >"$bfm/$(cut -d: -f2 <<<"$line")"; done <"$saved"
[ -z "$(ls "$bfm" | grep -v -e '^register$' -e '^status$')" ] || fail "host binfmt_misc not emptied"
marker="$WORK/marker"
touch "$marker"
sleep 1

# --- The commands that need no namespace, unprivileged.
as_user --insecure --progress quiet pull --all-platforms "$REG/busybox:latest" >/dev/null ||
  fail "pull as the user"
out=$(as_user images --json) || fail "images as the user"
assert_eq "$(jq -r '.[0].platforms | length' <<<"$out")" 8 "the user's store holds the index"
as_user --insecure --progress quiet push "$REG/busybox:latest" "$REG/mine/busybox:latest" >/dev/null ||
  fail "push as the user"
as_user --insecure --progress quiet copy --all "$REG/mine/busybox:latest" "oci:$uhome/t/out/bb:latest" >/dev/null ||
  fail "copy as the user"
as_user --insecure verify "$REG/mine/busybox:latest" >/dev/null || fail "verify as the user"
assert_contains "$(as_user file "$uhome/t/anyarch")" "linux/amd64" "file as the user"
assert_eq "$(stat -c %a "$uhome/.local/share/anyarch")" 700 "the user's store is private"
expect_fail as_user binfmt install arm64
assert_contains "$ERR" "needs root" "binfmt install says it needs root"
out=$(as_user binfmt test arm64 arm) || fail "binfmt test as the user: $out"
assert_contains "$out" "private to anyarch's user namespace" "binfmt test names the private instance"
assert_eq "$(as_user binfmt test --json arm64 | jq -r '.scope + " " + .arches[0].action')" \
  "private pass" "binfmt test --json: scope and probe"
out=$(as_user doctor --json) || fail "doctor as the user: $out"
for check in userns subids userns-overlay userns-binfmt userns-network; do
  assert_eq "$(jq -r --arg n "$check" '.checks[] | select(.check == $n) | .status' <<<"$out")" ok \
    "doctor's $check check"
done
pass "pull, push, copy, images, verify, file, doctor and binfmt test work unprivileged"

# --- A foreign program started by a foreign program, with no host registration.
out=$(as_user run --rm --platform linux/arm64 "$bb" sh -c 'uname -m; busybox sh -c "uname -m"') ||
  fail "rootless run: $out"
assert_eq "$out" "aarch64
aarch64" "both the shell and the program it started are emulated"
# Kept (no --rm): its upper directory holds a file of a subordinate id until prune.
out=$(as_user run --platform linux/arm/v7 "$bb" sh -c 'id -u; touch /f; chown 1234:5678 /f; stat -c "%u %g" /f')
assert_eq "$out" "0
1234 5678" "subordinate ids work inside"
pass "rootless run emulates arm64 through a private binfmt_misc"

# --- The corpus: the rootless build has the root build's index digest.
# explain_layout_difference A B: for two OCI layouts whose index digests differ, the config and
# layer blobs that differ, platform by platform, and the difference of the differing layers'
# entries, every header field and each file's content digest (tests/tools/layer_dump.py), so that
# a failure in CI says what to fix without a rerun. ANYARCH_E2E_KEEP=DIR keeps the layers there.
explain_layout_difference() {
  local a=$1 b=$2 ia ib ma mb ca cb i la lb ua ub
  blob() { printf '%s/blobs/sha256/%s' "$1" "${2#sha256:}"; }
  ia=$(blob "$a" "$(jq -r '.manifests[0].digest' "$a/index.json")")
  ib=$(blob "$b" "$(jq -r '.manifests[0].digest' "$b/index.json")")
  for i in $(seq 0 $(($(jq '.manifests | length' "$ia") - 1))); do
    ma=$(blob "$a" "$(jq -r ".manifests[$i].digest" "$ia")")
    mb=$(blob "$b" "$(jq -r ".manifests[$i].digest" "$ib")")
    [ "$ma" != "$mb" ] || continue
    echo "  $(jq -r ".manifests[$i].platform | [.os, .architecture, .variant // empty] | join(\"/\")" "$ia"):"
    ca=$(blob "$a" "$(jq -r .config.digest "$ma")")
    cb=$(blob "$b" "$(jq -r .config.digest "$mb")")
    [ "${ca##*/}" = "${cb##*/}" ] || { diff <(jq -S . "$ca") <(jq -S . "$cb") || true; } | sed 's/^/    config: /'
    paste <(jq -r '.layers[].digest' "$ma") <(jq -r '.layers[].digest' "$mb") | while read -r la lb; do
      [ "$la" != "$lb" ] || continue
      echo "    layer $la (root) vs $lb (rootless):"
      ua=$(gzip -dc "$(blob "$a" "$la")" | sha256sum | cut -c1-64)
      ub=$(gzip -dc "$(blob "$b" "$lb")" | sha256sum | cut -c1-64)
      echo "      uncompressed: $ua vs $ub"
      { diff <(python3 "$SRC/tests/tools/layer_dump.py" "$(blob "$a" "$la")") \
        <(python3 "$SRC/tests/tools/layer_dump.py" "$(blob "$b" "$lb")") || true; } | sed 's/^/      /'
      if [ -n "${ANYARCH_E2E_KEEP:-}" ]; then
        mkdir -p "$ANYARCH_E2E_KEEP" && cp "$(blob "$a" "$la")" "$ANYARCH_E2E_KEEP/root-${la#sha256:}" &&
          cp "$(blob "$b" "$lb")" "$ANYARCH_E2E_KEEP/rootless-${lb#sha256:}"
      fi
    done
  done
}
differ=()
t0=$(date +%s)
for c in "${order[@]}"; do
  ctx="$uhome/t/ctx/$c"
  case_args "$c" "$ctx"
  as_user "${args[@]}" -o "type=oci,dest=$uhome/t/out/$c" "$ctx" >"$WORK/user-$c.log" 2>&1 ||
    { failed+=("$c(rootless)"); tail -n 15 "$WORK/user-$c.log"; continue; }
  got=$(jq -r '.manifests[0].digest' "$uhome/t/out/$c/index.json")
  echo "case $c: root ${want[$c]}, rootless $got"
  if [ "${want[$c]}" = "$got" ]; then
    rm -rf "$uhome/t/out/$c" "$WORK/root-$c"
  else
    differ+=("$c")
    explain_layout_difference "$WORK/root-$c" "$uhome/t/out/$c"
  fi
done
echo "rootless corpus: ${#order[@]} cases in $(($(date +%s) - t0))s"
[ "${#failed[@]}" -eq 0 ] || fail "rootless builds failed: ${failed[*]}"
[ "${#differ[@]}" -eq 0 ] || fail "rootless index digests differ from root's: ${differ[*]}"
pass "every corpus case built rootless has the root build's index digest on $plats"

# --- What containers wrote belongs to subordinate ids; the user removes it with anyarch.
[ -n "$(find "$uhome/.local/share/anyarch" -uid +$((sub_start - 1)) -uid -$((sub_start + sub_count)) | head -n 1)" ] ||
  fail "no file of a subordinate id in the store: the build did not map the ranges"
as_user prune --snapshots --build-cache >/dev/null || fail "prune as the user"
assert_eq "$(find "$uhome/.local/share/anyarch" -uid +$((sub_start - 1)) -uid -$((sub_start + sub_count)) | head -n 3)" \
  "" "prune --snapshots --build-cache removes what the containers wrote"
pass "the user removes subordinate-id files from its store with anyarch prune"

# --- A user without ranges: the single-id map, with a warning that says what it cannot do.
single=anyarch-rootless-1id
id "$single" >/dev/null 2>&1 || useradd -m -s /bin/sh "$single" || fail "useradd $single"
on_exit "userdel -r $single >/dev/null 2>&1"
sed -i "/^$single:/d" /etc/subuid /etc/subgid
shome=$(getent passwd "$single" | cut -d: -f6)
install -m 0755 "$AA" "$shome/anyarch"
as_single() {
  runuser -u "$single" -- env -i HOME="$shome" PATH=/usr/sbin:/usr/bin:/sbin:/bin "$shome/anyarch" "$@"
}
as_single --insecure --progress quiet pull --all-platforms "$bb" >/dev/null || fail "pull without ranges"
out=$(as_single run --rm --network none --platform linux/arm64 "$bb" sh -c 'uname -m; busybox sh -c "uname -m"' 2>"$WORK/single.err") ||
  fail "run without ranges: $out $(cat "$WORK/single.err")"
assert_eq "$out" "aarch64
aarch64" "emulation works with the single-id map"
assert_contains "$(cat "$WORK/single.err")" "only your own id mapped" "the single-id map is warned about"
assert_contains "$(cat "$WORK/single.err")" "usermod --add-subuids" "with the command that grants a range"
expect_fail as_single run --rm --network none "$bb" chown 5:5 /tmp
assert_contains "$ERR" "Invalid argument" "a chown to an unmapped id fails"
# An image with a file of another owner is refused, saying why, not unpacked as root's.
mkdir -p "$WORK/owned-ctx"
printf 'FROM %s\nRUN touch /owned && chown 5:5 /owned\n' "$bb" >"$WORK/owned-ctx/Dockerfile"
"$AA" --insecure --progress quiet build --platform linux/amd64 -o "type=oci,dest=$WORK/owned" \
  "$WORK/owned-ctx" >/dev/null || fail "root's build of an image with a file of uid 5"
skopeo copy -q --dest-tls-verify=false "oci:$WORK/owned" "docker://$REG/owned:latest" ||
  fail "publishing the image with a file of uid 5"
expect_fail as_single --insecure run --rm --network none "$REG/owned:latest" true
assert_contains "$ERR" "/owned belongs to 5:5, an id this user namespace does not map" \
  "an image with a file of an unmapped owner is refused"
as_single prune --snapshots >/dev/null 2>&1 || true
pass "without subordinate ranges, run works as root of a single-id namespace and says what it cannot do"

# --- Nothing left on the host.
left=$(ls "$bfm" | grep -v -e '^register$' -e '^status$' || true)
assert_eq "$left" "" "the host's binfmt_misc has no entry after the rootless commands"
stray=$(find / -xdev -newer "$marker" \( -uid "$uid" -o \( -uid +$((sub_start - 1)) -uid -$((sub_start + sub_count)) \) \) \
  -not -path "$uhome/*" -not -path "$uhome" 2>/dev/null | head -n 20)
assert_eq "$stray" "" "no file of the user or its subordinate ids outside its home"
pass "a rootless build leaves nothing in the host's binfmt_misc and nothing outside the user's home"
