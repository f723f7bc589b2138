#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: containerd_registry
short_description: Write containerd registry host files (certs.d/<host>/hosts.toml) from kubespray's schema
version_added: 0.1.0
description:
  - Writes one C(hosts.toml) per registry namespace under O(config_path), from kubespray's
    C(containerd_registries_mirrors) list (O(registries)) and C(containerd_registry_auth) list (O(auth)).
  - The files are wholly owned by this module and rendered by a small TOML emitter that escapes every
    value, so hostile values cannot inject keys or tables.
  - Directory names follow containerd's lookup rules, C(host) or C(host:port) (the namespace of the image
    reference), and C(_default) (also written as V(*)) for every registry without a directory of its own.
  - C(server) defaults to the registry's real endpoint, C(https://registry-1.docker.io) for V(docker.io),
    else C(https://<prefix>); V(_default) has no server.
  - Credentials (O(auth)) become a static C(Authorization) C(Basic) header on the mirrors (and the server) of
    that registry host. containerd sends it as it is and does no token exchange for it, so it only works with a
    registry that accepts C(Basic) directly; Docker Hub, Harbor, GHCR and Quay answer with a C(Bearer)
    challenge. For those, and for kubespray's meaning of C(containerd_registry_auth) (which the
    C(kubelayer.runtime.containerd) role follows), give the credentials to
    M(kubelayer.runtime.containerd_config) O(kubelayer.runtime.containerd_config#module:registry_auth) instead.
  - A registry in O(auth) that has no entry in O(registries) gets a C(hosts.toml) of its own. Files holding
    credentials or any other header (header values are treated as secrets) are written with mode C(0600), the
    others C(0644); credential values are never printed (diff
    output shows C(********)).
  - Every directory it writes gets a marker file, C(.kubelayer-managed). With O(exclusive=true) the directories
    under O(config_path) that hold the marker and are no longer configured lose their C(hosts.toml) and marker,
    and are removed when nothing else is left in them. Directories made by hand (no marker), and files added by
    hand to a managed directory (a CA certificate), are never removed.
  - containerd reads C(hosts.toml) on every pull; no restart is needed. C(config_path) itself must be set
    in the containerd config (M(kubelayer.runtime.containerd_config) O(kubelayer.runtime.containerd_config#module:config_path)).
  - All problems of the input are reported together; nothing is written when there is any.
author: kubelayer.runtime developers (@kubelayer)
extends_documentation_fragment:
  - kubelayer.runtime.attributes
options:
  registries:
    description:
      - The registries, kubespray's C(containerd_registries_mirrors).
    type: list
    elements: dict
    default: []
    suboptions:
      prefix:
        description:
          - The registry namespace, C(host) or C(host:port) (for example V(docker.io), V(registry.local:5000)),
            or V(_default) / V(*) for all other registries.
          - Must not contain C(/), quotes, brackets, newlines or C(..).
        type: str
        required: true
      server:
        description:
          - The upstream registry tried after all mirrors, C(scheme://host[:port][/path]) (no scheme means
            C(https://)).
          - Defaults to the registry's real endpoint (C(https://registry-1.docker.io) for V(docker.io)).
        type: str
      mirrors:
        description:
          - Hosts tried in this order before O(registries[].server).
        type: list
        elements: dict
        default: []
        suboptions:
          host:
            description:
              - The mirror, C(scheme://host[:port][/path]); no scheme means C(https://).
            type: str
            required: true
          capabilities:
            description:
              - What the host may be used for (V(pull), V(resolve), V(push), V(referrers)).
            type: list
            elements: str
            default: [pull, resolve]
          skip_verify:
            description:
              - Skip TLS verification of the host.
            type: bool
            default: false
          override_path:
            description:
              - The host path is the API root (no C(/v2) appended).
            type: bool
            default: false
          ca:
            description:
              - CA certificate files (absolute paths).
            type: list
            elements: str
          client:
            description:
              - Client certificates, each an absolute path or a C([certificate, key]) pair of absolute paths.
            type: list
            elements: raw
          header:
            description:
              - Extra HTTP headers, name to a string or a list of strings. Values are not logged.
            type: dict
          dial_timeout:
            description:
              - Connection timeout as a Go duration (for example V(1s)); honoured by containerd 2.1 and later.
            type: str
  auth:
    description:
      - Registry credentials as a static C(Authorization) C(Basic) header (registries that accept C(Basic)
        directly only; see the description). Each item needs O(auth[].registry) and either O(auth[].username)
        and O(auth[].password), or O(auth[].auth).
    type: list
    elements: dict
    default: []
    suboptions:
      registry:
        description:
          - The registry host (C(host) or C(host:port), a leading C(https://) is ignored) whose mirror or
            server entries get the credentials.
        type: str
        required: true
      username:
        description:
          - User name.
        type: str
      password:
        description:
          - Password. Never logged.
        type: str
      auth:
        description:
          - Base64 of C(username:password), instead of O(auth[].username) and O(auth[].password). Never logged.
        type: str
  config_path:
    description:
      - The registry host configuration directory (containerd's C(config_path)). Absolute.
    type: path
    default: /etc/containerd/certs.d
  exclusive:
    description:
      - Remove the directories under O(config_path) that this module wrote (they hold its marker) and that are no
        longer in O(registries) (or O(auth)). Directories without the marker are left alone.
    type: bool
    default: false
notes:
  - Relative certificate paths are refused (containerd resolves them relative to the file, which is easy to get wrong).
seealso:
  - module: kubelayer.runtime.containerd_config
  - name: containerd registry host configuration
    description: The hosts.toml reference.
    link: https://github.com/containerd/containerd/blob/main/docs/hosts.md
"""

EXAMPLES = r"""
- name: Registry mirrors from a kubespray inventory (credentials go to containerd_config's registry_auth)
  kubelayer.runtime.containerd_registry:
    registries: "{{ containerd_registries_mirrors }}"
    config_path: /etc/containerd/certs.d
    exclusive: true

- name: docker.io through a private mirror that accepts Basic directly, as a static header
  kubelayer.runtime.containerd_registry:
    registries:
      - prefix: docker.io
        mirrors:
          - host: https://mirror.example.com:5000
            capabilities: [pull, resolve]
    auth:
      - registry: mirror.example.com:5000
        username: puller
        password: "{{ vault_mirror_password }}"
"""

RETURN = r"""
config_path:
  description: The registry host configuration directory.
  returned: always
  type: str
  sample: /etc/containerd/certs.d
hosts:
  description: One entry per written C(hosts.toml).
  returned: always
  type: list
  elements: dict
  contains:
    prefix:
      description: The registry prefix as given.
      type: str
      sample: docker.io
    dir:
      description: The directory name under O(config_path).
      type: str
      sample: docker.io
    path:
      description: The C(hosts.toml) file.
      type: str
      sample: /etc/containerd/certs.d/docker.io/hosts.toml
    mode:
      description: The file mode (C(0600) when it holds credentials or any header).
      type: str
      sample: "0644"
    changed:
      description: Whether this file was (or would be) written.
      type: bool
      sample: true
removed:
  description: Directories (or, where files were added by hand, the managed files in them) removed (or that would
    be removed) by O(exclusive).
  returned: always
  type: list
  elements: str
  sample: [/etc/containerd/certs.d/old.example.com]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import files as host_files
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail, fail_if
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import registry


def _plan_files(module, config_path, plans):
    """Record every hosts.toml (checked before the first write); returns (host files, hosts, diffs)."""
    files = host_files.HostFiles(module.check_mode, prefix=".hosts.toml.")
    hosts, diffs = [], []
    for item in plans:
        path = os.path.join(config_path, item["dir"], "hosts.toml")
        content = registry.render(item["document"])
        mode = 0o600 if item["credentials"] else 0o644
        change = files.file("config_path", path, content.encode("utf-8"), mode, root=config_path)
        if change is not None:
            before = change.before.decode("utf-8", "replace") if change.before is not None else None
            diffs.append({
                "before_header": path if before is not None else "%s (absent)" % path,
                "after_header": path,
                "before": registry.redact_text(before or ""),
                "after": registry.render(registry.redact(item["document"])),
            })
        # the marker: exclusive mode removes only directories that carry it (never one made by hand)
        marker = files.file("config_path", os.path.join(config_path, item["dir"], registry.MARKER),
                            registry.MARKER_TEXT.encode("utf-8"), 0o644, root=config_path)
        hosts.append({"prefix": item["prefix"], "dir": item["dir"], "path": path, "mode": "%04o" % mode,
                      "changed": change is not None or marker is not None})
    return files, hosts, diffs


def _remove_stale(module, config_path, plans, diffs):
    """Exclusive mode: the managed (marked) directories no longer configured lose the files this module wrote;
    the directory goes too when nothing else is in it. Links and unmarked directories are never touched."""
    if not os.path.isdir(config_path):
        return []
    existing = [name for name in os.listdir(config_path)
                if os.path.isdir(os.path.join(config_path, name)) and not os.path.islink(os.path.join(config_path, name))]
    marked = [name for name in existing if os.path.isfile(os.path.join(config_path, name, registry.MARKER))]
    removed = []
    for name in registry.stale_dirs(existing, [item["dir"] for item in plans], marked):
        target = os.path.join(config_path, name)
        names = os.listdir(target)
        mine = registry.removable_files(names)
        whole = len(mine) == len(names)
        removed.append(target if whole else os.path.join(target, "hosts.toml"))
        diffs.append({"before_header": target, "after_header": "%s (removed)" % target,
                      "before": "".join(n + "\n" for n in sorted(names)),
                      "after": "".join(n + "\n" for n in sorted(set(names) - set(mine)))})
        if module.check_mode:
            continue
        try:
            for filename in mine:
                os.unlink(os.path.join(target, filename))
            if whole:
                os.rmdir(target)
        except (IOError, OSError) as exc:
            fail(module, "containerd_registry", ["config_path: cannot remove %s: %s" % (target, to_native(exc))])
    return removed


MIRROR_SPEC = dict(
    host=dict(type="str", required=True),
    capabilities=dict(type="list", elements="str", default=["pull", "resolve"]),
    skip_verify=dict(type="bool", default=False),
    override_path=dict(type="bool", default=False),
    ca=dict(type="list", elements="str"),
    client=dict(type="list", elements="raw"),
    header=dict(type="dict", no_log=True),
    dial_timeout=dict(type="str"),
)

ARGUMENT_SPEC = dict(
    registries=dict(type="list", elements="dict", default=[], options=dict(
        prefix=dict(type="str", required=True),
        server=dict(type="str"),
        mirrors=dict(type="list", elements="dict", default=[], options=MIRROR_SPEC),
    )),
    auth=dict(type="list", elements="dict", default=[], no_log=False, options=dict(
        registry=dict(type="str", required=True),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        auth=dict(type="str", no_log=True),
    )),
    config_path=dict(type="path", default="/etc/containerd/certs.d"),
    exclusive=dict(type="bool", default=False),
)


def _kubespray_shape(params):
    """The registries and auth lists without the argument spec's None placeholders (kubespray's shape)."""
    registries = []
    for reg in params["registries"]:
        item = dict((k, v) for k, v in reg.items() if v is not None)
        item["mirrors"] = [dict((k, v) for k, v in m.items() if v is not None and not (k == "override_path" and v is False))
                           for m in reg.get("mirrors") or []]
        registries.append(item)
    auth = [dict((k, v) for k, v in entry.items() if v is not None) for entry in params["auth"]]
    return registries, auth


def _plan(module):
    """Check every input (one failure listing every problem, before any write); returns (config_path, plans)."""
    problems = []
    config_path = validate.check_path("config_path", module.params["config_path"], problems, directory=True)
    registries, auth = _kubespray_shape(module.params)
    plans = []
    try:
        plans = registry.plan(registries, auth, option="registries", auth_option="auth")
    except registry.RegistryError as exc:
        problems.extend(exc.errors)
    fail_if(module, "containerd_registry", problems)
    return config_path, plans


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    config_path, plans = _plan(module)

    files, hosts, diffs = _plan_files(module, config_path, plans)
    host_files.commit_or_fail(module, "containerd_registry", files)
    removed = _remove_stale(module, config_path, plans, diffs) if module.params["exclusive"] else []

    result = dict(changed=bool(files.changes) or bool(removed), config_path=config_path, hosts=hosts, removed=removed)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
