# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""network_policy benchmark: compile and prove 200 namespaces with 5 flows each.

    .venv/bin/python benchmarks/bench_network_policy.py                  # markdown table
    .venv/bin/python benchmarks/bench_network_policy.py --namespaces 50  # smaller
    .venv/bin/python benchmarks/bench_network_policy.py --json           # machine-readable

The intent: N namespaces ``ns0..``, each isolated, with 5 workloads (``frontend``, ``backend``, ``cache``,
``db``, ``worker``) and 5 flows (frontend->backend 8080, backend->cache 6379, backend->db 5432,
worker->db 5432, and every 10th namespace scraped by ``monitoring``'s prometheus, otherwise worker->backend
9000), plus the defaults (DNS, metadata deny) and one cluster rule (no SMTP out).

Measured, wall (perf_counter) and CPU (process_time of this process; the analyzer runs in a child):
  compile   intent.normalize + compile + calico (pure Python)
  expected  the intent's own connectivity over the synthetic endpoints (pure Python)
  analyzer  one `nca --connectivity` over the same objects and endpoints: the child's wall time, and the
            analyzer's own "Total run time" it prints (its computation without start-up and parsing)
  prove     everything the module's proof does (write inputs, one analyzer run, parse, compare), end to end
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".venv", "collections")
if os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections")):
    sys.path.insert(0, COLLECTIONS)

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import (  # noqa: E402
    analyzer, calico, compile as comp, endpoints, expected, intent, prove)
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import dump_documents  # noqa: E402

WORKLOADS = ("frontend", "backend", "cache", "db", "worker")


def make_intent(count):
    namespaces = {"monitoring": {"profile": "isolated"}}
    workloads = {"prometheus": {"namespace": "monitoring", "podSelector": {"matchLabels": {"app": "prometheus"}}}}
    flows = []
    for i in range(count):
        ns = "ns%d" % i
        namespaces[ns] = {"profile": "isolated", "labels": {"team": "t%d" % (i % 7)}}
        for w in WORKLOADS:
            workloads["%s-%s" % (ns, w)] = {"namespace": ns, "podSelector": {"matchLabels": {"app": w}}}

        def wl(name, ns=ns):
            return {"workload": "%s-%s" % (ns, name)}

        flows.extend([
            {"name": "%s-fe-be" % ns, "from": wl("frontend"), "to": wl("backend"), "ports": [{"port": 8080}]},
            {"name": "%s-be-cache" % ns, "from": wl("backend"), "to": wl("cache"), "ports": [{"port": 6379}]},
            {"name": "%s-be-db" % ns, "from": wl("backend"), "to": wl("db"), "ports": [{"port": 5432}]},
            {"name": "%s-worker-db" % ns, "from": wl("worker"), "to": wl("db"), "ports": [{"port": 5432}]},
            {"name": "%s-scrape" % ns, "from": {"workload": "prometheus"}, "to": {"namespace": ns},
             "ports": [{"protocol": "TCP", "port": 9100}]} if i % 10 == 0 else
            {"name": "%s-worker-be" % ns, "from": wl("worker"), "to": wl("backend"), "ports": [{"port": 9000}]},
        ])
    return {"namespaces": namespaces, "workloads": workloads, "flows": flows,
            "cluster": {"rules": [{"name": "no-smtp-out", "action": "Deny", "to": {"ipBlock": {"cidr": "0.0.0.0/0"}},
                                   "ports": [{"protocol": "TCP", "port": 25}]}]}}


def timed(func):
    wall, cpu = time.perf_counter(), time.process_time()
    value = func()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def measure(count, nca, timeout):
    data = make_intent(count)

    def build():
        normal = intent.normalize(data, dns_address="10.96.0.10")
        return normal, comp.namespace_policies(normal) + calico.global_policies(normal)

    (normal, objects), compile_wall, compile_cpu = timed(build)
    eps = endpoints.endpoints(normal)
    want, expected_wall, expected_cpu = timed(lambda: expected.expected(normal, eps))
    row = {"namespaces": count, "flows": len(data["flows"]), "objects": len(objects),
           "endpoints": len(eps["pods"]) + len(eps["addresses"]), "allowed_pairs": len(want),
           "compile_wall_s": round(compile_wall, 3), "compile_cpu_s": round(compile_cpu, 3),
           "expected_wall_s": round(expected_wall, 3), "expected_cpu_s": round(expected_cpu, 3)}
    if nca is None:
        return row
    # the proof as the module runs it: write the inputs, one analyzer run, parse, compare (no --explain: it is ok)
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    workdir = tempfile.mkdtemp(prefix="kl-bench-policy-")
    paths = prove.write_inputs(workdir, objects, eps, dump_documents)
    try:
        out, err, _rc, nca_wall = analyzer.run_nca(
            [nca, "--connectivity", paths["policies.yaml"], "-p", paths["pods.yaml"], "-n", paths["namespaces.yaml"],
             "-o", "txt_no_fw_rules"], timeout=timeout)
    except analyzer.AnalyzerError as exc:
        row["analyzer_error"] = str(exc)
        return row
    result = prove.judge(normal, eps, analyzer.parse_connectivity(out), nca, paths, explain_limit=0)
    row.update(proof_ok=result["ok"], differences=len(result["differences"]),
               analyzer_wall_s=round(nca_wall, 2), analyzer_own_s=analyzer.analyzer_seconds(out + err),
               prove_wall_s=round(time.perf_counter() - start_wall, 2),
               prove_cpu_s=round(time.process_time() - start_cpu, 2))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", default="200", help="comma-separated namespace counts (default 200)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-analyzer", action="store_true", help="compile and expected only")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds the analyzer may take per size")
    args = parser.parse_args()
    nca = None if args.no_analyzer else analyzer.find_nca()
    if nca is None and not args.no_analyzer:
        sys.exit(analyzer.INSTALL_HINT)
    rows = []
    for n in args.namespaces.split(","):
        rows.append(measure(int(n), nca, args.timeout))
        sys.stderr.write(json.dumps(rows[-1]) + "\n")
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| namespaces | flows | objects | endpoints | allowed pairs | compile (wall/CPU) | expected (wall/CPU) "
          "| proof | analyzer wall | analyzer's own time | prove end to end (wall / CPU of this process) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "proof_ok" in r:
            proof = "ok" if r["proof_ok"] else "%d differences" % r["differences"]
            tail = "%s | %.2f s | %s s | %.2f / %.2f s" % (
                proof, r["analyzer_wall_s"], r["analyzer_own_s"], r["prove_wall_s"], r["prove_cpu_s"])
        else:
            tail = "%s | - | - | -" % r.get("analyzer_error", "not run")
        print("| %d | %d | %d | %d | %d | %.3f / %.3f s | %.3f / %.3f s | %s |" % (
            r["namespaces"], r["flows"], r["objects"], r["endpoints"], r["allowed_pairs"], r["compile_wall_s"],
            r["compile_cpu_s"], r["expected_wall_s"], r["expected_cpu_s"], tail))


if __name__ == "__main__":
    main()
