# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a version-neutral ``settings`` name (``cri.runtime.enable_selinux``, ``server.grpc.address``, ...)
lands in the config file of a containerd release (the table is ``containerd_tables.SETTINGS_TABLE``).

Pure logic, no Ansible imports, stdlib only (imported on the controller and on nodes, python 3.8 syntax).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_versions import schema_version

_SERVER_HELP = ("unknown server setting (known: server.root, server.state, server.oom_score, server.temp, "
                "server.cgroup.path, server.grpc.<key>, server.ttrpc.<key>, server.debug.<key>, server.metrics.<key>)")


def _cri_runtime(keys, v2x):
    if keys[0] in ct.KNOWN_IMAGE_KEYS:
        return None, "'%s' is an image setting: use cri.images.%s" % (keys[0], ".".join(keys))
    if keys[0] in ct.KNOWN_STREAMING_KEYS:
        return None, "'%s' is a streaming setting: use cri.streaming.%s" % (keys[0], ".".join(keys))
    return (ct.CRI_RUNTIME if v2x else ct.CRI_V2) + keys, None


def _cri_images(keys, v2x):
    if keys[0] in ct.KNOWN_STREAMING_KEYS:
        return None, "'%s' is a streaming setting: use cri.streaming.%s" % (keys[0], ".".join(keys))
    if keys[0] in ct.KNOWN_RUNTIME_KEYS:
        return None, "'%s' is a runtime setting: use cri.runtime.%s" % (keys[0], ".".join(keys))
    if v2x:
        return ct.CRI_IMAGES + keys, None
    if keys[0] in ct.V2_IMAGE_KEYS_UNDER_CONTAINERD:
        return ct.CRI_V2 + ("containerd",) + keys, None
    return ct.CRI_V2 + keys, None


def _cri_streaming(keys, v2x):
    if keys[0] not in ct.KNOWN_STREAMING_KEYS or len(keys) != 1:
        return None, "unknown streaming setting (known: %s)" % ", ".join(ct.KNOWN_STREAMING_KEYS)
    return (ct.CRI_GRPC if v2x else ct.CRI_V2) + keys, None


def _cri_path(parts, version):
    if len(parts) < 3:
        return None, "expected cri.<family>.<key>"
    family, keys = parts[1], tuple(parts[2:])
    v2x = version[0] >= 2
    runtime_root = ct.CRI_RUNTIME if v2x else ct.CRI_V2
    if family == "runtime":
        return _cri_runtime(keys, v2x)
    if family in ("containerd", "cni"):
        return runtime_root + (family,) + keys, None
    if family == "registry":
        return (ct.CRI_IMAGES if v2x else ct.CRI_V2) + ("registry",) + keys, None
    if family == "images":
        return _cri_images(keys, v2x)
    if family == "streaming":
        return _cri_streaming(keys, v2x)
    return None, "unknown CRI family '%s' (known: runtime, containerd, cni, images, registry, streaming)" % family


def _server_path(rest, version):
    if len(rest) == 1 and rest[0] in ct.SERVER_TOP_KEYS:
        return rest, None
    if rest == ("cgroup", "path"):
        return rest, None
    if len(rest) != 2 or rest[0] not in ct.SERVER_V4:
        return None, _SERVER_HELP
    section, key = rest
    stays = ct.SERVER_V4_TOP_LEVEL.get(section, ())
    if key in stays:
        return rest, None
    if key not in ct.SERVER_V4[section]:
        known = sorted(set(ct.SERVER_V4[section]) | set(stays))
        return None, "unknown server.%s key (known: %s)" % (section, ", ".join(known))
    if schema_version(version) >= 4:
        plugin, newkey = ct.SERVER_V4[section][key]
        return ("plugins", plugin, newkey), None
    return rest, None


# family -> (plugin ID, the oldest release that has it, why not before)
_PLUGIN_FAMILIES = {
    "gc": ("io.containerd.gc.v1.scheduler", (1, 0), None),
    "nri": ("io.containerd.nri.v1.nri", (1, 7), "NRI needs containerd 1.7 or later"),
    "transfer": ("io.containerd.transfer.v1.local", (2, 0), "the transfer service settings need containerd 2.0 or later"),
}


def setting_path(name, version):
    """(path tuple, problem) for a neutral ``settings`` name in a release."""
    parts = name.split(".")
    head, rest = parts[0], tuple(parts[1:])
    if head == "cri":
        return _cri_path(parts, version)
    if head == "server":
        return _server_path(rest, version)
    if head == "snapshotters":
        if len(rest) < 2:
            return None, "expected snapshotters.<name>.<key>"
        return ("plugins", "io.containerd.snapshotter.v1." + rest[0]) + rest[1:], None
    if head in _PLUGIN_FAMILIES:
        plugin, since, why = _PLUGIN_FAMILIES[head]
        if not rest:
            return None, "expected %s.<key>" % head
        if tuple(version[:2]) < since:
            return None, why
        return ("plugins", plugin) + rest, None
    return None, "unknown setting family '%s' (known: cri, server, snapshotters, nri, gc, transfer)" % head
