# -*- coding: utf-8 -*-
"""csi/plan.py: ordering, refusals (every problem at once), driver values and structural patches."""
import copy
import json
import os

from kubelayer_paths import upstream_dir
import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import plan as P
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import reader
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import rook_ceph
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import sources
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import load_documents


UPSTREAM_DIR = upstream_dir()


def load_upstream():
    out = {}
    for key, files in sources.UPSTREAM_FILES.items():
        docs = []
        for name in files:
            with open(os.path.join(UPSTREAM_DIR, name)) as handle:
                docs.extend(load_documents(handle.read()))
        out[key] = docs
    return out


@pytest.fixture(scope="module")
def upstream():
    return load_upstream()


def refused(drivers, **kwargs):
    with pytest.raises(P.PlanError) as info:
        P.build_plan(drivers, **kwargs)
    return info.value.problems


ROOK = {"name": "rook-ceph", "device_filter": "^sd[b-z]"}
NFS = {"name": "nfs", "server": "nfs1.example.com", "share": "/export/k8s"}
QUOBYTE = {"name": "quobyte", "registry": "reg1:7861,reg2:7861",
           "storage_classes": [{"name": "quobyte", "parameters": {"quobyteTenant": "k8s"}}]}
LONGHORN = {"name": "longhorn"}
LOCAL = {"name": "local-path"}


def step(plan, name):
    return [s for s in plan["steps"] if s["name"] == name][0]


def objects_of(plan, kind):
    return [o for s in plan["steps"] if s["kind"] == "manifest" for o in s["objects"] if o["kind"] == kind]


# ---------------------------------------------------------------- ordering


def test_full_plan_order(upstream):
    plan = P.build_plan([LOCAL, ROOK, NFS, QUOBYTE, LONGHORN], upstream=upstream)
    names = [(s["phase"], s["kind"], s["name"]) for s in plan["steps"]]
    assert names == [
        ("snapshot-crds", "manifest", "snapshot-crds"),
        ("snapshot-controller", "manifest", "snapshot-controller"),
        ("driver", "manifest", "local-path-provisioner"),
        ("driver", "helm", "rook-ceph"),
        ("driver", "helm", "ceph-csi-drivers"),
        ("driver", "helm", "rook-ceph-cluster"),
        ("driver", "helm", "csi-driver-nfs"),
        ("driver", "helm", "quobyte-csi"),
        ("driver", "helm", "longhorn"),
        ("classes", "manifest", "storage-classes"),
    ]
    assert plan["drivers"] == ["local-path", "rook-ceph", "nfs", "quobyte", "longhorn"]
    assert plan["storage_classes"] == ["local-path", "ceph-block", "nfs-csi", "quobyte", "longhorn"]
    # nobody asked for a default: none is set, and the plan says so
    assert plan["default_storage_class"] is None
    assert any("no default StorageClass" in w for w in plan["warnings"])
    assert all(o["metadata"]["annotations"][common.DEFAULT_SC_ANNOTATION] == "false"
               for o in objects_of(plan, "StorageClass"))


def test_snapshot_crds_come_from_upstream_and_wait_established(upstream):
    plan = P.build_plan([NFS], upstream=upstream)
    crds = step(plan, "snapshot-crds")
    assert sorted(o["metadata"]["name"] for o in crds["objects"]) == [
        "volumesnapshotclasses.snapshot.storage.k8s.io",
        "volumesnapshotcontents.snapshot.storage.k8s.io",
        "volumesnapshots.snapshot.storage.k8s.io"]
    assert crds["objects"] == upstream["snapshot_crds"]  # unmodified
    assert [w["condition"] for w in crds["wait"]] == [{"type": "Established", "status": "True"}] * 3
    items = P.apply_items(plan)
    assert [i["wait_condition"] for i in items["crds"]] == [{"type": "Established", "status": "True"}] * 3
    assert [i["object"]["kind"] for i in items["controller"] if i["wait"]] == ["Deployment"]
    assert [h["name"] for h in items["helm"]] == ["csi-driver-nfs"]


