# -*- coding: utf-8 -*-
"""The canal_plan module's argument handling: real AnsibleModule, fuzzed args.

Runs plugins/modules/canal_plan.py main() in-process with
ansible.module_utils.testing.patch_module_args and checks that every input,
however wrong, ends in exit_json or fail_json (never a traceback), and that a
failure lists every problem in one message.
"""
from __future__ import annotations

import contextlib
import io
import json

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from hypothesis_budget import examples

from kubelayer_compat import patch_module_args
from ansible_collections.kubelayer.runtime.plugins.modules import canal_plan, node_network_facts

OPTIONS = list(canal_plan.OPTIONS)
# the fuzzer must not write files at random paths: state_file has its own tests below
FUZZED = [o for o in OPTIONS if o != "state_file"]


def run_module(args):
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit) as exc:
            canal_plan.main()
    result = json.loads(out.getvalue())
    return exc.value.code, result


def test_success_returns_plan_and_empty_problems():
    code, result = run_module({"nodes": [{"name": "n1", "networks": ["10.88.0.5/16"], "routes": [], "mtu": 1500}]})
    assert code == 0 and not result.get("failed")
    assert result["changed"] is False and result["problems"] == []
    assert result["plan"]["pod_cidrs"] == ["10.244.0.0/16"]
    assert result["plan"]["mtu"] == 1450


def test_failure_lists_every_problem_in_one_message():
    code, result = run_module({"pod_cidrs": ["10.88.0.0/16"], "node_prefix": 40, "max_pods": 0,
                               "nodes": [{"name": "n1", "networks": ["10.88.0.5/16"], "mtu": 1500}]})
    assert code == 1 and result["failed"]
    assert len(result["problems"]) == 3
    for problem in result["problems"]:
        assert problem in result["msg"]
    assert "3 problems" in result["msg"] and result["plan"] == {}


def test_types_are_checked_by_the_argument_spec():
    code, result = run_module({"node_prefix": "abc"})
    assert code == 1 and "node_prefix" in result["msg"] and "int" in result["msg"]
    code, result = run_module({"backend": "udp"})
    assert code == 1 and "backend" in result["msg"] and "ipip" in result["msg"]


def test_unknown_option_fails_cleanly():
    code, result = run_module({"pods": "10.0.0.0/8"})
    assert code == 1 and "Unsupported parameters" in result["msg"]


def test_documentation_matches_argument_spec():
    import yaml
    doc = yaml.safe_load(canal_plan.DOCUMENTATION)
    assert sorted(doc["options"]) == sorted(OPTIONS)
    for name, spec in canal_plan.ARGUMENT_SPEC.items():
        option = doc["options"][name]
        for key in ("type", "elements", "choices", "default"):
            assert option.get(key) == spec.get(key), (name, key)
    # raw only where a value really takes several shapes (nodes: a list or a dict keyed by node name)
    assert [n for n, o in doc["options"].items() if o["type"] == "raw"] == ["nodes"]
    yaml.safe_load(canal_plan.EXAMPLES)
    ret = yaml.safe_load(canal_plan.RETURN)
    plan_keys = set(ret["plan"]["contains"])
    code, result = run_module({"pod_cidrs": ["auto4", "auto6"]})
    assert code == 0
    assert set(result["plan"]) == plan_keys
    facts_doc = yaml.safe_load(node_network_facts.DOCUMENTATION)
    assert sorted(facts_doc["options"]) == ["cni_interface_pattern", "underlay_interface"]


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 30, 10 ** 30), st.floats(allow_nan=False),
                      st.text(max_size=12),
                      st.sampled_from(["auto", "auto6", "10.244.0.0/16", "10.96.0.0/12", "fd10::/48", "default",
                                       "host-gw", "24", "10.244.0.1/16"]))
json_any = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["name", "networks", "routes", "mtu", "subnets", "dst", "x"]), inner,
                    max_size=4)), max_leaves=15)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FUZZED + ["bogus"]), json_any, max_size=8))
def test_module_never_tracebacks(args):
    code, result = run_module(args)
    assert "exception" not in result
    assert "Traceback" not in json.dumps(result)
    if code == 0:
        assert result["problems"] == [] and isinstance(result["plan"], dict)
    else:
        assert result["failed"] and result["msg"] and "internal error" not in result["msg"]
        if "problems" in result:
            # the planner's refusal: every problem listed, each one in the message
            assert result["problems"] and all(p in result["msg"] for p in result["problems"])
        else:
            # the argument spec's refusal (a type, a choice, an unknown option): it names the option
            assert any(name in result["msg"] for name in args), result["msg"]


def run_module_mode(args, check=False, diff=False):
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    return run_module(args)


def test_state_file_written_once_kept_and_honoured(tmp_path):
    path = tmp_path / "plan" / "canal-node-subnets.json"
    nodes = [{"name": n, "networks": ["192.168.1.0/24"], "mtu": 1500} for n in ("a", "b")]
    code, result = run_module_mode({"nodes": nodes, "state_file": str(path)}, check=True, diff=True)
    assert code == 0 and result["changed"] and not path.exists()
    assert '"a": {' in result["diff"]["after"] and result["diff"]["before"] == ""
    code, result = run_module({"nodes": nodes, "state_file": str(path)})
    assert code == 0 and result["changed"] and result["state_file"] == str(path)
    assert json.loads(path.read_text())["nodes"] == {"a": {"ipv4": "10.244.0.0/24"}, "b": {"ipv4": "10.244.1.0/24"}}
    # new order, one node more: nothing moves, only the new node is added
    nodes = [{"name": "c", "mtu": 1500}] + nodes[::-1]
    code, result = run_module({"nodes": nodes, "state_file": str(path)})
    assert code == 0 and result["changed"]
    assert result["plan"]["nodes"] == {"a": {"ipv4": "10.244.0.0/24"}, "b": {"ipv4": "10.244.1.0/24"},
                                       "c": {"ipv4": "10.244.2.0/24"}}
    code, result = run_module({"nodes": nodes, "state_file": str(path)})
    assert code == 0 and not result["changed"]


def test_broken_state_file_is_one_problem_among_the_others(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{oops")
    code, result = run_module({"state_file": str(path), "max_pods": 0})
    assert code == 1 and len(result["problems"]) == 2 and not result.get("changed")
    assert any(p.startswith("state_file: %s is not valid JSON" % path) for p in result["problems"])
    assert path.read_text() == "{oops"
