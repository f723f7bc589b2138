# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Longhorn: the longhorn Helm chart; the node needs open-iscsi, nfs-common, cryptsetup, dmsetup and iscsid."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import (
    check_host_path, deep_merge, get, truthy)
from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog

NAME = "longhorn"
MIN_KUBERNETES = (1, 25)
REPO, VERSION = catalog.CHARTS["longhorn"][1:3]  # pinned in the one catalog


def plan(reader, problems, upstream):
    """The Longhorn part of the plan (``upstream`` is not used: the driver is a Helm chart)."""
    del upstream
    result = common.DriverPlan(NAME)
    namespace, version, repo = common.chart(reader, problems, "longhorn-system", VERSION, REPO)
    data_path = reader.text("data_path", "/var/lib/longhorn")
    check_host_path(reader.where, "data_path", data_path, problems)
    replicas = reader.integer("replicas", 3, minimum=1)
    kubelet_dir = reader.text("kubelet_dir", "/var/lib/kubelet")
    values_override = reader.mapping("values")
    base = {"numberOfReplicas": str(replicas), "staleReplicaTimeout": "30", "fsType": "ext4",
            "dataLocality": "disabled"}
    result.storage_classes = common.common_classes(reader, problems, "driver.longhorn.io", [{"name": "longhorn"}],
                                                   base)
    result.snapshot_classes = common.common_snapshot_classes(reader, problems, "driver.longhorn.io",
                                                             {"type": "snap"})
    values = deep_merge({
        "persistence": {"createStorageClass": False, "defaultClass": False, "defaultClassReplicaCount": replicas},
        "csi": {"kubeletRootDir": kubelet_dir},
        "defaultSettings": {"defaultDataPath": data_path},
    }, values_override)
    if truthy(get(values, "persistence", "createStorageClass")) or truthy(get(values, "persistence", "defaultClass")):
        # the manager renders class "longhorn" from ConfigMap longhorn-storageclass
        result.chart_classes.append(("longhorn", truthy(get(values, "persistence", "defaultClass"))))
    result.steps.append(common.helm_step(NAME, "longhorn", namespace, "longhorn", repo, version, values))
    result.waits.append(common.wait_ready("DaemonSet", "longhorn-manager", namespace))
    result.waits.append(common.wait_csidriver("driver.longhorn.io"))
    result.node_requirements = {"packages": ["open-iscsi", "nfs-common", "cryptsetup", "dmsetup"],
                                "services": ["iscsid"], "data_path": data_path}
    return result
