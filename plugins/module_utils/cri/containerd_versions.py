# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd releases: parse a version, the config schema version each release reads.

Pure logic, no Ansible imports, stdlib only (imported on the controller and on nodes, python 3.8 syntax).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-~+.].*)?$")


def parse_version(text):
    """``(major, minor, patch)`` from ``2.1.4``, ``v1.7.24``, ``1.6.20~ds1``, or the whole
    ``containerd --version`` line; None when no version is found. Patch defaults to 0."""
    if not isinstance(text, str):
        return None
    for token in text.split():
        m = VERSION.match(token.strip())
        if m:
            return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    return None


def format_version(version):
    return ".".join(str(x) for x in version)


def schema_version(version):
    """config ``version`` to write for a containerd release: 2 (1.x), 3 (2.0-2.2), 4 (2.3+)."""
    major, minor = version[0], version[1]
    if major < 2:
        return 2
    if major == 2 and minor < 3:
        return 3
    return 4


def version_problem(version):
    if version[0] < 1 or (version[0] == 1 and version[1] < 6):
        return "containerd %s is not supported (1.6 or later is needed)" % format_version(version)
    return None


def bin_dirs_supported(version):
    """``cni.bin_dirs`` (a list) exists from containerd 2.1."""
    return tuple(version[:2]) >= (2, 1)
