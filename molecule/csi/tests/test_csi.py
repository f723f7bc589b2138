"""csi role node side and block_devices on the lab's loop devices (molecule/csi)."""
import json
import os

import pytest
import testinfra
from testinfra.modules.ansible import AnsibleException

LAB_DIR = os.environ.get("KUBELAYER_CSI_LAB_DIR", "/var/tmp/kubelayer-csi-lab")


@pytest.fixture(scope="module")
def loops():
    with open(os.path.join(LAB_DIR, "loops.json")) as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def node(host):
    """The same node through `podman exec` (much faster than one ansible run per command)."""
    return testinfra.get_host("podman://" + host.backend.get_hostname())


@pytest.mark.parametrize("package", ["lvm2", "udev", "nfs-common"])
def test_packages_installed(node, package):
    assert node.package(package).is_installed


def test_modules_load_file_lists_rbd(node):
    conf = node.file("/etc/modules-load.d/kubelayer-csi.conf")
    assert conf.is_file and conf.mode == 0o644
    assert [line for line in conf.content_string.splitlines() if not line.startswith("#")] == ["rbd"]


def test_sysctl_file_and_runtime_value(node):
    conf = node.file("/etc/sysctl.d/90-kubelayer-csi.conf")
    assert "fs.aio-max-nr = 1048576" in conf.content_string.splitlines()
    assert int(node.file("/proc/sys/fs/aio-max-nr").content_string) >= 1048576


def test_local_path_directory(node):
    path = node.file("/var/lib/kubelayer-local-path")
    assert path.is_directory and path.mode == 0o770 and path.user == "root"


def test_rpc_statd_running_for_nfsv3_locking(node):
    assert node.service("rpc-statd").is_running


def _failing(host, module, args):
    """Run a module that must fail; its result (testinfra does not always see `failed`, so also check `problems`)."""
    try:
        result = host.ansible(module, json.dumps(args), check=False)
    except AnsibleException as exc:
        result = exc.result
    assert result.get("failed") or result.get("problems"), result
    assert result.get("changed") is False
    return result


def _discover(host, devices, **extra):
    args = dict(devices=devices, **extra)
    return host.ansible("kubelayer.runtime.block_devices", json.dumps(args), check=False)


def test_block_devices_classify_the_four_loops(host, loops):
    result = _discover(host, [loops[n] for n in ("raw", "ext4", "part", "small")])
    by_path = {d["path"]: d for d in result["block_devices"]}
    raw, ext4, part, small = (by_path[loops[n]] for n in ("raw", "ext4", "part", "small"))
    assert raw["osd_eligible"] is True and raw["reason"] is None and raw["size"] == 6 * 1024 ** 3
    assert raw["type"] == "loop" and raw["backing_file"].endswith("/raw.img")
    assert ext4["osd_eligible"] is False and ext4["filesystem"] == "ext4"
    assert ext4["reason"] == "has a filesystem: ext4"
    assert part["osd_eligible"] is False
    assert "has a partition table: dos" in part["reason"]
    assert small["osd_eligible"] is False
    assert small["reason"] == "too small: 1073741824 bytes (1.0 GiB), below the minimum of 5368709120 bytes (5.0 GiB)"
    assert result["osd_eligible"] == [loops["raw"]]


# What Debian trixie's ceph-volume 18.2.7 `inventory` says about the same images (docs/modules/block_devices.md), and
# the reason block_devices gives. With blkid (use_blkid, the default) and without it: the superblock reader alone
# must find every one of them, md v1.0/v0.90 at the end of the device included.
CEPH_VOLUME_CASES = [
    ("exact5", "available", None),
    ("mbrempty", "available", None),
    ("under5", "Insufficient space (<5GB)",
     "too small: 5368705024 bytes (5.0 GiB), below the minimum of 5368709120 bytes (5.0 GiB)"),
    ("ro", "read-only", "is read-only"),
    ("gpt", "Has GPT headers", "has a partition table: gpt"),
    ("gptdamaged", "Has GPT headers", "has a partition table: gpt"),
    ("bluestore", "Has BlueStore device label", "has a Ceph BlueStore label: ceph_bluestore"),
    ("swap", "Has a FileSystem", "has a swap signature: swap"),
    ("lvm", "LVM detected (for a PV in a VG; this image has the PV label only)",
     "has an LVM physical volume signature: LVM2_member"),
    ("md10", "Has a FileSystem", "has an md RAID superblock: linux_raid_member"),
    ("md090", "Has a FileSystem", "has an md RAID superblock: linux_raid_member"),
]


@pytest.mark.parametrize("use_blkid", [True, False])
def test_block_devices_agree_with_ceph_volume_inventory(host, loops, use_blkid):
    result = _discover(host, [loops[name] for name, _cv, _reason in CEPH_VOLUME_CASES], use_blkid=use_blkid)
    by_path = {d["path"]: d for d in result["block_devices"]}
    for name, ceph_volume, reason in CEPH_VOLUME_CASES:
        dev = by_path[loops[name]]
        assert dev["osd_eligible"] is (ceph_volume == "available"), (name, ceph_volume, dev["reason"])
        assert dev["reason"] == reason, (name, ceph_volume)


