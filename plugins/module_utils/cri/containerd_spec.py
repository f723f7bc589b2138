# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version-neutral desired state for a containerd config file.

Pure logic, no Ansible imports, stdlib only (runs on the controller, imported by the
module on nodes too, so python 3.8 syntax):

* ``parse_version`` / ``schema_version``: containerd release -> config ``version``
  (2 for 1.x, 3 for 2.0-2.2, 4 for 2.3+).
* ``validate_spec``: every problem of a desired state, as a list of messages that
  name the option.
* placement tables: where each managed setting lives in a given release
  (``option_path``, ``setting_path``, ``SETTINGS_TABLE``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

DEFAULT_PATH = "/etc/containerd/config.toml"

CRI_V2 = ("plugins", "io.containerd.grpc.v1.cri")
CRI_IMAGES = ("plugins", "io.containerd.cri.v1.images")
CRI_RUNTIME = ("plugins", "io.containerd.cri.v1.runtime")
CRI_GRPC = ("plugins", "io.containerd.grpc.v1.cri")

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

# runtime handler keys (per runtime ``settings``), neutral name -> (1.x name, 2.x name, since)
HANDLER_KEYS = {
    "runtime_path": ("runtime_path", "runtime_path", (1, 6)),
    "pod_annotations": ("pod_annotations", "pod_annotations", (1, 0)),
    "container_annotations": ("container_annotations", "container_annotations", (1, 0)),
    "privileged_without_host_devices": ("privileged_without_host_devices", "privileged_without_host_devices", (1, 0)),
    "privileged_without_host_devices_all_devices_allowed": (
        "privileged_without_host_devices_all_devices_allowed", "privileged_without_host_devices_all_devices_allowed", (1, 6)),
    "base_runtime_spec": ("base_runtime_spec", "base_runtime_spec", (1, 5)),
    "cni_conf_dir": ("cni_conf_dir", "cni_conf_dir", (1, 5)),
    "cni_max_conf_num": ("cni_max_conf_num", "cni_max_conf_num", (1, 5)),
    "snapshotter": ("snapshotter", "snapshotter", (1, 7)),
    "sandboxer": ("sandbox_mode", "sandboxer", (1, 7)),
    "io_type": (None, "io_type", (2, 0)),
    "cgroup_writable": (None, "cgroup_writable", (2, 1)),
    "disable_pause_image_pull": (None, "disable_pause_image_pull", (2, 4)),
}
HANDLER_PATH_KEYS = ("runtime_path", "base_runtime_spec", "cni_conf_dir")
OPTION_PATH_KEYS = ("BinaryName", "Root", "ConfigPath", "CriuImagePath", "CriuWorkPath", "CriuPath")

# The public options (shared by the module and its action plugin).
ARGUMENT_SPEC = dict(
    path=dict(type="path", default=DEFAULT_PATH),
    containerd_version=dict(type="str"),
    validate=dict(type="bool", default=True),
    backup=dict(type="bool", default=False),
    sandbox_image=dict(type="str"),
    cgroup_driver=dict(type="str", default="auto", choices=["systemd", "cgroupfs", "auto"]),
    default_runtime=dict(type="str", default="runc"),
    runtimes=dict(type="dict"),
    snapshotter=dict(type="str"),
    config_path=dict(type="str"),
    cni_bin_dir=dict(type="list", elements="str"),
    cni_conf_dir=dict(type="str"),
    settings=dict(type="dict"),
)

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1

_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-~+.].*)?$")
_RUNTIME_TYPE = re.compile(r"^[A-Za-z0-9_./-]+$")

# ---------------------------------------------------------------------------
# image references (distribution/reference grammar)
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = _ALNUM + r"(?:" + _SEPARATOR + _ALNUM + r")*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = _DOMAIN_COMPONENT + r"(?:\." + _DOMAIN_COMPONENT + r")*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = r"(?:" + _DOMAIN_NAME + r"|" + _IPV6 + r")(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_IMAGE_REF = re.compile(
    r"^(?:" + _DOMAIN + r"/)?" + _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
    r"(?::" + _TAG + r")?(?:@" + _DIGEST + r")?$"
)


