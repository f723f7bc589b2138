# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for the node side of the CSI drivers (packages, kernel modules, sysctls, files, services).

No Ansible imports and no I/O: kubelayer.runtime.csi_node reads the node and calls these functions.
Runs on nodes: stdlib only, python 3.8 syntax.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import booleans, kernel, mounts, validate

DRIVERS = ("rook-ceph", "quobyte", "nfs", "local-path", "longhorn", "storageos")

# Node-side options per driver: option -> (kind, default). Keys not listed here belong to the cluster side
# (kubelayer.runtime.csi_plan) and are ignored on the node.
DRIVER_OPTIONS = {
    "rook-ceph": {"osd_devices": ("paths", []), "device_filter": ("regex", None), "use_all_devices": ("bool", False)},
    "quobyte": {"client_mount_point": ("abspath", "/home/quobyte"),
                "client_mode": (("host", "daemonset"), "daemonset")},
    "nfs": {"nfs_v3_locking": ("bool", False)},
    "local-path": {"path": ("abspath", "/opt/local-path-provisioner"), "mode": ("mode", "0755"),
                   "selinux_type": ("str", "container_file_t")},
    "longhorn": {"multipathd": (("blacklist", "stop"), "blacklist")},
    "storageos": {},
}
NODE_OPTIONS = set(k for opts in DRIVER_OPTIONS.values() for k in opts)

PACKAGES = {
    "debian": {
        "rook-ceph": ["lvm2", "udev"],
        "nfs": ["nfs-common"],
        "longhorn": ["open-iscsi", "nfs-common", "cryptsetup", "dmsetup"],
    },
    "redhat": {
        "rook-ceph": ["lvm2", "systemd-udev"],
        "nfs": ["nfs-utils"],
        "longhorn": ["iscsi-initiator-utils", "nfs-utils", "cryptsetup", "device-mapper"],
    },
}
PACKAGE_MANAGER = {"debian": "apt", "redhat": "dnf"}

KERNEL_MODULES = {
    "rook-ceph": ["rbd"],
    "longhorn": ["iscsi_tcp", "dm_crypt"],
    "storageos": ["configfs", "target_core_mod", "target_core_user", "tcm_loop", "uio"],
}

AIO_MAX_NR = 1048576
STORAGEOS_WARNING = ("storageos: StorageOS/Ondat is unmaintained upstream since 2023 (last ondat chart 0.2.9, March "
                     "2023); it is configured here only for existing clusters, do not use it for new builds")
INITIATOR_PREFIX = {"debian": "iqn.1993-08.org.debian:01:", "redhat": "iqn.1994-05.com.redhat:"}
HEADER = "# Managed by kubelayer.runtime (role csi): %s. Local edits are overwritten.\n"

MAX_AIO_MAX_NR = 2 ** 31 - 1  # fs.aio-max-nr: larger values are refused (they are never needed)


def _check_value(driver, option, kind, value, errors):
    where = "csi_drivers[%s].%s" % (driver, option)
    if isinstance(kind, tuple):
        if not isinstance(value, str) or value not in kind:
            errors.append("%s: %r is not one of %s" % (where, value, ", ".join(kind)))
        return value
    if kind == "bool":
        parsed = booleans.check_bool(where, value, errors)
        return value if parsed is None else parsed
    if kind == "str":
        validate.check_text(where, value, errors, max_len=255)
        return value
    if kind == "abspath":
        checked = validate.check_path(where, value, errors, directory=True)
        return value if checked is None else checked
    if kind == "paths":
        if not isinstance(value, list):
            errors.append("%s: %r is not a list of absolute device paths" % (where, value))
            return value
        for index, item in enumerate(value):
            validate.check_path("%s[%d]" % (where, index), item, errors)
        validate.check_unique(where, value, errors)
        return value
    if kind == "mode":
        return normalize_mode(value, where, errors)
    if kind == "regex":
        if value is None:
            return None
        try:
            re.compile(value)
        except (re.error, TypeError) as exc:
            errors.append("%s: %r is not a regular expression (%s)" % (where, value, exc))
        return value
    raise ValueError(kind)  # pragma: no cover - programming error


def normalize_mode(value, where, errors):
    """A directory mode as a 4-digit octal string. Accepts '0755', '755', '1777' or an int (YAML 0755 == 493)."""
    if isinstance(value, bool):
        errors.append("%s: %r is not an octal mode" % (where, value))
        return value
    if isinstance(value, int):
        if 0 <= value <= 0o7777:
            return "%04o" % value
    elif isinstance(value, str) and re.match(r"^0?[0-7]{3,4}\Z", value) and int(value, 8) <= 0o7777:
        return "%04o" % int(value, 8)
    errors.append("%s: %r is not an octal mode such as '0755'" % (where, value))
    return value


