# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The synthetic endpoint set the proof runs over.

One pod per workload (its ``matchLabels``), one ``unlabelled`` pod per namespace, the DNS pod, and
addresses outside the pod network: the DNS address, one address per API server and node network,
the metadata address, one outside address (TEST-NET-3), and for every ``ipBlock`` of a flow or
cluster rule one address inside it and one inside each ``except``.

``endpoints(normal)`` -> ``{"pods": [...], "namespaces": {name: labels}, "addresses": [...]}`` where a
pod is ``{"id": "ns/name", "namespace", "name", "labels"}`` and an address is
``{"id": address, "address", "roles": [...]}``. ``as_objects`` gives the Pod and Namespace objects.
No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import selectors
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy.intent import RESERVED_POD

OUTSIDE = "203.0.113.10"
DNS_POD = "dns"
NODE_NAME = "kubelayer-synthetic-node"


def representative(cidr, excepts=()):
    """An address inside ``cidr`` and outside every ``excepts`` network (None if there is none)."""
    net = ipaddress.ip_network(cidr)
    holes = sorted(ipaddress.ip_network(e) for e in excepts)
    candidate = net.network_address + 1 if net.num_addresses > 2 else net.network_address
    moved = True
    while moved:
        moved = False
        for hole in holes:
            if candidate in hole:
                candidate = hole.broadcast_address + 1
                moved = True
        if candidate not in net:
            return None
    return str(candidate)


def _add(addresses, address, role):
    if address is None:
        return
    address = str(ipaddress.ip_address(address))
    entry = addresses.setdefault(address, {"id": address, "address": address, "roles": []})
    if role not in entry["roles"]:
        entry["roles"].append(role)


def _blocks(normal):
    for flow in normal["flows"]:
        for side in ("from", "to"):
            if "ipBlock" in flow[side]:
                yield "flow %s" % flow["name"], flow[side]["ipBlock"]
    for rule in normal["cluster"]["rules"]:
        yield "rule %s" % rule["name"], rule["ipBlock"]


def _addresses(normal):
    cluster = normal["cluster"]
    out = {}
    if cluster["dns"]:
        _add(out, cluster["dns"]["address"], "cluster DNS")
    for cidr in cluster["api_server"]["cidrs"]:
        _add(out, representative(cidr), "API server")
    for cidr in (cluster["probes"] or {}).get("cidrs", []):
        _add(out, representative(cidr), "node")
    if cluster["metadata"]:
        _add(out, cluster["metadata"]["address"], "metadata")
    _add(out, OUTSIDE, "outside")
    for role, block in _blocks(normal):
        _add(out, representative(block["cidr"], block["except"]), role)
        for hole in block["except"]:
            _add(out, representative(hole), "%s (except)" % role)
    return sorted(out.values(), key=lambda a: (ipaddress.ip_address(a["address"]).version,
                                               ipaddress.ip_address(a["address"])))


def endpoints(normal):
    namespaces = dict((n, dict(s["labels"])) for n, s in normal["namespaces"].items())
    pods = []
    for name, spec in normal["workloads"].items():
        pods.append({"namespace": spec["namespace"], "name": name, "labels": dict(spec["labels"])})
    for ns in normal["namespaces"]:
        pods.append({"namespace": ns, "name": RESERVED_POD, "labels": {}})
    dns = normal["cluster"]["dns"]
    if dns and not any(p["namespace"] == dns["namespace"] and p["name"] == DNS_POD for p in pods):
        namespaces.setdefault(dns["namespace"], {selectors.NAME_LABEL: dns["namespace"]})
        pods.append({"namespace": dns["namespace"], "name": DNS_POD,
                     "labels": dict((dns["podSelector"] or {}).get("matchLabels") or {})})
    for pod in pods:
        pod["id"] = "%s/%s" % (pod["namespace"], pod["name"])
    pods.sort(key=lambda p: p["id"])
    return {"pods": pods, "namespaces": namespaces, "addresses": _addresses(normal)}


def as_objects(eps):
    """(PodList, NamespaceList) objects of the synthetic endpoints, for the analyzer."""
    pods = [{"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": p["name"], "namespace": p["namespace"], "labels": p["labels"]},
             "spec": {"nodeName": NODE_NAME}} for p in eps["pods"]]
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": labels}}
                  for n, labels in sorted(eps["namespaces"].items())]
    return ({"apiVersion": "v1", "kind": "PodList", "items": pods},
            {"apiVersion": "v1", "kind": "NamespaceList", "items": namespaces})
