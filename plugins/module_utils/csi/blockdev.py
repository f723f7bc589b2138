# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure block-device classification for Ceph OSD eligibility, with the rules of ``ceph-volume inventory``.

No Ansible imports and no I/O: :mod:`blockdev_io` reads /sys/block, /proc/self/mountinfo, /proc/swaps and the first
and last bytes of each device, and hands plain data to the functions here. Everything is stdlib-only and python 3.8
compatible because it runs on the nodes.

The rules follow what Rook runs on each node: ``ceph-volume inventory`` (ceph ``src/ceph-volume/ceph_volume/util/
device.py``, ``Device._check_generic_reject_reasons`` and ``_check_raw_reject_reasons``: removable, read-only,
locked, "Insufficient space (<5GB)" below 5368709120 bytes, not a disk, "Used by ceph-disk", "Has BlueStore device
label", "Has GPT headers", "Has partitions", "LVM detected"), plus the signatures and holders that make a device
unusable in practice (filesystems, swap, LUKS, md members, mounts, device-mapper holders). An empty MBR label (a
``dos`` partition table without partitions) is accepted, as ceph-volume accepts it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import struct

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import mounts

GIB = 1024 ** 3
# ceph-volume's "Insufficient space (<5GB)": int(sys_api['size']) < 5368709120, i.e. 5 GiB in bytes.
MIN_OSD_SIZE = 5 * GIB
SECTOR = 512
# How many leading bytes of a device are read to look for signatures (btrfs's superblock sits at 64 KiB + 64).
PROBE_BYTES = 69632
# How many trailing bytes are read: md v0.90 puts its superblock 64-128 KiB before the end, v1.0 8-12 KiB before it.
TAIL_BYTES = 131072
MD_MAGIC = b"\xfc\x4e\x2b\xa9"   # 0xa92b4efc, little-endian

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
_LABEL = "empty_label"   # a partition table signature that ceph-volume does not reject by itself (MBR)

# signature name -> usage, for signatures reported by blkid too
SIGNATURE_USAGE = {
    "ext2": _FS, "ext3": _FS, "ext4": _FS, "xfs": _FS, "btrfs": _FS, "vfat": _FS, "ntfs": _FS,
    "iso9660": _FS, "squashfs": _FS, "f2fs": _FS, "swap": _SWAP, "LVM2_member": _LVM,
    "crypto_LUKS": _CRYPTO, "ceph_bluestore": _CEPH, "linux_raid_member": _RAID, "dos": _LABEL, "gpt": _PT,
    # blkid's name for a protective MBR whose GPT it could not read (damaged or wiped GPT header)
    "PMBR": _PT,
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
    if _at(buf, 510, b"\x55\xaa"):
        if _at(buf, 3, b"NTFS    "):
            add("ntfs")
        elif _at(buf, 54, b"FAT1") or _at(buf, 82, b"FAT32"):
            add("vfat")
        elif _protective_mbr(buf):
            # a GPT disk, even when its primary header is damaged or wiped: never an "empty MBR"
            gpt = True
        elif not gpt and not found:
            add("dos")
    if gpt:
        add("gpt")
    return found


def mbr_partition_entries(buf):
    """How many of the four MBR partition entries are in use (type byte not 0), when ``buf`` starts with an MBR."""
    if not _at(buf, 510, b"\x55\xaa") or _protective_mbr(buf):
        return 0
    return sum(1 for i in range(4) if len(buf) > 446 + 16 * i + 4 and buf[446 + 16 * i + 4] != 0)


def _protective_mbr(buf):
    """An MBR whose partition entries include type 0xEE (GPT protective), as libblkid's PMBR check reads it."""
    return any(_at(buf, 446 + 16 * i + 4, b"\xee") for i in range(4))


def md_superblock_offsets(size):
    """Byte offsets of the md v0.90 and v1.0 superblocks, which sit at the end of a device of ``size`` bytes.

    v0.90 (``MD_NEW_SIZE_SECTORS``): the size rounded down to 64 KiB, minus 64 KiB. v1.0 (mdadm ``super1.c``): 8 KiB
    before the end, rounded down to 4 KiB.
    """
    sectors = int(size) // SECTOR
    offsets = []
    if sectors >= 256:
        offsets.append(("0.90", ((sectors & ~127) - 128) * SECTOR))
    if sectors >= 24:
        offsets.append(("1.0", ((sectors - 16) & ~7) * SECTOR))
    return offsets


def detect_tail_signatures(tail, size):
    """Signatures found in the last bytes ``tail`` of a device of ``size`` bytes: md v0.90 and v1.0 superblocks.

    blkid finds them too (``linux_raid_member``); this finds them without blkid. Never raises.
    """
    tail = bytes(tail or b"")
    start = int(size) - len(tail)
    for version, offset in md_superblock_offsets(size):
        at = offset - start
        if at < 0 or not _at(tail, at, MD_MAGIC):
            continue
        major = _u32le(tail, at + 4)
        if (version == "0.90" and major == 0) or (version == "1.0" and major == 1):
            return ["linux_raid_member"]
    return []


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


unescape_mount_path = mounts.unescape_mount_path
parse_swaps = mounts.swap_paths


def parse_mountinfo(text):
    """Map ``major:minor`` and ``/dev/...`` mount sources to their mount points from /proc/self/mountinfo text.

    Returns ``{key: [mountpoint, ...]}``; a malformed line is ignored.
    """
    found = {}
    for devnum, mountpoint, _fstype, source in mounts.mountinfo_entries(text):
        keys = [devnum]
        if source.startswith("/dev/"):
            keys.append(unescape_mount_path(source))
        for key in keys:
            points = found.setdefault(key, [])
            if mountpoint not in points:
                points.append(mountpoint)
    return found


def device_type(name, is_dm=False, is_md=False):
    """Kind of a /sys/block entry: disk, loop, dm, md, zram, rom, nbd, ram."""
    if is_dm or name.startswith("dm-"):
        return "dm"
    if is_md or re.match(r"^md\d", name):
        return "md"
    for prefix, kind in (("loop", "loop"), ("zram", "zram"), ("sr", "rom"), ("nbd", "nbd"), ("ram", "ram")):
        if re.match(r"^%s\d+\Z" % prefix, name):
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
        reasons.append("too small: %d bytes (%s), below the minimum of %d bytes (%s)"
                       % (size, human_size(size), min_size, human_size(min_size)))
    if dev.get("removable"):
        reasons.append("is removable")
    if dev.get("read_only"):
        reasons.append("is read-only")
    if dev.get("locked"):
        reasons.append("is locked (another user holds it open exclusively)")
    if dev.get("probe_error"):
        reasons.append("could not be read: %s" % dev["probe_error"])
    parts = dev.get("partitions") or []
    if parts:
        reasons.append("has partitions: %s" % ", ".join(p["name"] for p in parts))
    entries = int(dev.get("mbr_entries") or 0)
    if entries and not parts:
        # stricter than ceph-volume, which accepts an MBR whose partitions the kernel does not show
        reasons.append("has a partition table: dos (%d partition entr%s)" % (entries, "y" if entries == 1 else "ies"))
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

    ``raw`` keys: name, devnum ("8:0"), size (bytes), read_only, rotational, removable, locked, mbr_entries, holders,
    partitions (list
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
        "locked": bool(raw.get("locked")),
        "mbr_entries": int(raw.get("mbr_entries") or 0),
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


def select_rook_devices(devices, device_filter=None, use_all_devices=False):
    """The devices Rook's ``useAllDevices`` or ``deviceFilter`` would consider on this node.

    Rook matches ``deviceFilter`` with Go's ``regexp.Match`` against the device name (``sdb``, not ``/dev/sdb``), a
    search anywhere in the name; ``useAllDevices`` takes every device. Rook then skips what ``ceph-volume
    inventory`` rejects, which :func:`osd_reasons` mirrors. ``device_filter`` must be a valid regular expression.
    """
    pattern = re.compile(device_filter) if device_filter else None
    return [d for d in devices if use_all_devices or (pattern is not None and pattern.search(d["name"]))]


def selection_warnings(selected, what):
    """Warnings for a Rook device selection: each selected device Rook would skip, or that none is usable.

    Not errors: with ``useAllDevices`` or a ``deviceFilter`` a node without a usable disk (a control-plane node, the
    OS disk only) simply gets no OSD from Rook. Devices that already are Ceph OSDs count as usable (a re-run after
    Rook created its OSDs).
    """
    usable = [d for d in selected if d["osd_eligible"] or d.get("ceph_osd")]
    skipped = ["%s: Rook would skip %s: %s" % (what, d["path"], d["reason"]) for d in selected
               if not (d["osd_eligible"] or d.get("ceph_osd"))]
    if usable:
        return skipped
    if not selected:
        return ["%s: matches no block device on this node, so Rook creates no OSD here" % what]
    return ["%s: no selected device on this node is eligible for a Ceph OSD, so Rook creates no OSD here" % what] + skipped
