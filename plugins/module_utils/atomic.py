# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one atomic file write every node module uses.

No Ansible import: ``module`` is the calling AnsibleModule, used only for ``atomic_move``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile


def write_atomic(module, path, data, mode=0o644, prefix=".kubelayer."):
    """Replace ``path`` with ``data`` (bytes): a temporary file in the same directory, synced, then renamed over it.

    The directory is created (0755) when missing. The file ends with ``mode`` whether it is new or replaced, and an
    existing file is narrowed to ``mode`` first, so content such as credentials never sits in a wider-open file.
    A reader sees the old file or the new one, never a partial one; the temporary file never outlives the call.
    """
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    if os.path.isfile(path) and stat.S_IMODE(os.stat(path).st_mode) != mode:
        os.chmod(path, mode)
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        module.atomic_move(tmp, os.path.realpath(path))
        os.chmod(path, mode)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
