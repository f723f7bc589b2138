# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Migrate a parsed containerd config file (tomlkit) to the config version of the target containerd release.

Pure logic without Ansible imports, as ``containerd config migrate`` of containerd 2.1.9 and 2.3.4 does it:
version 1 short plugin names, version 2 -> 3 (the CRI plugin split into cri.v1.images and cri.v1.runtime, renamed
plugins, removed keys) and version 3 -> 4 (the top-level server tables as server plugins). Comments inside moved
tables move with them; every dropped value is a warning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from tomlkit.exceptions import TOMLKitError
except ImportError:  # pragma: no cover - containerd_merge reports the missing library
    TOMLKitError = ValueError

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_versions as cv
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import toml_doc as td

# version 1 short plugin names -> fully qualified IDs (containerd 2.1.9/2.3.4 ``v1MigratePluginName``;
# other names: ``*-service`` -> io.containerd.service.v1.<name>, anything else io.containerd.grpc.v1.<name>)
V1_PLUGIN_IDS = {
    "cri": "io.containerd.grpc.v1.cri",
    "cgroups": "io.containerd.monitor.v1.cgroups",
    "linux": "io.containerd.runtime.v1.linux",
    "scheduler": "io.containerd.gc.v1.scheduler",
    "bolt": "io.containerd.metadata.v1.bolt",
    "task": "io.containerd.runtime.v2.task",
    "opt": "io.containerd.internal.v1.opt",
    "restart": "io.containerd.internal.v1.restart",
    "tracing": "io.containerd.internal.v1.tracing",
    "otlp": "io.containerd.tracing.processor.v1.otlp",
    "aufs": "io.containerd.snapshotter.v1.aufs",
    "btrfs": "io.containerd.snapshotter.v1.btrfs",
    "devmapper": "io.containerd.snapshotter.v1.devmapper",
    "native": "io.containerd.snapshotter.v1.native",
    "overlayfs": "io.containerd.snapshotter.v1.overlayfs",
    "zfs": "io.containerd.snapshotter.v1.zfs",
}

# plugins that containerd 2.x renamed; each plugin's own ConfigMigration moves its table (containerd 2.1.9 and
# 2.3.4: plugins/restart/monitor.go, core/metrics/cgroups/cgroups.go)
PLUGIN_RENAMES_V3 = {
    "io.containerd.internal.v1.restart": "io.containerd.monitor.container.v1.restart",
    "io.containerd.monitor.v1.cgroups": "io.containerd.monitor.task.v1.cgroups",
}
TASK_PLUGIN = "io.containerd.runtime.v2.task"
SHIM_MANAGER = "io.containerd.shim.v1.manager"
# keys containerd 2.0 removed that the 2.x migration leaves behind (2.x then warns "Ignoring unknown key")
REMOVED_TOP_KEYS_V3 = ("plugin_dir",)
REMOVED_CRI_CONTAINERD_KEYS_V3 = ("no_pivot",)

# the version 3 top-level server tables that version 4 turns into io.containerd.server.v1.* plugins
SERVER_SECTIONS = ("grpc", "ttrpc", "debug", "metrics")


def _set_version(doc, value):
    """Set the top-level ``version``; a new one goes before the first top-level key (cosmetic)."""
    if "version" in doc:
        doc["version"] = value
        return
    body = getattr(doc, "body", None)
    insert_at = getattr(doc, "_insert_at", None)
    if body and insert_at is not None:
        for idx, (key, dummy) in enumerate(body):
            if key is not None:
                try:
                    insert_at(idx, "version", value)
                    return
                except (TOMLKitError, TypeError, ValueError, KeyError, IndexError):
                    break
    doc["version"] = value


