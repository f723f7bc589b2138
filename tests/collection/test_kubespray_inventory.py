"""kubespray's own sample inventory drives the playbooks, and docs/kubespray.md's combined playbook runs.

The sample (../shared/kubespray-sample/, kubespray 2.32) is used as a user uses it: inventory.ini with host lines
added (two hosts on this machine over the local connection), group_vars/ unchanged. kubespray itself cannot be
installed here (no GitHub or Galaxy), so a stand-in ``kubernetes_sigs.kubespray.cluster`` does what kubespray's does
first: its ansible-core range check (>= 2.18.0, < 2.19.0) and its groups; the rest of the combined playbook runs with
``--tags always`` (nothing touches this machine). ``kubelayer.runtime.plan`` then runs for real on the inventory.
Runs under both toolsets: ``make collection`` (ansible-core 2.19) and ``make core218``.
"""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(os.path.dirname(ROOT), "shared", "kubespray-sample")
BIN = os.path.dirname(sys.executable)

COMBINED = """
- name: Plan the runtime layer
  ansible.builtin.import_playbook: kubelayer.runtime.plan
- name: Container runtime (containerd)
  ansible.builtin.import_playbook: kubelayer.runtime.runtime
- name: Kubernetes (kube_network_plugin cni, deploy_container_engine false)
  ansible.builtin.import_playbook: kubernetes_sigs.kubespray.cluster
- name: Network (Canal)
  ansible.builtin.import_playbook: kubelayer.runtime.network
- name: Storage
  ansible.builtin.import_playbook: kubelayer.runtime.storage
- name: Summary
  ansible.builtin.import_playbook: kubelayer.runtime.summary
"""

# The stand-in: kubespray's first steps (playbooks/ansible_version.yml, roles/dynamic_groups), then what its
# cluster playbook would read of the settings docs/kubespray.md asks for.
STANDIN = """
- name: Check the ansible-core range (kubespray 2.32)
  hosts: all
  gather_facts: false
  run_once: true
  tags: [always]
  tasks:
    - name: Check 2.18.0 <= ansible-core < 2.19.0
      ansible.builtin.assert:
        that:
          - ansible_version.string is version('2.18.0', '>=')
          - ansible_version.string is version('2.19.0', '<')
        msg: "Ansible must be between 2.18.0 and 2.19.0 exclusive - you have {{ ansible_version.string }}"
- name: kubespray's groups
  hosts: all
  gather_facts: false
  tags: [always]
  tasks:
    - name: k8s_cluster from kube_node, kube_control_plane, calico_rr
      ansible.builtin.group_by:
        key: k8s_cluster
      when: group_names | intersect(['kube_node', 'kube_control_plane', 'calico_rr']) | length > 0
- name: What kubespray reads
  hosts: k8s_cluster
  gather_facts: false
  tags: [always]
  tasks:
    - name: The settings docs/kubespray.md asks for
      ansible.builtin.debug:
        msg: "STANDIN {{ inventory_hostname }} {{ kube_network_plugin }} {{ kube_pods_subnet }}"
    - name: kubespray's own test of deploy_container_engine (cluster.yml, role container-engine)
      ansible.builtin.debug:
        msg: "STANDIN {{ inventory_hostname }} would install a container engine"
      when: deploy_container_engine
"""
# what docs/kubespray.md asks a kubespray user to set, as extra vars: JSON, so that false is a boolean (kubespray's
# `when: deploy_container_engine` reads the string "false" of -e key=value as true)
SETTINGS = ["-e", "kube_network_plugin=cni", "-e", '{"deploy_container_engine": false}']


def _env(tmp_path):
    collections = tmp_path / "collections"
    playbooks = collections / "ansible_collections" / "kubernetes_sigs" / "kubespray" / "playbooks"
    playbooks.mkdir(parents=True)
    (playbooks.parent / "galaxy.yml").write_text("namespace: kubernetes_sigs\nname: kubespray\nversion: 2.32.0\n")
    (playbooks / "cluster.yml").write_text(STANDIN)
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = os.path.join(ROOT, "ansible.cfg")
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
        [str(collections), env.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(ROOT, ".venv", "collections")])
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def _inventory(tmp_path, hosts=True):
    """The sample with host lines added: a copy of inventory.ini, the sample's group_vars/ linked unchanged."""
    inv = tmp_path / "inventory"
    inv.mkdir()
    with open(os.path.join(SAMPLE, "inventory.ini")) as handle:
        text = handle.read()
    if hosts:
        line = " ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable
        text = text.replace("[kube_control_plane]\n", "[kube_control_plane]\ncp1" + line, 1)
        text = text.replace("[kube_node]\n", "[kube_node]\nnode1" + line, 1)
    (inv / "inventory.ini").write_text(text)
    os.symlink(os.path.join(SAMPLE, "group_vars"), str(inv / "group_vars"))
    return inv / "inventory.ini"


