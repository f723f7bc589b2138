# -*- coding: utf-8 -*-
"""Unit and property tests for the ip -j parser, on captured real iproute2 output.

Fixtures (tests/unit/fixtures/netfacts/<source>/) were captured with the exact
commands of netfacts.IP_COMMANDS: on this host (iproute2 6.1, eth0 MTU 1400,
podman0 10.88.0.0/16), on the three lab nodes as booted (bookworm 6.1,
trixie/forky 6.15; podman's 10.88.0.0/16 on eth0) and on a trixie node after
adding VPN/overlay-style links and routes (lab-trixie-vpn, see its README).
"""
from __future__ import annotations

import ipaddress
import json
import os

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni import netfacts
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.netfacts import (
    NetfactsError,
    build_facts,
    is_default_like,
    normalize_dst,
    parse_ip_json,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "netfacts")
SOURCES = ["host", "lab-bookworm", "lab-trixie", "lab-forky", "lab-trixie-vpn"]


def load(source, **kwargs):
    base = os.path.join(FIXTURES, source)
    data = {}
    for key in ("addr", "route4", "route6"):
        with open(os.path.join(base, key + ".json")) as handle:
            data[key] = parse_ip_json(handle.read())
    return build_facts(data["addr"], data["route4"], data["route6"], hostname=source, **kwargs)


def route(facts, dst, **match):
    found = [r for r in facts["routes"] if r["dst"] == dst and all(r[k] == v for k, v in match.items())]
    assert found, "no route %s %r in %s" % (dst, match, [r["dst"] for r in facts["routes"]])
    return found[0]


def iface(facts, name):
    return [i for i in facts["interfaces"] if i["name"] == name][0]


@pytest.mark.parametrize("source", SOURCES)
def test_every_fixture_parses_into_consistent_facts(source):
    facts = load(source)
    names = [i["name"] for i in facts["interfaces"]]
    assert "lo" in names
    assert len(names) == len(set(names))
    for item in facts["interfaces"]:
        for addr in item["addresses"]:
            net = ipaddress.ip_network(addr["network"])
            assert ipaddress.ip_address(addr["address"]) in net or "peer" in addr
            assert addr["network"] in item["networks"]
    for r in facts["routes"]:
        ipaddress.ip_network(r["dst"])  # normalised, strict
        assert r["family"] in ("ipv4", "ipv6")
    # the summary lists contain no duplicates and no default routes
    assert len(facts["networks"]) == len(set(facts["networks"]))
    assert len(facts["route_destinations"]) == len(set(facts["route_destinations"]))
    assert all(ipaddress.ip_network(d).prefixlen > 1 for d in facts["route_destinations"])
    assert facts["hostname"] == source


@pytest.mark.parametrize("source", ["lab-bookworm", "lab-trixie", "lab-forky"])
def test_lab_nodes_show_podman_network(source):
    facts = load(source)
    assert "10.88.0.0/16" in facts["networks"]
    assert "10.88.0.0/16" in facts["route_destinations"]
    eth0 = iface(facts, "eth0")
    assert eth0["mtu"] == 1500 and eth0["kind"] == "veth" and eth0["up"]
    assert facts["underlay_interfaces"] == ["eth0"]
    assert facts["underlay_source"] == "default route"
    assert facts["mtu"] == 1500
    default = route(facts, "0.0.0.0/0")
    assert default["default"] and default["gateway"] == "10.88.0.1" and default["table"] == "main"
    # local table: the node's own address as a host route, typed
    local = route(facts, [a["address"] for a in eth0["addresses"] if a["family"] == "ipv4"][0] + "/32")
    assert local["type"] == "local" and local["table"] == "local" and local["address_route"]
    assert local["dst"] not in facts["route_destinations"]  # covered by eth0's network
    assert not route(facts, "10.88.0.0/16")["address_route"]


def test_user_routes_in_the_local_table_still_count():
    # AnyIP / tproxy: "ip route add local 10.50.0.0/16 dev lo table local" (protocol boot, not kernel)
    routes = [{"type": "local", "dst": "10.50.0.0/16", "dev": "lo", "table": "local", "protocol": "boot"},
              {"type": "local", "dst": "10.1.2.3", "dev": "eth0", "table": "local", "protocol": "kernel"}]
    facts = build_facts([], routes, [])
    assert facts["route_destinations"] == ["10.50.0.0/16"]
    assert [r["address_route"] for r in facts["routes"]] == [False, True]


def test_host_capture_mtu_1400_and_ipv6_default():
    facts = load("host")
    assert facts["mtu"] == 1400
    assert facts["underlay_interfaces"] == ["eth0"]
    assert route(facts, "::/0")["default"]
    # podman's bridge: the host itself sees 10.88.0.0/16 too
    podman0 = iface(facts, "podman0")
    assert podman0["kind"] == "bridge" and "10.88.0.0/16" in podman0["networks"]
    assert "10.88.0.0/16" in facts["networks"]
    assert route(facts, "10.88.0.0/16")["dev"] == "podman0"
    assert facts["mtus"]["lo"] == 65536


def test_vpn_capture_policy_tables_multipath_and_special_types():
    facts = load("lab-trixie-vpn")
    vpn = route(facts, "172.31.0.0/16")
    assert (vpn["table"], vpn["dev"], vpn["gateway"]) == ("51820", "vpn0", "10.200.0.1")
    assert route(facts, "fd42:99::/48")["table"] == "51820"
    assert route(facts, "203.0.113.0/24")["type"] == "unreachable"
    assert route(facts, "203.0.113.0/24")["table"] == "100"
    multi = route(facts, "198.18.0.0/15")
    assert multi["devices"] == ["lan1"] and multi["gateways"] == ["192.168.77.1", "192.168.78.1"]
    blackhole = route(facts, "10.244.3.0/24", type="blackhole")
    assert blackhole["dev"] is None and not blackhole["cni"]
    for dst in ("172.31.0.0/16", "fd42:99::/48", "203.0.113.0/24", "198.18.0.0/15", "10.201.0.0/16",
                "2001:db8:100::/48"):
        assert dst in facts["route_destinations"]
    assert iface(facts, "vpn0")["mtu"] == 1420
    assert iface(facts, "vxlan42")["kind"] == "vxlan"
    assert "172.17.0.0/16" in facts["networks"]  # docker0


