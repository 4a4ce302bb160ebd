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

# busybox_in_store: the busybox index in the local store as busybox:latest, where a build's
# FROM busybox finds it (as after `anyarch pull --all-platforms busybox`).
busybox_in_store() {
  "$AA" --progress quiet copy --all "oci:$(busybox_layout):latest" local:busybox:latest >/dev/null ||
    fail "busybox into the local store"
}

# busybox_digest: digest of the busybox index (sha256 of the exact bytes skopeo/anyarch serve).
busybox_digest() {
  echo "sha256:$(skopeo inspect --raw "oci:$(busybox_layout):latest" | sha256sum | cut -d' ' -f1)"
}

# ---- Test registries (owner: integ): plain HTTP, TLS, htpasswd Basic auth, token auth ------------

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

# _registry_config DIR PORT: writes DIR/config.yml, the part every test registry shares: address
# 127.0.0.1:PORT, data in DIR/data, deletes enabled, access log on. Callers append to it (http: is
# the last block, so lines indented by two spaces extend it; unindented ones add top-level keys).
_registry_config() {
  cat >"$1/config.yml" <<YML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $1/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
YML
}

# _serve_registry VAR DIR PORT SCHEME [CURL ARGS...]: runs docker-registry on DIR/config.yml, logs
# in DIR/log, stopped at exit; waits until SCHEME://127.0.0.1:PORT/v2/ answers (any status; curl
# gets the extra args, e.g. --cacert) and sets VAR=127.0.0.1:PORT, VAR_LOG, VAR_DIR.
_serve_registry() {
  local var=$1 dir=$2 port=$3 scheme=$4 pid i
  shift 4
  # docker-registry takes every REGISTRY_* variable as a config override (REGISTRY_AUTH_FILE, the
  # skopeo/buildah auth file, would become auth.file and stop it), so it gets none of them.
  (
    for i in $(compgen -e); do [[ "$i" != REGISTRY_* ]] || unset "$i"; done
    exec docker-registry serve "$dir/config.yml"
  ) >"$dir/log" 2>&1 &
  pid=$!
  on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
  for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null --max-time 1 "$@" "$scheme://127.0.0.1:$port/v2/" && break
    kill -0 "$pid" 2>/dev/null || fail "docker-registry exited: $(tail -n 5 "$dir/log")"
    sleep 0.1
  done
  ((i < 100)) || fail "nothing answers at $scheme://127.0.0.1:$port/v2/: $(tail -n 5 "$dir/log")"
  printf -v "$var" '%s' "127.0.0.1:$port"
  printf -v "${var}_LOG" '%s' "$dir/log"
  printf -v "${var}_DIR" '%s' "$dir"
  printf -v "${var}_PID" '%s' "$pid"
}

# stop_registry VAR: stops a registry started by one of the start_*_registry helpers now (not at
# exit) and deletes its data, e.g. between benchmark runs.
stop_registry() {
  local pid_var="${1}_PID" dir_var="${1}_DIR"
  kill "${!pid_var}" 2>/dev/null || true
  wait "${!pid_var}" 2>/dev/null || true
  rm -rf "${!dir_var}/data"
}

# start_plain_registry VAR: starts docker-registry over plain HTTP on 127.0.0.1 with deletes
# enabled and its access log on; sets VAR=127.0.0.1:PORT, VAR_LOG=its log file, VAR_DIR=its data
# directory. Stopped when the test exits.
start_plain_registry() {
  local dir port
  dir=$(mktemp -d "$WORK/registry.XXXXXX")
  port=$(free_port)
  _registry_config "$dir" "$port"
  _serve_registry "$1" "$dir" "$port" http
}

# test_ca: prints the path of this test's CA certificate ($WORK/tls-ca/ca.crt, EC P-256, valid two
# days), making the CA with openssl on first use. Its key stays in $WORK/tls-ca/private.
test_ca() {
  local d="$WORK/tls-ca"
  if [ ! -f "$d/ca.crt" ]; then
    mkdir -p "$d/private"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=anyarch e2e test CA" -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout "$d/private/ca.key" -out "$d/ca.crt.tmp" 2>"$d/openssl.log" \
      || fail "openssl could not make the test CA: $(cat "$d/openssl.log")"
    mv "$d/ca.crt.tmp" "$d/ca.crt"
  fi
  echo "$d/ca.crt"
}

