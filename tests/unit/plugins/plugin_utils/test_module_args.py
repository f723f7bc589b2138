# -*- coding: utf-8 -*-
"""plugin_utils/module_args.py: the controller-side argument check every module's action plugin runs first."""
import json

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.modules import canal_node, containerd_registry, cri_info
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_spec import ARGUMENT_SPEC as CONFIG_SPEC
from ansible_collections.kubelayer.runtime.plugins.plugin_utils import checked_action, module_args

SPECS = {"canal_node": canal_node.ARGUMENT_SPEC, "cri_info": cri_info.ARGUMENT_SPEC,
         "containerd_registry": containerd_registry.ARGUMENT_SPEC, "containerd_config": CONFIG_SPEC}
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


def test_good_arguments_pass_unchanged():
    args = {"vxlan_port": "4789", "cni_plugins": ["portmap"], "sysctl_file": "~/x.conf"}
    problems, validated = module_args.check(canal_node.ARGUMENT_SPEC, args)
    assert problems == []
    assert validated["vxlan_port"] == 4789
    assert validated["sysctl_file"] == "~/x.conf"  # a node path is not expanded on the controller


@pytest.mark.parametrize("args, option", [
    ({"timeout": "abc"}, "timeout"),
    ({"method": "ssh"}, "method"),
    ({"required": "maybe"}, "required"),
    ({"bogus": 1}, "bogus"),
    ({"cni_plugins": {"a": 1}}, "cni_plugins"),
])
def test_ansible_core_refusals_name_the_option(args, option):
    problems, _validated = module_args.check(cri_info.ARGUMENT_SPEC, args)
    assert problems and all(p.startswith(option + ": ") for p in problems)


def test_required_and_nested_errors_name_the_top_option():
    problems, _v = module_args.check(containerd_registry.ARGUMENT_SPEC, {"registries": [{"server": "x"}]})
    assert problems and all(p.startswith("registries: ") for p in problems)


def test_raising_validation_is_a_problem_not_a_traceback():
    problems, _v = module_args.check(containerd_registry.ARGUMENT_SPEC, {"registries": ["docker.io", 1]})
    assert problems and all(p.startswith("registries") for p in problems)


@settings(max_examples=examples(200), deadline=None)
@given(name=st.sampled_from(sorted(SPECS)), data=st.data())
def test_nul_anywhere_is_refused_and_named(name, data):
    spec = SPECS[name]
    option = data.draw(st.sampled_from(sorted(spec)))
    head, tail = data.draw(TEXT), data.draw(TEXT)
    value = data.draw(st.sampled_from([
        head + "\x00" + tail, [head + "\x00" + tail], {"k": head + "\x00" + tail}, {head + "\x00": "v"}]))
    problems, _v = module_args.check(spec, {option: value})
    assert any(p.startswith(option) and "NUL" in p for p in problems), problems
    assert all(p.split(":")[0].split(".")[0].split("[")[0] in spec for p in problems), problems


@settings(max_examples=examples(200), deadline=None)
@given(secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=20),
       shape=st.sampled_from(["nul", "type", "nested-type"]))
def test_no_log_values_never_appear_in_problems(secret, shape):
    if shape == "nul":
        args = {"auth": [{"registry": "r", "username": "u", "password": secret + "\x00"}]}
    elif shape == "type":
        args = {"auth": [{"registry": "r", "password": {"x": secret}}]}
    else:
        args = {"registries": [{"prefix": "p", "mirrors": [{"host": "h", "header": secret}]}]}
    problems, _v = module_args.check(containerd_registry.ARGUMENT_SPEC, args)
    failure = checked_action.failure("containerd_registry", problems)
    assert secret not in json.dumps(failure)


def test_failure_shape():
    failure = checked_action.failure("cri_info", ["timeout: bad", "method: bad"])
    assert failure["failed"] is True and failure["changed"] is False
    assert failure["problems"] == ["timeout: bad", "method: bad"]
    assert failure["msg"].startswith("cri_info: 2 problems:")
