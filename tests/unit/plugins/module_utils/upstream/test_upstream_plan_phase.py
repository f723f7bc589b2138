# -*- coding: utf-8 -*-
"""The plan phase stops with ONE message naming every missing upstream file, before any node is contacted.

playbooks/plan.yml runs for real (ansible-playbook) with a mirror URL on a closed loopback port. The only node
is an SSH host on another closed loopback port: had any task (facts included) run on it, the run would report it
UNREACHABLE. It must instead fail in the controller-side upstream check, naming each file and the override.
"""
import os
import re
import socket
import subprocess

import pytest
import yaml

from kubelayer_paths import REPO, collections_path, controller

from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog

pytestmark = pytest.mark.slow  # runs ansible-playbook


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_plan_phase_fails_once_before_any_node(tmp_path):
    mirror = "http://127.0.0.1:%d/upstream" % _closed_port()
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"nodes": {"hosts": {"node1": {
        "ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": _closed_port(),
        "ansible_ssh_common_args": "-o ConnectTimeout=3"}}}}))
    (tmp_path / "vars.yml").write_text(yaml.safe_dump({
        "kubelayer_upstream_mirror_url": mirror, "kubelayer_upstream_cache_dir": str(tmp_path / "cache"),
        "csi_drivers": [{"name": "local-path"}, {"name": "nfs", "server": "nfs1", "share": "/export"}]}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"),
               # the playbook's default pattern names k8s_cluster, absent here (ansible-test makes it an error)
               ANSIBLE_HOST_PATTERN_MISMATCH="warning")
    for name in ("PYTHONPATH", catalog.DIRECTORY_ENV, catalog.MIRROR_ENV, catalog.CACHE_ENV):
        env.pop(name, None)
    proc = subprocess.run(controller()[1] + ["-i", "hosts.yml", "-e", "@vars.yml", "-e",
                                             "ansible_python_interpreter=%s" % controller()[0],
                                             os.path.join(REPO, "playbooks", "plan.yml")],
                          cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, check=False)
    out = proc.stdout
    assert proc.returncode == 2, out
    assert "UNREACHABLE" not in out and "Gather the minimal facts" not in out, out
    # one failed task, worded by ansible-core 2.18 ("FAILED!") or 2.19 ("Task failed")
    assert re.search(r"\bfailed=1\b", out) and len(re.findall(r"\bfailed=[1-9]", out)) == 1, out
    assert "upstream_files: 7 upstream release files" in out, out
    msg = " ".join(out[out.index("msg: 'upstream_files:"):out.index("problems:")].split())
    for relpath in catalog.FILES:
        assert relpath in msg, relpath
    assert "kubelayer_upstream_dir" in msg and "kubelayer_upstream_mirror_url" in msg
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.yaml"))
