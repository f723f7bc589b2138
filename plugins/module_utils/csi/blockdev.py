# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure block-device classification for Ceph OSD eligibility.

No Ansible imports and no I/O: the module reads /sys/block, /proc/self/mountinfo, /proc/swaps and the first bytes of
each device, and hands plain data to the functions here. Everything is stdlib-only and python 3.8 compatible because
it runs on the nodes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import struct

GIB = 1024 ** 3
# Rook's osd-prepare skips devices under 5 GB ("Insufficient space (<5GB)"); the collection asks for 5 GiB.
MIN_OSD_SIZE = 5 * GIB
SECTOR = 512
# How many leading bytes of a device are read to look for signatures (btrfs's superblock sits at 64 KiB + 64).
PROBE_BYTES = 69632

# Device kinds that count as "a whole disk" for OSDs. Loop devices are whole disks here: the lab tests with them,
# and Rook itself accepts them with allowLoopDevices.
WHOLE_DISK_TYPES = ("disk", "loop")

_FS = "filesystem"
_PT = "partition_table"
_RAID = "raid"
_CRYPTO = "crypto"
_LVM = "lvm"
_CEPH = "ceph"
_SWAP = "swap"

# signature name -> usage, for signatures reported by blkid too
SIGNATURE_USAGE = {
    "ext2": _FS, "ext3": _FS, "ext4": _FS, "xfs": _FS, "btrfs": _FS, "vfat": _FS, "ntfs": _FS,
    "iso9660": _FS, "squashfs": _FS, "f2fs": _FS, "swap": _SWAP, "LVM2_member": _LVM,
    "crypto_LUKS": _CRYPTO, "ceph_bluestore": _CEPH, "linux_raid_member": _RAID, "dos": _PT, "gpt": _PT,
}


def _at(buf, offset, magic):
    end = offset + len(magic)
    return len(buf) >= end and buf[offset:end] == magic


def _u32le(buf, offset):
    if len(buf) < offset + 4:
        return 0
    return struct.unpack_from("<I", buf, offset)[0]


def _ext_flavour(buf):
    compat = _u32le(buf, 1024 + 0x5C)
    incompat = _u32le(buf, 1024 + 0x60)
    ro_compat = _u32le(buf, 1024 + 0x64)
    # ext4-only: extents, 64bit, mmp, flex_bg / huge_file, gdt_csum, dir_nlink, extra_isize, metadata_csum
    if incompat & (0x40 | 0x80 | 0x100 | 0x200) or ro_compat & (0x08 | 0x10 | 0x20 | 0x40 | 0x400):
        return "ext4"
    if compat & 0x4:  # has_journal
        return "ext3"
    return "ext2"


def detect_signatures(buf):
    """Return the on-disk signatures found in the leading bytes ``buf`` of a device, as blkid names them.

    Recognised: ext2/3/4, xfs, btrfs, vfat, ntfs, iso9660, squashfs, f2fs, swap, LVM2_member, crypto_LUKS,
    ceph_bluestore, linux_raid_member (md 1.1/1.2), and the partition tables gpt and dos (MBR).
    Never raises: short or random input yields whatever matches, usually nothing.
    """
    buf = bytes(buf or b"")
    found = []

    def add(name):
        if name not in found:
            found.append(name)

    if _at(buf, 0, b"bluestore block device"):
        add("ceph_bluestore")
    if _at(buf, 0, b"LUKS\xba\xbe") or _at(buf, 0, b"SKUL\xba\xbe"):
        add("crypto_LUKS")
    if _at(buf, 0, b"XFSB"):
        add("xfs")
    if _at(buf, 0, b"hsqs"):
        add("squashfs")
    if _at(buf, 1080, b"\x53\xef"):
        add(_ext_flavour(buf))
    if _at(buf, 1024, b"\x10\x20\xf5\xf2"):
        add("f2fs")
    if _at(buf, 65600, b"_BHRfS_M"):
        add("btrfs")
    if _at(buf, 32769, b"CD001"):
        add("iso9660")
    for page in (4096, 8192, 16384, 65536):
        if _at(buf, page - 10, b"SWAPSPACE2") or _at(buf, page - 10, b"SWAP-SPACE"):
            add("swap")
            break
    for sector in range(4):
        label = sector * SECTOR
        if _at(buf, label, b"LABELONE") and _at(buf, label + 24, b"LVM2 001"):
            add("LVM2_member")
            break
    md_magic = b"\xfc\x4e\x2b\xa9"
    if _at(buf, 4096, md_magic) or _at(buf, 0, md_magic):
        add("linux_raid_member")
    gpt = _at(buf, SECTOR, b"EFI PART")
    if gpt:
        add("gpt")
    if _at(buf, 510, b"\x55\xaa"):
        if _at(buf, 3, b"NTFS    "):
            add("ntfs")
        elif _at(buf, 54, b"FAT1") or _at(buf, 82, b"FAT32"):
            add("vfat")
        elif not gpt and not found:
            add("dos")
    return found


