#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: network_policy
short_description: Compile a network policy intent into NetworkPolicy and Calico objects, proven before they are written
version_added: 0.2.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - "Runs once, on the controller (C(delegate_to: localhost), C(run_once: true))."
  - Compiles O(intent) (namespaces with an isolation profile, workloads, flows, cluster-wide rules, in Kubernetes'
    own words) into one Kubernetes C(NetworkPolicy) set per namespace and Calico C(GlobalNetworkPolicy) objects for
    the cluster-wide rules (metadata address deny, C(intent.cluster.rules)).
  - Validates every object against the Kubernetes schemas and the Calico CRD schemas (O(crds)).
  - "Proves the objects with network-config-analyzer (NP-Guard) before writing anything: the analyzer computes the
    connectivity over a synthetic endpoint set (one pod per workload, one unlabelled pod per namespace, the DNS pod,
    the DNS, API server, node, metadata and an outside address, and addresses inside and outside every ipBlock) and
    the module compares it with what the intent allows, in both directions. Any difference fails the task and lists
    each one as source -> destination, connections, over-permissive or blocked, and the cause."
  - Writes the objects, a C(kustomization.yaml), the connectivity matrix (Markdown) and graph (Graphviz C(dot),
    and SVG when C(dot) is installed) into O(dest), atomically, only the files that change.
