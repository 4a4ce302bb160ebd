#!/usr/bin/env bash
# Build benchmark (issue 8, item 5): anyarch build vs buildah bud (chroot isolation) vs the classic
# builder of Debian's dockerd 20.10, on the same Dockerfiles, the tools taking turns run by run.
# A benchmark, not a test: it prints one table of medians and never fails on the figures.
#
# Every tool pulls its base image (busybox, all platforms) from a docker-registry on 127.0.0.1;
# nothing is fetched from anywhere else. Scenarios (BENCH_ONLY selects, e.g. "a b"):
#  a   cold build, linux/amd64,linux/arm64,linux/arm/v7, of a two-stage Dockerfile: emulated RUN
#      steps (seq | sha256sum, CPU-bound) and a COPY of a generated 5,000-file context. Fresh store.
#      docker's classic builder builds one platform per call and its cache ignores the platform,
#      so it builds amd64, arm/v7, arm64 in turn with its images and build cache wiped before each;
#      its figure is the sum of the three.
#  b   no-change rebuild on a's store. c: rebuild after one copied file changed (the COPY and the
#      RUN after it re-run). docker: b and c rebuild linux/arm64 only (the platform it built last).
#  a1/b1  a and b for linux/arm64 alone, anyarch vs docker: the single platform both can build.
#  d   layer commit throughput: a native (linux/amd64) RUN writes BENCH_D_MIB (500) MiB in
#      BENCH_D_FILES (20,000) files, half compressible text (awk), half random (/dev/urandom).
#      Method: each tool builds it twice from a fresh store, once keeping the files and once
#      deleting them at the end of the same RUN (an empty layer); the commit time is the
#      difference of the two medians, so RUN and base-image costs cancel (the rm of the files,
#      a fraction of a second, is counted against the tool). MiB/s = BENCH_D_MIB / difference.
#      "Written" means each tool's own store: anyarch's store (compressed layer), buildah's
#      containers/storage (uncompressed), docker's graph driver.
#  e   emulated RUN overhead: `seq 1 N | sha256sum` twice (BENCH_E_SEQ=N), linux/arm64, timed by
#      busybox's `time` applet around the command, (1) under bare qemu-aarch64-static in a chroot
#      of the arm64 busybox rootfs (qemu copied in, started explicitly), (2) inside a RUN step of
#      each tool (--no-cache). The figure column is the applet's real time; seconds is the wall
#      time of the whole chroot call or build.
#  f   cold 3-platform build, then push to a fresh loopback registry (buildah: bud --manifest,
#      then manifest push --all; docker: linux/arm64 only, build then push).
#  g   a fresh store building with --cache-from type=registry after an earlier build exported its
#      cache. anyarch: a seed build with --cache-to type=registry,ref=REPO,mode=max, its store
#      deleted, then --cache-from type=registry,ref=REPO (n/a if this anyarch has no --cache-from
#      in `build --help`). buildah: bud --layers
#      --cache-to REPO (seed, untimed in the ratio) then, on a wiped store, --cache-from REPO.
#      docker's classic builder has no registry cache import (n/a).
# buildah: its own storage in the temp dir (overlay if it works here, else vfs; the table says
# which), --isolation chroot, --jobs = core count, --layers in a, b, c, f, g (b and c need it; d
# and e build without it, its default). docker: a private dockerd (overlay2 if it starts, else
# vfs), DOCKER_BUILDKIT=0 docker build --network none. Peak RSS: /usr/bin/time %M of the client
# (GNU time: the largest process of its tree that it waited for); not given for docker, whose
# work happens in the daemon.
# Env: ANYARCH_BIN, ANYARCH_CACHE (as copy_bench.sh), BENCH_RUNS (3), BENCH_QUICK=1 (1 run,
# smaller sizes), BENCH_ONLY ("a b c a1 b1 d e f g"), BENCH_TOOLS ("buildah docker anyarch"),
# BENCH_FILES (5000), BENCH_SEQ (300000, the RUN steps' work in a), BENCH_D_MIB (500),
# BENCH_D_FILES (20000), BENCH_E_SEQ (1000000). Every tool's store is under $TMPDIR (default
# /tmp): TMPDIR=<a tmpfs> takes the disk out of the figures. On an ext4 without a journal that
# matters: it skips recently freed inodes when it allocates, by reading the inode table, so
# creating files after a wipe of another store costs several times what it does otherwise.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  runs=${BENCH_RUNS:-1} nfiles=${BENCH_FILES:-500} nseq=${BENCH_SEQ:-20000}
  d_mib=${BENCH_D_MIB:-40} d_files=${BENCH_D_FILES:-2000} e_seq=${BENCH_E_SEQ:-100000}
