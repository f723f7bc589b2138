# -*- coding: utf-8 -*-
"""The proof with the real analyzer (network-config-analyzer from requirements.txt) and its output parser."""
import copy
import tempfile

import pytest

from policy_samples import DNS, three_tier

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import (
    analyzer, calico, compile as comp, conns, endpoints, expected, intent, prove)
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import dump_documents

NCA = analyzer.find_nca()


def _compiled(data):
    normal = intent.normalize(data, dns_address=DNS)
    return normal, comp.namespace_policies(normal) + calico.global_policies(normal)


def _find(objects, namespace, name):
    return [o for o in objects if o["metadata"].get("namespace") == namespace and o["metadata"]["name"] == name][0]


def test_analyzer_is_installed():
    # requirements.txt pins it; a missing analyzer must fail here, not skip
    assert NCA is not None, analyzer.INSTALL_HINT


def test_parser_on_real_output_shapes():
    lines = analyzer.parse_connectivity(
        "0.0.0.0-255.255.255.255 => shop/web[Pod] : All but {protocols:TCP}\n"
        "shop/web[Pod] => shop/api[Pod] : {protocols:TCP,dst_ports:53,8000-8100}\n"
        "shop/web[Pod] => 10.0.0.0/8 : {protocols:UDP, SCTP,dst_ports:53}\n"
        "kube-system/dns[Pod] => shop/api[Pod] : All but {protocols:TCP,dst_ports:22}\n"
        "noise line without arrow\n")
    assert lines[0][1] == ("pod", "shop/web") and lines[0][2] == conns.subtract(conns.ALL, {"TCP": conns.FULL})
    assert lines[1][2] == {"TCP": ((53, 53), (8000, 8100))}
    assert lines[2][1][0] == "ip" and lines[2][2] == {"UDP": ((53, 53),), "SCTP": ((53, 53),)}
    assert lines[3][2]["TCP"] == ((1, 21), (23, 65535)) and conns.OTHER in lines[3][2]
    with pytest.raises(analyzer.AnalyzerError):
        analyzer.parse_conn("{protocols:TCP,src_ports:80}")
    with pytest.raises(analyzer.AnalyzerError):
        analyzer.parse_peer("not a peer")
    assert analyzer.parse_sanity("x\nNetworkConfig p failed sanity check:\nA is empty\nB is redundant\n\nTotal") == [
        "A is empty", "B is redundant"]


@pytest.mark.slow
def test_three_tier_is_proven_exactly():
    normal, objects = _compiled(three_tier())
    result = prove.prove(normal, objects, NCA, _tmp(), dump_documents)
    assert result["ok"], prove.difference_lines(result["differences"])
    actual = result["actual"]
    assert actual[("shop/web", "shop/api")] == {"TCP": ((8080, 8080),)}
    assert actual[("shop/api", "data/db")] == {"TCP": ((5432, 5432),)}
    assert actual[("monitoring/prometheus", "data/db")] == {"TCP": ((9187, 9187),)}
    assert ("shop/web", "data/db") not in actual and ("data/db", "shop/api") not in actual
    assert actual[("monitoring/prometheus", "192.0.2.10")] == {"TCP": ((6443, 6443),)}
    assert ("shop/web", "192.0.2.10") not in actual
    # metadata denied cluster-wide, even from the open kube-system namespace; DNS allowed on 53 only
    assert ("kube-system/dns", "169.254.169.254") not in actual
    assert actual[("kube-system/dns", "203.0.113.10")] == conns.ALL
    assert actual[("shop/web", "kube-system/dns")] == {"TCP": ((53, 53),), "UDP": ((53, 53),)}
    assert actual == expected.expected(normal, endpoints.endpoints(normal))


@pytest.mark.slow
def test_over_permissive_and_blocked_edits_are_refused():
    normal, objects = _compiled(three_tier())
    wrong = copy.deepcopy(objects)
    _find(wrong, "data", "kubelayer-api-to-db-ingress")["spec"]["ingress"][0]["from"] = [{"namespaceSelector": {}}]
    _find(wrong, "shop", "kubelayer-web-to-api-egress")["spec"]["egress"][0]["ports"][0]["port"] = 8081
    result = prove.prove(normal, wrong, NCA, _tmp(), dump_documents, explain_limit=2)
    assert not result["ok"]
    lines = prove.difference_lines(result["differences"])
    assert any(line.startswith("kube-system/dns -> data/db, TCP 5432: over-permissive") for line in lines), lines
    blocked = [line for line in lines if line.startswith("shop/web -> shop/api, TCP 8080: blocked")]
    assert blocked and "intended by flow web-to-api" in blocked[0], lines
    assert any("kubelayer-api-to-db-ingress" in line for line in lines), lines


@pytest.mark.slow
def test_missing_metadata_deny_is_over_permissive():
    normal, objects = _compiled(three_tier())
    without = [o for o in objects if o["kind"] != "GlobalNetworkPolicy"]
    result = prove.prove(normal, without, NCA, _tmp(), dump_documents, explain_limit=0)
    lines = prove.difference_lines(result["differences"])
    assert "kube-system/dns -> 169.254.169.254, all: over-permissive (no intent flow allows it; policies not " \
           "explained (explain limit reached))" in lines


def _tmp():
    return tempfile.mkdtemp(prefix="kl-policy-")
