#!/usr/bin/env bash
# ADD of a URL, against an HTTP server on 127.0.0.1: the file lands 0600, owned by root (or
# --chown), with the server's Last-Modified as its mtime, never unpacked; one download serves
# every platform; --checksum is enforced; an unchanged file is a cache hit and a changed one a
# miss; a 404 and a wrong checksum fail naming the URL (without its credentials) and leave no tag;
# COPY refuses URLs.
source "$(dirname "$0")/lib.sh"

busybox_in_store

# The server: python's http.server sends Last-Modified from each file's mtime; its log counts GETs.
srv="$WORK/srv"
mkdir -p "$srv/files"
printf '#!/bin/sh\necho fetched tool\n' >"$srv/files/tool.sh"
touch -d '2021-03-04 05:06:07 UTC' "$srv/files/tool.sh"
mkdir -p "$WORK/arch/pkg" && echo inside >"$WORK/arch/pkg/a.txt"
tar -C "$WORK/arch" -czf "$srv/files/pkg.tar.gz" pkg
port=$(free_port)
(cd "$srv" && exec python3 -m http.server --bind 127.0.0.1 "$port") >"$WORK/http.log" 2>&1 &
http_pid=$!
on_exit "kill $http_pid 2>/dev/null"
base="http://127.0.0.1:$port/files"
wait_http "$base/"
gets() { grep -c "\"GET /files/$1 " "$WORK/http.log" || true; }

ctx="$WORK/ctx"
mkdir -p "$ctx"
cat >"$ctx/Dockerfile" <<EOF
FROM busybox
ADD $base/tool.sh /opt/
ADD $base/pkg.tar.gz /opt/pkg.tar.gz
ADD --chown=7:8 --chmod=0750 $base/tool.sh /opt/owned
RUN cat /opt/tool.sh > /opt/seen
EOF

# 1. Two platforms, one download per URL.
"$AA" --progress=plain build --platform linux/amd64,linux/arm64 -t addurl:1 \
  --output "type=local,dest=$WORK/out" "$ctx" >"$WORK/b1.log" 2>&1 ||
  fail "build failed: $(tail -20 "$WORK/b1.log")"
for p in linux_amd64 linux_arm64; do
  f="$WORK/out/$p/opt/tool.sh"
  [ -f "$f" ] || fail "$p: /opt/tool.sh missing"
  assert_eq "$(stat -c '%a %u:%g' "$f")" "600 0:0" "$p: ADD of a URL is 0600 root's"
  assert_eq "$(date -u -d "@$(stat -c %Y "$f")" '+%F %T')" "2021-03-04 05:06:07" \
    "$p: the mtime is the server's Last-Modified"
  assert_eq "$(cat "$WORK/out/$p/opt/seen")" "$(cat "$srv/files/tool.sh")" "$p: RUN sees the file"
  cmp -s "$WORK/out/$p/opt/pkg.tar.gz" "$srv/files/pkg.tar.gz" ||
    fail "$p: an archive from a URL must be stored as it is, not unpacked"
  [ ! -e "$WORK/out/$p/opt/pkg" ] || fail "$p: the archive was unpacked"
  assert_eq "$(stat -c '%a %u:%g' "$WORK/out/$p/opt/owned")" "750 7:8" "$p: --chown and --chmod"
done
assert_eq "$(gets tool.sh)" 1 "tool.sh downloaded once for two platforms and two ADDs"
assert_eq "$(gets pkg.tar.gz)" 1 "pkg.tar.gz downloaded once"
pass "ADD of URLs: mode, owner, mtime, not unpacked, one download per build"

# 2. Unchanged content: every step cached. Changed content: the ADD and the RUN after it rerun.
"$AA" --progress=json build --platform linux/amd64 -t addurl:1 "$ctx" >/dev/null 2>"$WORK/b2.json" ||
  fail "rebuild failed: $(tail -5 "$WORK/b2.json")"
ran=$(jq -r 'select(.event=="step_started" and (.instruction|test("^(RUN|ADD)")))' "$WORK/b2.json" | jq -s length)
assert_eq "$ran" 0 "an unchanged download is a cache hit"
printf '#!/bin/sh\necho fetched tool v2\n' >"$srv/files/tool.sh"
"$AA" --progress=json build --platform linux/amd64 -t addurl:2 "$ctx" >/dev/null 2>"$WORK/b3.json" ||
  fail "build after the change failed: $(tail -5 "$WORK/b3.json")"
ran=$(jq -r 'select(.event=="step_started" and (.instruction|test("^RUN")))' "$WORK/b3.json" | jq -s length)
assert_eq "$ran" 1 "a changed download reruns the steps after it"
pass "the download's content is in the cache key"

# 3. --checksum: right passes, wrong fails with both digests and tags nothing.
sum="sha256:$(sha256sum "$srv/files/tool.sh" | cut -d' ' -f1)"
printf 'FROM busybox\nADD --checksum=%s %s/tool.sh /t\n' "$sum" "$base" >"$ctx/Dockerfile"
"$AA" build -q --platform linux/amd64 -t addurl:sum "$ctx" >/dev/null 2>"$WORK/b4.log" ||
  fail "a matching --checksum failed: $(cat "$WORK/b4.log")"
bad="sha256:$(printf '%064d' 0)"
printf 'FROM busybox\nADD --checksum=%s %s/tool.sh /t\n' "$bad" "$base" >"$ctx/Dockerfile"
expect_fail "$AA" build --platform linux/amd64 -t addurl:bad "$ctx"
assert_contains "$ERR" "does not match --checksum" "a wrong checksum is named"
assert_contains "$ERR" "$bad" "the expected digest is shown"
assert_contains "$ERR" "$sum" "the received digest is shown"
assert_contains "$ERR" "Dockerfile:2" "the line is named"
expect_fail "$AA" inspect local:addurl:bad
pass "--checksum is enforced and a failed build tags nothing"

# 4. A 404, through a URL with credentials: the status and URL are named, the password is not.
printf 'FROM busybox\nADD http://someone:hunter2@127.0.0.1:%s/files/missing.txt?sig=s3cr3t /m\n' \
  "$port" >"$ctx/Dockerfile"
expect_fail "$AA" build --platform linux/amd64 -t addurl:missing "$ctx"
assert_contains "$ERR" "HTTP 404" "the status is named"
assert_contains "$ERR" "http://127.0.0.1:$port/files/missing.txt" "the URL is named"
assert_not_contains "$ERR" "hunter2" "no password in the error"
assert_not_contains "$ERR" "s3cr3t" "no query string in the error"
pass "a missing URL fails clearly and shows no credential"

# 5. COPY refuses URLs; unsupported schemes are named.
printf 'FROM busybox\nCOPY %s/tool.sh /t\n' "$base" >"$ctx/Dockerfile"
expect_fail "$AA" build --platform linux/amd64 "$ctx"
assert_contains "$ERR" "use ADD for URLs" "COPY of a URL"
printf 'FROM busybox\nADD ftp://127.0.0.1/x /t\n' >"$ctx/Dockerfile"
expect_fail "$AA" build --platform linux/amd64 "$ctx"
assert_contains "$ERR" "only http:// and https://" "an ftp URL"
pass "COPY of a URL and other schemes are refused by name"