def image_reference_problem(ref):
    """None when ``ref`` is a valid image reference, else why not."""
    if not isinstance(ref, str) or not ref:
        return "must be a non-empty string"
    if len(ref) > 255 + 128 + 80:
        return "is too long"
    if not _IMAGE_REF.match(ref):
        return "is not a valid image reference (expected [registry[:port]/]name[:tag][@digest], lowercase name)"
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[:len(name) - len(last)] + last.split(":", 1)[0]
    if len(name) > 255:
        return "has a repository name longer than 255 characters"
    return None


# ---------------------------------------------------------------------------
# versions


def parse_version(text):
    """``(major, minor, patch)`` from ``2.1.4``, ``v1.7.24``, ``1.6.20~ds1``, or the whole
    ``containerd --version`` line; None when no version is found. Patch defaults to 0."""
    if not isinstance(text, str):
        return None
    for token in text.split():
        m = _VERSION.match(token.strip())
        if m:
            return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    return None


def format_version(version):
    return ".".join(str(x) for x in version)


def schema_version(version):
    """config ``version`` to write for a containerd release: 2 (1.x), 3 (2.0-2.2), 4 (2.3+)."""
    major, minor = version[0], version[1]
    if major < 2:
        return 2
    if major == 2 and minor < 3:
        return 3
    return 4


def version_problem(version):
    if version[0] < 1 or (version[0] == 1 and version[1] < 6):
        return "containerd %s is not supported (1.6 or later is needed)" % format_version(version)
    return None


def bin_dirs_supported(version):
    """``cni.bin_dirs`` (a list) exists from containerd 2.1."""
    return tuple(version[:2]) >= (2, 1)


# ---------------------------------------------------------------------------
# placement tables


def option_path(option, version):
    """Path of a first-class option's key in a release's config (tuple of keys)."""
    v3 = version[0] >= 2
    if option == "sandbox_image":
        return CRI_IMAGES + ("pinned_images", "sandbox") if v3 else CRI_V2 + ("sandbox_image",)
    if option == "snapshotter":
        return CRI_IMAGES + ("snapshotter",) if v3 else CRI_V2 + ("containerd", "snapshotter")
    if option == "default_runtime":
        return (CRI_RUNTIME if v3 else CRI_V2) + ("containerd", "default_runtime_name")
    if option == "runtimes":
        return (CRI_RUNTIME if v3 else CRI_V2) + ("containerd", "runtimes")
    if option == "config_path":
        return (CRI_IMAGES if v3 else CRI_V2) + ("registry", "config_path")
    if option == "cni_conf_dir":
        return (CRI_RUNTIME if v3 else CRI_V2) + ("cni", "conf_dir")
    if option == "cni_bin_dir":
        key = "bin_dirs" if bin_dirs_supported(version) else "bin_dir"
        return (CRI_RUNTIME if v3 else CRI_V2) + ("cni", key)
    raise KeyError(option)


# image keys that live under ``.containerd`` in version 2 files
V2_IMAGE_KEYS_UNDER_CONTAINERD = ("snapshotter", "disable_snapshot_annotations", "discard_unpacked_layers")
KNOWN_IMAGE_KEYS = V2_IMAGE_KEYS_UNDER_CONTAINERD + (
    "max_concurrent_downloads", "image_pull_progress_timeout", "image_pull_with_sync_fs",
    "stats_collect_period", "image_decryption", "pinned_images", "sandbox_image", "registry",
    "use_local_image_pull", "runtime_platforms")
KNOWN_STREAMING_KEYS = ("stream_server_address", "stream_server_port", "stream_idle_timeout",
                        "enable_tls_streaming", "x509_key_pair_streaming", "disable_tcp_service")
