"""Fault-injection tests: the session's lab nodes (see faultlab.py)."""

import os
import shutil
import tempfile

import pytest

from faultlab import CONVERGED, PLATFORMS, ROOT, Lab


@pytest.fixture(scope="session")
def lab():
    if shutil.which("podman") is None:
        pytest.fail("podman is required for the fault-injection tests (make deps)")
    tmp = tempfile.mkdtemp(prefix="kubelayer-faults-")
    lab = Lab(tmp)
    lab.write_inventory()
    reuse = os.environ.get("FAULTS_REUSE_NODES") == "1"
    if not reuse:
        lab.shared("destroy")
    lab.shared("create")  # starts missing nodes only
    try:
        for platform in PLATFORMS:
            lab.install_probe(platform["name"])
        # containerd is installed once per node, here; the tests reuse these two nodes
        run = lab.playbook("session-converge", ROOT / "playbooks/runtime.yml", limit=",".join(CONVERGED))
        assert run.rc == 0, "converging %s failed, see %s" % (", ".join(CONVERGED), run.log)
        for node in CONVERGED:
            ready, status = lab.runtime_ready(node)
            assert ready, "%s: containerd does not serve CRI after the converge: %s" % (node, status)
        yield lab
    finally:
        if os.environ.get("FAULTS_KEEP_NODES") != "1":
            lab.shared("destroy")
        shutil.rmtree(tmp, ignore_errors=True)
