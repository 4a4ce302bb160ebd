#!/usr/bin/env python3
"""Writes deterministic multi-platform OCI image layouts for the tests, the demo and the benchmark.

Output follows the OCI image-layout spec (oci-layout, index.json, blobs/sha256/<hex>): one image
index tagged by the "org.opencontainers.image.ref.name" annotation in index.json, whose children
are one image manifest per platform. Traps handled:
- Digests must be stable from run to run, so tar entries are sorted, owned by 0:0 with empty user
  and group names, carry a fixed mtime, and the gzip header has mtime 0 and no file name.
- rootfs.diff_ids are the sha256 of the *uncompressed* tar, not of the gzip blob.
- `busybox --install` cannot run for a foreign architecture at build time, so the applet symlinks
  are written here.
- Blobs are written to a temporary name and renamed, and index.json last, so a reader never sees a
  layout that names a missing blob.

Modes:
  busybox  one layer per platform with bin/busybox (Debian's busybox-static), applet symlinks and
           a minimal /etc/passwd, /etc/group, /tmp, /root.
  random   incompressible, deterministically generated layers (for the copy benchmark).
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

FIXED_MTIME = 946684800  # 2000-01-01T00:00:00Z
FIXED_CREATED = "2000-01-01T00:00:00Z"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Debian architecture -> (os, architecture, variant)
PLATFORMS = [
    ("amd64", ("linux", "amd64", None)),
    ("arm64", ("linux", "arm64", None)),
    ("armhf", ("linux", "arm", "v7")),
    ("armel", ("linux", "arm", "v5")),
    ("i386", ("linux", "386", None)),
    ("ppc64el", ("linux", "ppc64le", None)),
    ("s390x", ("linux", "s390x", None)),
    ("mips64el", ("linux", "mips64le", None)),
]

APPLETS = sorted(set("""
sh ash uname ls cat echo env true false test [ sleep id mkdir rm cp mv wc head tail grep egrep
find chmod chown ln touch pwd printf sed awk sort uniq tr cut date hostname whoami basename dirname
readlink realpath stat du df ps kill tee xargs gzip gunzip tar md5sum sha256sum expr seq yes
which mktemp od hexdump diff vi more less nproc arch sync ping wget
""".split()))

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def canonical(obj):
    return json.dumps(obj, indent=None, separators=(",", ":"), sort_keys=False).encode()


class Layout:
    def __init__(self, root):
        self.root = root
        self.blobs = os.path.join(root, "blobs", "sha256")
        os.makedirs(self.blobs, exist_ok=True)

    def put(self, data):
        hexd = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.blobs, hexd)
        if not os.path.exists(path):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, path)
        return "sha256:" + hexd, len(data)

    def finish(self, index_desc, tag):
        with open(os.path.join(self.root, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        desc = dict(index_desc)
        desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        top = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [desc]}
        tmp = os.path.join(self.root, "index.json.tmp")
        with open(tmp, "wb") as f:
            f.write(canonical(top))
        os.rename(tmp, os.path.join(self.root, "index.json"))


def tar_entry(name, kind, mode, data=b"", target=""):
    ti = tarfile.TarInfo(name)
    ti.mtime = FIXED_MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mode = mode
    if kind == "dir":
        ti.type = tarfile.DIRTYPE
    elif kind == "sym":
        ti.type = tarfile.SYMTYPE
        ti.linkname = target
    else:
        ti.type = tarfile.REGTYPE
        ti.size = len(data)
    return ti, data


def make_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for ti, data in sorted(entries, key=lambda e: e[0].name):
            tf.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def gzip_bytes(data, level=6):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=level) as g:
        g.write(data)
    return buf.getvalue()


def platform_fields(p):
    os_, arch, variant = p
    d = {"architecture": arch, "os": os_}
    if variant:
        d["variant"] = variant
    return d


def write_image(layout, plat, layers, comment, cmd=None):
    """layers: list of uncompressed tar bytes. Returns the manifest descriptor with platform."""
    layer_descs, diff_ids, history = [], [], []
    for tar in layers:
        gz = gzip_bytes(tar, level=1 if len(tar) > (8 << 20) else 6)
        dg, size = layout.put(gz)
        layer_descs.append({"mediaType": MT_LAYER_GZIP, "digest": dg, "size": size})
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        history.append({"created": FIXED_CREATED, "created_by": comment})
    config = {"created": FIXED_CREATED}
    config.update(platform_fields(plat))
    cfg = {"Env": [PATH_ENV]}
    if cmd:
        cfg["Cmd"] = cmd
    config["config"] = cfg
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    config["history"] = history
    cdg, csize = layout.put(canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cdg, "size": csize},
        "layers": layer_descs,
    }
    mbytes = canonical(manifest)
    mdg, msize = layout.put(mbytes)
    return {"mediaType": MT_MANIFEST, "digest": mdg, "size": msize,
            "platform": platform_fields(plat)}


def write_index(layout, manifests, tag):
    index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": manifests}
    dg, size = layout.put(canonical(index))
    layout.finish({"mediaType": MT_INDEX, "digest": dg, "size": size}, tag)
    return dg


def busybox_layer(binary):
    entries = [
        tar_entry("bin", "dir", 0o755),
        tar_entry("etc", "dir", 0o755),
        tar_entry("root", "dir", 0o700),
        tar_entry("tmp", "dir", 0o1777),
        tar_entry("bin/busybox", "file", 0o755, binary),
        tar_entry("etc/passwd", "file", 0o644,
                  b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
        tar_entry("etc/group", "file", 0o644, b"root:x:0:\nnogroup:x:65534:\n"),
    ]
    for a in APPLETS:
        entries.append(tar_entry("bin/" + a, "sym", 0o777, target="busybox"))
    return make_tar(entries)


def cmd_busybox(args):
    layout = Layout(args.out)
    manifests = []
    for debarch, plat in PLATFORMS:
        if args.platforms and debarch not in args.platforms:
            continue
        path = os.path.join(args.busybox_dir, debarch, "busybox")
        with open(path, "rb") as f:
            binary = f.read()
        manifests.append(write_image(layout, plat, [busybox_layer(binary)],
                                     "busybox-static from Debian (%s)" % debarch, cmd=["sh"]))
    return write_index(layout, manifests, args.tag)


def random_bytes(seed, n):
    """Deterministic incompressible bytes: SHA-256 in counter mode (fast enough in CPython)."""
    out = bytearray()
    block = 0
    base = hashlib.sha256(seed.encode())
    while len(out) < n:
        h = base.copy()
        h.update(block.to_bytes(8, "little"))
        d = h.digest()
        # Expand each digest 1024x cheaply while staying incompressible: shake_256 of the digest.
        out += hashlib.shake_256(d).digest(min(1 << 20, n - len(out)))
        block += 1
    return bytes(out)


def cmd_random(args):
    layout = Layout(args.out)
    manifests = []
    total = args.mib << 20
    plats = [p for _, p in PLATFORMS][: args.platforms_count]
    per_layer = total // (len(plats) * args.layers)
    for pi, plat in enumerate(plats):
        layers = []
        for li in range(args.layers):
            data = random_bytes("bench-%d-%d" % (pi, li), per_layer)
            layers.append(make_tar([tar_entry("data/blob-%d-%d.bin" % (pi, li), "file", 0o644, data)]))
        manifests.append(write_image(layout, plat, layers, "random benchmark data"))
    return write_index(layout, manifests, args.tag)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("busybox", help="multi-platform busybox base image")
    b.add_argument("--busybox-dir", required=True, help="directory with <debarch>/busybox")
    b.add_argument("--out", required=True, help="OCI layout directory to write")
    b.add_argument("--tag", default="latest")
    b.add_argument("--platforms", nargs="*", help="Debian architectures (default: all eight)")
    r = sub.add_parser("random", help="large incompressible multi-platform image")
    r.add_argument("--out", required=True)
    r.add_argument("--tag", default="latest")
    r.add_argument("--mib", type=int, default=640, help="total uncompressed layer data")
    r.add_argument("--platforms-count", type=int, default=4)
    r.add_argument("--layers", type=int, default=4, help="layers per platform")
    args = ap.parse_args()
    digest = cmd_busybox(args) if args.mode == "busybox" else cmd_random(args)
    print(digest)


if __name__ == "__main__":
    sys.exit(main())
