# -*- coding: utf-8 -*-
"""The canal role driven by a kubespray inventory (kube_network_plugin: cni).

Runs ansible-playbook on the controller itself (connection local) with a kubespray-style inventory: groups
kube_control_plane, kube_node, k8s_cluster and kubespray's CIDR variables in group_vars/k8s_cluster. Only the
`plan` and `manifests` entry points run (they read the host and write under tmp_path); the node side is exercised
on the lab nodes by molecule/canal, whose inventory has the same layout.
"""
import json
import os
import subprocess

from kubelayer_paths import REPO, clean_env, collections_path, controller, upstream_dir
import pytest
import yaml

pytestmark = pytest.mark.slow  # runs ansible-playbook


CANAL = os.path.join(upstream_dir(), "calico-v3.32.1", "canal.yaml")

INVENTORY = """\
[kube_control_plane]
node1 ansible_connection=local

[kube_node]
node1

[k8s_cluster:children]
kube_control_plane
kube_node
"""

KUBESPRAY_VARS = {
    # inventory/sample/group_vars/k8s_cluster/k8s-cluster.yml values
    "kube_network_plugin": "cni",
    "kube_service_addresses": "10.233.0.0/18",
    "kube_pods_subnet": "10.233.64.0/18",
    "kube_network_node_prefix": 24,
    "kube_service_addresses_ipv6": "fd85:ee78:d8a6:8607::1000/116",
    "kube_pods_subnet_ipv6": "fd85:ee78:d8a6:8607::1:0000/112",
    "kube_network_node_prefix_ipv6": 120,
    "kubelet_max_pods": 110,
    "ipv4_stack": True,
}

PLAYBOOK = """\
- hosts: k8s_cluster
  gather_facts: false
  tasks:
    - name: Plan
      ansible.builtin.include_role:
        name: kubelayer.runtime.canal
        tasks_from: plan
        public: true
    - name: Manifests
      ansible.builtin.include_role:
        name: kubelayer.runtime.canal
        tasks_from: manifests
    - name: Record what the role resolved
      ansible.builtin.copy:
        content: "{{ {'plan': canal_plan_result.plan, 'ipv6': _canal_ipv6 | bool, 'backend': _canal_backend,
                      'pod_cidrs': canal_pod_cidrs, 'service_cidrs': canal_service_cidrs} | to_json }}"
        dest: "{{ out_dir }}/resolved.json"
        mode: "0644"
"""


def run_role(tmp_path, ipv6_stack):
    (tmp_path / "group_vars" / "k8s_cluster").mkdir(parents=True)
    python, playbook = controller()
    (tmp_path / "inventory.ini").write_text(INVENTORY.replace(
        "ansible_connection=local", "ansible_connection=local ansible_python_interpreter=%s" % python))
    group_vars = dict(KUBESPRAY_VARS, ipv6_stack=ipv6_stack, canal_manifest_src=CANAL,
                      canal_manifest_dest=str(tmp_path / "manifests"), out_dir=str(tmp_path))
    (tmp_path / "group_vars" / "k8s_cluster" / "k8s-cluster.yml").write_text(yaml.safe_dump(group_vars))
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    env = dict(clean_env(), ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=collections_path(),
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_HOME=str(tmp_path / "home"))
    proc = subprocess.run(playbook + ["-i", str(tmp_path / "inventory.ini"), str(tmp_path / "site.yml")],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(str(tmp_path / "resolved.json")) as f:
        resolved = json.load(f)
    with open(str(tmp_path / "manifests" / "10-canal.yaml")) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    return resolved, objects


def calico_env(objects):
    ds = [o for o in objects if o["kind"] == "DaemonSet"][0]
    calico = [c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == "calico-node"][0]
    return dict((e["name"], e.get("value")) for e in calico["env"])


@pytest.mark.parametrize("ipv6_stack", [False, True])
def test_kubespray_inventory_drives_the_plan_and_manifests(tmp_path, ipv6_stack):
    resolved, objects = run_role(tmp_path, ipv6_stack)
    plan = resolved["plan"]
    if ipv6_stack:
        assert plan["pod_cidrs"] == ["10.233.64.0/18", "fd85:ee78:d8a6:8607::1:0/112"]
        assert plan["service_cidrs"] == ["10.233.0.0/18", "fd85:ee78:d8a6:8607::1000/116"]
        assert plan["node_prefix_v6"] == 120
    else:
        assert plan["pod_cidrs"] == ["10.233.64.0/18"]
        assert plan["service_cidrs"] == ["10.233.0.0/18"]
    assert plan["node_prefix"] == 24
    assert resolved["ipv6"] is ipv6_stack
    assert resolved["backend"] == "vxlan"
    config = [o for o in objects if o["kind"] == "ConfigMap"][0]
    net = json.loads(config["data"]["net-conf.json"])
    assert net["Network"] == "10.233.64.0/18"
    assert ("IPv6Network" in net) is ipv6_stack
    env = calico_env(objects)
    assert env["CALICO_IPV4POOL_CIDR"] == "10.233.64.0/18"
    assert env["FELIX_IPV6SUPPORT"] == ("true" if ipv6_stack else "false")
