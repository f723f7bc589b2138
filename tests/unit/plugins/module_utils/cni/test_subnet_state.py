# -*- coding: utf-8 -*-
"""The canal_plan state file: planned node subnets survive host order changes, added and removed nodes."""
from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni import subnet_state
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.plan import make_plan


def run(names, state_text=None, **params):
    """One planning run as the module does it: state file in, plan out, state file text back."""
    state, problems = subnet_state.parse_state(state_text)
    assert problems == []
    params.setdefault("pod_cidrs", ["10.244.0.0/16", "fd10:244::/48"])
    params.setdefault("service_cidrs", ["10.96.0.0/16", "fd10:96::/112"])
    plan, problems, _w = make_plan(dict(params, state_assignments=state,
                                        nodes=[{"name": n, "networks": ["192.168.1.0/24"], "mtu": 1500}
                                               for n in names]))
    assert problems == [], problems
    return plan, subnet_state.render_state(plan)


NAMES = st.lists(st.from_regex(r"\A[a-z][a-z0-9-]{0,7}\Z"), min_size=1, max_size=12, unique=True)


@settings(max_examples=examples(60), deadline=None)
@given(NAMES, NAMES, st.randoms(use_true_random=False))
def test_host_order_and_added_nodes_move_no_one(first, added, rnd):
    plan1, text = run(first)
    later = list(dict.fromkeys(first + added))
    rnd.shuffle(later)
    plan2, text2 = run(later, text)
    for name in first:
        assert plan2["nodes"][name] == plan1["nodes"][name]
    subnets = [tuple(sorted(v.items())) for v in plan2["nodes"].values()]
    assert len(subnets) == len(set(subnets))          # no two nodes share a subnet
    # a third run with the same hosts in yet another order changes nothing, not even the file
    rnd.shuffle(later)
    plan3, text3 = run(later, text2)
    assert text3 == text2 and plan3["nodes"] == plan2["nodes"]


@settings(max_examples=examples(40), deadline=None)
@given(NAMES, st.data())
def test_removed_nodes_keep_their_subnet_until_released(names, data):
    plan1, text = run(names)
    gone = data.draw(st.lists(st.sampled_from(names), unique=True))
    stay = [n for n in names if n not in gone]
    plan2, text2 = run(stay or ["new"], text)
    assert all(plan2["nodes"][n] == plan1["nodes"][n] for n in names)   # kept, even those not planned now
    plan3, _text3 = run(stay or ["new"], text2, release_nodes=gone)
    assert all(n not in plan3["nodes"] for n in gone)
    assert all(plan3["nodes"][n] == plan1["nodes"][n] for n in stay)


def test_without_the_state_file_host_order_decides():
    plan_ab, _t = run(["a", "b"])
    plan_ba, _t = run(["b", "a"])
    assert plan_ab["nodes"]["a"] != plan_ba["nodes"]["a"]      # why the state file exists


def test_a_freed_subnet_is_reused_lowest_first():
    _plan, text = run(["a", "b", "c"])
    plan, _text = run(["a", "c", "d"], text, release_nodes=["b"])
    assert plan["nodes"]["d"] == {"ipv4": "10.244.1.0/24", "ipv6": "fd10:244:0:1::/64"}
    assert plan["nodes"]["c"] == {"ipv4": "10.244.2.0/24", "ipv6": "fd10:244:0:2::/64"}


def test_given_assignments_win_over_the_state_file_with_a_warning():
    _plan, text = run(["a", "b"], pod_cidrs=["10.244.0.0/16"], service_cidrs=["auto"])
    state, _p = subnet_state.parse_state(text)
    plan, problems, warnings = make_plan({"pod_cidrs": ["10.244.0.0/16"], "state_assignments": state,
                                          "assignments": {"a": ["10.244.7.0/24"]},
                                          "nodes": [{"name": "a"}, {"name": "b"}]})
    assert problems == [] and plan["nodes"]["a"] == {"ipv4": "10.244.7.0/24"}
    assert any("node a: 10.244.0.0/24 -> 10.244.7.0/24 replaces" in w for w in warnings)


def test_state_outside_a_new_pod_range_is_refused_with_the_way_out():
    _plan, text = run(["a"], pod_cidrs=["10.244.0.0/16"], service_cidrs=["auto"])
    state, _p = subnet_state.parse_state(text)
    plan, problems, _w = make_plan({"pod_cidrs": ["10.50.0.0/16"], "state_assignments": state,
                                    "nodes": [{"name": "a"}]})
    assert plan is None
    assert any(p.startswith("state_file: node a subnet 10.244.0.0/24 is outside the pod range 10.50.0.0/16")
               and "release_nodes" in p for p in problems)


def test_release_of_an_unknown_node_warns():
    _plan, _p, warnings = make_plan({"release_nodes": ["ghost"], "nodes": [{"name": "a"}]})
    assert "release_nodes: ghost has no subnet kept in the state file" in warnings


def test_parse_state_refuses_foreign_or_broken_files():
    for text, words in (("{", "not valid JSON"), ("[]", "not a canal node subnet state"),
                        (json.dumps({"kind": subnet_state.KIND, "version": 9, "nodes": {}}), "version 9"),
                        (json.dumps({"kind": subnet_state.KIND, "version": 1, "nodes": []}), "nodes must map"),
                        (json.dumps({"kind": subnet_state.KIND, "version": 1, "nodes": {"a": {"ipv4": 5}}}),
                         "node a must map")):
        assignments, problems = subnet_state.parse_state(text, "/x.json")
        assert assignments == {} and len(problems) == 1
        assert problems[0].startswith("state_file: /x.json") and words in problems[0]
    assert subnet_state.parse_state(None) == ({}, []) and subnet_state.parse_state("  \n") == ({}, [])


def test_render_state_is_stable_json():
    plan, text = run(["b", "a"])
    data = json.loads(text)
    assert data["kind"] == subnet_state.KIND and data["version"] == 1 and "prediction" in data["note"]
    assert data["nodes"] == plan["nodes"] and text.endswith("\n")
    assert list(data["nodes"]) == ["a", "b"]


def test_a_previous_state_file_is_adopted_ignored_or_refused_by_whose_nodes_it_holds():
    kept = {"node1": ["10.244.7.0/24"], "node2": ["10.244.9.0/24"]}
    assert subnet_state.adopt_previous(kept, ["node1", "node2", "node3"], "/old", "/new") == (kept, "adopted", [])
    assert subnet_state.adopt_previous(kept, ["other1"], "/old", "/new") == ({}, "ignored", [])
    assert subnet_state.adopt_previous({}, ["node1"], "/old", "/new") == ({}, None, [])
    state, outcome, problems = subnet_state.adopt_previous(kept, ["node1"], "/old", "/new")
    assert (state, outcome) == ({}, None) and len(problems) == 1
    assert problems[0].startswith("previous_state_file: /old ") and "(node1)" in problems[0] and "(node2)" in problems[0]
    assert "/new" in problems[0]
