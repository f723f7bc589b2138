# -*- coding: utf-8 -*-
"""The containerd role's runtime plan: handlers in containerd_config's shape, install plan, RuntimeClasses.

The rendered config of each enabled kind is checked through the real merge (containerd_merge.merge) for every
config version, so what the role asks for is what containerd would read; the lab cannot run kata, gVisor or nvidia.
"""
import tomllib

import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_merge as cm
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_spec as cs
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import runtime_catalog as catalog
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.runtime_plan import runtime_plan

RUNC = {"name": "runc", "type": "io.containerd.runc.v2", "options": {"Root": "", "SystemdCgroup": "true"},
        "base_runtime_spec": "cri-base.json"}


def plan(**kw):
    params = {"runc_runtime": RUNC, "additional_runtimes": [], "cfg_dir": "/etc/containerd",
              "bin_dir": "/usr/local/bin", "download_dir": "/var/cache/kubelayer", "arch": "amd64"}
    params.update(kw)
    return runtime_plan(params)


def test_kubespray_runc_item_becomes_the_runc_handler():
    out = plan()
    assert out["runtimes"] == {"runc": {"kind": "runc", "runtime_type": "io.containerd.runc.v2",
                                        "settings": {"base_runtime_spec": "/etc/containerd/cri-base.json"}}}
    assert out["classes"] == [{"name": "runc", "handler": "runc"}]
    assert out["packages"] == [] and out["downloads"] == [] and out["binaries"] == [] and out["problems"] == []


def test_crun_from_the_distribution():
    out = plan(crun=True)
    assert out["runtimes"]["crun"] == {"kind": "crun"}
    assert out["packages"] == ["crun"]
    assert out["binaries"] == ["/usr/bin/crun"]
    assert out["downloads"] == []
    assert {"name": "crun", "handler": "crun"} in out["classes"]


def test_kata_as_kubespray_names_it_with_its_overhead():
    out = plan(kata=True)
    rt = out["runtimes"]["kata-qemu"]
    assert rt["runtime_type"] == "io.containerd.kata-qemu.v2"
    assert rt["binary"] == "/opt/kata/bin/containerd-shim-kata-v2"
    assert {"name": "kata-qemu", "handler": "kata-qemu", "overhead": {"cpu": "250m", "memory": "160Mi"}} in out["classes"]
    (dl,) = out["downloads"]
    assert dl["url"] == ("https://github.com/kata-containers/kata-containers/releases/download/3.32.0/"
                         "kata-static-3.32.0-amd64.tar.zst")
    assert dl["checksum"] == "sha256:1449ecea50bd91fa73a94648db195d18950fe869ba4b1f12d05f55f1fa7c1b01"
    assert dl["unpack"] == "/" and dl["dest"] == "/var/cache/kubelayer/kata-static-3.32.0-amd64.tar.zst"
    assert "zstd" in out["packages"]


def test_gvisor_handler_runsc_class_gvisor_binaries_in_bin_dir():
    out = plan(gvisor=True, arch="arm64")
    assert out["runtimes"]["runsc"] == {"kind": "gvisor"}
    assert {"name": "gvisor", "handler": "runsc"} in out["classes"]
    assert [d["url"] for d in out["downloads"]] == [
        "https://storage.googleapis.com/gvisor/releases/release/20260817.0/aarch64/runsc",
        "https://storage.googleapis.com/gvisor/releases/release/20260817.0/aarch64/containerd-shim-runsc-v1"]
    assert all(d["checksum"].startswith("sha512:") and len(d["checksum"]) == 7 + 128 for d in out["downloads"])
    assert out["binaries"] == ["/usr/local/bin/runsc", "/usr/local/bin/containerd-shim-runsc-v1"]


def test_mirror_keeps_the_layout_and_the_checksum():
    out = plan(gvisor=True, kata=True, mirror_url="http://mirror.lab:8000/up/")
    urls = sorted(d["url"] for d in out["downloads"])
    assert urls == ["http://mirror.lab:8000/up/gvisor-20260817.0/x86_64/containerd-shim-runsc-v1",
                    "http://mirror.lab:8000/up/gvisor-20260817.0/x86_64/runsc",
                    "http://mirror.lab:8000/up/kata-containers-3.32.0/kata-static-3.32.0-amd64.tar.zst"]
    pinned = dict((catalog.FILES[k][1], catalog.FILES[k][2]) for k in catalog.FILES)
    assert sorted(d["checksum"] for d in out["downloads"]) == sorted(
        pinned[u] for u in [catalog.FILES[("kata", "amd64")][1], catalog.FILES[("runsc", "amd64")][1],
                            catalog.FILES[("containerd-shim-runsc-v1", "amd64")][1]])


