#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: block_devices
short_description: Report every block device of a node and whether it can become a Ceph OSD
version_added: 0.1.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - Reads C(/sys/block), C(/proc/self/mountinfo), C(/proc/swaps) and the leading bytes of every device (read-only)
    and reports size, partitions, filesystem or other signatures, mount points, holders (LVM, device-mapper, md),
    rotational and read-only flags for every block device.
  - Each device gets C(osd_eligible) and, when it is not eligible, every C(reason). A device is eligible only when it
    is a whole disk (or loop device) with no partitions, no signature, no mount, no swap use, no holders, is writable
    and is at least 5 GiB, which is what Rook's OSD preparation needs to use it.
  - Signatures come from the collection's own superblock reader (ext2/3/4, xfs, btrfs, vfat, ntfs, iso9660,
    squashfs, f2fs, swap, LVM2, LUKS, BlueStore, md RAID, GPT and MBR partition tables), completed by
    C(blkid -p) when O(use_blkid=true) and blkid is installed.
  - Nothing is ever written to a disk; devices are only opened read-only.
options:
  devices:
    description:
      - Device paths to report on, for example the devices named for Ceph OSDs. Symlinks such as
        C(/dev/disk/by-id/...) are resolved.
      - When set, only these devices are returned, and the module fails, listing every problem, when one does not
        exist, is not a block device or is a partition rather than a whole disk.
      - When empty, every device in C(/sys/block) is reported.
    type: list
    elements: path
    default: []
  fail_on_ineligible:
    description:
      - Fail, listing each device with all its reasons, when a device named in O(devices) is not eligible for an
        OSD.
    type: bool
    default: false
  use_blkid:
    description:
      - Also ask C(blkid -p) (low-level, read-only probing) for signatures when the command exists.
    type: bool
    default: true
extends_documentation_fragment:
  - kubelayer.runtime.attributes.info
notes:
  - Needs root to read the devices' leading bytes; a device that cannot be read is reported with that reason.
  - In a container, only the device nodes present in C(/dev) when the container started can be probed.
seealso:
  - module: kubelayer.runtime.csi_node
"""

EXAMPLES = r"""
- name: Report every block device
  kubelayer.runtime.block_devices:
  register: disks

- name: Show the disks Rook could use
  ansible.builtin.debug:
    msg: "{{ disks.block_devices | selectattr('osd_eligible') | map(attribute='path') | list }}"

- name: Refuse to continue when a device named for OSDs cannot be used
  kubelayer.runtime.block_devices:
    devices:
      - /dev/sdb
      - /dev/disk/by-id/nvme-Samsung_SSD_980_S64DNX0R123456
    fail_on_ineligible: true
"""

RETURN = r"""
block_devices:
  description: One entry per device, sorted by kernel name (only the named ones when O(devices) is set).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Kernel name.
      type: str
      sample: sdb
    path:
      description: Device path.
      type: str
      sample: /dev/sdb
    devnum:
      description: C(major:minor).
      type: str
      sample: "8:16"
    type:
      description: Kind of device, one of C(disk), C(loop), C(dm), C(md), C(zram), C(rom), C(nbd), C(ram).
      type: str
      sample: disk
    partition:
      description: Always V(false) here; partitions are listed under RV(block_devices[].partitions).
      type: bool
    size:
      description: Size in bytes.
      type: int
      sample: 10737418240
    size_human:
      description: Size for humans.
      type: str
      sample: 10.0 GiB
    read_only:
      description: Whether the kernel marks the device read-only.
      type: bool
    rotational:
      description: Whether the device is rotational (spinning disk).
      type: bool
    removable:
      description: Whether the device is removable.
      type: bool
    partitions:
      description: Partitions with name, path, devnum, size, read_only, signatures, mountpoints, holders, swap.
      type: list
      elements: dict
    signatures:
      description: Signatures found on the whole device, as blkid names them (filesystems, partition tables, ...).
      type: list
      elements: str
      sample: [ext4]
    filesystem:
      description: The first filesystem (or swap) signature, or null.
      type: str
      sample: ext4
    mountpoints:
      description: Where the whole device is mounted.
      type: list
      elements: str
    holders:
      description: Kernel holders of the device (C(dm-*) for LVM/device-mapper, C(md*) for RAID).
      type: list
      elements: str
    holder_names:
      description: Device-mapper names of the holders, for example C(ceph--<uuid>-osd--block--<uuid>).
      type: dict
    swap:
      description: Whether the device is an active swap device.
      type: bool
    ceph_osd:
      description:
        - Whether the device already is a Ceph OSD (a BlueStore label, or an LVM physical volume held by a
          C(ceph-*) device-mapper volume). Such a device is not eligible for a new OSD.
      type: bool
    backing_file:
      description: For loop devices, the backing file; otherwise null.
      type: str
    dev_node:
      description: Whether C(/dev/<name>) exists (in a container it may not).
      type: bool
    probe_error:
      description: Why the device could not be read, or null.
      type: str
    osd_eligible:
      description: Whether the device can become a Ceph OSD.
      type: bool
    reasons:
      description: Every reason why the device is not eligible (empty when eligible).
      type: list
      elements: str
    reason:
      description: The reasons joined with C(; ), or null when eligible.
      type: str
      sample: "has a filesystem: ext4"
osd_eligible:
  description: Paths of the reported devices that are eligible for an OSD.
  returned: always
  type: list
  elements: str
  sample: [/dev/sdc]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail_if
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import blockdev, blockdev_io


def check_devices(devices):
    """Absolute, normalised device paths, each once."""
    problems = []
    for index, path in enumerate(devices):
        validate.check_path("devices[%d]" % index, path, problems)
    validate.check_unique("devices", devices, problems)
    return problems


ARGUMENT_SPEC = dict(
    devices=dict(type="list", elements="path", default=[]),
    fail_on_ineligible=dict(type="bool", default=False),
    use_blkid=dict(type="bool", default=True),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    fail_if(module, "block_devices", check_devices(module.params["devices"]))
    run_blkid = None
    if module.params["use_blkid"]:
        blkid = module.get_bin_path("blkid")
        if blkid:
            def run_blkid(path):
                # exit code 2 means "nothing found"; anything unreadable simply adds nothing
                _rc, out, _err = module.run_command([blkid, "-p", "-o", "export", path])
                return out

    devices = blockdev_io.discover("/", run_blkid=run_blkid)
    requested = module.params["devices"]
    if requested:
        selected, errors = blockdev.resolve_requested(blockdev_io.describe_requested(requested), devices)
        if module.params["fail_on_ineligible"]:
            errors.extend(blockdev.ineligible_errors(selected))
        fail_if(module, "block_devices", ["devices: %s" % e for e in errors], block_devices=selected)
        devices = selected
    module.exit_json(changed=False, block_devices=devices,
                     osd_eligible=[d["path"] for d in devices if d["osd_eligible"]])


if __name__ == "__main__":
    main()
