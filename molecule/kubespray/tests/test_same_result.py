"""kubespray's sample inventory drives the collection: its group_vars/k8s_cluster/ load through the k8s_cluster
group the collection builds, and the result is the same as with the collection's native variables."""
import hashlib
import json
import os

import pytest
import testinfra
import yaml

NATIVE = testinfra.get_host("podman://ks-native")
KUBESPRAY = [testinfra.get_host("podman://ks-cp1"), testinfra.get_host("podman://ks-node1")]
RENDERED = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "rendered")

# the config backups (config.toml.<pid>.<time>~) differ by name on every run and are left out
NODE_FILES = ("find /etc/containerd /etc/sysctl.d /etc/modules-load.d /etc/crictl.yaml /etc/cni -type f "
              "! -name '*~' 2>/dev/null | sort")


def _node_files(host):
    names = host.check_output(NODE_FILES).split()
    return {name: host.file(name).content for name in names}


@pytest.mark.parametrize("kubespray", KUBESPRAY, ids=["kube_control_plane", "kube_node"])
def test_nodes_have_the_same_managed_files(kubespray):
    native, other = _node_files(NATIVE), _node_files(kubespray)
    assert "/etc/containerd/config.toml" in native
    assert any(n.endswith("hosts.toml") for n in native)
    assert sorted(native) == sorted(other)
    for name in native:
        assert native[name] == other[name], name


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
    native = _tree(os.path.join(RENDERED, "nodes", layer))
    kubespray = _tree(os.path.join(RENDERED, "k8s_cluster", layer))
    assert native, "nothing rendered for %s" % layer
    assert native == kubespray


def _plan(run):
    with open(os.path.join(RENDERED, run, "plan.json")) as handle:
        return json.load(handle)


def test_kubespray_ranges_reached_the_plan():
    plan = _plan("k8s_cluster")
    assert plan["pod_cidrs"] == ["10.233.64.0/18"]
    assert plan["service_cidrs"] == ["10.233.0.0/18"]
    assert plan["node_prefix"] == 24
    # the sample's enable_nodelocaldns: true with nodelocaldns_ip 169.254.25.10 (kubelet clusterDNS in kubespray)
    assert plan["dns_ip"] == "169.254.25.10"
    assert sorted(plan["nodes"]) == ["ks-cp1", "ks-node1"]


def test_native_plan_has_the_same_ranges():
    native, kubespray = _plan("nodes"), _plan("k8s_cluster")
    for key in ("pod_cidrs", "service_cidrs", "node_prefix", "dns_ip", "mtu", "flannel_net_conf"):
        assert native[key] == kubespray[key], key


def test_kubespray_pod_range_reached_the_manifest():
    with open(os.path.join(RENDERED, "k8s_cluster", "canal", "10-canal.yaml")) as handle:
        docs = [d for d in yaml.safe_load_all(handle) if d]
    config = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "canal-config"][0]
    assert json.loads(config["data"]["net-conf.json"])["Network"] == "10.233.64.0/18"


@pytest.mark.parametrize("host", [NATIVE] + KUBESPRAY, ids=["native", "kube_control_plane", "kube_node"])
def test_kubespray_runtime_settings_reach_containerd(host):
    """kubespray's containerd_runc_runtime form (base_runtime_spec: cri-base.json, relative to the config dir) and
    containerd_metrics_address, as containerd itself reads them."""
    spec = json.loads(host.file("/etc/containerd/cri-base.json").content_string)
    assert {"type": "RLIMIT_NOFILE", "hard": 65535, "soft": 65535} in spec["process"]["rlimits"]
    dump = host.check_output("containerd config dump")
    assert 'base_runtime_spec = "/etc/containerd/cri-base.json"' in dump
    assert "127.0.0.1:1338" in dump
    assert host.socket("tcp://127.0.0.1:1338").is_listening
