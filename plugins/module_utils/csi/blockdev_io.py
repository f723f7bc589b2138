# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only collection of the block-device facts :mod:`blockdev` classifies.

Stdlib only (it runs on the nodes), no Ansible imports. Every path is relative to ``root`` so tests can point it at
a fake tree. Nothing here ever opens a device for writing: signatures come from the first ``PROBE_BYTES`` and the
last ``TAIL_BYTES`` of each device, and "locked" from an exclusive read-only open (``O_EXCL`` on a block device
claims it, as ceph-volume's ``is_locked_raw_device`` does, without writing anything).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat
import time

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.blockdev import (
    PROBE_BYTES, SECTOR, TAIL_BYTES, MIN_OSD_SIZE, build_device, detect_signatures, detect_tail_signatures,
    mbr_partition_entries, parse_blkid_export, parse_mountinfo, parse_swaps)


def _read(path, default=None):
    try:
        with open(path, "r") as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return default


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except (IOError, OSError):
        return []


def _read_at(fd, offset, length):
    chunks, total = [], 0
    os.lseek(fd, offset, os.SEEK_SET)
    while total < length:
        chunk = os.read(fd, length - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_head(path, length=PROBE_BYTES, size=None, tail_length=TAIL_BYTES):
    """Read the first ``length`` bytes of ``path`` read-only, and with ``size`` its last ``tail_length`` bytes.

    Returns ``(head, error_or_None)``, or ``(head, tail, error_or_None)`` when ``size`` is given.
    """
    head, tail, error = b"", b"", None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except (IOError, OSError) as exc:
        error = str(exc)
    else:
        try:
            head = _read_at(fd, 0, length)
            if size:
                start = max(int(size) - tail_length, 0)
                tail = _read_at(fd, start, int(size) - start)
        except (IOError, OSError) as exc:
            head, tail, error = b"", b"", str(exc)
        finally:
            os.close(fd)
    return (head, error) if size is None else (head, tail, error)


def is_locked(path, attempts=5, pause=0.02):
    """Whether another user holds the block device ``path`` exclusively (mounted, held by dm/md, opened O_EXCL).

    A busy answer is asked again a few times: another probe (ceph-volume, this module on a neighbour container
    sharing the device) holds its exclusive open only for an instant, a real holder keeps it.
    """
    for attempt in range(attempts):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_EXCL | getattr(os, "O_CLOEXEC", 0))
        except (IOError, OSError) as exc:
            if exc.errno != errno.EBUSY:
                return False
            if attempt + 1 < attempts:
                time.sleep(pause)
            continue
        os.close(fd)
        return False
    return True


def _probe(root, name, size, run_blkid):
    """Signatures of /dev/<name>: our own superblock reader plus ``blkid -p`` when given.

    Returns ``(signatures, error, node_exists, locked, mbr_entries)``.
    """
    node = os.path.join(root, "dev", name)
    if not os.path.exists(node):
        return [], None, False, False, 0
    if not size:
        return [], None, True, False, 0
    head, tail, error = read_head(node, size=size)
    sigs = detect_signatures(head)
    for sig in detect_tail_signatures(tail, size):
        if sig not in sigs:
            sigs.append(sig)
    if run_blkid is not None and error is None:
        for sig in parse_blkid_export(run_blkid(node) or ""):
            if sig not in sigs:
                sigs.append(sig)
    locked = stat.S_ISBLK(os.stat(node).st_mode) and is_locked(node)
    return sigs, error, True, locked, mbr_partition_entries(head)


def collect_raw(root="/", run_blkid=None):
    """Read /sys/block (and /dev) under ``root`` into raw device dicts for :func:`build_device`."""
    sys_block = os.path.join(root, "sys", "block")
    devices = []
    for name in _listdir(sys_block):
        base = os.path.join(sys_block, name)
        size = int(_read(os.path.join(base, "size"), "0") or 0) * SECTOR
        raw = {
            "name": name,
            "devnum": _read(os.path.join(base, "dev"), ""),
            "size": size,
            "read_only": _read(os.path.join(base, "ro"), "0") == "1",
            "rotational": _read(os.path.join(base, "queue", "rotational"), "0") == "1",
            "removable": _read(os.path.join(base, "removable"), "0") == "1",
            "holders": _listdir(os.path.join(base, "holders")),
            "holder_names": {},
            "is_dm": os.path.isdir(os.path.join(base, "dm")),
            "is_md": os.path.isdir(os.path.join(base, "md")),
            "backing_file": _read(os.path.join(base, "loop", "backing_file")),
            "partitions": [],
        }
        for holder in raw["holders"]:
            dm_name = _read(os.path.join(sys_block, holder, "dm", "name"))
            if dm_name:
                raw["holder_names"][holder] = dm_name
        sigs, error, node, locked, entries = _probe(root, name, size, run_blkid)
        raw.update({"signatures": sigs, "probe_error": error, "dev_node": node, "locked": locked,
                    "mbr_entries": entries})
        for entry in _listdir(base):
            pbase = os.path.join(base, entry)
            if not os.path.isfile(os.path.join(pbase, "partition")):
                continue
            psize = int(_read(os.path.join(pbase, "size"), "0") or 0) * SECTOR
            psigs = _probe(root, entry, psize, None)[0]
            raw["partitions"].append({
                "name": entry,
                "devnum": _read(os.path.join(pbase, "dev"), ""),
                "size": psize,
                "read_only": _read(os.path.join(pbase, "ro"), "0") == "1",
                "holders": _listdir(os.path.join(pbase, "holders")),
                "signatures": psigs,
            })
        devices.append(raw)
    return devices


def discover(root="/", run_blkid=None, min_size=MIN_OSD_SIZE):
    """Every block device under ``root`` as reported records (see :func:`build_device`)."""
    mounts = parse_mountinfo(_read(os.path.join(root, "proc", "self", "mountinfo"), ""))
    swaps = parse_swaps(_read(os.path.join(root, "proc", "swaps"), ""))
    return [build_device(raw, mounts, swaps, min_size) for raw in collect_raw(root, run_blkid)]


def describe_requested(paths, root="/"):
    """stat() each requested path (read-only) into the dicts :func:`resolve_requested` expects."""
    out = []
    for path in paths:
        full = os.path.join(root, path.lstrip("/")) if root != "/" else path
        real = os.path.realpath(full)
        info = {"path": path, "realpath": real if root == "/" else path, "exists": False, "is_block": False,
                "devnum": None}
        try:
            st = os.stat(real)
        except (IOError, OSError):
            out.append(info)
            continue
        info["exists"] = True
        info["is_block"] = stat.S_ISBLK(st.st_mode)
        info["devnum"] = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)) if info["is_block"] else None
        out.append(info)
    return out
