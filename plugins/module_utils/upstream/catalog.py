# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that pins every upstream release file the collection uses (pure data and pure helpers).

Each file has a relative path (the layout of an air-gapped directory, of a mirror and of the controller cache:
``<project>-<version>/<file>``), the URL of the release tag and its sha256. Files are grouped by what uses them;
the groups are what callers ask for. No I/O here: the module ``upstream_files`` reads, downloads and writes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

CALICO_VERSION = "v3.32.1"
LOCAL_PATH_VERSION = "v0.0.37"
EXTERNAL_SNAPSHOTTER_VERSION = "v8.6.0"

_GH = "https://raw.githubusercontent.com/"
_SNAP_CRD = _GH + "kubernetes-csi/external-snapshotter/%s/client/config/crd/" % EXTERNAL_SNAPSHOTTER_VERSION
_SNAP_CTRL = _GH + "kubernetes-csi/external-snapshotter/%s/deploy/kubernetes/snapshot-controller/" \
    % EXTERNAL_SNAPSHOTTER_VERSION
_SNAP_DIR = "external-snapshotter-%s/" % EXTERNAL_SNAPSHOTTER_VERSION

# relative path -> (group, URL, sha256)
FILES = {
    "calico-%s/canal.yaml" % CALICO_VERSION: (
        "canal", _GH + "projectcalico/calico/%s/manifests/canal.yaml" % CALICO_VERSION,
        "aa58a7b245586a90d75d969b9184326f6218acea7e4951ce2931113cd8e91e39"),
    _SNAP_DIR + "crd/snapshot.storage.k8s.io_volumesnapshotclasses.yaml": (
        "snapshot_crds", _SNAP_CRD + "snapshot.storage.k8s.io_volumesnapshotclasses.yaml",
        "75e6565aac2c0f2949ed13ea884bbaa388cb7be576b558b709cf1168e011828d"),
    _SNAP_DIR + "crd/snapshot.storage.k8s.io_volumesnapshotcontents.yaml": (
        "snapshot_crds", _SNAP_CRD + "snapshot.storage.k8s.io_volumesnapshotcontents.yaml",
        "895a3c1e73b60f06a0deb566dd123d01bdf1b2efc5d5ff5231ff8bbcf42dafc7"),
    _SNAP_DIR + "crd/snapshot.storage.k8s.io_volumesnapshots.yaml": (
        "snapshot_crds", _SNAP_CRD + "snapshot.storage.k8s.io_volumesnapshots.yaml",
        "b032116e987fb1d7d93cec7d942833adeb9d95c9bdc7e00c10b280c2fe4a6c33"),
    _SNAP_DIR + "snapshot-controller/rbac-snapshot-controller.yaml": (
        "snapshot_controller", _SNAP_CTRL + "rbac-snapshot-controller.yaml",
        "99c4ac480b6c9563be0d85599e29cc7b68b25a82d250b0e789726727551e8d38"),
    _SNAP_DIR + "snapshot-controller/setup-snapshot-controller.yaml": (
        "snapshot_controller", _SNAP_CTRL + "setup-snapshot-controller.yaml",
        "920166ff9001203e9def2504903eb196cd1da55d520f022807cc6ac82ef8eeba"),
    "local-path-provisioner-%s/local-path-storage.yaml" % LOCAL_PATH_VERSION: (
        "local_path", _GH + "rancher/local-path-provisioner/%s/deploy/local-path-storage.yaml" % LOCAL_PATH_VERSION,
        "9781b39c24f3f651bd6d6e41b561e04e4904bbdb6d4f8c7a6009df3a702dcd65"),
}

GROUPS = ("canal", "snapshot_crds", "snapshot_controller", "local_path")

# Helm charts the storage drivers install: never downloaded by the collection itself. Helm (kubernetes.core.helm on
# the controller, with csi_kubeconfig) or the user's Helm/Flux (render for GitOps) pulls ``chart`` at ``version``
# from ``repo``; the drivers' planners (csi/drivers/) use these pins. ``sha256`` is the chart tarball's, only where
# it was verified against upstream's own published tarball and index.yaml digest; None where no upstream source
# could be checked (docs/storage.md#helm-charts says which and why). Never an unverified value.
# chart -> (driver, repo, version, sha256 or None)
CHARTS = {
    "csi-driver-nfs": ("nfs", "https://kubernetes-csi.github.io/csi-driver-nfs", "4.13.4",
                       # charts/v4.13.4/csi-driver-nfs-4.13.4.tgz of kubernetes-csi/csi-driver-nfs (d3b27c00) and
                       # the digest of 4.13.4 in its charts/index.yaml
                       "3b923d981776f37b19808a3ad790d88517ff437ffce6fa1b97e3a10bb5f771a6"),
    "longhorn": ("longhorn", "https://charts.longhorn.io", "1.12.1", None),
    "rook-ceph": ("rook-ceph", "https://charts.rook.io/release", "v1.20.6", None),
    "rook-ceph-cluster": ("rook-ceph", "https://charts.rook.io/release", "v1.20.6", None),
    "ceph-csi-drivers": ("rook-ceph", "https://ceph.github.io/ceph-csi-operator", "1.0.4", None),
    "quobyte-csi-driver": ("quobyte", "https://quobyte.github.io/quobyte-csi-driver/helm", "2.2.0", None),
}
CANAL_MANIFEST = "calico-%s/canal.yaml" % CALICO_VERSION

# What a user sets to point the collection at a copy of these files (named in every failure).
DIRECTORY_VARIABLE = "kubelayer_upstream_dir"
DIRECTORY_ENV = "KUBELAYER_UPSTREAM_DIR"
MIRROR_VARIABLE = "kubelayer_upstream_mirror_url"
MIRROR_ENV = "KUBELAYER_UPSTREAM_MIRROR_URL"
CACHE_ENV = "KUBELAYER_UPSTREAM_CACHE_DIR"
DEFAULT_CACHE_DIR = "~/.cache/kubelayer/upstream"


def group_files(group):
    """Relative paths of the files of ``group``, sorted (the order callers load them in)."""
    return sorted(path for path, entry in FILES.items() if entry[0] == group)


def files_for(groups):
    """Relative paths for a list of groups, each once, in catalog order; unknown groups raise ValueError."""
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise ValueError("unknown group(s) %s; known: %s" % (", ".join(map(str, unknown)), ", ".join(GROUPS)))
    return [path for group in GROUPS if group in groups for path in group_files(group)]


def sha256(relpath):
    return FILES[relpath][2]


def url(relpath, mirror_url=None):
    """Where ``relpath`` is downloaded from: the mirror base URL + the relative path, or the pinned release URL."""
    if mirror_url:
        return mirror_url.rstrip("/") + "/" + relpath
    return FILES[relpath][1]


def digest(data):
    return hashlib.sha256(data).hexdigest()


def mismatch(relpath, data):
    """None when ``data`` is the pinned file, else the actual sha256."""
    actual = digest(data)
    return None if actual == sha256(relpath) else actual
