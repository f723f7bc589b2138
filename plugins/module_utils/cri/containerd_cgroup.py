# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cgroup driver containerd's runc handlers get: the kubelet's when the kubelet says one, else the spec's,
else PID 1's. A spec that contradicts the kubelet is refused with a message naming both.

Pure logic, no Ansible imports, stdlib only (imported on the controller and on nodes, python 3.8 syntax).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DRIVERS = ("systemd", "cgroupfs")


def kubelet_file_driver(config):
    """``cgroupDriver`` of a parsed KubeletConfiguration (a dict), or None when it does not say."""
    if not isinstance(config, dict):
        return None
    value = config.get("cgroupDriver")
    return value if value in DRIVERS else None


def resolve_cgroup_driver(requested, pid1_systemd, kubelet=None):
    """(driver, problems). ``kubelet`` is a list of (driver, source) pairs the kubelet's side says
    (its config file, kubespray's kubelet_cgroup_driver); None drivers are ignored."""
    said = [(d, src) for d, src in (kubelet or []) if d]
    problems = []
    for driver, source in said:
        for other, other_source in said:
            if other != driver and source < other_source:
                problems.append("cgroup_driver: the kubelet's side disagrees with itself: %s says %s, %s says %s"
                                % (source, driver, other_source, other))
    if requested in DRIVERS:
        for driver, source in said:
            if driver != requested:
                problems.append("cgroup_driver: %s contradicts the kubelet, %s says %s; containerd and the kubelet "
                                "must use the same cgroup driver" % (requested, source, driver))
        return requested, problems
    if said:
        return said[0][0], problems
    return ("systemd" if pid1_systemd else "cgroupfs"), problems
