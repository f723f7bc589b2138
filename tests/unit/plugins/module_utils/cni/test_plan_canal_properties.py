# -*- coding: utf-8 -*-
"""Property tests for the Canal planner: random inventories, fuzzed options."""
from __future__ import annotations

import ipaddress
import json

import pytest
from hypothesis import assume, given, settings, strategies as st, HealthCheck
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni import plan as P
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.plan import make_plan

POOLS4 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")]
POOLS6 = [ipaddress.ip_network(n) for n in ("fd00::/8", "fd10:244::/32")]


@st.composite
def cidr4(draw, min_prefix=8, max_prefix=32, strict=True):
    pool = draw(st.sampled_from(POOLS4))
    prefix = draw(st.integers(max(min_prefix, pool.prefixlen), max_prefix))
    offset = draw(st.integers(0, (1 << (32 - pool.prefixlen)) - 1))
    addr = int(pool.network_address) + offset
    net = ipaddress.ip_network((addr, prefix), strict=False)
    if strict:
        return str(net)
    return "%s/%d" % (ipaddress.ip_address(addr), prefix)


@st.composite
def cidr6(draw, min_prefix=8, max_prefix=128):
    pool = draw(st.sampled_from(POOLS6))
    prefix = draw(st.integers(max(min_prefix, pool.prefixlen), max_prefix))
    offset = draw(st.integers(0, (1 << (128 - pool.prefixlen)) - 1))
    return str(ipaddress.ip_network((int(pool.network_address) + offset, prefix), strict=False))


node_cidr = st.one_of(cidr4(min_prefix=12, strict=False), cidr4(min_prefix=12), cidr6(min_prefix=32))


@st.composite
def inventory(draw, max_nodes=10):
    count = draw(st.integers(0, max_nodes))
    nodes = []
    for i in range(count):
        nodes.append({
            "name": "node-%d" % i,
            "networks": draw(st.lists(node_cidr, max_size=4)),
            "routes": draw(st.lists(st.one_of(node_cidr, st.just("default")), max_size=6)),
            "mtu": draw(st.sampled_from([1500, 1450, 1400, 9000, 1480])),
        })
    return nodes


@st.composite
def plan_params(draw):
    params = {"nodes": draw(inventory())}
    family = draw(st.sampled_from(["4", "46", "6"]))
    pods = []
    services = []
    if "4" in family:
        pods.append(draw(st.one_of(st.just("auto4"), cidr4(min_prefix=8, max_prefix=24))))
        services.append(draw(st.one_of(st.just("auto4"), cidr4(min_prefix=12, max_prefix=28))))
    if "6" in family:
        pods.append(draw(st.one_of(st.just("auto6"), cidr6(min_prefix=40, max_prefix=64))))
        services.append(draw(st.one_of(st.just("auto6"), cidr6(min_prefix=104, max_prefix=120))))
    params["pod_cidrs"] = pods
    params["service_cidrs"] = services
    params["node_prefix"] = draw(st.integers(16, 28))
    params["node_prefix_v6"] = draw(st.sampled_from([64, 72, 80, 112, 120]))
    params["max_pods"] = draw(st.integers(1, 300))
    params["backend"] = draw(st.sampled_from(P.BACKENDS))
    params["expected_nodes"] = draw(st.one_of(st.none(), st.integers(1, 4000)))
    params["reserved"] = draw(st.lists(st.one_of(cidr4(min_prefix=8), cidr6(min_prefix=16)), max_size=3))
    return params


def _net(text):
    return ipaddress.ip_network(text, strict=False)


def _overlap(a, b):
    return a.version == b.version and (a.subnet_of(b) or b.subnet_of(a))


def check_plan_invariants(params, plan):
    assigned = [s for subnets in (params.get("assignments") or {}).values() for s in subnets]
    cluster = [_net(c) for c in plan["pod_cidrs"] + plan["service_cidrs"]]
    for i, a in enumerate(cluster):
        for b in cluster[i + 1:]:
            assert not _overlap(a, b), (a, b)
        for special, _desc in P.SPECIAL_RANGES:
            assert not _overlap(a, _net(special)), (a, special)
        for r in params.get("reserved") or []:
            assert not _overlap(a, _net(r)), (a, r)
        for node in params["nodes"]:
            for n in node["networks"]:
                assert not _overlap(a, _net(n)), (a, n, node["name"])
            for r in node["routes"]:
                # routes into assigned node subnets are the cluster's own (host-gw, blackhole)
                if r != "default" and _net(r).prefixlen > 1 and not any(
                        _overlap(_net(r), _net(s)) and _net(r).subnet_of(_net(s)) for s in assigned):
                    assert not _overlap(a, _net(r)), (a, r, node["name"])
    pods = dict((_net(c).version, _net(c)) for c in plan["pod_cidrs"])
    prefix = {4: plan["node_prefix"], 6: plan["node_prefix_v6"]}
    seen = set()
    assert set(plan["nodes"]) == set(n["name"] for n in params["nodes"])
    for name, subnets in plan["nodes"].items():
        assert set(subnets) == set("ipv%d" % v for v in pods)
        for fam, text in subnets.items():
            net = _net(text)
            assert net.subnet_of(pods[net.version]), (name, net)
            assert net.prefixlen == prefix[net.version]
            assert text not in seen
            seen.add(text)
    expected = max(params.get("expected_nodes") or 1, len(params["nodes"]))
    assert plan["max_nodes"] >= expected
    assert plan["pods_per_node"] >= params["max_pods"]
    for fam, data in plan["families"].items():
        if data["service_cidr"]:
            svc = _net(data["service_cidr"])
            assert svc.max_prefixlen - svc.prefixlen <= 20 and svc.num_addresses >= 11
            assert ipaddress.ip_address(data["dns_ip"]) == svc.network_address + 10
    mtus = [n["mtu"] for n in params["nodes"]] or [1500]
    assert plan["mtu"] == min(mtus) - P.BACKEND_OVERHEAD[params["backend"]][
        "ipv6" if any(_net(c).version == 6 for c in plan["pod_cidrs"]) else "ipv4"]
    assert plan["flannel_net_conf"]["Backend"]["Type"] == params["backend"]
    json.dumps(plan)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_params())