def test_rook_three_releases_in_order_with_prefixed_drivers(upstream):
    plan = P.build_plan([dict(ROOK, operator_namespace="storage-op", namespace="storage",
                              snapshot_classes=[{"name": "rbd-snap", "default": True},
                                                {"name": "fs-snap", "type": "filesystem"}],
                              storage_classes=[{"name": "ceph-block", "default": True},
                                               {"name": "cephfs", "type": "filesystem", "replicas": 2}])],
                        upstream=upstream)
    helm = [s for s in plan["steps"] if s["kind"] == "helm"]
    assert [(s["name"], s["chart"], s["namespace"], s["repo"], s["version"]) for s in helm] == [
        ("rook-ceph", "rook-ceph", "storage-op", rook_ceph.REPO, "v1.20.6"),
        ("ceph-csi-drivers", "ceph-csi-drivers", "storage-op", rook_ceph.CEPH_CSI_REPO, "1.0.4"),
        ("rook-ceph-cluster", "rook-ceph-cluster", "storage", rook_ceph.REPO, "v1.20.6"),
    ]
    drivers = helm[1]["values"]["drivers"]
    assert drivers["rbd"]["name"] == "storage-op.rbd.csi.ceph.com"
    assert drivers["cephfs"]["name"] == "storage-op.cephfs.csi.ceph.com"
    assert drivers["cephfs"]["cephFsClientType"] == "kernel"
    assert drivers["nfs"]["enabled"] is False
    cluster = helm[2]["values"]
    assert cluster["operatorNamespace"] == "storage-op"
    assert cluster["clusterName"] == "storage"
    assert cluster["cephClusterSpec"]["storage"] == {
        "useAllNodes": True, "useAllDevices": False, "deviceFilter": "^sd[b-z]"}
    # pools and filesystems come from the chart, their classes from the plan (never from the chart)
    assert cluster["cephBlockPools"] == [{"name": "ceph-blockpool", "spec": {
        "failureDomain": "host", "replicated": {"size": 3}}, "storageClass": {"enabled": False}}]
    assert cluster["cephFileSystems"][0]["name"] == "cephfs"
    assert cluster["cephFileSystems"][0]["spec"]["dataPools"][0]["replicated"] == {"size": 2}
    assert cluster["cephBlockPoolsVolumeSnapshotClass"] == {"enabled": False}
    scs = dict((o["metadata"]["name"], o) for o in objects_of(plan, "StorageClass"))
    assert scs["ceph-block"]["provisioner"] == "storage-op.rbd.csi.ceph.com"
    assert scs["ceph-block"]["parameters"]["clusterID"] == "storage"
    assert scs["ceph-block"]["parameters"]["pool"] == "ceph-blockpool"
    assert scs["ceph-block"]["parameters"]["csi.storage.k8s.io/node-stage-secret-name"] == "rook-csi-rbd-node"
    assert scs["cephfs"]["provisioner"] == "storage-op.cephfs.csi.ceph.com"
    assert scs["cephfs"]["parameters"]["pool"] == "cephfs-data0"
    vscs = dict((o["metadata"]["name"], o) for o in objects_of(plan, "VolumeSnapshotClass"))
    assert vscs["rbd-snap"]["driver"] == "storage-op.rbd.csi.ceph.com"
    assert vscs["fs-snap"]["parameters"]["csi.storage.k8s.io/snapshotter-secret-name"] == "rook-csi-cephfs-provisioner"
    assert plan["default_storage_class"] == "ceph-block"
    # waits: CSIDriver present, ctrl/node plugins ready, CephCluster Ready and HEALTH_OK
    waits = plan["driver_waits"]["rook-ceph"]
    assert {"api_version": "storage.k8s.io/v1", "kind": "CSIDriver", "name": "storage-op.rbd.csi.ceph.com"} in waits
    assert {"api_version": "apps/v1", "kind": "DaemonSet", "name": "storage-op.cephfs.csi.ceph.com-nodeplugin",
            "namespace": "storage-op"} in waits
    ceph = [w for w in waits if w["kind"] == "CephCluster"][0]
    assert ceph["condition"] == {"type": "Ready", "status": "True"} and ceph["ceph_health"] == ["HEALTH_OK"]
    # the classes step is last: after every Helm release and after the CRDs
    assert plan["steps"][-1]["phase"] == "classes"