KNOWN_RUNTIME_KEYS = (
    "enable_unprivileged_ports", "enable_unprivileged_icmp", "max_container_log_line_size",
    "device_ownership_from_security_context", "enable_cdi", "cdi_spec_dirs", "enable_selinux",
    "selinux_category_range", "disable_apparmor", "restrict_oom_score_adj", "disable_proc_mount",
    "unset_seccomp_profile", "tolerate_missing_hugetlb_controller", "disable_hugetlb_controller",
    "ignore_image_defined_volumes", "netns_mounts_under_state_dir", "drain_exec_sync_io_timeout",
    "ignore_deprecation_warnings", "systemd_cgroup", "disable_cgroup")
REMOVED_IN_2 = {
    "cri.runtime.systemd_cgroup": "use cgroup_driver",
    "cri.runtime.disable_cgroup": "removed in containerd 2.0",
    "cri.containerd.default_runtime": "use default_runtime",
    "cri.containerd.untrusted_workload_runtime": "define a runtime named 'untrusted' in runtimes",
}

# v4 server plugins
SERVER_V4 = {
    "grpc": {
        "address": ("io.containerd.server.v1.grpc", "address"),
        "uid": ("io.containerd.server.v1.grpc", "uid"),
        "gid": ("io.containerd.server.v1.grpc", "gid"),
        "max_recv_message_size": ("io.containerd.server.v1.grpc", "max_recv_message_size"),
        "max_send_message_size": ("io.containerd.server.v1.grpc", "max_send_message_size"),
        "tcp_address": ("io.containerd.server.v1.grpc-tcp", "address"),
        "tcp_tls_ca": ("io.containerd.server.v1.grpc-tcp", "tls_ca"),
        "tcp_tls_cert": ("io.containerd.server.v1.grpc-tcp", "tls_cert"),
        "tcp_tls_key": ("io.containerd.server.v1.grpc-tcp", "tls_key"),
        "tcp_tls_common_name": ("io.containerd.server.v1.grpc-tcp", "tls_common_name"),
    },
    "ttrpc": {
        "address": ("io.containerd.server.v1.ttrpc", "address"),
        "uid": ("io.containerd.server.v1.ttrpc", "uid"),
        "gid": ("io.containerd.server.v1.ttrpc", "gid"),
    },
    "debug": {
        "address": ("io.containerd.server.v1.debug", "address"),
        "uid": ("io.containerd.server.v1.debug", "uid"),
        "gid": ("io.containerd.server.v1.debug", "gid"),
        "level": ("io.containerd.server.v1.debug", "level"),
        "format": ("io.containerd.server.v1.debug", "format"),
    },
    "metrics": {
        "address": ("io.containerd.server.v1.metrics", "address"),
        "grpc_histogram": ("io.containerd.metrics.v1.grpc-prometheus", "grpc_histogram"),
    },
}
SERVER_TOP_KEYS = ("root", "state", "oom_score", "temp")

