# -*- coding: utf-8 -*-
"""The pinned upstream catalog, the groups a run needs, and the one failure message (pure logic)."""
import os
import re

import pytest

from kubelayer_paths import upstream_dir

from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog, report
from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream.needs import needed_groups


def test_every_file_is_pinned_to_a_release_tag_with_a_sha256():
    assert set(entry[0] for entry in catalog.FILES.values()) == set(catalog.GROUPS)
    for relpath, (_group, url, sha) in catalog.FILES.items():
        assert re.match(r"^[0-9a-f]{64}$", sha), relpath
        version = relpath.split("/", maxsplit=1)[0].rsplit("-", 1)[1]
        assert url.startswith("https://raw.githubusercontent.com/") and "/%s/" % version in url, (relpath, url)
        assert url.endswith("/" + os.path.basename(relpath))


def test_the_pinned_sha256_are_those_of_the_upstream_files():
    for relpath in catalog.FILES:
        with open(os.path.join(upstream_dir(), relpath), "rb") as handle:
            assert catalog.mismatch(relpath, handle.read()) is None, relpath


def test_files_for_groups_in_catalog_order():
    assert catalog.files_for(["local_path", "canal"]) == [
        "calico-v3.32.1/canal.yaml", "local-path-provisioner-v0.0.37/local-path-storage.yaml"]
    assert len(catalog.files_for(list(catalog.GROUPS))) == len(catalog.FILES) == 7
    assert catalog.files_for([]) == []
    with pytest.raises(ValueError, match="unknown group"):
        catalog.files_for(["helm"])


def test_mirror_url_replaces_the_release_url_by_relative_path():
    rel = catalog.CANAL_MANIFEST
    assert catalog.url(rel) == "https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests/canal.yaml"
    assert catalog.url(rel, "http://mirror:8080/up/") == "http://mirror:8080/up/calico-v3.32.1/canal.yaml"
    assert report.source(rel, "/srv/up/", "http://m") == ("directory", "/srv/up/calico-v3.32.1/canal.yaml")
    assert report.source(rel, None, "http://m") == ("mirror_url", "http://m/calico-v3.32.1/canal.yaml")
    assert report.source(rel) == ("files", catalog.url(rel))


def test_a_changed_byte_is_a_mismatch():
    assert catalog.mismatch(catalog.CANAL_MANIFEST, b"kind: ConfigMap\n") == catalog.digest(b"kind: ConfigMap\n")


def test_failure_names_every_file_and_the_overrides():
    msg = report.failure(["calico-v3.32.1/canal.yaml"], ["local-path-provisioner-v0.0.37/local-path-storage.yaml"],
                         "/c")
    for word in ("calico-v3.32.1/canal.yaml", "local-path-provisioner-v0.0.37/local-path-storage.yaml",
                 "kubelayer_upstream_dir", "KUBELAYER_UPSTREAM_DIR", "kubelayer_upstream_mirror_url",
                 "KUBELAYER_UPSTREAM_MIRROR_URL", "/c", "sha256 mismatch"):
        assert word in msg
    problem = report.refused_problem("mirror_url", catalog.CANAL_MANIFEST, "http://m/x", "ab" * 32)
    assert problem.startswith("mirror_url: calico-v3.32.1/canal.yaml ") and catalog.sha256(catalog.CANAL_MANIFEST) in problem


@pytest.mark.parametrize("kwargs, groups", [
    ({}, ["canal"]),
    ({"network": False}, []),
    ({"network": "no"}, []),
    ({"canal_manifest_src": "/srv/my-canal.yaml"}, []),
    ({"csi_drivers": [{"name": "nfs"}]}, ["canal", "snapshot_crds", "snapshot_controller"]),
    ({"network": False, "csi_drivers": [{"name": "local-path"}], "snapshot_crds": "external",
      "snapshot_controller": "absent"}, ["local_path"]),
    ({"network": False, "csi_drivers": [{"name": "local-path", "install": "false"}],
      "snapshot_crds": "external", "snapshot_controller": "external"}, []),
    ({"network": False, "csi_drivers": [{"name": "local-path", "install": False}, {"name": "local-path"}]},
     ["snapshot_crds", "snapshot_controller", "local_path"]),
    ({"network": False, "csi_drivers": "not a list"}, []),
    ({"network": False, "csi_drivers": [None, 3]}, ["snapshot_crds", "snapshot_controller"]),
])
def test_needed_groups(kwargs, groups):
    assert needed_groups(**kwargs) == groups


def test_the_chart_pins_are_the_drivers_and_the_docs_and_a_sha256_only_where_verified():
    from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import longhorn, nfs, quobyte, rook_ceph
    assert (nfs.REPO, nfs.VERSION) == catalog.CHARTS["csi-driver-nfs"][1:3]
    assert (longhorn.REPO, longhorn.VERSION) == catalog.CHARTS["longhorn"][1:3]
    assert (quobyte.REPO, quobyte.VERSION) == catalog.CHARTS["quobyte-csi-driver"][1:3]
    assert (rook_ceph.REPO, rook_ceph.VERSION) == catalog.CHARTS["rook-ceph"][1:3] == catalog.CHARTS["rook-ceph-cluster"][1:3]
    assert (rook_ceph.CEPH_CSI_REPO, rook_ceph.CEPH_CSI_DRIVERS_VERSION) == catalog.CHARTS["ceph-csi-drivers"][1:3]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))))
    with open(os.path.join(root, "docs", "storage.md")) as handle:
        rows = re.findall(r"^\| `([a-z-]+)` \| `(https://[^`]+)` \| (\S+) \| (?:`([0-9a-f]{64})`|not pinned) \|$",
                          handle.read(), re.M)
    assert dict((chart, (repo, version, sha or None)) for chart, repo, version, sha in rows) == dict(
        (chart, entry[1:]) for chart, entry in catalog.CHARTS.items())
    assert catalog.CHARTS["csi-driver-nfs"][3] == "3b923d981776f37b19808a3ad790d88517ff437ffce6fa1b97e3a10bb5f771a6"
