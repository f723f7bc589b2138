# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network policy intent: check it and bring it into one normal form.

The intent uses Kubernetes' own words (``namespaceSelector``, ``podSelector``, ``ipBlock``,
``ports``). ``normalize(intent, dns_address=None)`` returns the normal form or raises
``IntentError`` with every problem, each starting with its option path (``intent.flows[2].ports``).

Normal form::

    {"namespaces": {name: {"profile", "labels", "api_server", "ingress", "egress"}},  # ingress/egress: isolated?
     "workloads": {name: {"namespace", "labels"}},
     "flows": [{"name", "from": peer, "to": peer, "ports": [...] or None}],
     "cluster": {"dns": {...} or None, "api_server": {...}, "probes": {...} or None,
                 "metadata": {...} or None, "rules": [...]}}

A peer is ``{"ipBlock": {"cidr", "except"}}`` or ``{"workload", "namespace", "namespaceSelector",
"podSelector"}`` (unused keys ``None``). No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import selectors

PROFILES = {"isolated": (True, True), "isolated-ingress": (True, False),
            "isolated-egress": (False, True), "open": (False, False)}
PROTOCOLS = ("TCP", "UDP", "SCTP")
RESERVED_POD = "unlabelled"
_NAME = validate.DNS1123_LABEL
_TOP = ("namespaces", "workloads", "flows", "cluster")
_CLUSTER = ("dns", "api_server", "kubelet_probes", "metadata", "rules")
DNS_DEFAULTS = {"enabled": True, "namespace": "kube-system", "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                "address": None, "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
METADATA_ADDRESS = "169.254.169.254"


class IntentError(ValueError):
    """Bad intent; ``problems`` lists every problem."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(IntentError, self).__init__("; ".join(self.problems))


def _name(value, path, max_len=63):
    if not isinstance(value, str) or len(value) > max_len or not _NAME.match(value):
        return ["%s: %r is not a name (lowercase RFC 1123 label, at most %d characters)" % (path, value, max_len)]
    return []


def _unknown(item, allowed, path):
    return ["%s: unknown key %r (allowed: %s)" % (path, key, ", ".join(allowed)) for key in item if key not in allowed]


def check_ports(ports, path):
    """Problems of a Kubernetes ``ports`` list (numeric ports only, so the result can be proven)."""
    if ports is None:
        return []
    if not isinstance(ports, list):
        return ["%s: must be a list of {protocol, port, endPort}" % path]
    problems = []
    for sub, item in validate.each_mapping(path, ports, problems, " with protocol, port, endPort"):
        problems.extend(_unknown(item, ("protocol", "port", "endPort"), sub))
        if item.get("protocol", "TCP") not in PROTOCOLS:
            problems.append("%s.protocol: %r is not one of %s" % (sub, item.get("protocol"), ", ".join(PROTOCOLS)))
        port, end = item.get("port"), item.get("endPort")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
            problems.append("%s.port: %r is not a port number 1-65535 (named ports cannot be proven)" % (sub, port))
        if end is not None and (port is None or isinstance(end, bool) or not isinstance(end, int)
                                or not isinstance(port, int) or not port <= end <= 65535):
            problems.append("%s.endPort: %r needs a port and must be between port and 65535" % (sub, end))
    return problems


def _network(value, path):
    try:
        return ipaddress.ip_network(value, strict=True), []
    except (ValueError, TypeError) as exc:
        return None, ["%s: %r is not a network in CIDR notation (%s)" % (path, value, exc)]


def check_ip_block(block, path):
    if not isinstance(block, dict):
        return ["%s: must be a mapping with cidr and optional except" % path]
    problems = _unknown(block, ("cidr", "except"), path)
    net, bad = _network(block.get("cidr"), path + ".cidr")
    problems.extend(bad)
    excepts = block.get("except") or []
    if not isinstance(excepts, list):
        return problems + ["%s.except: must be a list of CIDRs" % path]
    for i, value in enumerate(excepts):
        sub, bad = _network(value, "%s.except[%d]" % (path, i))
        problems.extend(bad)
        if net is not None and sub is not None and (sub.version != net.version or not sub.subnet_of(net) or sub == net):
            problems.append("%s.except[%d]: %s must be strictly inside %s" % (path, i, value, block.get("cidr")))
    return problems


def _check_peer(peer, path, intent, allow_ip=True):
    if not isinstance(peer, dict) or not peer:
        return ["%s: must be one of {workload}, {namespace[, podSelector]}, {namespaceSelector[, podSelector]}%s"
                % (path, ", {ipBlock}" if allow_ip else "")]
    problems = _unknown(peer, ("workload", "namespace", "namespaceSelector", "podSelector", "ipBlock"), path)
    kinds = [k for k in ("workload", "namespace", "namespaceSelector", "ipBlock") if k in peer]
    if len(kinds) != 1:
        return problems + ["%s: give exactly one of workload, namespace, namespaceSelector, ipBlock (got %s)"
                           % (path, ", ".join(kinds) or "none")]
    kind = kinds[0]
    if kind in ("workload", "ipBlock") and "podSelector" in peer:
        problems.append("%s.podSelector: not allowed with %s" % (path, kind))
    if kind == "workload" and peer["workload"] not in (intent.get("workloads") or {}):
        problems.append("%s.workload: %r is not a workload of intent.workloads" % (path, peer["workload"]))
    if kind == "namespace" and peer["namespace"] not in (intent.get("namespaces") or {}):
        problems.append("%s.namespace: %r is not a namespace of intent.namespaces" % (path, peer["namespace"]))
    if kind == "namespaceSelector":
        problems.extend(selectors.check_selector(peer["namespaceSelector"], path + ".namespaceSelector"))
    if kind == "ipBlock":
        problems.extend(check_ip_block(peer["ipBlock"], path + ".ipBlock") if allow_ip
                        else ["%s.ipBlock: not allowed here" % path])
    if "podSelector" in peer:
        problems.extend(selectors.check_selector(peer["podSelector"], path + ".podSelector"))
    return problems


def _check_namespaces(namespaces, path):
    if not isinstance(namespaces, dict):
        return ["%s: must be a mapping of namespace name to {profile, labels, api_server}" % path]
    problems = []
    for name, spec in namespaces.items():
        sub = "%s.%s" % (path, name)
        problems.extend(_name(name, sub))
        spec = {} if spec is None else spec
        if not isinstance(spec, dict):
            problems.append("%s: must be a mapping (profile, labels, api_server)" % sub)
            continue
        problems.extend(_unknown(spec, ("profile", "labels", "api_server"), sub))
        if spec.get("profile", "isolated") not in PROFILES:
            problems.append("%s.profile: %r is not one of %s" % (sub, spec.get("profile"), ", ".join(PROFILES)))
        problems.extend(selectors.check_labels(spec.get("labels") or {}, sub + ".labels"))
        if not isinstance(spec.get("api_server", False), bool):
            problems.append("%s.api_server: must be a boolean" % sub)
    return problems


def _check_workloads(intent, path):
    workloads = intent.get("workloads") or {}
    if not isinstance(workloads, dict):
        return ["%s: must be a mapping of workload name to {namespace, podSelector}" % path]
    problems = []
    for name, spec in workloads.items():
        sub = "%s.%s" % (path, name)
        problems.extend(_name(name, sub))
        if name == RESERVED_POD:
            problems.append("%s: the name %r is reserved for the unlabelled pod of each namespace" % (sub, name))
        if not isinstance(spec, dict):
            problems.append("%s: must be a mapping with namespace and podSelector" % sub)
            continue
        problems.extend(_unknown(spec, ("namespace", "podSelector"), sub))
        if spec.get("namespace") not in (intent.get("namespaces") or {}):
            problems.append("%s.namespace: %r is not a namespace of intent.namespaces" % (sub, spec.get("namespace")))
        sel = spec.get("podSelector")
        if not isinstance(sel, dict) or not sel.get("matchLabels"):
            problems.append("%s.podSelector: needs matchLabels (a workload is the pods with these labels)" % sub)
        else:
            problems.extend(selectors.check_selector(sel, sub + ".podSelector", expressions=False))
    return problems


def _check_flows(intent, path):
    flows = intent.get("flows") or []
    if not isinstance(flows, list):
        return ["%s: must be a list of {name, from, to, ports}" % path]
    problems = []
    seen = set()
    for sub, flow in validate.each_mapping(path, flows, problems, " with name, from, to, ports"):
        problems.extend(_unknown(flow, ("name", "from", "to", "ports"), sub))
        problems.extend(_name(flow.get("name"), sub + ".name", max_len=40))
        if flow.get("name") in seen:
            problems.append("%s.name: %r is used by an earlier flow" % (sub, flow.get("name")))
        seen.add(flow.get("name"))
        problems.extend(_check_peer(flow.get("from"), sub + ".from", intent))
        problems.extend(_check_peer(flow.get("to"), sub + ".to", intent))
        if isinstance(flow.get("from"), dict) and isinstance(flow.get("to"), dict) \
                and "ipBlock" in flow["from"] and "ipBlock" in flow["to"]:
            problems.append("%s: from and to cannot both be ipBlock (no pod on either side)" % sub)
        problems.extend(check_ports(flow.get("ports"), sub + ".ports"))
    return problems


def _check_cidrs(cidrs, path):
    if not isinstance(cidrs, list):
        return ["%s: must be a list of CIDRs" % path]
    problems = []
    for i, value in enumerate(cidrs):
        problems.extend(_network(value, "%s[%d]" % (path, i))[1])
    return problems


def _check_rules(rules, path):
    if not isinstance(rules, list):
        return ["%s: must be a list of {name, action, to or from, ports}" % path]
    problems = []
    for sub, rule in validate.each_mapping(path, rules, problems):
        problems.extend(_unknown(rule, ("name", "action", "to", "from", "ports"), sub))
        problems.extend(_name(rule.get("name"), sub + ".name", max_len=40))
        if rule.get("action") not in ("Allow", "Deny"):
            problems.append("%s.action: %r is not Allow or Deny" % (sub, rule.get("action")))
        sides = [k for k in ("to", "from") if k in rule]
        if len(sides) != 1:
            problems.append("%s: give exactly one of to (egress of every pod) or from (ingress of every pod)" % sub)
        elif not isinstance(rule[sides[0]], dict) or set(rule[sides[0]]) != {"ipBlock"}:
            problems.append("%s.%s: cluster-wide rules take {ipBlock: {cidr, except}}" % (sub, sides[0]))
        else:
            problems.extend(check_ip_block(rule[sides[0]]["ipBlock"], "%s.%s.ipBlock" % (sub, sides[0])))
        problems.extend(check_ports(rule.get("ports"), sub + ".ports"))
    return problems


def _check_cluster(cluster, intent, path):
    if not isinstance(cluster, dict):
        return ["%s: must be a mapping (%s)" % (path, ", ".join(_CLUSTER))]
    problems = _unknown(cluster, _CLUSTER, path)
    for key, allowed in (("dns", ("enabled", "namespace", "podSelector", "address", "ports")),
                         ("api_server", ("cidrs", "ports")), ("kubelet_probes", ("cidrs", "ports")),
                         ("metadata", ("deny", "address"))):
        section = cluster.get(key) or {}
        if not isinstance(section, dict):
            problems.append("%s.%s: must be a mapping (%s)" % (path, key, ", ".join(allowed)))
            continue
        problems.extend(_unknown(section, allowed, "%s.%s" % (path, key)))
        problems.extend(check_ports(section.get("ports"), "%s.%s.ports" % (path, key)))
        if "cidrs" in section:
            problems.extend(_check_cidrs(section["cidrs"], "%s.%s.cidrs" % (path, key)))
        for flag in ("enabled", "deny"):
            if flag in section and not isinstance(section[flag], bool):
                problems.append("%s.%s.%s: must be a boolean" % (path, key, flag))
        for addr in ("address",):
            if section.get(addr) is not None:
                problems.extend(_network(section[addr], "%s.%s.%s" % (path, key, addr))[1])
    dns = cluster.get("dns") or {}
    if isinstance(dns, dict):
        if "namespace" in dns:
            problems.extend(_name(dns["namespace"], path + ".dns.namespace"))
        if "podSelector" in dns:
            problems.extend(selectors.check_selector(dns["podSelector"], path + ".dns.podSelector"))
    api = cluster.get("api_server") or {}
    needs = sorted(n for n, s in (intent.get("namespaces") or {}).items() if isinstance(s, dict) and s.get("api_server"))
    if needs and isinstance(api, dict) and not api.get("cidrs"):
        problems.append("%s.api_server.cidrs: required because namespaces %s need the API server"
                        % (path, ", ".join(needs)))
    problems.extend(_check_rules(cluster.get("rules") or [], path + ".rules"))
    return problems


def check(intent, path="intent"):
    """Every problem of ``intent`` (empty list: usable)."""
    if not isinstance(intent, dict):
        return ["%s: must be a mapping with %s" % (path, ", ".join(_TOP))]
    problems = _unknown(intent, _TOP, path)
    problems.extend(_check_namespaces(intent.get("namespaces") or {}, path + ".namespaces"))
    problems.extend(_check_workloads(intent, path + ".workloads"))
    problems.extend(_check_flows(intent, path + ".flows"))
    problems.extend(_check_cluster(intent.get("cluster") or {}, intent, path + ".cluster"))
    return problems


def _peer(peer, intent):
    if "ipBlock" in peer:
        return {"ipBlock": {"cidr": str(ipaddress.ip_network(peer["ipBlock"]["cidr"])),
                            "except": [str(ipaddress.ip_network(e)) for e in peer["ipBlock"].get("except") or []]}}
    out = {"workload": None, "namespace": None, "namespaceSelector": None, "podSelector": None}
    if "workload" in peer:
        spec = intent["workloads"][peer["workload"]]
        out.update(workload=peer["workload"], namespace=spec["namespace"],
                   podSelector={"matchLabels": dict(spec["podSelector"]["matchLabels"])})
    else:
        for key in ("namespace", "namespaceSelector", "podSelector"):
            if peer.get(key) is not None:
                out[key] = copy.deepcopy(peer[key])
    return out


def _cluster(cluster, dns_address):
    dns = dict(DNS_DEFAULTS)
    dns.update(cluster.get("dns") or {})
    if dns.get("address") is None:
        dns["address"] = dns_address
    api = cluster.get("api_server") or {}
    probes = cluster.get("kubelet_probes") or {}
    meta = dict({"deny": True, "address": METADATA_ADDRESS}, **(cluster.get("metadata") or {}))
    rules = []
    for rule in cluster.get("rules") or []:
        side = "to" if "to" in rule else "from"
        rules.append({"name": rule["name"], "action": rule["action"], "direction": "egress" if side == "to" else "ingress",
                      "ipBlock": _peer(rule[side], {})["ipBlock"], "ports": rule.get("ports") or None})
    return {
        "dns": dns if dns.get("enabled") else None,
        "api_server": {"cidrs": [str(ipaddress.ip_network(c)) for c in api.get("cidrs") or []],
                       "ports": api.get("ports") or [{"protocol": "TCP", "port": 6443}]},
        "probes": {"cidrs": [str(ipaddress.ip_network(c)) for c in probes["cidrs"]], "ports": probes.get("ports") or None}
        if probes.get("cidrs") else None,
        "metadata": {"address": str(ipaddress.ip_address(meta["address"]))} if meta.get("deny") else None,
        "rules": rules,
    }


def normalize(intent, dns_address=None):
    """The normal form of ``intent`` (see the module docstring); ``IntentError`` with every problem."""
    problems = check(intent)
    if dns_address is not None:
        problems.extend(_network(dns_address, "dns_address")[1])
    if problems:
        raise IntentError(problems)
    namespaces = {}
    for name, spec in sorted((intent.get("namespaces") or {}).items()):
        spec = spec or {}
        profile = spec.get("profile", "isolated")
        labels = dict(spec.get("labels") or {})
        labels[selectors.NAME_LABEL] = name
        namespaces[name] = {"profile": profile, "labels": labels, "api_server": bool(spec.get("api_server")),
                            "ingress": PROFILES[profile][0], "egress": PROFILES[profile][1]}
    workloads = dict((name, {"namespace": spec["namespace"], "labels": dict(spec["podSelector"]["matchLabels"])})
                     for name, spec in sorted((intent.get("workloads") or {}).items()))
    flows = [{"name": f["name"], "from": _peer(f["from"], intent), "to": _peer(f["to"], intent),
              "ports": f.get("ports") or None} for f in intent.get("flows") or []]
    return {"namespaces": namespaces, "workloads": workloads, "flows": flows,
            "cluster": _cluster(intent.get("cluster") or {}, dns_address)}


def with_namespaces(intent, names, path="isolate_namespaces"):
    """``intent`` plus every namespace of ``names`` (the former ``canal_policy_namespaces``) as ``isolated``.

    A namespace the intent already lists keeps its own profile. Raises ``IntentError`` for a bad name.
    """
    problems = []
    for i, name in enumerate(names or []):
        problems.extend(_name(name, "%s[%d]" % (path, i)))
    if problems:
        raise IntentError(problems)
    out = dict(intent or {})
    namespaces = dict(out.get("namespaces") or {}) if isinstance(out.get("namespaces") or {}, dict) else out["namespaces"]
    if isinstance(namespaces, dict):
        for name in names or []:
            namespaces.setdefault(name, {"profile": "isolated"})
        out["namespaces"] = namespaces
    return out
