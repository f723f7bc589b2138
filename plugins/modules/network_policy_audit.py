#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: network_policy_audit
short_description: Audit existing NetworkPolicy and Calico policies with network-config-analyzer
version_added: 0.2.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - "Runs on the controller (C(delegate_to: localhost)). Reads every YAML file of O(src) (a directory or one file:
    NetworkPolicy, Calico NetworkPolicy and GlobalNetworkPolicy in C(projectcalico.org/v3) or
    C(crd.projectcalico.org/v1), Pods and workload controllers, Namespaces, C(*List) documents) and reports:"
  - namespaces where no policy isolates every pod (per direction);
  - policies that select no pod, and rules shadowed by (contained in) other rules, from the analyzer's sanity query;
  - the connectivity table the analyzer computes;
  - with O(intent), every difference between that connectivity and the intent (a hand-edited or drifted policy),
    over the intent's synthetic endpoints, as M(kubelayer.runtime.network_policy) proves it.
  - For a cluster, the role's C(audit) entry point reads the objects with M(kubernetes.core.k8s_info) into a
    directory first.
options:
  src:
    description: Directory (every C(*.yaml), C(*.yml), C(*.json) in it, not recursive) or file to audit.
    type: path
    required: true
  intent:
    description: The intent the policies should implement (same format as M(kubelayer.runtime.network_policy)).
    type: dict
  isolate_namespaces:
    description: Namespaces added to O(intent) as isolated (as in M(kubelayer.runtime.network_policy)).
    type: list
    elements: str
    default: []
  dns_address:
    description: The cluster DNS address (with O(intent)).
    type: str
  analyzer:
    description: Path of the C(nca) executable (default, next to the controller's Python, then on PATH).
    type: path
  explain_limit:
    description: How many differences are explained with the analyzer's C(--explain).
    type: int
    default: 5
  fail_on_differences:
    description: Fail when O(intent) is given and the policies differ from it.
    type: bool
    default: true
extends_documentation_fragment:
  - kubelayer.runtime.attributes.info
requirements:
  - PyYAML (controller)
  - network-config-analyzer 2.1.0 (controller)
seealso:
  - module: kubelayer.runtime.network_policy
"""

EXAMPLES = r"""
- name: Audit what runs today (policies, pods and namespaces exported as YAML)
  kubelayer.runtime.network_policy_audit:
    src: /srv/audit/cluster-export
  delegate_to: localhost
  register: audit

- name: Check the rendered policies still implement the intent
  kubelayer.runtime.network_policy_audit:
    src: /srv/gitops/network-policies
    intent: "{{ canal_network_policy }}"
    dns_address: 10.233.0.10
  delegate_to: localhost
"""

RETURN = r"""
policies:
  description: Number of policy objects read.
  returned: success
  type: int
unisolated_namespaces:
  description: Namespaces with a direction no policy isolates.
  returned: success
  type: list
  elements: str
  sample: ["namespace default: ingress and egress not isolated (no policy selecting every pod with that type)"]
empty_policies:
  description: Policies that select no pod (analyzer sanity query).
  returned: success
  type: list
  elements: str
shadowed_rules:
  description: Rules contained in other rules, so they never decide anything (analyzer sanity query).
  returned: success
  type: list
  elements: str
other_findings:
  description: Other sanity findings of the analyzer.
  returned: success
  type: list
  elements: str
connectivity:
  description: The analyzer's connectivity table, one line per allowed pair (C(source -> destination, connections)).
  returned: success
  type: list
  elements: str
differences:
  description: With O(intent), every difference (C(source -> destination, connections, over-permissive or blocked, cause)).
  returned: success
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import problems as common_problems
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.files import read_text
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import (
    analyzer, audit as policy_audit, intent as policy_intent, prove as policy_prove)
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import gitops

_SUFFIXES = (".yaml", ".yml", ".json")


def _fail(module, problems, **extra):
    common_problems.fail(module, "network_policy_audit", problems, **extra)


def read_docs(module, src):
    if os.path.isdir(src):
        paths = [os.path.join(src, n) for n in sorted(os.listdir(src))
                 if n.endswith(_SUFFIXES) and n != gitops.KUSTOMIZATION]
    elif os.path.isfile(src):
        paths = [src]
    else:
        _fail(module, ["src: %s is neither a directory nor a file" % src])
    docs, problems = [], []
    for path in paths:
        text = read_text(path, strict=True)
        if text is None:
            problems.append("src: cannot read %s as UTF-8 text" % path)
            continue
        try:
            docs.extend(gitops.load_documents(text, source=path))
        except gitops.ManifestError as exc:
            problems.extend("src: %s" % p for p in exc.problems)
    if problems:
        _fail(module, problems)
    return docs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            intent=dict(type="dict"),
            isolate_namespaces=dict(type="list", elements="str", default=[]),
            dns_address=dict(type="str"),
            analyzer=dict(type="path"),
            explain_limit=dict(type="int", default=5),
            fail_on_differences=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not gitops.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=to_native(gitops.YAML_IMPORT_ERROR))
    normal = None
    if p["intent"] is not None or p["isolate_namespaces"]:
        try:
            merged = policy_intent.with_namespaces(p["intent"] or {}, p["isolate_namespaces"])
            normal = policy_intent.normalize(merged, dns_address=p["dns_address"])
        except policy_intent.IntentError as exc:
            _fail(module, exc.problems)
    docs = read_docs(module, p["src"])
    policies, pods, _namespaces = policy_audit.split(docs)
    if normal is None and not pods:
        _fail(module, ["src: no Pod or workload in %s and no intent: nothing to compute connectivity over (export the "
                       "pods too, or give intent)" % p["src"]])
    nca = analyzer.find_nca(p["analyzer"])
    if nca is None:
        _fail(module, ["analyzer: " + analyzer.INSTALL_HINT])
    try:
        result = policy_audit.audit(docs, nca, module.tmpdir, gitops.dump_documents, normal, p["explain_limit"])
    except analyzer.AnalyzerError as exc:
        _fail(module, ["analyzer: %s" % to_native(exc)])
    result["differences"] = policy_prove.difference_lines(result["differences"])
    if result["differences"] and p["fail_on_differences"]:
        module.fail_json(msg="network_policy_audit: %d difference%s between %s and the intent:\n- %s" % (
            len(result["differences"]), "" if len(result["differences"]) == 1 else "s", p["src"],
            "\n- ".join(result["differences"])), **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
