# -*- coding: utf-8 -*-
"""Compiled objects: stable names, deterministic, valid against the Kubernetes and Calico CRD schemas."""
import os

import pytest

from kubelayer_paths import upstream_dir
from policy_samples import DNS, three_tier

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import calico, compile as comp, intent
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import load_documents
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.schema import validate_objects

CANAL = os.path.join(upstream_dir(), "calico-v3.32.1", "canal.yaml")


def _objects(data=None):
    normal = intent.normalize(data or three_tier(), dns_address=DNS)
    return comp.namespace_policies(normal), calico.global_policies(normal)


def test_names_and_layout():
    nps, gnps = _objects()
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in nps] == [
        ("data", "kubelayer-isolate"), ("data", "kubelayer-api-to-db-ingress"), ("data", "kubelayer-scrape-db-ingress"),
        ("monitoring", "kubelayer-isolate"), ("monitoring", "kubelayer-scrape-shop-egress"),
        ("monitoring", "kubelayer-scrape-db-egress"),
        ("shop", "kubelayer-isolate"), ("shop", "kubelayer-internet-to-web-ingress"),
        ("shop", "kubelayer-web-to-api-ingress"), ("shop", "kubelayer-web-to-api-egress"),
        ("shop", "kubelayer-api-to-db-egress"), ("shop", "kubelayer-scrape-shop-ingress")]
    assert [o["metadata"]["name"] for o in gnps] == ["kubelayer-cluster-egress", "kubelayer-open-egress"]
    isolate = nps[3]["spec"]
    assert isolate["policyTypes"] == ["Ingress", "Egress"]
    assert isolate["ingress"] == [{"from": [{"ipBlock": {"cidr": "10.89.0.0/24"}}]}]
    assert isolate["egress"] == [
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                 "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}, {"ipBlock": {"cidr": "10.233.0.10/32"}}],
         "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
        {"to": [{"ipBlock": {"cidr": "192.0.2.10/32"}}], "ports": [{"protocol": "TCP", "port": 6443}]}]
    scrape = nps[4]
    assert scrape["metadata"]["annotations"] == {"kubelayer.runtime/flow": "scrape-shop"}
    assert scrape["spec"]["egress"][0]["to"] == [{"namespaceSelector": {"matchLabels":
                                                                        {"kubernetes.io/metadata.name": "shop"}}}]
    assert gnps[0]["spec"]["egress"] == [{"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}}]
    assert gnps[1]["spec"]["namespaceSelector"] == "kubernetes.io/metadata.name not in {'data', 'monitoring', 'shop'}"


@pytest.mark.slow
def test_deterministic_and_schema_valid():
    assert _objects() == _objects()
    with open(CANAL) as f:
        crds = [d for d in load_documents(f.read()) if d["kind"] == "CustomResourceDefinition"]
    nps, gnps = _objects()
    assert validate_objects(nps + gnps, crds=crds) == []
    assert gnps[0]["apiVersion"] == "crd.projectcalico.org/v1"
    assert calico.analyzer_view(gnps)[0]["apiVersion"] == "projectcalico.org/v3"


def test_open_sides_get_nothing_and_cluster_rules():
    data = three_tier()
    data["namespaces"]["shop"]["profile"] = "isolated-egress"
    data["namespaces"]["data"]["profile"] = "open"
    data["flows"].append({"name": "imds", "from": {"workload": "api"},
                          "to": {"ipBlock": {"cidr": "169.254.169.254/32"}}, "ports": [{"protocol": "TCP", "port": 80}]})
    data["cluster"]["rules"] = [{"name": "no-smtp", "action": "Deny", "to": {"ipBlock": {"cidr": "0.0.0.0/0"}},
                                 "ports": [{"protocol": "TCP", "port": 25}, {"protocol": "TCP", "port": 465}]},
                                {"name": "no-bad", "action": "Deny", "from": {"ipBlock": {"cidr": "198.51.100.0/24"}}}]
    nps, gnps = _objects(data)
    names = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in nps]
    assert ("data", "kubelayer-isolate") not in names and ("shop", "kubelayer-web-to-api-ingress") not in names
    assert ("shop", "kubelayer-web-to-api-egress") in names
    shop_isolate = [o for o in nps if o["metadata"]["namespace"] == "shop" and o["metadata"]["name"] == "kubelayer-isolate"]
    assert shop_isolate[0]["spec"]["policyTypes"] == ["Egress"]
    egress = gnps[0]["spec"]["egress"]
    assert egress[0] == {"action": "Allow", "protocol": "TCP", "destination": {"nets": ["169.254.169.254/32"],
                                                                               "ports": [80]},
                         "source": {"selector": "app == 'api'",
                                    "namespaceSelector": "kubernetes.io/metadata.name == 'shop'"}}
    assert egress[1]["action"] == "Deny" and egress[2]["destination"]["ports"] == [25, 465]
    assert [o["metadata"]["name"] for o in gnps] == ["kubelayer-cluster-egress", "kubelayer-open-egress",
                                                     "kubelayer-cluster-ingress", "kubelayer-open-ingress"]
    assert gnps[3]["spec"]["namespaceSelector"] == "kubernetes.io/metadata.name not in {'monitoring'}"


def test_selector_expressions():
    sel = {"matchLabels": {"a": "1"}, "matchExpressions": [
        {"key": "b", "operator": "In", "values": ["x", "y"]}, {"key": "c", "operator": "NotIn", "values": ["z"]},
        {"key": "d", "operator": "Exists"}, {"key": "e", "operator": "DoesNotExist"}]}
    assert calico.selector_expr(sel) == "a == '1' && b in {'x', 'y'} && c not in {'z'} && has(d) && !has(e)"
    assert calico.selector_expr(None) == "all()"
