#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: canal_manifest
short_description: Build the Canal cluster manifests from the upstream canal.yaml and a canal_plan plan
version_added: 0.1.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - "Runs once, on the controller (C(delegate_to: localhost), C(run_once: true))."
  - Reads the upstream Calico C(canal.yaml) (a URL with its sha256, or a local file for air-gapped sites), refuses
    it when the checksum does not match, and patches it from the plan of M(kubelayer.runtime.canal_plan) with a
    structured YAML edit (every document loaded, dicts edited, documents dumped), never text substitution.
  - "Patched fields, and nothing else: ConfigMap C(canal-config) C(net-conf.json) (C(Network), C(IPv6Network),
    C(EnableIPv6), C(Backend)), C(veth_mtu) (always explicit: upstream's C(0) gives pods 1500 on a 1450 VXLAN
    overlay), C(canal_iface), C(canal_iface_regex), and for IPv6 the host-local C(usePodCidrIPv6) range in
    C(cni_network_config); DaemonSet C(canal): C(CALICO_IPV4POOL_CIDR) (the pod range), for IPv6
    C(FELIX_IPV6SUPPORT=true) and C(CALICO_IPV6POOL_CIDR), the flannel image, extra flannel arguments and
    C(FLANNELD_IFACE_REGEX). RV(changes) lists every changed field."
  - Network policies are not made here any more; M(kubelayer.runtime.network_policy) compiles and proves them. A
    C(20-baseline-policies.yaml) left by an earlier version is removed.
  - Every object is checked against the Kubernetes OpenAPI schemas (kubernetes-validate, strict) and Calico
    resources against their CRD schemas; a problem fails the task and nothing is written.
  - Writes O(dest) atomically, file by file, and only files whose content changed; V(render) adds a
    C(kustomization.yaml) so the directory can go to a GitOps repository (C(kubectl apply -k)).
options:
  src:
    description:
      - The upstream Canal manifest, for example
        C(https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/canal.yaml), or a path on the
        controller.
    type: str
    required: true
  checksum:
    description:
      - Expected sha256 of O(src), as 64 hex digits, optionally prefixed with C(sha256:). Required when O(src) is a
        URL. A mismatch fails the task before anything is written.
    type: str
    aliases: [sha256]
  dest:
    description: Directory on the controller to write the manifests to (created when missing).
    type: path
    required: true
  plan:
    description:
      - The C(plan) returned by M(kubelayer.runtime.canal_plan) (the whole registered result is accepted too).
      - Uses C(flannel_net_conf), C(veth_mtu), C(calico_ipv4pool_cidr) and C(calico_ipv6pool_cidr).
    type: dict
    required: true
  mode:
    description:
      - V(render) writes the manifests and a C(kustomization.yaml) (GitOps).
      - V(apply-ready) writes the manifests only, numbered in apply order (CRDs first); RV(files) is the order to
        apply them in, for example with M(kubernetes.core.k8s).
    type: str
    choices: [render, apply-ready]
    default: render
  flannel_image:
    description: Replace the flannel image (upstream pins C(docker.io/flannel/flannel:v0.24.4)).
    type: str
  flannel_extra_args:
    description:
      - Arguments added to the flannel command when not present already, for example C(--ip-blackhole-route) and
        C(--iptables-forward-rules=false) (flannel v0.27.1 or later).
    type: list
    elements: str
    default: []
  canal_iface:
    description: Interface (or IP address, or comma-separated list) flannel uses between hosts; empty is the default route.
    type: str
  canal_iface_regex:
    description: Regular expression for the interface flannel uses (adds C(canal_iface_regex) and C(FLANNELD_IFACE_REGEX)).
    type: str
  validate_certs:
    description: Verify TLS certificates when downloading O(src).
    type: bool
    default: true
  timeout:
    description: Download timeout in seconds.
    type: int
    default: 30
extends_documentation_fragment:
  - kubelayer.runtime.attributes
  - kubelayer.runtime.k8s_schema
requirements:
  - PyYAML (controller)
  - kubernetes-validate and jsonschema (controller, for O(validate=true))
notes:
  - Only files this module names (C(00-canal-crds.yaml), C(10-canal.yaml), C(20-baseline-policies.yaml),
    C(kustomization.yaml)) are written or removed in O(dest).