# documentation of the ``settings`` names; also used by tests.
SETTINGS_TABLE = (
    # (neutral name, version 2 location (1.x), version 3 (2.0-2.2), version 4 (2.3+))
    ("cri.runtime.<key>", 'plugins."io.containerd.grpc.v1.cri".<key>',
     'plugins."io.containerd.cri.v1.runtime".<key>', "as version 3"),
    ("cri.containerd.<key>", 'plugins."io.containerd.grpc.v1.cri".containerd.<key>',
     'plugins."io.containerd.cri.v1.runtime".containerd.<key>', "as version 3"),
    ("cri.cni.<key>", 'plugins."io.containerd.grpc.v1.cri".cni.<key>',
     'plugins."io.containerd.cri.v1.runtime".cni.<key>', "as version 3"),
    ("cri.images.<key>", 'plugins."io.containerd.grpc.v1.cri".<key> (snapshotter, disable_snapshot_annotations, '
     'discard_unpacked_layers: .containerd.<key>)', 'plugins."io.containerd.cri.v1.images".<key>', "as version 3"),
    ("cri.registry.<key>", 'plugins."io.containerd.grpc.v1.cri".registry.<key>',
     'plugins."io.containerd.cri.v1.images".registry.<key>', "as version 3"),
    ("cri.streaming.<key>", 'plugins."io.containerd.grpc.v1.cri".<key>',
     'plugins."io.containerd.grpc.v1.cri".<key>', "as version 3"),
    ("server.<root|state|oom_score|temp>", "<key> (top level)", "<key> (top level)", "<key> (top level)"),
    ("server.cgroup.path", "cgroup.path", "cgroup.path", "cgroup.path"),
    ("server.grpc.<address|uid|gid|max_recv_message_size|max_send_message_size>", "grpc.<key>", "grpc.<key>",
     'plugins."io.containerd.server.v1.grpc".<key>'),
    ("server.grpc.tcp_<address|tls_ca|tls_cert|tls_key|tls_common_name>", "grpc.tcp_<key>", "grpc.tcp_<key>",
     'plugins."io.containerd.server.v1.grpc-tcp".<key without tcp_>'),
    ("server.ttrpc.<address|uid|gid>", "ttrpc.<key>", "ttrpc.<key>", 'plugins."io.containerd.server.v1.ttrpc".<key>'),
    ("server.debug.<address|uid|gid|level|format>", "debug.<key>", "debug.<key>",
     'plugins."io.containerd.server.v1.debug".<key>'),
    ("server.metrics.address", "metrics.address", "metrics.address", 'plugins."io.containerd.server.v1.metrics".address'),
    ("server.metrics.grpc_histogram", "metrics.grpc_histogram", "metrics.grpc_histogram",
     'plugins."io.containerd.metrics.v1.grpc-prometheus".grpc_histogram'),
    ("snapshotters.<name>.<key>", 'plugins."io.containerd.snapshotter.v1.<name>".<key>', "same", "same"),
    ("nri.<key>", 'plugins."io.containerd.nri.v1.nri".<key> (1.7+)', 'plugins."io.containerd.nri.v1.nri".<key>', "same"),
    ("gc.<key>", 'plugins."io.containerd.gc.v1.scheduler".<key>', "same", "same"),
    ("transfer.<key>", "(not available)", 'plugins."io.containerd.transfer.v1.local".<key>', "same"),
)

# value types of well-known keys (by key name), checked for settings whatever the release
_BOOL_KEYS = (
    "enable_selinux", "enable_unprivileged_ports", "enable_unprivileged_icmp", "device_ownership_from_security_context",
    "enable_cdi", "disable_apparmor", "restrict_oom_score_adj", "disable_proc_mount", "tolerate_missing_hugetlb_controller",
    "disable_hugetlb_controller", "ignore_image_defined_volumes", "netns_mounts_under_state_dir",
    "disable_snapshot_annotations", "discard_unpacked_layers", "image_pull_with_sync_fs", "enable_tls_streaming",
    "disable_tcp_service", "grpc_histogram", "setup_serially", "use_internal_loopback", "systemd_cgroup",
    "disable_cgroup", "ignore_rdt_not_enabled_errors", "ignore_blockio_not_enabled_errors")
_INT_KEYS = (
    "max_container_log_line_size", "max_concurrent_downloads", "selinux_category_range", "stats_collect_period",
    "max_recv_message_size", "max_send_message_size", "uid", "gid", "oom_score", "max_conf_num")
_STR_KEYS = (
    "stream_server_address", "stream_server_port", "stream_idle_timeout", "image_pull_progress_timeout",
    "drain_exec_sync_io_timeout", "level", "format", "address", "tcp_address", "root", "state", "temp",
    "conf_template", "ip_pref", "unset_seccomp_profile")
KNOWN_TYPES = dict([(k, bool) for k in _BOOL_KEYS] + [(k, int) for k in _INT_KEYS] + [(k, str) for k in _STR_KEYS])


def type_name(value):
    """A user-facing type name (Ansible 2.19 hands over tagged subclasses of str, list, dict)."""
    for kind, label in ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"),
                        (list, "list"), (tuple, "list"), (dict, "dictionary")):
        if isinstance(value, kind):
            return label
    return type(value).__name__


