"""Hostile-input suite: runs every case through the real module with ansible-playbook and collects the evidence.

One playbook per host (the lab node ``hostile-node`` for node modules, ``localhost`` for controller modules) runs
all of that host's cases in a row; between two cases ``files/snap.py`` compares the managed roots with the listing
taken right before the case (type, mode, owner, size, inode, ctime, mtime of every path), then prepares the next
case (its ``setup`` script) and lists the roots again. Module arguments go into the playbook tagged ``!unsafe``, so
Ansible hands every hostile string to the module exactly as written. Results come from the ansible.posix.json
callback. See README.md in this directory.
"""

import base64
import json
import os
import subprocess
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "output" / "hostile"
SNAP = Path(__file__).resolve().parent / "files" / "snap.py"
NODE = "hostile-node"
IMAGE = "localhost/kubelayer-node:trixie"
LOCK = "/tmp/kl-hostile.lock"
# the managed roots whose listing must not change, and the scratch area cases plant files in (inside them)
NODE_ROOTS = ["/etc", "/opt", "/srv", "/usr/lib/cni", "/usr/local/bin", "/var/lib/kubelayer"]
NODE_WORK = "/srv/hostile"
RESET = ("for m in $(awk '$2 ~ \"^@W@/\" {print $2}' /proc/mounts | sort -r); do umount \"$m\"; done\n"
         "chattr -R -i @W@ 2>/dev/null || true\nrm -rf @W@\nmkdir -p @W@\n")


class Case(object):
    """One hostile input: ``args`` for ``module`` must be refused with a message naming ``option``."""

    def __init__(self, module, cls, option, args, setup="", shape=True, note=""):
        self.module, self.cls, self.option, self.args = module, cls, option, args
        self.setup, self.shape, self.note = setup, shape, note
        self.id = None

    def bind(self, work):
        """The case with ``@W@`` (the scratch area) replaced in its arguments and setup."""
        self.args = _replace(self.args, "@W@", work)
        self.setup = (RESET + self.setup).replace("@W@", work)
        return self


def _replace(value, old, new):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    if isinstance(value, dict):
        return dict((_replace(k, old, new), _replace(v, old, new)) for k, v in value.items())
    return value


class Unsafe(str):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value), style='"'))


def _unsafe(value):
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, list):
        return [_unsafe(v) for v in value]
    if isinstance(value, dict):
        return dict((_unsafe(k), _unsafe(v)) for k, v in value.items())
    return value


def _b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def playbook(cases, host, python, snap, state, roots):
    """The playbook text running ``cases`` on ``host``."""
    def check(index, name):
        setup = cases[index].setup if index < len(cases) else ""
        return {"name": name, "ansible.builtin.command": {"argv": [python, snap, state, ",".join(roots),
                                                                   _b64(setup)]},
                "changed_when": False}
    tasks = [{"name": "reset", "ansible.builtin.file": {"path": state, "state": "absent"}}, check(0, "prepare")]
    for index, case in enumerate(cases):
        tasks.append({"name": "case " + case.id, "kubelayer.runtime." + case.module: _unsafe(case.args),
                      "ignore_errors": True})
        tasks.append(check(index + 1, "check " + case.id))
    play = {"name": "hostile inputs on " + host, "hosts": host, "gather_facts": False, "tasks": tasks}
    if host == "localhost":
        play["connection"] = "local"
        play["vars"] = {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    return yaml.dump([play], Dumper=_Dumper, sort_keys=False, width=4096, allow_unicode=False)


def env():
    out = dict(os.environ)
    out["PATH"] = str(ROOT / ".venv" / "bin") + os.pathsep + out.get("PATH", "")
    out.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    out.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    out.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
    out.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_DEPRECATION_WARNINGS="0")
    return out


def run(name, cases, host, inventory, python, snap, state, roots, cwd=None):
    """Run ``cases`` on ``host``; return ``{case id: {"result": ..., "diffs": [...]}}``."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    # a local module runs in the playbook's directory: put it inside the managed roots, where a file written
    # through a relative path shows up in the listing
    book = Path(cwd or OUTPUT) / ("%s.yml" % name)
    book.write_text(playbook(cases, host, python, snap, state, roots))
    start = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(book)], capture_output=True, text=True,
                          env=env(), cwd=str(ROOT), timeout=1800, check=False)
    (OUTPUT / ("%s.json" % name)).write_text(proc.stdout)
    (OUTPUT / ("%s.stderr" % name)).write_text("# rc=%d, %.1f s\n%s" % (proc.returncode, time.monotonic() - start,
                                                                        proc.stderr))
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook %s printed no JSON (rc %d): %s"
                             % (book, proc.returncode, proc.stderr[-3000:]))
    tasks = [t for play in report["plays"] for t in play["tasks"]]
    found = {}
    for task, after in zip(tasks, tasks[1:]):
        name = task["task"]["name"]
        if name.startswith("case "):
            result = task["hosts"].get(host, {})
            check = after["hosts"].get(host, {})
            try:
                diffs = json.loads(check.get("stdout") or "null")
            except ValueError:
                diffs = None
            found[name[5:]] = {"result": result, "diffs": diffs, "check": check}
    return found


def traceback_in(result):
    """A crash instead of an answer: an unhandled exception (ansible-core 2.19 reports it as "Module failed: ..."),
    output that is not the module's JSON, or a traceback anywhere in the result."""
    text = json.dumps(result)
    return ("module_stderr" in result or "module_stdout" in result or "Traceback (most recent call last)" in text
            or "MODULE FAILURE" in text or "Module failed:" in str(result.get("msg", "")))