else
  runs=${BENCH_RUNS:-3} nfiles=${BENCH_FILES:-5000} nseq=${BENCH_SEQ:-300000}
  d_mib=${BENCH_D_MIB:-500} d_files=${BENCH_D_FILES:-20000} e_seq=${BENCH_E_SEQ:-1000000}
fi
only=" ${BENCH_ONLY:-a b c a1 b1 d e f g} "
tools=${BENCH_TOOLS:-buildah docker anyarch}
plats=linux/amd64,linux/arm64,linux/arm/v7
# shellcheck source=../tests/e2e/lib.sh
source "$src/tests/e2e/lib.sh"
set +e +o pipefail  # a failing tool run is reported in the table, not fatal
set -u
ncpu=$(nproc)
sel() { local s; for s in "$@"; do [[ "$only" == *" $s "* ]] && return 0; done; return 1; }
has_tool() { [[ " $tools " == *" $1 "* ]]; }
say() { echo "bench: $*" >&2; }

# ---- Inputs --------------------------------------------------------------------------------------
# The context: NFILES small text files in 50 directories, the same bytes every time (a pure
# function of the file's number), generated once into the cache.
ctx_gen=$CACHE/bench/context-$nfiles
if [ ! -f "$ctx_gen/.done" ]; then
  say "generating a $nfiles-file context in $ctx_gen (once)"
  rm -rf "$ctx_gen"
  mkdir -p "$ctx_gen/files"
  python3 - "$ctx_gen/files" "$nfiles" <<'PY' || { say "context generator failed"; exit 1; }
import hashlib, os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    seed = hashlib.sha256(b"anyarch-bench-%d" % i).hexdigest()
    lines = ["file %d line %d %s\n" % (i, j, seed[j % 48:j % 48 + 16]) for j in range(20 + i % 80)]
    with open(os.path.join(d, "f%05d.txt" % i), "w") as f:
        f.write("".join(lines))
PY
  touch -d @1700000000 "$ctx_gen/files" && find "$ctx_gen/files" -exec touch -d @1700000000 {} +
  touch "$ctx_gen/.done"
fi
ctx_bytes=$(du -sb "$ctx_gen/files" | cut -f1)
last_file=$(cd "$ctx_gen" && find files -type f | sort | tail -1)

DF_APP=$(cat <<EOF
ARG BASE
FROM \$BASE AS tools
ARG N=$nseq
RUN seq 1 \$N | sha256sum > /tools.sum && mkdir -p /opt/tools && uname -m > /opt/tools/machine
FROM \$BASE
ARG N=$nseq
RUN seq 1 \$N | sha512sum > /base.sum
COPY files/ /app/files/
COPY --from=tools /tools.sum /opt/tools.sum
COPY --from=tools /opt/tools/ /opt/tools/
RUN find /app -type f | wc -l > /app.count && cat /app/files/d00/f00000.txt | sha256sum > /first.sum
CMD ["cat", "/app.count"]
EOF
)
d_half=$((d_files / 2)) d_size=$((d_mib * 1048576 / d_files))
d_run="mkdir -p /data/t /data/r && awk -v n=$d_half -v sz=$d_size 'BEGIN { for (i = 0; i < n; i++) { f = \"/data/t/\" i; w = 0; while (w < sz) { l = sprintf(\"line %d of file %d: the quick brown fox jumps over the lazy dog, %d\\n\", w, i, (i * 7919 + w) % 100003); if (w + length(l) > sz) l = substr(l, 1, sz - w); printf \"%s\", l > f; w += length(l) } close(f) } }' && i=0 && while [ \$i -lt $d_half ]; do head -c $d_size /dev/urandom > /data/r/\$i; i=\$((i + 1)); done"
e_cmd="i=0; while [ \$i -lt 2 ]; do seq 1 $e_seq | sha256sum; i=\$((i + 1)); done"

# make_ctx DIR KIND: a fresh build context in DIR for KIND (app, dkeep, ddrop, e).
make_ctx() {
  rm -rf "$1"
  mkdir -p "$1"
  case $2 in
    app) cp -a "$ctx_gen/files" "$1/files" && printf '%s\n' "$DF_APP" >"$1/Dockerfile" ;;
    dkeep) printf 'ARG BASE\nFROM $BASE\nRUN %s\n' "$d_run" >"$1/Dockerfile" ;;
    ddrop) printf 'ARG BASE\nFROM $BASE\nRUN %s && rm -rf /data\n' "$d_run" >"$1/Dockerfile" ;;
    e) printf 'ARG BASE\nFROM $BASE\nRUN time sh -c '\''%s'\''\n' "$e_cmd" >"$1/Dockerfile" ;;
  esac
}

start_plain_registry BASEREG
bb=$(push_busybox "$BASEREG")

