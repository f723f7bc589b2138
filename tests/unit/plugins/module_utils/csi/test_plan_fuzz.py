# -*- coding: utf-8 -*-
"""Property tests: csi/plan.py never raises anything but PlanError, and accepted plans keep the invariants."""
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import plan as P
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import drivers
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import sources
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import render as R

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_plan import load_upstream  # noqa: E402  pylint: disable=wrong-import-position

UPSTREAM = load_upstream()

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12))
json_any = st.recursive(json_leaf, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)), max_leaves=12)

KEYS = ["name", "install", "namespace", "version", "repo", "values", "storage_classes", "snapshot_classes",
        "operator_namespace", "cluster_name", "device_filter", "use_all_devices", "nodes", "osd_devices",
        "healthy_states", "replicas", "cluster_values", "operator_values", "drivers_values", "registry", "api_url",
        "server", "share", "path", "node_path_map", "image", "debug", "data_path", "mon_count",
        "data_dir_host_path", "cephfs_client_type", "use_k8s_namespace_as_tenant", "provisioner"]
NAMES = st.sampled_from(list(drivers.NAMES) + ["ceph", "", "NFS"])
CLASS_NAMES = st.sampled_from(["a", "b", "local-path", "ceph-block", "longhorn", "nfs-csi", "Bad_Name", ""])

class_spec = st.fixed_dictionaries({"name": CLASS_NAMES}, optional={
    "default": st.one_of(st.booleans(), json_leaf),
    "reclaim_policy": st.sampled_from(["Delete", "Retain", "Keep"]),
    "volume_binding_mode": st.sampled_from(["Immediate", "WaitForFirstConsumer", "Later"]),
    "type": st.sampled_from(["block", "filesystem", "object"]),
    "parameters": st.one_of(st.dictionaries(st.text(max_size=6), json_leaf, max_size=3), json_leaf),
    "deletion_policy": st.sampled_from(["Delete", "Retain", "x"]),
})

driver = st.fixed_dictionaries({"name": NAMES}, optional=dict(
    [(k, json_any) for k in KEYS
     if k not in ("name", "storage_classes", "snapshot_classes", "server", "share", "registry", "device_filter")]
    + [("storage_classes", st.one_of(st.lists(class_spec, max_size=3), json_any)),
       ("snapshot_classes", st.one_of(st.lists(class_spec, max_size=2), json_any)),
       ("server", st.sampled_from(["nfs1", "", None])), ("share", st.sampled_from(["/export", "x", None])),
       ("registry", st.sampled_from(["r:7861", None])), ("device_filter", st.sampled_from(["^sd[b-z]", "(", None]))]))

snapshot = st.one_of(json_any, st.fixed_dictionaries({}, optional={
    "crds": st.sampled_from(["managed", "external", "absent", "x"]),
    "controller": st.sampled_from(["managed", "external", "absent"]),
    "namespace": st.sampled_from(["kube-system", "snap", "Bad"]),
    "replicas": st.one_of(st.integers(-1, 3), json_leaf)}))


def check(drivers, snapshot_arg, version, upstream):
    try:
        plan = P.build_plan(drivers, snapshot=snapshot_arg, upstream=upstream, kubernetes_version=version)
    except P.PlanError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return None
    # invariants of every accepted plan
    phases = [s["phase"] for s in plan["steps"]]
    order = {"snapshot-crds": 0, "snapshot-controller": 1, "driver": 2, "classes": 3}
    assert [order[p] for p in phases] == sorted(order[p] for p in phases)
    classes = [o for s in plan["steps"] if s["phase"] == "classes" for o in s["objects"]]
    defaults = [o for o in classes if o["kind"] == "StorageClass"
                and o["metadata"]["annotations"][common.DEFAULT_SC_ANNOTATION] == "true"]
    assert len(defaults) <= 1
    names = [o["metadata"]["name"] for o in classes if o["kind"] == "StorageClass"]
    assert len(names) == len(set(names))
    if any(o["kind"] == "VolumeSnapshotClass" for o in classes):
        assert plan["snapshot"]["crds"] != "absent" or any(
            s.get("values", {}).get("externalSnapshotter", {}).get("enabled") is True for s in plan["steps"])
    R.render_tree(plan)  # every accepted plan renders
    P.apply_items(plan)
    return plan


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drivers=st.one_of(st.lists(driver, max_size=4), json_any), snapshot_arg=snapshot,
       version=st.one_of(st.none(), st.sampled_from(["1.34.0", "1.20", "v1.31.2", "x"]), json_leaf),
       with_upstream=st.booleans())
@pytest.mark.slow  # reads every upstream file per example
def test_never_a_traceback(drivers, snapshot_arg, version, with_upstream):
    check(drivers, snapshot_arg, version, UPSTREAM if with_upstream else None)


@settings(max_examples=examples(150), deadline=None)
@given(drivers=st.lists(st.dictionaries(st.sampled_from(KEYS), json_any, max_size=6), max_size=3),
       upstream=st.one_of(st.just(UPSTREAM), json_any,
                          st.dictionaries(st.sampled_from(list(sources.UPSTREAM_FILES)), json_any)))
def test_arbitrary_values_and_upstream_shapes(drivers, upstream):
    check(drivers, None, None, upstream)


@settings(max_examples=examples(150), deadline=None)
@given(flags=st.lists(st.booleans(), min_size=1, max_size=5))
def test_default_count_decides(flags):
    """Accepted exactly when at most one class is default, whatever drivers the classes belong to."""
    drivers = [
        {"name": "local-path", "storage_classes": []},
        {"name": "longhorn", "storage_classes": []},
        {"name": "nfs", "server": "n", "share": "/s", "storage_classes": []},
    ]
    for index, flag in enumerate(flags):
        drivers[index % 3]["storage_classes"].append({"name": "sc-%d" % index, "default": flag})
    result = check(drivers, None, None, UPSTREAM)
    assert (result is not None) == (sum(flags) <= 1)
    if result is not None and sum(flags) == 1:
        assert result["default_storage_class"] == "sc-%d" % flags.index(True)