def _plain_value(value):
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def known_type_problem(name, value):
    """A problem when a well-known key (the last segment of ``name``) gets a value of the wrong type."""
    expected = KNOWN_TYPES.get(name.rsplit(".", 1)[-1])
    if expected is None or value is None:
        return None
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        return "settings.%s: %r is a %s, containerd expects a %s" % (
            name, _plain_value(value), type_name(value), {bool: "boolean", int: "integer", str: "string"}[expected])
    return None


# settings that first-class options own
RESERVED_SETTINGS = {
    "cri.images.sandbox_image": "sandbox_image",
    "cri.images.pinned_images.sandbox": "sandbox_image",
    "cri.images.snapshotter": "snapshotter",
    "cri.containerd.snapshotter": "snapshotter",
    "cri.registry.config_path": "config_path",
    "cri.cni.bin_dir": "cni_bin_dir",
    "cri.cni.bin_dirs": "cni_bin_dir",
    "cri.cni.conf_dir": "cni_conf_dir",
    "cri.containerd.default_runtime_name": "default_runtime",
    "cri.containerd.runtimes": "runtimes",
    "cri.runtime.containerd": "the cri.containerd.<key> settings, default_runtime and runtimes",
    "cri.runtime.cni": "the cri.cni.<key> settings, cni_bin_dir and cni_conf_dir",
    "cri.images.registry": "the cri.registry.<key> settings and config_path",
    "cri.runtime.sandbox_image": "sandbox_image",
}


def setting_path(name, version):
    """(path tuple, problem) for a neutral ``settings`` name in a release."""
    parts = name.split(".")
    v2x = version[0] >= 2
    v4 = schema_version(version) >= 4
    head = parts[0]
    rest = tuple(parts[1:])
    if head == "cri":
        if len(parts) < 3:
            return None, "expected cri.<family>.<key>"
        family, keys = parts[1], tuple(parts[2:])
        if family == "runtime":
            if keys[0] in KNOWN_IMAGE_KEYS:
                return None, "'%s' is an image setting: use cri.images.%s" % (keys[0], ".".join(keys))
            if keys[0] in KNOWN_STREAMING_KEYS:
                return None, "'%s' is a streaming setting: use cri.streaming.%s" % (keys[0], ".".join(keys))
            return (CRI_RUNTIME if v2x else CRI_V2) + keys, None
        if family == "containerd":
            return (CRI_RUNTIME if v2x else CRI_V2) + ("containerd",) + keys, None
        if family == "cni":
            return (CRI_RUNTIME if v2x else CRI_V2) + ("cni",) + keys, None
        if family == "registry":
            return (CRI_IMAGES if v2x else CRI_V2) + ("registry",) + keys, None
        if family == "images":
            if keys[0] in KNOWN_STREAMING_KEYS:
                return None, "'%s' is a streaming setting: use cri.streaming.%s" % (keys[0], ".".join(keys))
            if keys[0] in KNOWN_RUNTIME_KEYS:
                return None, "'%s' is a runtime setting: use cri.runtime.%s" % (keys[0], ".".join(keys))
            if v2x:
                return CRI_IMAGES + keys, None
            if keys[0] in V2_IMAGE_KEYS_UNDER_CONTAINERD:
                return CRI_V2 + ("containerd",) + keys, None
            return CRI_V2 + keys, None
        if family == "streaming":
            if keys[0] not in KNOWN_STREAMING_KEYS or len(keys) != 1:
                return None, "unknown streaming setting (known: %s)" % ", ".join(KNOWN_STREAMING_KEYS)
            return (CRI_GRPC if v2x else CRI_V2) + keys, None
        return None, "unknown CRI family '%s' (known: runtime, containerd, cni, images, registry, streaming)" % family
    if head == "server":
        if len(rest) == 1 and rest[0] in SERVER_TOP_KEYS:
            return rest, None
        if rest == ("cgroup", "path"):
            return rest, None
        if len(rest) == 2 and rest[0] in SERVER_V4:
            section, key = rest
            if key not in SERVER_V4[section]:
                return None, "unknown server.%s key (known: %s)" % (section, ", ".join(sorted(SERVER_V4[section])))
            if v4:
                plugin, newkey = SERVER_V4[section][key]
                return ("plugins", plugin, newkey), None
            return rest, None
        return None, "unknown server setting (known: server.root, server.state, server.oom_score, server.temp, " \
                     "server.cgroup.path, server.grpc.<key>, server.ttrpc.<key>, server.debug.<key>, server.metrics.<key>)"
    if head == "snapshotters":
        if len(rest) < 2:
            return None, "expected snapshotters.<name>.<key>"
        return ("plugins", "io.containerd.snapshotter.v1." + rest[0]) + rest[1:], None
    if head == "nri":
        if not rest:
            return None, "expected nri.<key>"
        if tuple(version[:2]) < (1, 7):
            return None, "NRI needs containerd 1.7 or later"
        return ("plugins", "io.containerd.nri.v1.nri") + rest, None
    if head == "gc":
        if not rest:
            return None, "expected gc.<key>"
        return ("plugins", "io.containerd.gc.v1.scheduler") + rest, None
    if head == "transfer":
        if not rest:
            return None, "expected transfer.<key>"
        if not v2x:
            return None, "the transfer service settings need containerd 2.0 or later"
        return ("plugins", "io.containerd.transfer.v1.local") + rest, None
    return None, "unknown setting family '%s' (known: cri, server, snapshotters, nri, gc, transfer)" % head


