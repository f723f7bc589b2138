"""Helpers of the fault-injection tests against real lab nodes (podman containers booted with systemd).

One session creates three nodes with molecule/shared/create.yml and removes them with
molecule/shared/destroy.yml (also at start, for leftovers of an interrupted run):

  fault-bookworm  containerd 1.6 (Debian bookworm), converged once by playbooks/runtime.yml
  fault-forky     containerd 2.1 (forky's package on trixie), converged once by playbooks/runtime.yml
  fault-fresh     untouched until the --check test, then used for the interrupted-run test

Every test drives ansible-playbook and asserts on the node itself through `podman exec`.
FAULTS_KEEP_NODES=1 keeps the nodes after the session, FAULTS_REUSE_NODES=1 starts from nodes kept that way
instead of fresh ones (both for debugging only; remove the nodes yourself).
Playbook outputs are kept in tests/output/faults/.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "output" / "faults"
FILES = Path(__file__).resolve().parent / "files"

CONVERGED = ("fault-bookworm", "fault-forky")
FRESH = "fault-fresh"
PLATFORMS = [
    {"name": "fault-bookworm", "image": "localhost/kubelayer-node:bookworm"},
    {"name": "fault-forky", "image": "localhost/kubelayer-node:forky"},
    {"name": "fault-fresh", "image": "localhost/kubelayer-node:trixie"},
]

# What every fault run passes (the lab's needs, as in molecule/containerd): nested in podman on a cgroup v1
# host runc uses cgroupfs, and the pause container may not lower its oom_score_adj.
LAB_VARS = {
    "containerd_use_systemd_cgroup": False,
    "containerd_extra_settings": {"cri.runtime.restrict_oom_score_adj": True},
    "containerd_restart_timeout": 30,
    # every node of a run at once (the fault runs are per node anyway)
    "kubelayer_serial": "100%",
}


def site_vars(tmp):
    """What playbooks/site.yml needs in this lab (as inventories/lab sets it): rendered cluster files in the
    session's temporary directory. Upstream files: the pinned ones, from KUBELAYER_UPSTREAM_DIR when `make` sets it."""
    return {
        "canal_manifest_dest": str(Path(tmp) / "rendered" / "canal"),
        "canal_policy_namespaces": ["default"],
        "csi_drivers": [{"name": "local-path"}],
        "csi_render_dir": str(Path(tmp) / "rendered" / "storage"),
    }


def ansible_env():
    env = dict(os.environ)
    env["PATH"] = str(ROOT / ".venv" / "bin") + os.pathsep + env.get("PATH", "")
    env.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _log(name, proc_args, stdout, stderr, rc, seconds):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / ("%s.log" % name)
    path.write_text("$ %s\n# rc=%s, %.1f s\n%s\n--- stderr ---\n%s" % (
        " ".join(proc_args), rc, seconds, stdout, stderr))
    return path


class Run:
    """Result of one ansible-playbook run."""

    def __init__(self, args, rc, stdout, stderr, seconds, log):
        self.args = args
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        self.log = log

    @property
    def output(self):
        return self.stdout + self.stderr

    def recap(self, host):
        """The PLAY RECAP counters of ``host`` (ok, changed, unreachable, failed, ...)."""
        for line in self.stdout.splitlines():
            parts = line.split()
            if parts and parts[0] == host and len(parts) > 2 and parts[1] == ":":
                return dict((k, int(v)) for k, v in (p.split("=") for p in parts[2:] if "=" in p))
        return None

    def __repr__(self):
        return "<ansible-playbook rc=%s, %.1f s, log %s>" % (self.rc, self.seconds, self.log)


