# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``upstream_groups``: which pinned upstream file groups a run needs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: upstream_groups
short_description: The upstream release file groups the network and storage layers need
version_added: 0.2.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - Returns the O(kubelayer.runtime.upstream_files#module:files) groups a run reads, so that the plan phase checks
    exactly those and names only files that are really needed.
  - V(canal) when the network layer runs and no own C(canal_manifest_src) is given; with storage drivers listed,
    V(snapshot_crds) and V(snapshot_controller) when managed, and V(local_path) when a local-path driver is installed.
options:
  _input:
    description: C(csi_drivers), the storage driver list (empty for no storage).
    type: list
    elements: raw
    required: true
  network:
    description: Whether the network layer runs (C(kubelayer_network)).
    type: raw
    default: true
  canal_manifest_src:
    description: The user's own Canal manifest (C(canal_manifest_src)); empty means the pinned one.
    type: str
  snapshot_crds:
    description: C(csi_snapshot_crds).
    type: str
    default: managed
  snapshot_controller:
    description: C(csi_snapshot_controller).
    type: str
    default: managed
"""

EXAMPLES = r"""
- name: Fetch what the run needs
  kubelayer.runtime.upstream_files:
    files: "{{ csi_drivers | kubelayer.runtime.upstream_groups(network=kubelayer_network | default(true)) }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: Group names, in catalog order.
  type: list
  elements: str
"""

from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream.needs import needed_groups


def upstream_groups(csi_drivers, network=True, canal_manifest_src=None, snapshot_crds="managed",
                    snapshot_controller="managed"):
    return needed_groups(network=network, canal_manifest_src=canal_manifest_src, csi_drivers=csi_drivers,
                         snapshot_crds=snapshot_crds, snapshot_controller=snapshot_controller)


class FilterModule(object):
    def filters(self):
        return {"upstream_groups": upstream_groups}
