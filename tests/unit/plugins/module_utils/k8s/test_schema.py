# -*- coding: utf-8 -*-
"""schema.validate_objects: core kinds via kubernetes-validate, CRD kinds via the CRD's openAPIV3Schema."""
import copy
import os

from kubelayer_paths import upstream_dir
import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import schema
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import load_documents
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.schema import (
    openapi_to_jsonschema,
    validate_objects,
)

pytestmark = pytest.mark.slow  # loads the Kubernetes and CRD schemas


CANAL = os.path.join(upstream_dir(), "calico-v3.32.1", "canal.yaml")


@pytest.fixture(scope="module")
def upstream():
    with open(CANAL) as f:
        return load_documents(f.read())


def configmap(name="demo", **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "kube-system"},
            "data": data}


def test_libraries_present():
    assert schema.HAS_SCHEMA_LIBS, schema.SCHEMA_IMPORT_ERROR


def test_upstream_canal_manifest_is_valid(upstream):
    assert len(upstream) == 40
    assert validate_objects(upstream) == []


def test_valid_configmap():
    assert validate_objects([configmap(a="b")]) == []


def test_core_kind_wrong_type_and_unknown_field_reported():
    bad = configmap(a="b")
    bad["data"]["n"] = 5
    problems = validate_objects([bad])
    assert len(problems) == 1
    assert problems[0].startswith("ConfigMap/kube-system/demo: data.n: 5 is not of type")
    unknown = configmap()
    unknown["spec"] = {}
    assert validate_objects([unknown]) == [
        "ConfigMap/kube-system/demo: (root): Additional properties are not allowed ('spec' was unexpected)"]


def test_daemonset_missing_selector_reported(upstream):
    ds = copy.deepcopy([o for o in upstream if o["kind"] == "DaemonSet"][0])
    del ds["spec"]["selector"]
    problems = validate_objects([ds])
    assert problems == ["DaemonSet/kube-system/canal: spec: 'selector' is a required property"]


def test_bad_name_and_missing_metadata():
    problems = validate_objects([configmap(name="Not_Valid"), {"apiVersion": "v1", "kind": "ConfigMap"}])
    assert "ConfigMap/kube-system/Not_Valid: metadata.name: 'Not_Valid' is not a valid RFC 1123 subdomain" in problems
    assert "ConfigMap/-/<no name>: metadata: is required and must be a mapping" in problems


def test_not_a_mapping_and_missing_kind():
    problems = validate_objects(["text", {"metadata": {"name": "x"}}])
    assert problems == ["<not a mapping>/-/-: document is not a mapping",
                        "<no kind>/-/x: apiVersion and kind are required strings"]


def test_unknown_kind_without_crd():
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "a"}}
    problems = validate_objects([obj])
    assert problems == ["Widget/a/w: no schema for example.com/v1 Widget in Kubernetes 1.34.0 and no "
                        "CustomResourceDefinition serves it"]


def test_crd_kind_validated_against_crd_from_crds_argument(upstream):
    crds = [o for o in upstream if o["kind"] == "CustomResourceDefinition"]
    good = {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool", "metadata": {"name": "pool"},
            "spec": {"cidr": "10.244.0.0/16", "blockSize": 26, "natOutgoing": True}}
    assert validate_objects([good], crds=crds) == []
    bad = copy.deepcopy(good)
    bad["spec"]["blockSize"] = "big"
    bad["spec"]["surprise"] = True
    bad["metadata"]["namespace"] = "kube-system"
    problems = validate_objects([bad], crds=crds)
    assert "IPPool/kube-system/pool: metadata.namespace: IPPool is cluster-scoped and must not have a namespace" in problems
    assert "IPPool/kube-system/pool: spec: Additional properties are not allowed ('surprise' was unexpected)" in problems
    assert any(p.startswith("IPPool/kube-system/pool: spec.blockSize: 'big' is not of type") for p in problems)
    # without the CRD the kind is unknown
    assert "no CustomResourceDefinition serves it" in validate_objects([good])[0]


def test_crd_among_objects_is_used(upstream):
    crd = [o for o in upstream if o["kind"] == "CustomResourceDefinition" and o["spec"]["names"]["kind"] == "Tier"][0]
    tier = {"apiVersion": "crd.projectcalico.org/v1", "kind": "Tier", "metadata": {"name": "security"},
            "spec": {"order": 100}}
    assert validate_objects([crd, tier]) == []
    tier["spec"]["order"] = "first"
    assert validate_objects([crd, tier])[0].startswith("Tier/-/security: spec.order: 'first' is not")


def test_unserved_crd_version_not_used():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                    "versions": [{"name": "v1", "served": False, "storage": True,
                                  "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "a"}}
    assert "no CustomResourceDefinition serves it" in validate_objects([obj], crds=[crd])[0]
    crd["spec"]["versions"][0]["served"] = True
    assert validate_objects([obj], crds=[crd]) == []


def test_openapi_translation_semantics():
    src = {"type": "object", "properties": {
        "port": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
        "maybe": {"type": "string", "nullable": True},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {"type": "string"}}},
        "strict": {"type": "object", "properties": {"a": {"type": "string"}}},
        "map": {"type": "object", "additionalProperties": {"type": "string"}},
    }}
    out = openapi_to_jsonschema(src)
    assert out["additionalProperties"] is False
    assert set(out["properties"]) >= {"apiVersion", "kind", "metadata"}
    assert out["properties"]["maybe"]["type"] == ["string", "null"]
    assert "additionalProperties" not in out["properties"]["free"]
    assert out["properties"]["strict"]["additionalProperties"] is False
    assert out["properties"]["map"]["additionalProperties"] == {"type": "string"}
    assert "type" not in out["properties"]["port"]
    # the input is not modified
    assert "additionalProperties" not in src


def test_k8s_version_without_schemas():
    problems = validate_objects([configmap()], k8s_version="9.99.0")
    assert problems == ["ConfigMap/kube-system/demo: kubernetes-validate has no schemas for Kubernetes 9.99.0"]


def test_missing_libraries_raise(monkeypatch):
    monkeypatch.setattr(schema, "HAS_SCHEMA_LIBS", False)
    with pytest.raises(schema.MissingSchemaLibrary):
        validate_objects([configmap()])