def test_nvidia_needs_pinned_packages():
    out = plan(nvidia=True)
    assert out["problems"] and out["problems"][0].startswith("containerd_nvidia_packages: ")
    debs = [{"url": "https://mirror.lab/nvidia-container-toolkit_1.17.8-1_amd64.deb", "sha256": "a" * 64}]
    out = plan(nvidia=True, nvidia_packages=debs)
    assert out["problems"] == []
    assert out["debs"] == ["/var/cache/kubelayer/nvidia-container-toolkit_1.17.8-1_amd64.deb"]
    assert out["downloads"][0]["checksum"] == "sha256:" + "a" * 64
    assert out["binaries"] == ["/usr/bin/nvidia-container-runtime"]
    bad = plan(nvidia=True, nvidia_packages=[{"url": "https://x/toolkit.tar.gz", "sha256": "a" * 64}])
    assert bad["problems"] == ["containerd_nvidia_packages[0].url: 'https://x/toolkit.tar.gz' does not name a .deb file"]


def test_unpinned_arch_is_refused_for_downloads_only():
    out = plan(gvisor=True, crun=True, arch="s390x")
    assert out["problems"] == ["containerd_arch: kata and gVisor are pinned for amd64, arm64 only, not 's390x'"]
    assert out["packages"] == ["crun"]


def test_listed_runtime_wins_over_the_enabled_default_and_kind_is_kept():
    mine = {"name": "crun", "type": "io.containerd.runc.v2", "kind": "crun", "options": {"BinaryName": "/opt/crun"}}
    out = plan(crun=True, additional_runtimes=[mine])
    assert out["runtimes"]["crun"] == {"kind": "crun", "runtime_type": "io.containerd.runc.v2",
                                       "options": {"BinaryName": "/opt/crun"}}
    assert [c for c in out["classes"] if c["handler"] == "crun"] == [{"name": "crun", "handler": "crun"}]
    assert out["packages"] == ["crun"]


def test_duplicate_names_and_unknown_class_overrides_are_problems():
    out = plan(additional_runtimes=[dict(RUNC)], classes={"youki": {"name": "y"}})
    assert out["problems"] == [
        "containerd_additional_runtimes[0].name: 'runc' is defined twice",
        "containerd_runtime_classes.youki: no runtime handler of that name is configured (handlers: runc)"]


def test_class_overrides_rename_add_overhead_and_drop():
    out = plan(crun=True, gvisor=True, classes={"runc": {"enabled": False}, "crun": {"name": "fast", "overhead": {"cpu": "10m"}}})
    assert out["classes"] == [{"name": "fast", "handler": "crun", "overhead": {"cpu": "10m"}},
                              {"name": "gvisor", "handler": "runsc"}]


@pytest.mark.parametrize("version", [(1, 6, 20), (1, 7, 24), (2, 1, 9), (2, 3, 4)])
def test_every_kind_renders_through_the_real_merge(version):
    debs = [{"url": "https://mirror.lab/nvidia-container-toolkit_1.17.8-1_amd64.deb", "sha256": "a" * 64}]
    out = plan(crun=True, kata=True, gvisor=True, nvidia=True, nvidia_packages=debs)
    spec = {"runtimes": out["runtimes"], "cgroup_driver": "systemd"}
    assert cs.validate_spec(spec, version) == []
    result = cm.merge("", spec, version)
    assert result.problems == []
    doc = tomllib.loads(result.text)
    cri = doc["plugins"]["io.containerd.grpc.v1.cri" if version[0] == 1 else "io.containerd.cri.v1.runtime"]
    rts = cri["containerd"]["runtimes"]
    assert sorted(rts) == ["crun", "kata-qemu", "nvidia", "runc", "runsc"]
    assert rts["crun"]["options"] == {"BinaryName": "/usr/bin/crun", "SystemdCgroup": True}
    assert rts["nvidia"]["options"]["BinaryName"] == "/usr/bin/nvidia-container-runtime"
    assert rts["kata-qemu"]["runtime_type"] == "io.containerd.kata-qemu.v2"
    assert rts["kata-qemu"]["runtime_path"] == "/opt/kata/bin/containerd-shim-kata-v2"
    assert rts["kata-qemu"]["options"]["ConfigPath"].endswith("/configuration-qemu.toml")
    assert rts["runsc"]["runtime_type"] == "io.containerd.runsc.v1"
    assert rts["runsc"]["options"] == {"TypeUrl": "io.containerd.runsc.v1.options"}
    assert cri["containerd"]["default_runtime_name"] == "runc"