def test_random_inventory_plan_never_overlaps_and_subnets_fit(params):
    plan, problems, warnings = make_plan(params)
    assert isinstance(warnings, list)
    if plan is None:
        assert problems and all(isinstance(p, str) and p for p in problems)
        return
    assert problems == []
    check_plan_invariants(params, plan)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(cidr4(min_prefix=8), cidr6(min_prefix=16)), max_size=3))
def test_auto_always_succeeds_or_says_why_and_avoids_everything(reserved):
    params = {"pod_cidrs": ["auto4", "auto6"], "nodes": [], "reserved": reserved}
    plan, problems, _w = make_plan(params)
    if plan is None:
        assert any("auto" in p for p in problems)
    else:
        check_plan_invariants(dict(params, max_pods=110, backend="vxlan", expected_nodes=None), plan)


@pytest.mark.slow  # large generated inventories
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(plan_params(), inventory(max_nodes=6))
def test_adding_nodes_never_moves_existing_ones(params, extra):
    plan, problems, _w = make_plan(params)
    assume(plan is not None)
    for i, node in enumerate(extra):
        node["name"] = "extra-%d" % i
    grown = dict(params, nodes=extra[: len(extra) // 2] + params["nodes"] + extra[len(extra) // 2:],
                 pod_cidrs=plan["pod_cidrs"], service_cidrs=plan["service_cidrs"],
                 assignments=dict((name, list(s.values())) for name, s in plan["nodes"].items()))
    grown["expected_nodes"] = None
    plan2, problems2, _w = make_plan(grown)
    if plan2 is None:
        # only the new nodes can make it fail (their routes, capacity)
        assert problems2
        return
    for name, subnets in plan["nodes"].items():
        assert plan2["nodes"][name] == subnets
    check_plan_invariants(grown, plan2)


@pytest.mark.slow  # large generated inventories
@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(plan_params(), inventory(max_nodes=4))
def test_appending_nodes_without_assignments_keeps_order_based_subnets(params, extra):
    plan, _p, _w = make_plan(params)
    assume(plan is not None)
    for i, node in enumerate(extra):
        node["name"] = "extra-%d" % i
        node["networks"] = []
        node["routes"] = []
    grown = dict(params, nodes=params["nodes"] + extra, pod_cidrs=plan["pod_cidrs"],
                 service_cidrs=plan["service_cidrs"], expected_nodes=None)
    plan2, _p2, _w2 = make_plan(grown)
    assume(plan2 is not None)
    for name, subnets in plan["nodes"].items():
        assert plan2["nodes"][name] == subnets


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.one_of(cidr4(min_prefix=0), cidr6(min_prefix=0)), max_size=30),
       st.one_of(cidr4(min_prefix=0), cidr6(min_prefix=0)))
def test_range_index_matches_brute_force(indexed, query):
    parser = P.Parser()
    nets = [parser.parse(t)[0] for t in indexed]
    index = P.RangeIndex(nets)
    q = parser.parse(query)[0]
    got = sorted(str(n) for n in index.overlapping(q))
    want = sorted(set(str(n) for n in nets if n.overlaps(q)))
    assert got == want
    assert index.any_overlap(q) == bool(want)


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(cidr4(min_prefix=0, strict=False), cidr6(min_prefix=0),
                 st.text(max_size=20), st.from_regex(r"\A[0-9./:a-f]{1,25}\Z")))
def test_parser_agrees_with_ipaddress(text):
    net, error = P.Parser().parse(text)
    try:
        ref = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        ref = None
    if ref is None:
        assert net is None and error
    else:
        assert error is None and str(net) == str(ref)


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 40, 10 ** 40), st.floats(allow_nan=True),
                      st.text(max_size=15),
                      st.sampled_from(["auto", "auto4", "auto6", "10.244.0.0/16", "10.96.0.0/12", "fd10::/48",
                                       "10.244.1.0/16", "default", "vxlan", "24", "0.0.0.0/0", "::/0"]))
json_any = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["name", "hostname", "networks", "routes", "mtu", "subnets", "interfaces",
                                     "dst", "default", "cni", "ipv4", "ipv6", "x"]), inner, max_size=5)),
    max_leaves=25)
OPTION_NAMES = ["pod_cidrs", "service_cidrs", "node_prefix", "node_prefix_v6", "max_pods", "backend",
                "expected_nodes", "reserved", "nodes", "assignments"]


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(OPTION_NAMES), json_any, max_size=10))
def test_make_plan_never_raises_on_garbage(params):
    plan, problems, warnings = make_plan(params)
    assert isinstance(problems, list) and isinstance(warnings, list)
    assert all(isinstance(p, str) for p in problems)
    assert (plan is None) == bool(problems)
    json.dumps(plan)
