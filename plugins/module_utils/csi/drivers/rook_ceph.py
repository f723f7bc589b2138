# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rook-Ceph v1.20+: three Helm releases in order (rook-ceph operator, ceph-csi-drivers, rook-ceph-cluster).

Block classes become CephBlockPools with an rbd StorageClass, filesystem classes CephFilesystems with a cephfs
StorageClass; the chart's own classes stay off (it would create them in the cluster release) unless
``cluster_values`` turn them on, and then they count in the whole-plan checks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import (
    DNS_LABEL, STRING_TYPES, check_host_path, deep_merge, get, is_json_value, truthy)
from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog

NAME = "rook-ceph"
MIN_KUBERNETES = (1, 31)
# pinned in the one catalog
REPO, VERSION = catalog.CHARTS["rook-ceph"][1:3]
CEPH_CSI_REPO, CEPH_CSI_DRIVERS_VERSION = catalog.CHARTS["ceph-csi-drivers"][1:3]
CEPH_HEALTH = ("HEALTH_OK", "HEALTH_WARN", "HEALTH_ERR")
_OLD_ROOK = ("Rook <= v1.19 configures CSI through operator settings; this plan implements the v1.20 flow "
             "(rook-ceph, ceph-csi-drivers, rook-ceph-cluster)")


def plan(reader, problems, upstream):
    """The Rook-Ceph part of the plan (``upstream`` is not used: the driver is three Helm charts)."""
    del upstream
    result = common.DriverPlan(NAME)
    opts = _options(reader, problems)
    prefix = opts["operator_ns"] or "rook-ceph"
    csi = {"rbd": "%s.rbd.csi.ceph.com" % prefix, "cephfs": "%s.cephfs.csi.ceph.com" % prefix,
           "nfs": "%s.nfs.csi.ceph.com" % prefix, "prefix": prefix}
    pools, filesystems = _storage_classes(reader, problems, opts, csi, result)
    _snapshot_classes(reader, problems, opts, csi, result)
    operator = deep_merge({"crds": {"enabled": True}, "csi": {"installCsiOperator": True}}, opts["operator_values"])
    drivers = _drivers_values(opts, csi)
    cluster = _cluster_values(opts, csi, pools, filesystems)
    _what_the_chart_creates(cluster, csi, reader.where, problems, result)
    _steps_and_waits(opts, csi, operator, drivers, cluster, result)
    result.node_requirements = {"kernel_modules": ["rbd"] + (["ceph"] if filesystems else []),
                                "data_dir_host_path": opts["data_dir"]}
    return result


def _options(reader, problems):
    """Every driver-level option, in the order they are checked (the order problems are listed in)."""
    opts = {}
    opts["operator_ns"] = reader.text("operator_namespace", "rook-ceph", pattern=DNS_LABEL)
    opts["cluster_ns"] = reader.text("namespace", opts["operator_ns"], pattern=DNS_LABEL)
    opts["version"] = common.check_version(reader, VERSION, problems, minimum=(1, 20, 0), what=_OLD_ROOK)
    opts["drivers_version"] = reader.text("drivers_version", CEPH_CSI_DRIVERS_VERSION)
    opts["repo"] = reader.text("repo", REPO)
    opts["drivers_repo"] = reader.text("drivers_repo", CEPH_CSI_REPO)
    opts["cluster_name"] = reader.text("cluster_name", opts["cluster_ns"], pattern=DNS_LABEL)
    opts["client_type"] = reader.text("cephfs_client_type", "kernel", choices=("kernel", "fuse"))
    opts["nfs"] = reader.flag("nfs", False)
    opts["mon_count"] = reader.integer("mon_count", 3, minimum=1)
    opts["data_dir"] = reader.text("data_dir_host_path", "/var/lib/rook")
    check_host_path(reader.where, "data_dir_host_path", opts["data_dir"], problems)
    opts.update(_osd_selection(reader, problems))
    opts["healthy"] = reader.str_list("healthy_states") or ["HEALTH_OK"]
    for state in opts["healthy"]:
        if state not in CEPH_HEALTH:
            problems.append("%s.healthy_states: %r is not one of %s" % (reader.where, state, ", ".join(CEPH_HEALTH)))
    opts["replicas"] = reader.integer("replicas", 3, minimum=1)
    opts["controller_replicas"] = reader.integer("controller_replicas", 2, minimum=1)
    opts["kubelet_dir"] = reader.text("kubelet_dir", "/var/lib/kubelet")
    opts["operator_values"] = reader.mapping("operator_values")
    opts["drivers_values"] = reader.mapping("drivers_values")
    opts["cluster_values"] = reader.mapping("cluster_values")
    opts["toolbox"] = reader.flag("toolbox", False)
    return opts


