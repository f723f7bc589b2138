"""Node-side planning for the CSI drivers (plugins/module_utils/csi/node.py)."""
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import kernel
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import node


def _norm(drivers):
    out, errors, warnings = node.normalize_drivers(drivers)
    assert errors == []
    return out, warnings


def test_defaults_are_filled_in():
    out, warnings = _norm([{"name": n} for n in node.DRIVERS])
    by = {d["name"]: d for d in out}
    assert by["rook-ceph"] == {"name": "rook-ceph", "osd_devices": [], "device_filter": None, "use_all_devices": False}
    assert by["quobyte"] == {"name": "quobyte", "client_mount_point": "/home/quobyte", "client_mode": "daemonset"}
    assert by["nfs"] == {"name": "nfs", "nfs_v3_locking": False}
    assert by["local-path"] == {"name": "local-path", "path": "/opt/local-path-provisioner", "mode": "0755",
                                "selinux_type": "container_file_t"}
    assert by["longhorn"] == {"name": "longhorn", "multipathd": "blacklist"}
    assert by["storageos"] == {"name": "storageos"}
    assert warnings == []


def test_every_problem_is_listed():
    drivers = [
        "nfs",
        {"name": "ceph"},
        {"name": "nfs", "nfs_v3_locking": "perhaps"},
        {"name": "nfs"},
        {"name": "local-path", "path": "relative", "mode": "0999"},
        {"name": "quobyte", "client_mode": "sidecar", "client_mount_point": "/"},
        {"name": "longhorn", "multipathd": "kill"},
        {"name": "rook-ceph", "osd_devices": "/dev/sdb"},
    ]
    out, errors, _warnings = node.normalize_drivers(drivers)
    assert out == []
    assert errors == [
        "csi_drivers[0]: 'nfs' is not a dict",
        "csi_drivers[1].name: 'ceph' is not one of rook-ceph, quobyte, nfs, local-path, longhorn, storageos",
        "csi_drivers[nfs].nfs_v3_locking: 'perhaps' is not a boolean (true/false, yes/no, on/off, 1/0)",
        "csi_drivers[3]: driver nfs is listed twice",
        "csi_drivers[local-path].mode: '0999' is not an octal mode such as '0755'",
        "csi_drivers[local-path].path: 'relative' is not an absolute path",
        "csi_drivers[quobyte].client_mode: 'sidecar' is not one of host, daemonset",
        "csi_drivers[quobyte].client_mount_point: must not be / itself",
        "csi_drivers[longhorn].multipathd: 'kill' is not one of blacklist, stop",
        "csi_drivers[rook-ceph].osd_devices: '/dev/sdb' is not a list of absolute device paths",
    ]


def test_hostile_paths_are_refused():
    for path in ("/.", "", "/opt/../etc", "/opt//x", "/opt/x\x00", "/opt/x\r"):
        _out, errors, _w = node.normalize_drivers([{"name": "local-path", "path": path}])
        assert len(errors) == 1 and errors[0].startswith("csi_drivers[local-path].path: "), path
    _out, errors, _w = node.normalize_drivers([{"name": "rook-ceph", "osd_devices": ["/dev/x", "dev/y", "/dev/x"]}])
    assert errors == ["csi_drivers[rook-ceph].osd_devices[1]: 'dev/y' is not an absolute path",
                      "csi_drivers[rook-ceph].osd_devices: '/dev/x' is given more than once"]


def test_duplicate_driver_is_an_error():
    _out, errors, _w = node.normalize_drivers([{"name": "nfs"}, {"name": "nfs"}])
    assert errors == ["csi_drivers[1]: driver nfs is listed twice"]


def test_not_a_list():
    assert node.normalize_drivers({"name": "nfs"})[1] == ["csi_drivers: {'name': 'nfs'} is not a list"]


def test_cluster_keys_are_ignored_and_foreign_node_keys_warn():
    out, warnings = _norm([{"name": "nfs", "chart_version": "4.13.4", "path": "/x", "nfs_v3_locking": "yes"}])
    assert out == [{"name": "nfs", "nfs_v3_locking": True}]
    assert warnings == ["csi_drivers[nfs].path is an option of another driver and is ignored"]