# ---- Tools ---------------------------------------------------------------------------------------
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$WORK/policy.json"
printf '{"auths":{}}\n' >"$WORK/buildah-auth.json"
bh_driver=-
if has_tool buildah; then
  for drv in overlay vfs; do
    d=$WORK/bh-probe
    mkdir -p "$d/ctx" && printf 'FROM %s\nRUN true\n' "$bb" >"$d/ctx/Dockerfile"
    if buildah --root "$d/root" --runroot "$d/run" --storage-driver "$drv" bud -q \
      --signature-policy "$WORK/policy.json" --isolation chroot --tls-verify=false "$d/ctx" \
      >"$WORK/bh-probe.log" 2>&1; then
      bh_driver=$drv
    fi
    buildah --root "$d/root" --runroot "$d/run" --storage-driver "$drv" rmi -a -f >/dev/null 2>&1
    umount "$d/root/$drv" 2>/dev/null
    rm -rf "$d"
    [ "$bh_driver" != - ] && break
  done
  [ "$bh_driver" = - ] && say "buildah does not build here: $(tail -3 "$WORK/bh-probe.log")"
fi
BH_VERSION=$(buildah --version 2>/dev/null | awk '{print $3}')
# BH: buildah on its own storage in $BHS; BUD: its build command with the options every scenario uses.
BHS=$WORK/store-buildah
BH=(env REGISTRY_AUTH_FILE="$WORK/buildah-auth.json" buildah --root "$BHS/root" --runroot "$BHS/run"
  --storage-driver "$bh_driver")
BUD=("${BH[@]}" bud --signature-policy "$WORK/policy.json" --isolation chroot --tls-verify=false
  --jobs "$ncpu")
bh_wipe() {
  "${BH[@]}" rm -a >/dev/null 2>&1
  "${BH[@]}" rmi -a -f >/dev/null 2>&1
  umount "$BHS/root/$bh_driver" 2>/dev/null
  rm -rf "$BHS"
}

# A private dockerd as tests/e2e/lib.sh start_dockerd starts it (no bridge, no iptables), with
# overlay2 storage if it starts on this filesystem, else vfs.
DOCKER="" dk_driver=-
if has_tool docker && [ -x /usr/sbin/dockerd ]; then
  for drv in overlay2 vfs; do
    dir=$(mktemp -d "$WORK/dockerd.XXXXXX")
    /usr/sbin/dockerd --host "unix://$dir/docker.sock" --data-root "$dir/root" \
      --exec-root "$dir/exec" --pidfile "$dir/docker.pid" --iptables=false --ip-forward=false \
      --ip-masq=false --bridge=none --storage-driver "$drv" >"$dir/log" 2>&1 &
    dpid=$!
    for ((i = 0; i < 300; i++)); do
      /usr/bin/docker -H "unix://$dir/docker.sock" version >/dev/null 2>&1 && break
      kill -0 "$dpid" 2>/dev/null || break
      sleep 0.1
    done
    if /usr/bin/docker -H "unix://$dir/docker.sock" info 2>/dev/null | grep -q "Storage Driver: $drv"; then
      on_exit "kill $dpid 2>/dev/null; wait $dpid 2>/dev/null"
      DOCKER="/usr/bin/docker -H unix://$dir/docker.sock" dk_driver=$drv
      break
    fi
    kill "$dpid" 2>/dev/null
    wait "$dpid" 2>/dev/null
    say "dockerd with $drv: $(tail -n 2 "$dir/log" | tr '\n' ' ')"
  done
fi
DK_VERSION=$($DOCKER version --format '{{.Server.Version}}' 2>/dev/null)
DK_VERSION=${DK_VERSION%%+*}
dk_wipe() {
  $DOCKER container prune -f >/dev/null 2>&1
  # shellcheck disable=SC2046
  $DOCKER rmi -f $($DOCKER images -aq) >/dev/null 2>&1
  $DOCKER builder prune -af >/dev/null 2>&1
}
# shellcheck disable=SC2206
DKB=(env DOCKER_BUILDKIT=0 $DOCKER build --network none)
# then.sh CMD1... ';;' CMD2...: CMD1, then CMD2 if it succeeded (one process tree to time).
printf '%s\n' 'a=(); while [ "$1" != ";;" ]; do a+=("$1"); shift; done; shift' \
  '"${a[@]}" && "$@"' >"$WORK/then.sh"

