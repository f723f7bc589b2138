"""Native variables and kubespray's variables converge the lab to the same result."""
import hashlib
import json
import os

import pytest
import testinfra
import yaml

NATIVE = testinfra.get_host("podman://ks-native")
KUBESPRAY = testinfra.get_host("podman://ks-kubespray")
RENDERED = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "rendered")

# the config backups (config.toml.<pid>.<time>~) differ by name on every run and are left out
NODE_FILES = ("find /etc/containerd /etc/sysctl.d /etc/modules-load.d /etc/crictl.yaml /etc/cni -type f "
              "! -name '*~' 2>/dev/null | sort")


def _node_files(host):
    names = host.check_output(NODE_FILES).split()
    return {name: host.file(name).content for name in names}


def test_nodes_have_the_same_managed_files():
    native, kubespray = _node_files(NATIVE), _node_files(KUBESPRAY)
    assert "/etc/containerd/config.toml" in native
    assert any(n.endswith("hosts.toml") for n in native)
    assert sorted(native) == sorted(kubespray)
    for name in native:
        assert native[name] == kubespray[name], name


def _tree(root):
    found = {}
    for top, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(top, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return found


@pytest.mark.parametrize("layer", ["canal", "storage"])
def test_renders_are_identical(layer):
    native = _tree(os.path.join(RENDERED, "native", layer))
    kubespray = _tree(os.path.join(RENDERED, "kubespray", layer))
    assert native, "nothing rendered for %s" % layer
    assert native == kubespray


def test_kubespray_pod_range_reached_the_manifest():
    with open(os.path.join(RENDERED, "kubespray", "canal", "10-canal.yaml")) as handle:
        docs = [d for d in yaml.safe_load_all(handle) if d]
    config = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "canal-config"][0]
    assert json.loads(config["data"]["net-conf.json"])["Network"] == "10.233.64.0/18"
