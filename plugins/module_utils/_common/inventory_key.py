# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stable, readable directory name for one inventory (pure: no I/O; the filter resolves the paths).

``lab-3f2a9c01d4e7`` for ``inventories/lab/hosts.yml``: a readable name (the inventory's directory, or the directory
itself when the source is one) and the first 12 hex digits of the sha256 of every source's resolved path, sorted, so
that two inventories never share a name and the same inventory always gets the same one, wherever ansible-playbook
runs from. A comma-separated host list (``-i node1,node2,``) is hashed as written and named ``hosts``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import posixpath
import re

HASH_DIGITS = 12
NAME_CHARS = 40
# files that say nothing about the cluster: their directory names it (inventory/mycluster/hosts.yaml -> mycluster)
_GENERIC = ("hosts", "inventory", "")


def readable_name(source, is_dir):
    """The human part of the key for one resolved source: a directory's own name; a file's directory when the file
    name is generic (``hosts.yaml``, ``inventory.ini``), else the file name without its extension."""
    if "," in source:
        return "hosts"
    path = source.rstrip("/") or "/"
    base = posixpath.basename(path)
    if not is_dir:
        stem = base.split(".")[0]
        base = posixpath.basename(posixpath.dirname(path)) if stem.lower() in _GENERIC else stem
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-.")[:NAME_CHARS]
    return name or "inventory"


def inventory_key(sources):
    """``<name>-<hash>`` for a list of ``(resolved source, is_dir)``; an empty list is the key of no inventory."""
    resolved = sorted(set(str(s) for s, _d in sources))
    digest = hashlib.sha256("\n".join(resolved).encode("utf-8")).hexdigest()[:HASH_DIGITS]
    first = sorted(sources, key=lambda s: str(s[0]))[0] if sources else ("inventory", True)
    return "%s-%s" % (readable_name(str(first[0]), bool(first[1])), digest)
