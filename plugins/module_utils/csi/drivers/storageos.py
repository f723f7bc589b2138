# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""StorageOS/Ondat: unmaintained since 2023, never installed; with install: false only its classes are created."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import DNS_LABEL

NAME = "storageos"
MIN_KUBERNETES = None


def plan(reader, problems, upstream):
    """Refuses an install; plans the StorageClasses of an existing legacy cluster."""
    del upstream
    result = common.DriverPlan(NAME)
    if reader.flag("install", True):
        problems.append("%s: StorageOS/Ondat is unmaintained since 2023 (last chart ondat/ondat 0.2.9, March 2023) "
                        "and is never installed; set install: false for an existing legacy cluster (only its "
                        "StorageClasses are then created)" % reader.where)
    result.storage_classes = common.common_classes(reader, problems, "csi.storageos.com", [], {
        "csi.storage.k8s.io/fstype": "ext4",
        "csi.storage.k8s.io/secret-name": "storageos-api",
        "csi.storage.k8s.io/secret-namespace": reader.text("namespace", "storageos", pattern=DNS_LABEL)})
    result.snapshot_classes = common.common_snapshot_classes(reader, problems, "csi.storageos.com", {})
    return result
