"""The collection as a user gets it: built to a tarball, installed offline, run by its FQCN.

Builds with ``ansible-galaxy collection build``, installs into an empty directory with ``--offline`` and then, with
only that directory (and the ansible package's bundled collections) on the collections path:
- ``ansible-doc -l kubelayer.runtime`` lists every module;
- every playbook passes ``--syntax-check`` by its FQCN;
- ``ansible-playbook kubelayer.runtime.plan`` really runs on this machine (a ``nodes`` group holding localhost over
  the local connection): node_network_facts reads this host's interfaces and canal_plan plans around them;
- a pod range that overlaps this host's own network is refused by that same playbook, naming the overlap.
"""
import ipaddress
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = [
    "block_devices", "canal_manifest", "canal_node", "canal_plan", "containerd_config", "containerd_registry",
    "cri_info", "csi_node", "csi_plan", "node_network_facts",
]
PLAYBOOKS = ["site", "plan", "runtime", "network", "storage", "summary"]


def _run(args, env, cwd, check=True):
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%s):\n%s\n%s" % (" ".join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("collection")
    dist, dest, run = work / "dist", work / "installed", work / "run"
    for d in (dist, dest, run):
        d.mkdir()
    env = dict(os.environ)
    env.pop("ANSIBLE_CONFIG", None)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(dest)
    env["ANSIBLE_HOST_KEY_CHECKING"] = "False"
    env["ANSIBLE_NOCOLOR"] = "1"
    bindir = os.path.dirname(sys.executable)
    _run([os.path.join(bindir, "ansible-galaxy"), "collection", "build", "--output-path", str(dist), ROOT], env, run)
    tarballs = list(dist.glob("kubelayer-runtime-*.tar.gz"))
    assert len(tarballs) == 1
    _run([os.path.join(bindir, "ansible-galaxy"), "collection", "install", "--offline", "-p", str(dest),
          str(tarballs[0])], env, run)
    assert (dest / "ansible_collections" / "kubelayer" / "runtime" / "MANIFEST.json").is_file()
    return {"env": env, "run": run, "bin": bindir}


def test_ansible_doc_lists_every_module(installed):
    out = _run([os.path.join(installed["bin"], "ansible-doc"), "-l", "kubelayer.runtime"],
               installed["env"], installed["run"]).stdout
    for module in MODULES:
        assert "kubelayer.runtime.%s " % module in out


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbooks_by_fqcn(installed, playbook):
    _run([os.path.join(installed["bin"], "ansible-playbook"), "-i", "localhost,", "--syntax-check",
          "kubelayer.runtime.%s" % playbook], installed["env"], installed["run"])


def _plan_run(installed, extra):
    inventory = installed["run"] / "inventory.yml"
    inventory.write_text(
        "nodes:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: %s\n" % sys.executable)
    # renders and the plan's node-subnet state file stay in this run's directory, not in the user's default
    extra = dict(extra, canal_manifest_dest=str(installed["run"] / "rendered" / "canal"))
    return _run([os.path.join(installed["bin"], "ansible-playbook"), "-i", str(inventory),
                 "kubelayer.runtime.plan", "--tags", "network", "-e", json.dumps(extra)],
                installed["env"], installed["run"], check=False)


def test_plan_playbook_runs_from_the_tarball(installed):
    proc = _plan_run(installed, {"canal_pod_cidrs": "auto", "canal_service_cidrs": "auto"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Plan the Canal address ranges" in proc.stdout


def test_plan_playbook_refuses_this_hosts_network(installed):
    # the host's own default-route network (a connected range that is not loopback)
    out = subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True, text=True, check=True).stdout
    nets = [ipaddress.ip_interface("%s/%s" % (a["local"], a["prefixlen"])).network
            for link in json.loads(out) for a in link.get("addr_info", [])
            if a.get("scope") == "global" and a.get("prefixlen", 32) < 31]
    if not nets:
        pytest.fail("this host has no global IPv4 network to overlap")
    proc = _plan_run(installed, {"canal_pod_cidrs": [str(nets[0])], "canal_service_cidrs": "auto"})
    assert proc.returncode != 0
    assert "overlaps node network %s" % nets[0] in proc.stdout
