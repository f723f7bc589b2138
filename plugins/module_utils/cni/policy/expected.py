# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the intent allows between the synthetic endpoints, computed from the intent alone.

This is the reference the analyzer's result is compared with, so it never looks at the compiled
objects. Semantics:

* pod -> pod: allowed at the source (egress) and at the destination (ingress);
* pod -> address: egress only; address -> pod: ingress only;
* a direction that is open in the pod's namespace (or a namespace outside the intent) allows
  everything; an isolated one allows the flows that match, plus the defaults (egress: DNS, API
  server when asked; ingress: kubelet probes from the node networks);
* cluster-wide rules come first, in order (metadata exceptions, metadata deny, ``cluster.rules``):
  the first rule that matches a port decides it.

``expected(normal, eps)`` -> ``{(src_id, dst_id): conns}`` for every pair with something allowed.
No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import conns, selectors
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy.calico import metadata_allowed


def address_in(address, block):
    addr = ipaddress.ip_address(address)
    net = ipaddress.ip_network(block["cidr"])
    if addr.version != net.version or addr not in net:
        return False
    return not any(addr in ipaddress.ip_network(e) for e in block.get("except") or [])


def matches(peer, ep, ns_labels):
    """Whether endpoint ``ep`` (pod or address) is selected by an intent peer."""
    if "ipBlock" in peer:
        return "address" in ep and address_in(ep["address"], peer["ipBlock"])
    if "address" in ep:
        return False
    if peer["namespace"] is not None and peer["namespace"] != ep["namespace"]:
        return False
    if peer["namespaceSelector"] is not None and not selectors.matches(
            peer["namespaceSelector"], ns_labels.get(ep["namespace"], {})):
        return False
    return peer["podSelector"] is None or selectors.matches(peer["podSelector"], ep["labels"])


class _Index(object):
    """Which flows select each endpoint as source and as destination (so a pair costs a set intersection)."""

    def __init__(self, normal, eps):
        self.ports = [conns.from_ports(f["ports"]) for f in normal["flows"]]
        self.sources, self.targets = {}, {}
        for ep in eps["pods"] + eps["addresses"]:
            self.sources[ep["id"]] = frozenset(i for i, f in enumerate(normal["flows"])
                                               if matches(f["from"], ep, eps["namespaces"]))
            self.targets[ep["id"]] = frozenset(i for i, f in enumerate(normal["flows"])
                                               if matches(f["to"], ep, eps["namespaces"]))

    def flows(self, src, dst):
        hits = self.sources[src["id"]] & self.targets[dst["id"]]
        return conns.union(*[self.ports[i] for i in sorted(hits)]) if hits else {}


def _cluster_rules(normal, direction):
    """[(action, peer side match function args)] in evaluation order."""
    cluster = normal["cluster"]
    rules = []
    if direction == "egress" and cluster["metadata"]:
        meta = {"ipBlock": {"cidr": str(ipaddress.ip_network(cluster["metadata"]["address"])), "except": []}}
        for flow in normal["flows"]:
            if metadata_allowed(flow, cluster["metadata"]["address"]):
                rules.append(("Allow", flow["from"], meta, flow["ports"]))
        rules.append(("Deny", None, meta, None))
    for rule in cluster["rules"]:
        if rule["direction"] == direction:
            rules.append((rule["action"], None, {"ipBlock": rule["ipBlock"]}, rule["ports"]))
    return rules


def _apply_cluster(rules, pod, address, ns_labels, base):
    allowed, remaining = {}, dict(conns.ALL)
    for action, pod_peer, ip_peer, ports in rules:
        if pod_peer is not None and not matches(pod_peer, pod, ns_labels):
            continue
        if not matches(ip_peer, address, ns_labels):
            continue
        hit = conns.intersect(remaining, conns.from_ports(ports))
        if action == "Allow":
            allowed = conns.union(allowed, hit)
        remaining = conns.subtract(remaining, hit)
    return conns.union(allowed, conns.intersect(remaining, base))


def _egress_base(normal, spec, src, dst, index):
    """What an egress-isolated namespace lets ``src`` send to ``dst``: its flows, DNS, the API server."""
    base = index.flows(src, dst)
    cluster = normal["cluster"]
    dns = cluster["dns"]
    if dns and (("address" in dst and dns.get("address") and ipaddress.ip_address(dst["address"])
                 == ipaddress.ip_address(dns["address"]))
                or ("address" not in dst and dst["namespace"] == dns["namespace"]
                    and selectors.matches(dns["podSelector"], dst["labels"]))):
        base = conns.union(base, conns.from_ports(dns["ports"]))
    if spec["api_server"] and "address" in dst and any(
            address_in(dst["address"], {"cidr": c}) for c in cluster["api_server"]["cidrs"]):
        base = conns.union(base, conns.from_ports(cluster["api_server"]["ports"]))
    return base


def _ingress_base(normal, spec, src, dst, index):
    """What an ingress-isolated namespace lets ``dst`` receive from ``src``: its flows, the kubelet probes."""
    del spec
    base = index.flows(src, dst)
    probes = normal["cluster"]["probes"]
    if probes and "address" in src and any(address_in(src["address"], {"cidr": c}) for c in probes["cidrs"]):
        base = conns.union(base, conns.from_ports(probes["ports"]))
    return base


_BASES = {"egress": _egress_base, "ingress": _ingress_base}


def _direction(direction, normal, src, dst, ns_labels, index):
    """The connections from ``src`` to ``dst`` one side allows: ``egress`` the sender's, ``ingress`` the
    receiver's; everything when its namespace is not isolated that way, then the cluster-wide rules for an
    address peer."""
    local, peer = (src, dst) if direction == "egress" else (dst, src)
    spec = normal["namespaces"].get(local["namespace"])
    if spec is None or not spec[direction]:
        base = dict(conns.ALL)
    else:
        base = _BASES[direction](normal, spec, src, dst, index)
    if "address" in peer:
        return _apply_cluster(_cluster_rules(normal, direction), local, peer, ns_labels, base)
    return base


def _egress(normal, src, dst, ns_labels, index):
    return _direction("egress", normal, src, dst, ns_labels, index)


def _ingress(normal, src, dst, ns_labels, index):
    return _direction("ingress", normal, src, dst, ns_labels, index)


def expected(normal, eps):
    ns_labels = eps["namespaces"]
    index = _Index(normal, eps)
    out = {}
    for src in eps["pods"] + eps["addresses"]:
        for dst in eps["pods"] + eps["addresses"]:
            if src["id"] == dst["id"] or ("address" in src and "address" in dst):
                continue
            if "address" in dst:
                allowed = _egress(normal, src, dst, ns_labels, index)
            elif "address" in src:
                allowed = _ingress(normal, src, dst, ns_labels, index)
            else:
                egress = _egress(normal, src, dst, ns_labels, index)
                allowed = conns.intersect(egress, _ingress(normal, src, dst, ns_labels, index)) if egress else {}
            if allowed:
                out[(src["id"], dst["id"])] = allowed
    return out
