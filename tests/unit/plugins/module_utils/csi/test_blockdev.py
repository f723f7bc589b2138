"""Block-device classification for Ceph OSDs (plugins/module_utils/csi/blockdev.py)."""
import os
import struct

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import blockdev as bd
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import blockdev_io as bio

GIB = 1024 ** 3


def _buf(size=bd.PROBE_BYTES):
    return bytearray(size)


def _ext(compat=0, incompat=0, ro_compat=0):
    buf = _buf()
    buf[1080:1082] = b"\x53\xef"
    struct.pack_into("<III", buf, 1024 + 0x5C, compat, incompat, ro_compat)
    return bytes(buf)


def _mbr(ptype=0x83):
    buf = _buf()
    buf[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", ptype, b"\0\0\0", 2048, 4096)
    buf[510:512] = b"\x55\xaa"
    return buf


@pytest.mark.parametrize("data,expected", [
    (_ext(compat=0x4, incompat=0x2 | 0x40 | 0x200), ["ext4"]),
    (_ext(compat=0x4), ["ext3"]),
    (_ext(), ["ext2"]),
    (b"XFSB" + bytes(5000), ["xfs"]),
    (bytes(65600) + b"_BHRfS_M" + bytes(100), ["btrfs"]),
    (bytes(4086) + b"SWAPSPACE2", ["swap"]),
    (bytes(512) + b"LABELONE" + bytes(16) + b"LVM2 001" + bytes(100), ["LVM2_member"]),
    (b"LUKS\xba\xbe" + bytes(600), ["crypto_LUKS"]),
    (b"bluestore block device\n" + bytes(600), ["ceph_bluestore"]),
    (bytes(4096) + b"\xfc\x4e\x2b\xa9" + bytes(100), ["linux_raid_member"]),
    (bytes(32769) + b"CD001" + bytes(10), ["iso9660"]),
    (bytes(_mbr()), ["dos"]),
    (bytes(_mbr(0xEE)[:512]) + b"EFI PART" + bytes(600), ["gpt"]),
    # a protective MBR whose GPT header is damaged or wiped is still a GPT disk, not an "empty MBR"
    (bytes(_mbr(0xEE)[:512]) + bytes(600), ["gpt"]),
    (bytes(_mbr(0x83)[:512]) + b"EFI PART" + bytes(600), ["gpt"]),
    (bytes(bytearray(b"\xeb\x58\x90") + bytearray(79) + b"FAT32   " + bytearray(420) + b"\x55\xaa"), ["vfat"]),
    (bytes(bytearray(b"\xeb\x52\x90NTFS    ") + bytearray(499) + b"\x55\xaa"), ["ntfs"]),
    (bytes(bd.PROBE_BYTES), []),
    (b"", []),
    (None, []),
])
def test_detect_signatures_known_magics(data, expected):
    assert bd.detect_signatures(data) == expected


@given(st.binary(max_size=4096))
@settings(max_examples=examples(200), deadline=None)
def test_detect_signatures_never_raises_and_names_are_known(data):
    found = bd.detect_signatures(data)
    assert len(found) == len(set(found))
    assert all(name in bd.SIGNATURE_USAGE for name in found)


def test_parse_blkid_export_returns_type_and_pttype():
    assert bd.parse_blkid_export("DEVNAME=/dev/loop1\nUUID=abc\nVERSION=1.0\nTYPE=ext4\nUSAGE=filesystem\n") == ["ext4"]
    assert bd.parse_blkid_export("DEVNAME=/dev/loop2\nPTTYPE=dos\n") == ["dos"]
    assert bd.parse_blkid_export("") == []


MOUNTINFO = (
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "40 22 7:1 / /mnt/with\\040space rw shared:9 - ext4 /dev/loop1 rw\n"
    "41 22 0:5 / /dev rw - devtmpfs udev rw\n"
    "broken line\n"
)


def test_parse_mountinfo_maps_devnum_and_source():
    mounts = bd.parse_mountinfo(MOUNTINFO)
    assert mounts["254:0"] == ["/"]
    assert mounts["7:1"] == ["/mnt/with space"]
    assert mounts["/dev/loop1"] == ["/mnt/with space"]
    assert "udev" not in mounts


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80), max_size=20))
@settings(max_examples=examples(100), deadline=None)
def test_parse_mountinfo_never_raises(lines):
    result = bd.parse_mountinfo("\n".join(lines))
    assert isinstance(result, dict)


