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

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_spec as cs

# version 1 short plugin names -> fully qualified IDs (containerd's v1 migration)
V1_PLUGIN_IDS = {
    "cri": "io.containerd.grpc.v1.cri",
    "cgroups": "io.containerd.monitor.v1.cgroups",
    "linux": "io.containerd.runtime.v1.linux",
    "scheduler": "io.containerd.gc.v1.scheduler",
    "bolt": "io.containerd.metadata.v1.bolt",
    "opt": "io.containerd.internal.v1.opt",
    "restart": "io.containerd.internal.v1.restart",
    "diff-service": "io.containerd.service.v1.diff-service",
    "tasks-service": "io.containerd.service.v1.tasks-service",
    "task": "io.containerd.runtime.v2.task",
    "nri": "io.containerd.nri.v1.nri",
    "overlayfs": "io.containerd.snapshotter.v1.overlayfs",
    "native": "io.containerd.snapshotter.v1.native",
    "btrfs": "io.containerd.snapshotter.v1.btrfs",
    "zfs": "io.containerd.snapshotter.v1.zfs",
    "devmapper": "io.containerd.snapshotter.v1.devmapper",
    "aufs": "io.containerd.snapshotter.v1.aufs",
    "blockfile": "io.containerd.snapshotter.v1.blockfile",
}

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
                            % (where, _dotted(path), _dotted(path[:i + 1]), cs.type_name(_plain(child))))
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
                            % (where, _dotted(path), cs.type_name(_plain(parent[key]))))
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
        if cs._SEGMENT.match(key):
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


def _migrate_v1(doc, problems, warnings):
    plugins = _get(doc, ("plugins",))
    if plugins is not None and _is_table(plugins):
        for name in list(plugins.keys()):
            if "." in name:
                continue
            full = V1_PLUGIN_IDS.get(name)
            if full is None:
                problems.append("path: cannot migrate version 1 plugin table plugins.%s: unknown short plugin name" % name)
                continue
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
                if v not in V1_PLUGIN_IDS:
                    problems.append("path: cannot migrate %s entry %r: unknown short plugin name" % (key, v))
                    continue
                v = V1_PLUGIN_IDS[v]
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


def _migrate_v2_to_v3(doc, version, problems, warnings):
    cri = _get(doc, cs.CRI_V2)
    if cri is not None and _is_table(cri):
        base = cs.CRI_V2
        containerd = _get(doc, base + ("containerd",))
        if containerd is not None and _is_table(containerd):
            for key in list(containerd.keys()):
                src = base + ("containerd", key)
                if key in cs.V2_IMAGE_KEYS_UNDER_CONTAINERD:
                    _move(doc, src, cs.CRI_IMAGES + (key,), problems, warnings)
                elif key in ("default_runtime", "untrusted_workload_runtime"):
                    if not _trivial(containerd[key]):
                        warnings.append("migration: containerd.%s was removed in containerd 2.0 and is dropped "
                                        "(define the runtime under runtimes instead)" % key)
                    _delete(doc, src)
                elif key == "runtimes":
                    _migrate_runtimes_v3(doc, src, warnings)
                    _move(doc, src, cs.CRI_RUNTIME + ("containerd", "runtimes"), problems, warnings)
                else:
                    _move(doc, src, cs.CRI_RUNTIME + ("containerd", key), problems, warnings)
            _pop_empty(doc, base + ("containerd",))
        cri = _get(doc, base)
        for key in list(cri.keys()):
            src = base + (key,)
            if key == "sandbox_image":
                _move(doc, src, cs.CRI_IMAGES + ("pinned_images", "sandbox"), problems, warnings)
            elif key == "registry":
                configs = _get(doc, src + ("configs",))
                if configs is not None and _is_table(configs):
                    for host in list(configs.keys()):
                        if _is_table(configs[host]) and "tls" in configs[host]:
                            if not _trivial(configs[host]["tls"]):
                                warnings.append("migration: registry.configs.\"%s\".tls is not supported by "
                                                "containerd 2.x and is dropped; configure TLS in hosts.toml "
                                                "under config_path" % host)
                            del configs[host]["tls"]
                        _pop_empty(doc, src + ("configs", host))
                    _pop_empty(doc, src + ("configs",))
                _move(doc, src, cs.CRI_IMAGES + ("registry",), problems, warnings)
            elif key == "cni":
                _move(doc, src, cs.CRI_RUNTIME + ("cni",), problems, warnings)
                cni = _get(doc, cs.CRI_RUNTIME + ("cni",))
                if cs.bin_dirs_supported(version) and cni is not None and "bin_dir" in cni:
                    bin_dir = _plain(cni["bin_dir"])
                    del cni["bin_dir"]
                    if "bin_dirs" not in cni and bin_dir:
                        cni["bin_dirs"] = [bin_dir]
            elif key in cs.KNOWN_STREAMING_KEYS:
                continue
            elif key in cs.KNOWN_IMAGE_KEYS:
                _move(doc, src, cs.CRI_IMAGES + (key,), problems, warnings)
            elif key in ("systemd_cgroup", "disable_cgroup"):
                if not _trivial(cri[key]):
                    warnings.append("migration: %s was removed in containerd 2.0 and is dropped%s"
                                    % (key, " (use cgroup_driver)" if key == "systemd_cgroup" else ""))
                _delete(doc, src)
            else:
                _move(doc, src, cs.CRI_RUNTIME + (key,), problems, warnings)
        _pop_empty(doc, base)
    legacy = _get(doc, ("plugins", "io.containerd.runtime.v1.linux"))
    if legacy is not None:
        if not _trivial(legacy):
            warnings.append('migration: plugins."io.containerd.runtime.v1.linux" was removed in containerd 2.0 '
                            'and is dropped')
        _delete(doc, ("plugins", "io.containerd.runtime.v1.linux"))
    doc["version"] = 3


