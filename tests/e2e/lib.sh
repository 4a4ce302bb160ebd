# Shared helpers for the end-to-end tests. Source it first:
#   source "$(dirname "$0")/lib.sh"
# Gives: $AA (the anyarch binary), $CACHE, $WORK (a private temp dir removed on exit, with its own
# store in $WORK/store through ANYARCH_ROOT), fail/assert helpers, and cleanup hooks.
set -euo pipefail

AA=${ANYARCH_BIN:?ANYARCH_BIN must point at the anyarch binary}
SRC=${ANYARCH_SOURCE_DIR:?ANYARCH_SOURCE_DIR must point at the source tree}
CACHE=${ANYARCH_CACHE:-$SRC/cache}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/anyarch-e2e.XXXXXX")
export ANYARCH_ROOT=$WORK/store
export DOCKER_CONFIG=$WORK/docker-config
export XDG_CONFIG_HOME=$WORK/xdg-config
mkdir -p "$DOCKER_CONFIG" "$XDG_CONFIG_HOME"

_cleanup_hooks=()
# on_exit CMD...: runs CMD when the test ends, last registered first.
on_exit() { _cleanup_hooks+=("$*"); }
_run_cleanup() {
  local i
  for ((i = ${#_cleanup_hooks[@]} - 1; i >= 0; i--)); do eval "${_cleanup_hooks[$i]}" || true; done
  rm -rf "$WORK"
}
trap _run_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# assert_eq GOT WANT MESSAGE
assert_eq() { [ "$1" == "$2" ] || fail "$3: got '$1', want '$2'"; }
# assert_contains HAYSTACK NEEDLE MESSAGE
assert_contains() { [[ "$1" == *"$2"* ]] || fail "$3: '$2' not found in: $1"; }
# assert_not_contains HAYSTACK NEEDLE MESSAGE
assert_not_contains() { [[ "$1" != *"$2"* ]] || fail "$3: '$2' unexpectedly found in: $1"; }

# expect_fail CMD...: runs CMD, which must exit non-zero; its stderr is left in $ERR, stdout in $OUT.
expect_fail() {
  set +e
  OUT=$("$@" 2>"$WORK/.stderr")
  local rc=$?
  set -e
  ERR=$(cat "$WORK/.stderr")
  [ "$rc" -ne 0 ] || fail "expected failure from: $*"
  RC=$rc
}

# busybox_bin DEBARCH: path of Debian's busybox-static binary for that architecture.
busybox_bin() {
  local p="$CACHE/busybox/$1/busybox"
  [ -x "$p" ] || fail "missing $p (run tests/setup.sh)"
  echo "$p"
}

# ---- Base images (owner: integ) ------------------------------------------------------------------
# The multi-platform busybox image: an OCI layout at $CACHE/base-images/busybox holding one image
# index tagged "latest" with eight platforms (linux/amd64, arm64, arm/v7, arm/v5, 386, ppc64le,
# s390x, mips64le), built by tests/setup.d/30-base-images.sh with tests/tools/make_base_image.py.

# busybox_layout: path of the busybox OCI layout (transport form: oci:$(busybox_layout):latest).
busybox_layout() {
  local p="$CACHE/base-images/busybox"
  [ -f "$p/index.json" ] || fail "missing $p (run tests/setup.sh)"
  echo "$p"
}

# busybox_digest: digest of the busybox index (sha256 of the exact bytes skopeo/anyarch serve).
busybox_digest() {
  echo "sha256:$(skopeo inspect --raw "oci:$(busybox_layout):latest" | sha256sum | cut -d' ' -f1)"
}

# ---- Test registries (owner: integ; TLS/auth starters belong in registry.sh) ----------------------

# free_port: prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL [TRIES]: waits until URL answers (any HTTP status); fails after TRIES*0.1 s.
wait_http() {
  local i
  for ((i = 0; i < ${2:-100}; i++)); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  fail "nothing answers at $1"
}

# start_plain_registry VAR: starts docker-registry over plain HTTP on 127.0.0.1 with deletes
# enabled and its access log on; sets VAR=127.0.0.1:PORT, VAR_LOG=its log file, VAR_DIR=its data
# directory. Stopped when the test exits.
start_plain_registry() {
  local var=$1 dir port pid
  dir=$(mktemp -d "$WORK/registry.XXXXXX")
  port=$(free_port)
  cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  pid=$!
  on_exit "kill $pid; wait $pid 2>/dev/null"
  wait_http "http://127.0.0.1:$port/v2/"
  printf -v "$var" '%s' "127.0.0.1:$port"
  printf -v "${var}_LOG" '%s' "$dir/log"
  printf -v "${var}_DIR" '%s' "$dir"
}

# push_busybox HOST:PORT [REPO[:TAG]]: copies the whole busybox index (all platforms) into a
# plain-HTTP registry with skopeo; default busybox:latest. Prints the reference.
push_busybox() {
  local dest="$1/${2:-busybox:latest}"
  skopeo copy -q --all --dest-tls-verify=false "oci:$(busybox_layout):latest" "docker://$dest" >&2 \
    || fail "skopeo could not push busybox to $dest"
  echo "$dest"
}

# busybox_ref HOST:PORT: pushes busybox (once per registry) and prints HOST:PORT/busybox:latest.
busybox_ref() { push_busybox "$1" busybox:latest; }

# access_log_count LOGFILE METHOD PATH_REGEX: counts access-log lines (combined log format, as
# docker-registry writes with log.accesslog) whose method is METHOD and path matches PATH_REGEX
# (an extended regex matched against the path, e.g. '/v2/[^ ]*/blobs/sha256:').
access_log_count() {
  grep -E "^[^ ]+ [^ ]+ [^ ]+ \[[^]]*\] \"$2 $3[^\"]* HTTP/[0-9.]+\"" "$1" | wc -l | tr -d ' '
}

# blob_gets LOGFILE: number of blob GETs (layer or config downloads) the registry has served.
blob_gets() { access_log_count "$1" GET '/v2/[^ ]*/blobs/sha256:'; }

# start_faultproxy VAR UPSTREAM [FAULT ARGS...]: starts tests/e2e/faultproxy.py in front of
# UPSTREAM (127.0.0.1:PORT) with the given fault rules (--status REGEX:CODE:N, --drop REGEX:N,
# --tamper REGEX:N, --retry-after S); sets VAR=127.0.0.1:PROXYPORT and VAR_LOG (one line per
# request, "METHOD PATH -> STATUS [fault]"). Stopped when the test exits.
start_faultproxy() {
  local var=$1 up=$2 pid pf log i
  shift 2
  pf=$(mktemp "$WORK/faultproxy.port.XXXXXX")
  rm -f "$pf"
  log="$pf.log"
  python3 "$SRC/tests/e2e/faultproxy.py" --upstream "$up" --port-file "$pf" "$@" >/dev/null 2>"$log" &
  pid=$!
  on_exit "kill $pid; wait $pid 2>/dev/null"
  for ((i = 0; i < 100; i++)); do [ -s "$pf" ] && break; sleep 0.05; done
  [ -s "$pf" ] || fail "faultproxy did not start: $(cat "$log")"
  printf -v "$var" '%s' "127.0.0.1:$(cat "$pf")"
  printf -v "${var}_LOG" '%s' "$log"
}
