# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster-side CSI install plan (pure logic, controller side, no Ansible imports).

``build_plan(drivers, snapshot=None, upstream=None, kubernetes_version=None)`` turns the
``csi_drivers`` list into an ordered install plan:

1. ``snapshot-crds``: the VolumeSnapshot CRDs of external-snapshotter v8.6.0 (wait ``Established``);
2. ``snapshot-controller``: the single snapshot-controller (Deployment ready);
3. ``driver``: per driver, Helm releases (rook-ceph v1.20+: ``rook-ceph`` operator, then
   ``ceph-csi-drivers``, then ``rook-ceph-cluster``; Quobyte; csi-driver-nfs; Longhorn) or the
   local-path-provisioner manifest patched structurally; then the driver waits (CSIDriver
   present, controller/node workloads ready, CephCluster ``Ready`` + ``HEALTH_OK``);
4. ``classes``: StorageClasses and VolumeSnapshotClasses.

Input problems are all collected and raised together as ``PlanError`` (``.problems``); any
input, however malformed, gives either a plan or a ``PlanError``, never another exception.

``upstream`` carries the already parsed upstream manifests (``{key: [objects]}`` with the keys of
``UPSTREAM_FILES``); reading files is the caller's job. Upstream objects are deep-copied before
they are patched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import math
import re

from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog

DRIVERS = ("rook-ceph", "quobyte", "nfs", "local-path", "longhorn", "storageos")

SNAPSHOT_API = "snapshot.storage.k8s.io/v1"
DEFAULT_SC_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
DEFAULT_VSC_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
MANAGED_BY = "kubelayer.runtime.csi_plan"

EXTERNAL_SNAPSHOTTER_VERSION = catalog.EXTERNAL_SNAPSHOTTER_VERSION
LOCAL_PATH_VERSION = catalog.LOCAL_PATH_VERSION

# Upstream release files (pinned with their sha256 in upstream/catalog.py), relative to ``upstream_dir``.
UPSTREAM_FILES = dict((key, catalog.group_files(key)) for key in ("snapshot_crds", "snapshot_controller", "local_path"))
UPSTREAM_URLS = dict((key, catalog.url(files[0]).rsplit("/", 1)[0] + "/") for key, files in UPSTREAM_FILES.items())

# Chart coordinates (pinned; each overridable per driver with ``version``/``repo``).
ROOK_REPO = "https://charts.rook.io/release"
ROOK_VERSION = "v1.20.6"
CEPH_CSI_REPO = "https://ceph.github.io/ceph-csi-operator"
CEPH_CSI_DRIVERS_VERSION = "1.0.4"
QUOBYTE_REPO = "https://quobyte.github.io/quobyte-csi-driver/helm"
QUOBYTE_VERSION = "2.2.0"
NFS_REPO = "https://kubernetes-csi.github.io/csi-driver-nfs"
NFS_VERSION = "4.13.4"
LONGHORN_REPO = "https://charts.longhorn.io"
LONGHORN_VERSION = "1.12.1"

# minimum Kubernetes version per driver (reference matrix)
MIN_KUBERNETES = {
    "rook-ceph": (1, 31),
    "quobyte": (1, 22),
    "nfs": (1, 21),
    "local-path": (1, 12),
    "longhorn": (1, 25),
}

SNAPSHOT_MODES = ("managed", "external", "absent")
RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
DELETION_POLICIES = ("Delete", "Retain")
CEPH_HEALTH = ("HEALTH_OK", "HEALTH_WARN", "HEALTH_ERR")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+][0-9A-Za-z.+-]*)?$")

_STRING_TYPES = (str,)


