# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connectivity matrix as Markdown, summary lines and a Graphviz graph.

Input: ``{(src_id, dst_id): conns}`` and the endpoint set (``endpoints.endpoints``). A square
matrix is written up to ``MAX_SQUARE`` endpoints; past that, one row per allowed pair.
No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import conns

MAX_SQUARE = 30


def _label(ep):
    if "address" in ep:
        return "%s (%s)" % (ep["address"], ", ".join(ep["roles"]))
    return ep["id"]


def _cell(text):
    return text.replace("|", "\\|")


def _order(eps):
    return eps["pods"] + eps["addresses"]


def rows(allowed, eps):
    """[(source label, destination label, connections)] for every allowed pair, in endpoint order."""
    order = _order(eps)
    out = []
    for src in order:
        for dst in order:
            if (src["id"], dst["id"]) in allowed:
                out.append((_label(src), _label(dst), conns.fmt(allowed[(src["id"], dst["id"])])))
    return out


def markdown(allowed, eps, title="Connectivity"):
    order = _order(eps)
    lines = ["# %s" % title, "",
             "Rows are sources, columns destinations; a cell lists what the analyzer allows ('all': every "
             "protocol and port; empty: nothing).", ""]
    if len(order) <= MAX_SQUARE:
        lines.append("| from \\ to | " + " | ".join(_cell(_label(d)) for d in order) + " |")
        lines.append("|---" * (len(order) + 1) + "|")
        for src in order:
            cells = []
            for dst in order:
                pair = (src["id"], dst["id"])
                cells.append("" if src is dst else _cell(conns.fmt(allowed[pair])) if pair in allowed else "")
            lines.append("| %s | %s |" % (_cell(_label(src)), " | ".join(cells)))
    else:
        lines.append("| source | destination | allowed |")
        lines.append("|---|---|---|")
        lines.extend("| %s | %s | %s |" % (_cell(s), _cell(d), _cell(c)) for s, d, c in rows(allowed, eps))
    return "\n".join(lines) + "\n"


def _quote(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def dot(allowed, eps, title="connectivity"):
    """Graphviz source: namespaces as clusters, addresses as boxes, one labelled edge per allowed pair."""
    lines = ["digraph %s {" % _quote(title), "  rankdir=LR;", '  node [shape=ellipse, fontsize=10];',
             '  edge [fontsize=8];']
    by_ns = {}
    for pod in eps["pods"]:
        by_ns.setdefault(pod["namespace"], []).append(pod)
    for i, ns in enumerate(sorted(by_ns)):
        lines.append("  subgraph cluster_%d {" % i)
        lines.append("    label=%s;" % _quote(ns))
        lines.extend("    %s [label=%s];" % (_quote(p["id"]), _quote(p["name"])) for p in by_ns[ns])
        lines.append("  }")
    lines.extend("  %s [shape=box, label=%s];" % (_quote(a["id"]), _quote(_label(a))) for a in eps["addresses"])
    for (src, dst), allowed_conns in sorted(allowed.items()):
        lines.append("  %s -> %s [label=%s];" % (_quote(src), _quote(dst), _quote(conns.fmt(allowed_conns))))
    lines.append("}")
    return "\n".join(lines) + "\n"
