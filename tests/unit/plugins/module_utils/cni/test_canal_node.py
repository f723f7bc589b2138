# -*- coding: utf-8 -*-
"""Pure node-side Canal logic: file contents, modules, ports, firewall parsing."""
import json

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni import node


def test_sysctls_ipv4_and_dual_stack():
    assert node.sysctl_settings() == [("net.ipv4.ip_forward", "1")]
    assert node.sysctl_settings(ipv6=True) == [("net.ipv4.ip_forward", "1"), ("net.ipv6.conf.all.forwarding", "1")]
    extra = {"net.netfilter.nf_conntrack_max": 1000000, "net.ipv4.ip_forward": True}
    text = node.render_sysctl(node.sysctl_settings(True, extra))
    assert text == (node.HEADER + "net.ipv6.conf.all.forwarding = 1\nnet.ipv4.ip_forward = 1\n"
                    "net.netfilter.nf_conntrack_max = 1000000\n")


def test_modules_by_backend():
    assert node.kernel_modules("vxlan") == ["vxlan", "br_netfilter"]
    assert node.kernel_modules("wireguard", ["overlay", "vxlan"]) == ["wireguard", "br_netfilter", "overlay", "vxlan"]
    assert node.kernel_modules("host-gw") == ["br_netfilter"]
    assert node.render_modules(["vxlan", "br_netfilter"]) == node.HEADER + "vxlan\nbr_netfilter\n"


def test_networkmanager_file():
    text = node.render_networkmanager()
    lines = text.splitlines()
    assert "[keyfile]" in lines
    unmanaged = [line for line in lines if line.startswith("unmanaged-devices=")][0]
    entries = unmanaged.split("=", 1)[1].split(";")
    for pattern in ("flannel*", "cali*", "tunl*", "vxlan*"):
        assert "interface-name:" + pattern in entries


def test_udev_rule():
    assert node.render_udev() == node.HEADER + (
        'SUBSYSTEM=="net", ACTION=="add|change|move", ENV{INTERFACE}=="flannel.1", '
        'RUN+="/usr/sbin/ethtool -K flannel.1 tx-checksum-ip-generic off"\n')


def test_backend_ports():
    assert node.backend_ports("vxlan") == [(8472, "udp")]
    assert node.backend_ports("vxlan", vxlan_port=4789) == [(4789, "udp")]
    assert node.backend_ports("wireguard") == [(51820, "udp")]
    assert node.backend_ports("wireguard", True) == [(51820, "udp"), (51821, "udp")]
    assert node.backend_ports("host-gw", True) == []


def test_check_params_lists_every_problem():
    problems = node.check_params({"backend": "udp", "extra_sysctls": {"bad key": "1", "net.core.x": "a\nb"},
                                  "extra_modules": ["ok", "no/slash", "-r", "ok"], "vxlan_port": 70000,
                                  "cni_plugins": ["portmap", "../x", "..", "portmap"]})
    assert problems == [
        "backend: 'udp' is not one of vxlan, host-gw, wireguard, ipip",
        "extra_sysctls: 'bad key' is not a sysctl key (such as net.ipv4.ip_forward)",
        "extra_sysctls.net.core.x: 'a\\nb' contains the control character '\\n'",
        "extra_modules[1]: 'no/slash' is not a kernel module name",
        "extra_modules[2]: '-r' is not a kernel module name",
        "extra_modules: 'ok' is given more than once",
        "vxlan_port: 70000 is out of range (1..65535)",
        "cni_plugins[1]: '../x' is not a CNI plugin file name",
        "cni_plugins[2]: '..' is not a CNI plugin file name",
        "cni_plugins: 'portmap' is given more than once",
    ]
    assert node.check_params({"backend": "vxlan", "vxlan_port": 8472, "cni_plugins": ["host-local"]}) == []


def test_check_params_paths():
    params = {"backend": "vxlan", "sysctl_file": "/.", "modules_load_file": "etc/x.conf", "networkmanager_file": "",
              "udev_rule_file": "/etc/udev/rules.d/x.rules", "cni_conf_dir": "/etc/cni/net.d/",
              "cni_bin_dir": "/etc/udev/rules.d/x.rules", "cni_plugin_link_from": "usr/lib/cni"}
    problems = node.check_params(params)
    assert problems == [
        "sysctl_file: '/.' is not a normalised path (no //, /./, /.. or trailing /); did you mean '/'?",
        "modules_load_file: 'etc/x.conf' is not an absolute path",
        "networkmanager_file: must not be empty",
        "cni_plugin_link_from: 'usr/lib/cni' is not an absolute path",
        "udev_rule_file: /etc/udev/rules.d/x.rules is also given as cni_bin_dir; one file cannot serve both",
    ]
    assert params["cni_conf_dir"] == "/etc/cni/net.d"
    ok = {"backend": "vxlan", "sysctl_file": "/etc/sysctl.d/a.conf", "modules_load_file": "/etc/sysctl.d/a.conf",
          "cni_plugin_link_from": "auto"}
    assert node.check_params(ok) == [
        "sysctl_file: /etc/sysctl.d/a.conf is also given as modules_load_file; one file cannot serve both"]
    assert node.check_params({"backend": "vxlan", "sysctl_file": "/etc/sysctl.d/a"}) == [
        "sysctl_file: /etc/sysctl.d/a does not end in .conf, so systemd would never read it at boot"]


