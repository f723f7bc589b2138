# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd releases: parse a version, the config schema version each release reads.

Pure logic, no Ansible imports, stdlib only (imported on the controller and on nodes, python 3.8 syntax).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-~+.].*)?\Z")


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


# containerd's RELEASES.md "Kubernetes Support" table (containerd main, 2026-08): Kubernetes minor -> the oldest
# containerd patch release recommended per containerd minor. A containerd minor the row does not list is not
# supported for that Kubernetes release, unless it is newer than every listed one.
KUBERNETES_SUPPORT = {
    (1, 32): ((2, 1, 0), (2, 0, 1), (1, 7, 24), (1, 6, 36)),
    (1, 33): ((2, 1, 0), (2, 0, 4), (1, 7, 24), (1, 6, 36)),
    (1, 34): ((2, 1, 3), (2, 0, 6), (1, 7, 28), (1, 6, 39)),
    (1, 35): ((2, 2, 0), (2, 1, 5), (1, 7, 28)),
    (1, 36): ((2, 3, 0), (2, 2, 0)),
}


def kubernetes_pair(containerd, kubernetes):
    """(problem, warning) for a containerd release with a Kubernetes release, after containerd's RELEASES.md."""
    kube = tuple(kubernetes[:2])
    table = KUBERNETES_SUPPORT.get(kube)
    if table is None:
        known = "%s to %s" % (format_version(min(KUBERNETES_SUPPORT)), format_version(max(KUBERNETES_SUPPORT)))
        return None, ("kubernetes_version: Kubernetes %s is outside containerd's support table (%s); the pair "
                      "with containerd %s is not checked" % (format_version(kube), known, format_version(containerd)))
    wanted = ", ".join(format_version(v) + "+" for v in table)
    for minimum in table:
        if tuple(containerd[:2]) == minimum[:2]:
            if tuple(containerd) < minimum:
                return ("kubernetes_version: containerd %s is older than %s, the oldest %s.%s release containerd "
                        "supports with Kubernetes %s (RELEASES.md: %s)" % (
                            format_version(containerd), format_version(minimum), minimum[0], minimum[1],
                            format_version(kube), wanted)), None
            return None, None
    if tuple(containerd[:2]) < max(v[:2] for v in table):
        return ("kubernetes_version: containerd %s is not supported with Kubernetes %s (RELEASES.md: %s)"
                % (format_version(containerd), format_version(kube), wanted)), None
    return None, None