def handler_key(neutral, version):
    """The handler-level key name of a per-runtime setting in a release, or None."""
    old, new, since = HANDLER_KEYS[neutral]
    if tuple(version[:2]) < since:
        return None
    return new if version[0] >= 2 else old


# ---------------------------------------------------------------------------
# value checks


def _has_control(text):
    return any(ord(c) < 0x20 or ord(c) == 0x7f for c in text)


def toml_value_problems(value, where):
    """Problems with values TOML cannot hold (None, huge ints, unpaired surrogates, other types)."""
    problems = []
    if value is None:
        problems.append("%s: null has no TOML representation" % where)
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if value < INT64_MIN or value > INT64_MAX:
            problems.append("%s: integer %d does not fit TOML's 64-bit integers" % (where, value))
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            problems.append("%s: %r is not a usable containerd value" % (where, value))
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            problems.append("%s: string is not valid Unicode text (unpaired surrogate)" % where)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            problems.extend(toml_value_problems(item, "%s[%d]" % (where, i)))
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key or _has_control(key):
                problems.append("%s: key %r must be a non-empty string without control characters" % (where, key))
                continue
            try:
                key.encode("utf-8")
            except UnicodeEncodeError:
                problems.append("%s: key %r is not valid Unicode text" % (where, key))
                continue
            problems.extend(toml_value_problems(item, "%s.%s" % (where, key)))
    else:
        problems.append("%s: a %s value has no TOML representation" % (where, type_name(value)))
    return problems


def _abs_path_problem(value, where):
    if not isinstance(value, str) or not value:
        return "%s: must be a non-empty string path" % where
    if _has_control(value):
        return "%s: path contains control characters" % where
    if not value.startswith("/"):
        return "%s: path %r is relative; an absolute path is required" % (where, value)
    return None


def runtime_name_problem(name):
    if not isinstance(name, str) or not name:
        return "runtimes: runtime names must be non-empty strings"
    reasons = []
    if "\n" in name or "\r" in name:
        reasons.append("contains a newline")
    elif _has_control(name):
        reasons.append("contains control characters")
    if '"' in name:
        reasons.append('contains "')
    if "]" in name:
        reasons.append("contains ]")
    if "/.." in name:
        reasons.append("contains /..")
    if not reasons and not _RFC1123_LABEL.match(name):
        reasons.append("is not a lowercase RFC 1123 label")
    elif not reasons and len(name) > 63:
        reasons.append("is longer than 63 characters")
    if reasons:
        return "runtimes: runtime name %r %s (a RuntimeClass handler must be a lowercase RFC 1123 label, " \
               "e.g. runc, crun, kata-qemu)" % (name, " and ".join(reasons))
    return None


