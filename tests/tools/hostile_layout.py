#!/usr/bin/env python3
"""Rewrites images of an OCI layout (made by make_image.py) into hostile ones, for the tests of
verify and run that every command must refuse or walk alike:

  hostile_layout.py LAYOUT nest SRC_TAG DEPTH NEW_TAG
      NEW_TAG: SRC_TAG's root wrapped in DEPTH more indexes (entries without a platform)
  hostile_layout.py LAYOUT cycle NEW_TAG
      an index whose child claims to be an index that lists the child itself again: the blob
      stored under the child's digest is not the child (no real cycle can verify)
  hostile_layout.py LAYOUT empty NEW_TAG
      an index inside an index, holding only an attestation manifest (unknown/unknown)
  hostile_layout.py LAYOUT layer SRC_TAG NEW_TAG KIND
      SRC_TAG (a single image or an index of one) with one more layer of KIND:
        hardlink  bin/sh2 hard-linked to bin/nothere, which no layer has
        longname  a file whose name is 10,000 characters long
  hostile_layout.py LAYOUT lie SRC_TAG NEW_TAG
      SRC_TAG with its first image's first layer descriptor claiming 100 bytes more than the blob

Written only inside LAYOUT; prints the new root's digest.
"""
import copy
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

REF = "org.opencontainers.image.ref.name"
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class Layout:
    def __init__(self, path):
        self.path = path

    def blob_path(self, digest):
        return os.path.join(self.path, "blobs", "sha256", digest.split(":", 1)[1])

    def read(self, digest):
        with open(self.blob_path(digest), "rb") as f:
            return f.read()

    def write(self, data, digest=None):
        digest = digest or "sha256:" + hashlib.sha256(data).hexdigest()
        with open(self.blob_path(digest) + ".tmp", "wb") as f:
            f.write(data)
        os.replace(self.blob_path(digest) + ".tmp", self.blob_path(digest))
        return digest, len(data)

    def json_blob(self, doc, media_type):
        data = json.dumps(doc, indent=2).encode()
        d, n = self.write(data)
        return {"mediaType": media_type, "digest": d, "size": n}

    def index(self):
        with open(os.path.join(self.path, "index.json")) as f:
            return json.load(f)

    def root(self, tag):
        for m in self.index()["manifests"]:
            if m.get("annotations", {}).get(REF) == tag:
                return {k: v for k, v in m.items() if k != "annotations"}
        raise SystemExit("no tag " + tag)

    def tag(self, desc, tag):
        idx = self.index()
        idx["manifests"] = [m for m in idx["manifests"] if m.get("annotations", {}).get(REF) != tag]
        entry = dict(desc)
        entry["annotations"] = {REF: tag}
        idx["manifests"].append(entry)
        with open(os.path.join(self.path, "index.json.tmp"), "w") as f:
            json.dump(idx, f, indent=2)
        os.replace(os.path.join(self.path, "index.json.tmp"), os.path.join(self.path, "index.json"))
        print(desc["digest"])


def layer_bytes(kind):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if kind == "hardlink":
            ti = tarfile.TarInfo("bin/sh2")
            ti.type = tarfile.LNKTYPE
            ti.linkname = "bin/nothere"
            tar.addfile(ti)
        elif kind == "longname":
            data = b"x"
            ti = tarfile.TarInfo("n" * 10000)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
        else:
            raise SystemExit("unknown layer kind " + kind)
    raw = buf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(raw)
    return raw, gz.getvalue()


def rewrite_first_image(lay, root, change):
    """Applies change(manifest, config) to the first image under root; returns the new root."""
    doc = json.loads(lay.read(root["digest"]))
    if root["mediaType"] == MANIFEST:
        return change(doc, root)
    child = doc["manifests"][0]
    doc = copy.deepcopy(doc)
    doc["manifests"][0] = change(json.loads(lay.read(child["digest"])), child)
    return lay.json_blob(doc, root["mediaType"])


def main():
    lay = Layout(sys.argv[1])
    cmd = sys.argv[2]
    if cmd == "nest":
        src, depth, new = sys.argv[3], int(sys.argv[4]), sys.argv[5]
        desc = lay.root(src)
        for _ in range(depth):
            desc = lay.json_blob({"schemaVersion": 2, "mediaType": INDEX, "manifests": [desc]}, INDEX)
        lay.tag(desc, new)
    elif cmd == "cycle":
        new = sys.argv[3]
        # The child's digest is that of some other bytes; stored under it is an index naming it.
        fake = "sha256:" + hashlib.sha256(b"an index that is not here").hexdigest()
        child = {"mediaType": INDEX, "digest": fake, "size": 0}
        while True:  # the size is part of the body it measures
            body = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [child]}).encode()
            if child["size"] == len(body):
                break
            child["size"] = len(body)
        lay.write(body, fake)
        lay.tag(lay.json_blob({"schemaVersion": 2, "mediaType": INDEX, "manifests": [child]}, INDEX), new)
    elif cmd == "empty":
        new = sys.argv[3]
        cfg = lay.json_blob({}, "application/vnd.oci.image.config.v1+json")
        att = lay.json_blob({"schemaVersion": 2, "mediaType": MANIFEST, "config": cfg, "layers": []}, MANIFEST)
        att["platform"] = {"os": "unknown", "architecture": "unknown"}
        inner = lay.json_blob({"schemaVersion": 2, "mediaType": INDEX, "manifests": [att]}, INDEX)
        lay.tag(lay.json_blob({"schemaVersion": 2, "mediaType": INDEX, "manifests": [inner]}, INDEX), new)
    elif cmd == "layer":
        src, new, kind = sys.argv[3], sys.argv[4], sys.argv[5]
        raw, gz = layer_bytes(kind)

        def add_layer(man, desc):
            cfg_desc = man["config"]
            cfg = json.loads(lay.read(cfg_desc["digest"]))
            cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
            d, n = lay.write(gz)
            man = copy.deepcopy(man)
            man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                  "digest": d, "size": n})
            man["config"] = lay.json_blob(cfg, cfg_desc["mediaType"])
            out = lay.json_blob(man, desc["mediaType"])
            if "platform" in desc:
                out["platform"] = desc["platform"]
            return out

        lay.tag(rewrite_first_image(lay, lay.root(src), add_layer), new)
    elif cmd == "lie":
        src, new = sys.argv[3], sys.argv[4]

        def lie(man, desc):
            man = copy.deepcopy(man)
            man["layers"][0]["size"] += 100
            out = lay.json_blob(man, desc["mediaType"])
            if "platform" in desc:
                out["platform"] = desc["platform"]
            return out

        lay.tag(rewrite_first_image(lay, lay.root(src), lie), new)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