@pytest.mark.parametrize("value,expected", [("0755", "0755"), ("755", "0755"), ("1777", "1777"), (0o770, "0770"),
                                            ("0700", "0700")])
def test_mode_normalization(value, expected):
    errors = []
    assert node.normalize_mode(value, "x", errors) == expected
    assert errors == []


@pytest.mark.parametrize("value", ["rwx", "12345", "0888", True, -1, 0o17777, None])
def test_bad_modes(value):
    errors = []
    node.normalize_mode(value, "x", errors)
    assert len(errors) == 1 and errors[0].startswith("x: ")


@given(st.integers(min_value=0, max_value=0o7777))
def test_mode_round_trip(mode):
    errors = []
    text = node.normalize_mode(mode, "m", errors)
    assert errors == [] and int(text, 8) == mode
    assert node.normalize_mode(text, "m", errors) == text


@pytest.mark.parametrize("text,family", [
    ('ID=debian\nVERSION_ID="12"\n', "debian"),
    ('ID=ubuntu\nID_LIKE=debian\n', "debian"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "redhat"),
    ('ID=arch\n', None),
    ('', None),
])
def test_os_family(text, family):
    assert node.os_family(text) == family


def _plan(drivers, family="debian"):
    out, _w = _norm(drivers)
    return node.node_plan(out, family)


def test_rook_ceph_plan():
    plan = _plan([{"name": "rook-ceph", "osd_devices": ["/dev/sdb"]}])
    assert plan["packages"] == ["lvm2", "udev"]
    assert plan["kernel_modules"] == ["rbd"]
    assert plan["sysctls"] == {"fs.aio-max-nr": 1048576}
    assert plan["osd_devices"] == ["/dev/sdb"]
    assert [s["name"] for s in plan["services"]] == ["systemd-udevd.service"]
    assert _plan([{"name": "rook-ceph"}], "redhat")["packages"] == ["lvm2", "systemd-udev"]


def test_nfs_plan_with_and_without_v3_locking():
    assert _plan([{"name": "nfs"}])["services"] == []
    plan = _plan([{"name": "nfs", "nfs_v3_locking": True}])
    assert plan["packages"] == ["nfs-common"]
    assert plan["services"] == [{"name": "rpc-statd.service", "state": "started", "enabled": None,
                                 "container_skip": None}]
    assert _plan([{"name": "nfs"}], "redhat")["packages"] == ["nfs-utils"]


def test_longhorn_plan_blacklist_and_stop():
    plan = _plan([{"name": "longhorn"}, {"name": "nfs"}])
    assert plan["packages"] == ["cryptsetup", "dmsetup", "nfs-common", "open-iscsi"]
    assert plan["kernel_modules"] == ["iscsi_tcp", "dm_crypt"]
    assert plan["initiator_name"] is True and plan["multipath_blacklist"] is True
    assert [(s["name"], s["state"], s["enabled"]) for s in plan["services"]] == [("iscsid.service", "started", True)]
    stop = _plan([{"name": "longhorn", "multipathd": "stop"}])
    assert stop["multipath_blacklist"] is False
    assert [(s["name"], s["state"], s["enabled"]) for s in stop["services"]] == [
        ("iscsid.service", "started", True), ("multipathd.socket", "stopped", False),
        ("multipathd.service", "stopped", False)]


def test_local_path_and_quobyte_directories():
    plan = _plan([{"name": "local-path", "path": "/srv/lp/", "mode": "0770", "selinux_type": "svirt_sandbox_file_t"},
                  {"name": "quobyte"}])
    assert plan["directories"] == [
        {"path": "/srv/lp", "mode": "0770", "selinux_type": "svirt_sandbox_file_t", "must_be_empty": False,
         "driver": "local-path"},
        {"path": "/home/quobyte", "mode": "0755", "selinux_type": None, "must_be_empty": True, "driver": "quobyte"},
    ]
    host = _plan([{"name": "quobyte", "client_mode": "host", "client_mount_point": "/mnt/quobyte"}])
    assert host["directories"] == [] and host["quobyte_host_mounts"] == ["/mnt/quobyte/mounts"]


