# -*- coding: utf-8 -*-
"""csi/render.py: the GitOps directory, its values files, and schema validation of every rendered object."""
import copy
import os
import stat
import sys

import pytest
import yaml

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import plan as P
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import reader
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import render as R
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.schema import validate_objects

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_plan import LOCAL, LONGHORN, NFS, QUOBYTE, ROOK, load_upstream  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="module")
def upstream():
    return load_upstream()


@pytest.fixture(scope="module")
def full_plan(upstream):
    return P.build_plan([
        dict(LOCAL, storage_classes=[{"name": "local-path", "default": True}]),
        dict(ROOK, storage_classes=[{"name": "ceph-block"}, {"name": "ceph-fs", "type": "filesystem"}],
             snapshot_classes=[{"name": "ceph-block-snap", "default": True},
                               {"name": "ceph-fs-snap", "type": "filesystem", "deletion_policy": "Retain"}]),
        dict(NFS, snapshot_classes=[{"name": "nfs-snap"}]),
        dict(QUOBYTE, snapshot_classes=[{"name": "quobyte-snap"}]),
        dict(LONGHORN, snapshot_classes=[{"name": "longhorn-snap"}]),
    ], upstream=upstream)


def rendered_objects(tree):
    objs = []
    for path, text in sorted(tree.items()):
        if path.endswith(".yaml") and not path.endswith("/kustomization.yaml") and not path.endswith("/values.yaml"):
            objs.extend(d for d in yaml.safe_load_all(text) if d is not None)
    return objs


@pytest.mark.slow  # schema validation
def test_every_rendered_object_is_schema_valid(full_plan, upstream):
    tree = R.render_tree(full_plan)
    objs = rendered_objects(tree)
    kinds = sorted(set(o["kind"] for o in objs))
    assert kinds == ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "CustomResourceDefinition", "Deployment",
                     "Namespace", "Role", "RoleBinding", "ServiceAccount", "StorageClass", "VolumeSnapshotClass"]
    assert len([o for o in objs if o["kind"] == "VolumeSnapshotClass"]) == 5
    # core kinds against the Kubernetes 1.34 schemas, VolumeSnapshotClass against the upstream v8.6.0 CRD
    assert validate_objects(objs, crds=upstream["snapshot_crds"]) == []


@pytest.mark.slow  # schema validation
def test_schema_validation_reaches_snapshot_classes(full_plan, upstream):
    """The VolumeSnapshotClass check is real: a bad deletionPolicy or an unknown field is caught by the CRD schema."""
    vsc = copy.deepcopy([o for o in rendered_objects(R.render_tree(full_plan)) if o["kind"] == "VolumeSnapshotClass"][0])
    vsc["deletionPolicy"] = "Keep"
    vsc["driverName"] = "x"
    problems = validate_objects([vsc], crds=upstream["snapshot_crds"])
    assert len(problems) == 2
    assert any("deletionPolicy" in p and "Keep" in p for p in problems)
    assert any("driverName" in p for p in problems)
    sc = copy.deepcopy([o for o in rendered_objects(R.render_tree(full_plan)) if o["kind"] == "StorageClass"][0])
    sc["reclaimPolicy"] = 5
    assert validate_objects([sc]) != []


def test_tree_layout_in_install_order(full_plan):
    tree = R.render_tree(full_plan)
    dirs = sorted(set(p.split("/")[0] for p in tree if "/" in p))
    assert dirs == ["01-snapshot-crds", "02-snapshot-controller", "03-local-path-provisioner", "04-rook-ceph",
                    "05-ceph-csi-drivers", "06-rook-ceph-cluster", "07-csi-driver-nfs", "08-quobyte-csi",
                    "09-longhorn", "10-storage-classes"]
    kustomization = yaml.safe_load(tree["10-storage-classes/kustomization.yaml"])
    assert kustomization["resources"] == ["storageclasses.yaml", "volumesnapshotclasses.yaml"]
    assert kustomization["kind"] == "Kustomization"
    readme = tree["README.md"]
    positions = [readme.index("## %s:" % d) for d in dirs]
    assert positions == sorted(positions)
    assert ("helm upgrade --install rook-ceph-cluster rook-ceph-cluster --repo https://charts.rook.io/release "
            "--version v1.20.6 --namespace rook-ceph --create-namespace --values 06-rook-ceph-cluster/values.yaml "
            "--wait --atomic") in readme
    assert "kubectl wait crd/volumesnapshotclasses.snapshot.storage.k8s.io --for=condition=Established" in readme
    assert "jsonpath='{.status.ceph.health}'  # expect HEALTH_OK" in readme
    assert "Default StorageClass: `local-path`." in readme
    # the classes come after every driver wait in the README
    assert readme.index("kubectl -n rook-ceph wait cephcluster/rook-ceph") < readme.index("## 10-storage-classes")


