# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysctl.d and modules-load.d files, runtime sysctl paths, and the container check. Private to this collection.

The renderers take values already checked by ``validate`` (``check_sysctl_key``, ``check_sysctl_value``,
``check_kernel_module``) and refuse anything else with ``ValueError``, so a line break can never reach a file that
systemd-sysctl or systemd-modules-load reads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.files import read_bytes


def _checked(checker, option, value):
    problems = []
    checked = checker(option, value, problems)
    if problems:
        raise ValueError(problems[0])
    return checked


def render_sysctl(header, settings):
    """``header`` (a comment, ending in a newline) plus one ``key = value`` line per ``(key, value)``.

    ``settings``: a list of pairs (kept in order) or a dict (sorted by key). ``None`` when there is nothing to set.
    """
    pairs = sorted(settings.items()) if isinstance(settings, dict) else list(settings)
    if not pairs:
        return None
    lines = ["%s = %s\n" % (_checked(validate.check_sysctl_key, "sysctl", key),
                            _checked(validate.check_sysctl_value, "sysctl " + str(key), value)) for key, value in pairs]
    return header + "".join(lines)


def render_modules_load(header, modules):
    """``header`` plus one kernel module name per line, or ``None`` when there is no module."""
    if not modules:
        return None
    return header + "".join("%s\n" % _checked(validate.check_kernel_module, "module", name) for name in modules)


def sysctl_path(key):
    """``net.ipv4.ip_forward`` -> ``/proc/sys/net/ipv4/ip_forward``; the slashed form keeps dots in components."""
    key = _checked(validate.check_sysctl_key, "sysctl", key)
    if "/" in key:
        return "/proc/sys/" + key
    return "/proc/sys/" + key.replace(".", "/")


def is_container(containerenv, dockerenv, pid1_environ):
    """True inside podman/docker/systemd-nspawn style containers (pure: the caller reads the three facts)."""
    if containerenv or dockerenv:
        return True
    return any(item.startswith(b"container=") for item in (pid1_environ or b"").split(b"\x00"))


def in_container():
    """``is_container`` for this host: /run/.containerenv, /.dockerenv, ``container=`` in PID 1's environment."""
    return is_container(os.path.exists("/run/.containerenv"), os.path.exists("/.dockerenv"),
                        read_bytes("/proc/1/environ"))