def test_storageos_plan_warns_unmaintained():
    plan = _plan([{"name": "storageos"}])
    assert plan["kernel_modules"] == ["configfs", "target_core_mod", "target_core_user", "tcm_loop", "uio"]
    assert plan["sysctls"] == {"fs.aio-max-nr": 1048576}
    assert plan["configfs"] is True
    assert len(plan["warnings"]) == 1 and "unmaintained upstream since 2023" in plan["warnings"][0]


def test_empty_plan_removes_files():
    plan = _plan([])
    assert node.render_modules_load(plan["kernel_modules"]) is None
    assert node.render_sysctl(plan["sysctls"]) is None
    assert node.render_multipath_blacklist(plan["multipath_blacklist"]) is None


def test_renderers():
    text = node.render_modules_load(["rbd", "dm_crypt"])
    assert text.startswith("# Managed by kubelayer.runtime") and text.endswith("\nrbd\ndm_crypt\n")
    assert node.render_sysctl({"fs.aio-max-nr": 1048576, "a.b": 1}).splitlines()[1:] == [
        "a.b = 1", "fs.aio-max-nr = 1048576"]
    assert 'devnode "^sd[a-z0-9]+"' in node.render_multipath_blacklist(True)


@pytest.mark.parametrize("text,name", [
    ("InitiatorName=iqn.1993-08.org.debian:01:abc\n", "iqn.1993-08.org.debian:01:abc"),
    ("## comment\nGenerateName=yes\n", None),
    ("#InitiatorName=iqn.x\n", None),
    ("InitiatorName=\n", None),
    (None, None),
])
def test_parse_initiator_name(text, name):
    assert node.parse_initiator_name(text) == name


def test_render_initiator_name_keeps_an_existing_name():
    existing = "InitiatorName=iqn.2005-03.org.open-iscsi:1234\n"
    assert node.render_initiator_name(existing, "debian", "ffff") == existing
    fresh = node.render_initiator_name("GenerateName=yes\n", "redhat", "00aa11bb22cc")
    assert node.parse_initiator_name(fresh) == "iqn.1994-05.com.redhat:00aa11bb22cc"


DPKG = """Package: lvm2
Status: install ok installed
Version: 2.03

Package: nfs-common
Status: deinstall ok config-files

Package: udev
Status: install ok installed
"""


def test_dpkg_status_and_missing():
    installed = node.parse_dpkg_status(DPKG)
    assert installed == {"lvm2", "udev"}
    assert node.missing_packages(["lvm2", "nfs-common", "udev"], installed) == ["nfs-common"]


SHOW = """Id=iscsid.service
LoadState=loaded
ActiveState=inactive
UnitFileState=disabled

Id=rpc-statd.service
LoadState=loaded
ActiveState=active
UnitFileState=static

Id=multipathd.service
LoadState=not-found
ActiveState=inactive
UnitFileState=

Id=systemd-udevd.service
LoadState=masked
ActiveState=inactive
UnitFileState=masked
"""


def test_service_actions():
    observed = node.parse_systemctl_show(SHOW)
    assert observed["rpc-statd.service"]["ActiveState"] == "active"
    desired = [
        {"name": "iscsid.service", "state": "started", "enabled": True},
        {"name": "rpc-statd.service", "state": "started", "enabled": None},
        {"name": "multipathd.service", "state": "stopped", "enabled": False},
        {"name": "systemd-udevd.service", "state": "started", "enabled": None, "container_skip": "no udev here"},
        {"name": "open-iscsi.service", "state": "started", "enabled": True},
    ]
    actions, warnings, errors = node.service_actions(desired, observed, in_container=True)
    assert actions == [{"name": "iscsid.service", "state": "started", "present": True, "enabled": True},
                       {"name": "open-iscsi.service", "state": "started", "present": False, "enabled": True}]
    assert warnings == ["systemd-udevd.service: not managed: no udev here"]
    assert errors == []
    _a, _w, errors = node.service_actions(desired[3:4], observed, in_container=False)
    assert errors == ["systemd-udevd.service is masked: unmask it so it can be started"]


def test_running_service_to_stop():
    observed = {"multipathd.service": {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}}
    actions, _w, _e = node.service_actions([{"name": "multipathd.service", "state": "stopped", "enabled": False}],
                                           observed, False)
    assert actions == [{"name": "multipathd.service", "state": "stopped", "present": True, "enabled": False}]


