# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit policy objects that exist already (a directory of YAML, or what a cluster returned).

``split(docs)`` sorts loaded documents into policies, pods (Pods and workload controllers) and
namespaces. ``unisolated(policies, namespaces)`` names the namespaces where no policy isolates
every pod in a direction. ``classify(findings)`` sorts the analyzer's sanity findings into
policies that select no pod, and rules shadowed by (contained in) others. ``audit`` runs it all and,
with an intent, compares the analyzer's connectivity with it (``prove``). No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import (
    analyzer, calico, conns, endpoints, prove, selectors)

POLICY_KINDS = ("NetworkPolicy", "GlobalNetworkPolicy")
CALICO_GROUPS = ("projectcalico.org/v3", calico.CRD_API_VERSION)
WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
                  "ReplicationController")


def _items(docs):
    for doc in docs:
        if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            for item in doc["items"]:
                if isinstance(item, dict):
                    yield item
        elif isinstance(doc, dict):
            yield doc


def split(docs):
    """(policies, pods, namespaces) from loaded documents; ``*List`` documents are opened."""
    policies, pods, namespaces = [], [], []
    for obj in _items(docs):
        kind = obj.get("kind")
        api = obj.get("apiVersion", "")
        if kind in POLICY_KINDS and (api.startswith("networking.k8s.io/") or api in CALICO_GROUPS):
            policies.append(obj)
        elif kind in WORKLOAD_KINDS:
            pods.append(obj)
        elif kind == "Namespace":
            namespaces.append(obj)
    return policies, pods, namespaces


def complete_namespaces(pods, namespaces):
    """``namespaces`` plus a Namespace (with its name label) for every namespace a pod uses."""
    known = set((n.get("metadata") or {}).get("name") for n in namespaces)
    out = list(namespaces)
    for pod in pods:
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        if ns not in known:
            known.add(ns)
            out.append({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": ns, "labels": {selectors.NAME_LABEL: ns}}})
    return out


def _isolates(policy, direction):
    spec = policy.get("spec") or {}
    if policy.get("kind") != "NetworkPolicy":
        return False
    if policy.get("apiVersion", "").startswith("networking.k8s.io/"):
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        return spec.get("podSelector") in ({}, None) and direction in types
    return (spec.get("selector") or "all()").strip() == "all()" and direction in (spec.get("types") or [])


def unisolated(policies, namespaces):
    """``namespace: ingress and egress not isolated`` for every namespace a direction is open in."""
    out = []
    for name in sorted(set((n.get("metadata") or {}).get("name") for n in namespaces)):
        mine = [p for p in policies if (p.get("metadata") or {}).get("namespace") == name]
        open_dirs = [d.lower() for d in ("Ingress", "Egress") if not any(_isolates(p, d) for p in mine)]
        if open_dirs:
            out.append("namespace %s: %s not isolated (no policy selecting every pod with that type)"
                       % (name, " and ".join(open_dirs)))
    return out


def classify(findings):
    """(policies selecting no pod, shadowed or redundant rules, other findings) from sanity findings."""
    empty, shadowed, other = [], [], []
    for line in findings:
        if "does not select any pods" in line or "selects no pods" in line:
            empty.append(line)
        elif "redundant" in line or "contained in" in line or "shadow" in line:
            shadowed.append(line)
        else:
            other.append(line)
    return empty, shadowed, other


def audit(docs, nca, workdir, dump, normal=None, explain_limit=5):
    """The audit result dict (see the module's RETURN)."""
    policies, pods, namespaces = split(docs)
    eps = None
    if normal is not None:
        eps = endpoints.endpoints(normal)
        pod_objs, ns_objs = endpoints.as_objects(eps)
        pods, namespaces = pod_objs["items"], ns_objs["items"]
    namespaces = complete_namespaces(pods, namespaces)
    pod_list = {"apiVersion": "v1", "kind": "PodList", "items": pods}
    ns_list = {"apiVersion": "v1", "kind": "NamespaceList", "items": namespaces}
    paths = prove.write_files(workdir, {"policies.yaml": calico.analyzer_view(policies), "pods.yaml": [pod_list],
                                        "namespaces.yaml": [ns_list]}, dump)
    out, err, _rc, _wall = prove.connectivity(nca, paths, extra=["-o", "txt_no_fw_rules"])
    lines = analyzer.parse_connectivity(out)
    sanity_out, _e, _r, _w = prove.connectivity(nca, paths, query="--sanity") if policies else ("", "", 0, 0)
    empty, shadowed, other = classify(analyzer.parse_sanity(sanity_out))
    result = {
        "policies": len(policies), "pods": len(pods), "namespaces": len(namespaces),
        "unisolated_namespaces": unisolated(policies, namespaces),
        "empty_policies": empty, "shadowed_rules": shadowed, "other_findings": other,
        "connectivity": [_row(src, dst, allowed) for src, dst, allowed in lines],
        "analyzer_seconds": analyzer.analyzer_seconds(out + err), "differences": [],
    }
    if normal is not None:
        result["differences"] = prove.judge(normal, eps, lines, nca, paths, explain_limit)["differences"]
    return result


def _peer_text(peer):
    kind, value = peer
    if kind == "pod":
        return value
    lo, hi = value
    return str(lo) if lo == hi else "%s-%s" % (lo, hi)


def _row(src, dst, allowed):
    return "%s -> %s: %s" % (_peer_text(src), _peer_text(dst), conns.fmt(allowed))