def _osd_selection(reader, problems):
    """Which nodes and devices become OSDs; at least one way of choosing devices is required."""
    where = reader.where
    sel = {"use_all_nodes": reader.flag("use_all_nodes", True), "use_all_devices": reader.flag("use_all_devices", False)}
    sel["device_filter"] = reader.text("device_filter")
    if sel["device_filter"] is not None:
        try:
            re.compile(sel["device_filter"])
        except (re.error, RecursionError, OverflowError) as exc:
            problems.append("%s.device_filter: %r is not a regular expression: %s" % (where, sel["device_filter"], exc))
    sel["nodes"] = reader.items("nodes")
    for index, node in enumerate(sel["nodes"]):
        if not isinstance(node, dict) or not isinstance(node.get("name"), STRING_TYPES) or not node.get("name"):
            problems.append("%s.nodes[%d]: must be a mapping with a name (CephCluster storage.nodes entry)"
                            % (where, index))
        elif not is_json_value(node):
            problems.append("%s.nodes[%d]: must hold only plain data" % (where, index))
    sel["osd_devices"] = reader.str_list("osd_devices")
    if not sel["use_all_devices"] and sel["device_filter"] is None and not sel["nodes"] and not sel["osd_devices"]:
        problems.append("%s: no OSD device selection: set osd_devices, device_filter (e.g. '^sd[b-z]'), nodes, or "
                        "use_all_devices: true" % where)
    return sel


def _secrets(kind, namespace):
    """The provisioner, expand and node-stage secret parameters of an rbd or cephfs StorageClass."""
    return {
        "csi.storage.k8s.io/provisioner-secret-name": "rook-csi-%s-provisioner" % kind,
        "csi.storage.k8s.io/provisioner-secret-namespace": namespace,
        "csi.storage.k8s.io/controller-expand-secret-name": "rook-csi-%s-provisioner" % kind,
        "csi.storage.k8s.io/controller-expand-secret-namespace": namespace,
        "csi.storage.k8s.io/node-stage-secret-name": "rook-csi-%s-node" % kind,
        "csi.storage.k8s.io/node-stage-secret-namespace": namespace,
    }


def _filesystem_class(sub, name, sc_replicas, failure_domain, opts, filesystems, where, problems):
    """A CephFilesystem for the class (added to ``filesystems``); returns its cephfs StorageClass parameters."""
    fs_name = sub.text("filesystem", name, pattern=DNS_LABEL)
    if any(f["name"] == fs_name for f in filesystems):
        problems.append("%s: filesystem %s is used by two StorageClasses; one class per CephFilesystem"
                        % (where, fs_name))
    filesystems.append({"name": fs_name, "spec": {
        "metadataPool": {"replicated": {"size": sc_replicas}},
        "dataPools": [{"name": "data0", "failureDomain": failure_domain, "replicated": {"size": sc_replicas}}],
        "metadataServer": {"activeCount": 1, "activeStandby": True}},
        "storageClass": {"enabled": False}})
    params = {"fsName": fs_name, "pool": "%s-data0" % fs_name}
    params.update(_secrets("cephfs", opts["cluster_ns"]))
    return params