def test_vpn_capture_cluster_interfaces_are_flagged_not_counted():
    facts = load("lab-trixie-vpn")
    for name in ("flannel.1", "cni0", "kube-ipvs0"):
        assert iface(facts, name)["cni"], name
    assert not iface(facts, "vxlan42")["cni"]
    assert "10.244.3.0/24" not in facts["networks"]       # cni0's network
    assert "10.96.0.1/32" not in facts["networks"]        # kube-ipvs0 service address
    assert route(facts, "10.244.1.0/24")["cni"]           # flannel.1 route to another node
    assert "10.244.1.0/24" not in facts["route_destinations"]
    # without the pattern, they count
    plain = load("lab-trixie-vpn", cni_pattern="")
    assert "10.244.3.0/24" in plain["networks"]
    assert "10.244.1.0/24" in plain["route_destinations"]


def test_underlay_interface_option():
    facts = load("lab-trixie-vpn", underlay_interface="vpn0")
    assert facts["mtu"] == 1420 and facts["underlay_source"] == "underlay_interface"
    with pytest.raises(NetfactsError, match="does not exist"):
        load("lab-trixie-vpn", underlay_interface="nope0")


def test_underlay_without_default_route_uses_up_interfaces_with_global_address():
    base = os.path.join(FIXTURES, "lab-trixie-vpn")
    with open(os.path.join(base, "addr.json")) as handle:
        addr = parse_ip_json(handle.read())
    facts = build_facts(addr, [], [])
    assert facts["underlay_source"] == "up interfaces with a global address"
    assert "vpn0" in facts["underlay_interfaces"] and "lo" not in facts["underlay_interfaces"]
    assert "docker0" not in facts["underlay_interfaces"]  # bridges are not underlays
    assert facts["mtu"] == 1420
    assert build_facts([], [], [])["mtu"] is None


def test_point_to_point_peer_network():
    addr = [{"ifname": "tun0", "mtu": 1400, "flags": ["POINTOPOINT", "UP"],
             "addr_info": [{"family": "inet", "local": "10.8.0.6", "address": "10.8.0.5", "prefixlen": 32}]}]
    facts = build_facts(addr, [], [])
    entry = facts["interfaces"][0]["addresses"][0]
    assert entry["peer"] == "10.8.0.5" and entry["network"] == "10.8.0.5/32"


@pytest.mark.parametrize("dst,family,expected", [
    ("default", "ipv4", "0.0.0.0/0"),
    ("default", "ipv6", "::/0"),
    ("10.88.0.12", "ipv4", "10.88.0.12/32"),
    ("fe80::1", "ipv6", "fe80::1/128"),
    ("10.0.0.0/8", "ipv4", "10.0.0.0/8"),
    ("", "ipv4", None),
    (None, "ipv4", None),
    ("nonsense", "ipv4", None),
])
def test_normalize_dst(dst, family, expected):
    assert normalize_dst(dst, family) == expected


@pytest.mark.parametrize("cidr,expected", [
    ("0.0.0.0/0", True), ("0.0.0.0/1", True), ("128.0.0.0/1", True), ("::/0", True), ("8000::/1", True),
    ("10.0.0.0/8", False), ("junk", False),
])
def test_default_like(cidr, expected):
    assert is_default_like(cidr) is expected


def test_parse_ip_json_edge_cases():
    assert parse_ip_json("") == []
    assert parse_ip_json("  \n") == []
    assert parse_ip_json(None) == []
    assert parse_ip_json(b"[]") == []
    with pytest.raises(NetfactsError, match="not JSON"):
        parse_ip_json("Object \"route\" is unknown")
    with pytest.raises(NetfactsError, match="not a JSON list"):
        parse_ip_json("{}")


def test_commands_cover_both_route_families_and_all_tables():
    assert netfacts.IP_COMMANDS["route4"][-2:] == ["table", "all"]
    assert "-4" in netfacts.IP_COMMANDS["route4"] and "-6" in netfacts.IP_COMMANDS["route6"]
    assert netfacts.IP_COMMANDS["addr"][:2] == ["-j", "-d"]


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
                      st.sampled_from(["default", "10.0.0.0/8", "fe80::1", "inet", "inet6", "eth0", "UP"]))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["ifname", "mtu", "flags", "addr_info", "family", "local", "prefixlen", "address", "dst", "dev",
         "gateway", "nexthops", "table", "type", "linkinfo", "info_kind", "operstate", "x"]), inner, max_size=6)),
    max_leaves=20)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(json_value, max_size=5), st.lists(json_value, max_size=5), st.lists(json_value, max_size=5))
def test_build_facts_never_raises_on_odd_json(addr, route4, route6):
    facts = build_facts(addr, route4, route6)
    json.dumps(facts)
    for dst in facts["route_destinations"]:
        ipaddress.ip_network(dst)


def test_build_facts_scalar_flags_and_addr_info():
    # found by test_build_facts_never_raises_on_odd_json: `"UP" in 5` and iterating an int raised TypeError
    facts = build_facts([{"ifname": "eth0", "flags": 5, "addr_info": 7}], [], [])
    assert facts["interfaces"][0]["up"] is False
    assert facts["interfaces"][0]["addresses"] == []
