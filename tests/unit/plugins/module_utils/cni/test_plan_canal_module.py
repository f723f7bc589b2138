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

from ansible.module_utils.testing import patch_module_args
from ansible_collections.kubelayer.runtime.plugins.modules import canal_plan, node_network_facts

OPTIONS = list(canal_plan.OPTIONS)


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
    code, result = run_module({"pod_cidrs": ["10.88.0.0/16"], "node_prefix": "abc", "backend": "udp",
                               "nodes": [{"name": "n1", "networks": ["10.88.0.5/16"], "mtu": 1500}]})
    assert code == 1 and result["failed"]
    assert len(result["problems"]) == 3
    for problem in result["problems"]:
        assert problem in result["msg"]
    assert "3 problems" in result["msg"] and result["plan"] == {}


def test_unknown_option_fails_cleanly():
    code, result = run_module({"pods": "10.0.0.0/8"})
    assert code == 1 and "Unsupported parameters" in result["msg"]


def test_documentation_matches_argument_spec():
    import yaml
    doc = yaml.safe_load(canal_plan.DOCUMENTATION)
    assert sorted(doc["options"]) == sorted(OPTIONS)
    assert all(o["type"] == "raw" for o in doc["options"].values())
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(OPTIONS + ["bogus"]), json_any, max_size=8))
def test_module_never_tracebacks(args):
    code, result = run_module(args)
    assert "exception" not in result
    assert "Traceback" not in json.dumps(result)
    if code == 0:
        assert result["problems"] == [] and isinstance(result["plan"], dict)
    else:
        assert result["failed"] and result["msg"]
        if "bogus" not in args:
            assert result["problems"] and "internal error" not in result["msg"]
