# -*- coding: utf-8 -*-
"""containerd_spec: versions, validation (every problem, naming the option), settings mapping."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_runtimes as cr
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_settings as cset
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_spec as cs
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_versions as cv
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import image_ref as ir


@pytest.mark.parametrize("text,expected", [
    ("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3", (1, 6, 20)),
    ("containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1", (1, 7, 24)),
    ("containerd github.com/containerd/containerd/v2 2.1.9+unknown ", (2, 1, 9)),
    ("containerd containerd.io v1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da", (1, 7, 27)),
    ("2.3", (2, 3, 0)),
    ("v2.0.5", (2, 0, 5)),
    ("containerd", None),
    ("", None),
])
def test_parse_version(text, expected):
    assert cv.parse_version(text) == expected


@pytest.mark.parametrize("version,schema", [
    ((1, 6, 20), 2), ((1, 7, 34), 2), ((2, 0, 0), 3), ((2, 1, 9), 3), ((2, 2, 7), 3),
    ((2, 3, 0), 4), ((2, 4, 0), 4), ((3, 0, 0), 4),
])
def test_schema_version(version, schema):
    assert cv.schema_version(version) == schema


def base(**kw):
    spec = dict(path="/etc/containerd/config.toml", cgroup_driver="auto", default_runtime="runc")
    spec.update(kw)
    return spec


def test_valid_spec_has_no_problems():
    spec = base(sandbox_image="registry.k8s.io/pause:3.10", config_path="/etc/containerd/certs.d:/etc/docker/certs.d",
                cni_bin_dir=["/opt/cni/bin", "/usr/lib/cni"], cni_conf_dir="/etc/cni/net.d", snapshotter="overlayfs",
                runtimes={"crun": {"kind": "crun"}, "kata-qemu": {"kind": "kata", "runtime_type": "io.containerd.kata-qemu.v2"},
                          "my-rt": {"kind": "custom", "runtime_type": "io.containerd.my.v1", "binary": "/opt/bin/shim",
                                    "settings": {"pod_annotations": ["a.*"]}}},
                settings={"cri.runtime.enable_selinux": True, "server.grpc.max_recv_message_size": 1 << 25})
    assert cs.validate_spec(spec, (2, 1, 9)) == []


def test_all_problems_reported_together_each_naming_its_option():
    spec = base(
        path="etc/containerd/config.toml",
        sandbox_image="Registry.K8S.io/Pause:3.10 ",
        cni_conf_dir="net.d",
        cni_bin_dir=["/opt/cni/bin", "bin"],
        config_path="/etc/containerd/certs.d:certs.d",
        runtimes={
            "bad\nname": {},
            'q"uote': {},
            "br]acket": {},
            "up/../x": {},
            "wasm": {"kind": "wasmtime"},
            "mine": {"kind": "custom"},
            "rel": {"binary": "bin/runc", "options": {"Root": "run/runc", "SystemdCgroup": True}},
            "nul": {"options": {"X": None, "Big": 1 << 70}},
        },
        settings={"cri.runtime.selinux_category_range": None, "bogus.key": 1, "cri.images.pinned_images.sandbox": "x",
                  "cri.runtime.max_concurrent_downloads": 3},
    )
    problems = cs.validate_spec(spec, (1, 7, 24))
    text = "\n".join(problems)
    expected_prefixes = [
        "path:", "sandbox_image:", "cni_conf_dir:", "cni_bin_dir:", "config_path:",
        "runtimes: runtime name 'bad\\nname'", "runtimes: runtime name 'q\"uote'", "runtimes: runtime name 'br]acket'",
        "runtimes: runtime name 'up/../x'", "runtimes.wasm.kind:", "runtimes.mine.runtime_type:",
        "runtimes.rel.binary:", "runtimes.rel.options.Root:", "runtimes.rel.options.SystemdCgroup:",
        "runtimes.nul.options.X:", "runtimes.nul.options.Big:", "settings.cri.runtime.selinux_category_range:",
        "settings: 'bogus.key'", "settings: 'cri.images.pinned_images.sandbox' is managed by sandbox_image",
        "settings: 'cri.runtime.max_concurrent_downloads': 'max_concurrent_downloads' is an image setting",
    ]
    for prefix in expected_prefixes:
        assert any(p.startswith(prefix) for p in problems), (prefix, text)
    assert "contains a newline" in text and 'contains "' in text and "contains ]" in text and "contains /.." in text
    assert "relative" in text
    assert len(problems) >= len(expected_prefixes)


@pytest.mark.parametrize("ref", [
    "registry.k8s.io/pause:3.10", "pause", "localhost:5000/pause:3.9", "[::1]:5000/x/y:z",
    "registry.k8s.io/pause@sha256:" + "a" * 64, "registry.k8s.io/pause:3.10@sha256:" + "0" * 64,
])
def test_good_images(ref):
    assert ir.image_reference_problem(ref) is None


@pytest.mark.parametrize("ref", [
    "", "Registry.k8s.io/Pause", "pause:", "pause:3.10\n[plugins]", "pause@sha256:xyz", "a//b", " pause",
    "pause:" + "x" * 200, 'pa"use',
])
def test_bad_images(ref):
    assert ir.image_reference_problem(ref) is not None


@pytest.mark.parametrize("name,version,path", [
    ("cri.runtime.enable_selinux", (1, 7, 0), ("plugins", "io.containerd.grpc.v1.cri", "enable_selinux")),
    ("cri.runtime.enable_selinux", (2, 0, 0), ("plugins", "io.containerd.cri.v1.runtime", "enable_selinux")),
    ("cri.images.discard_unpacked_layers", (1, 7, 0),
     ("plugins", "io.containerd.grpc.v1.cri", "containerd", "discard_unpacked_layers")),
    ("cri.images.image_decryption.key_model", (1, 6, 0),
     ("plugins", "io.containerd.grpc.v1.cri", "image_decryption", "key_model")),
    ("cri.images.image_decryption.key_model", (2, 2, 0),
     ("plugins", "io.containerd.cri.v1.images", "image_decryption", "key_model")),
    ("cri.streaming.stream_idle_timeout", (2, 3, 0), ("plugins", "io.containerd.grpc.v1.cri", "stream_idle_timeout")),
    ("server.grpc.max_recv_message_size", (2, 2, 0), ("grpc", "max_recv_message_size")),
    ("server.grpc.max_recv_message_size", (2, 3, 0), ("plugins", "io.containerd.server.v1.grpc", "max_recv_message_size")),
    ("server.grpc.tcp_tls_cert", (2, 3, 0), ("plugins", "io.containerd.server.v1.grpc-tcp", "tls_cert")),
    ("server.metrics.grpc_histogram", (2, 3, 0), ("plugins", "io.containerd.metrics.v1.grpc-prometheus", "grpc_histogram")),
    ("server.ttrpc.address", (1, 7, 0), ("ttrpc", "address")),
    ("server.cgroup.path", (2, 3, 0), ("cgroup", "path")),
    ("nri.disable", (1, 7, 0), ("plugins", "io.containerd.nri.v1.nri", "disable")),
    ("transfer.max_concurrent_downloads", (2, 1, 0),
     ("plugins", "io.containerd.transfer.v1.local", "max_concurrent_downloads")),
])
def test_setting_path(name, version, path):
    assert cset.setting_path(name, version) == (path, None)


@pytest.mark.parametrize("name,version", [
    ("transfer.x", (1, 7, 0)), ("nri.disable", (1, 6, 0)), ("cri.streaming.nope", (2, 0, 0)),
    ("server.grpc.nope", (1, 7, 0)), ("cri.bogus.x", (1, 7, 0)), ("cri.runtime", (1, 7, 0)), ("nope.x", (2, 0, 0)),
])
def test_setting_path_problems(name, version):
    path, why = cset.setting_path(name, version)
    assert path is None and why


def test_removed_settings_on_2x():
    problems = cs.validate_spec(base(settings={"cri.runtime.systemd_cgroup": True}), (2, 1, 0))
    assert any("does not exist in containerd 2.x" in p for p in problems)
    assert cs.validate_spec(base(settings={"cri.runtime.systemd_cgroup": True}), (1, 7, 0)) == []


def test_bin_dirs_need_2_1():
    spec = base(cni_bin_dir=["/a", "/b"])
    assert any(p.startswith("cni_bin_dir:") for p in cs.validate_spec(spec, (2, 0, 5)))
    assert cs.validate_spec(spec, (2, 1, 0)) == []


def test_handler_settings_by_version():
    spec = base(runtimes={"runc": {"settings": {"cgroup_writable": True}}})
    assert any("needs containerd 2.1" in p for p in cs.validate_spec(spec, (2, 0, 0)))
    assert cs.validate_spec(spec, (2, 1, 0)) == []
    assert ct.handler_key("sandboxer", (1, 7, 0)) == "sandbox_mode"
    assert ct.handler_key("sandboxer", (2, 0, 0)) == "sandboxer"


def test_unsupported_containerd():
    assert any(p.startswith("containerd_version:") for p in cs.validate_spec(base(), (1, 5, 0)))


def test_wrong_types_are_problems_not_tracebacks():
    spec = base(path=5, runtimes=["runc"], settings="x", cni_bin_dir="/a", sandbox_image=3, snapshotter={})
    problems = cs.validate_spec(spec, (1, 7, 0))
    assert any(p.startswith("runtimes:") for p in problems)
    assert any(p.startswith("settings:") for p in problems)
    assert any(p.startswith("path:") for p in problems)
    assert any(p.startswith("sandbox_image:") for p in problems)


def test_effective_runtime_kinds():
    h, o = cr.effective_runtime("nvidia", {"kind": "nvidia"}, True)
    assert h == {"runtime_type": "io.containerd.runc.v2"}
    assert o == {"BinaryName": "/usr/bin/nvidia-container-runtime", "SystemdCgroup": True}
    h, o = cr.effective_runtime("kata", {"kind": "kata", "binary": "/opt/kata/bin/containerd-shim-kata-v2"}, True)
    assert h["runtime_path"] == "/opt/kata/bin/containerd-shim-kata-v2" and "SystemdCgroup" not in o
    h, o = cr.effective_runtime("runc", {}, None)
    assert o == {}


@pytest.mark.parametrize("name,value,ok", [
    ("cri.runtime.enable_selinux", "yes", False),
    ("cri.runtime.enable_selinux", True, True),
    ("cri.runtime.max_container_log_line_size", True, False),
    ("cri.runtime.max_container_log_line_size", "16384", False),
    ("cri.runtime.max_container_log_line_size", -1, True),
    ("cri.streaming.stream_server_port", 10010, False),
    ("cri.streaming.stream_server_port", "10010", True),
    ("server.debug.level", "debug", True),
    ("cri.runtime.some_future_key", "anything", True),
])
def test_well_known_value_types(name, value, ok):
    problems = cs.validate_spec(base(settings={name: value}), (2, 1, 0))
    assert (problems == []) == ok, problems
    if not ok:
        assert problems[0].startswith("settings.%s:" % name)
