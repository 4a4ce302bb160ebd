#!/usr/bin/env python3
"""Tests fs_snapshot.py on synthetic OCI layouts: whiteouts and opaque markers hide lower layers
only (whatever order the tar lists them in), directories merge, a file replaces a directory,
hardlink groups survive and break, gzip and plain layers, platform selection by descriptor or
by config, and pins (stale ones fail). Run: python3 fs_snapshot_test.py"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fs_snapshot.py")
EMPTY = "sha256:" + hashlib.sha256(b"").hexdigest()


def tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, arg in entries:
            ti = tarfile.TarInfo(name)
            ti.mode = 0o755 if kind == "d" else 0o644
            if kind == "d":
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif kind == "f":
                ti.size = len(arg)
                t.addfile(ti, io.BytesIO(arg))
            elif kind == "h":
                ti.type, ti.linkname = tarfile.LNKTYPE, arg
                t.addfile(ti)
            elif kind == "l":
                ti.type, ti.linkname = tarfile.SYMTYPE, arg
                t.addfile(ti)
    return b.getvalue()


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"))

    def put(self, data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.root, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + d, "size": len(data)}

    def image(self, layers, arch, variant=None, gz=True, env=None):
        blobs = [self.put(gzip.compress(l) if gz else l) for l in layers]
        cfg = {"os": "linux", "architecture": arch,
               "config": {"Env": env or [], "Volumes": {}},
               "rootfs": {"type": "layers",
                          "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]}}
        if variant:
            cfg["variant"] = variant
        c = self.put(json.dumps(cfg).encode())
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": dict(c, mediaType="application/vnd.oci.image.config.v1+json"),
             "layers": [dict(b, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
                        for b in blobs]}
        return dict(self.put(json.dumps(m).encode()),
                    mediaType="application/vnd.oci.image.manifest.v1+json")

    def index(self, descs):
        with open(os.path.join(self.root, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": descs}, f)


def snapshot(layout, plat, *extra):
    r = subprocess.run([sys.executable, TOOL, layout, "--platform", plat, *extra],
                       capture_output=True, text=True)
    return r.returncode, r.stdout.splitlines(), r.stderr


class FsSnapshotTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.layout = Layout(os.path.join(self.tmp.name, "l"))
        base = tar([("a", "d", None), ("a/x", "f", b"x"), ("a/y", "f", b"y"),
                    ("d", "d", None), ("d/f", "f", b"f"), ("d/sub", "d", None),
                    ("d/sub/s", "f", b"s"), ("h1", "f", b"hh"), ("h2", "h", "h1"),
                    ("h3", "h", "h1"), ("becomes", "d", None), ("becomes/in", "f", b"i")])
        # The opaque marker and a new entry of the same directory, listed entry first: the new
        # entry must survive. The whiteout is listed after a same-layer sibling.
        top = tar([("d/g", "f", b"g"), ("d/.wh..wh..opq", "f", b""), ("a/z", "f", b"z"),
                   ("a/.wh.x", "f", b""), (".wh.h3", "f", b""), ("becomes", "f", b"now a file"),
                   ("ln", "l", "a/y")])
        merge = tar([("a", "d", None), ("new/deep/file", "f", b"")])
        amd = self.layout.image([base, top, merge], "amd64", env=["A=1"])
        arm = self.layout.image([base], "arm", "v7", gz=False)
        self.layout.index([dict(amd, platform={"os": "linux", "architecture": "amd64"}), arm])

    def tearDown(self):
        self.tmp.cleanup()

    def test_layers_applied(self):
        rc, out, err = snapshot(self.layout.root, "linux/amd64")
        self.assertEqual(rc, 0, err)
        paths = [l.split(" ")[0] for l in out if l.startswith("/")]
        self.assertEqual(paths, ["/a", "/a/y", "/a/z", "/becomes", "/d", "/d/g", "/h1", "/h2",
                                 "/ln", "/new", "/new/deep", "/new/deep/file"])
        self.assertIn("/becomes file 0644 0:0 10 sha256:" +
                      hashlib.sha256(b"now a file").hexdigest(), out)
        self.assertIn("/h1 file 0644 0:0 2 sha256:%s hardlink=/h1" %
                      hashlib.sha256(b"hh").hexdigest(), out)
        self.assertIn("/h2 file 0644 0:0 2 sha256:%s hardlink=/h1" %
                      hashlib.sha256(b"hh").hexdigest(), out)
        self.assertIn("/new dir 0755 0:0", out)  # an implied parent
        self.assertIn("/ln symlink 0:0 -> a/y", out)
        self.assertIn("/new/deep/file file 0644 0:0 0 " + EMPTY, out)
        self.assertIn('config Env ["A=1"]', out)
        self.assertIn("config Volumes null", out)  # empty map = absent
        self.assertIn('config architecture "amd64"', out)

    def test_platform_from_config(self):
        rc, out, err = snapshot(self.layout.root, "linux/arm/v7")
        self.assertEqual(rc, 0, err)
        self.assertIn('config variant "v7"', out)
        self.assertIn("/a/x file 0644 0:0 1 sha256:" + hashlib.sha256(b"x").hexdigest(), out)
        self.assertTrue(any(l.startswith("/h3 ") and "hardlink=/h1" in l for l in out))
        rc, _, err = snapshot(self.layout.root, "linux/arm64")
        self.assertNotEqual(rc, 0)
        self.assertIn("no image for linux/arm64", err)

    def test_pins(self):
        pins = os.path.join(self.tmp.name, "pins")
        with open(pins, "w") as f:
            f.write("# why\n- /ln symlink 0:0 -> a/y\n? /not/there dir 0755 0:0\n"
                    "+ /added dir 0700 0:0\n[linux/arm64] - /never applied\n")
        rc, out, err = snapshot(self.layout.root, "linux/amd64", "--pins", pins)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("/ln symlink 0:0 -> a/y", out)
        self.assertIn("/added dir 0700 0:0", out)
        self.assertEqual(out, sorted(out))
        with open(pins, "w") as f:
            f.write("- /stale dir 0755 0:0\n")
        rc, _, err = snapshot(self.layout.root, "linux/amd64", "--pins", pins)
        self.assertNotEqual(rc, 0)
        self.assertIn("pinned line not in the listing", err)


if __name__ == "__main__":
    unittest.main()