class Lab:
    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.inventory = self.tmp / "inventory.yml"
        self.env = ansible_env()

    # -- nodes ---------------------------------------------------------------------------------
    def podman(self, *args, check=True, timeout=120, input=None):
        proc = subprocess.run(["podman"] + list(args), capture_output=True, text=True, env=self.env,
                              timeout=timeout, input=input, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("podman %s: rc %d: %s" % (" ".join(args), proc.returncode, proc.stderr))
        return proc

    def sh(self, node, script, check=True, timeout=120):
        """Run a shell script on the node (podman exec)."""
        return self.podman("exec", node, "sh", "-c", script, check=check, timeout=timeout)

    def read(self, node, path):
        proc = self.podman("exec", node, "cat", path, check=False)
        return proc.stdout if proc.returncode == 0 else None

    def exists(self, node, path):
        return self.podman("exec", node, "test", "-e", path, check=False).returncode == 0

    def sha256(self, node, path):
        proc = self.podman("exec", node, "sha256sum", path, check=False)
        return proc.stdout.split()[0] if proc.returncode == 0 else None

    def cri_status(self, node):
        """runtime.v1 Version + Status over the node's CRI socket (the collection's CRI client on python3-grpcio)."""
        proc = self.podman("exec", node, "python3", "/root/faults/cri_status.py", check=False, timeout=60)
        if proc.returncode != 0:
            return {"error": (proc.stderr or proc.stdout).strip()}
        return json.loads(proc.stdout)

    def runtime_ready(self, node):
        status = self.cri_status(node)
        conditions = dict((c["type"], c["status"]) for c in status.get("conditions", []))
        return conditions.get("RuntimeReady") is True, status

    def install_probe(self, node):
        self.podman("exec", node, "mkdir", "-p", "/root/faults")
        for name in ("cri_proto.py", "grpc_client.py"):
            self.podman("cp", str(ROOT / "plugins/module_utils/cri" / name), "%s:/root/faults/" % node)
        for name in ("cri_status.py", "snapshot.py"):
            self.podman("cp", str(FILES / name), "%s:/root/faults/" % node)

    def snapshot(self, node, roots, excludes=()):
        """{path: description} of every file, directory and link under ``roots`` on the node."""
        args = ["exec", node, "python3", "/root/faults/snapshot.py"] + list(roots)
        for prefix in excludes:
            args += ["--exclude", prefix]
        return json.loads(self.podman(*args, timeout=300).stdout)

    def wait_booted(self, node, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.podman("exec", node, "systemctl", "is-system-running", "--wait", check=False, timeout=timeout)
            if proc.stdout.strip() in ("running", "degraded"):
                return proc.stdout.strip()
            time.sleep(1)
        raise AssertionError("%s did not finish booting in %ss" % (node, timeout))

    # -- ansible -------------------------------------------------------------------------------
    def playbook(self, name, playbook, *args, extra=None, limit=None, timeout=900, inventory=None):
        cmd = ["ansible-playbook", "-i", str(inventory or self.inventory), str(playbook)]
        if limit:
            cmd += ["--limit", limit]
        variables = dict(LAB_VARS)
        variables.update(extra or {})
        cmd += ["-e", json.dumps(variables)]
        cmd += list(args)
        env = dict(self.env)
        env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"  # per-task times in the logs
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=timeout,
                              check=False)
        seconds = time.monotonic() - start
        log = _log(name, cmd, proc.stdout, proc.stderr, proc.returncode, seconds)
        return Run(cmd, proc.returncode, proc.stdout, proc.stderr, seconds, log)

    def shared(self, action):
        cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(ROOT / ("molecule/shared/%s.yml" % action)),
               "-e", json.dumps({"lab_platforms": PLATFORMS}), "-e", "molecule_scenario=faults"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env, cwd=str(ROOT), timeout=600,
                              check=False)
        if proc.returncode != 0:
            raise AssertionError("molecule/shared/%s.yml failed: %s" % (action, (proc.stdout + proc.stderr)[-3000:]))

    def write_inventory(self, path=None, host_vars=None):
        """kubespray's groups, like inventories/lab/hosts.yml; ``host_vars`` {node: {var: value}}."""
        host_vars = host_vars or {}
        path = path or self.inventory
        all_vars = {"ansible_connection": "containers.podman.podman",
                    "ansible_python_interpreter": "/usr/bin/python3"}
        all_vars.update(site_vars(self.tmp))
        path.write_text(json.dumps({
            "all": {
                "vars": all_vars,
                "children": {"k8s_cluster": {"children": {
                    "kube_control_plane": {"hosts": {"fault-bookworm": host_vars.get("fault-bookworm", {})}},
                    "kube_node": {"hosts": {"fault-forky": host_vars.get("fault-forky", {}),
                                            "fault-fresh": host_vars.get("fault-fresh", {})}},
                }}},
            }
        }, indent=1))
        return path


# the checkout as the installed collection (make venv links it), for the in-process module tests
sys.path.insert(0, str(ROOT / ".venv" / "collections"))
