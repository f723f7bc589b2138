# -*- coding: utf-8 -*-
"""Random intents checked against the real analyzer (slow: one analyzer run per example).

1. Whatever the intent, its compiled objects prove: the analyzer allows exactly what the intent allows.
2. Compile-then-prove never accepts an over-permissive result: objects compiled from a wider intent (one more
   flow, or a namespace opened) are refused against the narrower intent whenever they allow anything more on its
   endpoints, and every such difference is reported as over-permissive.
"""
import copy
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import (
    analyzer, calico, compile as comp, conns, endpoints, expected, intent, prove)
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import dump_documents

pytestmark = pytest.mark.slow
NCA = analyzer.find_nca()
NAMESPACES = ("a", "b", "c")
CIDRS = ("0.0.0.0/0", "10.0.0.0/8", "192.0.2.0/24", "169.254.169.254/32", "198.51.100.0/24")
PORTS = st.one_of(st.none(), st.lists(st.fixed_dictionaries({
    "protocol": st.sampled_from(["TCP", "UDP"]), "port": st.sampled_from([53, 80, 443, 5432, 8080])}),
    min_size=1, max_size=2))


@st.composite
def intents(draw):
    names = draw(st.lists(st.sampled_from(NAMESPACES), min_size=1, max_size=3, unique=True))
    namespaces = dict((n, {"profile": draw(st.sampled_from(sorted(intent.PROFILES))),
                           "labels": {"team": draw(st.sampled_from(["x", "y"]))},
                           "api_server": draw(st.booleans())}) for n in names)
    workloads = dict(("w%d" % i, {"namespace": draw(st.sampled_from(names)),
                                  "podSelector": {"matchLabels": {"app": "w%d" % i}}})
                     for i in range(draw(st.integers(1, 3))))
    flows = [draw(flow(names, sorted(workloads), "f%d" % i)) for i in range(draw(st.integers(0, 4)))]
    cluster = {"api_server": {"cidrs": ["192.0.2.10/32"]}, "metadata": {"deny": draw(st.booleans())}}
    if draw(st.booleans()):
        cluster["kubelet_probes"] = {"cidrs": ["10.89.0.0/24"]}
    if draw(st.booleans()):
        cluster["rules"] = [{"name": "r0", "action": draw(st.sampled_from(["Allow", "Deny"])),
                             "to": {"ipBlock": {"cidr": draw(st.sampled_from(CIDRS))}}, "ports": draw(PORTS)}]
    return {"namespaces": namespaces, "workloads": workloads, "flows": flows, "cluster": cluster}


@st.composite
def flow(draw, names, workloads, name):
    def peer(allow_ip):
        kinds = ["workload", "namespace", "namespaceSelector"] + (["ipBlock"] if allow_ip else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "workload":
            return {"workload": draw(st.sampled_from(workloads))}
        if kind == "namespace":
            return {"namespace": draw(st.sampled_from(names))}
        if kind == "namespaceSelector":
            return {"namespaceSelector": {"matchLabels": {"team": draw(st.sampled_from(["x", "y"]))}}}
        return {"ipBlock": {"cidr": draw(st.sampled_from(CIDRS))}}
    src = peer(True)
    dst = peer("ipBlock" not in src)
    return {"name": name, "from": src, "to": dst, "ports": draw(PORTS)}


def _prove(normal, objects):
    return prove.prove(normal, objects, NCA, tempfile.mkdtemp(prefix="kl-policy-"), dump_documents, explain_limit=0)


def _compile(normal):
    return comp.namespace_policies(normal) + calico.global_policies(normal)


@settings(max_examples=6)
@given(intents())
def test_compiled_intent_proves(data):
    normal = intent.normalize(data, dns_address="10.233.0.10")
    result = _prove(normal, _compile(normal))
    assert result["ok"], (data, prove.difference_lines(result["differences"]))


@settings(max_examples=6)
@given(intents(), st.data())
def test_wider_objects_are_never_accepted(data, more):
    narrow = intent.normalize(data, dns_address="10.233.0.10")
    wider_data = copy.deepcopy(data)
    if more.draw(st.booleans()):
        wider_data["flows"].append(more.draw(flow(sorted(data["namespaces"]), sorted(data["workloads"]), "extra")))
    else:
        wider_data["namespaces"][more.draw(st.sampled_from(sorted(data["namespaces"])))]["profile"] = "open"
    wider = intent.normalize(wider_data, dns_address="10.233.0.10")
    eps = endpoints.endpoints(narrow)
    want, would = expected.expected(narrow, eps), expected.expected(wider, eps)
    result = _prove(narrow, _compile(wider))
    more_allowed = any(conns.subtract(would[k], want.get(k, {})) for k in would)
    assert result["ok"] == (would == want), prove.difference_lines(result["differences"])
    kinds = set(d["kind"] for d in result["differences"])
    assert ("over-permissive" in kinds) == more_allowed, prove.difference_lines(result["differences"])
