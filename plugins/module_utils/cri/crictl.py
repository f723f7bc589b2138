# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for cri_info: crictl command lines and output parsing, result shaping.

stdlib only (runs on nodes, python 3.8+). Both ways of asking the runtime,
crictl and the built-in gRPC client, are normalised to the same result shape.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_VERSION_KEYS = {
    "version": "version",
    "runtimename": "runtime_name",
    "runtimeversion": "runtime_version",
    "runtimeapiversion": "runtime_api_version",
}


class CrictlOutputError(ValueError):
    """crictl printed something we cannot read."""


def crictl_command(crictl, endpoint, timeout, *args):
    """argv for one crictl call against ``endpoint`` (no config file lookups)."""
    return [crictl, "--runtime-endpoint", endpoint, "--timeout", "%ds" % int(timeout)] + list(args)


def parse_version(text):
    """``crictl version`` output, either ``Key: value`` lines or ``-o json``."""
    text = text.strip()
    out = {"version": "", "runtime_name": "", "runtime_version": "", "runtime_api_version": ""}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CrictlOutputError("crictl version -o json: %s" % exc)
        for key, value in data.items():
            name = _VERSION_KEYS.get(key.lower().replace("_", ""))
            if name:
                out[name] = str(value)
        return out
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        name = _VERSION_KEYS.get(key.strip().lower().replace("_", ""))
        if sep and name:
            out[name] = value.strip()
    if not out["runtime_name"]:
        raise CrictlOutputError("crictl version printed no RuntimeName: %r" % text[:200])
    return out


def parse_info(text):
    """``crictl info`` JSON -> (conditions, runtime_handlers, info dict)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CrictlOutputError("crictl info did not print JSON: %s" % exc)
    if not isinstance(data, dict) or not isinstance(data.get("status"), dict):
        raise CrictlOutputError("crictl info JSON has no 'status' object")
    conditions = []
    for cond in data["status"].get("conditions") or []:
        conditions.append({
            "type": cond.get("type", ""),
            "status": bool(cond.get("status", False)),
            "reason": cond.get("reason", "") or "",
            "message": cond.get("message", "") or "",
        })
    handlers = []
    for handler in data.get("runtimeHandlers") or []:
        features = handler.get("features") or {}
        handlers.append({
            "name": handler.get("name", ""),
            "features": {
                "recursive_read_only_mounts": bool(features.get("recursive_read_only_mounts", features.get("recursiveReadOnlyMounts", False))),
                "user_namespaces": bool(features.get("user_namespaces", features.get("userNamespaces", False))),
            },
        })
    info = dict((k, v) for k, v in data.items() if k not in ("status", "runtimeHandlers", "features"))
    return conditions, handlers, info


def semver(version):
    """'1.6.20~ds1' -> '1.6.20', 'v2.1.4' -> '2.1.4', '' when there is none."""
    match = _SEMVER.search(version or "")
    return ".".join(match.groups()) if match else ""


def version_matches(installed, wanted):
    """True when ``wanted`` (e.g. '1.7', '2.1.4', '') matches the installed version."""
    if not wanted:
        return bool(installed)
    have = semver(installed).split(".")
    want = [p for p in wanted.lstrip("v").split(".") if p]
    return bool(have[0]) and have[:len(want)] == want


def condition(conditions, name):
    for cond in conditions:
        if cond.get("type") == name:
            return cond
    return None


def shape_result(version, conditions, handlers, info):
    """The module's return values (the same for crictl and gRPC)."""
    runtime = condition(conditions, "RuntimeReady") or {}
    network = condition(conditions, "NetworkReady") or {}
    return {
        "runtime_name": version.get("runtime_name", ""),
        "runtime_version": version.get("runtime_version", ""),
        "runtime_semver": semver(version.get("runtime_version", "")),
        "runtime_api_version": version.get("runtime_api_version", ""),
        "version": version.get("version", ""),
        "conditions": conditions,
        "runtime_ready": bool(runtime.get("status", False)),
        "runtime_ready_reason": " ".join(x for x in (runtime.get("reason", ""), runtime.get("message", "")) if x),
        "network_ready": bool(network.get("status", False)),
        "network_ready_reason": " ".join(x for x in (network.get("reason", ""), network.get("message", "")) if x),
        "runtime_handlers": [h.get("name", "") for h in handlers],
        "config": info.get("config") if isinstance(info.get("config"), dict) else {},
        "info": info,
    }


def parse_crictl_yaml(text):
    """The flat ``key: value`` file /etc/crictl.yaml (no YAML library on nodes)."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].rstrip()
        if not line.strip() or line.startswith((" ", "\t", "-")):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif value in ("true", "false"):
            value = value == "true"
        elif value.isdigit():
            value = int(value)
        out[key.strip()] = value
    return out