# ---- Timing --------------------------------------------------------------------------------------
declare -A T M F L  # per "scenario/tool": seconds, peak KiB, figure (lists, one per run), last log
# binfmt_ready: the qemu-aarch64 and qemu-arm binfmt_misc entries are enabled. Others on a shared
# machine (the binfmt e2e test) may remove and reinstall them for a while; a run waits (up to
# 120 s) rather than failing, and says so.
binfmt_ready() {
  local a f ok
  for a in aarch64 arm; do
    ok=0
    for f in /proc/sys/fs/binfmt_misc/*; do
      [ "$(head -1 "$f" 2>/dev/null)" = enabled ] && grep -q "^interpreter .*qemu-$a\(-static\)\?$" "$f" 2>/dev/null && ok=1
    done
    [ "$ok" = 1 ] || return 1
  done
}
wait_binfmt() {
  local i
  binfmt_ready && return
  say "the qemu-aarch64/qemu-arm binfmt_misc entries are missing; waiting for them"
  for ((i = 0; i < 120; i++)); do sleep 1; binfmt_ready && return; done
  say "still missing after 120 s; emulated steps will fail"
}
# timed KEY LOG CMD...: runs CMD under /usr/bin/time; on success adds its seconds and peak RSS to
# KEY's lists and sets R="SECONDS KIB"; on failure reports it and sets R=fail.
timed() {
  local key=$1 log=$2 tf="$WORK/time.$RANDOM" rc
  shift 2
  wait_binfmt
  sync
  /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$log" 2>&1
  rc=$?
  if [ "$rc" -ne 0 ]; then
    say "$key failed (rc $rc): $(grep -v '^Command exited' "$log" | tail -3 | tr '\n' ' ')"
    R=fail
    return 1
  fi
  R=$(tail -1 "$tf")
  L[$key]=$log
  T[$key]+="${R% *} " M[$key]+="${R#* } "
  say "$key: ${R% *} s, peak RSS ${R#* } KiB"
}
# add KEY SECONDS [KIB]: records a figure computed from others (e.g. a sum).
add() { T[$1]+="$2 "; [ -n "${3:-}" ] && M[$1]+="$3 "; say "$1: $2 s"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }
# busybox time's "real	0m 1.23s" in LOG, in seconds.
applet_real() {
  sed -nE 's/.*real[[:space:]]+([0-9]+)m ([0-9.]+)s.*/\1 \2/p' "$1" | tail -1 |
    awk 'NF == 2 {print $1 * 60 + $2}'
}

AAB=("$AA" --insecure --progress plain --root)  # then the store directory
# aa_cache: this anyarch has --cache-to/--cache-from (scenario g), else g says n/a.
aa_cache=0
"$AA" build --help 2>/dev/null | grep -q -- '--cache-from' && aa_cache=1

# steps KEY: what the last run of KEY ran, from its log: anyarch's per-platform "N run, M cached"
# summary lines, summed; for buildah and docker the number of "Using cache" lines they printed.
steps() {
  local log=${L[$1]:-}
  [ -f "$log" ] || { echo -; return; }
  case ${1#*/} in
    anyarch) awk '$6 == "run," && $8 == "cached" {r += $5; c += $7; n++} END {if (n) printf "%d run, %d cached", r, c; else print "-"}' "$log" ;;
    *) echo "$(grep -c 'Using cache' "$log") 'Using cache'" ;;
  esac
}

# ---- a, b, c: cold 3-platform build, no-change rebuild, one file changed ---------------------------
chain_abc() {  # TOOL N
  local tool=$1 n=$2 c=$WORK/ctx-app s=$WORK/store-$1 p sum kib ok
  make_ctx "$c" app
  case $tool in
    anyarch)
      rm -rf "$s"
      timed a/anyarch "$WORK/a.$tool.$n.log" "${AAB[@]}" "$s" build --platform "$plats" \
        --build-arg "BASE=$bb" -t bench/app:1 "$c" || { rm -rf "$s"; return; }
      sel b && timed b/anyarch "$WORK/b.$tool.$n.log" "${AAB[@]}" "$s" build --platform "$plats" \
        --build-arg "BASE=$bb" -t bench/app:1 "$c"
      if sel c; then
        echo "changed in run $n" >>"$c/$last_file"
        timed c/anyarch "$WORK/c.$tool.$n.log" "${AAB[@]}" "$s" build --platform "$plats" \
          --build-arg "BASE=$bb" -t bench/app:1 "$c"
      fi
      rm -rf "$s" ;;
    buildah)
      bh_wipe
      timed a/buildah "$WORK/a.$tool.$n.log" "${BUD[@]}" --layers --platform "$plats" \
        --manifest bench-app-a --build-arg "BASE=$bb" "$c" || { bh_wipe; return; }
      sel b && timed b/buildah "$WORK/b.$tool.$n.log" "${BUD[@]}" --layers \
        --platform "$plats" --manifest bench-app-b --build-arg "BASE=$bb" "$c"
      if sel c; then
        echo "changed in run $n" >>"$c/$last_file"
        timed c/buildah "$WORK/c.$tool.$n.log" "${BUD[@]}" --layers \
          --platform "$plats" --manifest bench-app-c --build-arg "BASE=$bb" "$c"
      fi
      bh_wipe ;;
    docker)
      sum=0 ok=1
      for p in linux/amd64 linux/arm/v7 linux/arm64; do
        dk_wipe
        timed "a-$p/docker" "$WORK/a.$tool.$n.$(tr / - <<<"$p").log" "${DKB[@]}" --platform "$p" \
          --build-arg "BASE=$bb" -t bench-app:1 "$c" || { ok=0; break; }
        sum=$(awk -v a="$sum" -v b="${R% *}" 'BEGIN {print a + b}')
      done
      [ "$ok" = 1 ] || return
      add a/docker "$sum"
      sel a1 && add a1/docker "${R% *}"
      sel b && timed b/docker "$WORK/b.$tool.$n.log" "${DKB[@]}" --platform linux/arm64 \
        --build-arg "BASE=$bb" -t bench-app:1 "$c"
      if sel c; then
        echo "changed in run $n" >>"$c/$last_file"
        timed c/docker "$WORK/c.$tool.$n.log" "${DKB[@]}" --platform linux/arm64 \
          --build-arg "BASE=$bb" -t bench-app:1 "$c"
      fi
      dk_wipe ;;
  esac
}

