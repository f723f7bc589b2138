"""Lab loop devices for molecule/csi, on the host.

  loops.py attach LAB_DIR raw=6G,ext4=6G,part=6G,small=1G,...
      sparse backing files LAB_DIR/<name>.img, prepared by name (see PREPARE: a filesystem, swap, an MBR with or
      without a partition entry, an empty GPT, a GPT whose primary header is zeroed, a BlueStore label, an LVM label,
      md v1.0/v0.90 superblocks at the end; ``ro`` is attached read-only), each attached with `losetup -f --show`
      unless already attached; LAB_DIR/loops.json maps name -> /dev/loopN. One image per ceph-volume rejection
      reason that a loop device can carry.
  loops.py detach LAB_DIR
      detaches only the loop devices backed by LAB_DIR/*.img, then removes LAB_DIR.
Only files inside LAB_DIR are ever written; no device other than those loop devices is touched.
"""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib


def attached(image):
    out = subprocess.run(["losetup", "-j", image, "-n", "-O", "NAME"], check=True, capture_output=True,
                         text=True).stdout.split()
    return [dev for dev in out if dev.startswith("/dev/loop")]


def write_mbr(image):
    mbr = bytearray(512)
    # one Linux (0x83) partition from LBA 2048, 2 GiB long
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, 4 * 1024 * 1024)
    mbr[510:512] = b"\x55\xaa"
    with open(image, "r+b") as handle:
        handle.write(mbr)


GPT_ENTRIES = 128 * 128


def _gpt_header(current, backup, entries_lba, last_lba, disk_guid, entries_crc):
    header = bytearray(struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x00010000, 92, 0, 0, current, backup, 34,
                                   last_lba - 34, disk_guid, entries_lba, 128, 128, entries_crc))
    struct.pack_into("<I", header, 16, zlib.crc32(bytes(header)) & 0xffffffff)
    return bytes(header)


def write_gpt(image, damage_primary=False):
    """An empty GPT (protective MBR, primary and backup headers); with ``damage_primary`` the primary header zeroed."""
    sectors = os.path.getsize(image) // 512
    last = sectors - 1
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\x02\0", 0xEE, b"\xff\xff\xff", 1, min(last, 0xFFFFFFFF))
    mbr[510:512] = b"\x55\xaa"
    guid = os.urandom(16)
    crc = zlib.crc32(bytes(GPT_ENTRIES)) & 0xffffffff
    with open(image, "r+b") as handle:
        handle.write(bytes(mbr))
        if not damage_primary:
            handle.write(_gpt_header(1, last, 2, last, guid, crc))
        handle.seek(last * 512)
        handle.write(_gpt_header(last, 1, last - 32, last, guid, crc))


def write_md(image, version):
    """An md superblock at the end of the device (v0.90 or v1.0) with a valid checksum, as mdadm writes it."""
    size = os.path.getsize(image)
    sectors = size // 512
    if version == "1.0":
        at = (sectors - 16) & ~7
        sb = bytearray(512)
        struct.pack_into("<II", sb, 0, 0xa92b4efc, 1)
        sb[16:32] = os.urandom(16)
        struct.pack_into("<IIQII", sb, 72, 1, 0, at, 0, 2)
        struct.pack_into("<QQQ", sb, 128, 0, at, at)
        struct.pack_into("<I", sb, 220, 2)
        struct.pack_into("<HH", sb, 256, 0, 0xffff)
        total = sum(struct.unpack_from("<65I", sb, 0))     # 256 + 2 * max_dev bytes
        struct.pack_into("<I", sb, 216, ((total & 0xffffffff) + (total >> 32)) & 0xffffffff)
    else:
        at = (sectors & ~127) - 128
        sb = bytearray(4096)
        struct.pack_into("<IIII", sb, 0, 0xa92b4efc, 0, 90, 0)
        struct.pack_into("<IIIIII", sb, 20, 0x1234, 1700000000, 1, sectors // 2 - 64, 1, 2)
        struct.pack_into("<I", sb, 152, sum(struct.unpack_from("<1024I", sb, 0)) & 0xffffffff)
    with open(image, "r+b") as handle:
        handle.seek(at * 512)
        handle.write(bytes(sb))


# name -> how the backing file is prepared (every image is sparse; only these bytes are written)
PREPARE = {
    "ext4": lambda image: subprocess.run(["mkfs.ext4", "-q", "-F", image], check=True),
    "swap": lambda image: subprocess.run(["mkswap", "-q", image], check=True, stdout=subprocess.DEVNULL),
    "part": write_mbr,
    "mbrempty": lambda image: _write_at(image, 510, b"\x55\xaa"),
    "gpt": write_gpt,
    "gptdamaged": lambda image: write_gpt(image, damage_primary=True),
    "bluestore": lambda image: _write_at(image, 0, b"bluestore block device\n" + os.urandom(16).hex().encode()),
    "lvm": lambda image: _write_at(image, 512, b"LABELONE" + bytes(16) + b"LVM2 001" + bytes(32)),
    "md10": lambda image: write_md(image, "1.0"),
    "md090": lambda image: write_md(image, "0.90"),
}
READ_ONLY = ("ro",)


def _write_at(image, offset, data):
    with open(image, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def attach(lab, spec):
    mapping, new = {}, []
    for item in spec.split(","):
        name, size = item.split("=")
        image = os.path.join(lab, name + ".img")
        if not os.path.exists(image):
            subprocess.run(["truncate", "-s", size, image], check=True)
            if name in PREPARE:
                PREPARE[name](image)
        devs = attached(image)
        if not devs:
            devs = [subprocess.run(["losetup", "-f", "--show"] + (["-r"] if name in READ_ONLY else []) + [image],
                                   check=True, capture_output=True, text=True).stdout.strip()]
            new.append(devs[0])
        mapping[name] = devs[0]
    with open(os.path.join(lab, "loops.json"), "w") as handle:
        json.dump(mapping, handle, indent=1, sort_keys=True)
    print(("attached %s" % " ".join(new)) if new else "unchanged", json.dumps(mapping, sort_keys=True))


def detach(lab):
    done = []
    for image in sorted(glob.glob(os.path.join(lab, "*.img"))):
        for dev in attached(image):
            subprocess.run(["losetup", "-d", dev], check=True)
            done.append(dev)
    if os.path.isdir(lab):
        shutil.rmtree(lab)
    print(("detached %s" % " ".join(done)) if done else "nothing attached")


if __name__ == "__main__":
    if sys.argv[1] == "attach":
        attach(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "detach":
        detach(sys.argv[2])
    else:
        sys.exit(__doc__)
