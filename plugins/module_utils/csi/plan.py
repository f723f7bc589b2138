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

Where things are: ``csi/reader.py`` reads the user input, ``csi/drivers/<driver>.py`` plans one driver each (one
interface, see ``csi/drivers/__init__.py``), ``csi/snapshot.py`` the snapshot CRDs and controller,
``csi/sources.py`` the upstream release files. This module runs them and checks the whole plan (one default
StorageClass, unique names, snapshot support for every VolumeSnapshotClass).

Input problems are all collected and raised together as ``PlanError`` (``.problems``); any
input, however malformed, gives either a plan or a ``PlanError``, never another exception.

``upstream`` carries the already parsed upstream manifests (``{key: [objects]}`` with the keys of
``sources.UPSTREAM_FILES``); reading files is the caller's job. Upstream objects are deep-copied before
they are patched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import snapshot as snapshots
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import drivers as driver_modules
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import reader
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import STRING_TYPES, Reader, get


class PlanError(ValueError):
    """Invalid driver list; ``problems`` lists every problem found."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(PlanError, self).__init__("; ".join(self.problems))


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
    settings = snapshots.settings(snapshot, problems)
    k8s = None
    if kubernetes_version is not None:
        k8s = reader.parse_version(kubernetes_version)
        if k8s is None:
            problems.append("kubernetes_version: %r is not a version (e.g. 1.34.0)" % (kubernetes_version,))
    if upstream is not None and not isinstance(upstream, dict):
        problems.append("upstream: must be a mapping of parsed manifests")
        upstream = {}
    driver_plans = _plan_drivers(drivers, k8s, kubernetes_version, upstream, problems, warnings)
    sc_records, vsc_records = _class_records(driver_plans)
    _check_classes(sc_records, vsc_records, problems)
    _check_snapshot_support(settings, driver_plans, vsc_records, problems)
    steps = snapshots.steps(settings, upstream, problems)
    if problems:
        raise PlanError(problems)
    if drivers and not any(default for _n, default, _o in sc_records):
        warnings.append("no default StorageClass: PVCs without storageClassName stay Pending; mark one class "
                        "default: true")
    return _assemble(settings, driver_plans, steps, sc_records, vsc_records, warnings)


def _plan_drivers(drivers, k8s, kubernetes_version, upstream, problems, warnings):
    """One DriverPlan per valid ``csi_drivers`` entry, in order."""
    seen = set()
    driver_plans = []
    for index, entry in enumerate(drivers):
        where = "drivers[%d]" % index
        if not isinstance(entry, dict):
            problems.append("%s: must be a mapping with a name, got %s" % (where, type(entry).__name__))
            continue
        name = entry.get("name")
        if not isinstance(name, STRING_TYPES) or name not in driver_modules.NAMES:
            problems.append("%s.name: unknown driver %r; known drivers: %s"
                            % (where, name, ", ".join(driver_modules.NAMES)))
            continue
        where = "drivers[%d] (%s)" % (index, name)
        if name in seen:
            problems.append("%s: driver %s is listed more than once" % (where, name))
            continue
        seen.add(name)
        entry_reader = Reader(entry, where, problems)
        minimum = driver_modules.BY_NAME[name].MIN_KUBERNETES
        if k8s is not None and minimum is not None and k8s[:2] < minimum:
            problems.append("%s: needs Kubernetes >= %s, kubernetes_version is %s" % (
                where, ".".join(str(p) for p in minimum), kubernetes_version))
        if name != "storageos" and entry_reader.flag("install", True) is False:
            driver_plans.append(common.DriverPlan(name))
            warnings.append("%s: install: false, nothing is installed or created for this driver" % where)
            continue
        driver_plan = driver_modules.BY_NAME[name].plan(entry_reader, problems, upstream)
        driver_plans.append(driver_plan)
        warnings.extend(driver_plan.warnings)
    return driver_plans


def _class_records(driver_plans):
    """(name, default, owner) of every StorageClass and (name, driver, default, owner) of every
    VolumeSnapshotClass, those the plan creates and those a chart creates itself."""
    sc_records = [(get(sc, "metadata", "name"), get(sc, "metadata", "annotations", common.DEFAULT_SC_ANNOTATION) == "true",
                   p.name) for p in driver_plans for sc in p.storage_classes]
    sc_records += [(name, default, "%s chart" % p.name) for p in driver_plans for name, default in p.chart_classes]
    vsc_records = [(get(v, "metadata", "name"), v.get("driver"),
                    get(v, "metadata", "annotations", common.DEFAULT_VSC_ANNOTATION) == "true", p.name)
                   for p in driver_plans for v in p.snapshot_classes]
    vsc_records += [(name, drv, default, "%s chart" % p.name)
                    for p in driver_plans for name, drv, default in p.chart_snapshot_classes]
    return sc_records, vsc_records


def _duplicates(names_owners):
    counts = {}
    for name, owner in names_owners:
        counts.setdefault(name, []).append(owner)
    return [(name, counts[name]) for name in sorted(counts, key=str) if len(counts[name]) > 1]


def _check_classes(sc_records, vsc_records, problems):
    """One default StorageClass at most, unique names, one default VolumeSnapshotClass per CSI driver."""
    defaults = ["%s (%s)" % (name, owner) for name, default, owner in sc_records if default]
    if len(defaults) > 1:
        problems.append("more than one default StorageClass: %s; mark exactly one with default: true"
                        % ", ".join(defaults))
    for name, owners in _duplicates((name, owner) for name, _default, owner in sc_records):
        problems.append("duplicate StorageClass name %s (%s)" % (name, ", ".join(owners)))
    for name, owners in _duplicates((name, owner) for name, _drv, _default, owner in vsc_records):
        problems.append("duplicate VolumeSnapshotClass name %s (%s)" % (name, ", ".join(owners)))
    per_driver = {}
    for name, drv, default, _owner in vsc_records:
        if default:
            per_driver.setdefault(drv, []).append(name)
    for drv in sorted(per_driver, key=str):
        if len(per_driver[drv]) > 1:
            problems.append("more than one default VolumeSnapshotClass for driver %s: %s"
                            % (drv, ", ".join(per_driver[drv])))


def _check_snapshot_support(settings, driver_plans, vsc_records, problems):
    """Every VolumeSnapshotClass has CRDs and a controller; one snapshot-controller per cluster."""
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


def _assemble(settings, driver_plans, steps, sc_records, vsc_records, warnings):
    for driver_plan in driver_plans:
        steps.extend(driver_plan.steps)
    class_objects = [sc for p in driver_plans for sc in p.storage_classes]
    class_objects += [vsc for p in driver_plans for vsc in p.snapshot_classes]
    if class_objects:
        steps.append({"phase": "classes", "kind": "manifest", "driver": None, "name": "storage-classes",
                      "namespace": None, "objects": class_objects, "wait": []})
    default_sc = [name for name, default, _o in sc_records if default]
    return {
        "steps": steps,
        "waits": [w for p in driver_plans for w in p.waits],
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
