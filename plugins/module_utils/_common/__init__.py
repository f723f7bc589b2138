# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared host-file helpers of kubelayer.runtime.

PRIVATE TO THIS COLLECTION: this package is not a public API. Its modules and functions may change or disappear in
any release without notice; other collections and playbooks must not import them (as in community.crypto's
``module_utils/_*`` packages).

* ``problems``: the one failure shape (``msg`` plus ``problems``, each problem starting with its option).
* ``booleans``: the one boolean parser.
* ``validate``: checks every module runs on its options before any I/O (text, paths, numbers, name grammars,
  duplicates, conflicts).
* ``files``: the one way to read a host file and the one safe write path (validate every destination first,
  write atomically, never through a symlink, roll back what this run changed when a later write fails).
* ``kernel``: the sysctl.d and modules-load.d renderers and the container check.
* ``mounts``: /proc/self/mountinfo and /proc/swaps parsed from their text.
* ``mappings``: nested lookups in data of any shape.

Nodes run this code: stdlib only, Python 3.9 syntax, no Ansible imports.
"""