def test_rook_osd_devices_become_storage_devices(upstream):
    plan = P.build_plan([{"name": "rook-ceph", "osd_devices": ["/dev/sdb", "/dev/disk/by-id/ata-X"]}],
                        upstream=upstream)
    storage = step(plan, "rook-ceph-cluster")["values"]["cephClusterSpec"]["storage"]
    assert storage["devices"] == [{"name": "/dev/sdb"}, {"name": "/dev/disk/by-id/ata-X"}]
    assert storage["useAllDevices"] is False


def test_rook_before_v1_20_is_refused(upstream):
    problems = refused([dict(ROOK, version="v1.19.3")], upstream=upstream)
    assert len(problems) == 1 and "v1.20 flow" in problems[0]


def test_user_values_merge_over_computed_ones(upstream):
    plan = P.build_plan([dict(NFS, values={"controller": {"replicas": 2}, "kubeletDir": "/var/snap/k"})],
                        upstream=upstream)
    values = step(plan, "csi-driver-nfs")["values"]
    assert values["controller"] == {"replicas": 2, "enableSnapshotter": True}
    assert values["kubeletDir"] == "/var/snap/k"
    assert values["externalSnapshotter"] == {"enabled": False}


def test_nfs_default_class_carries_server_and_share(upstream):
    plan = P.build_plan([dict(NFS, storage_classes=[{"name": "nfs", "default": True, "parameters": {"subDir": "x"}}])],
                        upstream=upstream)
    sc = objects_of(plan, "StorageClass")[0]
    assert sc["provisioner"] == "nfs.csi.k8s.io"
    assert sc["parameters"] == {"server": "nfs1.example.com", "share": "/export/k8s", "subDir": "x"}
    assert sc["mountOptions"] == ["nfsvers=4.1"]
    assert sc["metadata"]["annotations"][common.DEFAULT_SC_ANNOTATION] == "true"


def test_quobyte_and_longhorn_values(upstream):
    plan = P.build_plan([dict(QUOBYTE, snapshot_classes=[{"name": "qs"}]), LONGHORN], upstream=upstream)
    quobyte = step(plan, "quobyte-csi")["values"]["quobyte"]
    assert quobyte["enableSnapshots"] is True and quobyte["csiProvisionerName"] == "csi.quobyte.com"
    assert plan["node_requirements"]["quobyte"]["quobyte_registry"] == "reg1:7861,reg2:7861"
    longhorn = step(plan, "longhorn")["values"]
    assert longhorn["persistence"]["defaultClass"] is False
    assert longhorn["persistence"]["createStorageClass"] is False
    sc = [o for o in objects_of(plan, "StorageClass") if o["metadata"]["name"] == "longhorn"][0]
    assert sc["provisioner"] == "driver.longhorn.io" and sc["parameters"]["numberOfReplicas"] == "3"


# ---------------------------------------------------------------- local-path structural patches


