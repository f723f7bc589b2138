"""playbooks/site.yml on a fresh node: --check changes nothing, and a run cut off by stopping the node halfway
leaves no half-written file; the re-run completes.

Both use the session's untouched node (fault-fresh): the --check run (the ``fresh_check`` fixture) always comes
first, then the interrupted run converges the node for real.
"""

import json
import re
import subprocess
import time
import tomllib

import pytest
import yaml

from faultlab import FRESH, LAB_VARS, ROOT

SITE = ROOT / "playbooks" / "site.yml"

# Everything the roles write lives below these roots (config, unit files, binaries, CNI, sysctl, modules-load,
# local-path and download directories); /var/lib holds dpkg's status (no package may be installed by --check).
ROOTS = ["/etc", "/opt", "/usr/local", "/usr/lib/cni", "/var/lib", "/var/cache/kubelayer", "/tmp/releases"]
# apt's lists (not managed; apt in check mode does not update them anyway) and systemd's own runtime state
EXCLUDES = ["/var/lib/apt/lists", "/var/lib/systemd"]

# Temporary files of atomic writes: ansible's atomic_move and the collection's modules.
TEMP_NAME = re.compile(r"/(\.ansible_tmp|\.containerd-config\.|\.hosts\.toml\.|\.kubelayer-canal\.|"
                       r"\.kubelayer-csi\.|\.csi_plan-)[^/]*$")

# Where the stop lands: the first task that writes a file, after the (long) package install.
STOP_AT = "TASK [kubelayer.runtime.containerd : Write the containerd config]"


def _changes(before, after):
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    return {"added": added, "removed": removed, "changed": changed}


@pytest.fixture(scope="session")
def fresh_check(lab):
    """site.yml --check on the untouched node, with the node's managed roots before and after."""
    assert not lab.exists(FRESH, "/etc/containerd"), "%s is not fresh" % FRESH
    before = lab.snapshot(FRESH, ROOTS, EXCLUDES)
    run = lab.playbook("fresh-check", SITE, "--check", "--diff", limit=FRESH)
    after = lab.snapshot(FRESH, ROOTS, EXCLUDES)
    return before, after, run


def test_check_mode_on_fresh_node_changes_nothing(fresh_check):
    before, after, run = fresh_check
    assert "Traceback" not in run.output and "MODULE FAILURE" not in run.output, run
    # the run completes (it used to stop at containerd_config: "containerd_version: not given and containerd is
    # not usable"): the config is predicted for the release apt would install
    assert run.rc == 0, run
    recap = run.recap(FRESH)
    assert recap and recap["failed"] == 0, (recap, run)
    assert "Write the containerd config" in run.output, run
    assert len(before) > 1000, "the snapshot missed the node's files"
    changes = _changes(before, after)
    assert changes == {"added": [], "removed": [], "changed": []}, (changes, run)


def _managed_files(snapshot):
    return sorted(p for p, desc in snapshot.items() if desc.startswith("file "))


def _parse_all(lab, snapshot):
    """Parse every file the roles manage with the parser of its format; returns {path: format}."""
    parsed = {}
    for path in _managed_files(snapshot):
        if path.startswith("/etc/containerd/") and path.endswith(".toml"):
            tomllib.loads(lab.read(FRESH, path))
            parsed[path] = "toml"
        elif path == "/etc/crictl.yaml":
            assert isinstance(yaml.safe_load(lab.read(FRESH, path)), dict), path
            parsed[path] = "yaml"
        elif path.startswith("/etc/cni/net.d/"):
            json.loads(lab.read(FRESH, path))
            parsed[path] = "json"
        elif re.match(r"/etc/(sysctl\.d|modules-load\.d)/.*kubelayer", path):
            for line in lab.read(FRESH, path).splitlines():
                line = line.strip()
                if not line or line[0] in "#;":
                    continue
                if "sysctl.d" in path:
                    assert re.match(r"^-?[\w./*-]+\s*=\s*\S.*$", line), (path, line)
                else:
                    assert re.match(r"^[\w-]+$", line), (path, line)
            parsed[path] = "lines"
    return parsed


def test_node_stopped_halfway_then_rerun(lab, fresh_check):
    """Stop the node (podman stop) while site.yml runs on it, start it again: the re-run completes and no file is
    half-written (no temporary file left, every managed file parses)."""
    cmd = ["ansible-playbook", "-i", str(lab.inventory), str(SITE), "--limit", FRESH, "-e",
           json.dumps(LAB_VARS)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=lab.env,
                            cwd=str(ROOT))
    lines = []
    stopped_at = None
    start = time.monotonic()
    try:
        for line in proc.stdout:
            lines.append(line)
            if stopped_at is None and line.startswith(STOP_AT):
                stopped_at = time.monotonic() - start
                lab.podman("stop", "-t", "10", FRESH, timeout=120)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
        (ROOT / "tests" / "output" / "faults").mkdir(parents=True, exist_ok=True)
        (ROOT / "tests" / "output" / "faults" / "interrupted.log").write_text("".join(lines))
    output = "".join(lines)
    assert stopped_at is not None, "the run never reached %r:\n%s" % (STOP_AT, output[-3000:])
    assert proc.returncode != 0, "the interrupted run did not notice the node stopping:\n%s" % output[-3000:]

    lab.podman("start", FRESH)
    lab.wait_booted(FRESH)
    # the state the stop left, before anything repairs it: every managed file that exists is whole
    _parse_all(lab, lab.snapshot(FRESH, ROOTS, EXCLUDES))

    rerun = lab.playbook("interrupted-rerun", SITE, limit=FRESH)
    assert rerun.rc == 0, rerun
    recap = rerun.recap(FRESH)
    assert recap and recap["failed"] == 0 and recap["unreachable"] == 0, (recap, rerun)

    snapshot = lab.snapshot(FRESH, ROOTS, EXCLUDES)
    leftovers = sorted(p for p in snapshot if TEMP_NAME.search(p))
    assert leftovers == [], "temporary files left behind: %s" % leftovers
    parsed = _parse_all(lab, snapshot)
    assert "/etc/containerd/config.toml" in parsed and "/etc/crictl.yaml" in parsed, parsed
    dump = lab.podman("exec", FRESH, "containerd", "-c", "/etc/containerd/config.toml", "config", "dump",
                      check=False)
    assert dump.returncode == 0, dump.stderr
    audit = lab.podman("exec", FRESH, "dpkg", "--audit", check=False)
    assert audit.returncode == 0 and audit.stdout.strip() == "", "half-installed packages: %s" % audit.stdout
    ready, status = lab.runtime_ready(FRESH)
    assert ready, status
