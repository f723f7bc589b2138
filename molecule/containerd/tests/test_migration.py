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
import io
import json
import os
import re
import sys
import tarfile
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


# per case directory: the input, containerd's migration (2.x) and ours are dumped from the same path
# (config.toml), so 1.x's `imports = [<path>]` compares equal; one node-side run for all cases
NODE_SCRIPT = r"""
set -u
cd %(work)s
for n in */; do
  n=${n%%/}
  cp $n/in.toml $n/config.toml
  containerd -c $n/config.toml config dump >$n/in.dump 2>$n/in.err || echo "rc=$?" >>$n/in.err
  if [ %(major)d -ge 2 ]; then
    containerd -c $n/config.toml config migrate >$n/migrated.toml 2>/dev/null
    cp $n/migrated.toml $n/config.toml
    containerd -c $n/config.toml config dump >$n/theirs.dump 2>/dev/null || echo "rc=$?" >>$n/in.err
  fi
  cp $n/ours.toml $n/config.toml
  containerd -c $n/config.toml config dump >$n/ours.dump 2>$n/ours.err || echo "rc=$?" >>$n/ours.err
done
python3 -c '
import json, os
out = {}
for n in sorted(os.listdir(".")):
    out[n] = {}
    for part in ("in.dump", "in.err", "theirs.dump", "ours.dump", "ours.err"):
        p = os.path.join(n, part)
        out[n][part] = open(p).read() if os.path.exists(p) else None
print(json.dumps(out))
'
"""

UNKNOWN_KEY = re.compile(r'key="?([^"=]+?)"? (?:plugin=(\S+)|row)')


def _unknown(stderr):
    """The keys containerd warned about ("Ignoring unknown key")."""
    return set(UNKNOWN_KEY.findall(stderr or ""))


@pytest.fixture(scope="module")
def release(host):
    version = cv.parse_version(host.check_output("containerd --version").split(None, 2)[-1])
    assert version is not None
    return version


@pytest.fixture(scope="module")
def dumps(host, release):
    """case name -> (merge result, node outputs)."""
    merged = {}
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for case in CASES:
            with open(os.path.join(FIXTURES, case["file"])) as f:
                original = f.read()
            merged[case["name"]] = cm.merge(original, dict(case["spec"], path="/etc/containerd/config.toml"),
                                            release, True)
            for name, text in (("in.toml", original), ("ours.toml", merged[case["name"]].text or "")):
                data = text.encode()
                info = tarfile.TarInfo("%s/%s" % (case["name"], name))
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    payload = base64.b64encode(archive.getvalue()).decode()
    host.check_output("rm -rf %s && mkdir -p %s && echo %s | base64 -d | tar -xz -C %s" % (WORK, WORK, payload, WORK))
    out = json.loads(host.check_output(NODE_SCRIPT % {"work": WORK, "major": release[0]}))
    host.check_output("rm -rf %s" % WORK)
    return dict((name, (merged[name], out[name])) for name in merged)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_migration_matches_containerd(release, dumps, case):
    merged, node = dumps[case["name"]]
    assert merged.problems == []
    assert node["ours.dump"] and "rc=" not in (node["in.err"] or "") + (node["ours.err"] or ""), node
    if release[0] >= 2:
        theirs, intended = tomllib.loads(node["theirs.dump"]), INTENDED.get(case["name"], {})
    else:
        theirs, intended = tomllib.loads(node["in.dump"]), INTENDED_1X.get(case["name"], {})
    assert _differences(theirs, tomllib.loads(node["ours.dump"])) == intended
    ours_only = _unknown(node["ours.err"]) - _unknown(node["in.err"])
    assert not ours_only, "keys containerd %s ignores in our file only: %s" % (cv.format_version(release), sorted(ours_only))