def file_version(doc):
    """The config version of a parsed file (no ``version`` key = 1), or None when invalid."""
    if "version" not in doc:
        return 1
    value = td.plain(doc["version"])
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def v1_plugin_id(name, warnings):
    """The full plugin ID of a version 1 short name, as containerd's v1MigratePluginName gives it."""
    if name in V1_PLUGIN_IDS:
        return V1_PLUGIN_IDS[name]
    if name.endswith("-service"):
        return "io.containerd.service.v1." + name
    full = ("io.containerd.snapshotter.v1." if name in ("windows", "windows-lcow") else "io.containerd.grpc.v1.") + name
    warnings.append("migration: ambiguous version 1 plugin %s, treated as %s (as containerd does)" % (name, full))
    return full


def _migrate_v1(doc, problems, warnings):
    plugins = td.get(doc, ("plugins",))
    if plugins is not None and td.is_table(plugins):
        for name in list(plugins.keys()):
            if "." in name:
                continue
            full = v1_plugin_id(name, warnings)
            item = plugins[name]
            del plugins[name]
            if full in plugins:
                problems.append("path: the file has both plugins.%s and plugins.\"%s\"" % (name, full))
                continue
            plugins[full] = item
    for key in ("disabled_plugins", "required_plugins"):
        if key not in doc:
            continue
        values = td.plain(doc[key])
        if not isinstance(values, list):
            problems.append("path: %s must be a list" % key)
            continue
        new = []
        for v in values:
            if isinstance(v, str) and "." not in v:
                v = v1_plugin_id(v, warnings)
            new.append(v)
        if not td.same_value(values, new):
            doc[key] = new
    _set_version(doc, 2)


def _move(doc, src, dst, problems, warnings, where="path"):
    """Move the item at ``src`` to ``dst`` (merging into an existing table at dst)."""
    item = td.get(doc, src)
    if item is None:
        return
    td.delete(doc, src)
    existing = td.get(doc, dst)
    if existing is None:
        parent = td.ensure_table(doc, dst[:-1], problems, where)
        if parent is not None:
            parent[dst[-1]] = td.to_toml(td.plain(item), inline=True) if td.is_inline(parent) else item
        return
    if td.is_table(existing) and td.is_table(item):
        for k in list(item.keys()):
            if k not in existing:
                existing[k] = item[k]
            elif not td.same_value(existing[k], item[k]):
                warnings.append("migration: %s.%s already set at %s, kept the latter" % (td.dotted(src), k, td.dotted(dst)))
        return
    warnings.append("migration: %s dropped, %s already set" % (td.dotted(src), td.dotted(dst)))


def _migrate_cri_containerd_v3(doc, problems, warnings):
    """CRI ``.containerd``: image keys to cri.v1.images, the rest to cri.v1.runtime; removed keys dropped."""
    base = ct.CRI_V2 + ("containerd",)
    containerd = td.get(doc, base)
    if containerd is None or not td.is_table(containerd):
        return
    for key in list(containerd.keys()):
        src = base + (key,)
        if key in ct.V2_IMAGE_KEYS_UNDER_CONTAINERD:
            _move(doc, src, ct.CRI_IMAGES + (key,), problems, warnings)
        elif key in ("default_runtime", "untrusted_workload_runtime") + REMOVED_CRI_CONTAINERD_KEYS_V3:
            if not td.trivial(containerd[key]):
                warnings.append("migration: containerd.%s was removed in containerd 2.0 and is dropped%s" % (
                    key, "" if key in REMOVED_CRI_CONTAINERD_KEYS_V3 else " (define the runtime under runtimes instead)"))
            td.delete(doc, src)
        elif key == "runtimes":
            _migrate_runtimes_v3(doc, src, warnings)
            _move(doc, src, ct.CRI_RUNTIME + ("containerd", "runtimes"), problems, warnings)
        else:
            _move(doc, src, ct.CRI_RUNTIME + ("containerd", key), problems, warnings)
    td.pop_empty(doc, base)


