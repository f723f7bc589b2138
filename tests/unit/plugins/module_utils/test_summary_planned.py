# -*- coding: utf-8 -*-
"""The run summary says that node pod subnets are planned values, not read from the cluster."""
from __future__ import annotations

from ansible_collections.kubelayer.runtime.plugins.module_utils.summary import render_summary


def test_pod_subnets_are_labelled_planned():
    lines = render_summary([{"node": "n1", "pod_subnet": "10.244.0.0/24"}],
                           network={"backend": "ipip", "pod_cidrs": ["10.244.0.0/16"], "mtu": 1480})
    header = lines[1]
    assert "pod subnet (planned)" in header and "10.244.0.0/24" in lines[3]
    assert "Network plan (Canal, backend ipip)" in lines
    assert any(line.split()[:2] == ["node", "subnets"] and "planned" in line and "spec.podCIDR" in line
               for line in lines)