# start_tls_registry VAR: like start_plain_registry, but serving HTTPS with a certificate for
# IP:127.0.0.1 and DNS:localhost signed by this test's CA (test_ca). Also sets VAR_CA=the CA
# certificate (PEM) and VAR_CERT_DIR=a directory holding only that CA as ca.crt (the layout
# skopeo/buildah --cert-dir and containers' certs.d expect).
start_tls_registry() {
  local var=$1 dir port ca
  ca=$(test_ca)
  dir=$(mktemp -d "$WORK/registry.XXXXXX")
  port=$(free_port)
  printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' >"$dir/server.ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>"$dir/openssl.log" \
    || fail "openssl could not make the registry key: $(cat "$dir/openssl.log")"
  openssl x509 -req -in "$dir/server.csr" -CA "$ca" -CAkey "${ca%/*}/private/ca.key" -days 2 \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$dir/server.ext" -out "$dir/server.crt" \
    2>"$dir/openssl.log" || fail "openssl could not sign the server cert: $(cat "$dir/openssl.log")"
  mkdir "$dir/certs.d"
  cp "$ca" "$dir/certs.d/ca.crt"
  _registry_config "$dir" "$port"
  cat >>"$dir/config.yml" <<YML
  tls:
    certificate: $dir/server.crt
    key: $dir/server.key
YML
  _serve_registry "$var" "$dir" "$port" https --cacert "$ca"
  printf -v "${var}_CA" '%s' "$ca"
  printf -v "${var}_CERT_DIR" '%s' "$dir/certs.d"
}

# start_basic_registry VAR USER PASSWORD: like start_plain_registry (plain HTTP on 127.0.0.1), with
# htpasswd Basic auth (bcrypt, htpasswd -B) for that one user, realm "anyarch-test".
start_basic_registry() {
  local var=$1 dir port
  dir=$(mktemp -d "$WORK/registry.XXXXXX")
  port=$(free_port)
  htpasswd -Bbn "$2" "$3" >"$dir/htpasswd" 2>"$dir/htpasswd.log" \
    || fail "htpasswd failed: $(cat "$dir/htpasswd.log")"
  _registry_config "$dir" "$port"
  cat >>"$dir/config.yml" <<YML
auth:
  htpasswd:
    realm: anyarch-test
    path: $dir/htpasswd
YML
  _serve_registry "$var" "$dir" "$port" http
}

# start_token_registry VAR USER PASSWORD [TOKEN SERVER ARGS...]: like start_plain_registry (plain
# HTTP on 127.0.0.1), with token auth: tests/tools/token_server.py on another ephemeral port issues
# RS256 JWTs (x5c = its self-signed signing certificate, the registry's rootcertbundle) granting
# USER everything asked; anonymous clients get tokens with no access; a wrong password gets 401.
# Extra args go to the token server (e.g. --expires-in 2 --exp-offset -60). Service
# "anyarch-test-registry", issuer "anyarch-test-token-server". Also sets VAR_REALM=the token URL
# (http://127.0.0.1:TPORT/token) and VAR_TOKEN_LOG=the token server's log (one line per request,
# never a password).
start_token_registry() {
  local var=$1 user=$2 password=$3 dir port tpid i
  shift 3
  dir=$(mktemp -d "$WORK/registry.XXXXXX")
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=anyarch-test-token-signer \
    -keyout "$dir/token.key" -out "$dir/token.crt" 2>"$dir/openssl.log" \
    || fail "openssl could not make the token signing key: $(cat "$dir/openssl.log")"
  (umask 077 && printf '%s\n' "$password" >"$dir/token.password")
  # Debian's interpreter: python3-cryptography is installed for it (a python3 earlier in PATH, such
  # as a pyenv one, may not have it).
  /usr/bin/python3 "$SRC/tests/tools/token_server.py" --key "$dir/token.key" \
    --cert "$dir/token.crt" --issuer anyarch-test-token-server --service anyarch-test-registry \
    --user "$user" --password-file "$dir/token.password" --port-file "$dir/token.port" "$@" \
    >/dev/null 2>"$dir/token.log" &
  tpid=$!
  on_exit "kill $tpid; wait $tpid 2>/dev/null"
  for ((i = 0; i < 100; i++)); do
    [ -s "$dir/token.port" ] && break
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$dir/token.port" ] || fail "token server did not start: $(cat "$dir/token.log")"
  port=$(free_port)
  _registry_config "$dir" "$port"
  cat >>"$dir/config.yml" <<YML
auth:
  token:
    realm: http://127.0.0.1:$(cat "$dir/token.port")/token
    service: anyarch-test-registry
    issuer: anyarch-test-token-server
    rootcertbundle: $dir/token.crt
YML
  _serve_registry "$var" "$dir" "$port" http
  printf -v "${var}_REALM" '%s' "http://127.0.0.1:$(cat "$dir/token.port")/token"
  printf -v "${var}_TOKEN_LOG" '%s' "$dir/token.log"
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
  # grep finds nothing -> status 1, which pipefail would turn into a failed test: 0 is an answer.
  { grep -E "^[^ ]+ [^ ]+ [^ ]+ \[[^]]*\] \"$2 $3[^\"]* HTTP/[0-9.]+\"" "$1" || true; } | wc -l | tr -d ' '
}