# a1, b1: linux/arm64 alone (anyarch; docker's a1 comes from its a chain, or from here)
chain_a1() {  # TOOL N
  local tool=$1 n=$2 c=$WORK/ctx-app s=$WORK/store-$1
  make_ctx "$c" app
  case $tool in
    anyarch)
      rm -rf "$s"
      timed a1/anyarch "$WORK/a1.$tool.$n.log" "${AAB[@]}" "$s" build --platform linux/arm64 \
        --build-arg "BASE=$bb" -t bench/app:1 "$c" || { rm -rf "$s"; return; }
      sel b1 && timed b1/anyarch "$WORK/b1.$tool.$n.log" "${AAB[@]}" "$s" build --platform linux/arm64 \
        --build-arg "BASE=$bb" -t bench/app:1 "$c"
      rm -rf "$s" ;;
    docker)
      dk_wipe
      if ! sel a; then
        timed a1/docker "$WORK/a1.$tool.$n.log" "${DKB[@]}" --platform linux/arm64 \
          --build-arg "BASE=$bb" -t bench-app:1 "$c" || return
      else
        "${DKB[@]}" --platform linux/arm64 --build-arg "BASE=$bb" -t bench-app:1 "$c" \
          >"$WORK/a1.$tool.$n.log" 2>&1 || return
      fi
      sel b1 && timed b1/docker "$WORK/b1.$tool.$n.log" "${DKB[@]}" --platform linux/arm64 \
        --build-arg "BASE=$bb" -t bench-app:1 "$c"
      dk_wipe ;;
  esac
}

# ---- d: layer commit throughput --------------------------------------------------------------------
run_d() {  # TOOL N
  local tool=$1 n=$2 kind c s=$WORK/store-$1
  for kind in ddrop dkeep; do
    c=$WORK/ctx-$kind
    make_ctx "$c" "$kind"
    case $tool in
      anyarch)
        rm -rf "$s"
        timed "$kind/anyarch" "$WORK/$kind.$tool.$n.log" "${AAB[@]}" "$s" build --platform linux/amd64 \
          --build-arg "BASE=$bb" -t bench/d:1 "$c"
        rm -rf "$s" ;;
      buildah)
        bh_wipe
        timed "$kind/buildah" "$WORK/$kind.$tool.$n.log" "${BUD[@]}" \
          --platform linux/amd64 --build-arg "BASE=$bb" -t bench-d "$c"
        bh_wipe ;;
      docker)
        dk_wipe
        timed "$kind/docker" "$WORK/$kind.$tool.$n.log" "${DKB[@]}" --platform linux/amd64 \
          --build-arg "BASE=$bb" -t bench-d:1 "$c"
        dk_wipe ;;
    esac
  done
}