seealso:
  - module: kubelayer.runtime.canal_plan
  - module: kubelayer.runtime.canal_node
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Render Canal for GitOps from the upstream release
  kubelayer.runtime.canal_manifest:
    src: https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/canal.yaml
    checksum: sha256:aa58a7b245586a90d75d969b9184326f6218acea7e4951ce2931113cd8e91e39
    dest: "{{ playbook_dir }}/gitops/canal"
    plan: "{{ canal_plan_result.plan }}"
  delegate_to: localhost
  run_once: true

- name: Air-gapped, newer flannel with blackhole routes, files ready for kubernetes.core.k8s
  kubelayer.runtime.canal_manifest:
    src: /srv/mirror/calico-v3.32.1/canal.yaml
    checksum: aa58a7b245586a90d75d969b9184326f6218acea7e4951ce2931113cd8e91e39
    dest: /srv/build/canal
    plan: "{{ canal_plan_result.plan }}"
    mode: apply-ready
    flannel_image: registry.example.com/flannel/flannel:v0.28.9
    flannel_extra_args: [--ip-blackhole-route, --iptables-forward-rules=false]
  delegate_to: localhost
  run_once: true
  register: canal_files
"""

RETURN = r"""
directory:
  description: The directory written (O(dest)).
  returned: success
  type: str
  sample: /srv/build/canal
files:
  description: The manifest files, in the order to apply them (CRDs first); C(kustomization.yaml) not included.
  returned: success
  type: list
  elements: str
  sample: [/srv/build/canal/00-canal-crds.yaml, /srv/build/canal/10-canal.yaml]
kustomization:
  description: Path of C(kustomization.yaml) (V(render)), or null.
  returned: success
  type: str
  sample: /srv/build/canal/kustomization.yaml
written:
  description: Files written or removed by this run (or that would be, in check mode).
  returned: success
  type: list
  elements: str
  sample: [/srv/build/canal/10-canal.yaml]
changes:
  description: "Every field that differs from upstream, as C(Kind/namespace/name: path)."
  returned: success
  type: list
  elements: str
  sample: ["ConfigMap/kube-system/canal-config: data.veth_mtu"]
objects:
  description: Number of objects per file name.
  returned: success
  type: dict
  sample: {00-canal-crds.yaml: 23, 10-canal.yaml: 17}
checksum:
  description: sha256 of the upstream manifest read.
  returned: success
  type: str
  sample: aa58a7b245586a90d75d969b9184326f6218acea7e4951ce2931113cd8e91e39
daemonset:
  description: Namespace and name of the Canal DaemonSet (to wait for after applying).
  returned: success
  type: dict
  sample: {namespace: kube-system, name: canal}
