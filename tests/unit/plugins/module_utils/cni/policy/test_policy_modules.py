# -*- coding: utf-8 -*-
"""network_policy and network_policy_audit end to end (in-process, real analyzer, real Calico CRDs)."""
import json
import os

import pytest
import yaml
from kubelayer_compat import patch_module_args
from kubelayer_paths import upstream_dir
from policy_samples import DNS, three_tier

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import compile as comp
from ansible_collections.kubelayer.runtime.plugins.modules import network_policy, network_policy_audit

CANAL = os.path.join(upstream_dir(), "calico-v3.32.1", "canal.yaml")
# every test runs the module, most of them the analyzer (a process): left out of `make quick`
pytestmark = pytest.mark.slow


def run(capsys, module, check_mode=False, diff=False, **args):
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def render(capsys, dest, **extra):
    return run(capsys, network_policy, intent=three_tier(), dns_address=DNS, dest=dest, crds=[CANAL], graph=False,
               **extra)


def test_render_prove_idempotent_and_check_mode(tmp_path, capsys):
    dest = str(tmp_path / "np")
    first = run(capsys, network_policy, check_mode=True, diff=True, intent=three_tier(), dns_address=DNS, dest=dest,
                crds=[CANAL], graph=False)
    assert first["changed"] is True and not os.path.exists(dest)
    res = render(capsys, dest)
    assert res["changed"] is True and res["proof"]["ok"] is True, res
    assert res["objects"] == {"NetworkPolicy": 12, "GlobalNetworkPolicy": 2}
    assert [d["after_header"] for d in first["diff"]] == res["written"]
    assert sorted(os.listdir(dest)) == ["30-network-policies.yaml", "31-global-network-policies.yaml",
                                        "kustomization.yaml", "network-policy-graph.dot", "network-policy-matrix.md"]
    assert "shop/web -> shop/api: TCP 8080" in res["matrix"]
    with open(os.path.join(dest, "network-policy-matrix.md")) as f:
        assert "| shop/web | " in f.read()
    with open(os.path.join(dest, "kustomization.yaml")) as f:
        assert yaml.safe_load(f)["resources"] == ["30-network-policies.yaml", "31-global-network-policies.yaml"]
    again = render(capsys, dest, isolate_namespaces=["shop"])
    assert again["changed"] is False and again["written"] == []


def test_bad_intent_is_one_failure_with_every_problem(tmp_path, capsys):
    data = three_tier()
    data["flows"][0]["ports"] = [{"protocol": "TCP", "port": "https"}]
    data["namespaces"]["shop"]["profile"] = "closed"
    res = run(capsys, network_policy, intent=data, dest=str(tmp_path / "np"), isolate_namespaces=["OK_NOT"])
    assert res["failed"] is True
    assert res["problems"] == ["isolate_namespaces[0]: 'OK_NOT' is not a name (lowercase RFC 1123 label, at most 63 "
                               "characters)"]
    res = run(capsys, network_policy, intent=data, dest=str(tmp_path / "np"))
    assert [p.split(": ")[0] for p in res["problems"]] == ["intent.namespaces.shop.profile", "intent.flows[0].ports[0].port"]
    assert not os.path.exists(str(tmp_path / "np"))


def test_a_wrong_compiler_is_refused_and_nothing_written(tmp_path, capsys, monkeypatch):
    real = comp._flow_policies

    def wider(flow, namespaces):
        out = real(flow, namespaces)
        for obj in out:
            for rule in obj["spec"].get("ingress", []):
                rule.pop("ports", None)
        return out

    monkeypatch.setattr(comp, "_flow_policies", wider)
    data = three_tier()
    data["namespaces"]["shop"]["profile"] = "isolated-ingress"
    dest = str(tmp_path / "np")
    res = run(capsys, network_policy, intent=data, dns_address=DNS, dest=dest, crds=[CANAL], explain_limit=1)
    assert res["failed"] is True and not os.path.exists(dest)
    assert "between the intent and the analyzer; nothing written" in res["msg"]
    assert any(d.startswith("shop/web -> shop/api, TCP 1-8079, 8081-65535") and "over-permissive" in d
               for d in res["differences"]), res["differences"]