def test_control_characters_in_sysctl_values_are_refused():
    for value in ("1\rkernel.core_pattern = |/tmp/x", "1\0", "1\x0bx", u"1\u2028x"):
        problems = node.check_params({"backend": "vxlan", "extra_sysctls": {"net.core.x": value}})
        assert len(problems) == 1 and problems[0].startswith("extra_sysctls.net.core.x: "), value


UFW_ACTIVE = """Status: active

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW       Anywhere
8472/udp                   ALLOW       Anywhere
22/tcp (v6)                ALLOW       Anywhere (v6)
51821/udp (v6)             ALLOW       Anywhere (v6)
"""


def test_ufw_parsing():
    assert node.parse_ufw_status("Status: inactive\n") == (False, set())
    active, allowed = node.parse_ufw_status(UFW_ACTIVE)
    assert active and allowed == {"22/tcp", "8472/udp", "51821/udp"}
    assert node.ufw_missing(UFW_ACTIVE, [(8472, "udp")]) == []
    assert node.ufw_missing(UFW_ACTIVE, [(51820, "udp"), (51821, "udp")]) == [(51820, "udp")]
    assert node.ufw_missing("Status: inactive", [(8472, "udp")]) == []


def ruleset(policy="drop", rules=()):
    items = [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
             {"table": {"family": "inet", "name": "filter", "handle": 1}},
             {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter",
                        "hook": "input", "prio": 0, "policy": policy}},
             {"chain": {"family": "inet", "table": "filter", "name": "output", "handle": 2, "type": "filter",
                        "hook": "output", "prio": 0, "policy": "drop"}}]
    for r in rules:
        items.append({"rule": dict({"family": "inet", "table": "filter", "chain": "input", "handle": 9}, **r)})
    return json.dumps({"nftables": items})


UDP_8472 = {"expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 8472}},
                     {"accept": None}]}


def test_nft_missing():
    assert node.nft_missing(ruleset(), [(8472, "udp")]) == [("inet", "filter", "input", 8472, "udp")]
    assert node.nft_missing(ruleset(policy="accept"), [(8472, "udp")]) == []
    assert node.nft_missing(ruleset(rules=[UDP_8472]), [(8472, "udp")]) == []
    assert node.nft_missing(ruleset(rules=[{"comment": "kubelayer-canal 8472/udp", "expr": []}]),
                            [(8472, "udp")]) == []
    # a rule that also matches a source address is not a general accept
    narrow = {"expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                                  "right": "10.0.0.1"}}] + UDP_8472["expr"]}
    assert node.nft_missing(ruleset(rules=[narrow]), [(8472, "udp")]) == [("inet", "filter", "input", 8472, "udp")]
    assert node.nft_missing("", [(8472, "udp")]) == []
    assert node.nft_missing("not json", [(8472, "udp")]) == []


def test_nft_insert_argv():
    assert node.nft_insert_argv("/usr/sbin/nft", "inet", "filter", "input", 8472, "udp") == [
        "/usr/sbin/nft", "insert", "rule", "inet", "filter", "input", "udp", "dport", "8472", "accept",
        "comment", '"kubelayer-canal 8472/udp"']


@given(st.dictionaries(st.from_regex(r"net\.[a-z]{1,8}\.[a-z_]{1,12}", fullmatch=True),
                       st.one_of(st.integers(0, 10 ** 6), st.booleans(), st.from_regex(r"[0-9][0-9 ]{0,7}", fullmatch=True)),
                       max_size=6),
       st.booleans())
def test_sysctl_file_lists_each_key_once_and_parses_back(extra, ipv6):
    settings = node.sysctl_settings(ipv6, extra)
    keys = [k for k, _v in settings]
    assert len(keys) == len(set(keys))
    assert node.check_params({"backend": "vxlan", "extra_sysctls": extra}) == []
    parsed = dict(line.split(" = ", 1) for line in node.render_sysctl(settings).splitlines()
                  if line and not line.startswith("#"))
    assert parsed == dict((k, str(v).strip()) for k, v in settings)
    if "net.ipv4.ip_forward" not in extra:
        assert parsed["net.ipv4.ip_forward"] == "1"
    assert ("net.ipv6.conf.all.forwarding" in parsed) == (ipv6 or "net.ipv6.conf.all.forwarding" in extra)
