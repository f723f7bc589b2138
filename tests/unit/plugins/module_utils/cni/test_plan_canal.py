# -*- coding: utf-8 -*-
"""Example-based tests for the Canal address planner (module_utils/cni/plan.py)."""
from __future__ import annotations

import os

import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.netfacts import build_facts, parse_ip_json
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.plan import make_plan

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "netfacts")


def facts(source):
    base = os.path.join(FIXTURES, source)
    data = [parse_ip_json(open(os.path.join(base, k + ".json")).read()) for k in ("addr", "route4", "route6")]
    return build_facts(*data, hostname=source)


def ok(**params):
    plan, problems, warnings = make_plan(params)
    assert problems == [], problems
    assert plan is not None
    return plan


def refused(**params):
    plan, problems, _warnings = make_plan(params)
    assert plan is None and problems, "expected problems"
    return problems


def has(problems, *words):
    hits = [p for p in problems if all(w in p for w in words)]
    assert hits, "no problem containing %r in:\n%s" % (words, "\n".join(problems))
    return hits


NODE = {"name": "n1", "networks": ["192.168.1.10/24"], "routes": ["default", "192.168.1.0/24"], "mtu": 1500}


def test_defaults_without_nodes():
    plan = ok()
    assert plan["pod_cidrs"] == ["10.244.0.0/16"]
    assert plan["service_cidrs"] == ["10.96.0.0/12"]
    assert (plan["node_prefix"], plan["node_prefix_v6"]) == (24, 64)
    assert plan["max_nodes"] == 256 and plan["pods_per_node"] == 253
    assert plan["dns_ip"] == "10.96.0.10" and plan["api_service_ip"] == "10.96.0.1"
    assert plan["mtu"] == plan["veth_mtu"] == 1450 and plan["underlay_mtu"] == 1500
    assert plan["flannel_net_conf"] == {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}
    assert plan["calico_ipv4pool_cidr"] == "10.244.0.0/16"
    assert plan["kubeadm"] == {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"}
    assert plan["kubespray"]["kube_pods_subnet"] == "10.244.0.0/16"
    assert plan["kubespray"]["kube_service_addresses"] == "10.96.0.0/12"
    assert plan["kubespray"]["kube_network_node_prefix"] == 24
    assert plan["kubespray"]["kube_pods_subnet_ipv6"] is None
    assert any("no node MTU known" in w for w in plan["warnings"])


def test_lab_facts_with_podman_range_is_refused_naming_the_overlap():
    nodes = [facts("lab-bookworm"), facts("lab-trixie"), facts("lab-forky")]
    problems = refused(pod_cidrs=["10.88.0.0/16"], nodes=nodes)
    hit = has(problems, "pod_cidrs 10.88.0.0/16", "overlaps node", "10.88.0.0/16 on")[0]
    for name in ("lab-bookworm", "lab-trixie", "lab-forky"):
        assert name in hit
    # one problem: the kernel's local-table entries for the node addresses are not repeated
    assert problems == ["pod_cidrs 10.88.0.0/16 overlaps node network 10.88.0.0/16 on lab-bookworm, lab-trixie, "
                        "lab-forky"]
    # auto avoids it
    plan = ok(nodes=nodes)
    assert plan["pod_cidrs"] == ["10.244.0.0/16"] and plan["mtu"] == 1450


def test_facts_shape_and_plain_shape_agree():
    f = facts("lab-bookworm")
    plain = {"name": "lab-bookworm", "networks": f["networks"], "routes": f["route_destinations"], "mtu": f["mtu"]}
    assert ok(nodes=[f]) == ok(nodes=[plain])
    p1 = refused(pod_cidrs="10.88.0.0/16", nodes=[f])
    p2 = refused(pod_cidrs="10.88.0.0/16", nodes=[plain])
    assert len(p1) == len(p2)


def test_services_nested_inside_pods_is_refused_both_directions():
    # the kubespray gap: services inside pods passes its one-way check
    has(refused(pod_cidrs="10.0.0.0/8", service_cidrs="10.96.0.0/12"), "overlaps", "10.0.0.0/8", "10.96.0.0/12")
    has(refused(pod_cidrs="10.96.0.0/16", service_cidrs="10.96.0.0/12"), "overlaps", "10.96.0.0/16", "10.96.0.0/12")


def test_reserved_overlap_both_directions():
    has(refused(pod_cidrs="10.244.0.0/16", reserved=["10.0.0.0/8"]), "pod_cidrs 10.244.0.0/16", "reserved[0] 10.0.0.0/8")
    has(refused(service_cidrs="10.96.0.0/12", reserved="10.100.5.0/24"), "service_cidrs", "reserved[0] 10.100.5.0/24")


def test_vpn_route_in_policy_table_is_refused_with_table_and_device():
    node = facts("lab-trixie-vpn")
    problems = refused(pod_cidrs="172.16.0.0/12", nodes=[node])
    has(problems, "172.31.0.0/16", "table 51820", "dev vpn0")
    has(problems, "172.17.0.0/16")  # docker0


def test_node_route_inside_or_around_pods_both_directions():
    around = dict(NODE, routes=["10.0.0.0/8"])
    has(refused(pod_cidrs="10.244.0.0/16", nodes=[around]), "10.244.0.0/16", "route 10.0.0.0/8 on n1")
    inside = dict(NODE, routes=["10.244.7.0/24"])
    has(refused(pod_cidrs="10.244.0.0/16", nodes=[inside]), "route 10.244.7.0/24 on n1")


def test_default_routes_and_vpn_split_default_are_ignored():
    node = dict(NODE, routes=["default", "0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1"])
    assert ok(nodes=[node])["pod_cidrs"] == ["10.244.0.0/16"]


def test_cluster_interfaces_in_facts_are_not_conflicts_but_blackhole_is_until_assigned():
    node = facts("lab-trixie-vpn")
    # flannel.1 route 10.244.1.0/24 and cni0 10.244.3.0/24 are flagged cni; the blackhole route is not
    problems = refused(pod_cidrs="10.244.0.0/16", nodes=[node])
    assert len(has(problems, "10.244.0.0/16")) == 1
    has(problems, "10.244.3.0/24")
    plan = ok(pod_cidrs="10.244.0.0/16", nodes=[node], assignments={"lab-trixie-vpn": ["10.244.3.0/24"]})
    assert plan["nodes"] == {"lab-trixie-vpn": {"ipv4": "10.244.3.0/24"}}


def test_special_purpose_ranges_are_refused():
    has(refused(pod_cidrs="127.0.0.0/16"), "loopback")
    has(refused(pod_cidrs="169.254.0.0/16"), "link-local")
    has(refused(pod_cidrs=["10.244.0.0/16", "fe80::/56"]), "link-local")


def test_node_prefix_bounds():
    has(refused(pod_cidrs="10.244.0.0/16", node_prefix=15), "node_prefix: 15 is shorter")
    has(refused(pod_cidrs="10.0.0.0/8", node_prefix=25, max_pods=100), "node_prefix: 25 is more than 16 bits longer")
    has(refused(pod_cidrs=["10.244.0.0/16", "fd10::/40"]), "node_prefix_v6: 64 is more than 16 bits longer")
    has(refused(pod_cidrs=["10.244.0.0/16", "fd10::/48"], node_prefix_v6=40), "node_prefix_v6: 40 is shorter")
    assert ok(pod_cidrs=["10.244.0.0/16", "fd10::/48"])["families"]["ipv6"]["max_nodes"] == 65536


def test_service_range_size_limits():
    assert ok(service_cidrs="10.96.0.0/12")["service_cidrs"] == ["10.96.0.0/12"]
    has(refused(service_cidrs="10.96.0.0/11"), "wider than /12")
    assert ok(service_cidrs="10.96.0.0/28")["dns_ip"] == "10.96.0.10"
    has(refused(service_cidrs="10.96.0.0/29"), "too small")
    v6 = dict(pod_cidrs=["10.244.0.0/16", "fd10:244::/48"])
    assert ok(service_cidrs=["10.96.0.0/12", "fd10:96::/108"], **v6)["families"]["ipv6"]["dns_ip"] == "fd10:96::a"
    has(refused(service_cidrs=["10.96.0.0/12", "fd10:96::/107"], **v6), "wider than /108")


def test_capacity_below_expected_nodes_names_the_fix():
    problems = refused(pod_cidrs="10.244.0.0/16", expected_nodes=300)
    has(problems, "holds 256 nodes, below expected_nodes 300", "/15")
    # kubespray's default sizing caps at 64 nodes
    has(refused(pod_cidrs="10.233.64.0/18", expected_nodes=65), "holds 64 nodes")
    # more nodes than expected_nodes: raised, with a warning
    nodes = [dict(NODE, name="n%d" % i) for i in range(3)]
    plan, problems, warnings = make_plan({"nodes": nodes, "expected_nodes": 2})
    assert not problems and plan["expected_nodes"] == 3
    assert any("expected_nodes (2)" in w for w in warnings)


def test_max_pods_against_usable_addresses():
    has(refused(node_prefix=26), "61 usable pod addresses per node, below max_pods 110")
    plan = ok(node_prefix=26, max_pods=61)
    assert plan["pods_per_node"] == 61 and plan["max_nodes"] == 1024
    assert ok(node_prefix=25)["pods_per_node"] == 125


def test_two_cidrs_of_one_family():
    has(refused(pod_cidrs=["10.244.0.0/16", "10.245.0.0/16"]), "two IPv4 entries")
    has(refused(service_cidrs="fd10:96::/112,fd10:97::/112", pod_cidrs=["10.1.0.0/16", "fd10:1::/48"]),
        "two IPv6 entries")
    has(refused(pod_cidrs=["auto", "10.245.0.0/16"]), "two IPv4")


def test_host_bits_name_the_network_meant():
    has(refused(pod_cidrs="10.244.1.0/16"), "10.244.1.0/16 has host bits set (did you mean 10.244.0.0/16?)")
    has(refused(reserved=["fd00::1/64"]), "did you mean fd00::/64?")
    # node interface addresses carry host bits by nature
    assert ok(nodes=[dict(NODE, networks=["192.168.1.10/24"])])


def test_duplicate_names_and_garbage_all_listed_at_once():
    problems = refused(
        pod_cidrs=["ten.0.0.0/8", 42], service_cidrs={"a": 1}, node_prefix="x", node_prefix_v6=True,
        max_pods=-1, backend="udp", expected_nodes="many", reserved=["nope"],
        nodes=[NODE, NODE, "n3", {"name": "", "networks": "10.0.0.0/8"}, dict(NODE, name="n5", mtu="big")],
        assignments=[1])
    for words in (["pod_cidrs", "ten.0.0.0/8"], ["pod_cidrs", "42"], ["service_cidrs"], ["node_prefix: 'x'"],
                  ["node_prefix_v6: True"], ["max_pods: -1"], ["backend: 'udp'"], ["expected_nodes"],
                  ["reserved[0]"], ["duplicate node name 'n1'"], ["nodes[2]"], ["nodes[3]: has no name"],
                  ["nodes[3]", "must be a list"], ["nodes[4] (n5): mtu"], ["assignments[0]"]):
        has(problems, *words)


def test_options_not_a_dict():
    plan, problems, _w = make_plan(["x"])
    assert plan is None and problems == ["options must be a dict (got list)"]


def test_mtu_per_backend_and_family():
    nodes = [dict(NODE, name="a", mtu=1500), dict(NODE, name="b", mtu=1450)]
    plan = ok(nodes=nodes)
    assert plan["underlay_mtu"] == 1450 and plan["mtu"] == 1400
    assert plan["flannel_net_conf"]["Backend"] == {"Type": "vxlan", "MTU": 1450}
    assert any("node MTUs differ" in w for w in plan["warnings"])
    same = [dict(NODE, name="a"), dict(NODE, name="b")]
    assert ok(nodes=same)["flannel_net_conf"]["Backend"] == {"Type": "vxlan"}
    assert ok(nodes=same, backend="host-gw")["mtu"] == 1500
    assert ok(nodes=nodes, backend="host-gw")["flannel_net_conf"]["Backend"] == {"Type": "host-gw"}
    has(refused(nodes=[dict(NODE, mtu=1300)], pod_cidrs=["auto4", "auto6"]), "below the IPv6 minimum 1280")


def test_dual_stack_and_ipv6_only_outputs():
    plan = ok(pod_cidrs=["auto4", "auto6"])
    assert plan["pod_cidrs"] == ["10.244.0.0/16", "fd10:244::/48"]
    assert plan["service_cidrs"] == ["10.96.0.0/12", "fd10:96::/112"]
    assert plan["flannel_net_conf"] == {"Network": "10.244.0.0/16", "EnableIPv6": True,
                                        "IPv6Network": "fd10:244::/48", "Backend": {"Type": "vxlan"}}
    assert plan["kubeadm"] == {"podSubnet": "10.244.0.0/16,fd10:244::/48",
                               "serviceSubnet": "10.96.0.0/12,fd10:96::/112"}
    ks = plan["kubespray"]
    assert (ks["kube_pods_subnet_ipv6"], ks["kube_service_addresses_ipv6"], ks["kube_network_node_prefix_ipv6"]) == \
        ("fd10:244::/48", "fd10:96::/112", 64)
    assert ks["ipv4_stack"] and ks["ipv6_stack"]
    assert plan["calico_ipv6pool_cidr"] == "fd10:244::/48"
    v6 = ok(pod_cidrs="fd10:244::/56", service_cidrs="fd10:96::/112")
    assert v6["flannel_net_conf"]["EnableIPv4"] is False and "Network" not in v6["flannel_net_conf"]
    assert v6["dns_ip"] == "fd10:96::a" and v6["max_nodes"] == 256
    assert v6["calico_ipv4pool_cidr"] is None
    # bare auto pods follow the service families; services follow the pods
    assert ok(service_cidrs="fd10:96::/112")["pod_cidrs"] == ["fd10:244::/48"]
    has(refused(pod_cidrs="10.244.0.0/16", service_cidrs=["10.96.0.0/12", "fd10:96::/112"]),
        "service_cidrs: has an IPv6 range but pod_cidrs has none")


def test_auto_skips_candidates_in_use():
    node = dict(NODE, routes=["10.244.0.0/16", "10.96.0.0/16"])
    plan = ok(nodes=[node])
    assert plan["pod_cidrs"] == ["10.42.0.0/16"] and plan["service_cidrs"] == ["10.43.0.0/16"]
    blocked = ok(reserved=["10.0.0.0/8"])
    assert blocked["pod_cidrs"] == ["172.16.0.0/16"] and blocked["service_cidrs"] == ["172.17.0.0/16"]
    has(refused(reserved=["10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10"]), "pod_cidrs: auto: every IPv4 candidate")


def test_auto_sizes_for_expected_nodes():
    plan = ok(expected_nodes=5000)
    assert plan["pod_cidrs"] == ["100.64.0.0/11"] and plan["max_nodes"] == 8192
    assert ok(expected_nodes=5000, node_prefix=25, max_pods=100)["pod_cidrs"] == ["172.16.0.0/12"]


def test_stable_assignments_and_gap_filling():
    nodes = [dict(NODE, name=n) for n in ("a", "b", "c")]
    first = ok(nodes=nodes)["nodes"]
    assert first == {"a": {"ipv4": "10.244.0.0/24"}, "b": {"ipv4": "10.244.1.0/24"}, "c": {"ipv4": "10.244.2.0/24"}}
    # "new" joins first in the list, b left: a and c keep theirs, new takes b's freed subnet? no: b's is not
    # reused while b is still in assignments; new takes the lowest free one
    grown = [dict(NODE, name="new")] + nodes
    second = ok(nodes=grown, assignments=dict((k, list(v.values())) for k, v in first.items()))["nodes"]
    for name in first:
        assert second[name] == first[name]
    assert second["new"] == {"ipv4": "10.244.3.0/24"}
    # a removed node's subnet is reused once it is no longer assigned
    third = ok(nodes=[dict(NODE, name="x")] + nodes[:1], assignments={"a": ["10.244.0.0/24"]})["nodes"]
    assert third["x"] == {"ipv4": "10.244.1.0/24"}
    # per-node subnets (e.g. from a node's spec.podCIDRs) count as assignments
    per_node = ok(nodes=[dict(NODE, name="a", subnets=["10.244.9.0/24"]), dict(NODE, name="b")])["nodes"]
    assert per_node == {"a": {"ipv4": "10.244.9.0/24"}, "b": {"ipv4": "10.244.0.0/24"}}


def test_bad_assignments():
    has(refused(pod_cidrs="10.244.0.0/16", assignments={"a": ["10.245.0.0/24"]}), "outside the pod range")
    has(refused(pod_cidrs="10.244.0.0/16", assignments={"a": ["10.244.0.0/25"]}), "is not a /24")
    has(refused(pod_cidrs="10.244.0.0/16", assignments={"a": ["10.244.0.0/24"], "b": "10.244.0.0/24"}),
        "share the subnet 10.244.0.0/24")
    has(refused(pod_cidrs="10.244.0.0/16", assignments={"a": ["10.244.0.0/24", "10.244.1.0/24"]}),
        "two IPv4 subnets")
    has(refused(pod_cidrs="10.244.0.0/16", assignments={"a": ["fd10::/64"]}), "pod_cidrs has no IPv6 range")
    # auto keeps the range holding the existing assignments
    assert ok(assignments={"a": ["10.42.3.0/24"]})["pod_cidrs"] == ["10.42.0.0/16"]


def test_assignments_accept_dict_and_list_shapes():
    a = ok(assignments={"a": {"ipv4": "10.244.5.0/24"}})["nodes"]
    b = ok(assignments=[{"name": "a", "subnets": ["10.244.5.0/24"]}])["nodes"]
    assert a == b == {"a": {"ipv4": "10.244.5.0/24"}}


def test_nodes_as_mapping_and_hostname_fallback():
    plan = ok(nodes={"x": {"networks": ["192.168.0.0/24"], "mtu": 1500}})
    assert list(plan["nodes"]) == ["x"]
    plan = ok(nodes=[{"hostname": "h1", "networks": [], "routes": [], "mtu": 9000}])
    assert list(plan["nodes"]) == ["h1"] and plan["mtu"] == 8950


def test_problem_list_is_capped_per_range_but_counts_the_rest():
    nodes = [dict(NODE, name="n%d" % i, routes=["10.244.%d.0/24" % i]) for i in range(30)]
    problems = refused(pod_cidrs="10.244.0.0/16", nodes=nodes)
    assert len([p for p in problems if "overlaps node route" in p]) == 20
    has(problems, "overlaps 10 more distinct node networks/routes")
    many = [dict(NODE, name="n%d" % i, routes=["10.244.0.0/16"]) for i in range(12)]
    has(refused(pod_cidrs="10.244.0.0/16", nodes=many), "n0, n1, n2, n3, n4 and 7 more node(s)")


@pytest.mark.parametrize("value", ["10.96.0.0/12", "10.96.0.0/12, ", ["10.96.0.0/12"], ("10.96.0.0/12",)])
def test_cidr_fields_accept_string_list_and_comma_forms(value):
    assert ok(service_cidrs=value)["service_cidrs"] == ["10.96.0.0/12"]


@pytest.mark.parametrize("value", [[], "", " , "])
def test_empty_cidr_field_is_a_problem(value):
    has(refused(pod_cidrs=value), "pod_cidrs: must list one CIDR per IP family")


def test_gc_state_is_restored():
    import gc
    assert gc.isenabled()
    ok()
    assert gc.isenabled()
    gc.disable()
    try:
        ok()
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000, "1e3", "", " ", "0x18", -0.5, float("inf"), float("nan"), [24], {}])
def test_odd_integers_are_problems_not_tracebacks(value):
    has(refused(node_prefix=value), "node_prefix")


