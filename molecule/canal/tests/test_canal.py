"""Canal node side on every lab node, and the rendered cluster manifests on the controller."""
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
        version = host.run("/opt/cni/bin/%s --version" % name)
        assert "CNI %s plugin" % name in version.stdout + version.stderr
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


def test_refused_plan_touched_nothing(host):
    # side_effect ran the role with a refused plan whose node side would have created this directory
    assert not host.file("/etc/cni/refused-plan.d").exists
