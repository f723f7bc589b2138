# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NFS: the csi-driver-nfs Helm chart against an existing server and export."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import (
    DNS_SUBDOMAIN, STRING_TYPES, deep_merge, get, truthy)
from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog

NAME = "nfs"
MIN_KUBERNETES = (1, 21)
REPO, VERSION = catalog.CHARTS["csi-driver-nfs"][1:3]  # pinned in the one catalog


def plan(reader, problems, upstream):
    """The csi-driver-nfs part of the plan (``upstream`` is not used: the driver is a Helm chart)."""
    del upstream
    result = common.DriverPlan(NAME)
    where = reader.where
    namespace, version, repo = common.chart(reader, problems, "kube-system", VERSION, REPO)
    if version is not None and version.startswith("v"):
        problems.append("%s.version: csi-driver-nfs charts have no 'v' prefix since 4.11.0, got %r" % (where, version))
    server = reader.text("server", required=True, what="the NFS server host name or address")
    share = reader.text("share", required=True, what="the exported path, e.g. /export")
    if share is not None and not share.startswith("/"):
        problems.append("%s.share: must be an absolute export path, got %r" % (where, share))
    driver_name = reader.text("driver_name", "nfs.csi.k8s.io", pattern=DNS_SUBDOMAIN)
    kubelet_dir = reader.text("kubelet_dir", "/var/lib/kubelet")
    values_override = reader.mapping("values")
    base = {}
    if server is not None:
        base["server"] = server
    if share is not None:
        base["share"] = share
    result.storage_classes = common.common_classes(
        reader, problems, driver_name or "nfs.csi.k8s.io", [{"name": "nfs-csi"}], base,
        {"mount_options": ["nfsvers=4.1"]})
    result.snapshot_classes = common.common_snapshot_classes(reader, problems, driver_name or "nfs.csi.k8s.io", base)
    values = deep_merge({
        "driver": {"name": driver_name},
        "kubeletDir": kubelet_dir,
        "controller": {"replicas": 1, "enableSnapshotter": True},
        "externalSnapshotter": {"enabled": False},
        "storageClass": {"create": False},
        "volumeSnapshotClass": {"create": False},
    }, values_override)
    _what_the_chart_creates(values, result, driver_name, where, problems)
    result.steps.append(common.helm_step(NAME, "csi-driver-nfs", namespace, "csi-driver-nfs", repo, version, values))
    result.waits.append(common.wait_csidriver(driver_name or "nfs.csi.k8s.io"))
    result.waits.append(common.wait_ready("Deployment", "csi-nfs-controller", namespace))
    result.waits.append(common.wait_ready("DaemonSet", "csi-nfs-node", namespace))
    return result


def _what_the_chart_creates(values, result, driver_name, where, problems):
    """Snapshot CRDs, StorageClasses and a VolumeSnapshotClass the chart creates itself when ``values`` turn them on."""
    if truthy(get(values, "externalSnapshotter", "enabled")):
        result.snapshot_crds_in_release = True
        if truthy(get(values, "volumeSnapshotClass", "create")):
            problems.append("%s.values: volumeSnapshotClass.create with externalSnapshotter.enabled puts a "
                            "VolumeSnapshotClass in the same release as its CRDs (fails: no matches for kind "
                            "VolumeSnapshotClass); create it through snapshot_classes instead" % where)
    if truthy(get(values, "storageClass", "create")):
        sc_name = get(values, "storageClass", "name")
        ann = get(values, "storageClass", "annotations")
        result.chart_classes.append((sc_name if isinstance(sc_name, STRING_TYPES) else "nfs-csi",
                                     truthy(get(ann, common.DEFAULT_SC_ANNOTATION))))
    extra = get(values, "storageClasses")
    if isinstance(extra, list):
        for entry in extra:
            if isinstance(entry, dict):
                sc_name = entry.get("name") if isinstance(entry.get("name"), STRING_TYPES) else "<unnamed>"
                ann = get(entry, "annotations")
                result.chart_classes.append((sc_name, truthy(get(ann, common.DEFAULT_SC_ANNOTATION))))
    if truthy(get(values, "volumeSnapshotClass", "create")):
        vsc_name = get(values, "volumeSnapshotClass", "name")
        result.chart_snapshot_classes.append(
            (vsc_name if isinstance(vsc_name, STRING_TYPES) else "csi-nfs-snapclass", driver_name, False))
