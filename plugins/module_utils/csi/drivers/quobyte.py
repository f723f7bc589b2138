# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quobyte: the quobyte-csi-driver Helm chart; the node needs the Quobyte registry (and a client for host mode)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import (
    DNS_SUBDOMAIN, check_host_path, deep_merge)
from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog

NAME = "quobyte"
MIN_KUBERNETES = (1, 22)
REPO, VERSION = catalog.CHARTS["quobyte-csi-driver"][1:3]  # pinned in the one catalog


def plan(reader, problems, upstream):
    """The Quobyte part of the plan (``upstream`` is not used: the driver is a Helm chart)."""
    del upstream
    result = common.DriverPlan(NAME)
    where = reader.where
    namespace, version, repo = common.chart(reader, problems, "kube-system", VERSION, REPO)
    registry = reader.text("registry", required=True,
                           what="the Quobyte registry address(es) the clients mount from, e.g. "
                                "'registry1:7861,registry2:7861' or a QNS id")
    api_url = reader.text("api_url", "http://quobyte-api.default.svc.cluster.local:7860")
    if api_url is not None and not re.match(r"^https?://[^\s/]+", api_url):
        problems.append("%s.api_url: must be an http(s) URL, got %r" % (where, api_url))
    provisioner = reader.text("provisioner", "csi.quobyte.com", pattern=DNS_SUBDOMAIN)
    mount_point = reader.text("client_mount_point", "/home/quobyte")
    check_host_path(where, "client_mount_point", mount_point, problems)
    namespace_tenant = reader.flag("use_k8s_namespace_as_tenant", False)
    values_override = reader.mapping("values")
    result.storage_classes = common.common_classes(reader, problems, provisioner or "csi.quobyte.com", [], {})
    for sc in result.storage_classes:
        if not namespace_tenant and not sc.get("parameters", {}).get("quobyteTenant"):
            problems.append("%s: StorageClass %s needs parameters.quobyteTenant (or use_k8s_namespace_as_tenant: "
                            "true)" % (where, sc["metadata"]["name"]))
    result.snapshot_classes = common.common_snapshot_classes(reader, problems, provisioner or "csi.quobyte.com", {})
    values = deep_merge({"quobyte": {
        "apiURL": api_url,
        "csiProvisionerName": provisioner,
        "clientMountPoint": mount_point,
        "useK8SNamespaceAsTenant": bool(namespace_tenant),
        "enableSnapshots": bool(result.snapshot_classes),
    }}, values_override)
    dashed = (provisioner or "csi.quobyte.com").replace(".", "-")
    result.steps.append(common.helm_step(NAME, "quobyte-csi", namespace, "quobyte-csi-driver", repo, version, values))
    result.waits.append(common.wait_csidriver(provisioner or "csi.quobyte.com"))
    result.waits.append(common.wait_ready("StatefulSet", "quobyte-csi-controller-%s" % dashed, namespace))
    result.node_requirements = {"quobyte_registry": registry, "client_mount_point": mount_point}
    return result
