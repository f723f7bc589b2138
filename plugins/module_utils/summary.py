# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure rendering of the end-of-run summary: one row per node, then the plans and where manifests went.

No Ansible imports: the filter plugin ``kubelayer.runtime.runtime_summary`` gathers the values from hostvars and
calls :func:`render_summary`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

NODE_COLUMNS = (
    ("node", "node"),
    ("runtime", "runtime"),
    ("config", "config"),
    ("ready", "RuntimeReady"),
    ("pod_subnet", "pod subnet (planned)"),
    ("mtu", "MTU"),
    ("storage", "storage prerequisites"),
)


def _cell(value):
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) or "-"
    text = str(value)
    # one line per cell: a newline in a value must not break the table
    return " ".join(text.split())


def render_table(headers, rows):
    """Render ``rows`` (lists of cells) under ``headers`` as an aligned plain-text table."""
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(), line]
    for row in cells:
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return out


def _plan_section(lines, title, plan, rows):
    """A blank line, the title, a two-column table of ``rows`` without header, then the plan's warnings."""
    lines.append("")
    lines.append(title)
    lines.extend(render_table(["", ""], rows)[2:])
    for warning in plan.get("warnings") or []:
        lines.append("warning: %s" % _cell(warning))


def render_summary(nodes, network=None, storage=None, outputs=None):
    """Return the summary as a list of lines.

    nodes: list of dicts with the keys of NODE_COLUMNS (missing keys print as ``-``).
    network: the canal plan (dict) or None; storage: the csi plan summary (dict) or None;
    outputs: list of strings, where manifests were rendered or applied.
    """
    lines = ["Nodes"]
    lines.extend(render_table([h for _k, h in NODE_COLUMNS],
                              [[n.get(k) for k, _h in NODE_COLUMNS] for n in sorted(nodes, key=lambda n: str(n.get("node")))]))
    if network:
        _plan_section(lines, "Network plan (Canal, backend %s)" % _cell(network.get("backend")), network, [
            ("pod ranges", network.get("pod_cidrs")),
            ("service ranges", network.get("service_cidrs")),
            ("node prefix", "/%s (IPv6 /%s)" % (network.get("node_prefix"), network.get("node_prefix_v6"))),
            ("capacity", "%s nodes, %s pods per node" % (network.get("max_nodes"), network.get("pods_per_node"))),
            ("node subnets", "planned (kube-controller-manager assigns each node's spec.podCIDR)"),
            ("cluster DNS", network.get("dns_ip")),
            ("pod MTU", network.get("mtu")),
        ])
    if storage:
        _plan_section(lines, "Storage plan", storage, [
            ("drivers", storage.get("drivers")),
            ("default StorageClass", storage.get("default_storage_class")),
            ("steps", ["%s %s" % (s.get("phase"), s.get("name")) for s in storage.get("steps") or [] if isinstance(s, dict)]),
            ("storage classes", storage.get("storage_classes")),
        ])
    if outputs:
        lines.append("")
        lines.append("Cluster side")
        lines.extend("  %s" % _cell(o) for o in outputs)
    return lines
