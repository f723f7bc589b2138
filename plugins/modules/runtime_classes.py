#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: runtime_classes
short_description: Render one RuntimeClass per container runtime handler, schema-checked, for GitOps or kubectl
version_added: 0.3.0
description:
  - Runs on the controller. Builds a C(node.k8s.io/v1) C(RuntimeClass) for each class in O(classes), with
    C(overhead.podFixed) when a class has an overhead (kata's VM, as kubespray sets for C(kata-qemu)).
  - The classes of every node of a run are given together. A class listed twice in the same way is one object. The
    same name with a different handler or overhead is refused, and the problem names both.
  - Every object is checked against the Kubernetes OpenAPI schema of O(k8s_version) (kubernetes-validate, strict),
    and names and quantities are checked first. Any problem fails the task, and nothing is written.
  - Writes C(runtime-classes.yaml) (and, for V(render), a C(kustomization.yaml)) in O(dest) atomically, and only
    when the content changed. The M(kubelayer.runtime.containerd) role applies it with C(kubernetes.core.k8s) when
    a kubeconfig is given.
author: kubelayer.runtime developers (@kubelayer)
extends_documentation_fragment:
  - kubelayer.runtime.attributes
  - kubelayer.runtime.k8s_schema
options:
  classes:
    description:
      - "The RuntimeClasses. Each has C(name) (a DNS-1123 subdomain), C(handler) (the containerd runtime handler, a
        DNS-1123 label) and optionally C(overhead) (resource name to quantity, for example C({cpu: 250m, memory: 160Mi}))."
    type: list
    elements: dict
    required: true
  dest:
    description:
      - The directory that receives the files.
    type: path
    required: true
  mode:
    description:
      - V(render) adds a C(kustomization.yaml) (GitOps, C(kubectl apply -k)). V(apply-ready) writes only the objects.
    type: str
    choices: [render, apply-ready]
    default: render
requirements:
  - PyYAML, kubernetes-validate and jsonschema on the controller
seealso:
  - module: kubelayer.runtime.containerd_config
"""

EXAMPLES = r"""
- name: Render the RuntimeClasses of runc, crun and kata
  kubelayer.runtime.runtime_classes:
    classes:
      - {name: runc, handler: runc}
      - {name: crun, handler: crun}
      - {name: kata-qemu, handler: kata-qemu, overhead: {cpu: 250m, memory: 160Mi}}
    dest: ~/.local/share/kubelayer/rendered/runtime-classes
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
directory:
  description: O(dest).
  returned: always
  type: str
  sample: /home/me/.local/share/kubelayer/rendered/runtime-classes
files:
  description: The object files, in apply order (C(kustomization.yaml) not included).
  returned: always
  type: list
  elements: str
  sample: [/home/me/.local/share/kubelayer/rendered/runtime-classes/runtime-classes.yaml]
written:
  description: The files written or removed by this run.
  returned: always
  type: list
  elements: str
  sample: []
objects:
  description: The RuntimeClass objects, as rendered.
  returned: always
  type: list
  elements: dict
  sample: [{"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "crun"}, "handler": "crun"}]
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import files as host_files
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail_if
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import runtime_classes
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import gitops, schema

OBJECTS_FILE = "runtime-classes.yaml"
OWNED = (OBJECTS_FILE, gitops.KUSTOMIZATION)
_K8S_VERSION = re.compile(r"^v?[0-9]{1,3}\.[0-9]{1,3}(\.[0-9]{1,4})?\Z")


def check_options(p):
    problems = []
    p["dest"] = validate.check_path("dest", p["dest"], problems, directory=True)
    if validate.check_text("k8s_version", p["k8s_version"], problems, max_len=32) is not None:
        if not _K8S_VERSION.match(p["k8s_version"]):
            problems.append("k8s_version: %r is not a Kubernetes version such as 1.34.0" % p["k8s_version"])
    return problems


def main():
    module = AnsibleModule(
        argument_spec=dict(
            schema.argument_spec(),
            classes=dict(type="list", elements="dict", required=True),
            dest=dict(type="path", required=True),
            mode=dict(type="str", choices=["render", "apply-ready"], default="render"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for library, error in schema.missing_libraries(p["validate"]):
        module.fail_json(msg=missing_required_lib(library), exception=to_native(error))
    problems = check_options(p)
    classes, class_problems = runtime_classes.merge_classes(p["classes"])
    fail_if(module, "runtime_classes", problems + class_problems)
    objects = [runtime_classes.runtime_class_object(cls) for cls in classes]
    if p["validate"]:
        fail_if(module, "runtime_classes", ["validate: schema validation (k8s_version %s): %s" % (p["k8s_version"], i)
                                            for i in schema.validate_objects(objects, k8s_version=p["k8s_version"])])
    tree = gitops.render_kustomize_tree({OBJECTS_FILE: objects}) if objects else {}
    if p["mode"] != "render":
        tree.pop(gitops.KUSTOMIZATION, None)
    owned = dict((name, tree.get(name)) for name in OWNED)
    written, diffs = host_files.sync_owned(module, "runtime_classes", p["dest"], owned, ".kubelayer-runtime-classes.")
    result = dict(changed=bool(written), directory=p["dest"], written=written, objects=objects,
                  files=[os.path.join(p["dest"], OBJECTS_FILE)] if objects else [])
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
