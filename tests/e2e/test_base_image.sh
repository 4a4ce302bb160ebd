#!/usr/bin/env bash
# The multi-platform busybox base image that other tests build on: eight platforms with the right
# os/architecture/variant, configs whose diff_ids match the layers, a working amd64 shell,
# byte-stable digests, and a registry round trip through skopeo with access-log counting.
source "$(dirname "$0")/lib.sh"

layout=$(busybox_layout)
digest=$(busybox_digest)

# Platforms and per-image consistency, checked from the raw blobs.
python3 - "$layout" <<'PY' || fail "busybox layout content"
import gzip, hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
def blob(d): return open(os.path.join(root, "blobs", *d.split(":")), "rb").read()
top = json.load(open(os.path.join(root, "index.json")))
assert top["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "latest"
idx = json.loads(blob(top["manifests"][0]["digest"]))
got = sorted("/".join(filter(None, [m["platform"]["os"], m["platform"]["architecture"],
             m["platform"].get("variant")])) for m in idx["manifests"])
want = sorted(["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v5", "linux/386",
               "linux/ppc64le", "linux/s390x", "linux/mips64le"])
assert got == want, got
for m in idx["manifests"]:
    raw = blob(m["digest"])
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == m["digest"] and len(raw) == m["size"]
    man = json.loads(raw)
    cfg = json.loads(blob(man["config"]["digest"]))
    for k in ("os", "architecture", "variant"):
        assert cfg.get(k) == m["platform"].get(k), (k, cfg.get(k), m["platform"])
    assert cfg["config"]["Cmd"] == ["sh"] and cfg["config"]["Env"][0].startswith("PATH=")
    assert len(man["layers"]) == 1
    tar = gzip.decompress(blob(man["layers"][0]["digest"]))
    assert cfg["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(tar).hexdigest()]
    names = {t.name: t for t in tarfile.open(fileobj=io.BytesIO(tar))}
    for n in ("bin/busybox", "bin/sh", "bin/ls", "etc/passwd", "etc/group", "tmp", "root"):
        assert n in names, n
    assert names["bin/sh"].issym() and names["bin/sh"].linkname == "busybox"
print("layout ok")
PY
pass "eight platforms, configs and diff_ids consistent"

# The amd64 image's shell works when unpacked.
amd64=$(skopeo inspect --raw "oci:$layout:latest" | python3 -c 'import json,sys
print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["architecture"]=="amd64"][0])')
layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' \
  "$layout/blobs/sha256/${amd64#sha256:}")
mkdir "$WORK/rootfs"
tar -xzf "$layout/blobs/sha256/${layer#sha256:}" -C "$WORK/rootfs"
out=$(cd "$WORK/rootfs" && ./bin/sh -c 'echo hello from $(./bin/uname -m)')
assert_eq "$out" "hello from x86_64" "amd64 busybox shell"
pass "amd64 shell runs"

# Deterministic: a second build from the same inputs gives the same index digest.
again=$(python3 "$SRC/tests/tools/make_base_image.py" busybox --busybox-dir "$CACHE/busybox" --out "$WORK/again")
assert_eq "$again" "$digest" "rebuild digest"
pass "rebuild is byte-identical ($digest)"

# Registry round trip: skopeo pushes the index and serves the same bytes; blob GETs are counted.
start_plain_registry REG
ref=$(busybox_ref "$REG")
assert_eq "$(blob_gets "$REG_LOG")" "0" "blob GETs after a push"
remote=sha256:$(skopeo inspect --tls-verify=false --raw "docker://$ref" | sha256sum | cut -d' ' -f1)
assert_eq "$remote" "$digest" "digest of the pushed index"
skopeo copy -q --src-tls-verify=false --override-arch arm64 "docker://$ref" "oci:$WORK/arm64:x"
n=$(blob_gets "$REG_LOG")
# One image pulled: its config and its one layer.
assert_eq "$n" "2" "blob GETs after pulling one platform"
pass "registry round trip; access log counts $n blob GETs"
