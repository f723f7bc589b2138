# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""canal_plan scaling benchmark: plan 500, 5,000 and 50,000 nodes.

    .venv/bin/python benchmarks/bench_canal_plan.py                    # markdown table
    .venv/bin/python benchmarks/bench_canal_plan.py --sizes 500,5000   # choose sizes
    .venv/bin/python benchmarks/bench_canal_plan.py --json             # machine-readable rows

Every node has 8 interfaces (lo, two NICs, a WireGuard VPN, docker0, podman0, a
management VLAN, a storage bond) and 20 routes (default, connected, local and
broadcast host routes, corporate and VPN ranges, a policy-routing table), the
shape node_network_facts produces. Addresses are unique per node, shared
networks are shared per rack (64 nodes), so the planner sees ~14 distinct
ranges per node.

Measured per size, on the pure planner (make_plan, what the module runs):
  auto     pod_cidrs/service_cidrs auto, sized for the node count: the candidate
           search skips 10.244.0.0/16 etc. where too small, 172.16.0.0/12 (docker0,
           the racks) and 100.64.0.0/10 (the VPN) and settles on a piece of 10.0.0.0/8
           that misses podman's 10.88.0.0/16
  refuse   pod_cidrs 10.88.0.0/16 (podman's range on every node): the failure
           path, collecting and aggregating every overlap
Time is the best of --repeat runs (no tracing), wall clock (perf_counter) and
CPU (process_time; the honest figure on a shared, loaded machine); peak memory is tracemalloc's
peak during one further run (allocations of make_plan only; the inventory
itself is built before).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".venv", "collections")
if os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections")):
    sys.path.insert(0, COLLECTIONS)

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.plan import make_plan  # noqa: E402

RACK = 64
INTERFACES_PER_NODE = 8
ROUTES_PER_NODE = 20
TARGET_5000_S = 0.5


def ip4(value):
    return "%d.%d.%d.%d" % ((value >> 24) & 255, (value >> 16) & 255, (value >> 8) & 255, value & 255)


