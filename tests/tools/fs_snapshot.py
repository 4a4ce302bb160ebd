#!/usr/bin/env python3
"""Prints a canonical listing of one image's final filesystem and config, for comparing builders.

Usage:
  fs_snapshot.py LAYOUT --platform linux/arm/v7 [--ref NAME]   an OCI image layout
  fs_snapshot.py --tree DIR                                    an unpacked tree (no config)

The listing has one line per config field ("config NAME VALUE", values as sorted compact JSON)
and one line per filesystem entry ("/path TYPE MODE UID:GID [SIZE SHA256] [-> TARGET] ..."),
sorted, so two images can be compared with diff.

The image's filesystem is rebuilt from its layer tars in order, as the OCI image spec's
"Applying Changesets" section says. Traps handled:
- A whiteout (".wh.NAME") removes NAME from the layers below only, and an opaque marker
  (".wh..wh..opq") hides every lower child of its directory; entries of the same layer survive,
  whatever order the tar lists them in. So each layer's markers are applied before its entries.
- An entry replaces what is at its path, unless both are directories: then only the directory's
  own metadata changes and its children stay.
- A hardlink entry names another path (of this or a lower layer); the two share one inode, so a
  group of links is printed as such ("hardlink=FIRST", FIRST being the group's least path) and
  a member removed later leaves the others as plain files.
- Parents missing from a tar are implied as 0755 root directories, as every unpacker does.
- Layers may be gzip, zstd or plain tars, whatever their media type says (the bytes decide).
- The manifest is chosen by the platform in the index descriptor or, where the descriptor has
  none (buildah pushes each platform as a tagged manifest), by the config's os/architecture/
  variant.

Exclusions: what is not compared, because it comes from the time of the build or carries no
meaning. This is the one list; it is never extended case by case.
- mtime, atime and ctime of every entry (PAX time records included), and the config's
  `created` and `history`.
- The tar header's user and group names: the numeric ids are what the kernel uses.
- The permission bits of symlinks: Linux ignores them and tar writers record 0777 or 0.
- The root directory's own entry ("./"): some writers emit it, some do not, and no runtime
  applies it.
- In the config, an absent field, null, an empty list and an empty map are the same (no runtime
  tells them apart).
"""
import argparse
import base64
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile

CONFIG_FIELDS = [
    "Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels",
    "StopSignal", "Healthcheck", "Shell", "OnBuild",
]


class Inode:
    __slots__ = ("kind", "mode", "uid", "gid", "size", "sha", "target", "dev", "xattrs")

    def __init__(self, kind, mode=0o755, uid=0, gid=0, size=0, sha="", target="", dev="",
                 xattrs=None):
        self.kind, self.mode, self.uid, self.gid = kind, mode, uid, gid
        self.size, self.sha, self.target, self.dev = size, sha, target, dev
        self.xattrs = xattrs or {}


def fail(msg):
    print("fs_snapshot: " + msg, file=sys.stderr)
    sys.exit(2)


def norm(name):
    parts = []
    for p in name.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            fail("layer entry climbs out of the root: " + name)
        parts.append(p)
    return "/" + "/".join(parts)


class Tree:
    def __init__(self):
        self.nodes = {"/": Inode("dir")}

    def children(self, d):
        prefix = d.rstrip("/") + "/"
        return [p for p in self.nodes if p.startswith(prefix) and p != d]

    def remove(self, path):
        for p in self.children(path):
            del self.nodes[p]
        self.nodes.pop(path, None)

    def ensure_parents(self, path):
        parent = os.path.dirname(path)
        if parent == "/" or parent in self.nodes and self.nodes[parent].kind == "dir":
            return
        self.ensure_parents(parent)
        if parent in self.nodes:
            self.remove(parent)
        self.nodes[parent] = Inode("dir")

    def put(self, path, node):
        old = self.nodes.get(path)
        if old is not None and not (old.kind == "dir" and node.kind == "dir"):
            self.remove(path)
        self.ensure_parents(path)
        self.nodes[path] = node


def open_tar_stream(f):
    magic = f.read(4)
    f.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return tarfile.open(fileobj=f, mode="r|gz"), None
    if magic == b"\x28\xb5\x2f\xfd":
        proc = subprocess.Popen(["zstd", "-dcq"], stdin=f, stdout=subprocess.PIPE)
        return tarfile.open(fileobj=proc.stdout, mode="r|"), proc
    return tarfile.open(fileobj=f, mode="r|"), None