def test_block_devices_report_a_device_held_exclusively_as_locked(node, host, loops):
    # another user holds the device open with O_EXCL (as a mount or device-mapper would) for a few seconds
    holder = node.run("python3 -c 'import os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL); "
                      "print(os.getpid(), flush=True); time.sleep(60)' %s > /tmp/kubelayer-holder.pid 2>&1 & "
                      "sleep 1; cat /tmp/kubelayer-holder.pid" % loops["locked"])
    pid = int(holder.stdout.split()[0])
    try:
        dev = _discover(host, [loops["locked"]])["block_devices"][0]
    finally:
        node.run("kill %d" % pid)
    assert dev["osd_eligible"] is False
    assert dev["reason"] == "is locked (another user holds it open exclusively)"
    assert _discover(host, [loops["locked"]])["block_devices"][0]["osd_eligible"] is True


def test_block_devices_reports_every_device(host, loops):
    result = _discover(host, [])
    paths = [d["path"] for d in result["block_devices"]]
    assert set(loops.values()) <= set(paths)
    assert paths == sorted(paths, key=os.path.basename)


def test_block_devices_refuses_missing_device_and_ineligible_ones(host, loops):
    result = _failing(host, "kubelayer.runtime.block_devices",
                      {"devices": ["/dev/kubelayer-no-such-disk", loops["ext4"], loops["raw"]],
                       "fail_on_ineligible": True})
    msg = result["msg"]
    assert "/dev/kubelayer-no-such-disk does not exist" in msg
    assert "%s is not eligible for a Ceph OSD: has a filesystem: ext4" % loops["ext4"] in msg
    assert loops["raw"] + " is not eligible" not in msg


def test_rook_ceph_refuses_ineligible_osd_devices_and_writes_nothing(host, node, loops):
    before = node.file("/etc/modules-load.d/kubelayer-csi.conf").content_string
    args = {"drivers": [{"name": "rook-ceph", "osd_devices": [loops["small"], loops["part"]]}],
            "modules_load_file": "/etc/modules-load.d/kubelayer-csi-refused.conf"}
    errors = _failing(host, "kubelayer.runtime.csi_node", args)["problems"]
    assert errors == [
        "csi_drivers[rook-ceph].osd_devices: %s is not eligible for a Ceph OSD: too small: 1073741824 bytes (1.0 GiB), below "
        "the minimum of 5368709120 bytes (5.0 GiB)" % loops["small"],
        # an MBR with a partition entry (the lab's loop devices never show their partitions to the kernel)
        "csi_drivers[rook-ceph].osd_devices: %s is not eligible for a Ceph OSD: has a partition table: dos (1 partition entry)"
        % loops["part"],
    ]
    assert not node.file("/etc/modules-load.d/kubelayer-csi-refused.conf").exists
    assert node.file("/etc/modules-load.d/kubelayer-csi.conf").content_string == before


def test_probe_reports_nothing_left_to_do(host, loops):
    """The converged node: the probe (in check mode) finds no package or service work and no change."""
    args = {"drivers": [{"name": "local-path", "path": "/var/lib/kubelayer-local-path", "mode": "0770"},
                        {"name": "nfs", "nfs_v3_locking": True},
                        {"name": "rook-ceph", "osd_devices": [loops["raw"]]}]}
    result = host.ansible("kubelayer.runtime.csi_node", json.dumps(args), check=True)
    assert result["changed"] is False
    assert [d["path"] for d in result["osd_devices"]] == [loops["raw"]]
    assert result["packages_missing"] == []
    assert result["service_actions"] == []
    assert result["in_container"] is True


def test_longhorn_storageos_quobyte_in_check_mode_plan_without_writing(host, node):
    """Drivers the lab cannot run (no iSCSI/LIO in the host kernel) are still planned on the real node."""
    args = {"drivers": [{"name": "longhorn", "multipathd": "blacklist"}, {"name": "storageos"},
                        {"name": "quobyte", "client_mount_point": "/srv/kubelayer-quobyte"}]}
    result = host.ansible("kubelayer.runtime.csi_node", json.dumps(args), check=True)
    assert result["changed"] is True
    # nfs-common (nfs) and dmsetup (pulled in by lvm2, rook-ceph) are already there after the converge
    assert result["packages_missing"] == ["cryptsetup", "open-iscsi"]
    assert result["packages"] == ["cryptsetup", "dmsetup", "nfs-common", "open-iscsi"]
    assert {"name": "iscsid.service", "state": "started", "enabled": True, "present": False} in result["service_actions"]
    assert set(result["kernel_modules"]) == {"iscsi_tcp", "dm_crypt", "configfs", "target_core_mod",
                                             "target_core_user", "tcm_loop", "uio"}
    for path in ("/etc/iscsi/initiatorname.iscsi", "/etc/multipath/conf.d/kubelayer-longhorn.conf",
                 "/srv/kubelayer-quobyte"):
        assert not node.file(path).exists


def test_quobyte_host_mode_needs_the_native_client_mounted(host):
    args = {"drivers": [{"name": "quobyte", "client_mode": "host", "client_mount_point": "/mnt/quobyte"}]}
    errors = _failing(host, "kubelayer.runtime.csi_node", args)["problems"]
    assert len(errors) == 1
    assert errors[0].startswith("csi_drivers[quobyte].client_mode: host needs the native Quobyte client mounted at "
                                "/mnt/quobyte/mounts")
