# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VolumeSnapshot machinery of the CSI plan: settings, the CRDs step and the snapshot-controller step.

Pure logic, no Ansible imports. Both come unmodified from external-snapshotter's release files (``csi.sources``);
the controller is moved to its namespace and given its replicas and image.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import sources
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import DNS_LABEL, Reader, get

SNAPSHOT_MODES = ("managed", "external", "absent")


def settings(snapshot, problems):
    """The effective ``snapshot`` option: crds and controller mode, namespace, replicas, image."""
    if snapshot is None:
        snapshot = {}
    if not isinstance(snapshot, dict):
        problems.append("snapshot: must be a mapping, got %s" % type(snapshot).__name__)
        snapshot = {}
    reader = Reader(snapshot, "snapshot", problems)
    return {
        "crds": reader.text("crds", "managed", choices=SNAPSHOT_MODES),
        "controller": reader.text("controller", "managed", choices=SNAPSHOT_MODES),
        "namespace": reader.text("namespace", "kube-system", pattern=DNS_LABEL),
        "replicas": reader.integer("replicas", None, minimum=1),
        "image": reader.text("image"),
    }


def steps(snapshot_settings, upstream, problems):
    """The snapshot-crds and snapshot-controller steps the settings ask for."""
    out = []
    if snapshot_settings["crds"] == "managed":
        step = _crds_step(upstream, problems)
        if step is not None:
            out.append(step)
    if snapshot_settings["controller"] == "managed":
        step = _controller_step(snapshot_settings, upstream, problems)
        if step is not None:
            out.append(step)
    return out


def _crds_step(upstream, problems):
    objects = sources.upstream_objects(upstream, "snapshot_crds")
    if objects is None:
        problems.append("snapshot.crds: managed, but the external-snapshotter %s CRDs are not available "
                        "(upstream_dir with %s, from %s)" % (sources.EXTERNAL_SNAPSHOTTER_VERSION,
                                                             ", ".join(sources.UPSTREAM_FILES["snapshot_crds"]),
                                                             sources.UPSTREAM_URLS["snapshot_crds"]))
        return None
    return {"phase": "snapshot-crds", "kind": "manifest", "driver": None, "name": "snapshot-crds",
            "namespace": None, "objects": objects,
            "source": "kubernetes-csi/external-snapshotter %s client/config/crd (unmodified)"
                      % sources.EXTERNAL_SNAPSHOTTER_VERSION,
            "wait": [{"api_version": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                      "name": get(o, "metadata", "name"),
                      "condition": {"type": "Established", "status": "True"}} for o in objects]}


def _controller_step(snapshot_settings, upstream, problems):
    objects = sources.upstream_objects(upstream, "snapshot_controller")
    if objects is None:
        problems.append("snapshot.controller: managed, but the external-snapshotter %s snapshot-controller "
                        "manifests are not available (upstream_dir with %s, from %s)"
                        % (sources.EXTERNAL_SNAPSHOTTER_VERSION, ", ".join(sources.UPSTREAM_FILES["snapshot_controller"]),
                           sources.UPSTREAM_URLS["snapshot_controller"]))
        return None
    namespace = snapshot_settings["namespace"] or "kube-system"
    sources.rename_namespace(objects, "kube-system", namespace)
    deployment = sources.find(objects, "Deployment", "snapshot-controller")
    if deployment is not None:
        if snapshot_settings["replicas"] is not None:
            if not isinstance(deployment.get("spec"), dict):
                deployment["spec"] = {}
            deployment["spec"]["replicas"] = snapshot_settings["replicas"]
        containers = get(deployment, "spec", "template", "spec", "containers")
        if snapshot_settings["image"] and isinstance(containers, list):
            for container in containers:
                if isinstance(container, dict) and container.get("name") == "snapshot-controller":
                    container["image"] = snapshot_settings["image"]
    return {"phase": "snapshot-controller", "kind": "manifest", "driver": None,
            "name": "snapshot-controller", "namespace": namespace, "objects": objects,
            "source": "kubernetes-csi/external-snapshotter %s deploy/kubernetes/snapshot-controller "
                      "(namespace, replicas, image patched)" % sources.EXTERNAL_SNAPSHOTTER_VERSION,
            "wait": [common.wait_ready("Deployment", "snapshot-controller", namespace)]}
