# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pinned release files of the OCI runtimes that the distribution does not package (kata, gVisor), pure data.

Each file has a relative path, which is the layout of an air-gapped mirror (``<project>-<version>/<file>``), as in
``upstream/catalog.py``. It also has the release URL and a checksum (``sha256:`` or ``sha512:``, the algorithm the
project publishes). The checksums are the ones kubespray pins in ``roles/kubespray_defaults/vars/main/checksums.yml``
(commit 46dbdd3994b3, 2026-08-21). They could not be compared with the release servers from here (GitHub and
storage.googleapis.com are unreachable). crun comes from the distribution (apt ``crun``). No checksum is pinned for
the NVIDIA Container Toolkit; the role takes its package URLs and sha256 from the inventory.

No I/O here: the containerd role downloads with ``get_url`` on the node, and checks each file against this checksum.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

KATA_VERSION = "3.32.0"
GVISOR_VERSION = "20260817.0"

_KATA_URL = "https://github.com/kata-containers/kata-containers/releases/download/%s/kata-static-%s-%s.tar.zst"
_GVISOR_URL = "https://storage.googleapis.com/gvisor/releases/release/%s/%s/%s"

# gVisor names its release directories by the kernel's machine name
GVISOR_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}

# (artifact, containerd arch) -> (relative path, URL, checksum)
FILES = {
    ("kata", "amd64"): (
        "kata-containers-%s/kata-static-%s-amd64.tar.zst" % (KATA_VERSION, KATA_VERSION),
        _KATA_URL % (KATA_VERSION, KATA_VERSION, "amd64"),
        "sha256:1449ecea50bd91fa73a94648db195d18950fe869ba4b1f12d05f55f1fa7c1b01"),
    ("kata", "arm64"): (
        "kata-containers-%s/kata-static-%s-arm64.tar.zst" % (KATA_VERSION, KATA_VERSION),
        _KATA_URL % (KATA_VERSION, KATA_VERSION, "arm64"),
        "sha256:8736c054d9223974735394f822000823baef509e1c33405ec798240fa9b6e4b5"),
    ("runsc", "amd64"): (
        "gvisor-%s/x86_64/runsc" % GVISOR_VERSION, _GVISOR_URL % (GVISOR_VERSION, "x86_64", "runsc"),
        "sha512:84936438d583ec976800f464e75a83e1515f0890b451b9b4db219c4472b54ca9"
        "b106a6772ee683f1e64cce2128871d7637b14d800591f8451b8137f6c39fb2ef"),
    ("runsc", "arm64"): (
        "gvisor-%s/aarch64/runsc" % GVISOR_VERSION, _GVISOR_URL % (GVISOR_VERSION, "aarch64", "runsc"),
        "sha512:6394fd161a4af0dc9a2c29f75c3016d05275a55744f124e12023fa7666a9f161"
        "c68d6ce3803ad49205c6a7b5bee0ad2ccf48edff340db344fdafec678c788aa4"),
    ("containerd-shim-runsc-v1", "amd64"): (
        "gvisor-%s/x86_64/containerd-shim-runsc-v1" % GVISOR_VERSION,
        _GVISOR_URL % (GVISOR_VERSION, "x86_64", "containerd-shim-runsc-v1"),
        "sha512:b60d1c418b841ab046951cc7a91f490a221198fbe81ec55dc364432578fddd44"
        "e97063793ce6651be397af2f64ec47170dff77a45db277819c3fb08fec9f3ced"),
    ("containerd-shim-runsc-v1", "arm64"): (
        "gvisor-%s/aarch64/containerd-shim-runsc-v1" % GVISOR_VERSION,
        _GVISOR_URL % (GVISOR_VERSION, "aarch64", "containerd-shim-runsc-v1"),
        "sha512:a7c0147f635938225e41c9660b95ba5235121a142c11830794e2a52b47278354"
        "7e2b089bdba4f1344d30f65aeee651b377a1cafadd262a134f5e1ac10c6bf4bb"),
}

ARCHES = ("amd64", "arm64")


def release_file(artifact, arch, mirror_url=None):
    """(url, checksum, relative path) of a pinned file; the mirror base URL + relative path when a mirror is set.

    Raises KeyError for an artifact or architecture that is not pinned."""
    relpath, url, checksum = FILES[(artifact, arch)]
    if mirror_url:
        url = mirror_url.rstrip("/") + "/" + relpath
    return url, checksum, relpath