# ---- e: emulated RUN overhead ----------------------------------------------------------------------
rootfs=$WORK/rootfs-arm64
make_rootfs() {
  local L m d
  L=$(busybox_layout)
  m=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' \
    "$L/blobs/sha256/$(jq -r '.manifests[0].digest' "$L/index.json" | cut -d: -f2)" | cut -d: -f2)
  mkdir -p "$rootfs"
  for d in $(jq -r '.layers[].digest' "$L/blobs/sha256/$m" | cut -d: -f2); do
    tar -xzf "$L/blobs/sha256/$d" -C "$rootfs" || return 1
  done
  cp /usr/bin/qemu-aarch64-static "$rootfs/qemu-aarch64-static"
}
run_e() {  # TOOL N
  local tool=$1 n=$2 c=$WORK/ctx-e s=$WORK/store-$1 log=$WORK/e.$1.$2.log
  make_ctx "$c" e
  case $tool in
    bare)
      timed e/bare "$log" chroot "$rootfs" /qemu-aarch64-static /bin/sh -c "time sh -c '$e_cmd'" ;;
    anyarch)
      rm -rf "$s"
      timed e/anyarch "$log" "${AAB[@]}" "$s" build --no-cache --platform linux/arm64 \
        --build-arg "BASE=$bb" -t bench/e:1 "$c"
      rm -rf "$s" ;;
    buildah)
      bh_wipe
      timed e/buildah "$log" "${BUD[@]}" --platform linux/arm64 \
        --build-arg "BASE=$bb" -t bench-e "$c"
      bh_wipe ;;
    docker)
      dk_wipe
      timed e/docker "$log" "${DKB[@]}" --no-cache --platform linux/arm64 --build-arg "BASE=$bb" \
        -t bench-e:1 "$c"
      dk_wipe ;;
  esac
  if [ "$R" != fail ]; then
    local real
    real=$(applet_real "$log")
    if [ -n "$real" ]; then F[e/$tool]+="$real "; else say "e/$tool: no 'real' line in its output"; fi
  fi
}

# ---- f: cold build, then push to a fresh loopback registry -----------------------------------------
run_f() {  # TOOL N
  local tool=$1 n=$2 c=$WORK/ctx-app s=$WORK/store-$1 base
  start_plain_registry FREG
  base=$(push_busybox "$FREG")
  make_ctx "$c" app
  case $tool in
    anyarch)
      rm -rf "$s"
      timed f/anyarch "$WORK/f.$tool.$n.log" "${AAB[@]}" "$s" build --platform "$plats" \
        --build-arg "BASE=$base" -t "$FREG/bench/app:1" --push "$c"
      rm -rf "$s" ;;
    buildah)
      bh_wipe
      timed f/buildah "$WORK/f.$tool.$n.log" bash "$WORK/then.sh" "${BUD[@]}" --layers \
        --platform "$plats" --manifest bench-app-f --build-arg "BASE=$base" "$c" ';;' \
        "${BH[@]}" manifest push --all --tls-verify=false bench-app-f "docker://$FREG/bench/app:1"
      bh_wipe ;;
    docker)
      dk_wipe
      timed f/docker "$WORK/f.$tool.$n.log" bash "$WORK/then.sh" "${DKB[@]}" --platform linux/arm64 \
        --build-arg "BASE=$base" -t "$FREG/bench/app:1" "$c" ';;' $DOCKER push "$FREG/bench/app:1"
      dk_wipe ;;
  esac
  stop_registry FREG
}

# ---- g: fresh store, --cache-from type=registry ----------------------------------------------------
run_g() {  # TOOL N
  local tool=$1 n=$2 c=$WORK/ctx-app s=$WORK/store-$1
  if [ "$tool" = anyarch ] && [ "$aa_cache" = 1 ]; then
    start_plain_registry GREG
    make_ctx "$c" app
    rm -rf "$s"
    timed gseed/anyarch "$WORK/gseed.$tool.$n.log" "${AAB[@]}" "$s" build --platform "$plats" \
      --build-arg "BASE=$bb" -t bench/app:1 --cache-to "type=registry,ref=$GREG/bench/cache,mode=max" "$c"
    rm -rf "$s"
    [ "$R" != fail ] && timed g/anyarch "$WORK/g.$tool.$n.log" "${AAB[@]}" "$s" build \
      --platform "$plats" --build-arg "BASE=$bb" -t bench/app:1 \
      --cache-from "type=registry,ref=$GREG/bench/cache" "$c"
    rm -rf "$s"
    stop_registry GREG
    return
  fi
  [ "$tool" = buildah ] || return
  start_plain_registry GREG
  make_ctx "$c" app
  bh_wipe
  timed gseed/buildah "$WORK/gseed.$tool.$n.log" "${BUD[@]}" --layers \
    --platform "$plats" --manifest bench-app-g --build-arg "BASE=$bb" \
    --cache-to "$GREG/bench/cache" "$c"
  bh_wipe
  if [ "$R" != fail ]; then
    timed g/buildah "$WORK/g.$tool.$n.log" "${BUD[@]}" --layers \
      --platform "$plats" --manifest bench-app-g --build-arg "BASE=$bb" \
      --cache-from "$GREG/bench/cache" "$c"
  fi
  bh_wipe
  stop_registry GREG
}

