# -*- coding: utf-8 -*-
"""The role's cluster entry point refuses a bad driver list before any node is touched.

Runs ansible-playbook (local connection, no API server, no node) with the playbook order the collection
uses: a first play runs ``kubelayer.runtime.csi`` ``tasks_from: cluster`` (csi_plan, render only without
a kubeconfig), a later play stands for the node roles and writes a marker file. Two default
StorageClasses must stop the run at csi_plan, listing every problem, and the marker must not exist.
"""
import os
import subprocess
import sys
import textwrap

import pytest

from kubelayer_paths import REPO, collections_path, controller, upstream_dir
import yaml

pytestmark = pytest.mark.slow  # runs ansible-playbook


def run_playbook(tmp_path, drivers, extra_vars=None):
    marker = tmp_path / "node-touched"
    render = tmp_path / "render"
    variables = {"csi_drivers": drivers, "kubelayer_upstream_dir": upstream_dir(),
                 "kubelayer_upstream_cache_dir": str(tmp_path / "cache"), "csi_render_dir": str(render)}
    variables.update(extra_vars or {})
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables))
    (tmp_path / "site.yml").write_text(textwrap.dedent("""\
        - name: Storage plan first (refuses a bad csi_drivers before any node is touched)
          hosts: nodes
          gather_facts: false
          any_errors_fatal: true
          vars_files: [vars.yml]
          tasks:
            - name: Plan the CSI cluster side
              ansible.builtin.include_role:
                name: kubelayer.runtime.csi
                tasks_from: cluster
        - name: Node roles
          hosts: nodes
          gather_facts: false
          tasks:
            - name: Touch the node
              ansible.builtin.file:
                path: "%s"
                state: touch
                mode: "0644"
        """ % marker))
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"nodes": {"hosts": {"node1": {
        "ansible_connection": "local", "ansible_python_interpreter": controller()[0]}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_CALLBACK_RESULT_FORMAT="json",
               ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_HOME=str(tmp_path / "home"))
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(controller()[1] + ["-i", "hosts.yml", "site.yml"],
                          cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, check=False)
    return proc, marker, render


def test_two_defaults_refused_before_nodes(tmp_path):
    drivers = [{"name": "local-path", "storage_classes": [{"name": "local-path", "default": True}]},
               {"name": "nfs", "server": "nfs1", "share": "/export",
                "storage_classes": [{"name": "nfs-csi", "default": True}]}]
    proc, marker, render = run_playbook(tmp_path, drivers)
    assert proc.returncode == 2, proc.stdout
    assert "more than one default StorageClass: local-path (local-path), nfs-csi (nfs)" in proc.stdout
    assert not marker.exists(), "a node was touched after csi_plan refused the driver list"
    assert not render.exists()


def test_good_list_renders_and_reports_without_kubeconfig(tmp_path):
    drivers = [{"name": "local-path", "storage_classes": [{"name": "local-path", "default": True}]},
               {"name": "nfs", "server": "nfs1", "share": "/export", "snapshot_classes": [{"name": "nfs-snap"}]}]
    proc, marker, render = run_playbook(tmp_path, drivers)
    assert proc.returncode == 0, proc.stdout
    assert "No csi_kubeconfig: nothing applied" in proc.stdout
    assert marker.exists()
    assert (render / "README.md").is_file() and (render / "05-storage-classes" / "volumesnapshotclasses.yaml").is_file()
    # every apply task was skipped: include_role, then 4 executed role tasks (argument validation, upstream_files, csi_plan,
    # the report), then the node task
    recap = [line for line in proc.stdout.splitlines() if line.startswith("node1")][0]
    assert "ok=6" in recap and "changed=2" in recap and "failed=0" in recap and "skipped=5" in recap, recap


def test_cluster_tasks_read_fields_the_plan_provides():
    """Every ``item.<field>`` a loop of tasks/cluster.yml reads exists in the csi_plan ``apply`` items it loops
    over, and no field is read with a name Jinja resolves to a dict method (``item.values`` is dict.values)."""
    import json
    import re

    from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import plan as P

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_plan import LOCAL, NFS, ROOK, load_upstream  # pylint: disable=import-outside-toplevel

    plan = P.build_plan([LOCAL, ROOK, dict(NFS, snapshot_classes=[{"name": "s"}])], upstream=load_upstream())
    apply = P.apply_items(plan)
    with open(os.path.join(REPO, "roles", "csi", "tasks", "cluster.yml")) as handle:
        tasks = yaml.safe_load(handle)
    loops = [t for block in tasks for t in block.get("block", [block]) if "loop" in t]
    assert len(loops) == 5
    for task in loops:
        keys = re.findall(r"apply\.(\w+)", task["loop"])
        items = [item for key in keys for item in apply[key]]
        assert items, task["name"]
        text = " ".join(json.dumps(dict((k, v) for k, v in task.items() if k != "loop")).split())
        dotted = set(re.findall(r"\bitem\.(\w+)", text))
        assert not dotted & set(dir(dict)), (task["name"], dotted & set(dir(dict)))
        fields = dotted | set(re.findall(r"\bitem\['(\w+)'\]", text))
        available = set(k for item in items for k in item)
        guarded = set(re.findall(r"\bitem\.(\w+) \| default", text)) | set(re.findall(r"item\.(\w+) is not defined", text))
        assert fields - guarded <= available, (task["name"], fields - guarded - available)
        missing = [sorted(set(fields - guarded) - set(item)) for item in items if not set(fields - guarded) <= set(item)]
        assert not missing, (task["name"], missing)
