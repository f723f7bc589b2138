"""Lab loop devices for molecule/csi, on the host.

  loops.py attach LAB_DIR raw=6G,ext4=6G,part=6G,small=1G
      sparse backing files LAB_DIR/<name>.img (ext4: mkfs.ext4 on the file, part: an MBR with one partition written
      into the file), each attached with `losetup -f --show` unless already attached; LAB_DIR/loops.json maps
      name -> /dev/loopN.
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


def attach(lab, spec):
    mapping, new = {}, []
    for item in spec.split(","):
        name, size = item.split("=")
        image = os.path.join(lab, name + ".img")
        if not os.path.exists(image):
            subprocess.run(["truncate", "-s", size, image], check=True)
            if name == "ext4":
                subprocess.run(["mkfs.ext4", "-q", "-F", image], check=True)
            elif name == "part":
                write_mbr(image)
        devs = attached(image)
        if not devs:
            devs = [subprocess.run(["losetup", "-f", "--show", image], check=True, capture_output=True,
                                   text=True).stdout.strip()]
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
