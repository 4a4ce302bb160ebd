#!/usr/bin/env bash
# The registries config ($XDG_CONFIG_HOME/anyarch/config.toml, buildkitd.toml's [registry] tables)
# against real registries: a TLS registry with the test's own CA is refused until its CA is
# configured (or --insecure is given); mirrors serve pulls first and the registry serves what a
# mirror lacks; a malformed file is an error that names the line; buildkitd.toml's other sections
# are accepted with a warning.
source "$(dirname "$0")/lib.sh"
layout=$(busybox_layout)
digest=$(busybox_digest)
cfg="$XDG_CONFIG_HOME/anyarch/config.toml"
mkdir -p "${cfg%/*}"

# --- TLS: verified by default, even on loopback ---------------------------------------------
start_tls_registry TLS
expect_fail "$AA" copy --all "oci:$layout:latest" "$TLS/app:1"
assert_contains "$ERR" "not trusted" "an unknown CA is refused"
assert_contains "$ERR" "ca = [" "the error says how to trust it"
[ "$(grep -c 'PUT /v2/' "$TLS_LOG" || true)" = 0 ] || fail "something was uploaded to an untrusted registry"
cat >"$cfg" <<TOML
# buildkitd.toml sections anyarch does not use are ignored.
debug = true
[worker.oci]
  enabled = true

[registry."$TLS"]
  ca = ["$TLS_CA"]
TOML
out=$("$AA" --progress quiet copy --all "oci:$layout:latest" "$TLS/app:1" 2>"$WORK/warn")
assert_contains "$out" "$digest" "push over verified TLS"
assert_contains "$(cat "$WORK/warn")" "worker" "ignored sections are mentioned"
skopeo inspect --cert-dir "$TLS_CERT_DIR" --raw "docker://$TLS/app:1" >/dev/null || fail "skopeo cannot read it"
# --insecure trusts any certificate, for one command.
rm -f "$cfg"
"$AA" --insecure inspect "$TLS/app:1" >/dev/null || fail "--insecure"
# ... and so does insecure = true in the config.
printf '[registry."%s"]\ninsecure = true\n' "$TLS" >"$cfg"
"$AA" inspect "$TLS/app:1" >/dev/null || fail "insecure = true"
pass "TLS with the test CA: refused, trusted through ca = [...], --insecure, insecure = true"

# --- malformed config: the line and column --------------------------------------------------
printf '[registry."%s"]\nhttp = yes\n' "$TLS" >"$cfg"
expect_fail "$AA" inspect "$TLS/app:1"
assert_contains "$ERR" "config.toml:2:" "the error names the line"
printf '[registry."%s"]\nmirrors = "not-a-list-of-hosts"\nca = 3\n' "$TLS" >"$cfg"
expect_fail "$AA" inspect "$TLS/app:1"
assert_contains "$ERR" "ca must be an array of strings" "the error names the key"
pass "malformed config files are errors naming the place"

# --- mirrors: pulls go to the mirror first, then to the registry ------------------------------
start_plain_registry UP
start_plain_registry MIRROR
push_busybox "$MIRROR" app:1 >/dev/null   # only the mirror has app:1
push_busybox "$UP" app:2 >/dev/null       # only the registry has app:2
printf '[registry."%s"]\nmirrors = ["%s"]\n' "$UP" "$MIRROR" >"$cfg"
up_before=$(grep -c 'GET /v2/app/' "$UP_LOG" || true)
out=$("$AA" --progress quiet copy --all "$UP/app:1" "oci:$WORK/from-mirror:1")
assert_contains "$out" "$digest" "the mirror served app:1"
assert_eq "$(grep -c 'GET /v2/app/' "$UP_LOG" || true)" "$up_before" "the registry was not asked for app:1"
[ "$(blob_gets "$MIRROR_LOG")" -gt 0 ] || fail "the mirror served no blob"
out=$("$AA" --progress quiet copy --all "$UP/app:2" "oci:$WORK/from-up:2" 2>"$WORK/warn")
assert_contains "$out" "$digest" "the registry served what the mirror lacks"
assert_contains "$(cat "$WORK/warn")" "mirror $MIRROR" "the fallback is reported"
# Pushes never go to a mirror.
"$AA" --progress quiet copy --all "oci:$layout:latest" "$UP/pushed:1" >/dev/null
assert_eq "$(grep -c 'PUT /v2/pushed/' "$MIRROR_LOG" || true)" 0 "no push to the mirror"
pass "mirrors: tried first for pulls, the registry for the rest, never for pushes"

# --- chunked uploads: chunk_size in the config, or --chunk-size -------------------------------
printf '[registry."%s"]\nchunk_size = 65536\n' "$UP" >"$cfg"
"$AA" --progress quiet copy --all "oci:$layout:latest" "$UP/chunked:1" >/dev/null
patches=$(access_log_count "$UP_LOG" PATCH '/v2/chunked/blobs/uploads/')
[ "$patches" -gt 16 ] || fail "expected many PATCH requests for 64 KiB chunks, got $patches"
rm -f "$cfg"
"$AA" --progress quiet copy --all --chunk-size 256KiB "oci:$layout:latest" "$UP/chunked2:1" >/dev/null
[ "$(access_log_count "$UP_LOG" PATCH '/v2/chunked2/blobs/uploads/')" -gt 0 ] || fail "--chunk-size"
assert_eq "$(skopeo inspect --tls-verify=false --raw "docker://$UP/chunked:1" | sha256sum | cut -d' ' -f1)" \
  "${digest#sha256:}" "chunked push has the same digest"
skopeo copy -q --src-tls-verify=false --override-arch arm64 "docker://$UP/chunked:1" "oci:$WORK/chunked-back:x" \
  || fail "skopeo cannot pull the chunked upload"
pass "chunked uploads ($patches PATCH requests) give the same index, readable by skopeo"