def node_up(podman_env):
    """Start (or restart) ``hostile-node`` with systemd as PID 1, like molecule/shared/create.yml."""
    subprocess.run(["podman", "rm", "-f", NODE], env=podman_env, capture_output=True, check=False)
    subprocess.run(["podman", "run", "-d", "--name", NODE, "--hostname", NODE, "--privileged", "--systemd", "always",
                    "-e", "container=podman", "--label", "kubelayer.lab=hostile", IMAGE, "/sbin/init"],
                   env=podman_env, capture_output=True, check=True)
    for _attempt in range(120):
        proc = subprocess.run(["podman", "exec", NODE, "systemctl", "is-system-running", "--wait"], env=podman_env,
                              capture_output=True, text=True, check=False)
        if proc.stdout.strip() in ("running", "degraded"):
            break
        time.sleep(1)
    subprocess.run(["podman", "exec", NODE, "mkdir", "-p", "/root/hostile"], env=podman_env, check=True)
    for script in (SNAP, SNAP.parent / "driver.py"):
        subprocess.run(["podman", "cp", str(script), NODE + ":/root/hostile/"], env=podman_env, check=True)


def node_down(podman_env):
    subprocess.run(["podman", "rm", "-f", NODE], env=podman_env, capture_output=True, check=False)


# -- the exact payloads ansible-playbook sends, many cases per process ------------------------------------------
# arguments every module refuses before touching anything: the run that captures its payload changes nothing
CAPTURE_ARGS = {
    "canal_node": {"extra_modules": ["-r"]},
    "csi_node": {"drivers": [{"name": "no-such-driver"}]},
    "containerd_registry": {"config_path": "relative"},
    "cri_info": {"timeout": -1, "required": False},
    "block_devices": {"devices": ["relative"]},
    "node_network_facts": {"underlay_interface": "a/b"},
    "canal_plan": {"backend": "a\u0000"},
    "csi_plan": {"drivers": [], "render_dir": "relative"},
    "canal_manifest": {"src": "relative", "dest": "relative", "plan": {}},
}
NODE_BUNDLES = "/root/hostile/bundles"


class Host(object):
    """Where cases run: the lab node (through podman exec) or the controller itself."""

    def __init__(self, name, python, bundles, driver, tmp_root):
        self.name, self.python, self.bundles, self.driver, self.tmp_root = name, python, bundles, driver, tmp_root

    def sh(self, script, check=True, timeout=600):
        argv = ["sh", "-e"] if self.name == "localhost" else ["podman", "exec", "-i", self.name, "sh", "-e"]
        proc = subprocess.run(argv, input=script, capture_output=True, text=True, env=env(), timeout=timeout,
                              check=False)
        if check and proc.returncode != 0:
            raise AssertionError("%s: %s failed: %s" % (self.name, script, proc.stderr[-3000:]))
        return proc


def capture_bundles(inventory, host, modules):
    """Run each module once on ``host`` with ANSIBLE_KEEP_REMOTE_FILES and explode the payload it left there."""
    tasks = [{"name": "capture " + m, "kubelayer.runtime." + m: _unsafe(CAPTURE_ARGS[m]), "ignore_errors": True}
             for m in modules]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    play = {"name": "capture", "hosts": host.name, "gather_facts": False, "tasks": tasks}
    if host.name == "localhost":
        play["connection"] = "local"
        play["vars"] = {"ansible_python_interpreter": host.python}
    book = OUTPUT / ("capture-%s.yml" % host.name)
    book.write_text(yaml.dump([play], Dumper=_Dumper, sort_keys=False))
    run_env = env()
    run_env["ANSIBLE_KEEP_REMOTE_FILES"] = "1"
    run_env["ANSIBLE_REMOTE_TMP"] = host.tmp_root
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(book)], capture_output=True, text=True,
                          env=run_env, cwd=str(ROOT), timeout=600, check=False)
    (OUTPUT / ("capture-%s.json" % host.name)).write_text(proc.stdout + proc.stderr)
    script = "rm -rf %s\n" % host.bundles
    for m in modules:
        script += ("mkdir -p {b}/{m}\ncp $(ls -t {t}/ansible-tmp-*/AnsiballZ_{m}.py | head -1) {b}/{m}/\n"
                   "(cd {b}/{m} && {py} AnsiballZ_{m}.py explode >/dev/null && mv debug_dir/args debug_dir/args.orig)\n"
                   ).format(b=host.bundles, m=m, t=host.tmp_root, py=host.python)
    script += "rm -rf %s\n" % host.tmp_root
    host.sh(script)


def run_driver(host, cases, work, roots):
    """Run ``cases`` through the captured payloads on ``host``; ``{case id: {"result", "diffs", ...}}``."""
    payload = json.dumps([{"id": c.id, "module": c.module, "args": c.args, "setup": c.setup, "cwd": work}
                          for c in cases])
    cases_file = host.bundles + ".cases.json"
    host.sh("cat > %s <<'__CASES__'\n%s\n__CASES__\n" % (cases_file, payload))
    start = time.monotonic()
    proc = host.sh("exec %s %s %s %s %s\n" % (host.python, host.driver, cases_file, host.bundles, ",".join(roots)),
                   check=False, timeout=1800)
    (OUTPUT / ("driver-%s.json" % host.name)).write_text(proc.stdout)
    (OUTPUT / ("driver-%s.stderr" % host.name)).write_text("# rc=%d, %.1f s\n%s" % (
        proc.returncode, time.monotonic() - start, proc.stderr))
    if proc.returncode != 0:
        raise AssertionError("driver.py on %s failed (rc %d): %s" % (host.name, proc.returncode, proc.stderr[-3000:]))
    return dict((r["id"], r) for r in json.loads(proc.stdout))
