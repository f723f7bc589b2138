# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every CSI driver planner builds with: the DriverPlan it returns, classes, Helm steps, waits.

Pure logic, no Ansible imports. See ``drivers/__init__.py`` for the interface a driver module implements.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import DNS_LABEL, Reader, name_ok, parse_version

SNAPSHOT_API = "snapshot.storage.k8s.io/v1"
DEFAULT_SC_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
DEFAULT_VSC_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
MANAGED_BY = "kubelayer.runtime.csi_plan"

RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
DELETION_POLICIES = ("Delete", "Retain")


class DriverPlan(object):
    """What one driver contributes to the plan."""

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


def storage_class(name, provisioner, default, reclaim, binding, expansion, parameters, mount_options,
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


def snapshot_class(name, driver, default, deletion, parameters):
    obj = {"apiVersion": SNAPSHOT_API, "kind": "VolumeSnapshotClass",
           "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": MANAGED_BY},
                        "annotations": {DEFAULT_VSC_ANNOTATION: "true" if default else "false"}},
           "driver": driver, "deletionPolicy": deletion}
    if parameters:
        obj["parameters"] = dict(parameters)
    return obj


def read_class_specs(reader, key, defaults, problems):
    """Validate ``storage_classes``/``snapshot_classes`` entries; return a list of readers."""
    entries = reader.items(key, default=defaults)
    out = []
    for index, entry in enumerate(entries):
        where = "%s.%s[%d]" % (reader.where, key, index)
        if not isinstance(entry, dict):
            problems.append("%s: must be a mapping, got %s" % (where, type(entry).__name__))
            continue
        sub = Reader(entry, where, problems)
        name = sub.text("name", required=True)
        if name is not None and not name_ok(name):
            problems.append("%s.name: %r is not a valid object name (lowercase RFC 1123 subdomain)" % (where, name))
            continue
        if name is None:
            continue
        out.append(sub)
    return out


def helm_step(driver, release, namespace, chart, repo, version, values, waits=None):
    return {"phase": "driver", "kind": "helm", "driver": driver, "name": release, "namespace": namespace,
            "chart": chart, "repo": repo, "version": version, "values": values,
            "create_namespace": True, "wait": list(waits or [])}


def wait_ready(kind, name, namespace):
    return {"api_version": "apps/v1", "kind": kind, "name": name, "namespace": namespace}


def wait_csidriver(name):
    return {"api_version": "storage.k8s.io/v1", "kind": "CSIDriver", "name": name}


def common_classes(reader, problems, provisioner, sc_defaults, base_params, sc_defaults_extra=None):
    """Build StorageClass objects for drivers whose classes are plain objects."""
    objs = []
    for sub in read_class_specs(reader, "storage_classes", sc_defaults, problems):
        extra = dict(sc_defaults_extra or {})
        params = dict(base_params)
        params.update(sub.str_map("parameters"))
        objs.append(storage_class(
            sub.text("name"), provisioner, sub.flag("default", False),
            sub.text("reclaim_policy", extra.get("reclaim_policy", "Delete"), choices=RECLAIM_POLICIES),
            sub.text("volume_binding_mode", extra.get("volume_binding_mode", "Immediate"), choices=BINDING_MODES),
            sub.flag("allow_volume_expansion", extra.get("allow_volume_expansion", True)),
            params, sub.str_list("mount_options") or extra.get("mount_options"),
            annotations=sub.str_map("annotations")))
    return objs


def common_snapshot_classes(reader, problems, driver_name, base_params):
    objs = []
    for sub in read_class_specs(reader, "snapshot_classes", [], problems):
        params = dict(base_params)
        params.update(sub.str_map("parameters"))
        objs.append(snapshot_class(sub.text("name"), driver_name, sub.flag("default", False),
                                   sub.text("deletion_policy", "Delete", choices=DELETION_POLICIES), params))
    return objs


def chart(reader, problems, namespace, version, repo):
    """The ``namespace``, ``version`` and ``repo`` of a driver installed from one Helm chart, with their defaults."""
    return (reader.text("namespace", namespace, pattern=DNS_LABEL), check_version(reader, version, problems),
            reader.text("repo", repo))


def check_version(reader, default, problems, minimum=None, what="version"):
    version = reader.text("version", default)
    parsed = parse_version(version)
    if version is not None and parsed is None:
        problems.append("%s.version: %r is not a version (e.g. %s)" % (reader.where, version, default))
    elif minimum is not None and parsed is not None and parsed < minimum:
        problems.append("%s.version: %s is older than %s; %s" % (
            reader.where, version, ".".join(str(p) for p in minimum), what))
    return version