def xattrs_of(member):
    out = {}
    for k, v in (member.pax_headers or {}).items():
        if k.startswith("SCHILY.xattr."):
            raw = v.encode("utf-8", "surrogateescape")
            out[k[len("SCHILY.xattr."):]] = base64.b64encode(raw).decode()
    return out


def apply_layer(tree, blob_path):
    with open(blob_path, "rb") as f:
        t, proc = open_tar_stream(f)
        entries = []
        for m in t:
            path = norm(m.name)
            base = os.path.basename(path)
            if base.startswith(".wh."):
                entries.append(("wh", path, m, None))
                continue
            data_sha, size = "", 0
            if m.isreg():
                h = hashlib.sha256()
                src = t.extractfile(m)
                while True:
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                    size += len(chunk)
                data_sha = "sha256:" + h.hexdigest()
            entries.append(("entry", path, m, (data_sha, size)))
        t.close()
        if proc:
            proc.wait()
            if proc.returncode:
                fail("zstd could not decompress " + blob_path)
    # Markers first: they hide lower layers only.
    for kind, path, m, _ in entries:
        if kind != "wh":
            continue
        d, base = os.path.dirname(path), os.path.basename(path)
        if base == ".wh..wh..opq":
            for c in tree.children(d):
                tree.nodes.pop(c, None)
        else:
            tree.remove(os.path.join(d, base[len(".wh."):]))
    for kind, path, m, extra in entries:
        if kind != "entry" or path == "/":
            continue
        mode = m.mode & 0o7777
        common = dict(mode=mode, uid=m.uid, gid=m.gid, xattrs=xattrs_of(m))
        if m.islnk():
            target = tree.nodes.get(norm(m.linkname))
            if target is None or target.kind != "file":
                fail("hardlink %s names %s, which is not a file" % (path, m.linkname))
            tree.put(path, target)
        elif m.isreg():
            tree.put(path, Inode("file", size=extra[1], sha=extra[0], **common))
        elif m.isdir():
            old = tree.nodes.get(path)
            if old is not None and old.kind == "dir":
                old.mode, old.uid, old.gid, old.xattrs = mode, m.uid, m.gid, common["xattrs"]
            else:
                tree.put(path, Inode("dir", **common))
        elif m.issym():
            tree.put(path, Inode("symlink", target=m.linkname, **common))
        elif m.ischr() or m.isblk():
            tree.put(path, Inode("char" if m.ischr() else "block",
                                 dev="%d,%d" % (m.devmajor, m.devminor), **common))
        elif m.isfifo():
            tree.put(path, Inode("fifo", **common))
        else:
            fail("unknown tar entry type %r for %s" % (m.type, path))


