#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csi_node
short_description: Probe and prepare a node for CSI storage drivers (files, directories, modules, sysctls)
version_added: 0.1.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - Node side of the storage drivers C(rook-ceph), C(quobyte), C(nfs), C(local-path), C(longhorn) and
    C(storageos). One call validates the driver list, refuses devices named for Ceph OSDs that cannot be used,
    writes the node files atomically and reports what packages and services still need work, so a role can skip
    its package and service tasks on a node that is already right.
  - "Files: kernel modules in O(modules_load_file), sysctls in O(sysctl_file) (C(fs.aio-max-nr) for rook-ceph and
    storageos), the multipathd blacklist of C(sd*) devices for Longhorn in O(multipath_conf_file), and an iSCSI
    initiator name in O(initiatorname_file) when none is set. A file that is no longer needed is removed."
  - "Directories: the local-path directory with its mode and, when SELinux is enabled, its SELinux type; the
    Quobyte client mount point when the chart's client DaemonSet is used."
  - Kernel modules that are not loaded are loaded with modprobe; when that is impossible (inside a container, or
    a module missing from the kernel) the module warns and does not fail, the modules-load.d file loads them at
    the next boot. A sysctl is raised at runtime when it is lower than wanted (never lowered).
  - Fails, listing every problem and writing nothing, on an invalid driver list, a device for OSDs that does not
    exist, is a partition or is not eligible (see M(kubelayer.runtime.block_devices)), or a Quobyte native client
    that is not mounted in C(client_mode=host). A device for OSDs that already is a Ceph OSD (BlueStore label, or
    C(ceph-*) LVM) is accepted, so the node side can be re-run after Rook created its OSDs.
  - "Does not install packages or change services: it returns RV(packages_missing) and RV(service_actions) for
    M(ansible.builtin.apt)/M(ansible.builtin.dnf) and M(ansible.builtin.systemd_service)."