def test_integer_strings_and_whole_floats_are_accepted():
    plan = ok(node_prefix="24", max_pods=" 110 ", expected_nodes=3.0)
    assert plan["node_prefix"] == 24 and plan["expected_nodes"] == 3


def test_assigned_nodes_outside_the_inventory_keep_their_subnets():
    plan = ok(nodes=[dict(NODE, name="a")], assignments={"gone": ["10.244.0.0/24"]})
    assert plan["nodes"] == {"a": {"ipv4": "10.244.1.0/24"}, "gone": {"ipv4": "10.244.0.0/24"}}


def test_shared_assignment_is_listed_with_other_problems():
    problems = refused(pod_cidrs="10.244.0.0/16", backend="udp",
                       assignments={"a": ["10.244.0.0/24"], "b": ["10.244.0.0/24"]})
    has(problems, "share the subnet")
    has(problems, "backend")


def test_second_entry_of_a_family_is_reported_even_after_a_host_bits_error():
    problems = refused(pod_cidrs=["10.244.1.0/16", "10.245.0.0/16"])
    has(problems, "did you mean 10.244.0.0/16?")
    has(problems, "two IPv4 entries (10.244.1.0/16 and 10.245.0.0/16)")


def test_no_follow_up_noise_after_a_bad_pod_entry():
    problems = refused(pod_cidrs="10.244.1.0/16", service_cidrs="10.96.0.0/12")
    assert problems == ["pod_cidrs: 10.244.1.0/16 has host bits set (did you mean 10.244.0.0/16?)"]
    has(refused(pod_cidrs=["10.244.0.0/16", "fd10::/40"]), "node_prefix_v6 <= 56")