def _drop_registry_tls(doc, src, warnings):
    configs = td.get(doc, src + ("configs",))
    if configs is None or not td.is_table(configs):
        return
    for host in list(configs.keys()):
        if td.is_table(configs[host]) and "tls" in configs[host]:
            if not td.trivial(configs[host]["tls"]):
                warnings.append("migration: registry.configs.\"%s\".tls is not supported by containerd 2.x and is "
                                "dropped; configure TLS in hosts.toml under config_path" % host)
            del configs[host]["tls"]
        td.pop_empty(doc, src + ("configs", host))
    td.pop_empty(doc, src + ("configs",))


def _migrate_cni_v3(doc, src, version, problems, warnings):
    _move(doc, src, ct.CRI_RUNTIME + ("cni",), problems, warnings)
    cni = td.get(doc, ct.CRI_RUNTIME + ("cni",))
    if cv.bin_dirs_supported(version) and cni is not None and "bin_dir" in cni:
        bin_dir = td.plain(cni["bin_dir"])
        del cni["bin_dir"]
        if "bin_dirs" not in cni and bin_dir:
            cni["bin_dirs"] = [bin_dir]


def _migrate_cri_v3(doc, version, problems, warnings):
    """The CRI plugin's own ConfigMigration (plugins/cri/{cri,images/plugin,runtime/plugin}.go)."""
    base = ct.CRI_V2
    if td.get(doc, base) is None or not td.is_table(td.get(doc, base)):
        return
    _migrate_cri_containerd_v3(doc, problems, warnings)
    cri = td.get(doc, base)
    for key in list(cri.keys()):
        src = base + (key,)
        if key == "sandbox_image":
            _move(doc, src, ct.CRI_IMAGES + ("pinned_images", "sandbox"), problems, warnings)
        elif key == "registry":
            _drop_registry_tls(doc, src, warnings)
            _move(doc, src, ct.CRI_IMAGES + ("registry",), problems, warnings)
        elif key == "cni":
            _migrate_cni_v3(doc, src, version, problems, warnings)
        elif key in ct.KNOWN_STREAMING_KEYS:
            continue
        elif key in ct.KNOWN_IMAGE_KEYS:
            _move(doc, src, ct.CRI_IMAGES + (key,), problems, warnings)
        elif key in ("systemd_cgroup", "disable_cgroup"):
            if not td.trivial(cri[key]):
                warnings.append("migration: %s was removed in containerd 2.0 and is dropped%s"
                                % (key, " (use cgroup_driver)" if key == "systemd_cgroup" else ""))
            td.delete(doc, src)
        else:
            _move(doc, src, ct.CRI_RUNTIME + (key,), problems, warnings)
    td.pop_empty(doc, base)


def _migrate_sched_core(doc, problems, warnings):
    """io.containerd.runtime.v2.task sched_core -> io.containerd.shim.v1.manager env SCHED_CORE=1
    (core/runtime/v2/shim_manager.go). containerd replaces the manager table; an existing env is kept here."""
    task = td.get(doc, ("plugins", TASK_PLUGIN))
    if task is None or not td.is_table(task) or "sched_core" not in task:
        return
    value = td.plain(task["sched_core"])
    del task["sched_core"]
    td.pop_empty(doc, ("plugins", TASK_PLUGIN))
    if not isinstance(value, bool):
        warnings.append("migration: plugins.\"%s\".sched_core = %r is not a boolean and is dropped (as containerd "
                        "does)" % (TASK_PLUGIN, value))
        return
    if not value:
        return
    env = td.plain(td.get(doc, ("plugins", SHIM_MANAGER, "env")) or [])
    if not isinstance(env, list):
        problems.append("path: plugins.\"%s\".env must be a list" % SHIM_MANAGER)
        return
    if "SCHED_CORE=1" not in env:
        td.set_value(doc, ("plugins", SHIM_MANAGER, "env"), list(env) + ["SCHED_CORE=1"], problems, "path")


