# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``inventory_key``: a stable, readable directory name for the inventory a run uses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: inventory_key
short_description: A stable directory name for the inventory of this run
version_added: 0.2.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - Returns C(<name>-<hash>), for example C(mycluster-3f2a9c01d4e7) for C(inventory/mycluster/hosts.yaml).
  - The hash is the first 12 hex digits of the sha256 of every inventory source's resolved path (symbolic links
    followed, sorted), so two inventories never share a key and one inventory keeps its key whichever directory
    C(ansible-playbook) runs from. Moving or renaming the inventory gives it a new key.
  - The name is the inventory directory's name (the source itself when it is a directory; its directory when the
    file is called C(hosts) or C(inventory), with any extension; else the file name without extension).
    A comma-separated host list is named C(hosts).
  - The roles key their default controller-side render directories with it
    (C(~/.local/share/kubelayer/rendered/<key>/)), so that two clusters planned by one user never share a Canal node
    subnet state file or overwrite each other's rendered manifests.
options:
  _input:
    description: C(ansible_inventory_sources).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Where this inventory's files are rendered
  ansible.builtin.debug:
    msg: "~/.local/share/kubelayer/rendered/{{ ansible_inventory_sources | kubelayer.runtime.inventory_key }}"
"""

RETURN = r"""
_value:
  description: The key, C(<name>-<12 hex digits>).
  type: str
"""

import os

from ansible_collections.kubelayer.runtime.plugins.module_utils._common.inventory_key import inventory_key as _key


def inventory_key(sources):
    if isinstance(sources, str):
        sources = [sources]
    resolved = []
    for source in sources or []:
        source = str(source)
        if "," in source:
            resolved.append((source, False))
            continue
        path = os.path.realpath(os.path.expanduser(source))
        resolved.append((path, os.path.isdir(path)))
    return _key(resolved)


class FilterModule(object):
    def filters(self):
        return {"inventory_key": inventory_key}