def test_converged_services_need_nothing():
    observed = node.parse_systemctl_show(SHOW.replace("ActiveState=inactive\nUnitFileState=disabled",
                                                      "ActiveState=active\nUnitFileState=enabled"))
    desired = [{"name": "iscsid.service", "state": "started", "enabled": True},
               {"name": "rpc-statd.service", "state": "started", "enabled": None}]
    assert node.service_actions(desired, observed, False) == ([], [], [])


def test_mounts_quobyte_and_configfs():
    info = ("30 1 0:40 / /mnt/quobyte/mounts rw - fuse.quobyte quobyte@reg rw\n"
            "31 1 0:41 / /sys/kernel/config rw - configfs configfs rw\n")
    types = node.parse_mount_types(info)
    assert types == {"/mnt/quobyte/mounts": "fuse.quobyte", "/sys/kernel/config": "configfs"}
    assert node.quobyte_errors(["/mnt/quobyte/mounts"], types) == []
    errs = node.quobyte_errors(["/home/quobyte/mounts"], types)
    assert len(errs) == 1 and "client_mode: daemonset" in errs[0]
    plan = _plan([{"name": "storageos"}])
    assert node.configfs_warnings(plan, types) == []
    assert len(node.configfs_warnings(plan, {})) == 1


@pytest.mark.parametrize("current,writes", [
    ({"fs.aio-max-nr": "65536"}, {"fs.aio-max-nr": 1048576}),
    ({"fs.aio-max-nr": "1048576"}, {}),
    ({"fs.aio-max-nr": "4194304\n"}, {}),
    ({"fs.aio-max-nr": ""}, {"fs.aio-max-nr": 1048576}),
])
def test_sysctl_writes_only_raise(current, writes):
    assert node.sysctl_writes({"fs.aio-max-nr": 1048576}, current) == writes


def test_selinux_type_and_container():
    assert node.selinux_type("system_u:object_r:container_file_t:s0\x00") == "container_file_t"
    assert node.selinux_type("") is None
    assert kernel.is_container(True, False, b"") is True
    assert kernel.is_container(False, False, b"PATH=/bin\x00container=podman\x00") is True
    assert kernel.is_container(False, False, b"PATH=/bin\x00") is False


_driver = st.fixed_dictionaries({"name": st.sampled_from(node.DRIVERS)}, optional={
    "nfs_v3_locking": st.booleans(), "multipathd": st.sampled_from(["blacklist", "stop"]),
    "client_mode": st.sampled_from(["host", "daemonset"]), "mode": st.sampled_from(["0755", "0770", 0o700])})


@given(st.lists(_driver, max_size=6, unique_by=lambda d: d["name"]), st.sampled_from(["debian", "redhat"]))
@settings(max_examples=examples(200), deadline=None)
def test_plan_properties(drivers, family):
    out, errors, _warnings = node.normalize_drivers(drivers)
    assert errors == []
    plan = node.node_plan(out, family)
    names = {d["name"] for d in drivers}
    assert plan["packages"] == sorted(set(plan["packages"]))
    assert len(plan["kernel_modules"]) == len(set(plan["kernel_modules"]))
    assert ("rbd" in plan["kernel_modules"]) == ("rook-ceph" in names)
    assert bool(plan["sysctls"]) == bool(names & {"rook-ceph", "storageos"})
    module_drivers = names & {"rook-ceph", "longhorn", "storageos"}
    assert (node.render_modules_load(plan["kernel_modules"]) is None) == (not module_drivers)
    for pkg in plan["packages"]:
        assert any(pkg in node.PACKAGES[family].get(n, []) for n in names)


def test_rook_device_filter_and_use_all_devices_reach_the_node_plan():
    out, _w = _norm([{"name": "rook-ceph", "device_filter": "^sd[b-z]", "use_all_devices": "yes"}])
    plan = node.node_plan(out, "debian")
    assert plan["osd_device_filter"] == "^sd[b-z]" and plan["osd_use_all_devices"] is True
    drivers, errors, _w = node.normalize_drivers([{"name": "rook-ceph", "device_filter": "("}])
    assert drivers == [] and errors and errors[0].startswith("csi_drivers[rook-ceph].device_filter: '(' is not a")
