# -*- coding: utf-8 -*-
"""RuntimeClass objects: checks, merging the classes of several nodes, and the real node.k8s.io/v1 schema."""
import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import runtime_classes as rc
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import schema

KATA = {"name": "kata-qemu", "handler": "kata-qemu", "overhead": {"cpu": "250m", "memory": "160Mi"}}


def test_object_shape():
    assert rc.runtime_class_object(KATA) == {
        "apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
        "metadata": {"name": "kata-qemu", "labels": {"app.kubernetes.io/managed-by": "kubelayer.runtime"}},
        "handler": "kata-qemu", "overhead": {"podFixed": {"cpu": "250m", "memory": "160Mi"}}}
    assert "overhead" not in rc.runtime_class_object({"name": "crun", "handler": "crun"})


def test_equal_classes_of_two_nodes_are_one_and_conflicts_name_both():
    classes, problems = rc.merge_classes([{"name": "crun", "handler": "crun"}, KATA, {"name": "crun", "handler": "crun"}])
    assert problems == [] and classes == [{"name": "crun", "handler": "crun"}, KATA]
    dummy, problems = rc.merge_classes([KATA, dict(KATA, overhead={"cpu": "1"})])
    assert problems == ["classes[1]: RuntimeClass 'kata-qemu' is handler kata-qemu with overhead cpu=1 here but "
                        "handler kata-qemu with overhead cpu=250m, memory=160Mi in classes[0] (set the runtime "
                        "variables alike on every node, e.g. at group level)"]


@pytest.mark.parametrize("cls, problem", [
    ({"name": "Crun", "handler": "crun"}, "classes[0].name: 'Crun' is not a lowercase DNS-1123 subdomain"),
    ({"name": "a", "handler": "kata.qemu"}, "classes[0].handler: 'kata.qemu' is not a lowercase DNS-1123 label"),
    ({"name": "a", "handler": "b", "overhead": {"cpu": "-1"}}, "classes[0].overhead.cpu: '-1' is not a non-negative"),
    ({"name": "a", "handler": "b", "overhead": {"cpu": "1.5x"}}, "classes[0].overhead.cpu: '1.5x' is not"),
    ({"name": "a", "handler": "b", "overhead": {"cpu": True}}, "classes[0].overhead.cpu: True is not"),
    ({"name": "a", "handler": "b", "overhead": {"a b": "1"}}, "classes[0].overhead: 'a b' is not a resource name"),
    ({"name": "a", "handler": "b", "overhead": ["1"]}, "classes[0].overhead: must be a mapping"),
    ({"name": "a", "handler": "b", "scheduling": {}}, "classes[0]: unknown keys scheduling"),
    ("crun", "classes[0]: must be a mapping"),
])
def test_bad_classes_are_refused_by_name(cls, problem):
    classes, problems = rc.merge_classes([cls])
    assert classes == [] and len(problems) == 1 and problems[0].startswith(problem)


@pytest.mark.parametrize("quantity", ["1", "250m", "160Mi", "0.5", "1e3", "2Gi", ".5", "100k"])
def test_quantities_kubernetes_accepts(quantity):
    assert rc.class_problems({"name": "a", "handler": "b", "overhead": {"memory": quantity}}, "c") == []


@pytest.mark.slow  # loads the Kubernetes schemas
def test_objects_pass_the_real_runtimeclass_schema_and_a_wrong_field_does_not():
    classes = ({"name": "runc", "handler": "runc"}, KATA, {"name": "gvisor", "handler": "runsc"})
    objects = [rc.runtime_class_object(c) for c in classes]
    assert schema.validate_objects(objects) == []
    wrong = dict(objects[1], overhead={"fixed": {"cpu": "250m"}})
    problems = schema.validate_objects([wrong])
    assert len(problems) == 1 and problems[0].startswith("RuntimeClass/-/kata-qemu: ")
