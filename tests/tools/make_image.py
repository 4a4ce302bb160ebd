#!/usr/bin/env python3
"""Writes a deterministic multi-platform OCI image layout for tests.

  make_image.py OUT [--tag latest] [--docker-types]
      --image PLATFORM=ROOTFS_SPEC [--image ...]
      [--layer PLATFORM:SPEC] ...

ROOTFS_SPEC / SPEC is a comma-separated list of entries:
  path=HOSTFILE          a regular file (mode 0755) with HOSTFILE's bytes
  path@=TARGET           a symlink
  path/                  a directory
  path~                  a whiteout (.wh.<name>) for path
  path/~~                an opaque-directory marker for path
  path#=TEXT             a regular file (0644) holding TEXT
Each --image makes the first layer of that platform's image; each --layer adds one more layer
on top of the named platform's image. --dir-layer PLATFORM:DIR adds a layer made by
`tar -C DIR -c .` (GNU tar, so it starts with a "./" entry); --tar-layer PLATFORM:FILE adds
the tar FILE as it is (gzipped here), e.g. one with sparse entries made by `tar --sparse`. --bad-diff-id PLATFORM writes a
config whose last diff_id does not match that platform's last layer (a poisoned image). Tars are sorted, mtimes are 0 and gzip has no timestamp,
so the same inputs always give the same digests. Written only inside OUT.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

BUSYBOX_APPLETS = ["sh", "ash", "uname", "ls", "cat", "echo", "env", "true", "false", "test",
                   "sleep", "id", "mkdir", "rm", "cp", "mv", "wc", "head", "grep", "find", "chmod",
                   "pwd", "printf", "kill", "ps", "whoami", "hostname", "touch", "stat", "readlink"]


def parse_platform(p):
    parts = p.split("/")
    d = {"os": parts[0], "architecture": parts[1]}
    if len(parts) > 2:
        d["variant"] = parts[2]
    return d


def tar_layer(spec, parents=True):
    buf = io.BytesIO()
    entries = []
    for item in [s for s in spec.split(",") if s]:
        entries.append(item)
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add_dirs(path, seen=set()):
            if not parents:
                return
            parts = path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in seen:
                    seen.add(d)
                    ti = tarfile.TarInfo(d)
                    ti.type = tarfile.DIRTYPE
                    ti.mode = 0o755
                    tar.addfile(ti)
        seen = set()
        for item in sorted(entries):
            if item.endswith("/~~"):
                path = item[:-3].strip("/")
                add_dirs(path + "/x", seen)
                ti = tarfile.TarInfo(path + "/.wh..wh..opq")
                ti.size = 0
                tar.addfile(ti, io.BytesIO(b""))
            elif item.endswith("~"):
                path = item[:-1].strip("/")
                add_dirs(path, seen)
                head, _, name = path.rpartition("/")
                ti = tarfile.TarInfo((head + "/" if head else "") + ".wh." + name)
                ti.size = 0
                tar.addfile(ti, io.BytesIO(b""))
            elif item.endswith("/"):
                path = item.strip("/")
                add_dirs(path + "/x", seen)
            elif "@=" in item:
                path, target = item.split("@=", 1)
                path = path.strip("/")
                add_dirs(path, seen)
                ti = tarfile.TarInfo(path)
                ti.type = tarfile.SYMTYPE
                ti.linkname = target
                ti.mode = 0o777
                tar.addfile(ti)
            elif "#=" in item:
                path, text = item.split("#=", 1)
                path = path.strip("/")
                add_dirs(path, seen)
                data = text.replace("\\n", "\n").encode()
                ti = tarfile.TarInfo(path)
                ti.size = len(data)
                ti.mode = 0o644
                tar.addfile(ti, io.BytesIO(data))
            else:
                path, host = item.split("=", 1)
                path = path.strip("/")
                add_dirs(path, seen)
                data = open(host, "rb").read()
                ti = tarfile.TarInfo(path)
                ti.size = len(data)
                ti.mode = 0o755
                tar.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=6) as g:
        g.write(raw)
    return raw, gz.getvalue()


def dir_layer(directory):
    raw = subprocess.run(["tar", "-C", directory, "-c", "--sort=name", "--mtime=@0", "--owner=0",
                          "--group=0", "--numeric-owner", "."], check=True,
                         stdout=subprocess.PIPE).stdout
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=6) as g:
        g.write(raw)
    return raw, gz.getvalue()


def file_layer(path):
    raw = open(path, "rb").read()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=6) as g:
        g.write(raw)
    return raw, gz.getvalue()


def busybox_spec(binary):
    items = ["bin/busybox=" + binary, "tmp/", "root/", "etc/passwd#=root:x:0:0:root:/root:/bin/sh\\n",
             "etc/group#=root:x:0:\\n"]
    items += ["bin/%s@=busybox" % a for a in BUSYBOX_APPLETS]
    return ",".join(items)


class Writer:
    def __init__(self, out):
        self.out = out
        os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)

    def blob(self, data):
        d = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.out, "blobs", "sha256", d)
        if not os.path.exists(path):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return "sha256:" + d, len(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--image", action="append", default=[], help="PLATFORM=SPEC, or PLATFORM=busybox:FILE")
    ap.add_argument("--layer", action="append", default=[], help="PLATFORM:SPEC")
    ap.add_argument("--raw-layer", action="append", default=[],
                    help="PLATFORM:SPEC without entries for parent directories (for hostile layers)")
    ap.add_argument("--dir-layer", action="append", default=[],
                    help="PLATFORM:DIR, a layer made by tar -C DIR -c .")
    ap.add_argument("--tar-layer", action="append", default=[],
                    help="PLATFORM:FILE, a layer that is the tar FILE as it is")
    ap.add_argument("--bad-diff-id", action="append", default=[],
                    help="PLATFORM whose config gets a wrong diff_id for its last layer")
    ap.add_argument("--docker-types", action="store_true")
    ap.add_argument("--single", action="store_true", help="tag the one image's manifest, no index")
    a = ap.parse_args()
    w = Writer(a.out)
    mt_manifest = "application/vnd.docker.distribution.manifest.v2+json" if a.docker_types else "application/vnd.oci.image.manifest.v1+json"
    mt_config = "application/vnd.docker.container.image.v1+json" if a.docker_types else "application/vnd.oci.image.config.v1+json"
    mt_layer = "application/vnd.docker.image.rootfs.diff.tar.gzip" if a.docker_types else "application/vnd.oci.image.layer.v1.tar+gzip"
    mt_index = "application/vnd.docker.distribution.manifest.list.v2+json" if a.docker_types else "application/vnd.oci.image.index.v1+json"
    extra = {}
    for l in a.layer:
        plat, spec = l.split(":", 1)
        extra.setdefault(plat, []).append((spec, True))
    for l in a.raw_layer:
        plat, spec = l.split(":", 1)
        extra.setdefault(plat, []).append((spec, False))
    for l in a.dir_layer:
        plat, directory = l.split(":", 1)
        extra.setdefault(plat, []).append((directory, "dir"))
    for l in a.tar_layer:
        plat, path = l.split(":", 1)
        extra.setdefault(plat, []).append((path, "tar"))
    manifests = []
    for img in a.image:
        plat, spec = img.split("=", 1)
        if spec.startswith("busybox:"):
            spec = busybox_spec(spec[len("busybox:"):])
        layers, diff_ids = [], []
        for s, parents in [(spec, True)] + extra.get(plat, []):
            if parents == "dir":
                raw, gz = dir_layer(s)
            elif parents == "tar":
                raw, gz = file_layer(s)
            else:
                raw, gz = tar_layer(s, parents)
            dg, size = w.blob(gz)
            layers.append({"mediaType": mt_layer, "digest": dg, "size": size})
            diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        if plat in a.bad_diff_id:
            diff_ids[-1] = "sha256:" + hashlib.sha256(b"not this layer").hexdigest()
        p = parse_platform(plat)
        config = {"architecture": p["architecture"], "os": p["os"]}
        if "variant" in p:
            config["variant"] = p["variant"]
        config["config"] = {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                            "Cmd": ["sh"]}
        config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
        config["history"] = [{"created_by": "tests/tools/make_image.py"} for _ in layers]
        cbytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
        cdg, csize = w.blob(cbytes)
        man = {"schemaVersion": 2, "mediaType": mt_manifest,
               "config": {"mediaType": mt_config, "digest": cdg, "size": csize}, "layers": layers}
        mbytes = json.dumps(man, indent=2).encode()
        mdg, msize = w.blob(mbytes)
        manifests.append({"mediaType": mt_manifest, "digest": mdg, "size": msize, "platform": p})
    if a.single:
        top = dict(manifests[0])
        top.pop("platform")
    else:
        idx = {"schemaVersion": 2, "mediaType": mt_index, "manifests": manifests}
        ibytes = json.dumps(idx, indent=2).encode()
        idg, isize = w.blob(ibytes)
        top = {"mediaType": mt_index, "digest": idg, "size": isize}
    top["annotations"] = {"org.opencontainers.image.ref.name": a.tag}
    index_path = os.path.join(a.out, "index.json")
    entries = []
    if os.path.exists(index_path):
        entries = [m for m in json.load(open(index_path))["manifests"]
                   if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != a.tag]
    entries.append(top)
    with open(index_path + ".tmp", "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}, f, indent=2)
    os.replace(index_path + ".tmp", index_path)
    with open(os.path.join(a.out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    print(top["digest"])


if __name__ == "__main__":
    sys.exit(main())
