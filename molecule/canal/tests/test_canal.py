"""Canal node side on every lab node, and the rendered cluster manifests on the controller."""
import os

import yaml

PLUGINS = ("portmap", "bandwidth", "host-local")


def test_forwarding_sysctl_persisted_and_set(host):
    conf = host.file("/etc/sysctl.d/90-kubelayer-canal.conf")
    assert conf.exists and conf.mode == 0o644
    assert "net.ipv4.ip_forward = 1" in conf.content_string.splitlines()
    # IPv4-only inventory (ipv6_stack: false): no IPv6 forwarding line
    assert "net.ipv6.conf.all.forwarding" not in conf.content_string
    assert host.file("/proc/sys/net/ipv4/ip_forward").content_string.strip() == "1"


def test_kernel_modules_persisted(host):
    conf = host.file("/etc/modules-load.d/kubelayer-canal.conf")
    assert conf.exists
    lines = [line for line in conf.content_string.splitlines() if line and not line.startswith("#")]
    assert lines == ["vxlan", "br_netfilter"]


def test_cni_plugins_and_dirs(host):
    assert host.file("/etc/cni/net.d").is_directory
    assert host.file("/opt/cni/bin").is_directory
    for name in PLUGINS:
        plugin = host.file("/opt/cni/bin/" + name)
        assert plugin.exists, name
        # linked from the distribution package, and runnable
        assert plugin.linked_to == "/usr/lib/cni/" + name
        assert host.run("/opt/cni/bin/%s --version" % name).stderr.find("CNI") >= 0 or \
            "CNI" in host.run("/opt/cni/bin/%s --version" % name).stdout
    assert host.package("containernetworking-plugins").is_installed


def test_networkmanager_file_only_where_networkmanager_is_installed(host):
    nm_installed = host.package("network-manager").is_installed
    conf = host.file("/etc/NetworkManager/conf.d/kubelayer-canal.conf")
    hostname = host.check_output("hostname")
    assert nm_installed == (hostname == "canal-trixie")
    assert conf.exists == nm_installed
    if nm_installed:
        line = [x for x in conf.content_string.splitlines() if x.startswith("unmanaged-devices=")][0]
        for pattern in ("flannel*", "cali*", "tunl*", "vxlan*"):
            assert "interface-name:" + pattern in line.split("=", 1)[1].split(";")


def test_no_udev_rule_by_default(host):
    assert not host.file("/etc/udev/rules.d/90-kubelayer-flannel.rules").exists


def test_rendered_manifests_on_the_controller(host):
    out = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "canal-manifests")
    with open(os.path.join(out, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    assert kustomization["resources"] == ["00-canal-crds.yaml", "10-canal.yaml", "20-baseline-policies.yaml"]
    with open(os.path.join(out, "10-canal.yaml")) as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    config = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "canal-config"][0]
    # the kubespray inventory's pod range, and an explicit veth MTU for the 1500-byte podman network over VXLAN
    assert '"Network": "10.233.64.0/18"' in config["data"]["net-conf.json"]
    assert config["data"]["veth_mtu"] == "1450"
    ds = [o for o in objects if o["kind"] == "DaemonSet"][0]
    calico = [c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == "calico-node"][0]
    assert {"name": "CALICO_IPV4POOL_CIDR", "value": "10.233.64.0/18"} in calico["env"]
