"""Hostile-input suite: runs every case through the real module with ansible-playbook and collects the evidence.

One playbook per host (the lab node ``hostile-node`` for node modules, ``localhost`` for controller modules) runs
all of that host's cases in a row; between two cases ``files/snap.py`` compares the managed roots with the listing
taken right before the case (type, mode, owner, size, inode, ctime, mtime of every path), then prepares the next
case (its ``setup`` script) and lists the roots again. Module arguments go into the playbook as double-quoted strings
(``!unsafe`` where one holds a template marker, see ``_unsafe``), so Ansible hands every hostile string to the
module exactly as written; the node is reached over plugins/connection/nsenter.py. Results come from the
ansible.posix.json callback. See README.md in this directory.
"""

import base64
import json
import os
import shlex
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


class Quoted(str):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value), style='"'))
_Dumper.add_representer(Quoted, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", str(value),
                                                                              style='"'))
_TEMPLATE = ("{{", "{%", "{#")


def _unsafe(value):
    """Every string exactly as written: double-quoted, and tagged ``!unsafe`` when it holds a template marker.
    Only then: ansible-core 2.19 resolves an ``!unsafe`` scalar's type even when quoted (``!unsafe "-0"`` is the
    integer 0, ``!unsafe ""`` is null), so a plain quoted string is the exact one for everything else."""
    if isinstance(value, str):
        return Unsafe(value) if any(m in value for m in _TEMPLATE) else Quoted(value)
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
        # raw: one command, no module of its own between two cases
        return {"name": name, "ansible.builtin.raw": " ".join(shlex.quote(a) for a in [
            python, snap, state, ",".join(roots), _b64(setup)]), "changed_when": False}
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


CONNECTIONS = Path(__file__).resolve().parent / "plugins" / "connection"


def env():
    out = dict(os.environ)
    out["ANSIBLE_CONNECTION_PLUGINS"] = str(CONNECTIONS)
    out["ANSIBLE_PIPELINING"] = "1"
    out["PATH"] = str(ROOT / ".venv" / "bin") + os.pathsep + out.get("PATH", "")
    out.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    out.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    out.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
    out.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_DEPRECATION_WARNINGS="0")
    return out


def run(name, cases, host, inventory, python, snap, state, roots, cwd, extra_env=None):
    """Run ``cases`` on ``host`` in one ansible-playbook (the collection's action plugins, then the module);
    return ``{case id: {"result": ..., "diffs": [...]}}``. ``cwd`` (inside the managed roots) is where a module
    would put a file given by a relative path: the controller's working directory, or the node's
    (``KL_HOSTILE_CWD``, see plugins/connection/nsenter.py)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    book = OUTPUT / ("%s.yml" % name)
    book.write_text(playbook(cases, host, python, snap, state, roots))
    start = time.monotonic()
    run_env = dict(env(), **(extra_env or {}))
    proc = subprocess.run(["ansible-playbook", "-i", str(inventory), str(book)], capture_output=True, text=True,
                          env=run_env, cwd=cwd if host == "localhost" else str(ROOT), timeout=1800, check=False)
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
    """Start (or restart) ``hostile-node`` with systemd as PID 1, like molecule/shared/create.yml; return the PID
    of its init (the nsenter connection's target)."""
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
    subprocess.run(["podman", "cp", str(SNAP), NODE + ":/root/hostile/"], env=podman_env, check=True)
    proc = subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", NODE], env=podman_env,
                          capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def node_down(podman_env):
    subprocess.run(["podman", "rm", "-f", NODE], env=podman_env, capture_output=True, check=False)