def _migrate_plugins_v3(doc, problems, warnings):
    """The renamed plugins (restart, cgroups monitor), SCHED_CORE, and the keys containerd 2.0 removed."""
    for old, new in sorted(PLUGIN_RENAMES_V3.items()):
        _move(doc, ("plugins", old), ("plugins", new), problems, warnings)
        _rename_disabled(doc, old, new, warnings)
    _migrate_sched_core(doc, problems, warnings)
    for key in REMOVED_TOP_KEYS_V3:
        if key in doc:
            if not td.trivial(doc[key]):
                warnings.append("migration: %s was removed in containerd 2.0 and is dropped" % key)
            del doc[key]
    legacy = td.get(doc, ("plugins", "io.containerd.runtime.v1.linux"))
    if legacy is not None:
        if not td.trivial(legacy):
            warnings.append('migration: plugins."io.containerd.runtime.v1.linux" was removed in containerd 2.0 '
                            'and is dropped')
        td.delete(doc, ("plugins", "io.containerd.runtime.v1.linux"))


def _rename_disabled(doc, old, new, warnings):
    """A disabled plugin keeps being disabled under its new name (containerd itself leaves the old name in
    disabled_plugins, where it then disables nothing)."""
    values = td.plain(doc.get("disabled_plugins")) if "disabled_plugins" in doc else None
    if not isinstance(values, list) or old not in values:
        return
    arr = doc["disabled_plugins"]
    for i in reversed(range(len(values))):
        if values[i] == old:
            del arr[i]
    if new not in values:
        arr.append(new)
    warnings.append("migration: disabled_plugins: %s is now %s; it stays disabled" % (old, new))


def _migrate_v2_to_v3(doc, version, problems, warnings):
    _migrate_cri_v3(doc, version, problems, warnings)
    _migrate_plugins_v3(doc, problems, warnings)
    doc["version"] = 3


def _migrate_runtimes_v3(doc, path, warnings):
    runtimes = td.get(doc, path)
    if runtimes is None or not td.is_table(runtimes):
        return
    for name in list(runtimes.keys()):
        handler = runtimes[name]
        if not td.is_table(handler):
            continue
        for key in ("runtime_engine", "runtime_root"):
            # 1.x used both only for io.containerd.runtime.v1.linux; 2.x has neither
            if key in handler:
                if not td.trivial(handler[key]):
                    warnings.append("migration: runtimes.%s.%s was removed in containerd 2.0 and is dropped"
                                    % (name, key))
                del handler[key]
        if "sandbox_mode" in handler:
            mode = handler["sandbox_mode"]
            del handler["sandbox_mode"]
            if "sandboxer" not in handler:
                handler["sandboxer"] = mode
        options = handler.get("options") if hasattr(handler, "get") else None
        if options is not None and td.is_table(options) and "CriuPath" in options:
            if not td.trivial(options["CriuPath"]):
                warnings.append("migration: runtimes.%s.options.CriuPath was removed in containerd 2.0 and is dropped"
                                % name)
            del options["CriuPath"]


def _nonzero(values, keys):
    return dict((k, values[k]) for k in keys if not td.trivial(values.get(k)))


def _grpc_plugins_v4(grpc):
    out = {}
    sizes = _nonzero(grpc, ("max_recv_message_size", "max_send_message_size"))
    if grpc.get("address") or _nonzero(grpc, ("uid", "gid")) or sizes:
        plugin = {}
        if grpc.get("address"):
            # legacy socket ownership: uid/gid come along even when 0
            plugin.update(address=grpc["address"], uid=grpc.get("uid", 0), gid=grpc.get("gid", 0))
        else:
            plugin.update(_nonzero(grpc, ("uid", "gid")))
        plugin.update(sizes)
        out["io.containerd.server.v1.grpc"] = plugin
    if grpc.get("tcp_address"):
        plugin = {"address": grpc["tcp_address"]}
        for key in ("tcp_tls_ca", "tcp_tls_cert", "tcp_tls_key", "tcp_tls_common_name"):
            if grpc.get(key):
                plugin[key[len("tcp_"):]] = grpc[key]
        plugin.update(sizes)
        out["io.containerd.server.v1.grpc-tcp"] = plugin
    return out


