#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: containerd_config
short_description: Bring a containerd config file to a desired, version-neutral state
version_added: 0.1.0
description:
  - Merges a version-neutral desired state (pause image, cgroup driver, runtime handlers, snapshotter,
    registry C(config_path), registry credentials, CNI directories, extra settings) into a containerd config file.
  - Writes the config schema of the target containerd release, C(version = 2) for 1.x, C(version = 3)
    for 2.0 to 2.2, C(version = 4) for 2.3 and later. A file in an older config version is migrated.
  - Keys and comments the desired state does not manage survive. The CRI plugin IDs are removed from
    C(disabled_plugins) (the C(containerd.io) package ships C(disabled_plugins = ["cri"])).
  - On containerd 1.x the CRI settings are written into the main file, never into drop-in files
    (a 1.x drop-in naming a plugin replaces that plugin's whole table).
  - Before the file is replaced the candidate is checked with C(containerd -c CANDIDATE config dump) (when
    O(validate=true) and the installed containerd is the target release) and with semantic checks
    containerd itself only reports at runtime (the default runtime exists; registry mirrors and
    O(config_path) are not both set; not both CNI C(bin_dir) and C(bin_dirs); ...).
  - All problems of the input are reported together; nothing is written when there is any.
  - The TOML work runs on the controller (action plugin, needs the Python library C(tomlkit) there);
    the node only needs the Python standard library.
  - The module does not restart containerd; it returns RV(restart_required).
author: kubelayer.runtime developers (@kubelayer)
requirements:
  - tomlkit (Python library, on the controller)
attributes:
  action:
    description: Runs an action plugin on the controller.
    support: full
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  path:
    description:
      - The containerd config file.
    type: path
    default: /etc/containerd/config.toml
  containerd_version:
    description:
      - The containerd release to write the config for, for example C(1.7.24) or C(2.1).
      - Detected from C(containerd --version) on the node when absent. Given, the file is rendered for
        that release even on a node that does not have containerd installed (validation with
        C(containerd config dump) is then skipped).
    type: str
  validate:
    description:
      - Check the candidate file with C(containerd -c CANDIDATE config dump) before replacing the file,
        when the installed containerd is the target release.
      - The semantic checks always run.
    type: bool
    default: true
  backup:
    description:
      - Keep a timestamped copy of the previous file next to it when the file changes.
    type: bool
    default: false
  sandbox_image:
    description:
      - The pause (sandbox) image, for example C(registry.k8s.io/pause:3.10).
      - Written as C(sandbox_image) (1.x) or C(pinned_images.sandbox) of the images plugin (2.x).
      - Not managed when absent.
    type: str
  cgroup_driver:
    description:
      - The cgroup driver of every runc-type runtime handler (C(runtime_type = "io.containerd.runc.v2"),
        those in O(runtimes) and those already in the file), as C(options.SystemdCgroup).
      - V(auto) takes the kubelet's driver when O(kubelet_config) or O(kubelet_cgroup_driver) says one, else
        V(systemd) when PID 1 of the node is systemd, else V(cgroupfs).
    type: str
    choices: [systemd, cgroupfs, auto]
    default: auto
  kubelet_config:
    description:
      - The kubelet's config file (KubeletConfiguration). When it exists and sets C(cgroupDriver), V(auto) in
        O(cgroup_driver) takes the kubelet's driver, and an explicit O(cgroup_driver) that differs is refused
        (the message names both).
    type: path
    default: /var/lib/kubelet/config.yaml
  kubelet_cgroup_driver:
    description:
      - The cgroup driver the kubelet is configured with (kubespray's C(kubelet_cgroup_driver)); compared like
        the kubelet config file's C(cgroupDriver).
    type: str
    choices: [systemd, cgroupfs]
  kubernetes_version:
    description:
      - The Kubernetes release of the node (for example V(1.34.2)). When given, a containerd release that
        containerd's own support table (C(RELEASES.md), "Kubernetes Support") does not list for that Kubernetes
        minor is refused; a Kubernetes minor outside the table gives a warning.
    type: str
  default_runtime:
    description:
      - The runtime handler the CRI plugin uses without a RuntimeClass (C(default_runtime_name)).
      - Must be a key of O(runtimes) or a handler already in the file; C(runc) is added when missing.
      - When not given, the file's own C(default_runtime_name) stays (for example V(nvidia) set by
        C(nvidia-ctk runtime configure --set-as-default)); V(runc) when the file names none.
    type: str
  runtimes:
    description:
      - Runtime handlers, name to settings. Names are RuntimeClass handlers, lowercase RFC 1123 labels.
      - C(kind) is one of V(runc) (default), V(crun), V(nvidia) (C(io.containerd.runc.v2) with
        C(BinaryName) defaulting to C(/usr/bin/crun) or C(/usr/bin/nvidia-container-runtime)), V(kata)
        (C(io.containerd.kata.v2), adds C(privileged_without_host_devices = true) and
        C(pod_annotations = ["io.katacontainers.*"])), V(gvisor) (C(io.containerd.runsc.v1) with
        C(options.TypeUrl)), V(custom) (needs C(runtime_type)).
      - C(runtime_type) overrides the shim of the kind, for example C(io.containerd.kata-qemu.v2).
      - C(binary) is an absolute path, written as C(options.BinaryName) for runc-type handlers and as
        C(runtime_path) (the shim) for the others.
      - C(options) is the handler's C(options) table, merged over the kind's defaults. C(SystemdCgroup) is
        set by O(cgroup_driver).
      - C(settings) holds handler keys by version-neutral name (C(privileged_without_host_devices),
        C(pod_annotations), C(container_annotations), C(base_runtime_spec), C(cni_conf_dir),
        C(cni_max_conf_num), C(snapshotter), C(sandboxer) (1.x C(sandbox_mode)), C(io_type),
        C(cgroup_writable), C(runtime_path), C(disable_pause_image_pull),
        C(privileged_without_host_devices_all_devices_allowed)).
      - Handlers already in the file and not named here are kept.
    type: dict
  snapshotter:
    description:
      - The snapshotter of the CRI plugin, for example V(overlayfs) or V(native).
    type: str
  config_path:
    description:
      - The registry host configuration directory (C(hosts.toml) files), for example
        C(/etc/containerd/certs.d); a C(:)-separated list of absolute directories.
      - Cannot be combined with C(registry.mirrors) in the file (containerd refuses both).
    type: str
  cni_bin_dir:
    description:
      - The CNI plugin directories. containerd 2.1 and later take a list (C(bin_dirs)); older releases
        take exactly one (C(bin_dir)).
    type: list
    elements: str
  cni_conf_dir:
    description:
      - The CNI network configuration directory.
    type: str
  settings:
    description:
      - Further settings, by version-neutral dotted name, mapped to the key of the target release.
      - C(cri.runtime.<key>), C(cri.containerd.<key>), C(cri.cni.<key>), C(cri.images.<key>),
        C(cri.registry.<key>), C(cri.streaming.<key>), C(server.root), C(server.state), C(server.oom_score),
        C(server.temp), C(server.cgroup.path), C(server.grpc.<key>), C(server.ttrpc.<key>),
        C(server.debug.<key>), C(server.metrics.<key>), C(snapshotters.<name>.<key>), C(nri.<key>),
        C(gc.<key>), C(transfer.<key>). The mapping table is in the collection's
        C(docs/internals/containerd_config.md).
      - A dictionary value is merged key by key into the table the name addresses.
      - Names that first-class options manage are refused (for example C(cri.images.pinned_images.sandbox)).
    type: dict
  registry_auth:
    description:
      - Registry credentials, kubespray's C(containerd_registry_auth) list. Each item names a O(registry_auth[].registry)
        and exactly one of O(registry_auth[].username) with O(registry_auth[].password), O(registry_auth[].auth)
        or O(registry_auth[].identitytoken).
      - Written as C(registry.configs."<host>".auth) of the CRI plugin, C([plugins."io.containerd.grpc.v1.cri"])
        on containerd 1.x (config version 2), C([plugins."io.containerd.cri.v1.images"]) on 2.x (versions 3 and
        4). containerd's CRI plugin hands them to its registry authorizer, which answers the registry's challenge
        (C(Basic) directly, C(Bearer) by fetching a token first, as Docker Hub, Harbor, GHCR and Quay require). A static
        C(Authorization) header in C(hosts.toml) gets no such exchange.
      - containerd 2.x reports these tables as deprecated (C(io.containerd.deprecation/cri-registry-configs);
        the removal it announces moved from 2.1 (2.0.11) to 2.3 (2.1.9) to 2.4 (2.3.4)) and, on 2.1 and
        later, pulls through the CRI plugin's own (local) pull path instead of the transfer service while they
        are set. They still work on every release this module targets.
      - When given (an empty list too), the list owns every C(registry.configs."<host>".auth) table of the file;
        credentials for a host not in the list are removed (with a warning naming the host). Not given, those
        tables are left as they are.
      - A file holding credentials is written with mode C(0600) (its backup too); in diff mode every credential
        shows as C(********). Values never appear in messages.
    type: list
    elements: dict
    suboptions:
      registry:
        description:
          - The registry host as containerd asks for it, C(host) or C(host:port) (for example
            V(registry.example.com:5000); a mirror's host for pulls through that mirror). A leading C(https://) is
            dropped; the name is lower-cased.
        type: str
        required: true
      username:
        description:
          - User name, with O(registry_auth[].password).
        type: str
      password:
        description:
          - Password, with O(registry_auth[].username).
        type: str
      auth:
        description:
          - Base64 of C(username:password).
        type: str
      identitytoken:
        description:
          - An identity token (an OAuth2 refresh token, as C(docker login) stores it). containerd's own field;
            kubespray's template does not write it.
        type: str
  _phase:
    description:
      - Internal, set by the action plugin (V(probe) reads the node, V(apply) writes). Do not set.
    type: str
    choices: [probe, apply]
  _content:
    description:
      - Internal, set by the action plugin (the candidate file). Do not set.
    type: str
  _secret:
    description:
      - Internal, set by the action plugin (the candidate holds registry credentials, so mode 0600). Do not set.
    type: bool
    default: false
notes:
  - The module returns RV(restart_required); restart containerd (for example from a handler) for the new
    file to take effect.
  - Values of O(settings) and O(runtimes) appear in the diff; registry credentials go in O(registry_auth)
    (O(settings) naming C(registry.configs.*.auth) or C(registry.auths) is refused).
seealso:
  - name: containerd CRI configuration
    description: The CRI plugin's configuration reference.
    link: https://github.com/containerd/containerd/blob/main/docs/cri/config.md
"""

EXAMPLES = r"""
- name: Configure containerd for kubelet (detected version)
  kubelayer.runtime.containerd_config:
    sandbox_image: registry.k8s.io/pause:3.10
    cgroup_driver: systemd
    config_path: /etc/containerd/certs.d
    cni_bin_dir: [/opt/cni/bin, /usr/lib/cni]
    cni_conf_dir: /etc/cni/net.d
  register: containerd_config_result
  notify: Restart containerd

- name: Add crun and a kata handler, raise the log line size
  kubelayer.runtime.containerd_config:
    runtimes:
      crun:
        kind: crun
      kata-qemu:
        kind: kata
        runtime_type: io.containerd.kata-qemu.v2
    settings:
      cri.runtime.max_container_log_line_size: 65536
      server.grpc.max_recv_message_size: 33554432

- name: Registry credentials (kubespray's containerd_registry_auth), answered by containerd's authorizer
  kubelayer.runtime.containerd_config:
    config_path: /etc/containerd/certs.d
    registry_auth:
      - registry: registry.example.com:5000
        username: puller
        password: "{{ vault_registry_password }}"

- name: Render for containerd 2.3 on a node that does not have it yet
  kubelayer.runtime.containerd_config:
    path: /etc/containerd/config.toml
    containerd_version: 2.3.4
    sandbox_image: registry.k8s.io/pause:3.10.2
"""

RETURN = r"""
path:
  description: The config file.
  returned: always
  type: str
  sample: /etc/containerd/config.toml
restart_required:
  description:
    - Whether containerd must be restarted to apply the file, because it changed now or because the running
      containerd started before the file's last change (a restart owed by an earlier run).
  returned: always
  type: bool
  sample: true
config_version:
  description: The config schema version written (2, 3 or 4).
  returned: always
  type: int
  sample: 3
containerd_version:
  description: The containerd release the file was rendered for.
  returned: always
  type: str
  sample: 2.1.4
backup_file:
  description: The backup of the previous file.
  returned: when O(backup=true) and the file changed
  type: str
  sample: /etc/containerd/config.toml.12345.2026-11-27@11:22:33~
validated:
  description: Whether the candidate was checked with C(containerd config dump).
  returned: always
  type: bool
  sample: true
migrated_from:
  description: The config version of the existing file, when it was migrated.
  returned: when an older file was migrated
  type: int
  sample: 2
diff:
  description: The file before and after, in diff mode.
  returned: when diff mode is on
  type: dict
  sample: {before: "version = 2\n", after: "version = 3\n"}
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import files as host_files
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail, fail_if
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_spec import ARGUMENT_SPEC
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_versions import (
    parse_version,
    format_version,
)


def _argument_spec():
    spec = dict((k, dict(v)) for k, v in ARGUMENT_SPEC.items())
    spec["_phase"] = dict(type="str", choices=["probe", "apply"])
    # the candidate may hold registry credentials: never logged (the action plugin shows a redacted diff)
    spec["_content"] = dict(type="str", no_log=True)
    spec["_secret"] = dict(type="bool", default=False)
    return spec


def probe(module):
    path = module.params["path"]
    problems = []
    validate.check_path("path", path, problems)
    fail_if(module, "containerd_config", problems)
    st = host_files.lstat(path)
    if st is not None and stat.S_ISDIR(st.st_mode):
        fail(module, "containerd_config", ["path: %s is a directory" % path])
    data = None
    if st is not None:
        data = host_files.read_bytes(path)
        if data is None:
            fail(module, "containerd_config", ["path: cannot read %s" % path])
    content = None
    if data is not None:
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            fail(module, "containerd_config", ["path: %s is not UTF-8 text, not a TOML file" % path])
    binary = module.get_bin_path("containerd", opt_dirs=["/usr/local/bin", "/usr/bin", "/usr/sbin"])
    version_output = None
    version_error = None
    if binary:
        rc, out, err = module.run_command([binary, "--version"])
        if rc == 0:
            version_output = out.strip()
        else:
            version_error = (err or out).strip()
    else:
        version_error = "containerd is not installed (not found in PATH)"
    parsed = parse_version(version_output) if version_output else None
    kubelet = _read_kubelet_config(module.params["kubelet_config"])
    module.exit_json(
        changed=False,
        path=path,
        exists=data is not None,
        content=content,
        containerd_binary=binary,
        containerd_version_output=version_output,
        containerd_version=format_version(parsed) if parsed else None,
        containerd_version_error=version_error,
        # sd_booted(): systemd is PID 1 when /run/systemd/system exists
        pid1_systemd=os.path.isdir("/run/systemd/system"),
        kubelet_config_content=kubelet,
    )


def _read_kubelet_config(path):
    """The kubelet's config file as text (None when absent or unreadable; at most 1 MiB)."""
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            return to_text(f.read(1 << 20), errors="surrogate_or_replace")
    except (IOError, OSError):
        return None


def _validate(module, binary, candidate):
    rc, out, err = module.run_command([binary, "-c", candidate, "config", "dump"])
    if rc != 0:
        return False, (err or out).strip()
    for line in (err or "").splitlines():
        if "Ignoring unknown key" in line or "level=warning" in line:
            module.warn("containerd config dump: %s" % line.strip())
    return True, None


def apply(module):
    path = module.params["path"]
    content = module.params["_content"]
    problems = []
    validate.check_path("path", path, problems)
    fail_if(module, "containerd_config", problems)
    if content is None:
        fail(module, "containerd_config", ["_content: required in the apply phase"])
    new = to_bytes(content, errors="surrogate_or_strict")
    st = host_files.lstat(path)
    current = host_files.read_bytes(path) if st is not None and stat.S_ISREG(st.st_mode) else None
    # a new file is 0600, an existing one keeps its mode, unless it holds registry credentials: then 0600
    mode = stat.S_IMODE(st.st_mode) if current is not None and not module.params["_secret"] else 0o600
    changed = current != new or (current is not None and stat.S_IMODE(st.st_mode) != mode)
    result = dict(changed=changed, restart_required=changed or _running_older_than(module, path),
                  path=path, validated=False)
    # the diff is made by the action plugin, with registry credentials redacted
    if not changed:
        module.exit_json(**result)

    binary = None
    if module.params["validate"]:
        binary = module.get_bin_path("containerd", opt_dirs=["/usr/local/bin", "/usr/bin", "/usr/sbin"])
        if not binary:
            fail(module, "containerd_config", ["validate: containerd is not installed on the node"], **result)
    rejected = []

    def candidate_ok(tmp):
        ok, error = _validate(module, binary, tmp)
        result["validated"] = True
        if not ok:
            rejected.append(error)
            return "containerd rejects the candidate config, %s is unchanged: %s" % (path, error)
        return None

    # a symlink at path is replaced by the regular file (never written through); the owner is kept
    files = host_files.HostFiles(module.check_mode, prefix=".containerd-config.")
    files.file("path", path, new, mode, symlink="replace", validate=candidate_ok if binary else None)
    refused = dict(result)
    refused["changed"] = False
    fail_if(module, "containerd_config", files.problems(), **refused)
    if module.check_mode:
        _check_candidate(module, binary, path, new, result)
        module.exit_json(**result)
    if module.params["backup"] and current is not None:
        result["backup_file"] = module.backup_local(path)
        # the previous file may hold registry credentials too
        os.chmod(result["backup_file"], 0o600)
    try:
        files.commit()
    except host_files.HostFileError as exc:
        # nothing was replaced: the backup taken for this run goes too, so a refusal leaves the directory as it was
        backup = result.pop("backup_file", None)
        if backup:
            try:
                os.unlink(backup)
            except OSError:
                pass
        result.update(changed=False, restart_required=False)
        fail(module, "containerd_config", ["validate: " + exc.text if rejected else exc.problem], **result)
    module.exit_json(**result)


def _check_candidate(module, binary, path, new, result):
    """Check mode: containerd config dump on a temporary candidate beside the file (removed again)."""
    directory = os.path.dirname(path)
    if not binary or not os.path.isdir(directory):
        return
    try:
        tmp = host_files.write_temp(directory, new, 0o600, prefix=".containerd-config.")
    except (IOError, OSError) as exc:
        fail(module, "containerd_config", ["path: cannot write a temporary file in %s: %s" % (directory, to_native(exc))])
    try:
        ok, error = _validate(module, binary, tmp)
    finally:
        os.unlink(tmp)
    result["validated"] = True
    if not ok:
        result.update(changed=False, restart_required=False)
        fail(module, "containerd_config", ["validate: containerd rejects the candidate config: %s" % error], **result)


def _process_start(pid):
    """Start of a process in seconds since the epoch (Linux /proc), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/stat") as f:
            btime = [int(line.split()[1]) for line in f if line.startswith("btime ")][0]
        return btime + int(fields[19]) / float(os.sysconf("SC_CLK_TCK"))
    except (IOError, OSError, IndexError, ValueError):
        return None


def _running_older_than(module, path):
    """True when containerd runs (systemd unit) and started before the file's last change,
    so a restart is still owed from an earlier run."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return False
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return False
    rc, out, dummy = module.run_command([systemctl, "show", "containerd.service", "--property=MainPID"])
    if rc != 0:
        return False
    try:
        pid = int(out.strip().split("=", 1)[1])
    except (IndexError, ValueError):
        return False
    if pid <= 0:
        return False
    started = _process_start(pid)
    # one second of slack: btime and clock ticks are coarse
    return started is not None and started + 1 < mtime


def main():
    module = AnsibleModule(argument_spec=_argument_spec(), supports_check_mode=True)
    phase = module.params["_phase"]
    if phase == "probe":
        probe(module)
    elif phase == "apply":
        apply(module)
    fail(module, "containerd_config", ["_phase: kubelayer.runtime.containerd_config runs through its action plugin; "
                                       "call it as a task with its fully qualified name"])


if __name__ == "__main__":
    main()
