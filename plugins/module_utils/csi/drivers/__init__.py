# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One module per CSI driver, all behind one small interface.

A driver module has:

- ``NAME``: the driver's name in ``csi_drivers`` (``rook-ceph``, ``local-path``, ...);
- ``MIN_KUBERNETES``: the oldest Kubernetes ``(major, minor)`` it supports, or ``None``;
- ``plan(reader, problems, upstream)``: reads its ``csi_drivers`` entry through ``reader`` (a
  ``csi.reader.Reader``), appends every problem to ``problems`` (never raises), and returns a
  ``drivers.common.DriverPlan`` (Helm or manifest steps, waits, classes, node requirements). ``upstream`` is the
  parsed upstream release files (``csi.sources``), for drivers installed from a manifest.

``csi/plan.py`` calls them in the order of ``csi_drivers`` and checks the whole plan.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import (
    local_path, longhorn, nfs, quobyte, rook_ceph, storageos)

MODULES = (rook_ceph, quobyte, nfs, local_path, longhorn, storageos)
BY_NAME = dict((module.NAME, module) for module in MODULES)
NAMES = tuple(module.NAME for module in MODULES)
