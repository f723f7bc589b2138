# -*- coding: utf-8 -*-
"""benchmarks/bench_canal_plan.py runs and reports what it claims (tiny sizes; no timing asserted)."""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import bench_canal_plan  # noqa: E402


def _run(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert bench_canal_plan.main(argv) == 0
    return out.getvalue()


@pytest.mark.slow  # runs the benchmark
def test_json_rows():
    data = json.loads(_run(["--sizes", "30,70", "--repeat", "1", "--json"]))
    assert [r["nodes"] for r in data["results"]] == [30, 70]
    for row in data["results"]:
        assert row["interfaces_per_node"] == 8 and row["routes_per_node"] == 20
        # the rows report the plan they measured (timings are the benchmark's business, not asserted here)
        nodes = bench_canal_plan.make_inventory(row["nodes"])
        assert row["distinct_ranges"] == len(set(c for n in nodes for c in n["networks"] + n["routes"]))
        assert row["pod_cidrs"] == ["10.244.0.0/16"] and row["max_nodes"] == 512
        assert row["mtu"] == min(n["mtu"] for n in nodes) - 50
        assert row["refuse_problems"] >= 1
        assert all(isinstance(row[k], float) for k in ("seconds", "cpu_seconds", "peak_mib", "refuse_seconds"))


@pytest.mark.slow  # runs the benchmark
def test_markdown_table():
    text = _run(["--sizes", "20", "--repeat", "1"])
    assert text.startswith("| nodes |") and "| 20 |" in text


def test_generated_node_shape():
    node = bench_canal_plan.make_node(123)
    assert len(node["routes"]) == 20
    assert "default" in node["routes"] and "10.88.0.0/16" in node["networks"]
