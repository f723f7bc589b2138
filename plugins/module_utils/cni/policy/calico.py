# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster-wide rules of a normalized intent as Calico GlobalNetworkPolicy objects.

See ``compile.py`` for the layout (order 10 cluster rules, order 2000 open fall-through).
No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import conns, selectors
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy.compile import (
    CLUSTER_ORDER, LINK_LOCAL, OPEN_ORDER, _host, _meta)


# Canal installs Calico's CRDs (crd.projectcalico.org/v1) but not the Calico API server that serves
# projectcalico.org/v3, so the objects are written in the CRD's version; the analyzer reads the same spec
# under projectcalico.org/v3 (``analyzer_view``).
CRD_API_VERSION = "crd.projectcalico.org/v1"
API_VERSION = "projectcalico.org/v3"


def analyzer_view(objects):
    """The objects as the analyzer reads them (Calico CRD objects under projectcalico.org/v3)."""
    out = []
    for obj in objects:
        if obj.get("apiVersion") == CRD_API_VERSION:
            obj = dict(obj, apiVersion=API_VERSION)
        out.append(obj)
    return out


def _quote(value):
    return "'%s'" % value


def selector_expr(selector):
    """A Kubernetes label selector as a Calico selector expression (``all()`` when empty)."""
    terms = ["%s == %s" % (k, _quote(v)) for k, v in sorted(((selector or {}).get("matchLabels") or {}).items())]
    for expr in (selector or {}).get("matchExpressions") or []:
        key, op = expr["key"], expr["operator"]
        values = ", ".join(_quote(v) for v in expr.get("values") or [])
        terms.append({"In": "%s in {%s}" % (key, values), "NotIn": "%s not in {%s}" % (key, values),
                      "Exists": "has(%s)" % key, "DoesNotExist": "!has(%s)" % key}[op])
    return " && ".join(terms) if terms else "all()"


def _rules(action, entity_key, entity, ports):
    """One Calico rule per protocol (a Calico rule names one protocol)."""
    if not ports:
        return [{"action": action, entity_key: entity}]
    out = []
    for proto in conns.PORT_PROTOCOLS:
        numbers = [p for p in ports if (p.get("protocol") or "TCP") == proto]
        if not numbers:
            continue
        rule = {"action": action, "protocol": proto, entity_key: dict(entity)}
        if all(p.get("port") is not None for p in numbers):
            rule[entity_key]["ports"] = [p["port"] if not p.get("endPort") else "%d:%d" % (p["port"], p["endPort"])
                                         for p in numbers]
        out.append(rule)
    return out


def _nets(block):
    entity = {"nets": [block["cidr"]]}
    if block.get("except"):
        entity["notNets"] = list(block["except"])
    return entity


def metadata_allowed(flow, address):
    """Whether ``flow`` explicitly allows the metadata address (a link-local CIDR that holds it)."""
    to = flow["to"]
    if "ipBlock" not in to or "ipBlock" in flow["from"]:
        return False
    net = ipaddress.ip_network(to["ipBlock"]["cidr"])
    addr = ipaddress.ip_address(address)
    return (net.version == addr.version and net.subnet_of(LINK_LOCAL) and addr in net
            and not any(addr in ipaddress.ip_network(e) for e in to["ipBlock"]["except"]))


def _source(peer):
    src = {"selector": selector_expr(peer["podSelector"])}
    src["namespaceSelector"] = selector_expr(peer["namespaceSelector"] if peer["namespaceSelector"] is not None
                                             else selectors.namespace_selector(peer["namespace"]))
    return src


def _egress_rules(normal):
    rules = []
    meta = normal["cluster"]["metadata"]
    if meta:
        for flow in normal["flows"]:
            if metadata_allowed(flow, meta["address"]):
                dest = {"nets": [_host(meta["address"])]}
                for rule in _rules("Allow", "destination", dest, flow["ports"]):
                    rule["source"] = _source(flow["from"])
                    rules.append(rule)
        rules.append({"action": "Deny", "destination": {"nets": [_host(meta["address"])]}})
    for rule in normal["cluster"]["rules"]:
        if rule["direction"] == "egress":
            rules.extend(_rules(rule["action"], "destination", _nets(rule["ipBlock"]), rule["ports"]))
    return rules


def _ingress_rules(normal):
    rules = []
    for rule in normal["cluster"]["rules"]:
        if rule["direction"] == "ingress":
            rules.extend(_rules(rule["action"], "source", _nets(rule["ipBlock"]), rule["ports"]))
    return rules


def _gnp(name, order, types, rules, namespace_selector=None):
    spec = {"order": order}
    spec["selector"] = "all()"
    if namespace_selector:
        spec["namespaceSelector"] = namespace_selector
    spec["types"] = types
    spec[types[0].lower()] = rules
    return {"apiVersion": CRD_API_VERSION, "kind": "GlobalNetworkPolicy",
            "metadata": _meta(name), "spec": spec}


def _open(direction, namespaces):
    isolated = sorted(n for n, s in namespaces.items() if s[direction])
    ns_sel = None
    if isolated:
        ns_sel = "%s not in {%s}" % (selectors.NAME_LABEL, ", ".join(_quote(n) for n in isolated))
    return _gnp("kubelayer-open-%s" % direction, OPEN_ORDER, [direction.capitalize()], [{"action": "Allow"}], ns_sel)


def global_policies(normal):
    """The GlobalNetworkPolicy objects of the intent (empty list when there is no cluster-wide rule)."""
    out = []
    for direction, rules in (("egress", _egress_rules(normal)), ("ingress", _ingress_rules(normal))):
        if rules:
            out.append(_gnp("kubelayer-cluster-%s" % direction, CLUSTER_ORDER, [direction.capitalize()], rules))
            out.append(_open(direction, normal["namespaces"]))
    return out
