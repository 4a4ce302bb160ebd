#!/usr/bin/env python3
"""Prints every header field of a layer tar (plain or gzip), one entry per line, for diffing.

Usage: layer_dump.py LAYER

`tar -tv` leaves out what makes two layers with equal listings differ: user and group names,
PAX records (xattrs, atime, ctime, long names), device numbers, the entry's raw type, and the
content itself. This prints all of them, and the SHA-256 of each regular file's content, in
archive order, so that `diff` of two dumps names the field that differs.
"""
import hashlib
import sys
import tarfile


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: layer_dump.py LAYER")
    with tarfile.open(sys.argv[1], "r:*") as tar:
        for m in tar:
            fields = [
                m.name,
                "type=%r" % m.type,
                "mode=%o" % m.mode,
                "owner=%d:%d" % (m.uid, m.gid),
                "names=%s:%s" % (m.uname, m.gname),
                "size=%d" % m.size,
                "mtime=%s" % m.mtime,
            ]
            if m.linkname:
                fields.append("link=%s" % m.linkname)
            if m.ischr() or m.isblk():
                fields.append("dev=%d,%d" % (m.devmajor, m.devminor))
            for key in sorted(m.pax_headers):
                fields.append("pax:%s=%r" % (key, m.pax_headers[key]))
            if m.isreg():
                fields.append("sha256=" + hashlib.sha256(tar.extractfile(m).read()).hexdigest())
            print(" ".join(fields))
        # What follows the first end-of-archive block (the second one, padding, anything
        # appended) also changes the digest.
        print("bytes after the first end-of-archive block: %d" % len(tar.fileobj.read()))


if __name__ == "__main__":
    main()