def _migrate_runtimes_v3(doc, path, warnings):
    runtimes = _get(doc, path)
    if runtimes is None or not _is_table(runtimes):
        return
    for name in list(runtimes.keys()):
        handler = runtimes[name]
        if not _is_table(handler):
            continue
        if "runtime_engine" in handler:
            if not _trivial(handler["runtime_engine"]):
                warnings.append("migration: runtimes.%s.runtime_engine was removed in containerd 2.0 and is dropped"
                                % name)
            del handler["runtime_engine"]
        if "runtime_root" in handler:
            root = _plain(handler["runtime_root"])
            del handler["runtime_root"]
            if root:
                if "options" not in handler:
                    handler["options"] = tomlkit.table()
                if "Root" not in handler["options"]:
                    handler["options"]["Root"] = root
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


def _migrate_v3_to_v4(doc, problems, warnings):
    sections = {}
    for section in SERVER_SECTIONS:
        item = _get(doc, (section,))
        if item is not None:
            if not _is_table(item):
                problems.append("path: top-level %s must be a table" % section)
                continue
            sections[section] = _plain(item)
    grpc = sections.get("grpc", {})
    ttrpc = dict(sections.get("ttrpc", {}))
    # before version 4 an unset ttrpc address follows the grpc one
    if not ttrpc.get("address") and grpc.get("address") and isinstance(grpc.get("address"), str):
        ttrpc["address"] = grpc["address"] + ".ttrpc"
        for k in ("uid", "gid"):
            if not ttrpc.get(k) and grpc.get(k):
                ttrpc[k] = grpc[k]
        sections["ttrpc"] = ttrpc
    targets = {}
    for section, values in sections.items():
        for key, value in values.items():
            where = cs.SERVER_V4[section].get(key)
            if where is None:
                warnings.append("migration: %s.%s has no version 4 equivalent and is dropped" % (section, key))
                continue
            if _trivial(value):
                continue
            targets.setdefault(where[0], {})[where[1]] = value
    for section in SERVER_SECTIONS:
        _delete(doc, (section,))
    for plugin in sorted(targets):
        if _get(doc, ("plugins", plugin)) is not None:
            # containerd keeps an existing server plugin section as it is
            continue
        _set(doc, ("plugins", plugin), targets[plugin], problems, "path")
    doc["version"] = 4


def migrate(doc, version, problems, warnings):
    """Bring ``doc`` to the config version of containerd ``version``; returns the file's version."""
    target = cs.schema_version(version)
    found = file_version(doc)
    if found is None:
        problems.append("path: the existing file's version = %r is not an integer" % (_plain(doc["version"]),))
        return None
    if found > target:
        problems.append("path: the existing file is config version %d, newer than containerd %s reads (version %d); "
                        "refusing to downgrade it (set containerd_version to the installed release, or remove the file)"
                        % (found, cs.format_version(version), target))
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
    return cs.option_path("runtimes", version)


