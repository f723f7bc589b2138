# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of containerd_config: their argument spec and the check of a whole desired state.

Pure logic, no Ansible imports, stdlib only (runs on the controller, imported by the module on nodes too,
so python 3.8 syntax). The pieces live in one-job files: ``containerd_versions`` (releases),
``image_ref`` (image names), ``containerd_tables`` (where settings live), ``containerd_settings``
(neutral setting names), ``containerd_runtimes`` (handlers), ``toml_values`` (value checks).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_runtimes as cr
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import registry_auth as ra
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import toml_values as tv
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_settings import setting_path
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_versions import (
    bin_dirs_supported, format_version, version_problem)
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.image_ref import image_reference_problem

DEFAULT_PATH = "/etc/containerd/config.toml"

# The public options (shared by the module and its action plugin).
ARGUMENT_SPEC = dict(
    path=dict(type="path", default=DEFAULT_PATH),
    containerd_version=dict(type="str"),
    validate=dict(type="bool", default=True),
    backup=dict(type="bool", default=False),
    sandbox_image=dict(type="str"),
    cgroup_driver=dict(type="str", default="auto", choices=["systemd", "cgroupfs", "auto"]),
    default_runtime=dict(type="str"),
    runtimes=dict(type="dict"),
    snapshotter=dict(type="str"),
    config_path=dict(type="str"),
    cni_bin_dir=dict(type="list", elements="str"),
    cni_conf_dir=dict(type="str"),
    settings=dict(type="dict"),
    kubelet_config=dict(type="path", default="/var/lib/kubelet/config.yaml"),
    kubelet_cgroup_driver=dict(type="str", choices=["systemd", "cgroupfs"]),
    kubernetes_version=dict(type="str"),
    # kubespray's containerd_registry_auth; values never appear in messages or the diff
    registry_auth=dict(type="list", elements="dict", no_log=False, options=dict(
        registry=dict(type="str", required=True),
        username=dict(type="str", no_log=True),
        password=dict(type="str", no_log=True),
        auth=dict(type="str", no_log=True),
        identitytoken=dict(type="str", no_log=True),
    )),
)


def _path_problems(spec):
    path = spec.get("path") or DEFAULT_PATH
    p = tv.abs_path_problem(path, "path")
    if p:
        return [p]
    if path.endswith("/"):
        return ["path: %r names a directory; give a file path" % path]
    return []


def _scalar_problems(spec):
    problems = []
    image = spec.get("sandbox_image")
    if image is not None:
        p = image_reference_problem(image)
        if p:
            problems.append("sandbox_image: %r %s" % (image, p))
    driver = spec.get("cgroup_driver")
    if driver is not None and driver not in ("systemd", "cgroupfs", "auto"):
        problems.append("cgroup_driver: %r is not one of systemd, cgroupfs, auto" % (driver,))
    snap = spec.get("snapshotter")
    if snap is not None and (not isinstance(snap, str) or not tv.SEGMENT.match(snap)):
        problems.append("snapshotter: %r must be a plugin name such as overlayfs, native, zfs" % (snap,))
    default = spec.get("default_runtime")
    if default is not None:
        p = cr.runtime_name_problem(default)
        if p:
            problems.append("default_runtime: " + p[len("runtimes: "):])
    return problems


def _directory_problems(spec, version):
    problems = []
    config_path = spec.get("config_path")
    if config_path is not None:
        if not isinstance(config_path, str) or not config_path:
            problems.append("config_path: must be a non-empty string")
        else:
            problems.extend(p for p in (tv.abs_path_problem(part, "config_path") for part in config_path.split(":")) if p)
    conf_dir = spec.get("cni_conf_dir")
    if conf_dir is not None:
        problems.extend(p for p in [tv.abs_path_problem(conf_dir, "cni_conf_dir")] if p)
    bin_dir = spec.get("cni_bin_dir")
    if bin_dir is not None:
        dirs = bin_dir if isinstance(bin_dir, list) else [bin_dir]
        if not dirs:
            problems.append("cni_bin_dir: give at least one directory")
        problems.extend(p for p in (tv.abs_path_problem(d, "cni_bin_dir") for d in dirs) if p)
        if version is not None and len(dirs) > 1 and not bin_dirs_supported(version):
            problems.append("cni_bin_dir: containerd %s takes one CNI bin directory (bin_dirs needs 2.1+), got %d"
                            % (format_version(version), len(dirs)))
    return problems


