# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upstream release files the CSI plan is built from, and the helpers that take them apart.

Pure logic, no Ansible imports. The files are pinned, with their sha256, in ``upstream/catalog.py``. The caller
reads and parses them (``upstream``: ``{key: [objects]}`` with the keys of ``UPSTREAM_FILES``); the planners take
deep copies before they patch anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import STRING_TYPES, get, is_json_value
from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog

EXTERNAL_SNAPSHOTTER_VERSION = catalog.EXTERNAL_SNAPSHOTTER_VERSION
LOCAL_PATH_VERSION = catalog.LOCAL_PATH_VERSION

# Upstream release files (pinned with their sha256 in upstream/catalog.py), relative to ``upstream_dir``.
UPSTREAM_FILES = dict((key, catalog.group_files(key)) for key in ("snapshot_crds", "snapshot_controller", "local_path"))
UPSTREAM_URLS = dict((key, catalog.url(files[0]).rsplit("/", 1)[0] + "/") for key, files in UPSTREAM_FILES.items())


def upstream_objects(upstream, key):
    """Deep copies of the parsed upstream objects for ``key``; ``None`` when absent or not Kubernetes objects."""
    docs = (upstream or {}).get(key)
    if not isinstance(docs, list) or not docs:
        return None
    for doc in docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("kind"), STRING_TYPES) or \
                not isinstance(get(doc, "metadata", "name"), STRING_TYPES) or not is_json_value(doc):
            return None
    return copy.deepcopy(docs)


def rename_namespace(objects, old, new):
    """Move every object (and RBAC subject) of namespace ``old`` to ``new``, the Namespace object too."""
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


def find(objects, kind, name=None):
    """The first object of ``kind`` (and ``name``), or ``None``."""
    for obj in objects:
        if isinstance(obj, dict) and obj.get("kind") == kind and (name is None or get(obj, "metadata", "name") == name):
            return obj
    return None
