"""The benchmark's counting rules (benchmarks/site_counts.py) on real ansible.posix.json output.

A playbook with a role, run against two local hosts, has tasks of every kind the counting distinguishes: node
modules, a loop with one skipped item, a loop with every item skipped, a skipped task, controller-only actions,
an include, a task delegated to localhost and a run_once debug.
"""

import subprocess
import sys
import textwrap

from faultlab import ROOT, ansible_env

sys.path.insert(0, str(ROOT / "benchmarks"))

import site_counts  # noqa: E402

ROLE_TASKS = """
- name: Node module
  ansible.builtin.command: "true"
  changed_when: false
- name: Loop, one item skipped
  ansible.builtin.command: "echo {{ item }}"
  loop: [1, 2, 3]
  when: item != 2
  changed_when: true
- name: Loop, every item skipped
  ansible.builtin.command: "echo {{ item }}"
  loop: [1, 2]
  when: false
- name: Skipped
  ansible.builtin.command: "false"
  when: false
- name: Controller only
  ansible.builtin.set_fact:
    x: 1
- name: Include
  ansible.builtin.include_tasks: more.yml
- name: Delegated to the controller
  ansible.builtin.command: "true"
  delegate_to: localhost
  changed_when: false
"""

MORE_TASKS = """
- name: Assert
  ansible.builtin.assert:
    that: x == 1
- name: Node module in the included file
  ansible.builtin.stat:
    path: /
"""

PLAYBOOK = """
- name: Counting
  hosts: all
  gather_facts: false
  roles:
    - role: r1
  tasks:
    - name: Play-level debug once
      ansible.builtin.debug:
        msg: hello
      run_once: true
"""


def test_counts_from_real_callback_output(tmp_path):
    tasks = tmp_path / "roles" / "r1" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(textwrap.dedent(ROLE_TASKS))
    (tasks / "more.yml").write_text(textwrap.dedent(MORE_TASKS))
    (tmp_path / "pb.yml").write_text(textwrap.dedent(PLAYBOOK))
    env = dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run(
        ["ansible-playbook", "-i", "h1,h2,", "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable,
         str(tmp_path / "pb.yml")],
        capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    counts = site_counts.count(site_counts.load_callback_json(proc.stdout))

    for host in ("h1", "h2"):
        role = counts["per_host_role"]["%s|r1" % host]
        # executed: command, loop, set_fact, include, delegated, assert, stat (the two skipped tasks are not)
        assert role["tasks"] == 7, role
        # node modules: command 1 + loop items 2 + stat 1
        assert role["modules"] == 4, role
        # controller: set_fact, include, assert, delegated command
        assert role["controller"] == 4, role
        assert role["changed"] == 1, role  # the loop
    # run_once: one result, on the first host only, controller-only
    assert counts["per_host_role"]["h1|(play)"] == {"tasks": 1, "modules": 0, "controller": 1, "changed": 0}
    assert "h2|(play)" not in counts["per_host_role"]
    assert counts["failed_hosts"] == [] and counts["failures"] == []
    assert counts["changed_total"] == 2


def test_classify_flags():
    assert site_counts.classify("ansible.builtin.command", {"skipped": True}) == (0, 0, 0)
    assert site_counts.classify("kubelayer.runtime.containerd_config", {}) == (1, 1, 0)
    assert site_counts.classify("ansible.builtin.meta", {}) == (1, 0, 1)
    assert site_counts.classify("ansible.builtin.validate_argument_spec", {}) == (1, 0, 1)
    local = {"_ansible_delegated_vars": {"ansible_host": "localhost"}}
    assert site_counts.classify("ansible.builtin.copy", local) == (1, 0, 1)
    remote = {"_ansible_delegated_vars": {"ansible_host": "node2", "ansible_connection": "ssh"}}
    assert site_counts.classify("ansible.builtin.copy", remote) == (1, 1, 0)
    assert site_counts.role_of("/x/ansible_collections/kubelayer/runtime/roles/canal/tasks/plan.yml:3") == "canal"
    assert site_counts.role_of("/work/main/playbooks/site.yml:3") == site_counts.PLAY_LEVEL
    # the arg spec validation of a role has the play's path and the role in its name
    assert site_counts.role_of("/work/main/playbooks/runtime.yml:4",
                               "kubelayer.runtime.containerd : Validating arguments against arg spec 'main'") \
        == "containerd"
    assert site_counts.role_of("/work/main/playbooks/site.yml:9", "Prepare the node for Canal") == site_counts.PLAY_LEVEL