# flannel v0.24.4 (the flannel Calico v3.32.1's canal.yaml ships), overhead per backend and pod family:
#   vxlan      pkg/backend/vxlan/device.go        "MTU: devAttrs.MTU - 50" (flannel.1 and flannel-v6.1)
#   wireguard  pkg/backend/wireguard/wireguard_network.go "overhead = 80" (flannel-wg and flannel-wg-v6)
#   ipip       pkg/backend/ipip/ipip.go           "expectMTU := be.extIface.Iface.MTU - 20" (IPv4 only)
#   host-gw    pkg/backend/hostgw/hostgw.go       "Mtu: be.extIface.Iface.MTU"
FLANNEL_V0_24_4 = [("vxlan", ["auto4"], 1450), ("vxlan", ["auto6"], 1450), ("vxlan", ["auto4", "auto6"], 1450),
                   ("wireguard", ["auto4"], 1420), ("wireguard", ["auto6"], 1420),
                   ("wireguard", ["auto4", "auto6"], 1420),
                   ("host-gw", ["auto4"], 1500), ("host-gw", ["auto4", "auto6"], 1500),
                   ("ipip", ["auto4"], 1480)]


@pytest.mark.parametrize("backend,pods,mtu", FLANNEL_V0_24_4)
def test_flannel_overheads_per_backend_and_family(backend, pods, mtu):
    same = [dict(NODE, name="a"), dict(NODE, name="b")]
    plan = ok(nodes=same, backend=backend, pod_cidrs=pods)
    assert plan["underlay_mtu"] == 1500 and plan["mtu"] == mtu and plan["veth_mtu"] == mtu
    assert plan["flannel_net_conf"]["Backend"] == {"Type": backend}


def test_ipip_is_ipv4_only_and_reported_with_the_other_problems():
    problems = refused(backend="ipip", pod_cidrs=["auto4", "auto6"], max_pods=0)
    has(problems, "backend: ipip carries IPv4 pod traffic only", "include IPv6")
    has(problems, "max_pods")
    has(refused(backend="ipip", pod_cidrs=["fd10:244::/48"], service_cidrs=["fd10:96::/112"]), "backend: ipip")
    plan = ok(nodes=[dict(NODE, name="a", mtu=1500), dict(NODE, name="b", mtu=9000)], backend="ipip")
    assert plan["mtu"] == 1480 and plan["flannel_net_conf"]["Backend"] == {"Type": "ipip", "MTU": 1500}
