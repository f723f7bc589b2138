# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove policy objects against an intent with the analyzer.

``prove(normal, objects, nca, workdir, dump)`` writes the objects and the synthetic endpoints to
``workdir``, asks nca for the connectivity map and compares it with ``expected.expected`` in both
directions. Each difference says source -> destination, the connections, whether they are
over-permissive (allowed, not intended) or blocked (intended, not allowed), and the cause: the
policies the analyzer names for that pair (``--explain``, for the first ``explain_limit``
differences) and the intent rule that asked for it. ``dump`` serialises objects to YAML text
(``k8s.gitops.dump_documents``). No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import (
    analyzer, calico, conns, endpoints, expected)


def write_files(workdir, files, dump):
    """Write ``{name: [objects]}`` into ``workdir``; return ``{name: path}``."""
    paths = {}
    for name, docs in files.items():
        paths[name] = os.path.join(workdir, name)
        with open(paths[name], "w") as handle:
            handle.write(dump(docs) if docs else "")
    return paths


def write_inputs(workdir, objects, eps, dump):
    """Write policies.yaml, pods.yaml, namespaces.yaml (the analyzer's view); return their paths."""
    pods, namespaces = endpoints.as_objects(eps)
    return write_files(workdir, {"policies.yaml": calico.analyzer_view(objects), "pods.yaml": [pods],
                                 "namespaces.yaml": [namespaces]}, dump)


def connectivity(nca, paths, query="--connectivity", extra=()):
    argv = [nca, query, paths["policies.yaml"], "-p", paths["pods.yaml"], "-n", paths["namespaces.yaml"]]
    argv.extend(extra)
    out, err, rc, wall = analyzer.run_nca(argv)
    if query == "--connectivity" and (rc != 0 or "=>" not in out and "Error" in out + err):
        raise analyzer.AnalyzerError("nca %s failed (rc %d): %s" % (query, rc, (err or out).strip()[-2000:]))
    return out, err, rc, wall


def _intent_reasons(normal, src, dst, ns_labels):
    reasons = ["flow %s" % f["name"] for f in normal["flows"]
               if expected.matches(f["from"], src, ns_labels) and expected.matches(f["to"], dst, ns_labels)]
    return reasons


def _cause(kind, normal, src, dst, eps, explained):
    ns_labels = eps["namespaces"]
    parts = []
    if kind == "blocked":
        reasons = _intent_reasons(normal, src, dst, ns_labels)
        parts.append("intended by %s" % (", ".join(reasons) if reasons else "a default (DNS, API server, probes) "
                                         "or an open namespace"))
        parts.append("no policy allows it (missing rule)")
    else:
        parts.append("no intent flow allows it")
    if explained is not None:
        for side, label in (("src", "policies selecting the source"), ("dst", "policies selecting the destination")):
            names = explained.get(side) or []
            if names:
                parts.append("%s: %s" % (label, ", ".join(
                    "no policy selects it (default allow)" if n == "Default-Policy" else n for n in names)))
    elif explained is None and kind == "over-permissive":
        parts.append("policies not explained (explain limit reached)")
    return "; ".join(parts)


def compare(want, got):
    """[(kind, src_id, dst_id, conns)] for every difference, sorted."""
    out = []
    for pair in sorted(set(want) | set(got)):
        extra = conns.subtract(got.get(pair, {}), want.get(pair, {}))
        missing = conns.subtract(want.get(pair, {}), got.get(pair, {}))
        if extra:
            out.append(("over-permissive", pair[0], pair[1], extra))
        if missing:
            out.append(("blocked", pair[0], pair[1], missing))
    return out


def _explain(nca, paths, src, dst):
    if "address" in src or "address" in dst:
        name = src["id"] if "address" not in src else dst["id"]
    else:
        name = "%s,%s" % (src["id"], dst["id"])
    out, _err, _rc, _wall = connectivity(nca, paths, extra=["--explain", name])
    return analyzer.parse_explain(out)


def prove(normal, objects, nca, workdir, dump, explain_limit=5):
    """Result dict: ``ok``, ``differences`` (dicts), ``expected``/``actual`` maps, ``endpoints``, timings."""
    eps = endpoints.endpoints(normal)
    paths = write_inputs(workdir, objects, eps, dump)
    out, err, _rc, wall = connectivity(nca, paths, extra=["-o", "txt_no_fw_rules"])
    result = judge(normal, eps, analyzer.parse_connectivity(out), nca, paths, explain_limit)
    result.update(analyzer_seconds=analyzer.analyzer_seconds(out + err), analyzer_wall_seconds=round(wall, 3))
    return result


def judge(normal, eps, lines, nca, paths, explain_limit=5):
    """Compare the analyzer's ``lines`` (over ``eps``, inputs at ``paths``) with the intent."""
    got = analyzer.connectivity_by_endpoint(lines, eps)
    want = expected.expected(normal, eps)
    by_id = dict((e["id"], e) for e in eps["pods"] + eps["addresses"])
    differences = []
    for i, (kind, s, d, allowed) in enumerate(compare(want, got)):
        explained = _explain(nca, paths, by_id[s], by_id[d]) if i < explain_limit else None
        differences.append({"kind": kind, "source": s, "destination": d, "connections": conns.fmt(allowed),
                            "cause": _cause(kind, normal, by_id[s], by_id[d], eps, explained)})
    return {"ok": not differences, "differences": differences, "expected": want, "actual": got, "endpoints": eps}


def difference_lines(differences):
    """``src -> dst, conns: kind (cause)`` per difference."""
    return ["%s -> %s, %s: %s (%s)" % (d["source"], d["destination"], d["connections"], d["kind"], d["cause"])
            for d in differences]
