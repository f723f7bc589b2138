# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge a version-neutral desired state into a containerd config file (tomlkit).

Pure logic without Ansible imports. tomlkit is a controller-side library: this file is
imported by the action plugin; nodes never need it (guarded import).

``merge(existing_text, spec, version, pid1_systemd)`` returns a ``MergeResult`` with the
candidate text, the config ``version`` written, problems (nothing may be written when
there are any) and warnings. Keys and comments the desired state does not manage
survive; a file in an older config version is migrated first (containerd_migrate.py; comments
inside moved CRI tables move with them). Document editing by key path: toml_doc.py.
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

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_migrate as cmig
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_runtimes as cr
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_settings as cset
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_versions as cv
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import registry_auth as ra
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.toml_doc import (
    delete as _delete, get as _get, is_table as _is_table, plain as _plain, pop_empty as _pop_empty, same_value,
    set_value as _set, to_toml as _to_toml)

CRI_PLUGIN_IDS_1X = ("cri", "io.containerd.grpc.v1.cri")
CRI_PLUGIN_IDS_2X = ("cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime")


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
    if drop:  # an empty configs table the file had before (containerd's default config has one) stays
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
        for section in cmig.SERVER_SECTIONS:
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
        result.file_version = cmig.migrate(doc, version, result.problems, result.warnings)
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
