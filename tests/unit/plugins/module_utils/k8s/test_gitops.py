# -*- coding: utf-8 -*-
"""gitops: YAML load/dump and the kustomize tree."""
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import (
    KUSTOMIZATION,
    ManifestError,
    dump_documents,
    kustomization,
    load_documents,
    render_kustomize_tree,
)


def cm(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_load_skips_empty_documents():
    assert load_documents("---\n---\na: 1\n---\n\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]


def test_load_rejects_non_mappings_and_bad_yaml():
    with pytest.raises(ManifestError) as err:
        load_documents("- a\n---\nplain\n", source="x.yaml")
    assert err.value.problems == ["x.yaml: document 1 is a list, not a mapping",
                                  "x.yaml: document 2 is a str, not a mapping"]
    with pytest.raises(ManifestError) as err:
        load_documents("a: [1\n", source="y.yaml")
    assert err.value.problems[0].startswith("y.yaml: not valid YAML")


def test_dump_keeps_order_and_literal_blocks():
    text = dump_documents([cm("a", conf='{\n  "x": 1\n}\n', z="1"), cm("b")])
    assert text.startswith("---\napiVersion: v1\nkind: ConfigMap\n")
    assert "conf: |\n    {\n      \"x\": 1\n    }\n" in text
    assert text.count("---\n") == 2
    assert dump_documents([]) == ""


def test_render_tree():
    tree = render_kustomize_tree({"10-a.yaml": [cm("a")], "20-b.yaml": [cm("b"), cm("c")]},
                                 namespace="kube-system", labels={"app.kubernetes.io/part-of": "canal"})
    assert list(tree) == ["10-a.yaml", "20-b.yaml", KUSTOMIZATION]
    k = yaml.safe_load(tree[KUSTOMIZATION])
    assert k == {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                 "namespace": "kube-system",
                 "labels": [{"pairs": {"app.kubernetes.io/part-of": "canal"}, "includeSelectors": False}],
                 "resources": ["10-a.yaml", "20-b.yaml"]}
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(tree["20-b.yaml"])] == ["b", "c"]


def test_render_tree_reports_every_problem():
    with pytest.raises(ManifestError) as err:
        render_kustomize_tree({"../x.yaml": [cm("a")], "kustomization.yaml": [cm("b")], "c.yaml": [],
                               "d.json": ["text"]})
    problems = err.value.problems
    assert "file name '../x.yaml' must be a plain name ending in .yaml or .yml" in problems
    assert "file name 'kustomization.yaml' is reserved for the generated kustomization" in problems
    assert "file 'c.yaml' must hold a non-empty list of objects" in problems
    assert "file name 'd.json' must be a plain name ending in .yaml or .yml" in problems
    assert "file 'd.json' holds a document that is not a mapping" in problems
    assert len(problems) == 5


def test_kustomization_minimal():
    assert kustomization(["a.yaml"]) == {"apiVersion": "kustomize.config.k8s.io/v1beta1",
                                         "kind": "Kustomization", "resources": ["a.yaml"]}


_scalars = st.one_of(st.text(max_size=30), st.integers(), st.booleans(), st.none(),
                     st.floats(allow_nan=False, allow_infinity=False))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(min_size=1, max_size=10), inner,
                                                                         max_size=4)), max_leaves=20)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.dictionaries(st.text(min_size=1, max_size=12), _values, min_size=1, max_size=5),
                min_size=1, max_size=4))
def test_dump_load_round_trip(docs):
    assert load_documents(dump_documents(docs)) == docs