def signature_usage(name):
    """Classify a signature name (ours or blkid's TYPE/PTTYPE) as filesystem, partition_table, lvm, ..."""
    return SIGNATURE_USAGE.get(name, "other")


def parse_blkid_export(text):
    """Parse ``blkid -p -o export DEV`` output into the signature names it reports (TYPE and PTTYPE)."""
    values = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return [values[key] for key in ("TYPE", "PTTYPE") if values.get(key)]


_OCTAL = re.compile(r"\\([0-7]{3})")


def unescape_mount_path(path):
    """Undo the octal escapes (``\\040`` for a space, ...) used in /proc/self/mountinfo and /proc/swaps."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), path)


def parse_mountinfo(text):
    """Map ``major:minor`` and ``/dev/...`` mount sources to their mount points from /proc/self/mountinfo text.

    Returns ``{key: [mountpoint, ...]}``; a malformed line is ignored.
    """
    mounts = {}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 7 or "-" not in fields[6:]:
            continue
        sep = fields.index("-", 6)
        devnum = fields[2]
        mountpoint = unescape_mount_path(fields[4])
        source = fields[sep + 2] if len(fields) > sep + 2 else ""
        keys = [devnum]
        if source.startswith("/dev/"):
            keys.append(unescape_mount_path(source))
        for key in keys:
            points = mounts.setdefault(key, [])
            if mountpoint not in points:
                points.append(mountpoint)
    return mounts


def parse_swaps(text):
    """Return the device/file paths listed in /proc/swaps."""
    paths = []
    for line in (text or "").splitlines()[1:]:
        fields = line.split()
        if fields:
            paths.append(unescape_mount_path(fields[0]))
    return paths


def device_type(name, is_dm=False, is_md=False):
    """Kind of a /sys/block entry: disk, loop, dm, md, zram, rom, nbd, ram."""
    if is_dm or name.startswith("dm-"):
        return "dm"
    if is_md or re.match(r"^md\d", name):
        return "md"
    for prefix, kind in (("loop", "loop"), ("zram", "zram"), ("sr", "rom"), ("nbd", "nbd"), ("ram", "ram")):
        if re.match(r"^%s\d+$" % prefix, name):
            return kind
    return "disk"


def human_size(size):
    size = int(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return ("%d %s" % (size, unit)) if unit == "B" else ("%.1f %s" % (size, unit))
        size /= 1024.0
    return "%d B" % size  # pragma: no cover


def holder_kind(holder):
    if holder.startswith("dm-"):
        return "device-mapper/LVM"
    if holder.startswith("md"):
        return "md RAID"
    if holder.startswith("bcache"):
        return "bcache"
    return "kernel"


def osd_reasons(dev, min_size=MIN_OSD_SIZE):
    """Every reason why ``dev`` cannot become a Ceph OSD; an empty list means eligible.

    ``dev`` is a device record as built by :func:`build_device`. Checks, in order: whole disk, present, readable,
    writable, size, partitions, signatures, mounts, swap, holders (also of its partitions).
    """
    reasons = []
    kind = dev.get("type", "disk")
    if dev.get("partition"):
        reasons.append("is a partition of %s, not a whole disk" % dev.get("parent", "?"))
    elif kind not in WHOLE_DISK_TYPES:
        reasons.append("is a %s device, not a whole disk" % kind)
    size = int(dev.get("size") or 0)
    if size == 0:
        reasons.append("has no media or backing file (size 0)")
    elif size < min_size:
        reasons.append("too small: %s (%d bytes) < %s" % (human_size(size), size, human_size(min_size)))
    if dev.get("read_only"):
        reasons.append("is read-only")
    if dev.get("probe_error"):
        reasons.append("could not be read: %s" % dev["probe_error"])
    parts = dev.get("partitions") or []
    if parts:
        reasons.append("has partitions: %s" % ", ".join(p["name"] for p in parts))
    sigs = dev.get("signatures") or []
    for usage, label in ((_FS, "a filesystem"), (_PT, "a partition table"), (_SWAP, "a swap signature"),
                         (_LVM, "an LVM physical volume signature"), (_CEPH, "a Ceph BlueStore label"),
                         (_CRYPTO, "a LUKS header"), (_RAID, "an md RAID superblock"), ("other", "a signature")):
        names = [s for s in sigs if signature_usage(s) == usage]
        if names:
            reasons.append("has %s: %s" % (label, ", ".join(names)))
    mounts = list(dev.get("mountpoints") or [])
    for part in parts:
        mounts.extend(part.get("mountpoints") or [])
    if mounts:
        reasons.append("is mounted at %s" % ", ".join(mounts))
    if dev.get("swap") or any(p.get("swap") for p in parts):
        reasons.append("is in use as swap")
    holders = list(dev.get("holders") or [])
    for part in parts:
        holders.extend(part.get("holders") or [])
    if holders:
        reasons.append("is held by %s" % ", ".join("%s (%s)" % (h, holder_kind(h)) for h in holders))
    return reasons


def build_device(raw, mounts=None, swaps=None, min_size=MIN_OSD_SIZE):
    """Turn the raw sysfs/probe data of one device into the reported record, with ``osd_eligible`` and ``reason``.

    ``raw`` keys: name, devnum ("8:0"), size (bytes), read_only, rotational, removable, holders, partitions (list
    of raw partition dicts with name, devnum, size, read_only, holders, signatures), holder_names (holder ->
    device-mapper name), signatures, probe_error, is_dm, is_md, backing_file, dev_node (bool: /dev/<name> exists).
    """
    mounts = mounts or {}
    swaps = set(swaps or [])
    name = raw["name"]
    path = "/dev/" + name

    def mps(devnum, devpath):
        points = list(mounts.get(devnum, []))
        for point in mounts.get(devpath, []):
            if point not in points:
                points.append(point)
        return points

    partitions = []
    for part in sorted(raw.get("partitions") or [], key=lambda p: p["name"]):
        ppath = "/dev/" + part["name"]
        partitions.append({
            "name": part["name"],
            "path": ppath,
            "devnum": part.get("devnum", ""),
            "size": int(part.get("size") or 0),
            "read_only": bool(part.get("read_only")),
            "signatures": list(part.get("signatures") or []),
            "mountpoints": mps(part.get("devnum", ""), ppath),
            "holders": sorted(part.get("holders") or []),
            "swap": ppath in swaps,
        })
    dev = {
        "name": name,
        "path": path,
        "devnum": raw.get("devnum", ""),
        "type": device_type(name, raw.get("is_dm", False), raw.get("is_md", False)),
        "partition": False,
        "size": int(raw.get("size") or 0),
        "size_human": human_size(raw.get("size") or 0),
        "read_only": bool(raw.get("read_only")),
        "rotational": bool(raw.get("rotational")),
        "removable": bool(raw.get("removable")),
        "partitions": partitions,
        "signatures": list(raw.get("signatures") or []),
        "filesystem": None,
        "mountpoints": mps(raw.get("devnum", ""), path),
        "holders": sorted(raw.get("holders") or []),
        "swap": path in swaps,
        "backing_file": raw.get("backing_file"),
        "dev_node": bool(raw.get("dev_node", True)),
        "probe_error": raw.get("probe_error"),
    }
    fs = [s for s in dev["signatures"] if signature_usage(s) in (_FS, _SWAP)]
    dev["filesystem"] = fs[0] if fs else None
    dev["holder_names"] = dict(raw.get("holder_names") or {})
    dev["ceph_osd"] = is_ceph_osd(dev)
    reasons = osd_reasons(dev, min_size)
    dev["osd_eligible"] = not reasons
    dev["reasons"] = reasons
    dev["reason"] = "; ".join(reasons) if reasons else None
    return dev


def is_ceph_osd(dev):
    """Whether the device already is a Ceph OSD: a BlueStore label (raw mode) or an LVM PV held by a ``ceph-*``
    device-mapper volume (ceph-volume lvm mode, names like ``ceph--<uuid>-osd--block--<uuid>``)."""
    if "ceph_bluestore" in (dev.get("signatures") or []):
        return True
    names = dev.get("holder_names") or {}
    return "LVM2_member" in (dev.get("signatures") or []) and any(
        str(names.get(h, "")).startswith("ceph-") for h in dev.get("holders") or [])


def partition_record(disk, part):
    """A reportable record for a partition named on its own (never OSD-eligible)."""
    record = dict(part)
    record.update({"type": "part", "partition": True, "parent": disk["name"], "partitions": [],
                   "rotational": disk["rotational"], "removable": disk["removable"],
                   "size_human": human_size(part["size"])})
    reasons = osd_reasons(record)
    record["osd_eligible"] = False
    record["reasons"] = reasons
    record["reason"] = "; ".join(reasons)
    return record


def resolve_requested(requested, devices):
    """Match requested device paths against the report.

    ``requested``: list of dicts {path, realpath, exists, is_block, devnum} describing what the module found for
    each path the user named. ``devices``: records from :func:`build_device`.
    Returns ``(selected_records, errors)``; errors lists every problem (missing, not a block device, partition,
    unknown to /sys/block), each naming the path.
    """
    by_devnum = {}
    for dev in devices:
        by_devnum[dev["devnum"]] = (dev, None)
        for part in dev["partitions"]:
            by_devnum[part["devnum"]] = (dev, part)
    selected, errors = [], []
    for req in requested:
        path = req["path"]
        shown = path if req.get("realpath") in (None, path) else "%s (-> %s)" % (path, req["realpath"])
        if not req.get("exists"):
            errors.append("%s does not exist" % shown)
            continue
        if not req.get("is_block"):
            errors.append("%s is not a block device" % shown)
            continue
        hit = by_devnum.get(req.get("devnum"))
        if hit is None:
            errors.append("%s (device %s) is not listed in /sys/block" % (shown, req.get("devnum")))
            continue
        disk, part = hit
        if part is not None:
            errors.append("%s is a partition of %s: name the whole disk %s" % (shown, disk["path"], disk["path"]))
            continue
        if disk not in selected:
            selected.append(disk)
    return selected, errors


def ineligible_errors(selected, accept_ceph_osds=False):
    """One message per selected device that is not OSD-eligible, with its reasons.

    With ``accept_ceph_osds`` a device that already is a Ceph OSD (see :func:`is_ceph_osd`) is not an error:
    re-running a node role after Rook created its OSDs must not fail.
    """
    return ["%s is not eligible for a Ceph OSD: %s" % (d["path"], d["reason"]) for d in selected
            if not d["osd_eligible"] and not (accept_ceph_osds and d.get("ceph_osd"))]


# ---------------------------------------------------------------------------------------------------------------
# Collection: read-only I/O, stdlib only. Every path is relative to ``root`` so tests can point it at a fake tree.
# Nothing here ever opens a device for writing.
# ---------------------------------------------------------------------------------------------------------------

def _read(path, default=None):
    try:
        with open(path, "r") as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return default


def _listdir(path):
    import os
    try:
        return sorted(os.listdir(path))
    except (IOError, OSError):
        return []


def read_head(path, length=PROBE_BYTES):
    """Read the first ``length`` bytes of ``path`` read-only. Returns ``(bytes, error_or_None)``."""
    import os
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except (IOError, OSError) as exc:
        return b"", str(exc)
    try:
        chunks, total = [], 0
        while total < length:
            chunk = os.read(fd, length - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks), None
    except (IOError, OSError) as exc:
        return b"", str(exc)
    finally:
        os.close(fd)


def _probe(root, name, size, run_blkid):
    """Signatures of /dev/<name>: our own superblock reader plus ``blkid -p`` when given. (sigs, error, node)."""
    import os
    node = os.path.join(root, "dev", name)
    if not os.path.exists(node):
        return [], None, False
    if not size:
        return [], None, True
    head, error = read_head(node)
    sigs = detect_signatures(head)
    if run_blkid is not None and error is None:
        for sig in parse_blkid_export(run_blkid(node) or ""):
            if sig not in sigs:
                sigs.append(sig)
    return sigs, error, True


def collect_raw(root="/", run_blkid=None):
    """Read /sys/block (and /dev) under ``root`` into raw device dicts for :func:`build_device`."""
    import os
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
        sigs, error, node = _probe(root, name, size, run_blkid)
        raw.update({"signatures": sigs, "probe_error": error, "dev_node": node})
        for entry in _listdir(base):
            pbase = os.path.join(base, entry)
            if not os.path.isfile(os.path.join(pbase, "partition")):
                continue
            psize = int(_read(os.path.join(pbase, "size"), "0") or 0) * SECTOR
            psigs, _perr, _pnode = _probe(root, entry, psize, None)
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
    import os
    mounts = parse_mountinfo(_read(os.path.join(root, "proc", "self", "mountinfo"), ""))
    swaps = parse_swaps(_read(os.path.join(root, "proc", "swaps"), ""))
    return [build_device(raw, mounts, swaps, min_size) for raw in collect_raw(root, run_blkid)]


def describe_requested(paths, root="/"):
    """stat() each requested path (read-only) into the dicts :func:`resolve_requested` expects."""
    import os
    import stat
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
