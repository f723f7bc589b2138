# -*- coding: utf-8 -*-
"""The intent format: every problem named by its path, and the normal form."""
import pytest

from policy_samples import DNS, three_tier

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import intent


def test_three_tier_normal_form():
    normal = intent.normalize(three_tier(), dns_address=DNS)
    assert sorted(normal["namespaces"]) == ["data", "monitoring", "shop"]
    shop = normal["namespaces"]["shop"]
    assert shop["ingress"] and shop["egress"] and shop["labels"] == {"tier": "app", "kubernetes.io/metadata.name": "shop"}
    assert normal["flows"][1]["from"] == {"workload": "web", "namespace": "shop", "namespaceSelector": None,
                                          "podSelector": {"matchLabels": {"app": "web"}}}
    cluster = normal["cluster"]
    assert cluster["dns"]["address"] == DNS and cluster["metadata"] == {"address": "169.254.169.254"}
    assert cluster["api_server"]["ports"] == [{"protocol": "TCP", "port": 6443}]


def test_every_problem_has_its_path():
    bad = {
        "namespaces": {"Shop": {"profile": "closed"}, "ok": {"api_server": "yes"}},
        "workloads": {"w": {"namespace": "nope", "podSelector": {"matchExpressions": []}},
                      "unlabelled": {"namespace": "ok", "podSelector": {"matchLabels": {"a": "b"}}}},
        "flows": [
            {"name": "f", "from": {"workload": "missing"}, "to": {"ipBlock": {"cidr": "10.0.0.1/8"}},
             "ports": [{"protocol": "ICMP", "port": "http"}, {"port": 90, "endPort": 80}]},
            {"name": "f", "from": {"namespace": "ok", "workload": "w"},
             "to": {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}}},
            {"name": "g", "from": {"ipBlock": {"cidr": "1.0.0.0/8"}}, "to": {"ipBlock": {"cidr": "2.0.0.0/8"}}},
        ],
        "cluster": {"api_server": {}, "rules": [{"name": "r", "action": "Drop", "to": {"namespace": "ok"}}],
                    "bogus": 1},
        "extra": True,
    }
    problems = intent.check(bad)
    paths = [p.split(": ")[0] for p in problems]
    for expected in ("intent", "intent.namespaces.Shop", "intent.namespaces.Shop.profile", "intent.namespaces.ok.api_server",
                     "intent.workloads.w.namespace", "intent.workloads.w.podSelector", "intent.workloads.unlabelled",
                     "intent.flows[0].from.workload", "intent.flows[0].to.ipBlock.cidr",
                     "intent.flows[0].ports[0].protocol", "intent.flows[0].ports[0].port",
                     "intent.flows[0].ports[1].endPort", "intent.flows[1].name", "intent.flows[1].from",
                     "intent.flows[1].to.ipBlock.except[0]", "intent.flows[2]", "intent.cluster",
                     "intent.cluster.api_server.cidrs", "intent.cluster.rules[0].action", "intent.cluster.rules[0].to"):
        assert expected in paths, (expected, problems)
    assert all(p.startswith("intent") for p in problems)
    with pytest.raises(intent.IntentError) as err:
        intent.normalize(bad)
    assert err.value.problems == problems


def test_not_a_mapping_and_bad_dns():
    assert intent.check([]) == ["intent: must be a mapping with namespaces, workloads, flows, cluster"]
    with pytest.raises(intent.IntentError) as err:
        intent.normalize({}, dns_address="nope")
    assert err.value.problems[0].startswith("dns_address: ")


def test_with_namespaces_keeps_the_intent_profile():
    merged = intent.with_namespaces({"namespaces": {"a": {"profile": "open"}}}, ["a", "b"])
    assert merged["namespaces"] == {"a": {"profile": "open"}, "b": {"profile": "isolated"}}
    with pytest.raises(intent.IntentError) as err:
        intent.with_namespaces({}, ["Bad_NS"])
    assert err.value.problems[0].startswith("isolate_namespaces[0]: ")
