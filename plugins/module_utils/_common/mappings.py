# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading nested data of any shape (inventory variables, Kubernetes objects, chart values). Private to this
collection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def get(mapping, *path):
    """Nested lookup that tolerates any shape; ``None`` when absent."""
    cur = mapping
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur
