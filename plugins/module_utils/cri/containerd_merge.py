# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge a version-neutral desired state into a containerd config file (tomlkit).

Pure logic without Ansible imports. tomlkit is a controller-side library: this file is
imported by the action plugin; nodes never need it (guarded import).

``merge(existing_text, spec, version, pid1_systemd)`` returns a ``MergeResult`` with the
candidate text, the config ``version`` written, problems (nothing may be written when
there are any) and warnings. Keys and comments the desired state does not manage
survive; a file in an older config version is migrated first (comments inside moved
CRI tables move with them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

try:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError
    HAS_TOMLKIT = True
    TOMLKIT_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without tomlkit
    HAS_TOMLKIT = False
    TOMLKIT_IMPORT_ERROR = exc

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_runtimes as cr
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_settings as cset
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_versions as cv
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import registry_auth as ra
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import toml_values as tv

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

CRI_PLUGIN_IDS_1X = ("cri", "io.containerd.grpc.v1.cri")
CRI_PLUGIN_IDS_2X = ("cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime")

SERVER_SECTIONS = ("grpc", "ttrpc", "debug", "metrics")


class MergeResult(object):
    def __init__(self, text=None, config_version=None, file_version=None, problems=None, warnings=None):
        self.text = text
        self.config_version = config_version
        self.file_version = file_version
        self.problems = problems or []
        self.warnings = warnings or []
        # registry credentials in the text: the file is written 0600 and shown redacted
        self.holds_credentials = False

    @property
    def ok(self):
        return not self.problems


# ---------------------------------------------------------------------------
# tomlkit helpers


def _is_table(item):
    return isinstance(item, dict) or hasattr(item, "unwrap") and isinstance(item.unwrap(), dict)


def _plain(item):
    return item.unwrap() if hasattr(item, "unwrap") else item


def same_value(a, b):
    """Equal and of the same TOML type (``True`` is not ``1``)."""
    a, b = _plain(a), _plain(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, (list, tuple, dict)) or isinstance(b, (list, tuple, dict)):
        return False
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, float) != isinstance(b, float):
        return False
    return a == b


def _get(doc, path):
    node = doc
    for key in path:
        if not _is_table(node) or key not in node:
            return None
        node = node[key]
    return node


def _is_inline(node):
    return isinstance(node, tomlkit.items.InlineTable)


def _new_table(parent):
    return tomlkit.inline_table() if _is_inline(parent) else tomlkit.table()


def _ensure_table(doc, path, problems, where):
    node = doc
    for i, key in enumerate(path):
        if key not in node:
            node[key] = _new_table(node)
        child = node[key]
        if not _is_table(child):
            problems.append("%s: cannot set %s: %s is a %s in the existing file, not a table"
                            % (where, _dotted(path), _dotted(path[:i + 1]), tv.type_name(_plain(child))))
            return None
        node = child
    return node


def _to_toml(value):
    """Plain python -> tomlkit item (lists of dicts as arrays of inline tables)."""
    if isinstance(value, dict):
        table = tomlkit.table()
        for k, v in value.items():
            table[k] = _to_toml(v)
        return table
    if isinstance(value, (list, tuple)):
        arr = tomlkit.array()
        for v in value:
            if isinstance(v, dict):
                inline = tomlkit.inline_table()
                for k, x in v.items():
                    inline[k] = _inline(x)
                arr.append(inline)
            else:
                arr.append(_inline(v))
        return arr
    return value


def _inline(value):
    if isinstance(value, dict):
        inline = tomlkit.inline_table()
        for k, x in value.items():
            inline[k] = _inline(x)
        return inline
    if isinstance(value, (list, tuple)):
        arr = tomlkit.array()
        for v in value:
            arr.append(_inline(v))
        return arr
    return value


def _set(doc, path, value, problems, where):
    """Set ``path`` to ``value``; a dict merges key by key. Unchanged values keep their formatting."""
    parent = _ensure_table(doc, path[:-1], problems, where)
    if parent is None:
        return
    key = path[-1]
    if isinstance(value, dict):
        if key in parent and not _is_table(parent[key]):
            problems.append("%s: cannot set %s: it is a %s in the existing file, not a table"
                            % (where, _dotted(path), tv.type_name(_plain(parent[key]))))
            return
        if key not in parent:
            parent[key] = _new_table(parent)
        for k, v in value.items():
            _set(doc, tuple(path) + (k,), v, problems, where)
        return
    if key in parent and same_value(parent[key], value):
        return
    fresh = key not in parent
    parent[key] = _inline(value) if _is_inline(parent) else _to_toml(value)
    if fresh:
        _match_indent(parent, key)


def _match_indent(parent, key):
    """Indent a new key like its siblings (cosmetic; tomlkit guesses otherwise)."""
    container = getattr(parent, "value", None)
    body = getattr(container, "body", None)
    if not body:
        return
    indent = None
    for k, item in body:
        if k is None or k.key == key or _is_table(item) or not hasattr(item, "trivia"):
            continue
        indent = item.trivia.indent
        break
    if indent is None:
        header = (getattr(getattr(parent, "trivia", None), "indent", "") or "").split("\n")[-1]
        if not header:
            return
        indent = header + "  "
    for k, item in body:
        if k is not None and k.key == key and hasattr(item, "trivia"):
            item.trivia.indent = indent


def _delete(doc, path):
    parent = _get(doc, path[:-1])
    if parent is not None and _is_table(parent) and path[-1] in parent:
        del parent[path[-1]]
        return True
    return False


def _pop_empty(doc, path):
    """Remove the table at ``path`` when it holds nothing."""
    node = _get(doc, path)
    if node is not None and _is_table(node) and len(_plain(node)) == 0:
        _delete(doc, path)


def _dotted(path):
    out = []
    for key in path:
        if tv.SEGMENT.match(key):
            out.append(key)
        else:
            out.append('"%s"' % key)
    return ".".join(out)


def _trivial(value):
    """True for values containerd treats as unset (zero values)."""
    value = _plain(value)
    if isinstance(value, dict):
        return all(_trivial(v) for v in value.values())
    return value in ("", 0, False, None) or value == [] and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# migration


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
    value = _plain(doc["version"])
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
    plugins = _get(doc, ("plugins",))
    if plugins is not None and _is_table(plugins):
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
        values = _plain(doc[key])
        if not isinstance(values, list):
            problems.append("path: %s must be a list" % key)
            continue
        new = []
        for v in values:
            if isinstance(v, str) and "." not in v:
                v = v1_plugin_id(v, warnings)
            new.append(v)
        if not same_value(values, new):
            doc[key] = new
    _set_version(doc, 2)


def _move(doc, src, dst, problems, warnings, where="path"):
    """Move the item at ``src`` to ``dst`` (merging into an existing table at dst)."""
    item = _get(doc, src)
    if item is None:
        return
    _delete(doc, src)
    existing = _get(doc, dst)
    if existing is None:
        parent = _ensure_table(doc, dst[:-1], problems, where)
        if parent is not None:
            parent[dst[-1]] = _inline(_plain(item)) if _is_inline(parent) else item
        return
    if _is_table(existing) and _is_table(item):
        for k in list(item.keys()):
            if k not in existing:
                existing[k] = item[k]
            elif not same_value(existing[k], item[k]):
                warnings.append("migration: %s.%s already set at %s, kept the latter" % (_dotted(src), k, _dotted(dst)))
        return
    warnings.append("migration: %s dropped, %s already set" % (_dotted(src), _dotted(dst)))


def _migrate_cri_containerd_v3(doc, problems, warnings):
    """CRI ``.containerd``: image keys to cri.v1.images, the rest to cri.v1.runtime; removed keys dropped."""
    base = ct.CRI_V2 + ("containerd",)
    containerd = _get(doc, base)
    if containerd is None or not _is_table(containerd):
        return
    for key in list(containerd.keys()):
        src = base + (key,)
        if key in ct.V2_IMAGE_KEYS_UNDER_CONTAINERD:
            _move(doc, src, ct.CRI_IMAGES + (key,), problems, warnings)
        elif key in ("default_runtime", "untrusted_workload_runtime") + REMOVED_CRI_CONTAINERD_KEYS_V3:
            if not _trivial(containerd[key]):
                warnings.append("migration: containerd.%s was removed in containerd 2.0 and is dropped%s" % (
                    key, "" if key in REMOVED_CRI_CONTAINERD_KEYS_V3 else " (define the runtime under runtimes instead)"))
            _delete(doc, src)
        elif key == "runtimes":
            _migrate_runtimes_v3(doc, src, warnings)
            _move(doc, src, ct.CRI_RUNTIME + ("containerd", "runtimes"), problems, warnings)
        else:
            _move(doc, src, ct.CRI_RUNTIME + ("containerd", key), problems, warnings)
    _pop_empty(doc, base)


def _drop_registry_tls(doc, src, warnings):
    configs = _get(doc, src + ("configs",))
    if configs is None or not _is_table(configs):
        return
    for host in list(configs.keys()):
        if _is_table(configs[host]) and "tls" in configs[host]:
            if not _trivial(configs[host]["tls"]):
                warnings.append("migration: registry.configs.\"%s\".tls is not supported by containerd 2.x and is "
                                "dropped; configure TLS in hosts.toml under config_path" % host)
            del configs[host]["tls"]
        _pop_empty(doc, src + ("configs", host))
    _pop_empty(doc, src + ("configs",))


def _migrate_cni_v3(doc, src, version, problems, warnings):
    _move(doc, src, ct.CRI_RUNTIME + ("cni",), problems, warnings)
    cni = _get(doc, ct.CRI_RUNTIME + ("cni",))
    if cv.bin_dirs_supported(version) and cni is not None and "bin_dir" in cni:
        bin_dir = _plain(cni["bin_dir"])
        del cni["bin_dir"]
        if "bin_dirs" not in cni and bin_dir:
            cni["bin_dirs"] = [bin_dir]


def _migrate_cri_v3(doc, version, problems, warnings):
    """The CRI plugin's own ConfigMigration (plugins/cri/{cri,images/plugin,runtime/plugin}.go)."""
    base = ct.CRI_V2
    if _get(doc, base) is None or not _is_table(_get(doc, base)):
        return
    _migrate_cri_containerd_v3(doc, problems, warnings)
    cri = _get(doc, base)
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
            if not _trivial(cri[key]):
                warnings.append("migration: %s was removed in containerd 2.0 and is dropped%s"
                                % (key, " (use cgroup_driver)" if key == "systemd_cgroup" else ""))
            _delete(doc, src)
        else:
            _move(doc, src, ct.CRI_RUNTIME + (key,), problems, warnings)
    _pop_empty(doc, base)


def _migrate_sched_core(doc, problems, warnings):
    """io.containerd.runtime.v2.task sched_core -> io.containerd.shim.v1.manager env SCHED_CORE=1
    (core/runtime/v2/shim_manager.go). containerd replaces the manager table; an existing env is kept here."""
    task = _get(doc, ("plugins", TASK_PLUGIN))
    if task is None or not _is_table(task) or "sched_core" not in task:
        return
    value = _plain(task["sched_core"])
    del task["sched_core"]
    _pop_empty(doc, ("plugins", TASK_PLUGIN))
    if not isinstance(value, bool):
        warnings.append("migration: plugins.\"%s\".sched_core = %r is not a boolean and is dropped (as containerd "
                        "does)" % (TASK_PLUGIN, value))
        return
    if not value:
        return
    env = _plain(_get(doc, ("plugins", SHIM_MANAGER, "env")) or [])
    if not isinstance(env, list):
        problems.append("path: plugins.\"%s\".env must be a list" % SHIM_MANAGER)
        return
    if "SCHED_CORE=1" not in env:
        _set(doc, ("plugins", SHIM_MANAGER, "env"), list(env) + ["SCHED_CORE=1"], problems, "path")


def _migrate_plugins_v3(doc, problems, warnings):
    """The renamed plugins (restart, cgroups monitor), SCHED_CORE, and the keys containerd 2.0 removed."""
    for old, new in sorted(PLUGIN_RENAMES_V3.items()):
        _move(doc, ("plugins", old), ("plugins", new), problems, warnings)
        _rename_disabled(doc, old, new, warnings)
    _migrate_sched_core(doc, problems, warnings)
    for key in REMOVED_TOP_KEYS_V3:
        if key in doc:
            if not _trivial(doc[key]):
                warnings.append("migration: %s was removed in containerd 2.0 and is dropped" % key)
            del doc[key]
    legacy = _get(doc, ("plugins", "io.containerd.runtime.v1.linux"))
    if legacy is not None:
        if not _trivial(legacy):
            warnings.append('migration: plugins."io.containerd.runtime.v1.linux" was removed in containerd 2.0 '
                            'and is dropped')
        _delete(doc, ("plugins", "io.containerd.runtime.v1.linux"))


def _rename_disabled(doc, old, new, warnings):
    """A disabled plugin keeps being disabled under its new name (containerd itself leaves the old name in
    disabled_plugins, where it then disables nothing)."""
    values = _plain(doc.get("disabled_plugins")) if "disabled_plugins" in doc else None
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
    runtimes = _get(doc, path)
    if runtimes is None or not _is_table(runtimes):
        return
    for name in list(runtimes.keys()):
        handler = runtimes[name]
        if not _is_table(handler):
            continue
        for key in ("runtime_engine", "runtime_root"):
            # 1.x used both only for io.containerd.runtime.v1.linux; 2.x has neither
            if key in handler:
                if not _trivial(handler[key]):
                    warnings.append("migration: runtimes.%s.%s was removed in containerd 2.0 and is dropped"
                                    % (name, key))
                del handler[key]
        if "sandbox_mode" in handler:
            mode = handler["sandbox_mode"]
            del handler["sandbox_mode"]
            if "sandboxer" not in handler:
                handler["sandboxer"] = mode
        options = handler.get("options") if hasattr(handler, "get") else None
        if options is not None and _is_table(options) and "CriuPath" in options:
            if not _trivial(options["CriuPath"]):
                warnings.append("migration: runtimes.%s.options.CriuPath was removed in containerd 2.0 and is dropped"
                                % name)
            del options["CriuPath"]


def _nonzero(values, keys):
    return dict((k, values[k]) for k in keys if not _trivial(values.get(k)))


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
        item = _get(doc, (section,))
        if item is not None:
            if not _is_table(item):
                problems.append("path: top-level %s must be a table" % section)
                continue
            sections[section] = _plain(item)
    known = {"grpc": set(ct.SERVER_V4["grpc"]), "ttrpc": set(ct.SERVER_V4["ttrpc"]),
             "debug": set(ct.SERVER_V4["debug"]), "metrics": set(ct.SERVER_V4["metrics"])}
    for section, values in sorted(sections.items()):
        stays = ct.SERVER_V4_TOP_LEVEL.get(section, ())
        for key in sorted(set(values) - known[section] - set(stays)):
            warnings.append("migration: %s.%s has no version 4 equivalent and is dropped" % (section, key))
    for section in SERVER_SECTIONS:
        stays = ct.SERVER_V4_TOP_LEVEL.get(section, ())
        table = _get(doc, (section,))
        if table is None or not _is_table(table):
            continue
        for key in list(table.keys()):
            if key not in stays:
                del table[key]
        _pop_empty(doc, (section,))
    for plugin, values in sorted(server_plugins_v4(sections).items()):
        if _get(doc, ("plugins", plugin)) is None:
            # containerd keeps an existing server plugin section as it is
            _set(doc, ("plugins", plugin), values, problems, "path")
    doc["version"] = 4


def migrate(doc, version, problems, warnings):
    """Bring ``doc`` to the config version of containerd ``version``; returns the file's version."""
    target = cv.schema_version(version)
    found = file_version(doc)
    if found is None:
        problems.append("path: the existing file's version = %r is not an integer" % (_plain(doc["version"]),))
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


# ---------------------------------------------------------------------------
# desired state


def _runtimes_path(version):
    return ct.option_path("runtimes", version)


def _apply_runtimes(doc, spec, version, systemd, problems):
    runtimes = spec.get("runtimes") or {}
    base = _runtimes_path(version)
    for name in sorted(runtimes):
        handler, options = cr.effective_runtime(name, runtimes[name], systemd)
        where = "runtimes.%s" % name
        hpath = base + (name,)
        _set(doc, hpath + ("runtime_type",), handler.pop("runtime_type"), problems, where)
        for key, value in handler.items():
            real = ct.handler_key(key, version)
            if real is None:
                continue
            _set(doc, hpath + (real,), value, problems, where)
        if options:
            _set(doc, hpath + ("options",), options, problems, where)


def _runtime_table(doc, version):
    table = _get(doc, _runtimes_path(version))
    if table is None or not _is_table(table):
        return {}
    return table


def _apply_cgroup_driver(doc, version, systemd, problems):
    """Same SystemdCgroup for every runc-type handler, managed or not."""
    runtimes = _runtime_table(doc, version)
    for name in list(runtimes.keys()):
        handler = runtimes[name]
        if not _is_table(handler) or _plain(handler.get("runtime_type")) != cr.RUNC_TYPE:
            continue
        options = handler.get("options")
        if not systemd and (options is None or not _is_table(options) or "SystemdCgroup" not in options):
            continue  # absent is false, containerd's default: nothing to write
        _set(doc, _runtimes_path(version) + (name, "options", "SystemdCgroup"), systemd, problems, "cgroup_driver")


def _apply_cni_bin(doc, dirs, version, problems):
    base = ct.option_path("cni_conf_dir", version)[:-1]
    if cv.bin_dirs_supported(version):
        _set(doc, base + ("bin_dirs",), list(dirs), problems, "cni_bin_dir")
        _delete(doc, base + ("bin_dir",))
    else:
        _set(doc, base + ("bin_dir",), dirs[0], problems, "cni_bin_dir")
        _delete(doc, base + ("bin_dirs",))


def _strip_cri_from_disabled(doc, version):
    if "disabled_plugins" not in doc:
        return
    values = _plain(doc["disabled_plugins"])
    if not isinstance(values, list):
        return
    ids = CRI_PLUGIN_IDS_2X if version[0] >= 2 else CRI_PLUGIN_IDS_1X
    keep = [v for v in values if v not in ids]
    if len(keep) != len(values):
        arr = doc["disabled_plugins"]
        for i in reversed(range(len(values))):
            if values[i] in ids:
                del arr[i]


def apply_spec(doc, spec, version, pid1_systemd, problems, warnings):
    driver = spec.get("cgroup_driver")
    systemd = None
    if driver == "systemd":
        systemd = True
    elif driver == "cgroupfs":
        systemd = False
    elif driver == "auto":
        systemd = bool(pid1_systemd)

    for option in ("sandbox_image", "snapshotter", "config_path", "cni_conf_dir"):
        value = spec.get(option)
        if value is not None:
            _set(doc, ct.option_path(option, version), value, problems, option)
    bin_dir = spec.get("cni_bin_dir")
    if bin_dir:
        _apply_cni_bin(doc, bin_dir if isinstance(bin_dir, list) else [bin_dir], version, problems)

    _apply_runtimes(doc, spec, version, systemd, problems)

    # the node's own default runtime stays unless the spec names one (nvidia-ctk --set-as-default)
    default = spec.get("default_runtime") or _plain(_get(doc, ct.option_path("default_runtime", version))) or "runc"
    runtimes = _runtime_table(doc, version)
    if default not in runtimes:
        if default == "runc":
            handler, options = cr.effective_runtime("runc", {"kind": "runc"}, systemd)
            _set(doc, _runtimes_path(version) + ("runc",), {"runtime_type": handler["runtime_type"]}, problems,
                 "default_runtime")
            if options:
                _set(doc, _runtimes_path(version) + ("runc", "options"), options, problems, "default_runtime")
        else:
            problems.append("default_runtime: %r is defined neither in runtimes nor in the existing file" % default)
    _set(doc, ct.option_path("default_runtime", version), default, problems, "default_runtime")

    if systemd is not None:
        _apply_cgroup_driver(doc, version, systemd, problems)

    settings = spec.get("settings") or {}
    for name in sorted(settings):
        path, why = cset.setting_path(name, version)
        if why:
            problems.append("settings: %r: %s" % (name, why))
            continue
        _set(doc, path, copy.deepcopy(settings[name]), problems, "settings.%s" % name)

    _apply_registry_auth(doc, spec, version, problems, warnings)
    _strip_cri_from_disabled(doc, version)


def _apply_registry_auth(doc, spec, version, problems, warnings):
    """registry_auth (when given) owns every ``registry.configs."<host>".auth`` table of the file."""
    entries = spec.get("registry_auth")
    if entries is None:
        return
    wanted, found = ra.auth_tables([dict((k, v) for k, v in e.items() if v is not None) for e in entries])
    problems.extend(found)
    base = ra.configs_path(version)
    existing = _get(doc, base)
    to_set, drop = ra.auth_changes(_plain(existing) if existing is not None and _is_table(existing) else None, wanted)
    for host in drop:
        _delete(doc, base + (host, "auth"))
        _pop_empty(doc, base + (host,))
        warnings.append("registry_auth: the credentials for %s were removed from the file (not in registry_auth)" % host)
    for host in sorted(to_set):
        _delete(doc, base + (host, "auth"))
        _set(doc, base + (host, "auth"), to_set[host], problems, "registry_auth")
    _pop_empty(doc, base)


# ---------------------------------------------------------------------------
# semantic checks of the candidate


def check_candidate(data, version, spec):
    """Problems and warnings containerd's ``config dump`` would not catch."""
    problems = []
    warnings = []
    rpath = _runtimes_path(version)
    default = _get(data, ct.option_path("default_runtime", version))
    runtimes = _get(data, rpath) or {}
    if default is not None and default not in runtimes:
        problems.append("default_runtime: %r names no runtime handler in the resulting file" % (default,))
    for name, handler in sorted(runtimes.items()):
        if not isinstance(handler, dict):
            problems.append("runtimes: handler %r in the file is not a table" % (name,))
            continue
        if not handler.get("runtime_type"):
            warnings.append("runtimes: handler %r in the file has no runtime_type" % (name,))
    registry = _get(data, ct.option_path("config_path", version)[:-1]) or {}
    if registry.get("config_path") and registry.get("mirrors"):
        problems.append("config_path: registry mirrors and config_path are both set in the resulting file; "
                        "containerd's CRI plugin refuses that (remove registry.mirrors, use hosts.toml)")
    cni = _get(data, ct.option_path("cni_conf_dir", version)[:-1]) or {}
    if cni.get("bin_dir") and cni.get("bin_dirs"):
        problems.append("cni_bin_dir: bin_dir and bin_dirs are both set in the resulting file")
    if cni.get("bin_dirs") and not cv.bin_dirs_supported(version):
        problems.append("cni_bin_dir: bin_dirs is set but containerd %s ignores it (needs 2.1+)"
                        % cv.format_version(version))
    disabled = data.get("disabled_plugins") or []
    ids = CRI_PLUGIN_IDS_2X if version[0] >= 2 else CRI_PLUGIN_IDS_1X
    for plugin in disabled:
        if plugin in ids:
            problems.append("path: disabled_plugins still disables %s" % plugin)
    if cv.schema_version(version) >= 4:
        for section in SERVER_SECTIONS:
            moved = set(data.get(section) or {}) - set(ct.SERVER_V4_TOP_LEVEL.get(section, ()))
            if section in data and moved:
                warnings.append("path: containerd %s ignores the top-level [%s] table of a version 4 file; use the "
                                "server.%s.<key> settings (io.containerd.server.v1.* plugins)"
                                % (cv.format_version(version), section, section))
    if version[0] < 2:
        plugins = data.get("plugins") or {}
        for plugin in ("io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"):
            if plugin in plugins:
                warnings.append('path: plugins."%s" is a containerd 2.x table; containerd %s ignores it'
                                % (plugin, cv.format_version(version)))
        if data.get("imports"):
            warnings.append("path: the file imports %s; on containerd 1.x a drop-in that names the CRI plugin "
                            "replaces the whole CRI table written here" % ", ".join(map(str, data["imports"])))
    return problems, warnings


# ---------------------------------------------------------------------------


def _parse_back(text):
    try:
        return tomlkit.parse(text).unwrap()
    except (TOMLKitError, ValueError):
        return None


def merge(existing_text, spec, version, pid1_systemd=True):
    """Merge ``spec`` (module options) into ``existing_text`` for containerd ``version``."""
    result = MergeResult(config_version=cv.schema_version(version))
    if not HAS_TOMLKIT:
        result.problems.append("the tomlkit Python library is required on the controller: %s" % TOMLKIT_IMPORT_ERROR)
        return result
    if existing_text is None or not existing_text.strip():
        doc = tomlkit.document()
        doc["version"] = result.config_version
        result.file_version = None
    else:
        try:
            doc = tomlkit.parse(existing_text)
        except (TOMLKitError, ValueError) as exc:
            result.problems.append("path: the existing file is not valid TOML: %s" % exc)
            return result
        result.file_version = migrate(doc, version, result.problems, result.warnings)
        if result.problems:
            return result
    apply_spec(doc, spec, version, pid1_systemd, result.problems, result.warnings)
    if result.problems:
        return result
    intended = doc.unwrap()
    text = tomlkit.dumps(doc)
    data = _parse_back(text)
    if data is None or not same_value(data, intended):
        # tomlkit cannot always render edits inside dotted keys or inline tables faithfully:
        # never write what does not read back as intended, rewrite the file in plain table form
        text = tomlkit.dumps(_to_toml(intended))
        data = _parse_back(text)
        if data is None or not same_value(data, intended):
            result.problems.append("internal error: the merged document does not read back as intended")
            return result
        result.warnings.append("path: the file's layout (dotted keys or inline tables) could not be kept; "
                               "it is rewritten in plain table form, comments dropped")
    problems, warnings = check_candidate(data, version, spec)
    result.problems.extend(problems)
    result.warnings.extend(warnings)
    if not result.problems:
        result.text = text
        result.holds_credentials = ra.has_credentials(data)
    return result
