"""A CRI pod sandbox in its own network namespace on every release (issue 11).

converge planned the pod subnets with the Canal plan and wrote a CNI network from plugins Debian ships (bridge +
host-local over the node's planned subnet; containerd runs loopback for `lo` itself) into the directories the
containerd role configured (/etc/cni/net.d, /opt/cni/bin). Here RunPodSandbox must get through CNI ADD with an address
from that subnet. What can fail after CNI ADD (the namespace's interfaces, CNI DEL releasing the address) is checked
by separate tests, so a failure names its stage.
"""
import ipaddress
import json
import os

import pytest

LAB = "/root/kubelayer-lab"
CONFLIST = "/etc/cni/net.d/10-kubelayer-lab.conflist"
PLAN = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "canal-plan.json")


def _name(host):
    return host.backend.get_hostname()


def _planned_subnet(host):
    with open(PLAN) as handle:
        return ipaddress.ip_network(json.load(handle)["nodes"][_name(host)]["ipv4"])


@pytest.fixture(scope="module")
def sandbox(host):
    """runp once per node (own netns, --cni-check); removed at the end of the module."""
    cmd = host.run("python3 %s/cri_tool.py runp --name kl-netns-%s --netns own --cni-check" % (LAB, _name(host)))
    result = json.loads(cmd.stdout) if cmd.stdout.strip() else {"error": cmd.stderr}
    result["rc"] = cmd.rc
    yield result
    if result.get("id"):
        host.run("python3 %s/cri_tool.py rm %s" % (LAB, result["id"]))


def test_runtime_and_network_agree_on_the_cni_dirs(host):
    status = json.loads(host.check_output("python3 %s/cri_tool.py status" % LAB))
    cni = status["info"]["cniconfig"]
    assert cni["PluginConfDir"] == "/etc/cni/net.d"
    assert cni["PluginDirs"] == ["/opt/cni/bin"]
    for plugin in ("loopback", "bridge", "host-local", "portmap", "bandwidth"):
        assert host.file("/opt/cni/bin/%s" % plugin).is_executable, plugin
    assert {c["type"]: c["status"] for c in status["conditions"]}["NetworkReady"] is True


def test_cni_add_gives_an_address_from_the_planned_subnet(host, sandbox):
    assert sandbox["rc"] == 0, sandbox
    assert sandbox["state"] == "SANDBOX_READY"
    assert sandbox["network_mode"] == "pod"
    assert ipaddress.ip_address(sandbox["ip"]) in _planned_subnet(host), (sandbox["ip"], str(_planned_subnet(host)))
    conflist = json.loads(host.file(CONFLIST).content_string)
    assert conflist["plugins"][0]["ipam"]["ranges"][0][0]["subnet"] == str(_planned_subnet(host))


def test_after_cni_add_the_namespace_has_lo_and_the_pod_address(host, sandbox):
    assert sandbox.get("netns", "").startswith("/var/run/netns/"), sandbox
    name = os.path.basename(sandbox["netns"])
    links = json.loads(host.check_output("ip -n %s -j addr show" % name))
    by_name = dict((link["ifname"], link) for link in links)
    assert "UP" in by_name["lo"]["flags"], by_name["lo"]
    addresses = [a["local"] for link in links for a in link.get("addr_info", []) if a["family"] == "inet"]
    assert sandbox["ip"] in addresses and "127.0.0.1" in addresses, addresses


def test_after_cni_add_cni_del_releases_the_address(host, sandbox):
    leases = "/var/lib/cni/networks/kubelayer-lab/%s" % sandbox["ip"]
    assert host.file(leases).exists
    stopped = json.loads(host.check_output("python3 %s/cri_tool.py stop %s" % (LAB, sandbox["id"])))
    assert stopped["stopped"] is True
    assert not host.file(leases).exists