def setting_name_problem(name):
    if not isinstance(name, str) or not name:
        return "settings: names must be non-empty strings"
    segments = name.split(".")
    if any(not _SEGMENT.match(s) for s in segments):
        return "settings: name %r must be dot-separated segments of letters, digits, '_' and '-'" % (name,)
    return None


def is_runc_type(runtime_type):
    return runtime_type == RUNC_TYPE


def validate_spec(spec, version=None):
    """All problems of a desired state (already type-converted by the argument spec).

    ``spec`` holds the module options; ``version`` the target release tuple, when known.
    Returns a list of messages, each starting with the option it concerns.
    """
    problems = []
    path = spec.get("path") or DEFAULT_PATH
    p = _abs_path_problem(path, "path")
    if p:
        problems.append(p)
    elif path.endswith("/"):
        problems.append("path: %r names a directory; give a file path" % path)

    if version is not None:
        p = version_problem(version)
        if p:
            problems.append("containerd_version: " + p)

    image = spec.get("sandbox_image")
    if image is not None:
        p = image_reference_problem(image)
        if p:
            problems.append("sandbox_image: %r %s" % (image, p))

    driver = spec.get("cgroup_driver")
    if driver is not None and driver not in ("systemd", "cgroupfs", "auto"):
        problems.append("cgroup_driver: %r is not one of systemd, cgroupfs, auto" % (driver,))

    snap = spec.get("snapshotter")
    if snap is not None and (not isinstance(snap, str) or not _SEGMENT.match(snap)):
        problems.append("snapshotter: %r must be a plugin name such as overlayfs, native, zfs" % (snap,))

    config_path = spec.get("config_path")
    if config_path is not None:
        if not isinstance(config_path, str) or not config_path:
            problems.append("config_path: must be a non-empty string")
        else:
            for part in config_path.split(":"):
                p = _abs_path_problem(part, "config_path")
                if p:
                    problems.append(p)

    conf_dir = spec.get("cni_conf_dir")
    if conf_dir is not None:
        p = _abs_path_problem(conf_dir, "cni_conf_dir")
        if p:
            problems.append(p)

    bin_dir = spec.get("cni_bin_dir")
    if bin_dir is not None:
        dirs = bin_dir if isinstance(bin_dir, list) else [bin_dir]
        if not dirs:
            problems.append("cni_bin_dir: give at least one directory")
        for d in dirs:
            p = _abs_path_problem(d, "cni_bin_dir")
            if p:
                problems.append(p)
        if version is not None and len(dirs) > 1 and not bin_dirs_supported(version):
            problems.append("cni_bin_dir: containerd %s takes one CNI bin directory (bin_dirs needs 2.1+), got %d"
                            % (format_version(version), len(dirs)))

    runtimes = spec.get("runtimes") or {}
    if not isinstance(runtimes, dict):
        problems.append("runtimes: must be a dictionary of runtime name to settings")
        runtimes = {}
    for name in sorted(runtimes, key=str):
        p = runtime_name_problem(name)
        if p:
            problems.append(p)
            continue
        problems.extend(_runtime_problems(name, runtimes[name], version))

    default = spec.get("default_runtime")
    if default is not None:
        p = runtime_name_problem(default)
        if p:
            problems.append("default_runtime: " + p[len("runtimes: "):])

    settings = spec.get("settings") or {}
    if not isinstance(settings, dict):
        problems.append("settings: must be a dictionary of setting name to value")
        settings = {}
    for name in sorted(settings, key=str):
        p = setting_name_problem(name)
        if p:
            problems.append(p)
            continue
        for reserved, owner in RESERVED_SETTINGS.items():
            if name == reserved or name.startswith(reserved + "."):
                problems.append("settings: %r is managed by %s" % (name, owner))
                break
        else:
            if version is not None:
                path_, why = setting_path(name, version)
                if why:
                    problems.append("settings: %r: %s" % (name, why))
                if version[0] >= 2:
                    for removed, hint in REMOVED_IN_2.items():
                        if name == removed or name.startswith(removed + "."):
                            problems.append("settings: %r does not exist in containerd 2.x (%s)" % (name, hint))
                    if name.startswith("cri.registry.configs.") and name.endswith(".tls"):
                        problems.append("settings: %r: registry TLS moved to hosts.toml under config_path in "
                                        "containerd 2.x" % name)
            problems.extend(toml_value_problems(settings[name], "settings.%s" % name))
            p = known_type_problem(name, settings[name])
            if p:
                problems.append(p)
    return problems


