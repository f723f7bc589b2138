# -*- coding: utf-8 -*-
"""What the node already says: the kubelet's cgroup driver; containerd/Kubernetes pairs (RELEASES.md)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_cgroup as cg
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_versions as cv

FILE = "/var/lib/kubelet/config.yaml (cgroupDriver)"


def test_auto_follows_the_kubelet_file_over_pid1():
    assert cg.resolve_cgroup_driver("auto", True, [("cgroupfs", FILE)]) == ("cgroupfs", [])
    assert cg.resolve_cgroup_driver("auto", False, [("systemd", FILE)]) == ("systemd", [])


def test_auto_without_a_kubelet_follows_pid1():
    assert cg.resolve_cgroup_driver("auto", True, [(None, FILE)]) == ("systemd", [])
    assert cg.resolve_cgroup_driver("auto", False, []) == ("cgroupfs", [])


def test_a_spec_contradicting_the_kubelet_is_refused_naming_both():
    driver, problems = cg.resolve_cgroup_driver("systemd", True, [("cgroupfs", FILE)])
    assert len(problems) == 1
    assert problems[0].startswith("cgroup_driver: systemd contradicts the kubelet")
    assert FILE in problems[0] and "cgroupfs" in problems[0]


def test_kubespray_variable_is_compared_too():
    dummy, problems = cg.resolve_cgroup_driver("cgroupfs", True, [("systemd", "kubelet_cgroup_driver")])
    assert problems and "kubelet_cgroup_driver says systemd" in problems[0]
    dummy, problems = cg.resolve_cgroup_driver("auto", True, [("systemd", FILE), ("cgroupfs", "kubelet_cgroup_driver")])
    assert len(problems) == 1 and "disagrees with itself" in problems[0]


def test_kubelet_file_driver():
    assert cg.kubelet_file_driver({"kind": "KubeletConfiguration", "cgroupDriver": "systemd"}) == "systemd"
    assert cg.kubelet_file_driver({"kind": "KubeletConfiguration"}) is None
    assert cg.kubelet_file_driver("not a mapping") is None
    assert cg.kubelet_file_driver({"cgroupDriver": "nonsense"}) is None


@pytest.mark.parametrize("containerd, kube", [
    ((2, 1, 9), (1, 34, 2)), ((1, 7, 28), (1, 35, 0)), ((2, 3, 0), (1, 36, 1)), ((2, 2, 0), (1, 32, 0)),
    ((1, 6, 36), (1, 32, 0)),
])
def test_supported_pairs(containerd, kube):
    assert cv.kubernetes_pair(containerd, kube) == (None, None)


@pytest.mark.parametrize("containerd, kube, words", [
    ((1, 6, 20), (1, 32, 0), "older than 1.6.36"),     # Debian bookworm's containerd
    ((1, 7, 24), (1, 34, 0), "older than 1.7.28"),     # Debian trixie's
    ((2, 1, 4), (1, 35, 0), "older than 2.1.5"),
    ((1, 7, 34), (1, 36, 0), "not supported with Kubernetes 1.36"),
    ((2, 0, 11), (1, 35, 0), "not supported with Kubernetes 1.35"),
])
def test_unsupported_pairs_are_refused(containerd, kube, words):
    problem, warning = cv.kubernetes_pair(containerd, kube)
    assert problem.startswith("kubernetes_version: ") and words in problem and "RELEASES.md" in problem
    assert warning is None


def test_kubernetes_outside_the_table_warns():
    problem, warning = cv.kubernetes_pair((2, 1, 9), (1, 30, 0))
    assert problem is None and "outside containerd's support table" in warning
