"""containerd_config's migration against containerd's own, on the node's real containerd.

For each real-world version 2 config in ../shared/fixtures/containerd (kubespray, k3s, EKS nodeadm, kind, GCE,
nvidia-ctk, gVisor, containerd's default; cases.json gives each its spec), the controller merges it with
containerd_merge for the node's release, and the node dumps both files:
- containerd 2.x (forky, 2.1.9): `containerd config dump` of our file == `config dump` of containerd's own
  `config migrate` output, except the differences listed in INTENDED (docs/modules/containerd_config.md);
  and our file makes containerd warn about no key that the original did not already warn about;
- containerd 1.6/1.7: `config dump` of our file == `config dump` of the input, except INTENDED_1X.
"""
import base64
import json
import os
import re
import sys
import tomllib

import pytest

PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(os.path.dirname(PROJECT), "shared", "fixtures", "containerd")
sys.path.insert(0, os.path.join(PROJECT, ".venv", "collections"))

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_merge as cm  # noqa: E402
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_versions as cv  # noqa: E402

WORK = "/root/kubelayer-lab/migration"
RT = ("plugins", "io.containerd.cri.v1.runtime", "containerd", "runtimes")
RT1 = ("plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes")
LINUX_V1 = ("plugins", "io.containerd.runtime.v1.linux")
ABSENT = "<absent>"


def _k3s_systemd(runtimes):
    # the spec says systemd: every runc-type handler gets it (k3s leaves its nvidia handlers unset)
    return {runtimes + (name, "options", "SystemdCgroup"): (ABSENT, True) for name in ("nvidia", "nvidia-experimental")}


def _linux_v1(keys):
    # plugins."io.containerd.runtime.v1.linux" is gone in 2.0: containerd carries the inert table, we drop it
    return {LINUX_V1 + (k,): (v, ABSENT) for k, v in keys.items()}


def _criu(*names):
    # runc options.CriuPath is gone in 2.0: containerd carries it, we drop it
    return {RT + (n, "options", "CriuPath"): ("", ABSENT) for n in names}


LINUX_DEFAULTS = {"no_shim": False, "runtime": "runc", "runtime_root": "", "shim": "containerd-shim",
                  "shim_debug": False}

# case -> {flattened dump path: (containerd's value, ours)}, containerd 2.1.9
INTENDED = {
    "k3s-mirrors-nvidia": _k3s_systemd(RT),
    "containerd-1.7.24-default-systemd": {**_linux_v1(LINUX_DEFAULTS), **_criu("runc")},
    "nvidia-ctk-1.17.8-on-1.7.24-default": {**_linux_v1(LINUX_DEFAULTS), **_criu("runc", "nvidia")},
    "nvidia-toolkit-dind-fixture": _linux_v1(dict(LINUX_DEFAULTS, runtime_root="/var/lib/docker/runc")),
    "gvisor-docs-debug": _linux_v1({"shim_debug": True}),
    # the restart monitor GCE disables by its 1.x name stays disabled under its 2.x name (so no defaults dumped)
    "gce-configure-sh": {
        ("disabled_plugins",): (["io.containerd.internal.v1.restart"], ["io.containerd.monitor.container.v1.restart"]),
        ("plugins", "io.containerd.monitor.container.v1.restart", "interval"): ("10s", ABSENT),
    },
}
INTENDED_1X = {"k3s-mirrors-nvidia": _k3s_systemd(RT1)}


def _cases():
    with open(os.path.join(FIXTURES, "cases.json")) as f:
        return json.load(f)["cases"]


CASES = _cases()


def _flat(data, prefix=()):
    out = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, prefix + (key,)))
        else:
            out[prefix + (key,)] = value
    return out


def _differences(theirs, ours):
    a, b = _flat(theirs), _flat(ours)
    return {k: (a.get(k, ABSENT), b.get(k, ABSENT)) for k in set(a) | set(b) if a.get(k, ABSENT) != b.get(k, ABSENT)}


def _put(host, path, text):
    data = base64.b64encode(text.encode()).decode()
    host.check_output("mkdir -p %s && echo %s | base64 -d > %s" % (os.path.dirname(path), data, path))


def _dump(host, path, migrate=False):
    """(parsed dump, unknown keys containerd warned about) of a config file at ``path`` (same path for both
    files of a case, so 1.x's `imports = [<path>]` compares equal)."""
    if migrate:
        host.check_output("containerd -c %s config migrate > %s.migrated && mv %s.migrated %s" % (path, path, path, path))
    cmd = host.run("containerd -c %s config dump" % path)
    assert cmd.rc == 0, cmd.stderr
    return tomllib.loads(cmd.stdout), set(re.findall(r'key="?([^"=]+?)"? (?:plugin=(\S+)|row)', cmd.stderr))


@pytest.fixture(scope="module")
def release(host):
    version = cv.parse_version(host.check_output("containerd --version").split(None, 2)[-1])
    assert version is not None
    return version


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_migration_matches_containerd(host, release, case):
    with open(os.path.join(FIXTURES, case["file"])) as f:
        original = f.read()
    merged = cm.merge(original, dict(case["spec"], path="/etc/containerd/config.toml"), release, True)
    assert merged.problems == []
    path = "%s/%s/config.toml" % (WORK, case["name"])
    _put(host, path, original)
    original_dump, original_unknown = _dump(host, path)
    if release[0] >= 2:
        theirs, dummy = _dump(host, path, migrate=True)
        intended = INTENDED.get(case["name"], {})
    else:
        theirs, intended = original_dump, INTENDED_1X.get(case["name"], {})
    _put(host, path, merged.text)
    ours, our_unknown = _dump(host, path)
    assert _differences(theirs, ours) == intended
    assert our_unknown <= original_unknown, "keys containerd %s ignores in our file only: %s" % (
        cv.format_version(release), sorted(our_unknown - original_unknown))
    host.check_output("rm -rf %s/%s" % (WORK, case["name"]))
