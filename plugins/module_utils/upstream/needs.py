# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which upstream file groups a run needs, from the role variables (pure, no I/O)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils._common.booleans import parse_bool


def _enabled(value):
    """Anything but a false boolean-like value (a malformed one is refused later by the planners)."""
    return parse_bool(value) is not False


def needed_groups(network=True, canal_manifest_src=None, csi_drivers=None, snapshot_crds="managed",
                  snapshot_controller="managed"):
    """The catalog groups the network and storage layers will read.

    canal: the network layer runs and no own ``canal_manifest_src`` is given. Storage (only with drivers listed):
    the snapshot CRDs and controller when managed, local-path's manifest when a local-path driver is installed.
    """
    groups = []
    if _enabled(network) and not canal_manifest_src:
        groups.append("canal")
    if not isinstance(csi_drivers, list) or not csi_drivers:
        return groups
    if snapshot_crds == "managed":
        groups.append("snapshot_crds")
    if snapshot_controller == "managed":
        groups.append("snapshot_controller")
    if any(isinstance(d, dict) and d.get("name") == "local-path" and _enabled(d.get("install", True))
           for d in csi_drivers):
        groups.append("local_path")
    return groups