def normalize_drivers(drivers):
    """Validate ``csi_drivers`` for the node side. Returns ``(drivers, errors, warnings)``.

    Each returned driver is a dict with ``name`` and every node-side option of that driver (defaults filled in);
    a driver with an invalid option is left out of the list. Errors list every problem found; cluster-side keys
    are left alone, node-side keys of another driver warn.
    """
    errors, warnings, out, seen = [], [], [], set()
    if not isinstance(drivers, list):
        return [], ["csi_drivers: %r is not a list" % (drivers,)], []
    for index, entry in enumerate(drivers):
        if not isinstance(entry, dict):
            errors.append("csi_drivers[%d]: %r is not a dict" % (index, entry))
            continue
        name = entry.get("name")
        if name not in DRIVERS:
            errors.append("csi_drivers[%d].name: %r is not one of %s" % (index, name, ", ".join(DRIVERS)))
            continue
        if name in seen:
            errors.append("csi_drivers[%d]: driver %s is listed twice" % (index, name))
            continue
        seen.add(name)
        opts = DRIVER_OPTIONS[name]
        normalized = {"name": name}
        before = len(errors)
        for option, (kind, default) in sorted(opts.items()):
            value = entry.get(option, default)
            if value is None:
                value = default
            normalized[option] = _check_value(name, option, kind, value, errors)
        for key in sorted(entry):
            if key in NODE_OPTIONS and key not in opts:
                warnings.append("csi_drivers[%s].%s is an option of another driver and is ignored" % (name, key))
        if len(errors) == before:
            out.append(normalized)
    return out, errors, warnings