# ---- Run: the tools take turns, run by run -----------------------------------------------------------
avail=()
for t in $tools; do
  case $t in
    buildah) [ "$bh_driver" != - ] && avail+=(buildah) ;;
    docker) [ -n "$DOCKER" ] && avail+=(docker) ;;
    anyarch) avail+=(anyarch) ;;
  esac
done
say "tools: ${avail[*]} (buildah storage $bh_driver, docker storage $dk_driver), $runs run(s)"
for ((i = 1; i <= runs; i++)); do
  if sel a b c; then for t in "${avail[@]}"; do chain_abc "$t" "$i"; done; fi
  if sel a1 b1; then
    for t in "${avail[@]}"; do
      [ "$t" = anyarch ] && chain_a1 anyarch "$i"
      [ "$t" = docker ] && ! sel a && chain_a1 docker "$i"
      [ "$t" = docker ] && sel b1 && ! sel b && chain_a1 docker "$i"
    done
  fi
  if sel d; then for t in "${avail[@]}"; do run_d "$t" "$i"; done; fi
  if sel e; then
    [ -d "$rootfs" ] || make_rootfs || say "could not unpack the arm64 rootfs"
    for t in bare "${avail[@]}"; do run_e "$t" "$i"; done
  fi
  if sel f; then for t in "${avail[@]}"; do run_f "$t" "$i"; done; fi
  if sel g; then for t in "${avail[@]}"; do run_g "$t" "$i"; done; fi
done
# docker's b1 is its b (a no-change rebuild of linux/arm64 after building it), when b ran.
sel b1 && sel b && [ -n "${T[b/docker]:-}" ] && T[b1/docker]=${T[b/docker]}

# ---- Table ------------------------------------------------------------------------------------------
med() { [ -n "${T[$1]:-}" ] && median ${T[$1]}; }
# partial KEY...: " (median of K of N runs)" when a run of KEY failed (the fewest of the KEYs).
partial() {
  local k n=$runs w
  for k in "$@"; do w=$(wc -w <<<"${T[$k]:-}"); ((w < n)) && n=$w; done
  ((n < runs)) && printf ' (median of %d of %d runs)' "$n" "$runs"
}
tool_label() {
  case $1 in
    anyarch) echo anyarch ;;
    buildah) echo "buildah $BH_VERSION ($bh_driver)" ;;
    docker) echo "docker $DK_VERSION classic ($dk_driver)" ;;
    bare) echo "bare qemu-aarch64-static" ;;
  esac
}
row() {  # SCENARIO TOOL SECONDS RSS_KIB FIGURE NOTE
  printf '| %-30s | %-31s | %7s | %7s | %17s | %s |\n' "$1" "$(tool_label "$2")" "$3" "$4" "$5" "$6"
}
rss_of() { [ "$1" = docker ] && { echo -; return; }; [ -n "${M[$2]:-}" ] && awk -v k="$(maxof ${M[$2]})" 'BEGIN {printf "%.1f", k / 1024}' || echo -; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b == 0) print "-"; else printf "%.2fx", a / b}'; }
declare -A label=(
  [a]="(a) cold build, 3 platforms" [b]="(b) no-change rebuild" [c]="(c) one copied file changed"
  [a1]="(a1) cold build, linux/arm64" [b1]="(b1) no-change rebuild, arm64"
  [d]="(d) layer commit, $d_mib MiB" [e]="(e) emulated RUN, arm64" [f]="(f) cold build + push"
  [g]="(g) fresh store, --cache-from")
echo
printf 'anyarch build benchmark, %s, %d core(s), median of %d run(s); context %d files (%d KiB); RUN work seq %d\n' \
  "$(date -u +%Y-%m-%d)" "$ncpu" "$runs" "$nfiles" $((ctx_bytes >> 10)) "$nseq"