def _runtime_problems(name, rt, version):
    where = "runtimes.%s" % name
    problems = []
    if rt is None:
        rt = {}
    if not isinstance(rt, dict):
        return ["%s: must be a dictionary with kind, runtime_type, binary, options, settings" % where]
    unknown = sorted(set(rt) - set(RUNTIME_KEYS), key=str)
    if unknown:
        problems.append("%s: unknown keys %s (known: %s)" % (where, ", ".join(map(str, unknown)), ", ".join(RUNTIME_KEYS)))
    kind = rt.get("kind", "runc")
    if kind not in RUNTIME_KINDS:
        problems.append("%s.kind: unknown runtime kind %r (known: %s)" % (where, kind, ", ".join(sorted(RUNTIME_KINDS))))
    rtype = rt.get("runtime_type")
    if rtype is not None:
        if not isinstance(rtype, str) or not _RUNTIME_TYPE.match(rtype):
            problems.append("%s.runtime_type: %r is not a shim name such as io.containerd.runc.v2" % (where, rtype))
    elif kind == "custom":
        problems.append("%s.runtime_type: required for kind custom" % where)
    binary = rt.get("binary")
    if binary is not None:
        p = _abs_path_problem(binary, where + ".binary")
        if p:
            problems.append(p)
    options = rt.get("options")
    if options is not None:
        if not isinstance(options, dict):
            problems.append("%s.options: must be a dictionary" % where)
        else:
            for key in sorted(options, key=str):
                if not isinstance(key, str) or not _SEGMENT.match(key):
                    problems.append("%s.options: key %r must be letters, digits, '_' or '-'" % (where, key))
                    continue
                if key in OPTION_PATH_KEYS and options[key] not in ("", None):
                    p = _abs_path_problem(options[key], "%s.options.%s" % (where, key))
                    if p:
                        problems.append(p)
                if key == "SystemdCgroup":
                    problems.append("%s.options.SystemdCgroup: set cgroup_driver instead" % where)
                problems.extend(toml_value_problems(options[key], "%s.options.%s" % (where, key)))
    hsettings = rt.get("settings")
    if hsettings is not None:
        if not isinstance(hsettings, dict):
            problems.append("%s.settings: must be a dictionary" % where)
        else:
            for key in sorted(hsettings, key=str):
                if key not in HANDLER_KEYS:
                    problems.append("%s.settings: unknown handler setting %r (known: %s)"
                                    % (where, key, ", ".join(sorted(HANDLER_KEYS))))
                    continue
                if version is not None and handler_key(key, version) is None:
                    problems.append("%s.settings.%s: needs containerd %s or later"
                                    % (where, key, format_version(HANDLER_KEYS[key][2])))
                if key in HANDLER_PATH_KEYS:
                    p = _abs_path_problem(hsettings[key], "%s.settings.%s" % (where, key))
                    if p:
                        problems.append(p)
                problems.extend(toml_value_problems(hsettings[key], "%s.settings.%s" % (where, key)))
    return problems


def effective_runtime(name, rt, cgroup_systemd):
    """The handler table a runtime spec asks for: (handler keys, options) for a release-neutral
    handler; keys in ``handler`` use neutral HANDLER_KEYS names. ``cgroup_systemd`` is None when
    the cgroup driver is not managed."""
    rt = rt or {}
    kind = rt.get("kind", "runc")
    kind_type, kind_binary, binary_in_options = RUNTIME_KINDS[kind]
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