def test_local_path_patched_structurally(upstream):
    pristine = copy.deepcopy(upstream["local_path"])
    plan = P.build_plan([{"name": "local-path", "namespace": "lp", "path": "/srv/lp", "debug": False,
                          "image": "mirror.example/rancher/local-path-provisioner:v0.0.37",
                          "node_path_map": [{"node": "n1", "paths": ["/data1"]}],
                          "storage_classes": [{"name": "local", "default": True, "reclaim_policy": "Retain"}]}],
                        snapshot={"crds": "absent", "controller": "absent"}, upstream=upstream)
    assert upstream["local_path"] == pristine  # the parsed upstream objects are never changed
    objs = step(plan, "local-path-provisioner")["objects"]
    assert "StorageClass" not in [o["kind"] for o in objs]  # moved to the classes step
    ns = [o for o in objs if o["kind"] == "Namespace"][0]
    assert ns["metadata"]["name"] == "lp"
    assert all(o["metadata"].get("namespace") in (None, "lp") for o in objs)
    crb = [o for o in objs if o["kind"] == "ClusterRoleBinding"][0]
    assert crb["subjects"][0]["namespace"] == "lp"
    config = json.loads([o for o in objs if o["kind"] == "ConfigMap"][0]["data"]["config.json"])
    assert config["nodePathMap"] == [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["/srv/lp"]},
                                     {"node": "n1", "paths": ["/data1"]}]
    container = [o for o in objs if o["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "mirror.example/rancher/local-path-provisioner:v0.0.37"
    assert "--debug" not in container["command"] and container["command"][0] == "local-path-provisioner"
    sc = objects_of(plan, "StorageClass")[0]
    assert sc["metadata"]["name"] == "local"
    assert sc["provisioner"] == "rancher.io/local-path"
    assert sc["reclaimPolicy"] == "Retain"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["metadata"]["annotations"][common.DEFAULT_SC_ANNOTATION] == "true"
    assert plan["node_requirements"]["local-path"]["directories"] == ["/srv/lp", "/data1"]
    assert [s["phase"] for s in plan["steps"]] == ["driver", "classes"]


def test_snapshot_controller_patched(upstream):
    plan = P.build_plan([NFS], snapshot={"namespace": "snap", "replicas": 1, "image": "m.example/snapshot-controller:v8.5.0"},
                        upstream=upstream)
    objs = step(plan, "snapshot-controller")["objects"]
    deployment = [o for o in objs if o["kind"] == "Deployment"][0]
    assert deployment["metadata"]["namespace"] == "snap" and deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "m.example/snapshot-controller:v8.5.0"
    crb = [o for o in objs if o["kind"] == "ClusterRoleBinding"][0]
    assert crb["subjects"][0]["namespace"] == "snap"
    assert all(o["metadata"].get("namespace") in (None, "snap") for o in objs)


# ---------------------------------------------------------------- refusals


def test_two_default_storage_classes_refused(upstream):
    problems = refused([dict(LOCAL, storage_classes=[{"name": "local-path", "default": True}]),
                        dict(LONGHORN, storage_classes=[{"name": "longhorn", "default": True}])], upstream=upstream)
    assert problems == ["more than one default StorageClass: local-path (local-path), longhorn (longhorn); "
                        "mark exactly one with default: true"]


def test_chart_created_default_class_counts(upstream):
    # rook's chart makes ceph-block default and Longhorn's makes longhorn default when their values say so
    problems = refused([dict(ROOK, storage_classes=[], cluster_values={"cephBlockPools": [
        {"name": "p", "storageClass": {"enabled": True, "name": "ceph-block", "isDefault": True}}]}),
        dict(LONGHORN, storage_classes=[], values={"persistence": {"defaultClass": True}})], upstream=upstream)
    assert len(problems) == 1
    assert "ceph-block (rook-ceph chart)" in problems[0] and "longhorn (longhorn chart)" in problems[0]


def test_snapshot_class_without_crds_refused(upstream):
    problems = refused([dict(NFS, snapshot_classes=[{"name": "nfs-snap"}])],
                       snapshot={"crds": "absent", "controller": "absent"}, upstream=upstream)
    assert len(problems) == 2
    assert "snapshot CRDs are not installed" in problems[0]
    assert "no snapshot-controller runs" in problems[1]
    # CRDs and controller installed by something else: accepted, and nothing is installed for them
    plan = P.build_plan([dict(NFS, snapshot_classes=[{"name": "nfs-snap"}])],
                        snapshot={"crds": "external", "controller": "external"}, upstream=upstream)
    assert [s["phase"] for s in plan["steps"]] == ["driver", "classes"]
    assert [o["kind"] for o in plan["steps"][-1]["objects"]] == ["StorageClass", "VolumeSnapshotClass"]


def test_nfs_chart_snapshotter_conflicts(upstream):
    values = {"externalSnapshotter": {"enabled": True}, "volumeSnapshotClass": {"create": True}}
    problems = refused([dict(NFS, values=values)], upstream=upstream)
    assert any("same release as its CRDs" in p for p in problems)
    assert any("one snapshot-controller per cluster" in p for p in problems)
    plan = P.build_plan([dict(NFS, values={"externalSnapshotter": {"enabled": True}},
                              snapshot_classes=[{"name": "s"}])],
                        snapshot={"crds": "external", "controller": "external"}, upstream=upstream)
    assert plan["snapshot_classes"] == ["s"]


def test_every_problem_listed_at_once(upstream):
    problems = refused([
        {"name": "ceph"},                                                # unknown driver
        {"name": "nfs"},                                                 # server + share missing
        {"name": "quobyte", "storage_classes": [{"name": "q"}]},         # registry + tenant missing
        {"name": "rook-ceph", "storage_classes": [{"name": "dup", "default": True}]},  # no OSD selection
        dict(LONGHORN, storage_classes=[{"name": "dup", "default": True}],
             snapshot_classes=[{"name": "s"}, {"name": "s"}]),
        {"name": "storageos"},                                           # never installed
        dict(NFS),                                                        # listed twice
        "nfs",                                                            # not a mapping
    ], snapshot={"crds": "absent", "controller": "absent"}, upstream=upstream)
    expected = [
        "drivers[0].name: unknown driver 'ceph'",
        "drivers[1] (nfs).server: is required",
        "drivers[1] (nfs).share: is required",
        "drivers[2] (quobyte).registry: is required",
        "StorageClass q needs parameters.quobyteTenant",
        "drivers[3] (rook-ceph): no OSD device selection",
        "StorageOS/Ondat is unmaintained",
        "drivers[6] (nfs): driver nfs is listed more than once",
        "drivers[7]: must be a mapping",
        "more than one default StorageClass: dup (rook-ceph), dup (longhorn)",
        "duplicate StorageClass name dup (rook-ceph, longhorn)",
        "duplicate VolumeSnapshotClass name s (longhorn, longhorn)",
        "VolumeSnapshotClass s, s requested but the snapshot CRDs are not installed",
        "VolumeSnapshotClass s, s requested but no snapshot-controller runs",
    ]
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)
    assert len(problems) == len(expected)


def test_bad_types_are_problems_not_exceptions(upstream):
    problems = refused([{"name": "nfs", "server": ["a"], "share": "export", "storage_classes": "x",
                         "values": [1], "version": 4}], snapshot="x", kubernetes_version="one", upstream=upstream)
    assert "snapshot: must be a mapping, got str" in problems
    assert "kubernetes_version: 'one' is not a version (e.g. 1.34.0)" in problems
    assert "drivers[0] (nfs).server: must be a string, got list" in problems
    assert "drivers[0] (nfs).share: must be an absolute export path, got 'export'" in problems
    assert "drivers[0] (nfs).storage_classes: must be a list, got str" in problems
    assert "drivers[0] (nfs).values: must be a mapping, got list" in problems
    assert "drivers[0] (nfs).version: '4' is not a version (e.g. 4.13.4)" in problems
    assert refused("nfs") == ["drivers: must be a list of mappings, got str"]


def test_minimum_kubernetes_version(upstream):
    problems = refused([LONGHORN], kubernetes_version="1.24.9", upstream=upstream)
    assert problems == ["drivers[0] (longhorn): needs Kubernetes >= 1.25, kubernetes_version is 1.24.9"]
    assert P.build_plan([LONGHORN], kubernetes_version="v1.25.0", upstream=upstream)["drivers"] == ["longhorn"]


def test_missing_upstream_files_name_the_source():
    problems = refused([LOCAL])
    assert len(problems) == 3
    assert any("local-path-provisioner v0.0.37 manifest is not available" in p and sources.UPSTREAM_URLS["local_path"] in p
               for p in problems)
    assert any(p.startswith("snapshot.crds: managed") for p in problems)
    assert any(p.startswith("snapshot.controller: managed") for p in problems)


def test_install_false_plans_nothing_for_the_driver(upstream):
    plan = P.build_plan([{"name": "nfs", "install": False}, {"name": "storageos", "install": False}],
                        snapshot={"crds": "absent", "controller": "absent"}, upstream=upstream)
    assert plan["steps"] == []
    assert plan["drivers"] == ["nfs", "storageos"]


def test_deep_merge_semantics():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    merged = reader.deep_merge(base, {"a": {"c": [3], "e": 2}, "f": None})
    assert merged == {"a": {"b": 1, "c": [3], "e": 2}, "d": 1, "f": None}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


@pytest.mark.parametrize("text,expected", [("v1.20.6", (1, 20, 6)), ("1.34", (1, 34, 0)), ("4.13.4", (4, 13, 4)),
                                           ("1.34.0-rc.1", (1, 34, 0)), ("latest", None), (True, None), (None, None)])
def test_parse_version(text, expected):
    assert reader.parse_version(text) == expected