def test_parse_swaps():
    text = "Filename\tType\tSize\tUsed\tPriority\n/dev/sdb2 partition 100 0 -2\n/swap\\040file file 1 0 -3\n"
    assert bd.parse_swaps(text) == ["/dev/sdb2", "/swap file"]


@pytest.mark.parametrize("name,dm,md,expected", [
    ("sda", False, False, "disk"), ("nvme0n1", False, False, "disk"), ("vda", False, False, "disk"),
    ("loop3", False, False, "loop"), ("dm-0", False, False, "dm"), ("md127", False, False, "md"),
    ("zram0", False, False, "zram"), ("sr0", False, False, "rom"), ("nbd2", False, False, "nbd"),
    ("weird", True, False, "dm"),
])
def test_device_type(name, dm, md, expected):
    assert bd.device_type(name, dm, md) == expected


def _raw(name="sdb", size=10 * GIB, **kw):
    raw = {"name": name, "devnum": "8:16", "size": size, "read_only": False, "rotational": True,
           "removable": False, "holders": [], "partitions": [], "signatures": []}
    raw.update(kw)
    return raw


def test_raw_disk_is_eligible():
    dev = bd.build_device(_raw())
    assert dev["osd_eligible"] is True
    assert dev["reason"] is None and dev["reasons"] == []
    assert dev["path"] == "/dev/sdb" and dev["rotational"] is True and dev["size_human"] == "10.0 GiB"


def test_exactly_five_gib_is_eligible_and_one_byte_less_is_not():
    assert bd.build_device(_raw(size=5 * GIB))["osd_eligible"] is True
    small = bd.build_device(_raw(size=5 * GIB - 512))
    assert small["osd_eligible"] is False
    assert small["reason"] == "too small: 5368708608 bytes (5.0 GiB), below the minimum of 5368709120 bytes (5.0 GiB)"


@pytest.mark.parametrize("kw,needle", [
    ({"signatures": ["ext4"]}, "has a filesystem: ext4"),
    ({"signatures": ["gpt"]}, "has a partition table: gpt"),
    ({"signatures": ["PMBR"]}, "has a partition table: PMBR"),
    ({"removable": True}, "is removable"),
    ({"locked": True}, "is locked (another user holds it open exclusively)"),
    ({"signatures": ["LVM2_member"]}, "LVM physical volume"),
    ({"signatures": ["ceph_bluestore"]}, "BlueStore"),
    ({"signatures": ["zfs_member"]}, "has a signature: zfs_member"),
    ({"size": GIB}, "too small: 1073741824 bytes (1.0 GiB), below the minimum of 5368709120 bytes (5.0 GiB)"),
    ({"size": 0}, "no media"),
    ({"read_only": True}, "is read-only"),
    ({"holders": ["dm-0"]}, "is held by dm-0 (device-mapper/LVM)"),
    ({"name": "dm-3"}, "is a dm device, not a whole disk"),
    ({"name": "zram0"}, "is a zram device, not a whole disk"),
    ({"probe_error": "Permission denied"}, "could not be read: Permission denied"),
    ({"partitions": [{"name": "sdb1", "devnum": "8:17", "size": GIB}]}, "has partitions: sdb1"),
    ({"partitions": [{"name": "sdb1", "devnum": "8:17", "size": GIB, "holders": ["md0"]}]}, "md0 (md RAID)"),
])
def test_each_disqualifier_gives_its_reason(kw, needle):
    dev = bd.build_device(_raw(**kw))
    assert dev["osd_eligible"] is False
    assert needle in dev["reason"]