def _play(tmp_path, playbook, *args, hosts=True, env=None):
    # renders (and the Canal plan's node-subnet state file beside them) stay in this test's directory
    renders = ["-e", "canal_manifest_dest=%s" % (tmp_path / "rendered" / "canal"),
               "-e", "csi_render_dir=%s" % (tmp_path / "rendered" / "storage")]
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", str(_inventory(tmp_path, hosts)), playbook] + renders + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=env or _env(tmp_path), cwd=str(tmp_path),
                          check=False, timeout=600)


def _core():
    out = subprocess.run([os.path.join(BIN, "ansible"), "--version"], capture_output=True, text=True,
                         check=True).stdout
    return tuple(int(x) for x in re.search(r"core (\d+)\.(\d+)", out).groups())


@pytest.fixture(autouse=True)
def _sample():
    if not os.path.isfile(os.path.join(SAMPLE, "inventory.ini")):
        pytest.fail("kubespray's sample inventory not found at %s" % SAMPLE)


def test_the_unchanged_sample_matches_no_host_and_stops(tmp_path):
    proc = _play(tmp_path, "kubelayer.runtime.site", hosts=False)
    assert proc.returncode != 0, proc.stdout
    assert "No host matches 'k8s_cluster:nodes'" in proc.stdout, proc.stdout


def test_the_combined_playbook_runs_on_kubesprays_ansible_core(tmp_path):
    combined = tmp_path / "cluster-with-canal.yml"
    combined.write_text(COMBINED)
    proc = _play(tmp_path, str(combined), "--tags", "always", *SETTINGS)
    if _core() >= (2, 19):
        # kubespray's range check refuses 2.19: the combined playbook needs kubespray's ansible (2.18)
        assert proc.returncode != 0
        assert "Ansible must be between 2.18.0 and 2.19.0 exclusive" in proc.stdout, proc.stdout
        return
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for host in ("cp1", "node1"):
        assert "STANDIN %s cni 10.233.64.0/18" % host in proc.stdout, proc.stdout
    assert "would install a container engine" not in proc.stdout, proc.stdout


def test_a_string_deploy_container_engine_is_refused_before_any_change(tmp_path):
    """-e deploy_container_engine=false is the string "false": kubespray's `when:` reads it as true and would install
    containerd as well, while `| bool` here reads false. The runtime layer refuses it (in check mode: nothing runs)."""
    proc = _play(tmp_path, "kubelayer.runtime.runtime", "--check", "-e", "kube_network_plugin=cni",
                 "-e", "deploy_container_engine=false")
    assert proc.returncode != 0, proc.stdout
    words = " ".join(proc.stdout.split())  # the yaml callback wraps long messages
    assert "deploy_container_engine: false is a string (as -e deploy_container_engine=false gives)" in words, \
        proc.stdout[-3000:]


def _plan_result(proc):
    for play in json.loads(proc.stdout)["plays"]:
        for task in play["tasks"]:
            if "Plan the Canal address ranges" in task["task"]["name"]:
                for result in task["hosts"].values():
                    if "plan" in result:
                        return result
    raise AssertionError("no canal_plan result in the output:\n%s" % proc.stdout[-3000:])


def test_the_plan_reads_the_sample_group_vars(tmp_path):
    env = dict(_env(tmp_path), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = _play(tmp_path, "kubelayer.runtime.plan", "--tags", "network", "-e", "kube_network_plugin=cni", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    plan = _plan_result(proc)["plan"]
    assert plan["pod_cidrs"] == ["10.233.64.0/18"]
    assert plan["service_cidrs"] == ["10.233.0.0/18"]
    assert plan["node_prefix"] == 24
    assert plan["dns_ip"] == "169.254.25.10"  # enable_nodelocaldns: true, nodelocaldns_ip
    assert sorted(plan["nodes"]) == ["cp1", "node1"]


def test_skydns_server_without_nodelocaldns(tmp_path):
    env = dict(_env(tmp_path), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = _play(tmp_path, "kubelayer.runtime.plan", "--tags", "network", "-e", "kube_network_plugin=cni",
                 "-e", "enable_nodelocaldns=false", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    # the sample's skydns_server: the 3rd address of kube_service_subnets
    assert _plan_result(proc)["plan"]["dns_ip"] == "10.233.0.3"


def test_the_samples_calico_is_refused(tmp_path):
    proc = _play(tmp_path, "kubelayer.runtime.plan", "--tags", "network")
    assert proc.returncode != 0
    assert "kube_network_plugin: calico - kubespray would install its own network plugin" in proc.stdout, proc.stdout
    assert "Set kube_network_plugin: cni" in proc.stdout