def _block_class(sub, name, sc_replicas, failure_domain, opts, pools, where, problems):
    """A CephBlockPool for the class (added to ``pools`` unless shared); returns its rbd StorageClass parameters."""
    pool = sub.text("pool", "ceph-blockpool" if name == "ceph-block" else name, pattern=DNS_LABEL)
    pool_entry = {"name": pool, "spec": {"failureDomain": failure_domain, "replicated": {"size": sc_replicas}},
                  "storageClass": {"enabled": False}}
    same = [p for p in pools if p["name"] == pool]
    if not same:
        pools.append(pool_entry)
    elif same[0] != pool_entry:
        problems.append("%s: StorageClass %s uses pool %s with other replicas/failure_domain than an earlier "
                        "class" % (where, name, pool))
    params = {"pool": pool, "imageFormat": "2", "imageFeatures": sub.text("image_features", "layering")}
    params.update(_secrets("rbd", opts["cluster_ns"]))
    params["csi.storage.k8s.io/fstype"] = sub.text("fstype", "ext4")
    return params


def _storage_classes(reader, problems, opts, csi, result):
    """StorageClasses into ``result``; returns the (pools, filesystems) they need."""
    pools, filesystems = [], []
    for sub in common.read_class_specs(reader, "storage_classes", [{"name": "ceph-block", "type": "block"}], problems):
        sc_type = sub.text("type", "block", choices=("block", "filesystem"))
        name = sub.text("name")
        sc_replicas = sub.integer("replicas", opts["replicas"], minimum=1)
        failure_domain = sub.text("failure_domain", "host")
        params = {"clusterID": opts["cluster_ns"]}
        if sc_type == "filesystem":
            params.update(_filesystem_class(sub, name, sc_replicas, failure_domain, opts, filesystems, reader.where,
                                            problems))
            provisioner = csi["cephfs"]
        else:
            params.update(_block_class(sub, name, sc_replicas, failure_domain, opts, pools, reader.where, problems))
            provisioner = csi["rbd"]
        params.update(sub.str_map("parameters"))
        result.storage_classes.append(common.storage_class(
            name, provisioner, sub.flag("default", False),
            sub.text("reclaim_policy", "Delete", choices=common.RECLAIM_POLICIES),
            sub.text("volume_binding_mode", "Immediate", choices=common.BINDING_MODES),
            sub.flag("allow_volume_expansion", True), params, sub.str_list("mount_options"),
            annotations=sub.str_map("annotations")))
    return pools, filesystems


def _snapshot_classes(reader, problems, opts, csi, result):
    for sub in common.read_class_specs(reader, "snapshot_classes", [], problems):
        vs_type = sub.text("type", "block", choices=("block", "filesystem"))
        secret = "rook-csi-cephfs-provisioner" if vs_type == "filesystem" else "rook-csi-rbd-provisioner"
        params = {"clusterID": opts["cluster_ns"],
                  "csi.storage.k8s.io/snapshotter-secret-name": secret,
                  "csi.storage.k8s.io/snapshotter-secret-namespace": opts["cluster_ns"]}
        params.update(sub.str_map("parameters"))
        result.snapshot_classes.append(common.snapshot_class(
            sub.text("name"), csi["cephfs"] if vs_type == "filesystem" else csi["rbd"], sub.flag("default", False),
            sub.text("deletion_policy", "Delete", choices=common.DELETION_POLICIES), params))


def _drivers_values(opts, csi):
    return deep_merge({
        "drivers": {
            "rbd": {"name": csi["rbd"], "enabled": True},
            "cephfs": {"name": csi["cephfs"], "enabled": True, "cephFsClientType": opts["client_type"]},
            "nfs": {"name": csi["nfs"], "enabled": bool(opts["nfs"])},
        },
        "operatorConfig": {"driverSpecDefaults": {
            "deployCsiAddons": False,
            "controllerPlugin": {"replicas": opts["controller_replicas"]},
            "nodePlugin": {"kubeletDirPath": opts["kubelet_dir"]}}},
    }, opts["drivers_values"])