def os_family(os_release_text):
    """'debian' or 'redhat' from /etc/os-release text (ID and ID_LIKE), else None."""
    values = {}
    for line in (os_release_text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    ids = [values.get("ID", "")] + values.get("ID_LIKE", "").split()
    for ident in ids:
        if ident in ("debian", "ubuntu"):
            return "debian"
        if ident in ("rhel", "fedora", "centos", "rocky", "almalinux"):
            return "redhat"
    return None


def node_plan(drivers, family, aio_max_nr=AIO_MAX_NR):
    """What a node needs for the (normalized) drivers.

    Returns a dict: packages, kernel_modules, sysctls, directories, services, multipath_blacklist,
    initiator_name, quobyte_host_mounts, osd_devices, osd_device_filter, osd_use_all_devices, configfs, warnings.
    """
    plan = {"packages": [], "kernel_modules": [], "sysctls": {}, "directories": [], "services": [],
            "multipath_blacklist": False, "initiator_name": False, "quobyte_host_mounts": [],
            "osd_devices": [], "osd_device_filter": None, "osd_use_all_devices": False, "configfs": False,
            "warnings": []}

    def add(key, items):
        for item in items:
            if item not in plan[key]:
                plan[key].append(item)

    for drv in drivers:
        name = drv["name"]
        add("packages", PACKAGES.get(family, {}).get(name, []))
        add("kernel_modules", KERNEL_MODULES.get(name, []))
        if name == "rook-ceph":
            plan["sysctls"]["fs.aio-max-nr"] = aio_max_nr
            add("osd_devices", drv["osd_devices"])
            plan["osd_device_filter"] = drv["device_filter"]
            plan["osd_use_all_devices"] = drv["use_all_devices"]
            plan["services"].append({"name": "systemd-udevd.service", "state": "started", "enabled": None,
                                     "container_skip": "udev does not run inside a container; the host's udev "
                                                       "manages /dev for it (ceph-volume needs /run/udev)"})
        elif name == "quobyte":
            if drv["client_mode"] == "host":
                plan["quobyte_host_mounts"].append(drv["client_mount_point"] + "/mounts")
            else:
                plan["directories"].append({"path": drv["client_mount_point"], "mode": "0755", "selinux_type": None,
                                            "must_be_empty": True, "driver": name})
        elif name == "nfs":
            if drv["nfs_v3_locking"]:
                # rpc-statd.service is static: started now, and started again on demand by mount.nfs (start-statd)
                plan["services"].append({"name": "rpc-statd.service", "state": "started", "enabled": None,
                                         "container_skip": None})
        elif name == "local-path":
            plan["directories"].append({"path": drv["path"], "mode": drv["mode"],
                                        "selinux_type": drv["selinux_type"], "must_be_empty": False,
                                        "driver": name})
        elif name == "longhorn":
            plan["initiator_name"] = True
            plan["services"].append({"name": "iscsid.service", "state": "started", "enabled": True,
                                     "container_skip": None})
            if drv["multipathd"] == "blacklist":
                plan["multipath_blacklist"] = True
            else:
                for unit in ("multipathd.socket", "multipathd.service"):
                    plan["services"].append({"name": unit, "state": "stopped", "enabled": False,
                                             "container_skip": None})
        elif name == "storageos":
            plan["configfs"] = True
            plan["sysctls"]["fs.aio-max-nr"] = aio_max_nr
            plan["warnings"].append(STORAGEOS_WARNING)
    plan["packages"].sort()
    return plan


def render_modules_load(modules):
    """Content of /etc/modules-load.d/<file>.conf, or None (file absent) when no module is needed."""
    return kernel.render_modules_load(HEADER % "kernel modules for the CSI drivers", modules)


def render_sysctl(sysctls):
    """Content of /etc/sysctl.d/<file>.conf, or None when no sysctl is needed."""
    return kernel.render_sysctl(HEADER % "sysctls for the CSI drivers", sysctls)


def render_multipath_blacklist(enabled):
    """A multipath.conf.d snippet keeping multipathd off the sd* devices Longhorn attaches, or None."""
    if not enabled:
        return None
    return (HEADER % "keep multipathd away from Longhorn's iSCSI devices"
            + 'blacklist {\n    devnode "^sd[a-z0-9]+"\n}\n')


def parse_initiator_name(text):
    """The InitiatorName from /etc/iscsi/initiatorname.iscsi text, or None (absent, commented, GenerateName=yes)."""
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if sep and key.strip() == "InitiatorName" and value.strip().startswith(("iqn.", "eui.", "naa.")):
            return value.strip()
    return None


def render_initiator_name(current_text, family, random_hex):
    """Keep a valid existing initiator name (changing it breaks sessions); otherwise create one."""
    if parse_initiator_name(current_text):
        return current_text
    name = INITIATOR_PREFIX.get(family, INITIATOR_PREFIX["debian"]) + random_hex
    return "## Generated by kubelayer.runtime (role csi) for Longhorn's iscsid.\nInitiatorName=%s\n" % name


def parse_dpkg_status(text):
    """Names of packages dpkg considers installed, from /var/lib/dpkg/status text."""
    installed, name = set(), None
    for line in (text or "").splitlines():
        if line.startswith("Package:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("Status:") and name:
            if line.split(":", 1)[1].split()[-1:] == ["installed"]:
                installed.add(name)
        elif not line.strip():
            name = None
    return installed


def missing_packages(required, installed):
    return [p for p in required if p not in installed]


def parse_systemctl_show(text):
    """``systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState u1 u2`` -> {Id: {prop: value}}."""
    units, current = {}, {}
    for line in (text or "").splitlines() + [""]:
        if not line.strip():
            if current.get("Id"):
                units[current["Id"]] = current
            current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
    return units


_ENABLED = ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated")
_RUNNING = ("active", "activating", "reloading")


def service_actions(desired, observed, in_container):
    """Compare desired services with ``systemctl show`` data.

    Returns ``(actions, warnings, errors)``; actions are ``{name, state, enabled, present}`` for
    ansible.builtin.systemd_service and contain only units not yet in their desired state.
    """
    actions, warnings, errors = [], [], []
    for svc in desired:
        name = svc["name"]
        obs = observed.get(name, {})
        load = obs.get("LoadState", "not-found")
        active = obs.get("ActiveState", "inactive")
        unit_file = obs.get("UnitFileState", "")
        if in_container and svc.get("container_skip"):
            warnings.append("%s: not managed: %s" % (name, svc["container_skip"]))
            continue
        if svc["state"] == "stopped":
            if load == "not-found":
                continue
            needed = active in _RUNNING or (svc.get("enabled") is False and unit_file in ("enabled", "enabled-runtime"))
        else:
            if unit_file == "masked" or load == "masked":
                errors.append("%s is masked: unmask it so it can be started" % name)
                continue
            needed = active != "active" or (svc.get("enabled") is True and unit_file not in _ENABLED)
        if needed:
            action = {"name": name, "state": svc["state"], "present": load != "not-found"}
            if svc.get("enabled") is not None:
                action["enabled"] = svc["enabled"]
            actions.append(action)
    return actions, warnings, errors


def parse_mount_types(mountinfo_text):
    """Mount point -> filesystem type from /proc/self/mountinfo text (last mount wins)."""
    return dict((point, fstype) for _dev, point, fstype, _src in mounts.mountinfo_entries(mountinfo_text) if fstype)


def quobyte_errors(required_mounts, mount_types):
    errors = []
    for path in required_mounts:
        if path not in mount_types:
            errors.append("csi_drivers[quobyte].client_mode: host needs the native Quobyte client mounted at %s (install it with "
                          "install_quobyte add-client --mount-point %s), or set client_mode: daemonset to use the "
                          "chart's client DaemonSet" % (path, path))
    return errors


def configfs_warnings(plan, mount_types):
    if plan["configfs"] and mount_types.get("/sys/kernel/config") != "configfs":
        return ["storageos: configfs is not mounted at /sys/kernel/config (mount -t configfs none /sys/kernel/config"
                " or enable sys-kernel-config.mount)"]
    return []


def sysctl_writes(desired, current):
    """Runtime sysctl values to write: only raises (a node tuned higher is left alone). {key: value}."""
    writes = {}
    for key, value in desired.items():
        try:
            now = int(str(current.get(key, "")).split()[0])
        except (ValueError, IndexError):
            now = None
        if now is None or now < int(value):
            writes[key] = int(value)
    return writes


def selinux_type(context):
    """The type field of an SELinux context such as system_u:object_r:container_file_t:s0, or None."""
    parts = (context or "").strip("\x00 \n").split(":")
    return parts[2] if len(parts) >= 3 else None