def test_values_files_round_trip(full_plan):
    tree = R.render_tree(full_plan)
    for s in full_plan["steps"]:
        if s["kind"] != "helm":
            continue
        path = [p for p in tree if p.endswith("-%s/values.yaml" % s["name"])][0]
        assert not tree[path].startswith("---")
        assert yaml.safe_load(tree[path]) == s["values"]


def test_readme_quotes_shell_words(upstream):
    plan = P.build_plan([dict(NFS, version="4.13.4", repo="https://mirror.example/charts?x=$(id)")],
                        snapshot={"crds": "absent", "controller": "absent"}, upstream=upstream)
    readme = R.render_tree(plan)["README.md"]
    assert "--repo 'https://mirror.example/charts?x=$(id)'" in readme


def test_render_is_deterministic(full_plan):
    assert R.render_tree(copy.deepcopy(full_plan)) == R.render_tree(full_plan)


@pytest.mark.slow  # schema validation
def test_module_render_writes_atomically_with_modes(tmp_path, full_plan):
    """The module's writer: values files 0600, manifests 0644, stale files of an earlier render removed."""
    from ansible_collections.kubelayer.runtime.plugins.modules import csi_plan as module_file

    class FakeModule(object):
        check_mode = False

        @staticmethod
        def atomic_move(src, dest):
            os.rename(src, dest)

    out = tmp_path / "render"
    changed, rendered, removed, diffs = module_file.render(FakeModule(), str(out), full_plan)
    assert changed and removed == [] and len(diffs) == len(rendered)
    assert stat.S_IMODE(os.stat(str(out / "04-rook-ceph" / "values.yaml")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(out / "README.md")).st_mode) == 0o644
    # second render: nothing changes
    assert module_file.render(FakeModule(), str(out), full_plan)[0] is False
    # a smaller plan removes the files only the earlier render wrote, and keeps foreign files
    (out / "notes.txt").write_text("mine")
    small = dict(full_plan, steps=[s for s in full_plan["steps"] if s["name"] != "longhorn"])
    changed, rendered, removed, _diffs = module_file.render(FakeModule(), str(out), small)
    # longhorn's values and the classes of the old step 10 (now step 09) go, the emptied directory too
    assert changed and removed == ["09-longhorn/values.yaml", "10-storage-classes/kustomization.yaml",
                                   "10-storage-classes/storageclasses.yaml",
                                   "10-storage-classes/volumesnapshotclasses.yaml"]
    assert "09-storage-classes/storageclasses.yaml" in rendered
    assert not (out / "10-storage-classes").exists() and (out / "notes.txt").exists()
    assert sorted(os.listdir(str(out / "09-storage-classes"))) == [
        "kustomization.yaml", "storageclasses.yaml", "volumesnapshotclasses.yaml"]
    # check mode predicts without writing
    FakeModule.check_mode = True
    try:
        changed, _r, _rm, _d = module_file.render(FakeModule(), str(out), full_plan)
    finally:
        FakeModule.check_mode = False
    assert changed and not (out / "09-longhorn" / "values.yaml").exists()


@pytest.mark.parametrize("wanted", ["1.34.0", "v1.36.2", "1.31", "1.99.1", "1.2.0"])
def test_module_schema_version(wanted):
    """Validation uses the newest bundled schemas not newer than the cluster, whatever kubernetes-validate has."""
    import kubernetes_validate.utils  # pylint: disable=import-outside-toplevel

    from ansible_collections.kubelayer.runtime.plugins.modules import csi_plan as module_file

    available = sorted(set(reader.parse_version(v) for v in kubernetes_validate.utils.all_versions()))
    used = reader.parse_version(module_file.schema_version(wanted))
    assert used in available
    older = [v for v in available if v[:2] <= reader.parse_version(wanted)[:2]]
    assert used == (older[-1] if older else available[0])
    assert module_file.schema_version("1.31") == "1.31.0"  # every kubernetes-validate since 1.31 ships it