def test_mounted_disk_and_mounted_partition_and_swap():
    mounts = bd.parse_mountinfo("40 22 8:16 / /data rw - xfs /dev/sdb rw\n41 22 8:17 / /boot rw - ext4 /dev/sdc1 rw\n")
    dev = bd.build_device(_raw(), mounts)
    assert "is mounted at /data" in dev["reason"]
    part = bd.build_device(_raw(name="sdc", devnum="8:32", partitions=[{"name": "sdc1", "devnum": "8:33"}]),
                           mounts)
    assert part["partitions"][0]["mountpoints"] == ["/boot"]
    assert "is mounted at /boot" in part["reason"]
    swapped = bd.build_device(_raw(), swaps=["/dev/sdb"])
    assert "swap" in swapped["reason"]


def test_all_reasons_are_listed_together():
    dev = bd.build_device(_raw(size=GIB, read_only=True, signatures=["ext4"], holders=["dm-1"]))
    assert len(dev["reasons"]) == 4
    assert dev["reason"] == "; ".join(dev["reasons"])


_raw_strategy = st.fixed_dictionaries({
    "name": st.sampled_from(["sdb", "vdc", "loop4", "dm-2", "nvme1n1", "zram1"]),
    "devnum": st.just("8:16"),
    "size": st.integers(min_value=0, max_value=20 * GIB),
    "read_only": st.booleans(),
    "rotational": st.booleans(),
    "removable": st.booleans(),
    "holders": st.lists(st.sampled_from(["dm-0", "md1", "bcache0"]), max_size=2, unique=True),
    "partitions": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["p1", "p2"]), "devnum": st.just("8:17"),
                                                  "size": st.integers(0, GIB)}), max_size=2),
    "signatures": st.lists(st.sampled_from(sorted(bd.SIGNATURE_USAGE) + ["zfs_member"]), max_size=2, unique=True),
})


@given(_raw_strategy)
@settings(max_examples=examples(300), deadline=None)
def test_eligible_iff_every_rule_holds(raw):
    dev = bd.build_device(raw)
    rules = (bd.device_type(raw["name"]) in ("disk", "loop") and raw["size"] >= bd.MIN_OSD_SIZE
             and not raw["read_only"] and not raw["removable"] and not raw["holders"] and not raw["partitions"]
             and not [s for s in raw["signatures"] if s != "dos"])   # an empty MBR label is fine (ceph-volume)
    assert dev["osd_eligible"] is rules
    assert (dev["reason"] is None) is rules
    assert bool(dev["reasons"]) is (not rules)


def _devices():
    disk = bd.build_device(_raw(partitions=[{"name": "sdb1", "devnum": "8:17", "size": GIB}]))
    raw = bd.build_device(_raw(name="sdc", devnum="8:32"))
    return [disk, raw]


def test_resolve_requested_lists_every_problem():
    requested = [
        {"path": "/dev/sdc", "realpath": "/dev/sdc", "exists": True, "is_block": True, "devnum": "8:32"},
        {"path": "/dev/disk/by-id/x", "realpath": "/dev/sdc", "exists": True, "is_block": True, "devnum": "8:32"},
        {"path": "/dev/nope", "realpath": "/dev/nope", "exists": False, "is_block": False, "devnum": None},
        {"path": "/etc/hosts", "realpath": "/etc/hosts", "exists": True, "is_block": False, "devnum": None},
        {"path": "/dev/sdb1", "realpath": "/dev/sdb1", "exists": True, "is_block": True, "devnum": "8:17"},
        {"path": "/dev/sdz", "realpath": "/dev/sdz", "exists": True, "is_block": True, "devnum": "65:0"},
    ]
    selected, errors = bd.resolve_requested(requested, _devices())
    assert [d["path"] for d in selected] == ["/dev/sdc"]
    assert errors == [
        "/dev/nope does not exist",
        "/etc/hosts is not a block device",
        "/dev/sdb1 is a partition of /dev/sdb: name the whole disk /dev/sdb",
        "/dev/sdz (device 65:0) is not listed in /sys/block",
    ]


def test_ineligible_errors_names_device_and_reason():
    devices = _devices()
    assert bd.ineligible_errors(devices) == ["/dev/sdb is not eligible for a Ceph OSD: has partitions: sdb1"]