def _cluster_values(opts, csi, pools, filesystems):
    nodes = opts["nodes"]
    storage = {"useAllNodes": bool(opts["use_all_nodes"]) and not nodes, "useAllDevices": bool(opts["use_all_devices"])}
    if opts["device_filter"] is not None:
        storage["deviceFilter"] = opts["device_filter"]
    if opts["osd_devices"]:
        # the same whole-disk paths the node side checked for eligibility, on every node
        storage["devices"] = [{"name": device} for device in opts["osd_devices"]]
    if nodes:
        storage["nodes"] = copy.deepcopy([n for n in nodes if isinstance(n, dict)])
    mon_count = opts["mon_count"]
    return deep_merge({
        "operatorNamespace": opts["operator_ns"],
        "clusterName": opts["cluster_name"],
        "csiDriverNamePrefix": csi["prefix"],
        "toolbox": {"enabled": bool(opts["toolbox"])},
        "monitoring": {"enabled": False},
        "cephClusterSpec": {
            "dataDirHostPath": opts["data_dir"],
            "mon": {"count": mon_count, "allowMultiplePerNode": mon_count is not None and mon_count < 3},
            "storage": storage,
        },
        "cephBlockPools": pools,
        "cephFileSystems": filesystems,
        "cephObjectStores": [],
        "cephBlockPoolsVolumeSnapshotClass": {"enabled": False},
        "cephFileSystemVolumeSnapshotClass": {"enabled": False},
    }, opts["cluster_values"])


def _what_the_chart_creates(cluster, csi, where, problems, result):
    """Classes the cluster chart creates itself when ``cluster_values`` turn them on."""
    for key in ("cephBlockPools", "cephFileSystems", "cephObjectStores"):
        entries = cluster.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.append("%s.cluster_values.%s: must be a list" % (where, key))
            continue
        for entry in entries:
            sc = get(entry, "storageClass")
            if isinstance(sc, dict) and truthy(sc.get("enabled")):
                sc_name = sc.get("name") if isinstance(sc.get("name"), STRING_TYPES) else "<unnamed %s class>" % key
                result.chart_classes.append((sc_name, truthy(sc.get("isDefault"))))
    for key, drv in (("cephBlockPoolsVolumeSnapshotClass", csi["rbd"]),
                     ("cephFileSystemVolumeSnapshotClass", csi["cephfs"])):
        vsc = cluster.get(key)
        if isinstance(vsc, dict) and truthy(vsc.get("enabled")):
            vsc_name = vsc.get("name") if isinstance(vsc.get("name"), STRING_TYPES) else "<unnamed %s>" % key
            result.chart_snapshot_classes.append((vsc_name, drv, truthy(vsc.get("isDefault"))))


def _steps_and_waits(opts, csi, operator, drivers, cluster, result):
    operator_ns, cluster_ns = opts["operator_ns"], opts["cluster_ns"]
    result.steps.append(common.helm_step(NAME, "rook-ceph", operator_ns, "rook-ceph", opts["repo"], opts["version"],
                                         operator, [common.wait_ready("Deployment", "rook-ceph-operator", operator_ns)]))
    result.steps.append(common.helm_step(NAME, "ceph-csi-drivers", operator_ns, "ceph-csi-drivers",
                                         opts["drivers_repo"], opts["drivers_version"], drivers,
                                         [common.wait_ready("Deployment", "ceph-csi-controller-manager", operator_ns)]))
    result.steps.append(common.helm_step(NAME, "rook-ceph-cluster", cluster_ns, "rook-ceph-cluster", opts["repo"],
                                         opts["version"], cluster))
    for drv in (csi["rbd"], csi["cephfs"]) + ((csi["nfs"],) if opts["nfs"] else ()):
        result.waits.append(common.wait_csidriver(drv))
        result.waits.append(common.wait_ready("Deployment", "%s-ctrlplugin" % drv, operator_ns))
        result.waits.append(common.wait_ready("DaemonSet", "%s-nodeplugin" % drv, operator_ns))
    result.waits.append({"api_version": "ceph.rook.io/v1", "kind": "CephCluster", "name": opts["cluster_name"],
                         "namespace": cluster_ns, "condition": {"type": "Ready", "status": "True"},
                         "ceph_health": opts["healthy"]})
