# -*- coding: utf-8 -*-
"""The canal_manifest module end to end (in-process) on the real upstream manifest."""
import hashlib
import json
import os

from kubelayer_paths import upstream_dir
import pytest
import yaml
from kubelayer_compat import patch_module_args

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni import manifest as m
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import load_documents
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.schema import validate_objects
from ansible_collections.kubelayer.runtime.plugins.modules import canal_manifest

pytestmark = pytest.mark.slow  # runs the module on the real upstream canal.yaml with schema validation


CANAL = os.path.join(upstream_dir(), "calico-v3.32.1", "canal.yaml")
LAB_PLAN = {"veth_mtu": 1450, "flannel_net_conf": {"Network": "10.42.0.0/16", "Backend": {"Type": "vxlan"}},
            "calico_ipv4pool_cidr": "10.42.0.0/16", "calico_ipv6pool_cidr": None, "warnings": []}

SHA = "aa58a7b245586a90d75d969b9184326f6218acea7e4951ce2931113cd8e91e39"


def run(capsys, check_mode=False, diff=False, **args):
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            canal_manifest.main()
    return json.loads(capsys.readouterr().out)


def test_upstream_checksum_is_the_documented_one():
    with open(CANAL, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == SHA


def test_render_writes_kustomize_tree_then_is_idempotent(tmp_path, capsys):
    dest = str(tmp_path / "canal")
    res = run(capsys, src=CANAL, checksum="sha256:" + SHA, dest=dest, plan=LAB_PLAN)
    assert res["changed"] is True, res
    assert res["files"] == [os.path.join(dest, n) for n in ("00-canal-crds.yaml", "10-canal.yaml")]
    assert res["objects"] == {"00-canal-crds.yaml": 23, "10-canal.yaml": 17}
    assert res["changes"] == ["ConfigMap/kube-system/canal-config: data.net-conf.json.Network",
                              "ConfigMap/kube-system/canal-config: data.veth_mtu",
                              "DaemonSet/kube-system/canal: spec.template.spec.containers.calico-node.env."
                              "CALICO_IPV4POOL_CIDR"]
    assert res["daemonset"] == {"namespace": "kube-system", "name": "canal"}
    assert sorted(os.listdir(dest)) == ["00-canal-crds.yaml", "10-canal.yaml", "kustomization.yaml"]
    with open(os.path.join(dest, "kustomization.yaml")) as f:
        assert yaml.safe_load(f)["resources"] == ["00-canal-crds.yaml", "10-canal.yaml"]
    objects = []
    for name in res["files"]:
        with open(name) as f:
            objects.extend(load_documents(f.read()))
    assert len(objects) == 40
    assert validate_objects(objects) == []
    with open(CANAL) as f:
        upstream = load_documents(f.read())
    assert m.semantic_diff(upstream, objects) == res["changes"]
    again = run(capsys, src=CANAL, sha256=SHA, dest=dest, plan=LAB_PLAN)
    assert again["changed"] is False and again["written"] == []


def test_check_mode_and_diff_write_nothing(tmp_path, capsys):
    dest = str(tmp_path / "canal")
    res = run(capsys, check_mode=True, diff=True, src=CANAL, checksum=SHA, dest=dest, plan={"plan": LAB_PLAN})
    assert res["changed"] is True
    assert not os.path.exists(dest)
    names = ("00-canal-crds.yaml", "10-canal.yaml", "kustomization.yaml")
    assert [d["after_header"] for d in res["diff"]] == [os.path.join(dest, n) for n in names]
    assert all(d["before"] == "" for d in res["diff"])


def test_apply_ready_drops_kustomization_and_stale_policy_file(tmp_path, capsys):
    dest = str(tmp_path / "canal")
    run(capsys, src=CANAL, checksum=SHA, dest=dest, plan=LAB_PLAN)
    # a policy file an earlier version wrote is removed (policies now come from network_policy)
    with open(os.path.join(dest, "20-baseline-policies.yaml"), "w") as f:
        f.write("---\n")
    res = run(capsys, src=CANAL, checksum=SHA, dest=dest, plan=LAB_PLAN, mode="apply-ready")
    assert res["changed"] is True
    assert res["kustomization"] is None
    assert sorted(res["written"]) == [os.path.join(dest, "20-baseline-policies.yaml"),
                                      os.path.join(dest, "kustomization.yaml")]
    assert sorted(os.listdir(dest)) == ["00-canal-crds.yaml", "10-canal.yaml"]


def test_checksum_mismatch_refuses_and_writes_nothing(tmp_path, capsys):
    dest = str(tmp_path / "canal")
    res = run(capsys, src=CANAL, checksum="0" * 64, dest=dest, plan=LAB_PLAN)
    assert res["failed"] is True
    assert "sha256 mismatch" in res["msg"] and SHA in res["msg"]
    assert not os.path.exists(dest)


def test_url_needs_checksum_and_bad_inputs_listed_together(tmp_path, capsys):
    dest = str(tmp_path / "canal")
    res = run(capsys, src="https://example.invalid/canal.yaml", dest=dest,
              plan={"veth_mtu": 10, "flannel_net_conf": {"Network": "10.0.0.0/8", "Backend": {"Type": "vxlan"}}},
              flannel_extra_args=["oops"])
    assert res["failed"] is True
    assert res["problems"] == [
        "checksum: required when src is a URL (https://example.invalid/canal.yaml)",
        "plan.veth_mtu: 10 is not an MTU between 576 and 65535",
        "flannel_extra_args[0]: 'oops' must be one --flag or --flag=value without spaces",
    ]
    assert not os.path.exists(dest)


def test_upstream_without_daemonset_or_configmap_is_named(tmp_path, capsys):
    with open(CANAL) as f:
        docs = [d for d in yaml.safe_load_all(f) if d and d["kind"] not in ("DaemonSet", "ConfigMap")]
    src = tmp_path / "canal.yaml"
    src.write_text(yaml.safe_dump_all(docs))
    dest = str(tmp_path / "canal")
    res = run(capsys, src=str(src), dest=dest, plan=LAB_PLAN)
    assert res["failed"] is True
    assert res["problems"] == ["src: upstream manifest has no ConfigMap kube-system/canal-config",
                               "src: upstream manifest has no DaemonSet kube-system/canal"]
    assert not os.path.exists(dest)


def test_missing_src_file(tmp_path, capsys):
    res = run(capsys, src=str(tmp_path / "absent.yaml"), dest=str(tmp_path / "d"), plan=LAB_PLAN)
    assert res["failed"] is True and res["problems"][0].startswith("src: cannot read")
