"""What the site playbook leaves on each of the three lab nodes, and what it renders for the cluster."""
import ipaddress
import json
import os
import re

import yaml

# containerd from each release, and the config schema it must have been given
EXPECTED = {
    "kl-bookworm": ("1.6.", 2),
    "kl-trixie": ("1.7.", 2),
    "kl-forky": ("2.1.", 3),
}
RENDERED = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "rendered")


def _name(host):
    return host.backend.get_hostname()


def test_containerd_runs_with_the_schema_of_its_version(host):
    prefix, schema = EXPECTED[_name(host)]
    assert host.service("containerd").is_running
    assert host.service("containerd").is_enabled
    assert prefix in host.check_output("containerd --version")
    first = host.file("/etc/containerd/config.toml").content_string.splitlines()[0]
    assert first == "version = %d" % schema


def test_cri_plugin_serves_and_uses_systemd_cgroups(host):
    dump = host.check_output("containerd config dump")
    assert "SystemdCgroup = true" in dump
    # 1.x dumps strings with double quotes, 2.x with single quotes
    assert re.search(r"config_path = [\"']/etc/containerd/certs.d[\"']", dump)


def test_registry_hosts_file(host):
    hosts_toml = host.file("/etc/containerd/certs.d/docker.io/hosts.toml")
    assert hosts_toml.exists
    assert 'server = "https://registry-1.docker.io"' in hosts_toml.content_string
    assert '[host."https://mirror.gcr.io"]' in hosts_toml.content_string


def test_canal_node_side(host):
    assert host.sysctl("net.ipv4.ip_forward") == 1
    assert "net.ipv4.ip_forward = 1" in host.file("/etc/sysctl.d/90-kubelayer-canal.conf").content_string
    modules = host.file("/etc/modules-load.d/kubelayer-canal.conf").content_string.split()
    assert "vxlan" in modules and "br_netfilter" in modules
    for plugin in ("portmap", "bandwidth", "host-local"):
        assert host.file("/opt/cni/bin/%s" % plugin).exists
    assert host.file("/etc/cni/net.d").is_directory


def test_storage_node_side(host):
    assert host.file("/opt/local-path-provisioner").is_directory
    assert host.package("nfs-common").is_installed


def _canal_docs():
    with open(os.path.join(RENDERED, "canal", "10-canal.yaml")) as handle:
        return [d for d in yaml.safe_load_all(handle) if d]


def test_rendered_canal_avoids_the_node_network():
    config = [d for d in _canal_docs() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "canal-config"][0]
    network = ipaddress.ip_network(json.loads(config["data"]["net-conf.json"])["Network"])
    podman = ipaddress.ip_network("10.88.0.0/16")
    assert not network.overlaps(podman)
    assert config["data"]["veth_mtu"] == "1450"
