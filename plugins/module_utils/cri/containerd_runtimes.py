# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runtime handlers: the kinds the module knows (runc, crun, kata, gVisor, nvidia, custom), the checks of one
``runtimes.<name>`` entry, and the handler table an entry asks for.

Pure logic, no Ansible imports, stdlib only (imported on the controller and on nodes, python 3.8 syntax).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import toml_values as tv
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_versions import format_version

RUNC_TYPE = "io.containerd.runc.v2"

# kind -> (runtime_type, default binary or None, binary lands in options.BinaryName?)
RUNTIME_KINDS = {
    "runc": (RUNC_TYPE, None, True),
    "crun": (RUNC_TYPE, "/usr/bin/crun", True),
    "nvidia": (RUNC_TYPE, "/usr/bin/nvidia-container-runtime", True),
    "kata": ("io.containerd.kata.v2", None, False),
    "gvisor": ("io.containerd.runsc.v1", None, False),
    "custom": (None, None, False),
}

# defaults each kind adds (handler level / options), user values win
KIND_HANDLER_DEFAULTS = {
    "kata": {"privileged_without_host_devices": True, "pod_annotations": ["io.katacontainers.*"]},
}
KIND_OPTION_DEFAULTS = {
    "gvisor": {"TypeUrl": "io.containerd.runsc.v1.options"},
}

RUNTIME_KEYS = ("kind", "runtime_type", "binary", "options", "settings")

RFC1123_LABEL = validate.DNS1123_LABEL
_RUNTIME_TYPE = re.compile(r"^[A-Za-z0-9_./-]+\Z")


def is_runc_type(runtime_type):
    return runtime_type == RUNC_TYPE


def runtime_name_problem(name):
    if not isinstance(name, str) or not name:
        return "runtimes: runtime names must be non-empty strings"
    reasons = []
    if "\n" in name or "\r" in name:
        reasons.append("contains a newline")
    elif tv.has_control(name):
        reasons.append("contains control characters")
    if '"' in name:
        reasons.append('contains "')
    if "]" in name:
        reasons.append("contains ]")
    if "/.." in name:
        reasons.append("contains /..")
    if not reasons and not RFC1123_LABEL.match(name):
        reasons.append("is not a lowercase RFC 1123 label")
    elif not reasons and len(name) > 63:
        reasons.append("is longer than 63 characters")
    if reasons:
        return "runtimes: runtime name %r %s (a RuntimeClass handler must be a lowercase RFC 1123 label, " \
               "e.g. runc, crun, kata-qemu)" % (name, " and ".join(reasons))
    return None


def _kind_problems(rt, where):
    problems = []
    kind = rt.get("kind", "runc")
    if not isinstance(kind, str) or kind not in RUNTIME_KINDS:
        problems.append("%s.kind: unknown runtime kind %r (known: %s)" % (where, kind, ", ".join(sorted(RUNTIME_KINDS))))
    rtype = rt.get("runtime_type")
    if rtype is not None:
        if not isinstance(rtype, str) or not _RUNTIME_TYPE.match(rtype):
            problems.append("%s.runtime_type: %r is not a shim name such as io.containerd.runc.v2" % (where, rtype))
    elif kind == "custom":
        problems.append("%s.runtime_type: required for kind custom" % where)
    binary = rt.get("binary")
    if binary is not None:
        p = tv.abs_path_problem(binary, where + ".binary")
        if p:
            problems.append(p)
    return problems


def _options_problems(options, where):
    if not isinstance(options, dict):
        return ["%s.options: must be a dictionary" % where]
    problems = []
    for key in sorted(options, key=str):
        if not isinstance(key, str) or not tv.SEGMENT.match(key):
            problems.append("%s.options: key %r must be letters, digits, '_' or '-'" % (where, key))
            continue
        if key in ct.OPTION_PATH_KEYS and options[key] not in ("", None):
            p = tv.abs_path_problem(options[key], "%s.options.%s" % (where, key))
            if p:
                problems.append(p)
        if key == "SystemdCgroup":
            problems.append("%s.options.SystemdCgroup: set cgroup_driver instead" % where)
        problems.extend(tv.toml_value_problems(options[key], "%s.options.%s" % (where, key)))
    return problems


def _handler_settings_problems(hsettings, where, version):
    if not isinstance(hsettings, dict):
        return ["%s.settings: must be a dictionary" % where]
    problems = []
    for key in sorted(hsettings, key=str):
        if key not in ct.HANDLER_KEYS:
            problems.append("%s.settings: unknown handler setting %r (known: %s)"
                            % (where, key, ", ".join(sorted(ct.HANDLER_KEYS))))
            continue
        if version is not None and ct.handler_key(key, version) is None:
            problems.append("%s.settings.%s: needs containerd %s or later"
                            % (where, key, format_version(ct.HANDLER_KEYS[key][2])))
        if key in ct.HANDLER_PATH_KEYS:
            p = tv.abs_path_problem(hsettings[key], "%s.settings.%s" % (where, key))
            if p:
                problems.append(p)
        problems.extend(tv.toml_value_problems(hsettings[key], "%s.settings.%s" % (where, key)))
    return problems


def runtime_problems(name, rt, version):
    """Problems of one ``runtimes.<name>`` entry (the name itself is checked by runtime_name_problem)."""
    where = "runtimes.%s" % name
    if rt is None:
        rt = {}
    if not isinstance(rt, dict):
        return ["%s: must be a dictionary with kind, runtime_type, binary, options, settings" % where]
    problems = []
    unknown = sorted(set(rt) - set(RUNTIME_KEYS), key=str)
    if unknown:
        problems.append("%s: unknown keys %s (known: %s)" % (where, ", ".join(map(str, unknown)), ", ".join(RUNTIME_KEYS)))
    problems.extend(_kind_problems(rt, where))
    if rt.get("options") is not None:
        problems.extend(_options_problems(rt["options"], where))
    if rt.get("settings") is not None:
        problems.extend(_handler_settings_problems(rt["settings"], where, version))
    return problems


def effective_runtime(name, rt, cgroup_systemd):
    """The handler table a runtime spec asks for: (handler keys, options) for a release-neutral
    handler; keys in ``handler`` use neutral HANDLER_KEYS names. ``cgroup_systemd`` is None when
    the cgroup driver is not managed."""
    rt = rt or {}
    kind = rt.get("kind", "runc")
    kind_type, kind_binary, dummy = RUNTIME_KINDS[kind]
    rtype = rt.get("runtime_type") or kind_type
    handler = {"runtime_type": rtype}
    handler.update(KIND_HANDLER_DEFAULTS.get(kind, {}))
    options = dict(KIND_OPTION_DEFAULTS.get(kind, {}))
    binary = rt.get("binary") or kind_binary
    runc_like = is_runc_type(rtype)
    if binary:
        if runc_like:
            options["BinaryName"] = binary
        else:
            handler["runtime_path"] = binary
    options.update(rt.get("options") or {})
    if runc_like and cgroup_systemd is not None:
        options["SystemdCgroup"] = bool(cgroup_systemd)
    handler.update(rt.get("settings") or {})
    return handler, options
