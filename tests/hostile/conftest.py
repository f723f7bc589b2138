"""Hostile-input suite: one session runs every case (two ansible-playbook runs), the tests assert per case."""

import collections
import concurrent.futures
import fcntl
import json
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases as hostile_cases  # noqa: E402  pylint: disable=wrong-import-position
import hostile  # noqa: E402  pylint: disable=wrong-import-position

CASES = hostile_cases.all_cases()


def _inventory(tmp):
    path = os.path.join(tmp, "inventory.yml")
    with open(path, "w") as handle:
        json.dump({"all": {"hosts": {
            hostile.NODE: {"ansible_connection": "nsenter", "ansible_python_interpreter": "/usr/bin/python3"},
            "localhost": {"ansible_connection": "local"}}}}, handle)
    return path


_FAILED = []


@pytest.fixture(scope="session")
def results():
    if _FAILED:
        pytest.fail("the hostile-input session failed to run: %s" % _FAILED[0])
    try:
        yield from _run_all()
    except Exception as exc:  # pylint: disable=broad-except
        _FAILED.append("%s: %s" % (type(exc).__name__, exc))
        raise


def _run_all():
    if shutil.which("podman") is None:
        pytest.fail("podman is required for the hostile-input suite (make deps)")
    lock = open(hostile.LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    shutil.rmtree(str(hostile.OUTPUT), ignore_errors=True)  # no figure of an earlier run survives
    tmp = tempfile.mkdtemp(prefix="kubelayer-hostile-")
    work = os.path.join(tmp, "work")
    podman_env = hostile.env()
    try:
        inventory = _inventory(tmp)
        node_cases = [c.bind(hostile.NODE_WORK) for c in CASES if c.module not in hostile_cases.CONTROLLER_MODULES]
        local_cases = [c.bind(work) for c in CASES if c.module in hostile_cases.CONTROLLER_MODULES]
        # the controller's working directory (where a relative path would land) is listed too, never reset
        cwd = os.path.join(tmp, "cwd")
        os.makedirs(work)
        os.makedirs(cwd)
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            # the two hosts share nothing: the controller's cases run while the node starts and runs its own
            controller = pool.submit(hostile.run, "controller", local_cases, "localhost", inventory, sys.executable,
                                     str(hostile.SNAP), os.path.join(tmp, "state.json"), [work, cwd], cwd)
            node = pool.submit(_run_node, node_cases, inventory, podman_env)
            found = dict(controller.result(), **node.result())
        _summary(found)
        yield found
    finally:
        if os.environ.get("HOSTILE_KEEP_NODE") != "1":
            hostile.node_down(podman_env)
        os.system("umount %s/ro 2>/dev/null" % work)
        shutil.rmtree(tmp, ignore_errors=True)
        lock.close()


def _run_node(node_cases, inventory, podman_env):
    pid = hostile.node_up(podman_env)
    return hostile.run("node", node_cases, hostile.NODE, inventory, "/usr/bin/python3", "/root/hostile/snap.py",
                       "/root/hostile/state.json", hostile.NODE_ROOTS, hostile.NODE_WORK,
                       {"KL_HOSTILE_PID": pid, "KL_HOSTILE_CWD": hostile.NODE_WORK})


def _summary(found):
    """tests/output/hostile/summary.json: cases, tracebacks and unwanted writes per module (the README's table)."""
    table = collections.OrderedDict()
    for case in CASES:
        row = table.setdefault(case.module, {"cases": 0, "hypothesis": 0, "tracebacks": 0, "unwanted_writes": 0,
                                             "refused_naming_the_option": 0, "missing": 0})
        row["cases"] += 1
        row["hypothesis"] += case.note == "hypothesis"
        got = found.get(case.id)
        if got is None:
            row["missing"] += 1
            continue
        row["tracebacks"] += hostile.traceback_in(got["result"])
        row["unwanted_writes"] += bool(got["diffs"])
        row["refused_naming_the_option"] += bool(got["result"].get("failed")) and case.option in str(
            got["result"].get("msg", ""))
    hostile.OUTPUT.mkdir(parents=True, exist_ok=True)
    (hostile.OUTPUT / "summary.json").write_text(json.dumps(table, indent=1) + "\n")
