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

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# registry_start NAME [htpasswd-file]: starts Debian's docker-registry on 127.0.0.1 with an
# ephemeral port (plain HTTP; Basic auth when an htpasswd file is given), waits for it, and
# sets REGISTRY_<NAME> to host:port. Its access log is $WORK/registry-NAME.log.
registry_start() {
  local name=$1 htpasswd=${2:-}
  local dir="$WORK/registry-$name" port
  port=$(free_port)
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: {level: info, accesslog: {disabled: false}}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    if [ -n "$htpasswd" ]; then
      echo "auth: {htpasswd: {realm: anyarch-test, path: $htpasswd}}"
    fi
  } >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$WORK/registry-$name.log" 2>&1 &
  local pid=$!
  on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
  for _ in $(seq 1 100); do
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
    if [ "$code" = 200 ] || [ "$code" = 401 ]; then
      printf -v "REGISTRY_$name" '%s' "127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  fail "registry $name did not start: $(tail -5 "$WORK/registry-$name.log")"
}

# push_busybox_index LAYOUT REGISTRY/REPO:TAG [skopeo creds]: copies the busybox index with skopeo.
push_oci() {
  local layout=$1 dest=$2
  shift 2
  skopeo copy -q --all --dest-tls-verify=false "$@" "oci:$layout" "docker://$dest" >/dev/null
}
