# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``runtime_summary``: the end-of-run table, built from what the roles registered on each host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: runtime_summary
short_description: Summarise the runtime layer of every node after a run
version_added: 0.1.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - Builds the end-of-run summary printed by C(kubelayer.runtime.site) from the results the roles registered on
    each host - one row per node (runtime and version, config version, RuntimeReady, pod subnet, MTU, storage
    prerequisites) followed by the network plan, the storage plan and where cluster manifests went.
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts to list, for example C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  network:
    description: The Canal plan (the C(plan) returned by M(kubelayer.runtime.canal_plan)).
    type: dict
  storage:
    description: The storage plan summary (C(summary) returned by M(kubelayer.runtime.csi_plan)).
    type: dict
  outputs:
    description: Where cluster-side manifests were rendered or applied.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Print the run summary
  ansible.builtin.debug:
    msg: "{{ hostvars | kubelayer.runtime.runtime_summary(ansible_play_hosts_all, network=canal_plan) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The summary, lines separated by newlines (the default callback prints it as a block).
  type: str
"""

import os

from ansible_collections.kubelayer.runtime.plugins.module_utils._common.mappings import get as _get
from ansible_collections.kubelayer.runtime.plugins.module_utils.summary import render_summary


def _subnets(value):
    if isinstance(value, dict):
        found = []
        for key in ("ipv4", "ipv6", "v4", "v6"):
            if value.get(key):
                found.append(value[key])
        if not found:
            found = [v for v in value.values() if isinstance(v, str)]
        return found
    return value


def _storage(node):
    if not isinstance(node, dict) or not node:
        return None
    if node.get("failed"):
        return "FAILED: %s" % node.get("msg", "")
    errors = node.get("errors") or []
    if errors:
        return "problems: %s" % "; ".join(str(e) for e in errors)
    missing = node.get("packages_missing") or []
    if missing and not node.get("changed"):
        return "missing packages: %s" % ", ".join(missing)
    done = sorted({str(p) for p in (node.get("packages") or [])})
    return "ok" + (" (packages: %s)" % ", ".join(done) if done else "")


def node_rows(hostvars, hosts, network=None):
    rows = []
    for host in hosts:
        hv = hostvars.get(host) or {}
        cri = hv.get("_kubelayer_cri") or hv.get("_containerd_probe") or {}
        cfg = hv.get("containerd_config_result") or {}
        runtime = None
        if cri.get("runtime_name"):
            runtime = "%s %s" % (cri.get("runtime_name"), cri.get("runtime_version") or "")
        config_version = cfg.get("config_version")
        rows.append({
            "node": host,
            "runtime": runtime,
            "config": ("v%s" % config_version) if config_version else None,
            "ready": cri.get("runtime_ready") if cri else None,
            "pod_subnet": _subnets(_get(network, "nodes", host)),
            "mtu": _get(network, "mtu"),
            "storage": _storage(hv.get("_csi_node")),
        })
    return rows


def runtime_summary(hostvars, hosts, network=None, storage=None, outputs=None):
    outputs = [os.path.normpath(str(o)) for o in outputs or []]
    return "\n".join(render_summary(node_rows(hostvars, hosts, network), network=network, storage=storage,
                                    outputs=outputs))


class FilterModule(object):
    def filters(self):
        return {"runtime_summary": runtime_summary}
