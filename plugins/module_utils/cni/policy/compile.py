# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compile a normalized intent (``intent.normalize``) into policy objects.

* Per namespace with an isolated direction: NetworkPolicy ``kubelayer-isolate`` (``podSelector: {}``,
  the isolated ``policyTypes``) with the defaults: DNS egress (the DNS pods and the plan's DNS
  address), API server egress when the namespace asks for it, kubelet probes from the node networks.
* Per flow: ``kubelayer-<flow>-ingress`` in every isolated destination namespace, and
  ``kubelayer-<flow>-egress`` in every isolated source namespace. An open side gets nothing.
* Cluster-wide (Calico GlobalNetworkPolicy, default tier): ``kubelayer-cluster-egress`` (order 10:
  metadata exceptions, the metadata deny, the cluster rules towards CIDRs) and
  ``kubelayer-cluster-ingress`` (order 10: cluster rules from CIDRs). Because a GlobalNetworkPolicy
  that selects a pod makes the end of the tier deny, ``kubelayer-open-egress``/``-ingress`` (order
  2000, after the NetworkPolicies at 1000) allow the rest for namespaces that are open in that direction.

Names are stable (namespace, flow and rule names only), output order is deterministic.
No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import selectors

MANAGED = {"app.kubernetes.io/managed-by": "kubelayer.runtime"}
FLOW_ANNOTATION = "kubelayer.runtime/flow"
ISOLATE = "kubelayer-isolate"
LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")
CLUSTER_ORDER = 10
OPEN_ORDER = 2000


def _meta(name, namespace=None, flow=None):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(MANAGED)
    if flow:
        meta["annotations"] = {FLOW_ANNOTATION: flow}
    return meta


def _np(name, namespace, pod_selector, types, ingress=None, egress=None, flow=None):
    spec = {"podSelector": pod_selector or {}, "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": _meta(name, namespace, flow), "spec": spec}


def _rule(peer_key, peers, ports):
    rule = {peer_key: peers}
    if ports:
        rule["ports"] = [dict(p) for p in ports]
    return rule


def ip_block(block):
    out = {"cidr": block["cidr"]}
    if block.get("except"):
        out["except"] = list(block["except"])
    return out


def _host(address):
    addr = ipaddress.ip_address(address)
    return "%s/%d" % (addr, addr.max_prefixlen)


def k8s_peer(peer, policy_ns):
    """The NetworkPolicy peer for ``peer`` in a policy of namespace ``policy_ns``."""
    if "ipBlock" in peer:
        return {"ipBlock": ip_block(peer["ipBlock"])}
    if peer["namespace"] is not None and peer["namespace"] == policy_ns:
        return {"podSelector": peer["podSelector"] or {}}
    out = {"namespaceSelector": peer["namespaceSelector"] if peer["namespaceSelector"] is not None
           else selectors.namespace_selector(peer["namespace"])}
    if peer["podSelector"] is not None:
        out["podSelector"] = peer["podSelector"]
    return out


def peer_namespaces(peer, namespaces):
    """The intent namespaces a pods peer can select (sorted)."""
    if "ipBlock" in peer:
        return []
    if peer["namespace"] is not None:
        return [peer["namespace"]] if peer["namespace"] in namespaces else []
    return sorted(n for n, spec in namespaces.items() if selectors.matches(peer["namespaceSelector"], spec["labels"]))


def _isolate(name, spec, cluster):
    types = [t for t, on in (("Ingress", spec["ingress"]), ("Egress", spec["egress"])) if on]
    ingress = egress = None
    if spec["ingress"]:
        ingress = []
        if cluster["probes"]:
            ingress.append(_rule("from", [{"ipBlock": {"cidr": c}} for c in cluster["probes"]["cidrs"]],
                                 cluster["probes"]["ports"]))
    if spec["egress"]:
        egress = []
        dns = cluster["dns"]
        if dns:
            peers = [{"namespaceSelector": selectors.namespace_selector(dns["namespace"]),
                      "podSelector": dns["podSelector"]}]
            if dns.get("address"):
                peers.append({"ipBlock": {"cidr": _host(dns["address"])}})
            egress.append(_rule("to", peers, dns["ports"]))
        if spec["api_server"]:
            egress.append(_rule("to", [{"ipBlock": {"cidr": c}} for c in cluster["api_server"]["cidrs"]],
                                cluster["api_server"]["ports"]))
    return _np(ISOLATE, name, {}, types, ingress=ingress, egress=egress)


def _flow_policies(flow, namespaces):
    out = []
    name = flow["name"]
    for ns in peer_namespaces(flow["to"], namespaces):
        if namespaces[ns]["ingress"]:
            out.append(_np("kubelayer-%s-ingress" % name, ns, flow["to"]["podSelector"], ["Ingress"],
                           ingress=[_rule("from", [k8s_peer(flow["from"], ns)], flow["ports"])], flow=name))
    for ns in peer_namespaces(flow["from"], namespaces):
        if namespaces[ns]["egress"]:
            out.append(_np("kubelayer-%s-egress" % name, ns, flow["from"]["podSelector"], ["Egress"],
                           egress=[_rule("to", [k8s_peer(flow["to"], ns)], flow["ports"])], flow=name))
    return out


def namespace_policies(normal):
    """Every NetworkPolicy of the intent, namespace by namespace (isolation first, then flows)."""
    namespaces = normal["namespaces"]
    by_ns = dict((n, []) for n in namespaces)
    for name, spec in namespaces.items():
        if spec["ingress"] or spec["egress"]:
            by_ns[name].append(_isolate(name, spec, normal["cluster"]))
    for flow in normal["flows"]:
        for obj in _flow_policies(flow, namespaces):
            by_ns[obj["metadata"]["namespace"]].append(obj)
    return [obj for name in sorted(by_ns) for obj in by_ns[name]]