options:
  intent:
    description:
      - "The intent: C(namespaces) (name -> C(profile): V(isolated), V(isolated-ingress), V(isolated-egress) or
        V(open); C(labels); C(api_server)), C(workloads) (name -> C(namespace), C(podSelector.matchLabels)),
        C(flows) (list of C(name), C(from), C(to), C(ports); a peer is C(workload), C(namespace) [+ C(podSelector)],
        C(namespaceSelector) [+ C(podSelector)] or C(ipBlock)), and C(cluster) (C(dns), C(api_server),
        C(kubelet_probes), C(metadata), C(rules)). See docs/network-policy.md."
    type: dict
    required: true
  isolate_namespaces:
    description:
      - Namespaces added to O(intent) with profile V(isolated) (default deny both ways, DNS egress), unless the intent
        lists them already. This is what the role's former C(canal_policy_namespaces) does now.
    type: list
    elements: str
    default: []
  dns_address:
    description: The cluster DNS address (the plan's C(dns_ip), or the NodeLocal DNSCache address).
    type: str
  dest:
    description: Directory on the controller to write to (created when missing).
    type: path
    required: true
  mode:
    description: V(render) adds a C(kustomization.yaml); V(apply-ready) writes the object files only.
    type: str
    choices: [render, apply-ready]
    default: render
  prove:
    description: Prove the objects with network-config-analyzer before writing (refuse on any difference).
    type: bool
    default: true
  analyzer:
    description: Path of the C(nca) executable (default, next to the controller's Python, then on PATH).
    type: path
  explain_limit:
    description: How many differences are explained with the analyzer's C(--explain) (about two seconds each).
    type: int
    default: 5
  crds:
    description:
      - Files holding the Calico CustomResourceDefinitions (for example the rendered C(00-canal-crds.yaml)), used to
        validate the C(GlobalNetworkPolicy) objects.
    type: list
    elements: path
    default: []
  graph:
    description: Render the graph as SVG with Graphviz C(dot) when it is installed (warns when it is not).
    type: bool
    default: true
extends_documentation_fragment:
  - kubelayer.runtime.attributes
  - kubelayer.runtime.k8s_schema
requirements:
  - PyYAML, kubernetes-validate, jsonschema (controller)
  - network-config-analyzer 2.1.0 (controller, for O(prove=true))
  - graphviz (controller, optional, for the SVG)
notes:
  - Only the files this module names are written or removed in O(dest) (C(30-network-policies.yaml),
    C(31-global-network-policies.yaml), C(kustomization.yaml), C(network-policy-matrix.md),
    C(network-policy-graph.dot), C(network-policy-graph.svg)).
seealso:
  - module: kubelayer.runtime.network_policy_audit
  - module: kubelayer.runtime.canal_manifest
"""

EXAMPLES = r"""
- name: Compile, prove and render the policies of a three-tier application
  kubelayer.runtime.network_policy:
    dest: /srv/gitops/network-policies
    dns_address: "{{ canal_plan_result.plan.dns_ip }}"
    crds: [/srv/gitops/canal/00-canal-crds.yaml]
    intent:
      namespaces:
        shop: {profile: isolated}
        monitoring: {profile: isolated, api_server: true}
      workloads:
        web: {namespace: shop, podSelector: {matchLabels: {app: web}}}
        api: {namespace: shop, podSelector: {matchLabels: {app: api}}}
        prometheus: {namespace: monitoring, podSelector: {matchLabels: {app: prometheus}}}
      flows:
        - {name: web-to-api, from: {workload: web}, to: {workload: api}, ports: [{protocol: TCP, port: 8080}]}
        - {name: scrape-shop, from: {workload: prometheus}, to: {namespace: shop}, ports: [{protocol: TCP, port: 9090}]}
      cluster:
        api_server: {cidrs: [192.0.2.10/32]}
        kubelet_probes: {cidrs: [192.0.2.0/24]}
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
directory:
  description: The directory written (O(dest)).
  returned: success
  type: str
files:
  description: The object files, in apply order (C(kustomization.yaml) not included).
  returned: success
  type: list
  elements: str
written:
  description: Files written or removed by this run (or that would be, in check mode).
  returned: success
  type: list
  elements: str
objects:
  description: Number of objects per kind.
  returned: success
  type: dict
  sample: {NetworkPolicy: 12, GlobalNetworkPolicy: 2}
proof:
  description: The proof (null with O(prove=false)).
  returned: success
  type: dict
  contains:
    ok: {description: The analyzer's connections equal the intended ones, type: bool}
    endpoints: {description: Number of synthetic endpoints, type: int}
    allowed_pairs: {description: Number of endpoint pairs with some connection allowed, type: int}
    analyzer_seconds: {description: The analyzer's own run time, type: float}
matrix:
  description: "The proven connectivity, one line per allowed pair (C(source -> destination: connections))."
  returned: success
  type: list
  elements: str
differences:
  description: Differences between the analyzer and the intent (empty on success; the task fails otherwise).
  returned: failure
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import problems as common_problems
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.files import read_text, sync_owned
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import (
    analyzer, calico, compile as policy_compile, intent as policy_intent, matrix, prove as policy_prove, render)
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import gitops, schema


def _fail(module, problems, **extra):
    common_problems.fail(module, "network_policy", problems, **extra)


def _crds(module, paths):
    """The CRDs in ``paths``; None when a file is missing in check mode (the Canal manifests are not written yet)."""
    out = []
    for path in paths:
        text = read_text(path)
        if text is None and module.check_mode and not os.path.exists(path):
            module.warn("crds: %s does not exist yet (check mode): GlobalNetworkPolicy objects not schema-validated"
                        % path)
            return None
        if text is None:
            _fail(module, ["crds: cannot read %s" % path])
        try:
            out.extend(d for d in gitops.load_documents(text, source=path) if d.get("kind") == "CustomResourceDefinition")
        except gitops.ManifestError as exc:
            _fail(module, ["crds: %s" % p for p in exc.problems])
    return out


def _prove(module, normal, objects):
    nca = analyzer.find_nca(module.params["analyzer"])
    if nca is None:
        _fail(module, ["analyzer: " + analyzer.INSTALL_HINT])
    try:
        proof = policy_prove.prove(normal, objects, nca, module.tmpdir, gitops.dump_documents,
                                   explain_limit=module.params["explain_limit"])
    except analyzer.AnalyzerError as exc:
        _fail(module, ["analyzer: %s" % to_native(exc)])
    if not proof["ok"]:
        lines = policy_prove.difference_lines(proof["differences"])
        module.fail_json(msg="network_policy: %d difference%s between the intent and the analyzer; nothing written:\n- %s"
                         % (len(lines), "" if len(lines) == 1 else "s", "\n- ".join(lines)),
                         problems=["intent: %s" % line for line in lines], differences=lines)
    return proof


def _svg(module, dot_text):
    if not module.params["graph"] or dot_text is None:
        return None
    dot = module.get_bin_path("dot")
    if dot is None:
        module.warn("graphviz 'dot' is not installed on the controller: %s written, no SVG" % render.DOT_FILE)
        return None
    rc, out, err = module.run_command([dot, "-Tsvg"], data=dot_text, binary_data=True)
    if rc != 0:
        module.warn("dot -Tsvg failed: %s" % err.strip())
        return None
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            schema.argument_spec(),
            intent=dict(type="dict", required=True),
            isolate_namespaces=dict(type="list", elements="str", default=[]),
            dns_address=dict(type="str"),
            dest=dict(type="path", required=True),
            mode=dict(type="str", choices=["render", "apply-ready"], default="render"),
            prove=dict(type="bool", default=True),
            analyzer=dict(type="path"),
            explain_limit=dict(type="int", default=5),
            crds=dict(type="list", elements="path", default=[]),
            graph=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for library, error in schema.missing_libraries(p["validate"]):
        module.fail_json(msg=missing_required_lib(library), exception=to_native(error))
    dest = p["dest"]
    if os.path.exists(dest) and not os.path.isdir(dest):
        _fail(module, ["dest: %s exists and is not a directory" % dest])
    try:
        merged = policy_intent.with_namespaces(p["intent"], p["isolate_namespaces"])
        normal = policy_intent.normalize(merged, dns_address=p["dns_address"])
    except policy_intent.IntentError as exc:
        _fail(module, exc.problems)
    policies = policy_compile.namespace_policies(normal)
    global_policies = calico.global_policies(normal)
    if p["validate"]:
        crds = _crds(module, p["crds"])
        invalid = schema.validate_objects(policies + (global_policies if crds is not None else []), crds=crds or (),
                                          k8s_version=p["k8s_version"])
        if invalid:
            _fail(module, invalid)
    proof = _prove(module, normal, policies + global_policies) if p["prove"] else None
    wanted = render.tree(policies, global_policies, p["mode"], proof)
    svg = _svg(module, wanted.get(render.DOT_FILE))
    if svg is not None:
        wanted[render.SVG_FILE] = svg
    written, diffs = sync_owned(module, "network_policy", dest, dict((name, wanted.get(name)) for name in render.OWNED),
                                ".kubelayer-netpol.")
    result = dict(
        changed=bool(written), directory=dest, written=written,
        files=[os.path.join(dest, n) for n in (render.NP_FILE, render.GNP_FILE) if n in wanted],
        objects={"NetworkPolicy": len(policies), "GlobalNetworkPolicy": len(global_policies)},
        proof=None if proof is None else {
            "ok": proof["ok"], "endpoints": len(proof["endpoints"]["pods"]) + len(proof["endpoints"]["addresses"]),
            "allowed_pairs": len(proof["actual"]), "analyzer_seconds": proof["analyzer_seconds"]},
        matrix=["%s -> %s: %s" % row for row in matrix.rows(proof["actual"], proof["endpoints"])] if proof else [],
    )
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
