#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: csi_plan
short_description: Plan, check and render the cluster-side install of CSI storage drivers
version_added: 0.1.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - Builds the ordered cluster-side install plan for the storage drivers in O(drivers)
    (the role variable C(csi_drivers)), in this order
    (1) the VolumeSnapshot CRDs of external-snapshotter v8.6.0,
    (2) the snapshot-controller,
    (3) the drivers, as Helm releases (rook-ceph v1.20+ as C(rook-ceph) operator, then C(ceph-csi-drivers),
    then C(rook-ceph-cluster); C(quobyte-csi-driver); C(csi-driver-nfs); C(longhorn)) or as the
    local-path-provisioner v0.0.37 manifest patched structurally, each with its waits (CSIDriver present,
    controller and node workloads ready, CephCluster C(Ready) and C(HEALTH_OK)),
    (4) the StorageClasses and VolumeSnapshotClasses.
  - Refuses, listing every problem in one message and in RV(problems), when more than one StorageClass is
    default, a VolumeSnapshotClass is requested without the snapshot CRDs or controller, StorageClass or
    VolumeSnapshotClass names repeat, a driver is unknown or listed twice, or a required value is missing
    (NFS C(server) and C(share), Quobyte C(registry), a Rook OSD device selection, the upstream manifests...).
  - Every rendered object is validated against the Kubernetes OpenAPI schemas (core kinds) and against the
    CRD schemas it installs (VolumeSnapshotClass against the external-snapshotter CRD) when O(validate=true).
  - With O(render_dir), writes a GitOps-ready directory (numbered kustomize directories, plain Helm values
    files, a README with the exact commands in order). The module never talks to a Kubernetes API server;
    the role C(kubelayer.runtime.csi) (entry point C(cluster)) applies RV(apply) with M(kubernetes.core.helm)
    and M(kubernetes.core.k8s).
  - Runs on the controller (delegated to C(localhost)); needs PyYAML, and kubernetes-validate and jsonschema
    for O(validate=true).
