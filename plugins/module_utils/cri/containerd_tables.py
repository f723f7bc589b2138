# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where settings live in each containerd config version: plugin IDs, key tables, the place of each first-class option.

Pure logic, no Ansible imports, stdlib only (imported on the controller and on nodes, python 3.8 syntax).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_versions import bin_dirs_supported

CRI_V2 = ("plugins", "io.containerd.grpc.v1.cri")
CRI_V2 = ("plugins", "io.containerd.grpc.v1.cri")
CRI_IMAGES = ("plugins", "io.containerd.cri.v1.images")
CRI_RUNTIME = ("plugins", "io.containerd.cri.v1.runtime")
CRI_GRPC = ("plugins", "io.containerd.grpc.v1.cri")

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
    },
    "metrics": {
        "address": ("io.containerd.server.v1.metrics", "address"),
        "grpc_histogram": ("io.containerd.metrics.v1.grpc-prometheus", "grpc_histogram"),
    },
}
# keys of the server sections that stay top-level in version 4 (containerd 2.3 ``Debug``: level, format,
# log_trace_id; only address, uid and gid moved to io.containerd.server.v1.debug)
SERVER_V4_TOP_LEVEL = {"debug": ("level", "format", "log_trace_id")}
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
    ("server.debug.<address|uid|gid>", "debug.<key>", "debug.<key>",
     'plugins."io.containerd.server.v1.debug".<key>'),
    ("server.debug.<level|format|log_trace_id>", "debug.<key>", "debug.<key>", "debug.<key> (stays top level)"),
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


def handler_key(neutral, version):
    """The handler-level key name of a per-runtime setting in a release, or None."""
    old, new, since = HANDLER_KEYS[neutral]
    if tuple(version[:2]) < since:
        return None
    return new if version[0] >= 2 else old