options:
  drivers:
    description:
      - The storage drivers, as in the role variable C(csi_drivers). Each item is a dict with C(name) (one of
        C(rook-ceph), C(quobyte), C(nfs), C(local-path), C(longhorn), C(storageos)) and that driver's options.
      - "rook-ceph: C(osd_devices) (list of device paths, default none; each must be eligible for an OSD),
        C(device_filter) (Rook's C(deviceFilter), a regular expression searched in device names such as C(sdb)),
        C(use_all_devices) (bool, default false); with either of the last two each selected device Rook would skip
        (the rules of C(ceph-volume inventory), see M(kubelayer.runtime.block_devices)), and a node where Rook would
        create no OSD, is a warning. quobyte: C(client_mount_point) (default
        C(/home/quobyte)), C(client_mode) (C(host) or C(daemonset), default C(daemonset)). nfs: C(nfs_v3_locking)
        (bool, default false: starts rpc.statd). local-path: C(path) (default C(/opt/local-path-provisioner)),
        C(mode) (default C(0755)), C(selinux_type) (default C(container_file_t)). longhorn: C(multipathd)
        (C(blacklist) or C(stop), default C(blacklist)). storageos: none."
      - Other keys (options of the cluster side) are ignored.
    type: list
    elements: dict
    required: true
  aio_max_nr:
    description: Value of C(fs.aio-max-nr) for rook-ceph and storageos.
    type: int
    default: 1048576
  modules_load_file:
    description: The modules-load.d file listing the kernel modules.
    type: path
    default: /etc/modules-load.d/kubelayer-csi.conf
  sysctl_file:
    description: The sysctl.d file holding the sysctls.
    type: path
    default: /etc/sysctl.d/90-kubelayer-csi.conf
  multipath_conf_file:
    description: The multipath configuration snippet blacklisting C(sd*) devices for Longhorn.
    type: path
    default: /etc/multipath/conf.d/kubelayer-longhorn.conf
  initiatorname_file:
    description: The open-iscsi initiator name file. An existing valid name is never changed.
    type: path
    default: /etc/iscsi/initiatorname.iscsi
  load_modules:
    description: Load missing kernel modules with modprobe now (they are always persisted in O(modules_load_file)).
    type: bool
    default: true
extends_documentation_fragment:
  - kubelayer.runtime.attributes
notes:
  - Supports Debian/Ubuntu and RHEL-like nodes.
  - Inside a container, udev is not managed (the host's udev runs) and kernel modules cannot be loaded; both give a
    warning.
seealso:
  - module: kubelayer.runtime.block_devices
"""

EXAMPLES = r"""
- name: Prepare the node for local-path, NFS and Rook
  kubelayer.runtime.csi_node:
    drivers:
      - name: local-path
        path: /var/lib/local-path
      - name: nfs
        nfs_v3_locking: true
      - name: rook-ceph
        osd_devices: [/dev/sdb, /dev/sdc]
  register: csi_probe

- name: Install what is missing
  ansible.builtin.apt:
    name: "{{ csi_probe.packages_missing }}"
    update_cache: true
  when: csi_probe.packages_missing | length > 0 and csi_probe.package_manager == 'apt'

- name: Start or stop the services
  ansible.builtin.systemd_service:
    name: "{{ item.name }}"
    state: "{{ item.state }}"
    enabled: "{{ item.enabled | default(omit) }}"
  loop: "{{ csi_probe.service_actions }}"
"""

RETURN = r"""
packages_missing:
  description: Packages the drivers need that are not installed yet.
  returned: success
  type: list
  elements: str
  sample: [lvm2, nfs-common]
packages:
  description: Every package the drivers need on this OS family.
  returned: success
  type: list
  elements: str
package_manager:
  description: C(apt) or C(dnf).
  returned: success
  type: str
  sample: apt
os_family:
  description: C(debian) or C(redhat).
  returned: success
  type: str
service_actions:
  description:
    - Units not yet in their desired state, each with C(name), C(state), C(present) (whether the unit exists now)
      and, when it matters, C(enabled). Empty when every service is right.
  returned: success
  type: list
  elements: dict
  sample: [{name: rpc-statd.service, state: started, present: true}]
kernel_modules:
  description: Each kernel module the drivers need and whether it is loaded (after any modprobe).
  returned: success
  type: dict
  sample: {rbd: false}
sysctls:
  description: The sysctls written to O(sysctl_file).
  returned: success
  type: dict
  sample: {fs.aio-max-nr: 1048576}
directories:
  description: Directories managed, with C(path), C(mode) and C(selinux_type).
  returned: success
  type: list
  elements: dict
osd_devices:
  description:
    - The block device records (see M(kubelayer.runtime.block_devices)) of the devices named for OSDs, and of those
      C(device_filter) or C(use_all_devices) selects.
  returned: success
  type: list
  elements: dict
in_container:
  description: Whether the node is a container.
  returned: success
  type: bool
diff:
  description: Before/after of every file and directory changed (or to be changed in check mode).
  returned: when diff mode is on and something changed
  type: list
  elements: dict
problems:
  description: Every problem found when the module fails, each starting with the option it is about.
  returned: failure
  type: list
  elements: str
"""

import binascii
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import files as host_files
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import kernel, validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail, fail_if
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import blockdev, blockdev_io, node

_read_text = host_files.read_text
FILE_OPTIONS = ("modules_load_file", "sysctl_file", "multipath_conf_file", "initiatorname_file")


def check_options(params, problems):
    """The module's own options (the drivers are checked by node.normalize_drivers). Normalises paths in place."""
    validate.check_int("aio_max_nr", params["aio_max_nr"], problems, 1, node.MAX_AIO_MAX_NR)
    for option in FILE_OPTIONS:
        params[option] = validate.check_path(option, params[option], problems)
    validate.check_distinct(dict((option, params[option]) for option in FILE_OPTIONS), problems)
    return problems


class CsiNode(object):
    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.changed = False
        self.diffs = []
        self.host = host_files.HostFiles(module.check_mode, prefix=".kubelayer-csi.")
        self.touched = set()

    # -- files: recorded, checked, then written in one go ----------------------------------------------------
    def plan_file(self, option, content, mode=0o644):
        """``option``'s file should hold ``content`` (None: absent)."""
        path = self.module.params[option]
        if content is None:
            change = self.host.absent(option, path)
        else:
            change = self.host.file(option, path, to_bytes(content), mode)
        if change is not None:
            self.touched.add(option)

    def plan_directory(self, spec, warnings):
        option = "csi_drivers[%s].path" % spec["driver"]
        change = self.host.directory(option, spec["path"], int(spec["mode"], 8))
        if change is None and spec.get("must_be_empty"):
            if not os.path.ismount(spec["path"]) and os.listdir(spec["path"]):
                warnings.append("%s: %s is not empty; the Quobyte client DaemonSet refuses a non-empty mount point"
                                % (spec["driver"], spec["path"]))

    def commit(self):
        diffs = host_files.commit_or_fail(self.module, "csi_node", self.host)
        self.changed = self.changed or bool(diffs)
        self.diffs.extend(diffs)

    def ensure_selinux_type(self, path, wanted, exists):
        current = None
        if exists:
            try:
                current = node.selinux_type(to_native(os.getxattr(path, "security.selinux")))
            except (OSError, AttributeError):
                current = None
        if current == wanted:
            return
        self.changed = True
        self.diffs.append({"before_header": path + " (SELinux type)", "after_header": path + " (SELinux type)",
                           "before": "%s\n" % current, "after": "%s\n" % wanted})
        if not self.check:
            chcon = self.module.get_bin_path("chcon", required=True)
            self.module.run_command([chcon, "-t", wanted, path], check_rc=True)

    # -- kernel ----------------------------------------------------------------------------------------------
    def load_modules(self, modules, container, warnings):
        state = {}
        modprobe = self.module.get_bin_path("modprobe")
        for name in modules:
            loaded = os.path.isdir(os.path.join("/sys/module", name))
            if not loaded and self.module.params["load_modules"]:
                if modprobe is None:
                    rc, err = 1, "modprobe not found"
                else:
                    args = [modprobe] + (["--dry-run"] if self.check else []) + [name]
                    rc, _out, err = self.module.run_command(args)
                if rc == 0:
                    self.changed = True
                    loaded = not self.check
                else:
                    warnings.append(
                        "kernel module %s could not be loaded (%s)%s; it is listed in %s and loads at the next boot"
                        % (name, (err or "").strip() or "rc=%d" % rc,
                           ": inside a container the host must load it" if container else "",
                           self.module.params["modules_load_file"]))
            state[name] = loaded
        return state

    def apply_sysctls(self, sysctls, warnings):
        current = {}
        for key in sysctls:
            current[key] = (_read_text(kernel.sysctl_path(key)) or "").strip()
        for key, value in sorted(node.sysctl_writes(sysctls, current).items()):
            proc = kernel.sysctl_path(key)
            if self.check and not os.access(proc, os.W_OK):
                warnings.append("sysctl %s cannot be set now (%s is read-only); %s sets it at the next boot"
                                % (key, proc, self.module.params["sysctl_file"]))
                continue
            if not self.check:
                try:
                    with open(proc, "w") as handle:
                        handle.write("%d\n" % value)
                except (IOError, OSError) as exc:
                    warnings.append("sysctl %s could not be set now (%s); %s sets it at the next boot"
                                    % (key, exc, self.module.params["sysctl_file"]))
                    continue
            self.changed = True
            self.diffs.append({"before_header": "sysctl " + key, "after_header": "sysctl " + key,
                               "before": "%s\n" % current[key], "after": "%s\n" % value})

    # -- world -----------------------------------------------------------------------------------------------
    def installed_packages(self, family, packages):
        if family == "debian":
            return node.parse_dpkg_status(_read_text("/var/lib/dpkg/status"))
        rpm = self.module.get_bin_path("rpm")
        installed = set()
        for pkg in packages:
            if rpm and self.module.run_command([rpm, "-q", pkg])[0] == 0:
                installed.add(pkg)
        return installed

    def observe_units(self, units):
        if not units:
            return {}
        systemctl = self.module.get_bin_path("systemctl")
        if systemctl is None:
            return {}
        args = [systemctl, "show", "-p", "Id", "-p", "LoadState", "-p", "ActiveState", "-p", "UnitFileState"]
        _rc, out, _err = self.module.run_command(args + list(units))
        return node.parse_systemctl_show(out)


def osd_device_checks(module, plan):
    """The Rook OSD devices of this node, checked with ceph-volume's rules: ``(records, errors, warnings)``.

    An explicit ``osd_devices`` list must be eligible device by device; what ``device_filter`` / ``use_all_devices``
    selects is reported: each device Rook would skip, and a node where it would create no OSD, are warnings.
    """
    use_all, device_filter = plan["osd_use_all_devices"], plan["osd_device_filter"]
    if not (plan["osd_devices"] or use_all or device_filter):
        return [], [], []
    blkid = module.get_bin_path("blkid")
    run_blkid = (lambda path: module.run_command([blkid, "-p", "-o", "export", path])[1]) if blkid else None
    devices = blockdev_io.discover("/", run_blkid=run_blkid)
    records, errors, warnings = [], [], []
    if plan["osd_devices"]:
        records, dev_errors = blockdev.resolve_requested(blockdev_io.describe_requested(plan["osd_devices"]), devices)
        dev_errors.extend(blockdev.ineligible_errors(records, accept_ceph_osds=True))
        errors.extend("csi_drivers[rook-ceph].osd_devices: %s" % e for e in dev_errors)
    if use_all or device_filter:
        what = "rook-ceph: use_all_devices" if use_all else "rook-ceph: device_filter %r" % device_filter
        selected = blockdev.select_rook_devices(devices, device_filter, use_all)
        warnings = blockdev.selection_warnings(selected, what)
        records.extend(d for d in selected if d not in records)
    return records, errors, warnings


ARGUMENT_SPEC = dict(
    drivers=dict(type="list", elements="dict", required=True),
    aio_max_nr=dict(type="int", default=node.AIO_MAX_NR),
    modules_load_file=dict(type="path", default="/etc/modules-load.d/kubelayer-csi.conf"),
    sysctl_file=dict(type="path", default="/etc/sysctl.d/90-kubelayer-csi.conf"),
    multipath_conf_file=dict(type="path", default="/etc/multipath/conf.d/kubelayer-longhorn.conf"),
    initiatorname_file=dict(type="path", default="/etc/iscsi/initiatorname.iscsi"),
    load_modules=dict(type="bool", default=True),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    p = module.params
    drivers, errors, warnings = node.normalize_drivers(p["drivers"])
    fail_if(module, "csi_node", check_options(p, errors))
    family = node.os_family(_read_text("/etc/os-release"))
    if family is None:
        fail(module, "csi_node", ["os_family: /etc/os-release names neither a Debian- nor a RHEL-like system"])

    plan = node.node_plan(drivers, family, p["aio_max_nr"])
    warnings.extend(plan["warnings"])
    mount_types = node.parse_mount_types(_read_text("/proc/self/mountinfo") or "")
    errors.extend(node.quobyte_errors(plan["quobyte_host_mounts"], mount_types))
    warnings.extend(node.configfs_warnings(plan, mount_types))

    osd_records, dev_errors, dev_warnings = osd_device_checks(module, plan)
    errors.extend(dev_errors)
    warnings.extend(dev_warnings)
    fail_if(module, "csi_node", errors, osd_devices=osd_records)

    container = kernel.in_container()
    work = CsiNode(module)
    work.plan_file("modules_load_file", node.render_modules_load(plan["kernel_modules"]))
    work.plan_file("sysctl_file", node.render_sysctl(plan["sysctls"]))
    work.plan_file("multipath_conf_file", node.render_multipath_blacklist(plan["multipath_blacklist"]))
    if plan["initiator_name"]:
        current = _read_text(p["initiatorname_file"])
        if not node.parse_initiator_name(current):
            work.plan_file("initiatorname_file", node.render_initiator_name(
                current, family, to_native(binascii.hexlify(os.urandom(6)))), mode=0o600)
    for directory in plan["directories"]:
        work.plan_directory(directory, warnings)
    work.commit()
    multipath_changed = "multipath_conf_file" in work.touched
    selinux = os.path.exists("/sys/fs/selinux/enforce") and (_read_text("/sys/fs/selinux/enforce") or "") != ""
    for directory in plan["directories"]:
        if selinux and directory.get("selinux_type"):
            work.ensure_selinux_type(directory["path"], directory["selinux_type"], exists=os.path.isdir(directory["path"]))
    work.apply_sysctls(plan["sysctls"], warnings)
    modules = work.load_modules(plan["kernel_modules"], container, warnings)

    installed = work.installed_packages(family, plan["packages"])
    missing = node.missing_packages(plan["packages"], installed)
    desired = plan["services"]
    observed = work.observe_units([s["name"] for s in desired] + (["multipathd.service"] if multipath_changed else []))
    actions, svc_warnings, svc_errors = node.service_actions(desired, observed, container)
    warnings.extend(svc_warnings)
    if multipath_changed and observed.get("multipathd.service", {}).get("ActiveState") == "active":
        actions.append({"name": "multipathd.service", "state": "reloaded", "present": True})
    fail_if(module, "csi_node", svc_errors)

    for warning in warnings:
        module.warn(warning)
    result = dict(changed=work.changed, packages=plan["packages"], packages_missing=missing,
                  package_manager=node.PACKAGE_MANAGER[family], os_family=family, service_actions=actions,
                  kernel_modules=modules, sysctls=plan["sysctls"], in_container=container, osd_devices=osd_records,
                  directories=[{"path": d["path"], "mode": d["mode"], "selinux_type": d["selinux_type"]}
                               for d in plan["directories"]])
    if module._diff and work.diffs:
        result["diff"] = work.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