options:
  drivers:
    description:
      - The storage drivers, each a mapping with C(name) (one of C(rook-ceph), C(quobyte), C(nfs), C(local-path),
        C(longhorn), C(storageos)) and the driver's options (see the collection's C(docs/storage.md)).
      - Common keys are C(install) (false plans nothing for the driver), C(namespace), C(version), C(repo),
        C(values) (Helm values merged over the computed ones; rook-ceph uses C(operator_values),
        C(drivers_values), C(cluster_values)), C(storage_classes) and C(snapshot_classes)
        (lists of mappings with C(name), C(default), C(reclaim_policy), C(volume_binding_mode),
        C(allow_volume_expansion), C(parameters), C(mount_options), C(annotations); C(deletion_policy) for
        snapshot classes).
      - Keys other drivers' options or the node side use are ignored here.
    type: list
    elements: dict
    required: true
  snapshot:
    description:
      - The VolumeSnapshot CRDs and the snapshot-controller (external-snapshotter v8.6.0), a mapping with these keys.
        The module checks the keys and values itself and lists every problem in one failure.
      - C(crds) - C(managed) (default) installs the CRDs first, C(external) means they are already installed by
        something else, C(absent) means there are none (no VolumeSnapshotClass can then be created).
      - C(controller) - C(managed) (default) installs the single snapshot-controller after the CRDs, C(external)
        means one already runs, C(absent) means none runs.
      - C(namespace) - namespace of the snapshot-controller (default C(kube-system)).
      - C(replicas) - replicas of the snapshot-controller Deployment; upstream's value (2) when not set.
      - C(image) - snapshot-controller image, for a registry mirror; upstream's image when not set.
    type: dict
    default: {}
  upstream_dir:
    description:
      - Directory on the controller with the pinned upstream release files, laid out as
        C(external-snapshotter-v8.6.0/crd/*.yaml), C(external-snapshotter-v8.6.0/snapshot-controller/*.yaml) and
        C(local-path-provisioner-v0.0.37/local-path-storage.yaml) - the RV(kubelayer.runtime.upstream_files#module:cache_dir)
        of M(kubelayer.runtime.upstream_files), or an air-gapped copy.
      - Each file is checked against its pinned sha256; a different file is refused, named in the problems.
      - Needed when the snapshot CRDs or controller are managed or local-path is used.
    type: path
  kubernetes_version:
    description:
      - Kubernetes version of the cluster; drivers that need a newer one are refused, and schema validation uses
        the newest bundled schemas not newer than this version (see RV(schema_version)).
    type: str
    default: 1.34.0
  validate:
    description:
      - Validate every object of the plan against the Kubernetes schemas and the CRD schemas; problems are
        refused like any other.
    type: bool
    default: true
  render_dir:
    description:
      - Write the plan as a directory here (created if missing). Files the previous render wrote and this one
        does not are removed; other files are left alone. Helm values files are written with mode C(0600),
        other files C(0644).
    type: path
extends_documentation_fragment:
  - kubelayer.runtime.attributes
attributes:
  diff_mode:
    details: One before/after diff per rendered file that changes.
notes:
  - The module runs on the controller; delegate it to C(localhost) and run it once (C(run_once)).
seealso:
  - module: kubernetes.core.helm
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: Plan rook-ceph and local-path, local-path being the default class
  kubelayer.runtime.csi_plan:
    upstream_dir: /srv/upstream
    drivers:
      - name: local-path
        storage_classes:
          - name: local-path
            default: true
      - name: rook-ceph
        device_filter: "^sd[b-z]"
        snapshot_classes:
          - name: ceph-block-snapshots
  delegate_to: localhost
  run_once: true
  register: csi_plan_result

- name: Render a GitOps directory for NFS without managing snapshots
  kubelayer.runtime.csi_plan:
    snapshot:
      crds: absent
      controller: absent
    drivers:
      - name: nfs
        server: nfs1.example.com
        share: /export/k8s
        storage_classes:
          - name: nfs-csi
            default: true
    render_dir: /srv/gitops/storage
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
plan:
  description: The ordered plan.
  returned: success
  type: dict
  contains:
    steps:
      description:
        - Install steps in order, each with C(phase) (C(snapshot-crds), C(snapshot-controller), C(driver),
          C(classes)), C(kind) (C(manifest) or C(helm)), C(name), C(namespace), C(driver), C(wait) and either
          C(objects) and C(source) or C(chart), C(repo), C(version), C(values), C(create_namespace).
      type: list
      elements: dict
    waits:
      description: Driver readiness checks run after the driver steps (CSIDriver, workloads, CephCluster).
      type: list
      elements: dict
    driver_waits:
      description: The same checks per driver.
      type: dict
    snapshot:
      description: The effective O(snapshot) settings.
      type: dict
    storage_classes:
      description: Names of every StorageClass, including those a chart creates itself.
      type: list
      elements: str
    default_storage_class:
      description: The default StorageClass, or null.
      type: str
    snapshot_classes:
      description: Names of every VolumeSnapshotClass.
      type: list
      elements: str
    drivers:
      description: The planned drivers, in order.
      type: list
      elements: str
    node_requirements:
      description: What each driver needs on the nodes (kernel modules, packages, directories, Quobyte registry).
      type: dict
    warnings:
      description: Non-fatal findings (no default StorageClass, drivers not installed).
      type: list
      elements: str
  sample:
    steps:
      - phase: driver
        kind: helm
        driver: nfs
        name: csi-driver-nfs
        namespace: kube-system
        chart: csi-driver-nfs
        repo: https://kubernetes-csi.github.io/csi-driver-nfs
        version: 4.13.4
        values: {}
        create_namespace: true
        wait: []
apply:
  description:
    - The plan flattened for the role, C(crds), C(controller), C(driver_objects), C(classes) (lists of
      C(object), C(wait), C(wait_condition)), C(helm) (Helm releases in order) and C(waits).
  returned: success
  type: dict
schema_version:
  description:
    - The Kubernetes version whose bundled schemas validated the objects, the newest one not newer than
      O(kubernetes_version) (the oldest one when all are newer); null when O(validate=false).
  returned: success
  type: str
  sample: 1.34.0
rendered:
  description: Files of O(render_dir), relative to it, that this render wrote or would write.
  returned: when O(render_dir) is set
  type: list
  elements: str
removed:
  description: Files of an earlier render that were (or would be) removed.
  returned: when O(render_dir) is set
  type: list
  elements: str
problems:
  description: Every problem found; the module fails when there is one.
  returned: failure
  type: list
  elements: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import files as host_files
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail, fail_if
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import plan as csi_plan
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import reader, sources
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import render as csi_render
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import gitops
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import schema
from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog

MARKER = ".csi_plan-files.json"


def _read_pinned(path, relpath):
    """(text, problem) of one upstream file, refused unless it is the pinned release file."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        return None, "upstream_dir: cannot read %s: %s" % (path, to_native(exc))
    actual = catalog.mismatch(relpath, data)
    if actual is not None:
        return None, ("upstream_dir: %s has sha256 %s, the pinned release file %s has %s: refused"
                      % (path, actual, relpath, catalog.sha256(relpath)))
    return data.decode("utf-8"), None


def load_upstream(upstream_dir):
    """Parse the pinned upstream release files present under ``upstream_dir``; return (upstream, problems)."""
    upstream, problems = {}, []
    if not upstream_dir:
        return upstream, problems
    if not os.path.isdir(upstream_dir):
        return upstream, ["upstream_dir: %s is not a directory" % upstream_dir]
    for key, files in sources.UPSTREAM_FILES.items():
        paths = [os.path.join(upstream_dir, name) for name in files]
        if not all(os.path.isfile(p) for p in paths):
            continue  # build_plan reports it when the plan needs these files
        objects = []
        for path, relpath in zip(paths, files):
            text, problem = _read_pinned(path, relpath)
            if problem:
                problems.append(problem)
                continue
            try:
                objects.extend(gitops.load_documents(text, source=path))
            except gitops.ManifestError as exc:
                problems.extend("upstream_dir: %s" % p for p in exc.problems)
        upstream[key] = objects
    return upstream, problems


def check_paths(params):
    """The path options, before anything is read (normalised in place)."""
    problems = []
    for option in ("upstream_dir", "render_dir"):
        if params[option] is not None:
            params[option] = validate.check_path(option, params[option], problems, directory=True)
    validate.check_text("kubernetes_version", params["kubernetes_version"], problems, max_len=32)
    return problems


def schema_version(kubernetes_version):
    """The bundled schema version to validate with: the newest one not newer than the cluster's minor."""
    wanted = reader.parse_version(kubernetes_version)
    try:
        available = sorted(set(reader.parse_version(v) for v in schema.kubernetes_validate.utils.all_versions()) - {None})
    except Exception:  # pylint: disable=broad-except
        available = []
    if wanted is None or not available:
        return kubernetes_version
    older = [v for v in available if v[:2] <= wanted[:2]]
    chosen = older[-1] if older else available[0]
    return "%d.%d.%d" % chosen


def validate_plan(plan, upstream, k8s_version):
    objects = [obj for step in plan["steps"] if step["kind"] == "manifest" for obj in step["objects"]]
    crds = list(upstream.get("snapshot_crds") or [])
    problems = schema.validate_objects(objects, crds=crds, k8s_version=k8s_version)
    return ["schema: %s" % p for p in problems]


def _previous_files(root):
    """The relative paths the last render wrote (its marker), each a plain relative path below ``root``."""
    try:
        loaded = json.loads(host_files.read_text(os.path.join(root, MARKER), strict=True) or "[]")
    except ValueError:
        return []
    if not isinstance(loaded, list):
        return []
    return [rel for rel in loaded if isinstance(rel, str) and rel and not rel.startswith(("/", "..")) and
            validate.check_path("", "/" + rel, []) == "/" + rel]


def render(module, render_dir, plan):
    """Write the GitOps tree below ``render_dir``: every destination checked first, then written (or rolled back)."""
    tree = csi_render.render_tree(plan)
    root = render_dir
    files = host_files.HostFiles(module.check_mode, prefix=".csi_plan-")
    changed_files, diffs = [], []
    for rel, text in tree.items():
        mode = 0o600 if rel.endswith("/" + csi_render.VALUES) else 0o644
        change = files.file("render_dir", os.path.join(root, rel), to_bytes(text), mode, root=root)
        if change is not None:
            changed_files.append(rel)
            diffs.append(dict(change.diff(), before_header=rel, after_header=rel))
    removed = []
    for rel in sorted(set(_previous_files(root)) - set(tree)):
        change = files.absent("render_dir", os.path.join(root, rel), root=root)
        if change is not None:
            removed.append(rel)
            diffs.append(dict(change.diff(), before_header=rel, after_header="(removed)"))
    files.file("render_dir", os.path.join(root, MARKER), to_bytes(json.dumps(sorted(tree), indent=1) + "\n"),
               0o644, root=root)
    host_files.commit_or_fail(module, "csi_plan", files)
    for rel in removed if not module.check_mode else []:
        parent = os.path.dirname(os.path.join(root, rel))
        if parent != root and os.path.isdir(parent) and not os.listdir(parent):
            os.rmdir(parent)
    return bool(changed_files or removed), sorted(tree), removed, diffs


ARGUMENT_SPEC = dict(
    drivers=dict(type="list", elements="dict", required=True),
    # a dict without suboptions: ansible-core refuses a scalar or a list (with suboptions it raises a
    # TypeError on a list of scalars), and build_plan checks the keys, listing every problem at once
    snapshot=dict(type="dict", default={}),
    upstream_dir=dict(type="path"),
    kubernetes_version=dict(type="str", default=schema.DEFAULT_K8S_VERSION),
    validate=dict(type="bool", default=True),
    render_dir=dict(type="path"),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    params = module.params
    for library, error in schema.missing_libraries(params["validate"]):
        module.fail_json(msg=missing_required_lib(library), exception=str(error))

    problems = check_paths(params)
    fail_if(module, "csi_plan", problems)
    upstream, problems = load_upstream(params["upstream_dir"])
    plan = None
    try:
        plan = csi_plan.build_plan(params["drivers"], snapshot=params["snapshot"], upstream=upstream,
                                   kubernetes_version=params["kubernetes_version"])
    except csi_plan.PlanError as exc:
        problems.extend(exc.problems)
    validated_with = None
    if plan is not None and params["validate"]:
        validated_with = schema_version(params["kubernetes_version"])
        problems.extend(validate_plan(plan, upstream, validated_with))
    fail_if(module, "csi_plan", problems)

    for warning in plan["warnings"]:
        module.warn(warning)
    result = dict(changed=False, plan=plan, apply=csi_plan.apply_items(plan), schema_version=validated_with)
    if params["render_dir"]:
        try:
            changed, rendered, removed, diffs = render(module, params["render_dir"], plan)
        except gitops.ManifestError as exc:
            fail(module, "csi_plan", ["render_dir: %s" % p for p in exc.problems])
        result.update(changed=changed, rendered=rendered, removed=removed)
        if module._diff and diffs:
            result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