printf '| %-30s | %-31s | %7s | %7s | %17s | %s |\n' scenario tool seconds "RSS MiB" figure note
printf '|---|---|---|---|---|---|\n'
ratios=()
for sc in a b c a1 b1 d e f g; do
  sel "$sc" || continue
  case $sc in
    d)
      declare -A tput=()
      for t in "${avail[@]}"; do
        k=$(med dkeep/$t) e0=$(med ddrop/$t)
        if [ -z "$k" ] || [ -z "$e0" ]; then row "${label[d]}" "$t" failed - - ""; continue; fi
        diff=$(awk -v a="$k" -v b="$e0" 'BEGIN {printf "%.2f", a - b}')
        tput[$t]=$(awk -v m="$d_mib" -v d="$diff" 'BEGIN {if (d > 0) printf "%.1f", m / d; else print "-"}')
        note="keep $k s - drop $e0 s"
        [ "$t" = docker ] && note+="; into its $dk_driver layer store"
        [ "$t" = buildah ] && note+="; uncompressed into containers/storage"
        [ "$t" = anyarch ] && note+="; gzip layer into its store"
        row "${label[d]}" "$t" "$diff" "$(rss_of "$t" dkeep/$t)" "${tput[$t]} MiB/s" "$note$(partial dkeep/$t ddrop/$t)"
      done
      ratios+=("(d) anyarch/buildah throughput: $(ratio "${tput[anyarch]:-}" "${tput[buildah]:-}") (target >= 2x)")
      ;;
    e)
      for t in bare "${avail[@]}"; do
        s=$(med e/$t) fig=
        [ -n "${F[e/$t]:-}" ] && fig=$(printf '%.2f s' "$(median ${F[e/$t]})")
        row "${label[e]}" "$t" "${s:-failed}" "$(rss_of "$t" e/$t)" "${fig:--}" \
          "figure: the command's real time (busybox time)$(partial e/$t)"
      done
      eb=$(median ${F[e/bare]:-}) ea=$(median ${F[e/anyarch]:-}) eh=$(median ${F[e/buildah]:-})
      ratios+=("(e) anyarch RUN / bare qemu: $(ratio "$ea" "$eb") (target <= 1.05x); buildah RUN / bare qemu: $(ratio "$eh" "$eb")")
      ;;
    g)
      if [ "$aa_cache" = 1 ]; then
        row "${label[g]}" anyarch "$(med g/anyarch || echo failed)" "$(rss_of anyarch g/anyarch)" \
          "$(steps g/anyarch)" "seed (cold + --cache-to mode=max): $(med gseed/anyarch) s$(partial g/anyarch gseed/anyarch)"
        ratios+=("(g) anyarch --cache-from / its cold (a): $(ratio "$(med g/anyarch)" "$(med a/anyarch)"), / its seed build: $(ratio "$(med g/anyarch)" "$(med gseed/anyarch)") (target <= 0.3x a cold build)")
      else
        row "${label[g]}" anyarch n/a - - "not implemented (no --cache-to/--cache-from yet)"
      fi
      for t in "${avail[@]}"; do
        case $t in
          buildah)
            row "${label[g]}" buildah "$(med g/buildah || true)" "$(rss_of buildah g/buildah)" "$(steps g/buildah)" \
              "seed (cold + --cache-to): $(med gseed/buildah) s$(partial g/buildah gseed/buildah)"
            ratios+=("(g) buildah --cache-from / its cold (a): $(ratio "$(med g/buildah)" "$(med a/buildah)"), / its seed build: $(ratio "$(med g/buildah)" "$(med gseed/buildah)") (target <= 0.3x a cold build)") ;;
          docker) row "${label[g]}" docker n/a - - "the classic builder has no registry cache import" ;;
        esac
      done
      ;;
    *)
      for t in "${avail[@]}"; do
        [ "$t" = buildah ] && [[ "$sc" == a1 || "$sc" == b1 ]] && continue
        s=$(med "$sc/$t") note=
        [ "$t" = docker ] && case $sc in
          a) note="sum of amd64, arm/v7, arm64, cache wiped before each" ;;
          a1) note="the arm64 build of its (a)" ;;
          b1) note="its (b)" ;;
          b | c) note="linux/arm64 only" ;;
          f) note="linux/arm64 only" ;;
        esac
        [ "$t" = buildah ] && note="--layers"
        fig=-
        [[ "$sc" == [abc] || "$sc" == b1 ]] && fig=$(steps "$sc/$t")
        row "${label[$sc]}" "$t" "${s:-failed}" "$(rss_of "$t" "$sc/$t")" "$fig" "$note$(partial "$sc/$t")"
      done
      case $sc in
        a) ratios+=("(a) anyarch/buildah: $(ratio "$(med a/anyarch)" "$(med a/buildah)") (target <= 0.5x)") ;;
        b) ratios+=("(b) anyarch/buildah: $(ratio "$(med b/anyarch)" "$(med b/buildah)") (target <= 0.1x)") ;;
        c) ratios+=("(c) anyarch/buildah: $(ratio "$(med c/anyarch)" "$(med c/buildah)") (target <= 0.3x)") ;;
        a1) ratios+=("(a1) anyarch/docker classic, arm64: $(ratio "$(med a1/anyarch)" "$(med a1/docker)") (target <= 1x)") ;;
        b1) ratios+=("(b1) anyarch/docker classic, arm64: $(ratio "$(med b1/anyarch)" "$(med b1/docker)") (target <= 1x)") ;;
        f) ratios+=("(f) anyarch/buildah: $(ratio "$(med f/anyarch)" "$(med f/buildah)") (no target)") ;;
      esac
      ;;
  esac
done
echo
printf '%s\n' "${ratios[@]}"