# layer_downloads LOGFILE: blob GETs that returned more than 4 KiB (layers: the test images'
# configs are a few hundred bytes, their layers hundreds of KiB), for "no layer download" checks
# of operations that may read configs.
layer_downloads() {
  { grep -E '"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]{64} HTTP/[0-9.]+" (200|206) [0-9]+' "$1" || true; } |
    sed -E 's/.*HTTP\/[0-9.]+" (200|206) ([0-9]+).*/\2/' | awk '$1 > 4096 {n++} END {print n + 0}'
}

# blob_gets LOGFILE: number of blob GETs (layer or config downloads) the registry has served.
blob_gets() { access_log_count "$1" GET '/v2/[^ ]*/blobs/sha256:'; }

# start_faultproxy VAR UPSTREAM [FAULT ARGS...]: starts tests/e2e/faultproxy.py in front of
# UPSTREAM (127.0.0.1:PORT) with the given fault rules (--status REGEX:CODE:N, --drop REGEX:N,
# --tamper REGEX:N, --bloat REGEX:N, --slow REGEX:RATE:N, --retry-after S); sets VAR=127.0.0.1:PROXYPORT and VAR_LOG
# (one line per request, "METHOD PATH -> STATUS [fault]"). Stopped when the test exits.
start_faultproxy() {
  local var=$1 up=$2 pid pf log i
  shift 2
  pf=$(mktemp "$WORK/faultproxy.port.XXXXXX")
  rm -f "$pf"
  log="$pf.log"
  python3 "$SRC/tests/e2e/faultproxy.py" --upstream "$up" --port-file "$pf" "$@" >/dev/null 2>"$log" &
  pid=$!
  on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
  for ((i = 0; i < 100; i++)); do [ -s "$pf" ] && break; sleep 0.05; done
  [ -s "$pf" ] || fail "faultproxy did not start: $(cat "$log")"
  printf -v "$var" '%s' "127.0.0.1:$(cat "$pf")"
  printf -v "${var}_LOG" '%s' "$log"
}

# ---- A Docker engine for format checks ------------------------------------------------------------

# start_dockerd VAR: starts Debian's dockerd (package docker.io) on a private socket in $WORK, with
# vfs storage and no networking of its own (no bridge, no iptables), so `docker load`, `docker save`
# and `docker run --network none` can check anyarch's archives. Sets VAR to the docker command
# ("/usr/bin/docker -H unix://..."). Stopped when the test exits.
start_dockerd() {
  local var=$1 dir i
  [ -x /usr/sbin/dockerd ] || fail "dockerd is missing (scripts/install-deps.sh installs docker.io)"
  dir=$(mktemp -d "$WORK/dockerd.XXXXXX")
  /usr/sbin/dockerd --host "unix://$dir/docker.sock" --data-root "$dir/root" --exec-root "$dir/exec" \
    --pidfile "$dir/docker.pid" --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    --storage-driver vfs >"$dir/log" 2>&1 &
  local pid=$!
  on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
  for ((i = 0; i < 300; i++)); do
    /usr/bin/docker -H "unix://$dir/docker.sock" version >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || fail "dockerd exited: $(tail -n 5 "$dir/log")"
    sleep 0.1
  done
  ((i < 300)) || fail "dockerd did not start: $(tail -n 5 "$dir/log")"
  printf -v "$var" '%s' "/usr/bin/docker -H unix://$dir/docker.sock"
}

# The build corpus (tests/build-corpus): corpus_conf CASE KEY prints the value of KEY in the
# case's case.conf (or nothing); corpus_order sets the array `order` to the cases of
# $ANYARCH_CORPUS_CASES (default: all), each after its parent (case.conf parent=NAME).
CORPUS="$SRC/tests/build-corpus"
corpus_conf() {
  [ -f "$CORPUS/$1/case.conf" ] || return 0
  sed -n "s/^$2=//p" "$CORPUS/$1/case.conf" | head -n 1
}
_corpus_add() {
  local c=$1 p
  [[ " ${order[*]} " == *" $c "* ]] && return 0
  [ -f "$CORPUS/$c/Dockerfile" ] || fail "no corpus case $c"
  p=$(corpus_conf "$c" parent)
  [ -z "$p" ] || _corpus_add "$p"
  order+=("$c")
}
corpus_order() {
  local all c
  mapfile -t all < <(cd "$CORPUS" && for d in */; do [ -f "$d/Dockerfile" ] && echo "${d%/}"; done)
  order=()
  for c in ${ANYARCH_CORPUS_CASES:-${all[*]}}; do _corpus_add "$c"; done
  corpus_all=("${all[@]}")
}
