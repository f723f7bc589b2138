"""Hostile-input suite: one session runs every case (two ansible-playbook runs), the tests assert per case."""

import collections
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
            hostile.NODE: {"ansible_connection": "containers.podman.podman",
                           "ansible_python_interpreter": "/usr/bin/python3"},
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
    tmp = tempfile.mkdtemp(prefix="kubelayer-hostile-")
    work = os.path.join(tmp, "work")
    podman_env = hostile.env()
    try:
        inventory = _inventory(tmp)
        node_cases = [c.bind(hostile.NODE_WORK) for c in CASES if c.module not in hostile_cases.CONTROLLER_MODULES]
        local_cases = [c.bind(work) for c in CASES if c.module in hostile_cases.CONTROLLER_MODULES]
        local = hostile.Host("localhost", sys.executable, os.path.join(tmp, "bundles"),
                             str(hostile.SNAP.parent / "driver.py"), os.path.join(tmp, "ansible-tmp"))
        hostile.capture_bundles(inventory, local, sorted(set(c.module for c in local_cases)))
        found = hostile.run_driver(local, local_cases, work, [work])
        hostile.node_up(podman_env)
        node = hostile.Host(hostile.NODE, "/usr/bin/python3", hostile.NODE_BUNDLES, "/root/hostile/driver.py",
                            "/root/hostile-tmp")
        driven = [c for c in node_cases if c.module in hostile.CAPTURE_ARGS]
        hostile.capture_bundles(inventory, node, sorted(set(c.module for c in driven)))
        found.update(hostile.run_driver(node, driven, hostile.NODE_WORK, hostile.NODE_ROOTS))
        # containerd_config is an action plugin plus a module: its cases go through ansible-playbook
        found.update(hostile.run("node", [c for c in node_cases if c.module not in hostile.CAPTURE_ARGS],
                                 hostile.NODE, inventory, "/usr/bin/python3", "/root/hostile/snap.py",
                                 "/root/hostile/state.json", hostile.NODE_ROOTS))
        _summary(found)
        yield found
    finally:
        if os.environ.get("HOSTILE_KEEP_NODE") != "1":
            hostile.node_down(podman_env)
        os.system("umount %s/ro 2>/dev/null" % work)
        shutil.rmtree(tmp, ignore_errors=True)
        lock.close()


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