def test_partition_record_is_never_eligible():
    disk = _devices()[0]
    rec = bd.partition_record(disk, disk["partitions"][0])
    assert rec["osd_eligible"] is False and "is a partition of sdb" in rec["reason"]


def _fake_tree(tmp_path):
    """A fake / with /sys/block, /dev files holding real superblock bytes, mountinfo and swaps."""
    root = tmp_path

    def sysdev(name, devnum, sectors, ro="0", rot="1", holders=(), parts=()):
        base = root / "sys" / "block" / name
        (base / "queue").mkdir(parents=True)
        (base / "holders").mkdir()
        (base / "dev").write_text(devnum + "\n")
        (base / "size").write_text("%d\n" % sectors)
        (base / "ro").write_text(ro + "\n")
        (base / "removable").write_text("0\n")
        (base / "queue" / "rotational").write_text(rot + "\n")
        for holder in holders:
            (base / "holders" / holder).write_text("")
        for pname, pdev in parts:
            pbase = base / pname
            (pbase / "holders").mkdir(parents=True)
            (pbase / "partition").write_text("1\n")
            (pbase / "dev").write_text(pdev + "\n")
            (pbase / "size").write_text("2048\n")
            (pbase / "ro").write_text("0\n")
        return base
    (root / "dev").mkdir()
    (root / "proc" / "self").mkdir(parents=True)
    (root / "proc" / "self" / "mountinfo").write_text("40 22 8:48 / /srv rw - ext4 /dev/sdd rw\n")
    (root / "proc" / "swaps").write_text("Filename Type Size Used Priority\n")
    sixg = 6 * GIB // 512
    sysdev("sda", "8:0", sixg)
    (root / "dev" / "sda").write_bytes(bytes(bd.PROBE_BYTES))
    sysdev("sdb", "8:16", sixg)
    (root / "dev" / "sdb").write_bytes(_ext(compat=4, incompat=0x40))
    sysdev("sdc", "8:32", sixg, parts=[("sdc1", "8:33")])
    (root / "dev" / "sdc").write_bytes(bytes(_mbr()))
    (root / "dev" / "sdc1").write_bytes(bytes(4096))
    sysdev("sdd", "8:48", sixg)
    (root / "dev" / "sdd").write_bytes(bytes(100))
    sysdev("sde", "8:64", 2 * GIB // 512, rot="0")
    (root / "dev" / "sde").write_bytes(bytes(100))
    sysdev("sdf", "8:80", sixg, holders=["dm-0"])
    (root / "dev" / "sdf").write_bytes(bytes(100))
    sysdev("loop9", "7:9", 0)
    return root


def test_discover_reads_a_fake_tree(tmp_path):
    root = _fake_tree(tmp_path)
    calls = []

    def blkid(path):
        calls.append(path)
        return "PTTYPE=dos\n" if path.endswith("/sdc") else ""

    devs = {d["name"]: d for d in bio.discover(str(root), run_blkid=blkid)}
    assert devs["sda"]["osd_eligible"] is True
    assert devs["sdb"]["reason"] == "has a filesystem: ext4"
    assert devs["sdb"]["filesystem"] == "ext4"
    assert devs["sdc"]["partitions"][0]["name"] == "sdc1"
    assert devs["sdc"]["reason"] == "has partitions: sdc1"     # the MBR label itself is not a reason
    assert devs["sdd"]["reason"] == "is mounted at /srv"
    assert devs["sde"]["reason"] == ("too small: 2147483648 bytes (2.0 GiB), below the minimum of 5368709120 bytes "
                                     "(5.0 GiB)") and devs["sde"]["rotational"] is False
    assert devs["sdf"]["reason"] == "is held by dm-0 (device-mapper/LVM)"
    assert devs["loop9"]["dev_node"] is False and devs["loop9"]["osd_eligible"] is False
    # blkid is only asked about whole devices that exist and have a size
    assert sorted(os.path.basename(c) for c in calls) == ["sda", "sdb", "sdc", "sdd", "sde", "sdf"]


def test_read_head_never_writes(tmp_path):
    dev = tmp_path / "dev"
    dev.write_bytes(b"XFSB" + bytes(10))
    before = os.stat(str(dev))
    data, err = bio.read_head(str(dev))
    assert err is None and data.startswith(b"XFSB")
    assert os.stat(str(dev)).st_mtime == before.st_mtime
    missing, err = bio.read_head(str(tmp_path / "missing"))
    assert missing == b"" and "No such file" in err


def test_describe_requested_missing_and_not_block(tmp_path):
    (tmp_path / "file").write_text("x")
    out = bio.describe_requested([str(tmp_path / "file"), str(tmp_path / "nope")])
    assert out[0]["exists"] is True and out[0]["is_block"] is False
    assert out[1]["exists"] is False


def test_existing_ceph_osds_are_recognised_and_accepted_on_request():
    bluestore = bd.build_device(_raw(name="sdg", devnum="8:96", signatures=["ceph_bluestore"]))
    lvm = bd.build_device(_raw(name="sdh", devnum="8:112", signatures=["LVM2_member"], holders=["dm-3"],
                               holder_names={"dm-3": "ceph--1b2c-osd--block--9f8e"}))
    other_lvm = bd.build_device(_raw(name="sdi", devnum="8:128", signatures=["LVM2_member"], holders=["dm-4"],
                                     holder_names={"dm-4": "vg0-home"}))
    ext4 = bd.build_device(_raw(name="sdj", devnum="8:144", signatures=["ext4"]))
    assert [d["ceph_osd"] for d in (bluestore, lvm, other_lvm, ext4)] == [True, True, False, False]
    assert all(d["osd_eligible"] is False for d in (bluestore, lvm, other_lvm, ext4))
    devices = [bluestore, lvm, other_lvm, ext4]
    assert len(bd.ineligible_errors(devices)) == 4
    assert bd.ineligible_errors(devices, accept_ceph_osds=True) == [
        "/dev/sdi is not eligible for a Ceph OSD: has an LVM physical volume signature: LVM2_member; "
        "is held by dm-4 (device-mapper/LVM)",
        "/dev/sdj is not eligible for a Ceph OSD: has a filesystem: ext4",
    ]


def test_collect_reads_device_mapper_holder_names(tmp_path):
    root = _fake_tree(tmp_path)
    dm = root / "sys" / "block" / "dm-0"
    (dm / "dm").mkdir(parents=True)
    (dm / "dm" / "name").write_text("ceph--aa-osd--block--bb\n")
    (dm / "dev").write_text("253:0\n")
    (dm / "size").write_text("0\n")
    devs = {d["name"]: d for d in bio.discover(str(root))}
    assert devs["sdf"]["holder_names"] == {"dm-0": "ceph--aa-osd--block--bb"}
    assert devs["dm-0"]["type"] == "dm"


def _md_tail(size, version):
    """The last TAIL_BYTES of a ``size``-byte device holding an md superblock of ``version`` (magic + major)."""
    tail = bytearray(bd.TAIL_BYTES)
    offset = dict(bd.md_superblock_offsets(size))[version] - (size - bd.TAIL_BYTES)
    tail[offset:offset + 8] = bd.MD_MAGIC + struct.pack("<I", 0 if version == "0.90" else 1)
    return bytes(tail)


def test_md_superblock_offsets_match_mdadm():
    # 6 GiB: v0.90 at size rounded down to 64 KiB minus 64 KiB, v1.0 8 KiB before the end (4 KiB aligned)
    size = 6 * GIB
    assert dict(bd.md_superblock_offsets(size)) == {"0.90": size - 65536, "1.0": size - 8192}
    odd = 6 * GIB + 3 * 512 + 40960   # not 64 KiB aligned
    assert dict(bd.md_superblock_offsets(odd)) == {"0.90": 6 * GIB - 65536, "1.0": odd - 3 * 512 - 8192}


@pytest.mark.parametrize("version", ["0.90", "1.0"])
@pytest.mark.parametrize("size", [6 * GIB, 6 * GIB + 3 * 512 + 40960, 5 * GIB + 512])
def test_md_superblocks_at_the_end_are_found_without_blkid(version, size):
    assert bd.detect_tail_signatures(_md_tail(size, version), size) == ["linux_raid_member"]
    # the magic with the wrong major version, or at the other version's place, is not a superblock
    wrong = bytearray(_md_tail(size, version))
    at = dict(bd.md_superblock_offsets(size))[version] - (size - bd.TAIL_BYTES)
    wrong[at + 4:at + 8] = struct.pack("<I", 7)
    assert bd.detect_tail_signatures(bytes(wrong), size) == []
    assert bd.detect_tail_signatures(bytes(bd.TAIL_BYTES), size) == []


@given(st.binary(max_size=bd.TAIL_BYTES), st.integers(0, 20 * GIB))
@settings(max_examples=examples(200), deadline=None)
def test_detect_tail_signatures_never_raises(tail, size):
    assert bd.detect_tail_signatures(tail, size) in ([], ["linux_raid_member"])


def test_empty_mbr_label_is_eligible_as_ceph_volume_accepts_it():
    dev = bd.build_device(_raw(signatures=["dos"]))
    assert dev["osd_eligible"] is True and dev["reasons"] == []
    assert not bd.build_device(_raw(signatures=["dos"], partitions=[{"name": "sdb1", "devnum": "8:17"}]))[
        "osd_eligible"]


def test_discover_finds_an_md_v1_0_superblock_at_the_end_of_a_device_file(tmp_path):
    root = tmp_path
    size = 6 * GIB
    base = root / "sys" / "block" / "loop7"
    (base / "holders").mkdir(parents=True)
    (base / "dev").write_text("7:7\n")
    (base / "size").write_text("%d\n" % (size // 512))
    (root / "dev").mkdir()
    image = root / "dev" / "loop7"
    with open(str(image), "wb") as handle:   # sparse: only the tail is written
        handle.seek(size - bd.TAIL_BYTES)
        handle.write(_md_tail(size, "1.0"))
    dev = bio.discover(str(root))[0]
    assert dev["signatures"] == ["linux_raid_member"] and dev["locked"] is False
    assert dev["reason"] == "has an md RAID superblock: linux_raid_member"


def test_mbr_with_partition_entries_but_no_kernel_partitions_is_refused():
    entries = bd.mbr_partition_entries(bytes(_mbr()))
    assert entries == 1 and bd.mbr_partition_entries(bytes(_buf())) == 0
    assert bd.mbr_partition_entries(bytes(_mbr(0xEE))) == 0      # a protective MBR belongs to the GPT
    dev = bd.build_device(_raw(signatures=["dos"], mbr_entries=entries))
    assert dev["reasons"] == ["has a partition table: dos (1 partition entry)"]


def test_rook_selection_by_filter_and_all_devices():
    sda = bd.build_device(_raw(name="sda", signatures=["ext4"]))
    sdb = bd.build_device(_raw(name="sdb"))
    vdc = bd.build_device(_raw(name="vdc", size=GIB))
    devices = [sda, sdb, vdc]
    assert [d["name"] for d in bd.select_rook_devices(devices, "^sd[b-z]")] == ["sdb"]
    assert [d["name"] for d in bd.select_rook_devices(devices, "d")] == ["sda", "sdb", "vdc"]   # a search, as Go's
    assert bd.select_rook_devices(devices, use_all_devices=True) == devices
    assert bd.select_rook_devices(devices) == []
    warnings = bd.selection_warnings(bd.select_rook_devices(devices, use_all_devices=True), "all")
    assert warnings == ["all: Rook would skip /dev/sda: has a filesystem: ext4",
                        "all: Rook would skip /dev/vdc: " + vdc["reason"]]
    none = bd.selection_warnings(bd.select_rook_devices(devices, "^vd"), "f")
    assert none[0] == "f: no selected device on this node is eligible for a Ceph OSD, so Rook creates no OSD here"
    assert bd.selection_warnings([], "f") == ["f: matches no block device on this node, so Rook creates no OSD here"]
    osd = bd.build_device(_raw(name="sdd", signatures=["ceph_bluestore"]))
    assert bd.selection_warnings([osd], "f") == []      # already an OSD: a re-run is fine
