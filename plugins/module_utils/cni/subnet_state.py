# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The canal_plan state file: planned node pod subnets kept between runs, on the controller.

Pure logic: no Ansible imports, no I/O (the module reads and writes the file). The file is JSON::

    {"kind": "kubelayer.runtime/canal-node-subnets", "version": 1, "note": "...",
     "pod_cidrs": ["10.244.0.0/16"], "nodes": {"node1": {"ipv4": "10.244.0.0/24"}}}

Its ``nodes`` are fed to the planner as kept assignments, so a later run moves no node that is in it; the plan's
``nodes`` (every kept and every new node) are written back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

KIND = "kubelayer.runtime/canal-node-subnets"
VERSION = 1
NOTE = ("Planned node pod subnets, kept between runs by kubelayer.runtime.canal_plan so that no node moves. "
        "A prediction: kube-controller-manager assigns each node's real spec.podCIDR.")
FAMILIES = ("ipv4", "ipv6")


def parse_state(text, path="state_file"):
    """``(assignments, problems)`` from the file's text; ``None`` or blank text is an empty state.

    ``assignments`` maps node names to their kept subnets, ``{name: [cidr, ...]}``; the planner checks the CIDRs.
    """
    if text is None or not text.strip():
        return {}, []
    try:
        data = json.loads(text)
    except ValueError as exc:
        return {}, ["state_file: %s is not valid JSON (%s); fix it or remove it to plan afresh" % (path, exc)]
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return {}, ["state_file: %s is not a canal node subnet state (kind %s)" % (path, KIND)]
    if data.get("version") != VERSION:
        return {}, ["state_file: %s has version %r; this collection reads version %d"
                    % (path, data.get("version"), VERSION)]
    nodes = data.get("nodes")
    if not isinstance(nodes, dict):
        return {}, ["state_file: %s: nodes must map node names to their subnets" % path]
    assignments, problems = {}, []
    for name in sorted(nodes, key=str):
        entry = nodes[name]
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in entry):
            problems.append("state_file: %s: node %s must map ipv4/ipv6 to a CIDR string" % (path, name))
            continue
        assignments[str(name)] = [entry[f] for f in FAMILIES if f in entry]
    return assignments, problems


def render_state(plan):
    """The file's text for a successful plan: every node the plan lists, sorted, one stable JSON document."""
    data = {
        "kind": KIND,
        "version": VERSION,
        "note": NOTE,
        "pod_cidrs": list(plan.get("pod_cidrs") or []),
        "nodes": dict((name, dict(subnets)) for name, subnets in (plan.get("nodes") or {}).items()),
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def adopt_previous(assignments, node_names, previous, state):
    """Migration from a state file of an earlier default place (``previous``) to ``state``, which does not exist yet.

    ``(kept assignments, outcome, problems)``: the previous file's nodes are adopted (outcome ``adopted``) when every
    one of them is a node of this plan, ignored (``ignored``: another inventory's file) when none is, and refused when
    only some are, since the file cannot say which cluster it belongs to. ``None`` outcome: nothing to adopt.
    """
    if not assignments:
        return {}, None, []
    names = set(node_names)
    ours = sorted(n for n in assignments if n in names)
    others = sorted(n for n in assignments if n not in names)
    if not ours:
        return {}, "ignored", []
    if not others:
        return dict(assignments), "adopted", []
    return {}, None, ["previous_state_file: %s (the state file of an earlier release's default place) plans nodes of "
                      "this inventory (%s) and others (%s); it cannot be adopted as %s. Move it there if it "
                      "belongs to this cluster (release the other nodes with canal_plan_release_nodes), or set "
                      "canal_plan_previous_state_file: '' to plan afresh"
                      % (previous, ", ".join(ours), ", ".join(others), state)]
