# -*- coding: utf-8 -*-
"""The Canal node subnet state file is kept per inventory by default: two inventories planned by one user never share
it, one inventory re-run reuses its own, and the shared file of earlier releases is adopted, ignored or refused.

Runs the canal role's `plan` entry point with ansible-playbook on the controller itself (connection local), HOME in
tmp_path, the role's default canal_manifest_dest (so the default state file place is what is tested).
"""
import glob
import json
import os
import subprocess

from kubelayer_paths import REPO, clean_env, collections_path, controller
import pytest

pytestmark = pytest.mark.slow  # runs ansible-playbook

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: Plan
      ansible.builtin.include_role:
        name: kubelayer.runtime.canal
        tasks_from: plan
        public: true
    - name: Record the plan
      ansible.builtin.copy:
        content: "{{ canal_plan_result | to_json }}"
        dest: "{{ playbook_dir }}/result-{{ inventory_dir | basename }}.json"
        mode: "0644"
      delegate_to: localhost
      run_once: true
"""
PREVIOUS = os.path.join(".local", "share", "kubelayer", "rendered", "canal-node-subnets.json")


def inventory(tmp_path, name, node):
    python, _p = controller()
    (tmp_path / name).mkdir()
    (tmp_path / name / "hosts.ini").write_text(
        "%s ansible_connection=local ansible_python_interpreter=%s\n" % (node, python))
    return str(tmp_path / name / "hosts.ini")


def plan(tmp_path, source, ok=True):
    python, playbook = controller()
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    env = dict(clean_env(), HOME=str(tmp_path / "home"), ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "ansible"),
               ANSIBLE_PYTHON_INTERPRETER=python)
    proc = subprocess.run(playbook + ["-i", source, str(tmp_path / "site.yml")], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert (proc.returncode == 0) is ok, proc.stdout[-4000:] + proc.stderr[-2000:]
    if not ok:
        return proc.stdout
    with open(str(tmp_path / ("result-%s.json" % os.path.basename(os.path.dirname(source))))) as handle:
        return json.load(handle)


def state_files(tmp_path):
    return sorted(glob.glob(str(tmp_path / "home" / ".local/share/kubelayer/rendered/*/canal-node-subnets.json")))


def test_two_inventories_keep_two_state_files_and_a_rerun_reuses_its_own(tmp_path):
    east, west = inventory(tmp_path, "east", "east1"), inventory(tmp_path, "west", "west1")
    first = plan(tmp_path, east)
    assert first["changed"] is True and first["state_file"].endswith("/canal-node-subnets.json")
    assert os.path.basename(os.path.dirname(first["state_file"])).startswith("east-")
    second = plan(tmp_path, west)
    assert os.path.basename(os.path.dirname(second["state_file"])).startswith("west-")
    assert state_files(tmp_path) == sorted([first["state_file"], second["state_file"]])
    for path, node in ((first["state_file"], "east1"), (second["state_file"], "west1")):
        with open(path) as handle:
            assert list(json.load(handle)["nodes"]) == [node]  # not mixed
    with open(first["state_file"]) as handle:
        before = handle.read()
    again = plan(tmp_path, east)
    assert again["changed"] is False and again["state_file"] == first["state_file"]
    assert again["plan"]["nodes"] == first["plan"]["nodes"]
    with open(first["state_file"]) as handle:
        assert handle.read() == before
    assert not os.path.exists(str(tmp_path / "home" / PREVIOUS))


def test_the_shared_state_file_of_earlier_releases_is_adopted_by_its_inventory_only(tmp_path):
    east, west = inventory(tmp_path, "east", "east1"), inventory(tmp_path, "west", "west1")
    fresh = plan(tmp_path, east)["plan"]
    for path in state_files(tmp_path):
        os.remove(path)
    previous = tmp_path / "home" / PREVIOUS
    old = {"kind": "kubelayer.runtime/canal-node-subnets", "version": 1, "pod_cidrs": fresh["pod_cidrs"],
           "nodes": {"east1": {"ipv4": fresh["nodes"]["east1"]["ipv4"]}}}
    old["nodes"]["east1"]["ipv4"] = _another_subnet(fresh)
    previous.write_text(json.dumps(old))
    adopted = plan(tmp_path, east)
    assert adopted["previous_state_file"] == {"path": str(previous), "outcome": "adopted"}
    assert adopted["plan"]["nodes"]["east1"]["ipv4"] == old["nodes"]["east1"]["ipv4"] != fresh["nodes"]["east1"]["ipv4"]
    assert plan(tmp_path, west)["previous_state_file"]["outcome"] == "ignored"
    assert json.loads(previous.read_text()) == old  # read, never changed
    old["nodes"]["west1"] = {"ipv4": fresh["nodes"]["east1"]["ipv4"]}
    previous.write_text(json.dumps(old))
    for path in state_files(tmp_path):
        os.remove(path)
    out = plan(tmp_path, east, ok=False)
    assert "previous_state_file: %s" % previous in out and "(east1)" in out and "(west1)" in out
    assert state_files(tmp_path) == []


def _another_subnet(plan_result):
    """A node subnet of the plan's pod CIDR other than the one a fresh plan gives (the 4th one)."""
    import ipaddress
    prefix = plan_result["node_prefix"]
    subnets = ipaddress.ip_network(plan_result["pod_cidrs"][0]).subnets(new_prefix=prefix)
    return str([s for _i, s in zip(range(4), subnets)][3])