def tree_from_dir(root):
    tree = Tree()
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            path = "/" + os.path.relpath(full, root)
            common = dict(mode=stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid)
            if stat.S_ISDIR(st.st_mode):
                node = Inode("dir", **common)
            elif stat.S_ISLNK(st.st_mode):
                node = Inode("symlink", target=os.readlink(full), **common)
            elif stat.S_ISREG(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    tree.nodes[path] = seen[key]
                    continue
                h = hashlib.sha256()
                with open(full, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                node = Inode("file", size=st.st_size, sha="sha256:" + h.hexdigest(), **common)
                seen[key] = node
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                node = Inode("char" if stat.S_ISCHR(st.st_mode) else "block",
                             dev="%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)), **common)
            elif stat.S_ISFIFO(st.st_mode):
                node = Inode("fifo", **common)
            else:
                continue
            tree.nodes[path] = node
    return tree


def listing(tree):
    groups = {}
    for p, n in tree.nodes.items():
        if n.kind == "file":
            groups.setdefault(id(n), []).append(p)
    first = {}
    for members in groups.values():
        if len(members) > 1:
            for p in members:
                first[p] = min(members)
    lines = []
    for p in sorted(tree.nodes):
        if p == "/":
            continue
        n = tree.nodes[p]
        owner = "%d:%d" % (n.uid, n.gid)
        if n.kind == "symlink":
            line = "%s symlink %s -> %s" % (p, owner, n.target)
        elif n.kind == "file":
            line = "%s file %04o %s %d %s" % (p, n.mode, owner, n.size, n.sha)
            if p in first:
                line += " hardlink=" + first[p]
        elif n.kind in ("char", "block"):
            line = "%s %s %04o %s %s" % (p, n.kind, n.mode, owner, n.dev)
        else:
            line = "%s %s %04o %s" % (p, n.kind, n.mode, owner)
        for k in sorted(n.xattrs):
            line += " xattr:%s=%s" % (k, n.xattrs[k])
        lines.append(line)
    return lines


def read_json(layout, digest):
    algo, hexd = digest.split(":", 1)
    with open(os.path.join(layout, "blobs", algo, hexd), "rb") as f:
        return json.load(f)


def blob_path(layout, digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)


def platform_of(desc_platform, config):
    src = desc_platform or config
    parts = [src.get("os", ""), src.get("architecture", "")]
    if src.get("variant"):
        parts.append(src["variant"])
    return "/".join(parts)


def find_manifest(layout, want_platform, ref):
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    found = []

    def walk(descs, top):
        for d in descs:
            if top and ref and d.get("annotations", {}).get(
                    "org.opencontainers.image.ref.name") != ref:
                continue
            mt = d.get("mediaType", "")
            if mt.endswith("image.index.v1+json") or mt.endswith("manifest.list.v2+json"):
                walk(read_json(layout, d["digest"]).get("manifests", []), False)
                continue
            m = read_json(layout, d["digest"])
            cfg = read_json(layout, m["config"]["digest"])
            if platform_of(d.get("platform"), cfg) == want_platform:
                found.append((m, cfg))

    walk(index.get("manifests", []), True)
    if not found:
        fail("%s has no image for %s%s" % (layout, want_platform, " named " + ref if ref else ""))
    if len(found) > 1:
        fail("%s has %d images for %s; name one with --ref" % (layout, len(found), want_platform))
    return found[0]


def empty(v):
    return v is None or v == [] or v == {} or v == ""


def config_lines(cfg):
    c = cfg.get("config") or {}
    out = []
    for k in ("os", "architecture", "variant"):
        out.append("config %s %s" % (k, json.dumps(cfg.get(k) or None)))
    out.append("config author %s" % json.dumps(cfg.get("author") or None))
    for k in CONFIG_FIELDS:
        v = c.get(k)
        out.append("config %s %s" % (k, json.dumps(None if empty(v) else v, sort_keys=True,
                                                    separators=(",", ":"))))
    return out


def apply_pins(lines, pins_path, plat):
    """Edits a listing the way a pins file says, so a reference listing can be turned into the
    behaviour that is expected instead (BuildKit's, where buildah is known to differ).

    Each line of the file is "- LINE" (LINE must be in the listing and is removed: a pin that no
    longer matches fails, so stale pins are noticed), "? LINE" (removed where present, for a
    difference that shows wherever a case uses a feature), "+ LINE" (added) or a comment ("#").
    A line may start with "[os/arch/variant] " to apply to that platform only."""
    out = list(lines)
    with open(pins_path) as f:
        for n, raw in enumerate(f, 1):
            text = raw.rstrip("\n")
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            if text.startswith("["):
                only, _, text = text[1:].partition("] ")
                if only != plat:
                    continue
            op, line = text[:2], text[2:]
            if op == "- ":
                if line not in out:
                    fail("%s:%d: pinned line not in the listing: %s" % (pins_path, n, line))
                out.remove(line)
            elif op == "? ":
                if line in out:
                    out.remove(line)
            elif op == "+ ":
                out.append(line)
            else:
                fail("%s:%d: expected '- LINE', '? LINE', '+ LINE' or '# comment'" % (pins_path, n))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("layout", nargs="?", help="an OCI image layout directory")
    ap.add_argument("--platform", help="os/arch[/variant] of the image to list")
    ap.add_argument("--ref", help="the index.json ref.name annotation to start from")
    ap.add_argument("--tree", help="list an unpacked directory instead (no config)")
    ap.add_argument("--pins", action="append", default=[],
                    help="edits to apply to the listing (see apply_pins); repeatable")
    a = ap.parse_args()
    if a.tree:
        lines = listing(tree_from_dir(a.tree))
    else:
        if not a.layout or not a.platform:
            fail("give LAYOUT and --platform, or --tree DIR")
        manifest, cfg = find_manifest(a.layout, a.platform, a.ref)
        diff_ids = (cfg.get("rootfs") or {}).get("diff_ids", [])
        if len(diff_ids) != len(manifest.get("layers", [])):
            fail("config has %d diff_ids for %d layers" % (len(diff_ids), len(manifest["layers"])))
        tree = Tree()
        for layer in manifest.get("layers", []):
            apply_layer(tree, blob_path(a.layout, layer["digest"]))
        lines = config_lines(cfg) + listing(tree)
    for pins in a.pins:
        lines = apply_pins(lines, pins, a.platform or "")
    sys.stdout.write("\n".join(sorted(lines)) + "\n")


if __name__ == "__main__":
    main()
