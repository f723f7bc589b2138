# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The containerd role's runtime handlers: what the inventory asks for, in containerd_config's ``runtimes`` shape,
what must be installed for them, and the RuntimeClass each handler gets.

Inputs are the role's variables: kubespray's ``containerd_runc_runtime`` + ``containerd_additional_runtimes`` (items
with name, type, options, base_runtime_spec, ...; plus the role's own ``kind``), kubespray's ``kata_containers_enabled``
and ``gvisor_enabled`` (handlers ``kata-qemu`` and ``runsc``, RuntimeClasses ``kata-qemu`` and ``gvisor``, as in
kubespray), and the role's ``containerd_crun_enabled`` and ``containerd_nvidia_enabled`` (handlers ``crun``, ``nvidia``).
A runtime the inventory lists by the same name wins over an enabled runtime's own handler; the install still happens.

Pure logic, no Ansible imports (called by the ``containerd_runtime_plan`` filter on the controller).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import runtime_catalog as catalog
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_runtimes import RUNC_TYPE

KATA_DIR = "/opt/kata"
KATA_SHIM = KATA_DIR + "/bin/containerd-shim-kata-v2"
KATA_CONFIG = KATA_DIR + "/share/defaults/kata-containers/configuration-qemu.toml"
CRUN_BINARY = "/usr/bin/crun"
NVIDIA_BINARY = "/usr/bin/nvidia-container-runtime"

# kubespray's RuntimeClass for kata-qemu (roles/kubernetes-apps/container_runtimes/kata_containers)
KATA_OVERHEAD = {"cpu": "250m", "memory": "160Mi"}

# keys of a kubespray runtime item that are not containerd handler settings
_ITEM_KEYS = ("name", "type", "options", "engine", "root", "kind")


def _enabled_handlers():
    """handler name -> (flag, containerd_config runtime, RuntimeClass name, RuntimeClass overhead or None)."""
    return {
        "crun": ("crun", {"kind": "crun"}, "crun", None),
        "kata-qemu": ("kata", {"kind": "kata", "runtime_type": "io.containerd.kata-qemu.v2", "binary": KATA_SHIM,
                               "options": {"ConfigPath": KATA_CONFIG}}, "kata-qemu", dict(KATA_OVERHEAD)),
        "runsc": ("gvisor", {"kind": "gvisor"}, "gvisor", None),
        "nvidia": ("nvidia", {"kind": "nvidia"}, "nvidia", None),
    }


def item_runtime(item, cfg_dir):
    """One kubespray runtime item as a containerd_config ``runtimes`` entry (SystemdCgroup comes from the cgroup
    driver; options with an empty value, such as kubespray's ``Root: ""``, are left out)."""
    options = dict((k, v) for k, v in (item.get("options") or {}).items() if k != "SystemdCgroup" and v != "")
    settings = dict((k, v) for k, v in item.items() if k not in _ITEM_KEYS)
    spec = settings.get("base_runtime_spec")
    if isinstance(spec, str) and spec and not spec.startswith("/"):
        settings["base_runtime_spec"] = posixpath.join(cfg_dir, spec)
    kind = item.get("kind") or ("runc" if item.get("type") == RUNC_TYPE else "custom")
    out = {"kind": kind, "runtime_type": item.get("type")}
    if options:
        out["options"] = options
    if settings:
        out["settings"] = settings
    return out


def build_runtimes(params):
    """(runtimes dict for containerd_config, RuntimeClass list, problems)."""
    problems = []
    runtimes = {}
    classes = []
    items = [params.get("runc_runtime") or {}] + list(params.get("additional_runtimes") or [])
    for index, item in enumerate(items):
        where = "containerd_runc_runtime" if index == 0 else "containerd_additional_runtimes[%d]" % (index - 1)
        name = item.get("name")
        if name in runtimes:
            problems.append("%s.name: %r is defined twice" % (where, name))
            continue
        runtimes[name] = item_runtime(item, params.get("cfg_dir") or "/etc/containerd")
        classes.append({"name": name, "handler": name})
    for handler, (flag, runtime, class_name, overhead) in sorted(_enabled_handlers().items()):
        if not params.get(flag):
            continue
        if handler not in runtimes:
            runtimes[handler] = runtime
            classes.append(dict({"name": class_name, "handler": handler}, **({"overhead": overhead} if overhead else {})))
    return runtimes, classes, problems


def apply_class_overrides(classes, overrides):
    """``containerd_runtime_classes`` (handler -> {name, overhead, enabled}) over the default classes."""
    problems = []
    handlers = set(c["handler"] for c in classes)
    for handler in sorted(overrides or {}, key=str):
        if handler not in handlers:
            problems.append("containerd_runtime_classes.%s: no runtime handler of that name is configured (handlers: %s)"
                            % (handler, ", ".join(sorted(handlers))))
    out = []
    for cls in classes:
        override = (overrides or {}).get(cls["handler"]) or {}
        if override.get("enabled", True) is False:
            continue
        cls = dict(cls)
        for key in ("name", "overhead"):
            if override.get(key) is not None:
                cls[key] = override[key]
        out.append(cls)
    return out, problems


def install_plan(params):
    """What the enabled runtimes need on the node: apt packages, downloads (each with the file it creates and,
    for an archive, where it is unpacked) and the binaries whose absence triggers the install."""
    arch = params.get("arch") or "amd64"
    mirror = params.get("mirror_url") or None
    bin_dir = params.get("bin_dir") or "/usr/local/bin"
    download_dir = params.get("download_dir") or "/var/cache/kubelayer"
    plan = {"packages": [], "downloads": [], "debs": [], "binaries": []}
    problems = []
    if params.get("crun"):
        plan["packages"].append(params.get("crun_package") or "crun")
        plan["binaries"].append(CRUN_BINARY)
    if params.get("kata") or params.get("gvisor"):
        if arch not in catalog.ARCHES:
            problems.append("containerd_arch: kata and gVisor are pinned for %s only, not %r" % (", ".join(catalog.ARCHES), arch))
            return plan, problems
    if params.get("kata"):
        url, checksum, relpath = catalog.release_file("kata", arch, mirror)
        plan["packages"].append("zstd")
        plan["downloads"].append({"name": "kata", "url": url, "checksum": checksum, "creates": KATA_SHIM,
                                  "dest": posixpath.join(download_dir, posixpath.basename(relpath)), "unpack": "/"})
        plan["binaries"].append(KATA_SHIM)
    if params.get("gvisor"):
        for artifact in ("runsc", "containerd-shim-runsc-v1"):
            url, checksum, dummy = catalog.release_file(artifact, arch, mirror)
            dest = posixpath.join(bin_dir, artifact)
            plan["downloads"].append({"name": artifact, "url": url, "checksum": checksum, "creates": dest, "dest": dest})
            plan["binaries"].append(dest)
    if params.get("nvidia"):
        problems.extend(_nvidia_plan(params, plan, download_dir))
    return plan, problems


def _nvidia_plan(params, plan, download_dir):
    packages = params.get("nvidia_packages") or []
    if not packages:
        return ["containerd_nvidia_packages: containerd_nvidia_enabled needs the NVIDIA Container Toolkit's .deb files "
                "(url and sha256 of nvidia-container-toolkit, nvidia-container-toolkit-base, libnvidia-container1, "
                "libnvidia-container-tools); the collection pins none (see docs/runtimes.md)"]
    problems = []
    for index, pkg in enumerate(packages):
        url = pkg.get("url") or ""
        base = posixpath.basename(url.split("?", 1)[0])
        if not base.endswith(".deb"):
            problems.append("containerd_nvidia_packages[%d].url: %r does not name a .deb file" % (index, url))
            continue
        dest = posixpath.join(download_dir, base)
        plan["downloads"].append({"name": base, "url": url, "checksum": "sha256:%s" % pkg.get("sha256", ""),
                                  "creates": NVIDIA_BINARY, "dest": dest})
        plan["debs"].append(dest)
    plan["binaries"].append(NVIDIA_BINARY)
    return problems


def runtime_plan(params):
    """Everything the role needs: runtimes, classes, install plan, problems (each starting with its variable)."""
    runtimes, classes, problems = build_runtimes(params)
    classes, class_problems = apply_class_overrides(classes, params.get("classes"))
    plan, install_problems = install_plan(params)
    plan.update(runtimes=runtimes, classes=classes, problems=problems + class_problems + install_problems)
    return plan
