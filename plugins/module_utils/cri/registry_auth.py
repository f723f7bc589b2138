# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry credentials in containerd's config file: check kubespray's ``containerd_registry_auth``, place it
in the CRI registry configs, and redact it from any text that is shown.

containerd's CRI plugin reads ``registry.configs."<host>".auth`` (username/password, auth, identitytoken) and hands
it to its docker authorizer, which answers the registry's challenge: ``Basic`` directly, ``Bearer`` by fetching a
token from the realm first (Docker Hub, Harbor, GHCR, Quay). A static ``Authorization`` header in hosts.toml gets no
such exchange. Where the table lives (containerd 1.6.39 ``pkg/cri/config``, 2.1.9/2.3.4
``internal/cri/config/config.go``):

- config version 2 (1.6, 1.7): ``[plugins."io.containerd.grpc.v1.cri".registry.configs."<host>".auth]``
- version 3 (2.0-2.2) and 4 (2.3+): ``[plugins."io.containerd.cri.v1.images".registry.configs."<host>".auth]``

Pure logic, no Ansible imports (python 3.8 syntax); tomlkit is needed by ``redact_text`` only (controller side,
guarded import).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError
    HAS_TOMLKIT = True
except ImportError:  # pragma: no cover - nodes never redact
    HAS_TOMLKIT = False

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.registry import basic_auth_problem, registry_host

OPTION = "registry_auth"
KEYS = ("registry", "username", "password", "auth", "identitytoken")
SECRET_KEYS = ("username", "password", "auth", "identitytoken")
REDACTED = "********"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def configs_path(version):
    """The ``registry.configs`` table of a release's config (tuple of keys)."""
    return ct.option_path("config_path", version)[:-1] + ("configs",)


def _text_problem(entry, key, where):
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        return "%s.%s: must be a non-empty string" % (where, key)
    if _CONTROL.search(value):
        return "%s.%s: must not contain control characters (newline, tab, NUL)" % (where, key)
    return None


def _credentials(entry, where, problems):
    """The auth table of one item: username + password, auth, or identitytoken (exactly one form)."""
    found = [p for p in (_text_problem(entry, key, where) for key in SECRET_KEYS) if p]
    if found:
        problems.extend(found)
        return None
    forms = [name for name, present in (
        ("username/password", entry.get("username") is not None or entry.get("password") is not None),
        ("auth", entry.get("auth") is not None), ("identitytoken", entry.get("identitytoken") is not None)) if present]
    if len(forms) != 1:
        problems.append("%s: give exactly one of username and password, auth, or identitytoken (got %s)"
                        % (where, ", ".join(forms) or "none"))
        return None
    if forms[0] == "username/password":
        if entry.get("username") is None or entry.get("password") is None:
            problems.append("%s: username and password go together" % where)
            return None
        return {"username": entry["username"], "password": entry["password"]}
    if forms[0] == "auth":
        problem = basic_auth_problem(entry["auth"], where)
        if problem:
            problems.append(problem)
            return None
        return {"auth": entry["auth"].strip()}
    return {"identitytoken": entry["identitytoken"]}


def auth_tables(entries, option=OPTION):
    """kubespray's list as ``(host -> auth table, problems)``. Messages never contain a credential value."""
    problems = []
    if entries is None:
        return {}, problems
    if not isinstance(entries, list):
        return {}, ["%s: must be a list of {registry, username, password} or {registry, auth} items" % option]
    tables, seen = {}, {}
    for idx, entry in enumerate(entries):
        where = "%s[%d]" % (option, idx)
        if not isinstance(entry, dict):
            problems.append("%s: must be a dict" % where)
            continue
        for key in sorted(set(entry) - set(KEYS), key=str):
            problems.append("%s: unknown key %r (allowed: %s)" % (where, key, ", ".join(KEYS)))
        host = registry_host(entry.get("registry"), where, problems)
        table = _credentials(entry, where, problems)
        if host is None or table is None:
            continue
        if host in seen:
            problems.append("%s.registry: %s is listed twice (also %s)" % (where, host, seen[host]))
            continue
        seen[host] = where
        tables[host] = table
    return tables, problems


def auth_changes(existing_configs, wanted):
    """What to do with the file's ``registry.configs`` (plain dict or None) for the wanted tables.

    Returns ``(set, drop)``: ``set`` maps host -> table to write (whole ``auth`` table replaced), ``drop`` lists the
    hosts whose ``auth`` table is removed (not in ``wanted``: registry_auth is authoritative, as kubespray's
    rendered file is)."""
    existing = existing_configs if isinstance(existing_configs, dict) else {}
    current = dict((host, value.get("auth")) for host, value in existing.items()
                   if isinstance(value, dict) and value.get("auth") is not None)
    to_set = dict((host, table) for host, table in wanted.items() if current.get(host) != table)
    drop = sorted(host for host in current if host not in wanted)
    return to_set, drop


# where a config file can hold registry tables: version 1's short name, the 1.x CRI plugin, the 2.x images plugin
REGISTRY_PLUGINS = (("plugins", "cri"), ct.CRI_V2, ct.CRI_IMAGES)


def has_credentials(data):
    """True when a parsed config (plain dict) holds registry credentials in any CRI plugin table."""
    for plugin in REGISTRY_PLUGINS:
        registry = _plain_get(data, plugin + ("registry",))
        if not isinstance(registry, dict):
            continue
        if registry.get("auths"):
            return True
        for value in (registry.get("configs") or {}).values():
            if isinstance(value, dict) and value.get("auth"):
                return True
    return False


def _plain_get(data, path):
    node = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _redact_table(table):
    for key in list(table.keys()):
        value = table[key]
        if isinstance(value, dict):
            _redact_table(value)
        else:
            table[key] = REDACTED


def _redact_registry(registry):
    for host_table in (registry.get("configs") or {}).values():
        if isinstance(host_table, dict) and isinstance(host_table.get("auth"), dict):
            _redact_table(host_table["auth"])
    if isinstance(registry.get("auths"), dict):
        _redact_table(registry["auths"])
    headers = registry.get("headers")
    if isinstance(headers, dict):
        for name in list(headers.keys()):
            if name.lower() in ("authorization", "proxy-authorization"):
                headers[name] = [REDACTED]


def redact_text(text):
    """``text`` (a containerd config) with every registry credential replaced by ``********``, layout kept.
    Text that does not parse as TOML is not shown at all."""
    if not text:
        return text or ""
    if not HAS_TOMLKIT:
        return "(not shown: tomlkit is needed to hide registry credentials)\n"
    try:
        doc = tomlkit.parse(text)
    except (TOMLKitError, ValueError):
        return "(not shown: not valid TOML, and it may hold registry credentials)\n"
    for plugin in REGISTRY_PLUGINS:
        registry = _plain_get(doc, plugin + ("registry",))
        if isinstance(registry, dict):
            _redact_registry(registry)
    return tomlkit.dumps(doc)