def _entries_problems(spec, option, what, check, version):
    """Problems of a name -> value option (``runtimes``, ``settings``): its shape, then each entry in name order."""
    entries = spec.get(option) or {}
    if not isinstance(entries, dict):
        return ["%s: must be a dictionary of %s" % (option, what)]
    problems = []
    for name in sorted(entries, key=str):
        problems.extend(check(name, entries[name], version))
    return problems


def _one_runtime_problems(name, value, version):
    p = cr.runtime_name_problem(name)
    if p:
        return [p]
    return cr.runtime_problems(name, value, version)


def _release_problems(name, version):
    problems = []
    dummy, why = setting_path(name, version)
    if why:
        problems.append("settings: %r: %s" % (name, why))
    if version[0] >= 2:
        for removed, hint in ct.REMOVED_IN_2.items():
            if name == removed or name.startswith(removed + "."):
                problems.append("settings: %r does not exist in containerd 2.x (%s)" % (name, hint))
        if name.startswith("cri.registry.configs.") and name.endswith(".tls"):
            problems.append("settings: %r: registry TLS moved to hosts.toml under config_path in containerd 2.x" % name)
    return problems


def _one_setting_problems(name, value, version):
    p = tv.setting_name_problem(name)
    if p:
        return [p]
    if _credential_setting(name, value):
        return ["settings: %r: registry credentials go in registry_auth (kept out of the diff, file 0600)" % name]
    for reserved, owner in ct.RESERVED_SETTINGS.items():
        if name == reserved or name.startswith(reserved + "."):
            return ["settings: %r is managed by %s" % (name, owner)]
    problems = _release_problems(name, version) if version is not None else []
    problems.extend(tv.toml_value_problems(value, "settings.%s" % name))
    p = tv.known_type_problem(name, value)
    if p:
        problems.append(p)
    return problems


def _holds_auth(value):
    return isinstance(value, dict) and any(k in ("auth", "auths") or _holds_auth(v) for k, v in value.items())


def _credential_setting(name, value):
    """A ``settings`` name that would put registry credentials in the file (they belong to registry_auth)."""
    if name in ("cri.registry", "cri.registry.configs") or name.startswith("cri.registry.configs."):
        return ".auth." in name + "." or _holds_auth(value)
    return name == "cri.registry.auths" or name.startswith("cri.registry.auths.")


def validate_spec(spec, version=None):
    """All problems of a desired state (already type-converted by the argument spec).

    ``spec`` holds the module options; ``version`` the target release tuple, when known.
    Returns a list of messages, each starting with the option it concerns.
    """
    problems = _path_problems(spec)
    if version is not None:
        p = version_problem(version)
        if p:
            problems.append("containerd_version: " + p)
    problems.extend(_scalar_problems(spec))
    problems.extend(_directory_problems(spec, version))
    problems.extend(_entries_problems(spec, "runtimes", "runtime name to settings", _one_runtime_problems, version))
    problems.extend(_entries_problems(spec, "settings", "setting name to value", _one_setting_problems, version))
    problems.extend(_registry_auth_problems(spec))
    return problems


def _registry_auth_problems(spec):
    entries = spec.get("registry_auth")
    # the argument spec fills absent keys with None: kubespray's items do not have them
    if isinstance(entries, list):
        entries = [dict((k, v) for k, v in e.items() if v is not None) if isinstance(e, dict) else e for e in entries]
    return ra.auth_tables(entries)[1]
