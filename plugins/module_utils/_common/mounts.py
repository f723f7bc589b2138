# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's mount tables (/proc/self/mountinfo, /proc/swaps) read from their text. Private to this collection.

Pure parsing, no I/O: the caller reads the file (``files.read_bytes``) and hands over its text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_OCTAL = re.compile(r"\\([0-7]{3})")


def unescape_mount_path(path):
    """Undo the octal escapes (``\\040`` for a space, ...) used in /proc/self/mountinfo and /proc/swaps."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), path)


def mountinfo_entries(text):
    """Each well-formed line of /proc/self/mountinfo text as ``(major:minor, mount point, fs type, source)``,
    paths unescaped except the source; a field the line lacks is ``""``, a malformed line is skipped."""
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 7 or "-" not in fields[6:]:
            continue
        sep = fields.index("-", 6)
        fstype = fields[sep + 1] if len(fields) > sep + 1 else ""
        source = fields[sep + 2] if len(fields) > sep + 2 else ""
        yield fields[2], unescape_mount_path(fields[4]), fstype, source


def swap_paths(text):
    """The device or file paths listed in /proc/swaps text."""
    paths = []
    for line in (text or "").splitlines()[1:]:
        fields = line.split()
        if fields:
            paths.append(unescape_mount_path(fields[0]))
    return paths