def _apply_runtimes(doc, spec, version, systemd, problems):
    runtimes = spec.get("runtimes") or {}
    base = _runtimes_path(version)
    for name in sorted(runtimes):
        handler, options = cs.effective_runtime(name, runtimes[name], systemd)
        where = "runtimes.%s" % name
        hpath = base + (name,)
        _set(doc, hpath + ("runtime_type",), handler.pop("runtime_type"), problems, where)
        for key, value in handler.items():
            real = cs.handler_key(key, version)
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
        if not _is_table(handler) or _plain(handler.get("runtime_type")) != cs.RUNC_TYPE:
            continue
        _set(doc, _runtimes_path(version) + (name, "options", "SystemdCgroup"), systemd, problems, "cgroup_driver")


def _apply_cni_bin(doc, dirs, version, problems):
    base = cs.option_path("cni_conf_dir", version)[:-1]
    if cs.bin_dirs_supported(version):
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
            _set(doc, cs.option_path(option, version), value, problems, option)
    bin_dir = spec.get("cni_bin_dir")
    if bin_dir:
        _apply_cni_bin(doc, bin_dir if isinstance(bin_dir, list) else [bin_dir], version, problems)

    _apply_runtimes(doc, spec, version, systemd, problems)

    default = spec.get("default_runtime") or "runc"
    runtimes = _runtime_table(doc, version)
    if default not in runtimes:
        if default == "runc":
            handler, options = cs.effective_runtime("runc", {"kind": "runc"}, systemd)
            _set(doc, _runtimes_path(version) + ("runc",), {"runtime_type": handler["runtime_type"]}, problems,
                 "default_runtime")
            if options:
                _set(doc, _runtimes_path(version) + ("runc", "options"), options, problems, "default_runtime")
        else:
            problems.append("default_runtime: %r is defined neither in runtimes nor in the existing file" % default)
    _set(doc, cs.option_path("default_runtime", version), default, problems, "default_runtime")

    if systemd is not None:
        _apply_cgroup_driver(doc, version, systemd, problems)

    settings = spec.get("settings") or {}
    for name in sorted(settings):
        path, why = cs.setting_path(name, version)
        if why:
            problems.append("settings: %r: %s" % (name, why))
            continue
        _set(doc, path, copy.deepcopy(settings[name]), problems, "settings.%s" % name)

    _strip_cri_from_disabled(doc, version)


# ---------------------------------------------------------------------------
# semantic checks of the candidate


def check_candidate(data, version, spec):
    """Problems and warnings containerd's ``config dump`` would not catch."""
    problems = []
    warnings = []
    rpath = _runtimes_path(version)
    default = _get(data, cs.option_path("default_runtime", version))
    runtimes = _get(data, rpath) or {}
    if default is not None and default not in runtimes:
        problems.append("default_runtime: %r names no runtime handler in the resulting file" % (default,))
    for name, handler in sorted(runtimes.items()):
        if not isinstance(handler, dict):
            problems.append("runtimes: handler %r in the file is not a table" % (name,))
            continue
        if not handler.get("runtime_type"):
            warnings.append("runtimes: handler %r in the file has no runtime_type" % (name,))
    registry = _get(data, cs.option_path("config_path", version)[:-1]) or {}
    if registry.get("config_path") and registry.get("mirrors"):
        problems.append("config_path: registry mirrors and config_path are both set in the resulting file; "
                        "containerd's CRI plugin refuses that (remove registry.mirrors, use hosts.toml)")
    cni = _get(data, cs.option_path("cni_conf_dir", version)[:-1]) or {}
    if cni.get("bin_dir") and cni.get("bin_dirs"):
        problems.append("cni_bin_dir: bin_dir and bin_dirs are both set in the resulting file")
    if cni.get("bin_dirs") and not cs.bin_dirs_supported(version):
        problems.append("cni_bin_dir: bin_dirs is set but containerd %s ignores it (needs 2.1+)"
                        % cs.format_version(version))
    disabled = data.get("disabled_plugins") or []
    ids = CRI_PLUGIN_IDS_2X if version[0] >= 2 else CRI_PLUGIN_IDS_1X
    for plugin in disabled:
        if plugin in ids:
            problems.append("path: disabled_plugins still disables %s" % plugin)
    if cs.schema_version(version) >= 4:
        for section in SERVER_SECTIONS:
            if section in data:
                warnings.append("path: containerd %s ignores the top-level [%s] table of a version 4 file; use the "
                                "server.%s.<key> settings (io.containerd.server.v1.* plugins)"
                                % (cs.format_version(version), section, section))
    if version[0] < 2:
        plugins = data.get("plugins") or {}
        for plugin in ("io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"):
            if plugin in plugins:
                warnings.append('path: plugins."%s" is a containerd 2.x table; containerd %s ignores it'
                                % (plugin, cs.format_version(version)))
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
    result = MergeResult(config_version=cs.schema_version(version))
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
    return result
