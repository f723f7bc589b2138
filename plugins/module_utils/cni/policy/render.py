# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files of the network policy render directory, as ``{file name: text}``.

``30-network-policies.yaml`` (NetworkPolicy), ``31-global-network-policies.yaml`` (Calico
GlobalNetworkPolicy), ``kustomization.yaml`` (mode ``render``), ``network-policy-matrix.md`` and
``network-policy-graph.dot`` (when a proof ran). ``OWNED`` are the only names ever written or removed.
No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import matrix
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import gitops

NP_FILE = "30-network-policies.yaml"
GNP_FILE = "31-global-network-policies.yaml"
MATRIX_FILE = "network-policy-matrix.md"
DOT_FILE = "network-policy-graph.dot"
SVG_FILE = "network-policy-graph.svg"
OWNED = (NP_FILE, GNP_FILE, gitops.KUSTOMIZATION, MATRIX_FILE, DOT_FILE, SVG_FILE)


def tree(policies, global_policies, mode="render", proof=None):
    """``{file name: text}`` for every file that should exist (``SVG_FILE`` is made from ``DOT_FILE``)."""
    files = {}
    if policies:
        files[NP_FILE] = policies
    if global_policies:
        files[GNP_FILE] = global_policies
    out = gitops.render_kustomize_tree(files) if files else {}
    if mode != "render" or not files:
        out.pop(gitops.KUSTOMIZATION, None)
    if proof is not None:
        out[MATRIX_FILE] = matrix.markdown(proof["actual"], proof["endpoints"],
                                           title="Connectivity proven by network-config-analyzer")
        out[DOT_FILE] = matrix.dot(proof["actual"], proof["endpoints"])
    return out
