"""Hostile-input suite, run on the host under test (a lab node or the controller): list, compare, prepare.

    snap.py STATE ROOTS_CSV SETUP_B64

Prints, as JSON, every difference between the listing saved in STATE and the tree now (``[]`` when STATE does not
exist yet); then runs the next case's setup (a base64 shell script, may be empty) and saves the new listing to STATE.
A listing holds, for every path under the roots: type, mode, owner, size, inode, ctime and mtime (ns) and, for a
link, its target. Directories are listed too, so a temporary file created and removed again shows as a change.
"""
import base64
import json
import os
import stat
import subprocess
import sys


def describe(path):
    st = os.lstat(path)
    entry = [stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size, st.st_ino,
             st.st_ctime_ns, st.st_mtime_ns]
    if stat.S_ISLNK(st.st_mode):
        entry.append(os.readlink(path))
    return entry


def listing(roots):
    out = {}
    for root in roots:
        if not os.path.lexists(root):
            continue
        out[root] = describe(root)
        for base, dirs, names in os.walk(root):
            for name in dirs + names:
                path = os.path.join(base, name)
                out[path] = describe(path)
    return out


def main():
    state, roots, setup = sys.argv[1], sys.argv[2].split(","), sys.argv[3] if len(sys.argv) > 3 else ""
    now = listing(roots)
    diffs = []
    if os.path.exists(state):
        with open(state) as handle:
            before = json.load(handle)
        for path in sorted(set(before) | set(now)):
            if before.get(path) != now.get(path):
                diffs.append({"path": path, "before": before.get(path), "after": now.get(path)})
    print(json.dumps(diffs))
    if setup:
        script = base64.b64decode(setup).decode("utf-8")
        proc = subprocess.run(["sh", "-ec", script], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write("setup failed: %s\n%s" % (script, proc.stderr))
            sys.exit(2)
    with open(state, "w") as handle:
        json.dump(listing(roots), handle)


if __name__ == "__main__":
    main()