def test_missing_analyzer_says_what_to_do(tmp_path, capsys):
    res = run(capsys, network_policy, intent=three_tier(), dest=str(tmp_path / "np"), crds=[CANAL],
              analyzer=str(tmp_path / "no-nca"))
    assert res["failed"] is True and "pip install network-config-analyzer==2.1.0" in res["msg"]


def test_audit_catches_a_hand_edit(tmp_path, capsys):
    dest = str(tmp_path / "np")
    render(capsys, dest)
    clean = run(capsys, network_policy_audit, src=dest, intent=three_tier(), dns_address=DNS)
    assert clean["changed"] is False and clean["differences"] == [], clean
    assert clean["unisolated_namespaces"] == ["namespace kube-system: ingress and egress not isolated (no policy "
                                              "selecting every pod with that type)"]
    path = os.path.join(dest, "30-network-policies.yaml")
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for doc in docs:
        if doc["metadata"]["name"] == "kubelayer-api-to-db-ingress":
            doc["spec"]["ingress"][0]["from"] = [{"namespaceSelector": {}}]   # the hand edit: "any namespace"
    with open(path, "w") as f:
        yaml.safe_dump_all(docs, f)
    res = run(capsys, network_policy_audit, src=dest, intent=three_tier(), dns_address=DNS)
    assert res["failed"] is True
    assert res["differences"] == [
        "kube-system/dns -> data/db, TCP 5432: over-permissive (no intent flow allows it; policies selecting the "
        "source: kubelayer-open-egress; policies selecting the destination: kubelayer-api-to-db-ingress)"]


def test_audit_of_foreign_policies(tmp_path, capsys):
    src = tmp_path / "export"
    src.mkdir()
    objs = [
        {"apiVersion": "v1", "kind": "PodList", "items": [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": n, "namespace": "app", "labels": {"app": n}},
             "spec": {"nodeName": "n1"}} for n in ("front", "back")]},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "back", "namespace": "app"},
         "spec": {"podSelector": {"matchLabels": {"app": "back"}}, "policyTypes": ["Ingress"], "ingress": [
             {"from": [{"podSelector": {"matchLabels": {"app": "front"}}}], "ports": [{"protocol": "TCP", "port": 80}]},
             {"from": [{"podSelector": {}}]}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "ghost", "namespace": "app"},
         "spec": {"podSelector": {"matchLabels": {"app": "ghost"}}, "policyTypes": ["Ingress"]}},
    ]
    (src / "export.yaml").write_text("".join("---\n" + yaml.safe_dump(o) for o in objs))
    res = run(capsys, network_policy_audit, src=str(src))
    assert res["unisolated_namespaces"] == ["namespace app: ingress and egress not isolated (no policy selecting "
                                            "every pod with that type)"]
    assert res["empty_policies"] == ["NetworkPolicy app/ghost is empty - it does not select any pods"]
    assert len(res["shadowed_rules"]) == 1 and "redundant" in res["shadowed_rules"][0]
    assert "app/front -> app/back: all" in res["connectivity"]
    assert run(capsys, network_policy_audit, src=str(tmp_path))["failed"] is True


def test_check_mode_before_the_canal_manifests_exist(tmp_path, capsys):
    # a fresh controller in --check: canal_manifest has not written 00-canal-crds.yaml yet
    missing = str(tmp_path / "canal" / "00-canal-crds.yaml")
    res = run(capsys, network_policy, check_mode=True, intent=three_tier(), dns_address=DNS, dest=str(tmp_path / "np"),
              crds=[missing], graph=False)
    assert res["changed"] is True and res["proof"]["ok"] is True, res
    assert "does not exist yet (check mode)" in json.dumps(res)   # the warning (its shape differs by ansible-core)
    res = run(capsys, network_policy, intent=three_tier(), dns_address=DNS, dest=str(tmp_path / "np"), crds=[missing])
    assert res["failed"] is True and res["problems"] == ["crds: cannot read %s" % missing]