def make_node(i):
    """One node as the role builds it from node_network_facts: 8 interfaces, 20 routes."""
    rack = i // RACK
    slot = i % RACK + 10
    rack_net = (172 << 24) | ((20 + rack // 256) << 16) | ((rack % 256) << 8)   # 172.20.0.0/14, /24 per rack
    eth0 = rack_net | slot
    storage_net = (192 << 24) | (168 << 16) | ((rack % 200) << 8)              # 192.168.0.0/16, /24 per rack
    vpn = (100 << 24) | ((100 + (i >> 16)) << 16) | (i & 0xFFFF)                # 100.100.0.0/14, /32 per node
    mgmt = (172 << 24) | (30 << 16) | ((rack % 256) << 8) | slot                # 172.30.0.0/16
    networks = [
        "127.0.0.0/8", "::1/128",                                              # lo
        "%s/24" % ip4(rack_net), "fd00:dc:%x::/64" % rack, "fe80::/64",        # eth0
        "%s/24" % ip4(storage_net),                                            # eth1 (storage bond)
        "%s/32" % ip4(vpn),                                                    # wg0 (VPN)
        "172.17.0.0/16",                                                       # docker0
        "10.88.0.0/16",                                                        # podman0
        "%s/24" % ip4(mgmt & ~0xFF),                                           # vlan42 (management)
    ]
    routes = [
        "default",
        "%s/24" % ip4(rack_net),
        "%s/32" % ip4(eth0),
        "%s/32" % ip4(rack_net | 255),
        "%s/24" % ip4(storage_net),
        "%s/32" % ip4(storage_net | slot),
        "%s/32" % ip4(vpn),
        "100.64.0.0/10",                     # VPN (tailnet)
        "172.31.0.0/16",                     # VPN site, policy table 51820
        "172.24.0.0/16",                     # corporate
        "192.168.100.0/22",                  # corporate
        "172.17.0.0/16",
        "172.17.0.1/32",
        "10.88.0.0/16",
        "10.88.0.1/32",
        "%s/24" % ip4(mgmt & ~0xFF),
        "%s/32" % ip4(mgmt),
        "127.0.0.0/8",
        "fd00:dc:%x::/64" % rack,
        "ff00::/8",
    ]
    return {"name": "node-%05d" % i, "networks": networks, "routes": routes, "mtu": 1500 if i % 7 else 1450}


def make_inventory(count):
    return [make_node(i) for i in range(count)]


def run_once(params):
    gc.collect()
    start = time.perf_counter()
    cpu = time.process_time()
    plan, problems, _warnings = make_plan(params)
    return time.perf_counter() - start, time.process_time() - cpu, plan, problems


def measure(nodes, params, repeat):
    """Best wall and CPU time over ``repeat`` runs, then tracemalloc peak of one more run."""
    params = dict(params, nodes=nodes)
    best = best_cpu = None
    plan = problems = None
    for _attempt in range(repeat):
        seconds, cpu, plan, problems = run_once(params)
        best = seconds if best is None else min(best, seconds)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    gc.collect()
    tracemalloc.start()
    make_plan(params)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, best_cpu, peak, plan, problems


def bench(sizes, repeat):
    rows = []
    for size in sizes:
        nodes = make_inventory(size)
        distinct = len(set(c for n in nodes for c in n["networks"] + n["routes"]))
        auto_s, auto_cpu, auto_peak, plan, problems = measure(
            nodes, {"node_prefix": 25, "max_pods": 110}, repeat)
        if plan is None:
            raise SystemExit("auto plan for %d nodes failed: %s" % (size, problems[:5]))
        refuse_s, refuse_cpu, refuse_peak, bad, bad_problems = measure(
            nodes, {"pod_cidrs": ["10.88.0.0/16"], "node_prefix": 25, "max_pods": 110}, repeat)
        if bad is not None or not any("10.88.0.0/16" in p for p in bad_problems):
            raise SystemExit("the 10.88.0.0/16 plan for %d nodes was not refused" % size)
        rows.append({
            "nodes": size,
            "interfaces_per_node": INTERFACES_PER_NODE,
            "routes_per_node": ROUTES_PER_NODE,
            "distinct_ranges": distinct,
            "seconds": round(auto_s, 4),
            "cpu_seconds": round(auto_cpu, 4),
            "cpu_us_per_node": round(auto_cpu / size * 1e6, 2),
            "peak_mib": round(auto_peak / 1048576.0, 2),
            "refuse_seconds": round(refuse_s, 4),
            "refuse_cpu_seconds": round(refuse_cpu, 4),
            "refuse_peak_mib": round(refuse_peak / 1048576.0, 2),
            "refuse_problems": len(bad_problems),
            "pod_cidrs": plan["pod_cidrs"],
            "service_cidrs": plan["service_cidrs"],
            "max_nodes": plan["max_nodes"],
            "mtu": plan["mtu"],
        })
    return rows


def table(rows):
    lines = [
        "| nodes | distinct ranges | auto plan wall (s) | CPU (s) | CPU us/node | peak MiB | "
        "refuse 10.88.0.0/16 wall (s) | CPU (s) | peak MiB | pod range picked | max nodes | pod MTU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append("| {nodes:,} | {distinct_ranges:,} | {seconds:.3f} | {cpu_seconds:.3f} | {cpu_us_per_node:.1f} | "
                     "{peak_mib:.1f} | {refuse_seconds:.3f} | {refuse_cpu_seconds:.3f} | {refuse_peak_mib:.1f} | {pods} | {max_nodes:,} | {mtu} |".format(
                         pods=", ".join(r["pod_cidrs"]), **r))
    five = [r for r in rows if r["nodes"] == 5000]
    if five:
        verdict = "meets" if five[0]["seconds"] < TARGET_5000_S else "MISSES"
        lines.append("")
        lines.append("5,000 nodes: %.3f s wall (%.3f s CPU), %s the %.1f s target; load average %s."
                     % (five[0]["seconds"], five[0]["cpu_seconds"], verdict, TARGET_5000_S, _load()))
    return "\n".join(lines)


def _load():
    try:
        return "%.1f" % os.getloadavg()[0]
    except (AttributeError, OSError):
        return "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,5000,50000", help="comma-separated node counts")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size (best is reported)")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a markdown table")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes must be comma-separated integers")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes must list positive node counts")
    rows = bench(sizes, max(1, args.repeat))
    if args.json:
        print(json.dumps({"benchmark": "canal_plan", "target_5000_s": TARGET_5000_S, "load_average": _load(),
                          "python": sys.version.split()[0], "results": rows}, indent=2))
    else:
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
