# -*- coding: utf-8 -*-
"""node_network_facts main(): real AnsibleModule, `ip` answered from the captured fixtures."""
from __future__ import annotations

import contextlib
import io
import json
import os
from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule
from kubelayer_compat import patch_module_args
from ansible_collections.kubelayer.runtime.plugins.modules import node_network_facts

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "netfacts")


def fake_ip(source, fail=()):
    outputs = {}
    for key in ("addr", "route4", "route6"):
        with open(os.path.join(FIXTURES, source, key + ".json")) as handle:
            outputs[key] = handle.read()

    def run_command(self, args, **kwargs):
        assert args[0] == "/usr/sbin/ip" and args[1] == "-j"
        key = "addr" if "addr" in args else ("route6" if "-6" in args else "route4")
        if key in fail:
            return 2, "", "RTNETLINK answers: Address family not supported by protocol"
        return 0, outputs[key], ""
    return run_command


def run(args, source="lab-bookworm", fail=()):
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out), \
            mock.patch.object(AnsibleModule, "get_bin_path", return_value="/usr/sbin/ip"), \
            mock.patch.object(AnsibleModule, "run_command", fake_ip(source, fail)):
        with pytest.raises(SystemExit) as exc:
            node_network_facts.main()
    return exc.value.code, json.loads(out.getvalue())


def test_facts_from_a_lab_node():
    code, result = run({})
    assert code == 0 and result["changed"] is False
    facts = result["ansible_facts"]["node_network"]
    assert "10.88.0.0/16" in facts["networks"] and facts["mtu"] == 1500
    assert facts["hostname"]


def test_ipv6_route_failure_is_a_warning():
    code, result = run({}, fail=("route6",))
    assert code == 0
    assert "assuming no IPv6 routes" in json.dumps(result["warnings"])
    assert all(r["family"] == "ipv4" for r in result["ansible_facts"]["node_network"]["routes"])


def test_addr_failure_fails_cleanly():
    code, result = run({}, fail=("addr",))
    assert code == 1 and "failed with rc 2" in result["msg"] and "ip -j, is required" in result["msg"]


def test_options():
    code, result = run({"underlay_interface": "vpn0"}, source="lab-trixie-vpn")
    assert code == 0 and result["ansible_facts"]["node_network"]["mtu"] == 1420
    code, result = run({"underlay_interface": "nope0"})
    assert code == 1 and "does not exist" in result["msg"]
    code, result = run({"cni_interface_pattern": "("})
    assert code == 1 and "cni_interface_pattern" in result["msg"]
    code, result = run({"cni_interface_pattern": ""}, source="lab-trixie-vpn")
    assert "10.244.3.0/24" in result["ansible_facts"]["node_network"]["networks"]
