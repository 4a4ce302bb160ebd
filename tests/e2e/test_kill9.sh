#!/usr/bin/env bash
# kill -9 at random moments (issue 11, acceptance): pull, run's unpack, import and push, five times
# each, killed after a random time between 0.05 s and the command's typical duration. After each
# kill, `anyarch store check` must call the store sound (exit 0) and list as leftovers every
# temporary file it holds; the next run of the same command must succeed, and the store be sound
# again. "Sound" is store check's: no corrupt, missing or invalid content (leftovers allowed, since
# nothing reads them and prune or store check --repair removes them).
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || fail "needs root"
start_plain_registry R
src=$(push_busybox "$R")

# A 48 MiB incompressible layer, so that the unpack takes long enough to be interrupted.
mkdir -p "$WORK/big"
head -c 48M /dev/urandom >"$WORK/big/payload"
tar -C "$WORK/big" -cf "$WORK/big.tar" payload
rm -f "$WORK/big/payload"
python3 "$SRC/tests/tools/make_image.py" "$WORK/layout" --tag big \
  --image "linux/amd64=busybox:$(busybox_bin amd64)" --tar-layer "linux/amd64:$WORK/big.tar" >/dev/null
rm -f "$WORK/big.tar"
"$AA" copy "oci:$WORK/layout:big" local:big:1 >/dev/null 2>&1 || fail "copying the big image in"

# check_sound WHAT: store check exits 0, and every temporary file in the store is a listed leftover.
check_sound() {
  local out rc=0 tmp
  out=$("$AA" store check --json 2>"$WORK/check.err") || rc=$?
  [ "$rc" -eq 0 ] || fail "$1: store check says the store is unsound (exit $rc): $out $(cat "$WORK/check.err")"
  while read -r tmp; do
    [ -n "$tmp" ] || continue
    jq -e --arg p "${tmp#"$ANYARCH_ROOT"/}" '.leftovers | map(.path) | index($p) != null' <<<"$out" >/dev/null ||
      fail "$1: $tmp is in the store but store check does not list it: $out"
  done < <(find "$ANYARCH_ROOT" -maxdepth 3 \( -name '.*.tmp-*' -o -name '.unpack*' \) 2>/dev/null)
  jq -r '.leftovers | length' <<<"$out"
}

# typical_ms CMD...: how long one run of CMD takes, in ms.
typical_ms() {
  local t0
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || fail "the untimed run of $* failed"
  echo $((($(date +%s%N) - t0) / 1000000))
}

# kill_at_random MAX_MS CMD...: starts CMD, kills it with SIGKILL after 50..MAX_MS ms.
kill_at_random() {
  local max=$1 ms
  shift
  ((max > 60)) || max=60
  ms=$((50 + RANDOM % (max - 50)))
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$(printf '0.%03d' "$ms")" 2>/dev/null || sleep 0.05
  ((ms < 1000)) || sleep $((ms / 1000))
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$ms"
}

# round NAME RESET CMD...: five kills of CMD, each followed by a check, the command again, a check.
round() {
  local name=$1 reset=$2 max i ms left
  shift 2
  eval "$reset"
  max=$(typical_ms "$@")
  for i in 1 2 3 4 5; do
    eval "$reset"
    ms=$(kill_at_random "$max" "$@")
    left=$(check_sound "$name #$i (killed after $ms ms of ~$max)")
    "$@" >"$WORK/again.out" 2>&1 || fail "$name #$i: the next run failed: $(cat "$WORK/again.out")"
    check_sound "$name #$i, after the next run" >/dev/null
    echo "  $name #$i: killed after $ms ms (typical $max ms), $left leftovers"
  done
  pass "$name: five kills, the store stayed sound and the next run succeeded"
}

round pull '"$AA" rmi "$src" >/dev/null 2>&1 || true; "$AA" prune >/dev/null' \
  "$AA" pull --insecure --all-platforms "$src"
round "run's unpack" '"$AA" prune --snapshots >/dev/null' \
  "$AA" run --rm --network none big:1 true
"$AA" export big:1 -o "$WORK/big-oci.tar" >/dev/null 2>&1 || fail "export"
round import '"$AA" rmi imported:1 >/dev/null 2>&1 || true; "$AA" prune >/dev/null' \
  "$AA" import -t imported:1 "$WORK/big-oci.tar"
# Each round pushes to a new repository (the reset), and the run after a kill to the same one.
echo 0 >"$WORK/n"
round push 'echo $(($(cat "$WORK/n") + 1)) >"$WORK/n"' \
  sh -c 'exec "$0" push --insecure big:1 "$1/kill9-$(cat "$2"):latest"' "$AA" "$R" "$WORK/n"

# build (issue 8, acceptance): a two-platform build whose steps write layers of several MiB is
# killed at random moments, keeping whatever cache each killed build left. After each kill the
# store is sound, and the next build (using or ignoring that cache) gives the image digest of a
# build in a fresh store: a cache entry is never misused.
busybox_in_store
ctx="$WORK/kill-ctx"
mkdir -p "$ctx/files"
for i in $(seq 200); do echo "file $i" >"$ctx/files/f$i"; done
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
COPY files /files
RUN head -c 12000000 /dev/zero | tr '\0' 'a' > /a && sha256sum /a > /a.sum
RUN for i in $(seq 300); do echo "line $i" > /l$i; done && cat /files/* > /all
RUN head -c 8000000 /dev/zero | tr '\0' 'b' > /b && rm /a
DF
build_cmd=("$AA" --progress plain build --platform linux/amd64,linux/arm64 --source-date-epoch 0
  -t kill9/build:latest "$ctx")
want=$(ANYARCH_ROOT="$WORK/fresh-store" sh -c '"$0" --progress quiet copy --all "oci:$1:latest" local:busybox:latest >/dev/null &&
  "$0" --progress plain build --platform linux/amd64,linux/arm64 --source-date-epoch 0 --metadata-file "$2" -t kill9/build:latest "$3" >/dev/null 2>&1' \
  "$AA" "$(busybox_layout)" "$WORK/fresh.json" "$ctx" && jq -r '."containerimage.digest"' "$WORK/fresh.json")
[[ "$want" == sha256:* ]] || fail "the reference build in a fresh store failed: $want"
rm -rf "$WORK/fresh-store"
max=$(typical_ms "${build_cmd[@]}" --no-cache)
for i in 1 2 3 4 5; do
  ms=$(kill_at_random "$max" "${build_cmd[@]}" --no-cache)
  left=$(check_sound "build #$i (killed after $ms ms of ~$max)")
  "${build_cmd[@]}" --metadata-file "$WORK/again.json" >"$WORK/again.out" 2>&1 ||
    fail "build #$i: the next build failed: $(tail -n 20 "$WORK/again.out")"
  check_sound "build #$i, after the next build" >/dev/null
  assert_eq "$(jq -r '."containerimage.digest"' "$WORK/again.json")" "$want" \
    "build #$i: the build after the kill has the fresh store's digest"
  echo "  build #$i: killed after $ms ms (typical $max ms), $left leftovers, $(grep -c ' CACHED ' "$WORK/again.out") steps from the cache"
done
pass "build: five kills, the store stayed sound and the next build's image was the fresh store's"