class PlanError(ValueError):
    """Invalid driver list; ``problems`` lists every problem found."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(PlanError, self).__init__("; ".join(self.problems))


# --------------------------------------------------------------------------- helpers


def parse_version(text):
    """``"v1.20.6"``/``"1.20"`` -> ``(1, 20, 6)``; ``None`` when not a version."""
    if isinstance(text, bool) or not isinstance(text, _STRING_TYPES):
        return None
    match = _VERSION.match(text.strip())
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def deep_merge(base, override):
    """Helm-style merge: mappings merge recursively, everything else (lists too) replaces."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _get(mapping, *path):
    """Nested lookup that tolerates any shape; ``None`` when absent."""
    cur = mapping
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def _truthy(value):
    """Helm/YAML truthiness of chart flags (``true``, ``"true"``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, _STRING_TYPES):
        return value.strip().lower() == "true"
    return False


def _is_json_value(value, depth=0):
    """True when ``value`` is plain JSON data (what Helm values and manifests may hold)."""
    if depth > 64:
        return False
    if value is None or isinstance(value, (bool, int, float) + _STRING_TYPES):
        if isinstance(value, float) and math.isnan(value):
            return False
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_json_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, _STRING_TYPES) and _is_json_value(v, depth + 1) for k, v in value.items())
    return False


class _Reader(object):
    """Typed access to one user mapping that records every problem instead of raising."""

    def __init__(self, data, where, problems):
        self.data = data if isinstance(data, dict) else {}
        self.where = where
        self.problems = problems

    def _bad(self, key, message):
        self.problems.append("%s.%s: %s" % (self.where, key, message))

    def text(self, key, default=None, required=False, choices=None, pattern=None, what=None):
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                self._bad(key, "is required%s" % (" (%s)" % what if what else ""))
            return default
        if isinstance(value, bool) or not isinstance(value, _STRING_TYPES + (int, float)):
            self._bad(key, "must be a string, got %s" % type(value).__name__)
            return default
        value = str(value)
        if choices is not None and value not in choices:
            self._bad(key, "must be one of %s, got %r" % (", ".join(choices), value))
            return default
        if pattern is not None and not pattern.match(value):
            self._bad(key, "%r is not a valid name (lowercase RFC 1123)" % value)
            return default
        return value

    def flag(self, key, default=None):
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, _STRING_TYPES) and value.strip().lower() in ("true", "yes", "on", "false", "no", "off"):
            return value.strip().lower() in ("true", "yes", "on")
        self._bad(key, "must be a boolean, got %r" % (value,))
        return default

    def integer(self, key, default=None, minimum=None):
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            self._bad(key, "must be an integer, got %r" % (value,))
            return default
        if isinstance(value, _STRING_TYPES) and re.match(r"^\s*-?\d+\s*$", value):
            value = int(value)
        if not isinstance(value, int):
            self._bad(key, "must be an integer, got %r" % (value,))
            return default
        if minimum is not None and value < minimum:
            self._bad(key, "must be >= %d, got %d" % (minimum, value))
            return default
        return value

    def mapping(self, key, default=None):
        value = self.data.get(key)
        if value is None:
            return copy.deepcopy(default) if default is not None else {}
        if not isinstance(value, dict):
            self._bad(key, "must be a mapping, got %s" % type(value).__name__)
            return copy.deepcopy(default) if default is not None else {}
        if not _is_json_value(value):
            self._bad(key, "must hold only plain data (mappings with string keys, lists, strings, numbers, booleans)")
            return copy.deepcopy(default) if default is not None else {}
        return copy.deepcopy(value)

    def items(self, key, default=None):
        value = self.data.get(key)
        if value is None:
            return copy.deepcopy(default) if default is not None else []
        if not isinstance(value, (list, tuple)):
            self._bad(key, "must be a list, got %s" % type(value).__name__)
            return []
        return list(value)

    def str_map(self, key):
        """A mapping of string keys to string values (StorageClass parameters, annotations)."""
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._bad(key, "must be a mapping of strings, got %s" % type(value).__name__)
            return {}
        out = {}
        for k, v in value.items():
            if not isinstance(k, _STRING_TYPES) or not k:
                self._bad(key, "keys must be non-empty strings, got %r" % (k,))
            elif isinstance(v, bool):
                out[k] = "true" if v else "false"
            elif isinstance(v, _STRING_TYPES + (int,)) or (isinstance(v, float) and not math.isnan(v)):
                out[k] = str(v)
            else:
                self._bad("%s.%s" % (key, k), "must be a string, got %s" % type(v).__name__)
        return out

    def str_list(self, key):
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, _STRING_TYPES) and v for v in value):
            self._bad(key, "must be a list of non-empty strings")
            return []
        return list(value)


def _name_ok(name):
    return isinstance(name, _STRING_TYPES) and 0 < len(name) <= 253 and bool(_DNS_SUBDOMAIN.match(name))


# --------------------------------------------------------------------------- classes


def _storage_class(name, provisioner, default, reclaim, binding, expansion, parameters, mount_options,
                   annotations=None):
    meta = {"name": name, "labels": {"app.kubernetes.io/managed-by": MANAGED_BY}}
    ann = dict(annotations or {})
    ann[DEFAULT_SC_ANNOTATION] = "true" if default else "false"
    meta["annotations"] = ann
    obj = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta,
           "provisioner": provisioner}
    if parameters:
        obj["parameters"] = dict(parameters)
    obj["reclaimPolicy"] = reclaim
    obj["volumeBindingMode"] = binding
    obj["allowVolumeExpansion"] = bool(expansion)
    if mount_options:
        obj["mountOptions"] = list(mount_options)
    return obj


def _snapshot_class(name, driver, default, deletion, parameters):
    obj = {"apiVersion": SNAPSHOT_API, "kind": "VolumeSnapshotClass",
           "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
                        "annotations": {DEFAULT_VSC_ANNOTATION: "true" if default else "false"}},
           "driver": driver, "deletionPolicy": deletion}
    if parameters:
        obj["parameters"] = dict(parameters)
    return obj


def _read_class_specs(reader, key, defaults, problems):
    """Validate ``storage_classes``/``snapshot_classes`` entries; return a list of readers."""
    entries = reader.items(key, default=defaults)
    out = []
    for index, entry in enumerate(entries):
        where = "%s.%s[%d]" % (reader.where, key, index)
        if not isinstance(entry, dict):
            problems.append("%s: must be a mapping, got %s" % (where, type(entry).__name__))
            continue
        sub = _Reader(entry, where, problems)
        name = sub.text("name", required=True)
        if name is not None and not _name_ok(name):
            problems.append("%s.name: %r is not a valid object name (lowercase RFC 1123 subdomain)" % (where, name))
            continue
        if name is None:
            continue
        out.append(sub)
    return out


# --------------------------------------------------------------------------- per-driver planning


class _DriverPlan(object):
    def __init__(self, name):
        self.name = name
        self.steps = []           # install steps (phase "driver")
        self.waits = []           # driver waits
        self.storage_classes = []   # StorageClass objects (phase "classes")
        self.snapshot_classes = []  # VolumeSnapshotClass objects
        self.chart_classes = []   # (name, default) of StorageClasses a chart creates itself
        self.chart_snapshot_classes = []  # (name, driver, default) of VolumeSnapshotClasses from a chart
        self.snapshot_crds_in_release = False  # a chart installs the snapshot CRDs/controller itself
        self.node_requirements = {}
        self.warnings = []


def _helm_step(driver, release, namespace, chart, repo, version, values, waits=None):
    return {"phase": "driver", "kind": "helm", "driver": driver, "name": release, "namespace": namespace,
            "chart": chart, "repo": repo, "version": version, "values": values,
            "create_namespace": True, "wait": list(waits or [])}


def _wait_ready(kind, name, namespace):
    return {"api_version": "apps/v1", "kind": kind, "name": name, "namespace": namespace}


def _wait_csidriver(name):
    return {"api_version": "storage.k8s.io/v1", "kind": "CSIDriver", "name": name}


def _common_classes(reader, problems, provisioner, sc_defaults, base_params, sc_defaults_extra=None):
    """Build StorageClass objects for drivers whose classes are plain objects."""
    objs = []
    for sub in _read_class_specs(reader, "storage_classes", sc_defaults, problems):
        extra = dict(sc_defaults_extra or {})
        params = dict(base_params)
        params.update(sub.str_map("parameters"))
        objs.append(_storage_class(
            sub.text("name"), provisioner, sub.flag("default", False),
            sub.text("reclaim_policy", extra.get("reclaim_policy", "Delete"), choices=RECLAIM_POLICIES),
            sub.text("volume_binding_mode", extra.get("volume_binding_mode", "Immediate"), choices=BINDING_MODES),
            sub.flag("allow_volume_expansion", extra.get("allow_volume_expansion", True)),
            params, sub.str_list("mount_options") or extra.get("mount_options"),
            annotations=sub.str_map("annotations")))
    return objs


def _common_snapshot_classes(reader, problems, driver_name, base_params):
    objs = []
    for sub in _read_class_specs(reader, "snapshot_classes", [], problems):
        params = dict(base_params)
        params.update(sub.str_map("parameters"))
        objs.append(_snapshot_class(sub.text("name"), driver_name, sub.flag("default", False),
                                    sub.text("deletion_policy", "Delete", choices=DELETION_POLICIES), params))
    return objs


def _check_version(reader, default, problems, minimum=None, what="version"):
    version = reader.text("version", default)
    parsed = parse_version(version)
    if version is not None and parsed is None:
        problems.append("%s.version: %r is not a version (e.g. %s)" % (reader.where, version, default))
    elif minimum is not None and parsed is not None and parsed < minimum:
        problems.append("%s.version: %s is older than %s; %s" % (
            reader.where, version, ".".join(str(p) for p in minimum), what))
    return version


def _plan_rook(reader, problems):
    plan = _DriverPlan("rook-ceph")
    where = reader.where
    operator_ns = reader.text("operator_namespace", "rook-ceph", pattern=_DNS_LABEL)
    cluster_ns = reader.text("namespace", operator_ns, pattern=_DNS_LABEL)
    version = _check_version(reader, ROOK_VERSION, problems, minimum=(1, 20, 0),
                             what="Rook <= v1.19 configures CSI through operator settings; this plan implements the "
                                  "v1.20 flow (rook-ceph, ceph-csi-drivers, rook-ceph-cluster)")
    drivers_version = reader.text("drivers_version", CEPH_CSI_DRIVERS_VERSION)
    repo = reader.text("repo", ROOK_REPO)
    drivers_repo = reader.text("drivers_repo", CEPH_CSI_REPO)
    cluster_name = reader.text("cluster_name", cluster_ns, pattern=_DNS_LABEL)
    client_type = reader.text("cephfs_client_type", "kernel", choices=("kernel", "fuse"))
    nfs_enabled = reader.flag("nfs", False)
    mon_count = reader.integer("mon_count", 3, minimum=1)
    data_dir = reader.text("data_dir_host_path", "/var/lib/rook")
    if data_dir is not None and (not data_dir.startswith("/") or data_dir.rstrip("/") == ""):
        problems.append("%s.data_dir_host_path: must be an absolute path other than /, got %r" % (where, data_dir))
    use_all_nodes = reader.flag("use_all_nodes", True)
    use_all_devices = reader.flag("use_all_devices", False)
    device_filter = reader.text("device_filter")
    if device_filter is not None:
        try:
            re.compile(device_filter)
        except (re.error, RecursionError, OverflowError) as exc:
            problems.append("%s.device_filter: %r is not a regular expression: %s" % (where, device_filter, exc))
    nodes = reader.items("nodes")
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("name"), _STRING_TYPES) or not node.get("name"):
            problems.append("%s.nodes[%d]: must be a mapping with a name (CephCluster storage.nodes entry)"
                            % (where, index))
        elif not _is_json_value(node):
            problems.append("%s.nodes[%d]: must hold only plain data" % (where, index))
    osd_devices = reader.str_list("osd_devices")
    if not use_all_devices and device_filter is None and not nodes and not osd_devices:
        problems.append("%s: no OSD device selection: set osd_devices, device_filter (e.g. '^sd[b-z]'), nodes, or "
                        "use_all_devices: true" % where)
    healthy = reader.str_list("healthy_states") or ["HEALTH_OK"]
    for state in healthy:
        if state not in CEPH_HEALTH:
            problems.append("%s.healthy_states: %r is not one of %s" % (where, state, ", ".join(CEPH_HEALTH)))
    replicas = reader.integer("replicas", 3, minimum=1)
    controller_replicas = reader.integer("controller_replicas", 2, minimum=1)
    kubelet_dir = reader.text("kubelet_dir", "/var/lib/kubelet")
    operator_values = reader.mapping("operator_values")
    drivers_values = reader.mapping("drivers_values")
    cluster_values = reader.mapping("cluster_values")
    toolbox = reader.flag("toolbox", False)

    prefix = operator_ns or "rook-ceph"
    rbd = "%s.rbd.csi.ceph.com" % prefix
    cephfs = "%s.cephfs.csi.ceph.com" % prefix
    nfs = "%s.nfs.csi.ceph.com" % prefix

    # classes: block -> CephBlockPool + rbd StorageClass, filesystem -> CephFilesystem + cephfs class
    pools, filesystems = [], []
    default_classes = [{"name": "ceph-block", "type": "block"}]
    for sub in _read_class_specs(reader, "storage_classes", default_classes, problems):
        sc_type = sub.text("type", "block", choices=("block", "filesystem"))
        name = sub.text("name")
        sc_replicas = sub.integer("replicas", replicas, minimum=1)
        failure_domain = sub.text("failure_domain", "host")
        params = {"clusterID": cluster_ns}
        if sc_type == "filesystem":
            fs_name = sub.text("filesystem", name, pattern=_DNS_LABEL)
            if any(f["name"] == fs_name for f in filesystems):
                problems.append("%s: filesystem %s is used by two StorageClasses; one class per CephFilesystem"
                                % (where, fs_name))
            filesystems.append({"name": fs_name, "spec": {
                "metadataPool": {"replicated": {"size": sc_replicas}},
                "dataPools": [{"name": "data0", "failureDomain": failure_domain, "replicated": {"size": sc_replicas}}],
                "metadataServer": {"activeCount": 1, "activeStandby": True}},
                "storageClass": {"enabled": False}})
            params.update({
                "fsName": fs_name, "pool": "%s-data0" % fs_name,
                "csi.storage.k8s.io/provisioner-secret-name": "rook-csi-cephfs-provisioner",
                "csi.storage.k8s.io/provisioner-secret-namespace": cluster_ns,
                "csi.storage.k8s.io/controller-expand-secret-name": "rook-csi-cephfs-provisioner",
                "csi.storage.k8s.io/controller-expand-secret-namespace": cluster_ns,
                "csi.storage.k8s.io/node-stage-secret-name": "rook-csi-cephfs-node",
                "csi.storage.k8s.io/node-stage-secret-namespace": cluster_ns,
            })
            provisioner = cephfs
        else:
            pool = sub.text("pool", "ceph-blockpool" if name == "ceph-block" else name, pattern=_DNS_LABEL)
            pool_entry = {"name": pool, "spec": {"failureDomain": failure_domain, "replicated": {"size": sc_replicas}},
                          "storageClass": {"enabled": False}}
            same = [p for p in pools if p["name"] == pool]
            if not same:
                pools.append(pool_entry)
            elif same[0] != pool_entry:
                problems.append("%s: StorageClass %s uses pool %s with other replicas/failure_domain than an earlier "
                                "class" % (where, name, pool))
            params.update({
                "pool": pool, "imageFormat": "2", "imageFeatures": sub.text("image_features", "layering"),
                "csi.storage.k8s.io/provisioner-secret-name": "rook-csi-rbd-provisioner",
                "csi.storage.k8s.io/provisioner-secret-namespace": cluster_ns,
                "csi.storage.k8s.io/controller-expand-secret-name": "rook-csi-rbd-provisioner",
                "csi.storage.k8s.io/controller-expand-secret-namespace": cluster_ns,
                "csi.storage.k8s.io/node-stage-secret-name": "rook-csi-rbd-node",
                "csi.storage.k8s.io/node-stage-secret-namespace": cluster_ns,
                "csi.storage.k8s.io/fstype": sub.text("fstype", "ext4"),
            })
            provisioner = rbd
        params.update(sub.str_map("parameters"))
        plan.storage_classes.append(_storage_class(
            name, provisioner, sub.flag("default", False),
            sub.text("reclaim_policy", "Delete", choices=RECLAIM_POLICIES),
            sub.text("volume_binding_mode", "Immediate", choices=BINDING_MODES),
            sub.flag("allow_volume_expansion", True), params, sub.str_list("mount_options"),
            annotations=sub.str_map("annotations")))
    for sub in _read_class_specs(reader, "snapshot_classes", [], problems):
        vs_type = sub.text("type", "block", choices=("block", "filesystem"))
        secret = "rook-csi-cephfs-provisioner" if vs_type == "filesystem" else "rook-csi-rbd-provisioner"
        params = {"clusterID": cluster_ns,
                  "csi.storage.k8s.io/snapshotter-secret-name": secret,
                  "csi.storage.k8s.io/snapshotter-secret-namespace": cluster_ns}
        params.update(sub.str_map("parameters"))
        plan.snapshot_classes.append(_snapshot_class(
            sub.text("name"), cephfs if vs_type == "filesystem" else rbd, sub.flag("default", False),
            sub.text("deletion_policy", "Delete", choices=DELETION_POLICIES), params))

    operator = deep_merge({"crds": {"enabled": True}, "csi": {"installCsiOperator": True}}, operator_values)
    drivers = deep_merge({
        "drivers": {
            "rbd": {"name": rbd, "enabled": True},
            "cephfs": {"name": cephfs, "enabled": True, "cephFsClientType": client_type},
            "nfs": {"name": nfs, "enabled": bool(nfs_enabled)},
        },
        "operatorConfig": {"driverSpecDefaults": {
            "deployCsiAddons": False,
            "controllerPlugin": {"replicas": controller_replicas},
            "nodePlugin": {"kubeletDirPath": kubelet_dir}}},
    }, drivers_values)
    storage = {"useAllNodes": bool(use_all_nodes) and not nodes, "useAllDevices": bool(use_all_devices)}
    if device_filter is not None:
        storage["deviceFilter"] = device_filter
    if osd_devices:
        # the same whole-disk paths the node side checked for eligibility, on every node
        storage["devices"] = [{"name": device} for device in osd_devices]
    if nodes:
        storage["nodes"] = copy.deepcopy([n for n in nodes if isinstance(n, dict)])
    cluster = deep_merge({
        "operatorNamespace": operator_ns,
        "clusterName": cluster_name,
        "csiDriverNamePrefix": prefix,
        "toolbox": {"enabled": bool(toolbox)},
        "monitoring": {"enabled": False},
        "cephClusterSpec": {
            "dataDirHostPath": data_dir,
            "mon": {"count": mon_count, "allowMultiplePerNode": mon_count is not None and mon_count < 3},
            "storage": storage,
        },
        "cephBlockPools": pools,
        "cephFileSystems": filesystems,
        "cephObjectStores": [],
        "cephBlockPoolsVolumeSnapshotClass": {"enabled": False},
        "cephFileSystemVolumeSnapshotClass": {"enabled": False},
    }, cluster_values)

    # classes the cluster chart creates itself when cluster_values turn them on
    for key in ("cephBlockPools", "cephFileSystems", "cephObjectStores"):
        entries = cluster.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.append("%s.cluster_values.%s: must be a list" % (where, key))
            continue
        for entry in entries:
            sc = _get(entry, "storageClass")
            if isinstance(sc, dict) and _truthy(sc.get("enabled")):
                sc_name = sc.get("name") if isinstance(sc.get("name"), _STRING_TYPES) else "<unnamed %s class>" % key
                plan.chart_classes.append((sc_name, _truthy(sc.get("isDefault"))))
    for key, drv in (("cephBlockPoolsVolumeSnapshotClass", rbd), ("cephFileSystemVolumeSnapshotClass", cephfs)):
        vsc = cluster.get(key)
        if isinstance(vsc, dict) and _truthy(vsc.get("enabled")):
            vsc_name = vsc.get("name") if isinstance(vsc.get("name"), _STRING_TYPES) else "<unnamed %s>" % key
            plan.chart_snapshot_classes.append((vsc_name, drv, _truthy(vsc.get("isDefault"))))

    plan.steps.append(_helm_step("rook-ceph", "rook-ceph", operator_ns, "rook-ceph", repo, version, operator,
                                 [_wait_ready("Deployment", "rook-ceph-operator", operator_ns)]))
    plan.steps.append(_helm_step("rook-ceph", "ceph-csi-drivers", operator_ns, "ceph-csi-drivers", drivers_repo,
                                 drivers_version, drivers,
                                 [_wait_ready("Deployment", "ceph-csi-controller-manager", operator_ns)]))
    plan.steps.append(_helm_step("rook-ceph", "rook-ceph-cluster", cluster_ns, "rook-ceph-cluster", repo, version,
                                 cluster))
    for drv in (rbd, cephfs) + ((nfs,) if nfs_enabled else ()):
        plan.waits.append(_wait_csidriver(drv))
        plan.waits.append(_wait_ready("Deployment", "%s-ctrlplugin" % drv, operator_ns))
        plan.waits.append(_wait_ready("DaemonSet", "%s-nodeplugin" % drv, operator_ns))
    plan.waits.append({"api_version": "ceph.rook.io/v1", "kind": "CephCluster", "name": cluster_name,
                       "namespace": cluster_ns, "condition": {"type": "Ready", "status": "True"},
                       "ceph_health": healthy})
    plan.node_requirements = {"kernel_modules": ["rbd"] + (["ceph"] if filesystems else []),
                              "data_dir_host_path": data_dir}
    return plan


def _plan_quobyte(reader, problems):
    plan = _DriverPlan("quobyte")
    where = reader.where
    namespace = reader.text("namespace", "kube-system", pattern=_DNS_LABEL)
    version = _check_version(reader, QUOBYTE_VERSION, problems)
    repo = reader.text("repo", QUOBYTE_REPO)
    registry = reader.text("registry", required=True,
                           what="the Quobyte registry address(es) the clients mount from, e.g. "
                                "'registry1:7861,registry2:7861' or a QNS id")
    api_url = reader.text("api_url", "http://quobyte-api.default.svc.cluster.local:7860")
    if api_url is not None and not re.match(r"^https?://[^\s/]+", api_url):
        problems.append("%s.api_url: must be an http(s) URL, got %r" % (where, api_url))
    provisioner = reader.text("provisioner", "csi.quobyte.com", pattern=_DNS_SUBDOMAIN)
    mount_point = reader.text("client_mount_point", "/home/quobyte")
    if mount_point is not None and (not mount_point.startswith("/") or mount_point.rstrip("/") == ""):
        problems.append("%s.client_mount_point: must be an absolute path other than /, got %r" % (where, mount_point))
    namespace_tenant = reader.flag("use_k8s_namespace_as_tenant", False)
    values_override = reader.mapping("values")
    plan.storage_classes = _common_classes(reader, problems, provisioner or "csi.quobyte.com", [], {})
    for sc in plan.storage_classes:
        if not namespace_tenant and not sc.get("parameters", {}).get("quobyteTenant"):
            problems.append("%s: StorageClass %s needs parameters.quobyteTenant (or use_k8s_namespace_as_tenant: "
                            "true)" % (where, sc["metadata"]["name"]))
    plan.snapshot_classes = _common_snapshot_classes(reader, problems, provisioner or "csi.quobyte.com", {})
    values = deep_merge({"quobyte": {
        "apiURL": api_url,
        "csiProvisionerName": provisioner,
        "clientMountPoint": mount_point,
        "useK8SNamespaceAsTenant": bool(namespace_tenant),
        "enableSnapshots": bool(plan.snapshot_classes),
    }}, values_override)
    dashed = (provisioner or "csi.quobyte.com").replace(".", "-")
    plan.steps.append(_helm_step("quobyte", "quobyte-csi", namespace, "quobyte-csi-driver", repo, version, values))
    plan.waits.append(_wait_csidriver(provisioner or "csi.quobyte.com"))
    plan.waits.append(_wait_ready("StatefulSet", "quobyte-csi-controller-%s" % dashed, namespace))
    plan.node_requirements = {"quobyte_registry": registry, "client_mount_point": mount_point}
    return plan


def _plan_nfs(reader, problems):
    plan = _DriverPlan("nfs")
    where = reader.where
    namespace = reader.text("namespace", "kube-system", pattern=_DNS_LABEL)
    version = _check_version(reader, NFS_VERSION, problems)
    if version is not None and version.startswith("v"):
        problems.append("%s.version: csi-driver-nfs charts have no 'v' prefix since 4.11.0, got %r" % (where, version))
    repo = reader.text("repo", NFS_REPO)
    server = reader.text("server", required=True, what="the NFS server host name or address")
    share = reader.text("share", required=True, what="the exported path, e.g. /export")
    if share is not None and not share.startswith("/"):
        problems.append("%s.share: must be an absolute export path, got %r" % (where, share))
    driver_name = reader.text("driver_name", "nfs.csi.k8s.io", pattern=_DNS_SUBDOMAIN)
    kubelet_dir = reader.text("kubelet_dir", "/var/lib/kubelet")
    values_override = reader.mapping("values")
    base = {}
    if server is not None:
        base["server"] = server
    if share is not None:
        base["share"] = share
    plan.storage_classes = _common_classes(
        reader, problems, driver_name or "nfs.csi.k8s.io", [{"name": "nfs-csi"}], base,
        {"mount_options": ["nfsvers=4.1"]})
    plan.snapshot_classes = _common_snapshot_classes(reader, problems, driver_name or "nfs.csi.k8s.io", base)
    values = deep_merge({
        "driver": {"name": driver_name},
        "kubeletDir": kubelet_dir,
        "controller": {"replicas": 1, "enableSnapshotter": True},
        "externalSnapshotter": {"enabled": False},
        "storageClass": {"create": False},
        "volumeSnapshotClass": {"create": False},
    }, values_override)
    if _truthy(_get(values, "externalSnapshotter", "enabled")):
        plan.snapshot_crds_in_release = True
        if _truthy(_get(values, "volumeSnapshotClass", "create")):
            problems.append("%s.values: volumeSnapshotClass.create with externalSnapshotter.enabled puts a "
                            "VolumeSnapshotClass in the same release as its CRDs (fails: no matches for kind "
                            "VolumeSnapshotClass); create it through snapshot_classes instead" % where)
    if _truthy(_get(values, "storageClass", "create")):
        sc_name = _get(values, "storageClass", "name")
        ann = _get(values, "storageClass", "annotations")
        plan.chart_classes.append((sc_name if isinstance(sc_name, _STRING_TYPES) else "nfs-csi",
                                   _truthy(_get(ann, DEFAULT_SC_ANNOTATION))))
    extra = _get(values, "storageClasses")
    if isinstance(extra, list):
        for entry in extra:
            if isinstance(entry, dict):
                sc_name = entry.get("name") if isinstance(entry.get("name"), _STRING_TYPES) else "<unnamed>"
                ann = _get(entry, "annotations")
                plan.chart_classes.append((sc_name, _truthy(_get(ann, DEFAULT_SC_ANNOTATION))))
    if _truthy(_get(values, "volumeSnapshotClass", "create")):
        vsc_name = _get(values, "volumeSnapshotClass", "name")
        plan.chart_snapshot_classes.append((vsc_name if isinstance(vsc_name, _STRING_TYPES) else "csi-nfs-snapclass",
                                            driver_name, False))
    plan.steps.append(_helm_step("nfs", "csi-driver-nfs", namespace, "csi-driver-nfs", repo, version, values))
    plan.waits.append(_wait_csidriver(driver_name or "nfs.csi.k8s.io"))
    plan.waits.append(_wait_ready("Deployment", "csi-nfs-controller", namespace))
    plan.waits.append(_wait_ready("DaemonSet", "csi-nfs-node", namespace))
    return plan


def _plan_longhorn(reader, problems):
    plan = _DriverPlan("longhorn")
    where = reader.where
    namespace = reader.text("namespace", "longhorn-system", pattern=_DNS_LABEL)
    version = _check_version(reader, LONGHORN_VERSION, problems)
    repo = reader.text("repo", LONGHORN_REPO)
    data_path = reader.text("data_path", "/var/lib/longhorn")
    if data_path is not None and (not data_path.startswith("/") or data_path.rstrip("/") == ""):
        problems.append("%s.data_path: must be an absolute path other than /, got %r" % (where, data_path))
    replicas = reader.integer("replicas", 3, minimum=1)
    kubelet_dir = reader.text("kubelet_dir", "/var/lib/kubelet")
    values_override = reader.mapping("values")
    base = {"numberOfReplicas": str(replicas), "staleReplicaTimeout": "30", "fsType": "ext4",
            "dataLocality": "disabled"}
    plan.storage_classes = _common_classes(reader, problems, "driver.longhorn.io", [{"name": "longhorn"}], base)
    plan.snapshot_classes = _common_snapshot_classes(reader, problems, "driver.longhorn.io", {"type": "snap"})
    values = deep_merge({
        "persistence": {"createStorageClass": False, "defaultClass": False, "defaultClassReplicaCount": replicas},
        "csi": {"kubeletRootDir": kubelet_dir},
        "defaultSettings": {"defaultDataPath": data_path},
    }, values_override)
    if _truthy(_get(values, "persistence", "createStorageClass")) or \
            _truthy(_get(values, "persistence", "defaultClass")):
        # the manager renders class "longhorn" from ConfigMap longhorn-storageclass
        plan.chart_classes.append(("longhorn", _truthy(_get(values, "persistence", "defaultClass"))))
    plan.steps.append(_helm_step("longhorn", "longhorn", namespace, "longhorn", repo, version, values))
    plan.waits.append(_wait_ready("DaemonSet", "longhorn-manager", namespace))
    plan.waits.append(_wait_csidriver("driver.longhorn.io"))
    plan.node_requirements = {"packages": ["open-iscsi", "nfs-common", "cryptsetup", "dmsetup"],
                              "services": ["iscsid"], "data_path": data_path}
    return plan


def _rename_namespace(objects, old, new):
    for obj in objects:
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else None
        if meta is None:
            continue
        if obj.get("kind") == "Namespace" and meta.get("name") == old:
            meta["name"] = new
        if meta.get("namespace") == old:
            meta["namespace"] = new
        subjects = obj.get("subjects")
        for subject in subjects if isinstance(subjects, list) else []:
            if isinstance(subject, dict) and subject.get("namespace") == old:
                subject["namespace"] = new


def _find(objects, kind, name=None):
    for obj in objects:
        if isinstance(obj, dict) and obj.get("kind") == kind and (name is None or _get(obj, "metadata", "name") == name):
            return obj
    return None


def _upstream_objects(upstream, key):
    """Deep copies of the parsed upstream objects for ``key``; ``None`` when absent or not Kubernetes objects."""
    docs = (upstream or {}).get(key)
    if not isinstance(docs, list) or not docs:
        return None
    for doc in docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("kind"), _STRING_TYPES) or \
                not isinstance(_get(doc, "metadata", "name"), _STRING_TYPES) or not _is_json_value(doc):
            return None
    return copy.deepcopy(docs)


def _plan_local_path(reader, problems, upstream):
    plan = _DriverPlan("local-path")
    where = reader.where
    namespace = reader.text("namespace", "local-path-storage", pattern=_DNS_LABEL)
    version = reader.text("version", LOCAL_PATH_VERSION)
    if version is not None and version != LOCAL_PATH_VERSION:
        problems.append("%s.version: only the %s manifest is supported, got %r" % (where, LOCAL_PATH_VERSION, version))
    path = reader.text("path", "/opt/local-path-provisioner")
    if path is not None and (not path.startswith("/") or path.rstrip("/") == ""):
        problems.append("%s.path: must be an absolute path other than /, got %r" % (where, path))
    node_path_map = []
    for index, entry in enumerate(reader.items("node_path_map")):
        node = _get(entry, "node")
        paths = _get(entry, "paths")
        if not isinstance(node, _STRING_TYPES) or not node or not isinstance(paths, list) or \
                not all(isinstance(p, _STRING_TYPES) and p.startswith("/") and p.rstrip("/") for p in paths):
            problems.append("%s.node_path_map[%d]: must be {node: <name>, paths: [<absolute path other than />, ...]}"
                            % (where, index))
            continue
        node_path_map.append({"node": node, "paths": list(paths)})
    image = reader.text("image")
    debug = reader.flag("debug", False)
    specs = _read_class_specs(reader, "storage_classes", [{"name": "local-path"}], problems)
    for sub in _read_class_specs(reader, "snapshot_classes", [], problems):
        problems.append("%s: local-path-provisioner has no snapshot support, remove snapshot_classes entry %r"
                        % (where, sub.text("name")))

    manifest = _upstream_objects(upstream, "local_path")
    if manifest is None:
        problems.append("%s: the local-path-provisioner %s manifest is not available (upstream_dir with %s, from %s)"
                        % (where, LOCAL_PATH_VERSION, UPSTREAM_FILES["local_path"][0], UPSTREAM_URLS["local_path"]))
        return plan
    objects = manifest
    upstream_sc = _find(objects, "StorageClass")
    config = _find(objects, "ConfigMap", "local-path-config")
    deployment = _find(objects, "Deployment", "local-path-provisioner")
    if upstream_sc is None or config is None or deployment is None:
        problems.append("%s: the local-path manifest lacks its StorageClass, ConfigMap local-path-config or "
                        "Deployment local-path-provisioner" % where)
        return plan
    objects = [o for o in objects if o is not upstream_sc]
    if namespace and namespace != "local-path-storage":
        _rename_namespace(objects, "local-path-storage", namespace)
    try:
        raw = _get(config, "data", "config.json")
        cfg = json.loads(raw if isinstance(raw, _STRING_TYPES) and raw else "{}")
    except ValueError as exc:
        problems.append("%s: upstream config.json is not JSON: %s" % (where, exc))
        return plan
    if not isinstance(cfg, dict):
        cfg = {}
    cfg["nodePathMap"] = [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [path]}] + node_path_map
    if not isinstance(config.get("data"), dict):
        config["data"] = {}
    config["data"]["config.json"] = json.dumps(cfg, indent=2, sort_keys=False)
    containers = _get(deployment, "spec", "template", "spec", "containers")
    for container in containers if isinstance(containers, list) else []:
        if isinstance(container, dict) and container.get("name") == "local-path-provisioner":
            if image:
                container["image"] = image
            command = container.get("command")
            if isinstance(command, list):
                command = [c for c in command if c != "--debug"]
                if debug:
                    command.insert(1, "--debug")
                container["command"] = command
    for sub in specs:
        sc = copy.deepcopy(upstream_sc)
        meta = sc["metadata"]
        meta["name"] = sub.text("name")
        if not isinstance(meta.get("labels"), dict):
            meta["labels"] = {}
        meta["labels"]["app.kubernetes.io/managed-by"] = MANAGED_BY
        if not isinstance(meta.get("annotations"), dict):
            meta["annotations"] = {}
        ann = meta["annotations"]
        ann.update(sub.str_map("annotations"))
        ann[DEFAULT_SC_ANNOTATION] = "true" if sub.flag("default", False) else "false"
        sc["reclaimPolicy"] = sub.text("reclaim_policy", sc.get("reclaimPolicy", "Delete"), choices=RECLAIM_POLICIES)
        sc["volumeBindingMode"] = sub.text("volume_binding_mode", sc.get("volumeBindingMode", "WaitForFirstConsumer"),
                                           choices=BINDING_MODES)
        params = sub.str_map("parameters")
        if params:
            sc["parameters"] = params
        mount_options = sub.str_list("mount_options")
        if mount_options:
            sc["mountOptions"] = mount_options
        plan.storage_classes.append(sc)
    source = ("rancher/local-path-provisioner %s deploy/local-path-storage.yaml (namespace, nodePathMap, image, "
              "--debug patched; StorageClass moved to the classes step)" % LOCAL_PATH_VERSION)
    plan.steps.append({"phase": "driver", "kind": "manifest", "driver": "local-path", "name": "local-path-provisioner",
                       "namespace": namespace, "source": source, "objects": objects,
                       "wait": [_wait_ready("Deployment", "local-path-provisioner", namespace)]})
    plan.node_requirements = {"directories": [path] + [p for e in node_path_map for p in e["paths"]]}
    return plan


def _plan_storageos(reader, problems):
    plan = _DriverPlan("storageos")
    if reader.flag("install", True):
        problems.append("%s: StorageOS/Ondat is unmaintained since 2023 (last chart ondat/ondat 0.2.9, March 2023) "
                        "and is never installed; set install: false for an existing legacy cluster (only its "
                        "StorageClasses are then created)" % reader.where)
    plan.storage_classes = _common_classes(reader, problems, "csi.storageos.com", [], {
        "csi.storage.k8s.io/fstype": "ext4",
        "csi.storage.k8s.io/secret-name": "storageos-api",
        "csi.storage.k8s.io/secret-namespace": reader.text("namespace", "storageos", pattern=_DNS_LABEL)})
    plan.snapshot_classes = _common_snapshot_classes(reader, problems, "csi.storageos.com", {})
    return plan


# --------------------------------------------------------------------------- snapshot machinery


def _snapshot_settings(snapshot, problems):
    if snapshot is None:
        snapshot = {}
    if not isinstance(snapshot, dict):
        problems.append("snapshot: must be a mapping, got %s" % type(snapshot).__name__)
        snapshot = {}
    reader = _Reader(snapshot, "snapshot", problems)
    return {
        "crds": reader.text("crds", "managed", choices=SNAPSHOT_MODES),
        "controller": reader.text("controller", "managed", choices=SNAPSHOT_MODES),
        "namespace": reader.text("namespace", "kube-system", pattern=_DNS_LABEL),
        "replicas": reader.integer("replicas", None, minimum=1),
        "image": reader.text("image"),
    }


def _snapshot_steps(settings, upstream, problems):
    steps = []
    if settings["crds"] == "managed":
        crds = _upstream_objects(upstream, "snapshot_crds")
        if crds is None:
            problems.append("snapshot.crds: managed, but the external-snapshotter %s CRDs are not available "
                            "(upstream_dir with %s, from %s)" % (EXTERNAL_SNAPSHOTTER_VERSION,
                                                                 ", ".join(UPSTREAM_FILES["snapshot_crds"]),
                                                                 UPSTREAM_URLS["snapshot_crds"]))
        else:
            objects = crds
            steps.append({"phase": "snapshot-crds", "kind": "manifest", "driver": None, "name": "snapshot-crds",
                          "namespace": None, "objects": objects,
                          "source": "kubernetes-csi/external-snapshotter %s client/config/crd (unmodified)"
                          % EXTERNAL_SNAPSHOTTER_VERSION,
                          "wait": [{"api_version": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                                    "name": _get(o, "metadata", "name"),
                                    "condition": {"type": "Established", "status": "True"}} for o in objects]})
    if settings["controller"] == "managed":
        controller = _upstream_objects(upstream, "snapshot_controller")
        if controller is None:
            problems.append("snapshot.controller: managed, but the external-snapshotter %s snapshot-controller "
                            "manifests are not available (upstream_dir with %s, from %s)"
                            % (EXTERNAL_SNAPSHOTTER_VERSION, ", ".join(UPSTREAM_FILES["snapshot_controller"]),
                               UPSTREAM_URLS["snapshot_controller"]))
        else:
            namespace = settings["namespace"] or "kube-system"
            objects = controller
            _rename_namespace(objects, "kube-system", namespace)
            deployment = _find(objects, "Deployment", "snapshot-controller")
            if deployment is not None:
                if settings["replicas"] is not None:
                    if not isinstance(deployment.get("spec"), dict):
                        deployment["spec"] = {}
                    deployment["spec"]["replicas"] = settings["replicas"]
                containers = _get(deployment, "spec", "template", "spec", "containers")
                if settings["image"] and isinstance(containers, list):
                    for container in containers:
                        if isinstance(container, dict) and container.get("name") == "snapshot-controller":
                            container["image"] = settings["image"]
            steps.append({"phase": "snapshot-controller", "kind": "manifest", "driver": None,
                          "name": "snapshot-controller", "namespace": namespace, "objects": objects,
                          "source": "kubernetes-csi/external-snapshotter %s deploy/kubernetes/snapshot-controller "
                                    "(namespace, replicas, image patched)" % EXTERNAL_SNAPSHOTTER_VERSION,
                          "wait": [_wait_ready("Deployment", "snapshot-controller", namespace)]})
    return steps


# --------------------------------------------------------------------------- entry point


_PLANNERS = {
    "rook-ceph": _plan_rook,
    "quobyte": _plan_quobyte,
    "nfs": _plan_nfs,
    "longhorn": _plan_longhorn,
    "storageos": _plan_storageos,
}


def build_plan(drivers, snapshot=None, upstream=None, kubernetes_version=None):
    """Return the ordered install plan for ``drivers`` or raise ``PlanError`` listing every problem."""
    try:
        return _build_plan(drivers, snapshot, upstream, kubernetes_version)
    except PlanError:
        raise
    except RecursionError:
        raise PlanError(["drivers: input is nested too deeply"])


def _build_plan(drivers, snapshot, upstream, kubernetes_version):
    problems = []
    warnings = []
    if drivers is None:
        drivers = []
    if not isinstance(drivers, (list, tuple)):
        raise PlanError(["drivers: must be a list of mappings, got %s" % type(drivers).__name__])
    settings = _snapshot_settings(snapshot, problems)
    k8s = None
    if kubernetes_version is not None:
        k8s = parse_version(kubernetes_version)
        if k8s is None:
            problems.append("kubernetes_version: %r is not a version (e.g. 1.34.0)" % (kubernetes_version,))
    if upstream is not None and not isinstance(upstream, dict):
        problems.append("upstream: must be a mapping of parsed manifests")
        upstream = {}

    seen_drivers = set()
    driver_plans = []
    for index, entry in enumerate(drivers):
        where = "drivers[%d]" % index
        if not isinstance(entry, dict):
            problems.append("%s: must be a mapping with a name, got %s" % (where, type(entry).__name__))
            continue
        name = entry.get("name")
        if not isinstance(name, _STRING_TYPES) or name not in DRIVERS:
            problems.append("%s.name: unknown driver %r; known drivers: %s" % (where, name, ", ".join(DRIVERS)))
            continue
        where = "drivers[%d] (%s)" % (index, name)
        if name in seen_drivers:
            problems.append("%s: driver %s is listed more than once" % (where, name))
            continue
        seen_drivers.add(name)
        reader = _Reader(entry, where, problems)
        if k8s is not None and name in MIN_KUBERNETES and k8s[:2] < MIN_KUBERNETES[name]:
            problems.append("%s: needs Kubernetes >= %s, kubernetes_version is %s" % (
                where, ".".join(str(p) for p in MIN_KUBERNETES[name]), kubernetes_version))
        if name != "storageos" and reader.flag("install", True) is False:
            driver_plans.append(_DriverPlan(name))
            warnings.append("%s: install: false, nothing is installed or created for this driver" % where)
            continue
        if name == "local-path":
            driver_plan = _plan_local_path(reader, problems, upstream)
        else:
            driver_plan = _PLANNERS[name](reader, problems)
        driver_plans.append(driver_plan)
        warnings.extend(driver_plan.warnings)

    # ---- whole-plan checks
    storage_classes = [sc for p in driver_plans for sc in p.storage_classes]
    snapshot_classes = [vsc for p in driver_plans for vsc in p.snapshot_classes]
    sc_records = [(_get(sc, "metadata", "name"), _get(sc, "metadata", "annotations", DEFAULT_SC_ANNOTATION) == "true",
                   p.name) for p in driver_plans for sc in p.storage_classes]
    sc_records += [(name, default, "%s chart" % p.name) for p in driver_plans for name, default in p.chart_classes]
    vsc_records = [(_get(v, "metadata", "name"), v.get("driver"),
                    _get(v, "metadata", "annotations", DEFAULT_VSC_ANNOTATION) == "true", p.name)
                   for p in driver_plans for v in p.snapshot_classes]
    vsc_records += [(name, drv, default, "%s chart" % p.name)
                    for p in driver_plans for name, drv, default in p.chart_snapshot_classes]

    defaults = ["%s (%s)" % (name, owner) for name, default, owner in sc_records if default]
    if len(defaults) > 1:
        problems.append("more than one default StorageClass: %s; mark exactly one with default: true"
                        % ", ".join(defaults))
    counts = {}
    for name, _default, owner in sc_records:
        counts.setdefault(name, []).append(owner)
    for name in sorted(counts, key=str):
        if len(counts[name]) > 1:
            problems.append("duplicate StorageClass name %s (%s)" % (name, ", ".join(counts[name])))
    counts = {}
    for name, _drv, _default, owner in vsc_records:
        counts.setdefault(name, []).append(owner)
    for name in sorted(counts, key=str):
        if len(counts[name]) > 1:
            problems.append("duplicate VolumeSnapshotClass name %s (%s)" % (name, ", ".join(counts[name])))
    per_driver = {}
    for name, drv, default, _owner in vsc_records:
        if default:
            per_driver.setdefault(drv, []).append(name)
    for drv in sorted(per_driver, key=str):
        if len(per_driver[drv]) > 1:
            problems.append("more than one default VolumeSnapshotClass for driver %s: %s"
                            % (drv, ", ".join(per_driver[drv])))

    if settings["controller"] == "managed" and settings["crds"] == "absent":
        problems.append("snapshot.controller: managed needs the snapshot CRDs (it never becomes ready without "
                        "them), but snapshot.crds is absent")
    crds_in_release = [p.name for p in driver_plans if p.snapshot_crds_in_release]
    crds_available = settings["crds"] in ("managed", "external") or bool(crds_in_release)
    if vsc_records:
        names = ", ".join(str(r[0]) for r in vsc_records)
        if not crds_available:
            problems.append("VolumeSnapshotClass %s requested but the snapshot CRDs are not installed "
                            "(snapshot.crds: absent); set snapshot.crds to managed or external" % names)
        if settings["controller"] == "absent" and not crds_in_release:
            problems.append("VolumeSnapshotClass %s requested but no snapshot-controller runs "
                            "(snapshot.controller: absent); set snapshot.controller to managed or external" % names)
    if crds_in_release and (settings["crds"] == "managed" or settings["controller"] == "managed"):
        problems.append("the %s chart installs the snapshot CRDs and controller itself (externalSnapshotter.enabled) "
                        "while snapshot.crds/controller are managed: set snapshot.crds and snapshot.controller to "
                        "external, or disable externalSnapshotter (one snapshot-controller per cluster)"
                        % ", ".join(crds_in_release))

    steps = _snapshot_steps(settings, upstream, problems)

    if problems:
        raise PlanError(problems)

    if drivers and not any(default for _n, default, _o in sc_records):
        warnings.append("no default StorageClass: PVCs without storageClassName stay Pending; mark one class "
                        "default: true")

    for driver_plan in driver_plans:
        steps.extend(driver_plan.steps)
    class_objects = storage_classes + snapshot_classes
    if class_objects:
        steps.append({"phase": "classes", "kind": "manifest", "driver": None, "name": "storage-classes",
                      "namespace": None, "objects": class_objects, "wait": []})
    waits = [w for p in driver_plans for w in p.waits]
    default_sc = [name for name, default, _o in sc_records if default]
    return {
        "steps": steps,
        "waits": waits,
        "driver_waits": dict((p.name, list(p.waits)) for p in driver_plans if p.waits),
        "snapshot": settings,
        "storage_classes": [name for name, _d, _o in sc_records],
        "default_storage_class": default_sc[0] if default_sc else None,
        "snapshot_classes": [r[0] for r in vsc_records],
        "drivers": [p.name for p in driver_plans],
        "node_requirements": dict((p.name, p.node_requirements) for p in driver_plans if p.node_requirements),
        "warnings": warnings,
    }


def apply_items(plan):
    """Flatten a plan for the role: manifest objects per phase, Helm releases, driver waits.

    ``{"crds": [...], "controller": [...], "helm": [...], "driver_objects": [...], "waits": [...],
    "classes": [...]}``; each manifest item is ``{"object": obj, "wait": bool, "wait_condition": {...}}``.
    """
    out = {"crds": [], "controller": [], "helm": [], "driver_objects": [], "waits": [], "classes": []}
    phase_key = {"snapshot-crds": "crds", "snapshot-controller": "controller", "driver": "driver_objects",
                 "classes": "classes"}
    for step in plan["steps"]:
        if step["kind"] == "helm":
            out["helm"].append(dict((k, v) for k, v in step.items() if k not in ("wait", "phase")))
            out["waits"].extend(step["wait"])
            continue
        key = phase_key[step["phase"]]
        for obj in step["objects"]:
            item = {"object": obj, "wait": False}
            if obj.get("kind") == "CustomResourceDefinition":
                item["wait"] = True
                item["wait_condition"] = {"type": "Established", "status": "True"}
            elif obj.get("kind") in ("Deployment", "DaemonSet", "StatefulSet"):
                item["wait"] = True
            out[key].append(item)
    out["waits"].extend(plan["waits"])
    return out
