"""Run on a lab node: a JSON map of every file, directory and link under the given roots.

    snapshot.py ROOT... [--exclude PREFIX ...]

Files map to "file <mode> <uid>:<gid> <sha256>", directories to "dir <mode> <uid>:<gid>", links to
"link -> <target>". Paths under an --exclude prefix are left out.
"""
import hashlib
import json
import os
import stat
import sys

roots, excludes = [], []
args = iter(sys.argv[1:])
for arg in args:
    if arg == "--exclude":
        excludes.append(next(args).rstrip("/"))
    else:
        roots.append(arg)


def excluded(path):
    return any(path == e or path.startswith(e + "/") for e in excludes)


def describe(path):
    st = os.lstat(path)
    owner = "%d:%d" % (st.st_uid, st.st_gid)
    mode = "%04o" % stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return "link -> %s" % os.readlink(path)
    if stat.S_ISDIR(st.st_mode):
        return "dir %s %s" % (mode, owner)
    if stat.S_ISREG(st.st_mode):
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return "file %s %s %s" % (mode, owner, digest.hexdigest())
    return "special %s %s" % (mode, owner)


out = {}
for root in roots:
    if not os.path.lexists(root):
        continue
    out[root] = describe(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not excluded(os.path.join(dirpath, d)))
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            if not excluded(path):
                out[path] = describe(path)
print(json.dumps(out, sort_keys=True))