def _ttrpc_plugin_v4(ttrpc, grpc):
    address, uid, gid = ttrpc.get("address") or "", ttrpc.get("uid") or 0, ttrpc.get("gid") or 0
    if not address and grpc.get("address"):
        address = "%s.ttrpc" % grpc["address"]
        uid, gid = uid or grpc.get("uid") or 0, gid or grpc.get("gid") or 0
    if address or uid or gid:
        return {"io.containerd.server.v1.ttrpc": {"address": address, "uid": uid, "gid": gid}}
    return {}


def server_plugins_v4(sections):
    """containerd 2.3's ``serviceMigrate`` (cmd/containerd/server/config/config.go, v2.3.4): the version 3
    top-level [grpc], [ttrpc], [debug] and [metrics] values as server plugin tables."""
    grpc, ttrpc, debug, metrics = (sections.get(s) or {} for s in SERVER_SECTIONS)
    out = _grpc_plugins_v4(grpc)
    out.update(_ttrpc_plugin_v4(ttrpc, grpc))
    if debug.get("address"):
        out["io.containerd.server.v1.debug"] = {"address": debug["address"], "uid": debug.get("uid", 0),
                                                "gid": debug.get("gid", 0)}
    if metrics.get("grpc_histogram") is True:
        out["io.containerd.metrics.v1.grpc-prometheus"] = {"grpc_histogram": True}
    if metrics.get("address"):
        out["io.containerd.server.v1.metrics"] = {"address": metrics["address"]}
    return out


def _migrate_v3_to_v4(doc, problems, warnings):
    sections = {}
    for section in SERVER_SECTIONS:
        item = td.get(doc, (section,))
        if item is not None:
            if not td.is_table(item):
                problems.append("path: top-level %s must be a table" % section)
                continue
            sections[section] = td.plain(item)
    known = {"grpc": set(ct.SERVER_V4["grpc"]), "ttrpc": set(ct.SERVER_V4["ttrpc"]),
             "debug": set(ct.SERVER_V4["debug"]), "metrics": set(ct.SERVER_V4["metrics"])}
    for section, values in sorted(sections.items()):
        stays = ct.SERVER_V4_TOP_LEVEL.get(section, ())
        for key in sorted(set(values) - known[section] - set(stays)):
            warnings.append("migration: %s.%s has no version 4 equivalent and is dropped" % (section, key))
    for section in SERVER_SECTIONS:
        stays = ct.SERVER_V4_TOP_LEVEL.get(section, ())
        table = td.get(doc, (section,))
        if table is None or not td.is_table(table):
            continue
        for key in list(table.keys()):
            if key not in stays:
                del table[key]
        td.pop_empty(doc, (section,))
    for plugin, values in sorted(server_plugins_v4(sections).items()):
        if td.get(doc, ("plugins", plugin)) is None:
            # containerd keeps an existing server plugin section as it is
            td.set_value(doc, ("plugins", plugin), values, problems, "path")
    doc["version"] = 4


def migrate(doc, version, problems, warnings):
    """Bring ``doc`` to the config version of containerd ``version``; returns the file's version."""
    target = cv.schema_version(version)
    found = file_version(doc)
    if found is None:
        problems.append("path: the existing file's version = %r is not an integer" % (td.plain(doc["version"]),))
        return None
    if found > target:
        problems.append("path: the existing file is config version %d, newer than containerd %s reads (version %d); "
                        "refusing to downgrade it (set containerd_version to the installed release, or remove the file)"
                        % (found, cv.format_version(version), target))
        return found
    if found < 1:
        problems.append("path: unknown config version %d" % found)
        return found
    if found == 1:
        _migrate_v1(doc, problems, warnings)
    if found <= 2 and target >= 3:
        _migrate_v2_to_v3(doc, version, problems, warnings)
    if found <= 3 and target >= 4:
        _migrate_v3_to_v4(doc, problems, warnings)
    return found
