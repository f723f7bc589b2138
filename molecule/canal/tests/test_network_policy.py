"""The network policies the role compiled from the three-tier intent, proven by network-config-analyzer (controller)."""
import copy
import os
import shutil
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], ".venv", "collections"))
# pylint: disable=wrong-import-position
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import (  # noqa: E402
    analyzer, audit, intent)
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import dump_documents  # noqa: E402

OUT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "network-policies")
MOLECULE = os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "molecule.yml")


def _intent():
    with open(MOLECULE) as f:
        group_vars = yaml.safe_load(f)["provisioner"]["inventory"]["group_vars"]["k8s_cluster"]
    merged = intent.with_namespaces(group_vars["canal_network_policy"], group_vars["canal_policy_namespaces"])
    return intent.normalize(merged, dns_address="10.233.0.10")


def _load(directory):
    docs = []
    for name in ("30-network-policies.yaml", "31-global-network-policies.yaml"):
        with open(os.path.join(directory, name)) as f:
            docs.extend(d for d in yaml.safe_load_all(f) if d)
    return docs


def test_rendered_beside_the_canal_manifests():
    assert sorted(n for n in os.listdir(OUT) if not n.endswith(".svg")) == [
        "30-network-policies.yaml", "31-global-network-policies.yaml", "kustomization.yaml",
        "network-policy-graph.dot", "network-policy-matrix.md"]
    docs = _load(OUT)
    names = sorted((d["metadata"].get("namespace", "-"), d["metadata"]["name"]) for d in docs)
    # canal_policy_namespaces: [default] is an isolated namespace of the same intent
    assert ("default", "kubelayer-isolate") in names and ("data", "kubelayer-api-to-db-ingress") in names
    assert ("-", "kubelayer-cluster-egress") in names


def test_matrix_shows_exactly_the_intended_flows():
    with open(os.path.join(OUT, "network-policy-matrix.md")) as f:
        text = f.read()
    row = [line for line in text.splitlines() if line.startswith("| shop/web |")][0].split(" | ")
    header = [line for line in text.splitlines() if line.startswith("| from \\ to |")][0].split(" | ")
    cells = dict(zip(header, row))
    assert cells["shop/api"] == "TCP 8080"
    assert cells["data/db"] == "" and cells["kube-system/dns"] == "TCP 53; UDP 53"


def test_audit_proves_the_render_and_catches_a_hand_edit():
    normal = _intent()
    nca = analyzer.find_nca()
    result = audit.audit(_load(OUT), nca, tempfile.mkdtemp(), dump_documents, normal, explain_limit=1)
    assert result["differences"] == []
    edited = tempfile.mkdtemp()
    shutil.copytree(OUT, edited, dirs_exist_ok=True)
    docs = _load(edited)
    wrong = copy.deepcopy(docs)
    for doc in wrong:
        if doc["metadata"]["name"] == "kubelayer-scrape-db-ingress":
            doc["spec"]["ingress"][0]["ports"] = [{"protocol": "TCP", "port": 5432}]   # scrape the database port
    result = audit.audit(wrong, nca, tempfile.mkdtemp(), dump_documents, normal, explain_limit=1)
    kinds = sorted((d["source"], d["destination"], d["kind"]) for d in result["differences"])
    assert kinds == [("monitoring/prometheus", "data/db", "blocked")], result["differences"]