"""

import hashlib
import os
import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.urls import fetch_url

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import files as host_files
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail, fail_if
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni import manifest
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import gitops, schema

CRDS_FILE = "00-canal-crds.yaml"
CANAL_FILE = "10-canal.yaml"
POLICY_FILE = "20-baseline-policies.yaml"  # written by earlier versions; removed when found
OWNED = (CRDS_FILE, CANAL_FILE, POLICY_FILE, gitops.KUSTOMIZATION)
_SHA256 = re.compile(r"^(sha256:)?([0-9a-fA-F]{64})\Z")


def _is_url(src):
    return "://" in src


def read_source(module, src):
    if _is_url(src):
        resp, info = fetch_url(module, src, timeout=module.params["timeout"])
        if info.get("status") != 200 or resp is None:
            fail(module, "canal_manifest", ["src: could not download %s: %s %s" % (src, info.get("status"), info.get("msg"))])
        return resp.read()
    path = src
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        fail(module, "canal_manifest", ["src: cannot read %s: %s" % (path, to_native(exc))])


OPTION_PREFIXES = ("src", "plan", "flannel_", "canal_iface", "dest", "checksum")
_K8S_VERSION = re.compile(r"^v?[0-9]{1,3}\.[0-9]{1,3}(\.[0-9]{1,4})?\Z")


def check_paths(p):
    """The options that name files or versions, before anything is read (paths normalised in place)."""
    problems = []
    p["dest"] = validate.check_path("dest", p["dest"], problems, directory=True)
    if validate.check_text("src", p["src"], problems) is not None and not _is_url(p["src"]):
        validate.check_path("src", p["src"], problems)
    if validate.check_text("k8s_version", p["k8s_version"], problems, max_len=32) is not None:
        if not _K8S_VERSION.match(p["k8s_version"]):
            problems.append("k8s_version: %r is not a Kubernetes version such as 1.34.0" % p["k8s_version"])
    validate.check_int("timeout", p["timeout"], problems, 1, 3600)
    return problems


def check_options(module, p):
    """Every option checked before anything is read: one failure listing all problems, or
    (expected sha256 or None, the canal_plan plan, the manifest options)."""
    problems = check_paths(p)
    expected = None
    if p["checksum"]:
        match = _SHA256.match(p["checksum"].strip())
        if not match:
            problems.append("checksum: %r is not a sha256 (64 hex digits, optionally prefixed sha256:)" % p["checksum"])
        else:
            expected = match.group(2).lower()
    elif _is_url(p["src"]):
        problems.append("checksum: required when src is a URL (%s)" % p["src"])
    plan = p["plan"]
    if "flannel_net_conf" not in plan and isinstance(plan.get("plan"), dict):
        plan = plan["plan"]
    options = dict((k, p[k]) for k in ("canal_iface", "canal_iface_regex", "flannel_image", "flannel_extra_args"))
    problems.extend(manifest.check_plan(plan))
    problems.extend(manifest.check_options(options))
    fail_if(module, "canal_manifest", problems)
    return expected, plan, options


def patch_source(module, p, raw, plan, options):
    """(upstream documents, patched documents); a problem in either fails naming the option it comes from."""
    try:
        upstream = gitops.load_documents(to_text(raw, errors="surrogate_or_strict"), source=p["src"])
        return upstream, manifest.patch_canal(upstream, plan, options)
    except (gitops.ManifestError, manifest.CanalManifestError) as exc:
        fail(module, "canal_manifest", [msg if msg.startswith(OPTION_PREFIXES) else "src: " + msg
                                        for msg in exc.problems])


ARGUMENT_SPEC = dict(
    schema.argument_spec(),
    src=dict(type="str", required=True),
    checksum=dict(type="str", aliases=["sha256"], no_log=False),
    dest=dict(type="path", required=True),
    plan=dict(type="dict", required=True),
    mode=dict(type="str", choices=["render", "apply-ready"], default="render"),
    flannel_image=dict(type="str"),
    flannel_extra_args=dict(type="list", elements="str", default=[]),
    canal_iface=dict(type="str"),
    canal_iface_regex=dict(type="str"),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    p = module.params
    for library, error in schema.missing_libraries(p["validate"]):
        module.fail_json(msg=missing_required_lib(library), exception=to_native(error))

    expected, plan, options = check_options(module, p)
    raw = read_source(module, p["src"])
    actual = hashlib.sha256(raw).hexdigest()
    if expected is not None and actual != expected:
        fail(module, "canal_manifest", ["checksum: sha256 mismatch for %s: expected %s, got %s; nothing written"
                                        % (p["src"], expected, actual)], checksum=actual)
    upstream, patched = patch_source(module, p, raw, plan, options)
    changes = manifest.semantic_diff(upstream, patched)
    crds, others = manifest.split_for_apply(patched)
    if p["validate"]:
        invalid = schema.validate_objects(crds + others, k8s_version=p["k8s_version"])
        fail_if(module, "canal_manifest", ["validate: schema validation (k8s_version %s): %s" % (p["k8s_version"], i)
                                           for i in invalid])

    files = {}
    if crds:
        files[CRDS_FILE] = crds
    files[CANAL_FILE] = others
    tree = gitops.render_kustomize_tree(files)
    if p["mode"] != "render":
        tree.pop(gitops.KUSTOMIZATION)

    dest = p["dest"]
    owned = dict((name, tree.get(name)) for name in OWNED)
    written, diffs = host_files.sync_owned(module, "canal_manifest", dest, owned, ".kubelayer-canal.")

    ds = manifest.find_object(patched, manifest.DAEMONSET)
    result = dict(
        changed=bool(written), directory=dest, written=written, changes=changes, checksum=actual,
        files=[os.path.join(dest, name) for name in files],
        kustomization=os.path.join(dest, gitops.KUSTOMIZATION) if p["mode"] == "render" else None,
        objects=dict((name, len(objs)) for name, objs in files.items()),
        daemonset={"namespace": ds["metadata"]["namespace"], "name": ds["metadata"]["name"]},
    )
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
