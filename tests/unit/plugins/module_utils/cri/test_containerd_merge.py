# -*- coding: utf-8 -*-
"""containerd_merge: where every managed setting lands per config version, real start files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import tomlkit

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_merge as cm
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_versions as cv

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "containerd")

V16 = (1, 6, 20)
V17 = (1, 7, 24)
V20 = (2, 0, 5)
V21 = (2, 1, 9)
V23 = (2, 3, 4)

CRI = "io.containerd.grpc.v1.cri"
IMG = "io.containerd.cri.v1.images"
RT = "io.containerd.cri.v1.runtime"


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def spec(**kw):
    base = dict(path="/etc/containerd/config.toml", cgroup_driver="auto", default_runtime="runc")
    base.update(kw)
    return base


def run(text, version, pid1_systemd=True, **kw):
    result = cm.merge(text, spec(**kw), version, pid1_systemd)
    assert result.problems == [], result.problems
    return result, tomlkit.parse(result.text).unwrap()


def at(data, *path):
    for key in path:
        data = data[key]
    return data


FULL = dict(
    sandbox_image="registry.k8s.io/pause:3.10",
    snapshotter="native",
    config_path="/etc/containerd/certs.d",
    cni_conf_dir="/etc/cni/net.d",
    cni_bin_dir=["/opt/cni/bin"],
    runtimes={"crun": {"kind": "crun"}, "kata": {"kind": "kata"}},
    settings={
        "cri.runtime.enable_selinux": True,
        "cri.runtime.max_container_log_line_size": 65536,
        "cri.images.max_concurrent_downloads": 5,
        "cri.images.discard_unpacked_layers": False,
        "cri.streaming.stream_server_port": "10010",
        "cri.cni.max_conf_num": 2,
        "cri.registry.headers": {"X-Meta": ["a"]},
        "cri.containerd.ignore_rdt_not_enabled_errors": True,
        "server.grpc.max_recv_message_size": 33554432,
        "server.grpc.tcp_address": "127.0.0.1:9000",
        "server.debug.level": "debug",
        "server.metrics.address": "127.0.0.1:1338",
        "server.metrics.grpc_histogram": True,
        "server.oom_score": -999,
        "snapshotters.overlayfs.root_path": "/var/lib/overlay",
        "gc.pause_threshold": 0.05,
    },
)

# (version, where each managed value must be, written out literally)
PLACEMENT = {
    V17: [
        (("version",), 2),
        (("plugins", CRI, "sandbox_image"), "registry.k8s.io/pause:3.10"),
        (("plugins", CRI, "containerd", "snapshotter"), "native"),
        (("plugins", CRI, "registry", "config_path"), "/etc/containerd/certs.d"),
        (("plugins", CRI, "cni", "conf_dir"), "/etc/cni/net.d"),
        (("plugins", CRI, "cni", "bin_dir"), "/opt/cni/bin"),
        (("plugins", CRI, "containerd", "default_runtime_name"), "runc"),
        (("plugins", CRI, "containerd", "runtimes", "runc", "runtime_type"), "io.containerd.runc.v2"),
        (("plugins", CRI, "containerd", "runtimes", "runc", "options", "SystemdCgroup"), True),
        (("plugins", CRI, "containerd", "runtimes", "crun", "options", "BinaryName"), "/usr/bin/crun"),
        (("plugins", CRI, "containerd", "runtimes", "crun", "options", "SystemdCgroup"), True),
        (("plugins", CRI, "containerd", "runtimes", "kata", "runtime_type"), "io.containerd.kata.v2"),
        (("plugins", CRI, "containerd", "runtimes", "kata", "pod_annotations"), ["io.katacontainers.*"]),
        (("plugins", CRI, "enable_selinux"), True),
        (("plugins", CRI, "max_container_log_line_size"), 65536),
        (("plugins", CRI, "max_concurrent_downloads"), 5),
        (("plugins", CRI, "containerd", "discard_unpacked_layers"), False),
        (("plugins", CRI, "stream_server_port"), "10010"),
        (("plugins", CRI, "cni", "max_conf_num"), 2),
        (("plugins", CRI, "registry", "headers", "X-Meta"), ["a"]),
        (("plugins", CRI, "containerd", "ignore_rdt_not_enabled_errors"), True),
        (("grpc", "max_recv_message_size"), 33554432),
        (("grpc", "tcp_address"), "127.0.0.1:9000"),
        (("debug", "level"), "debug"),
        (("metrics", "address"), "127.0.0.1:1338"),
        (("metrics", "grpc_histogram"), True),
        (("oom_score",), -999),
        (("plugins", "io.containerd.snapshotter.v1.overlayfs", "root_path"), "/var/lib/overlay"),
        (("plugins", "io.containerd.gc.v1.scheduler", "pause_threshold"), 0.05),
    ],
    V20: [
        (("version",), 3),
        (("plugins", IMG, "pinned_images", "sandbox"), "registry.k8s.io/pause:3.10"),
        (("plugins", IMG, "snapshotter"), "native"),
        (("plugins", IMG, "registry", "config_path"), "/etc/containerd/certs.d"),
        (("plugins", RT, "cni", "conf_dir"), "/etc/cni/net.d"),
        (("plugins", RT, "cni", "bin_dir"), "/opt/cni/bin"),
        (("plugins", RT, "containerd", "default_runtime_name"), "runc"),
        (("plugins", RT, "containerd", "runtimes", "runc", "options", "SystemdCgroup"), True),
        (("plugins", RT, "containerd", "runtimes", "crun", "options", "BinaryName"), "/usr/bin/crun"),
        (("plugins", RT, "containerd", "runtimes", "kata", "privileged_without_host_devices"), True),
        (("plugins", RT, "enable_selinux"), True),
        (("plugins", RT, "max_container_log_line_size"), 65536),
        (("plugins", IMG, "max_concurrent_downloads"), 5),
        (("plugins", IMG, "discard_unpacked_layers"), False),
        (("plugins", CRI, "stream_server_port"), "10010"),
        (("plugins", RT, "cni", "max_conf_num"), 2),
        (("plugins", IMG, "registry", "headers", "X-Meta"), ["a"]),
        (("plugins", RT, "containerd", "ignore_rdt_not_enabled_errors"), True),
        (("grpc", "max_recv_message_size"), 33554432),
        (("grpc", "tcp_address"), "127.0.0.1:9000"),
        (("debug", "level"), "debug"),
        (("metrics", "grpc_histogram"), True),
        (("oom_score",), -999),
    ],
    V21: [
        (("version",), 3),
        (("plugins", RT, "cni", "bin_dirs"), ["/opt/cni/bin"]),
        (("plugins", IMG, "pinned_images", "sandbox"), "registry.k8s.io/pause:3.10"),
        (("plugins", RT, "containerd", "runtimes", "kata", "runtime_type"), "io.containerd.kata.v2"),
    ],
    V23: [
        (("version",), 4),
        (("plugins", IMG, "pinned_images", "sandbox"), "registry.k8s.io/pause:3.10"),
        (("plugins", IMG, "snapshotter"), "native"),
        (("plugins", RT, "cni", "bin_dirs"), ["/opt/cni/bin"]),
        (("plugins", RT, "containerd", "runtimes", "runc", "options", "SystemdCgroup"), True),
        (("plugins", CRI, "stream_server_port"), "10010"),
        (("plugins", "io.containerd.server.v1.grpc", "max_recv_message_size"), 33554432),
        (("plugins", "io.containerd.server.v1.grpc-tcp", "address"), "127.0.0.1:9000"),
        (("debug", "level"), "debug"),  # containerd 2.3 keeps Debug.Level top level (only address/uid/gid moved)
        (("plugins", "io.containerd.server.v1.metrics", "address"), "127.0.0.1:1338"),
        (("plugins", "io.containerd.metrics.v1.grpc-prometheus", "grpc_histogram"), True),
        (("oom_score",), -999),
    ],
}


@pytest.mark.parametrize("version", sorted(PLACEMENT))
@pytest.mark.parametrize("start", [None, "debian-packaged-config.toml", "containerd.io-disabled-cri.toml"])
def test_every_managed_setting_lands_where_the_release_reads_it(version, start):
    text = fixture(start) if start else None
    result, data = run(text, version, **FULL)
    for path, expected in PLACEMENT[version]:
        assert at(data, *path) == expected, path
        assert type(at(data, *path)) is type(expected), path
    assert result.config_version == PLACEMENT[version][0][1]


@pytest.mark.parametrize("version", [V20, V21, V23])
def test_no_version2_cri_keys_left_on_2x(version):
    data = run(fixture("debian-packaged-config.toml"), version, **FULL)[1]
    cri = data["plugins"].get(CRI, {})
    assert set(cri) <= set(ct.KNOWN_STREAMING_KEYS)
    if version >= (2, 3):
        assert not set(data) & {"grpc", "ttrpc", "metrics"}
        assert set(data.get("debug", {})) <= {"level", "format", "log_trace_id"}


def test_v1_keeps_no_v3_tables_and_no_bin_dirs():
    data = run(fixture("debian-packaged-config.toml"), V16, **FULL)[1]
    assert IMG not in data["plugins"] and RT not in data["plugins"]
    assert "bin_dirs" not in data["plugins"][CRI]["cni"]


def test_debian_file_keeps_unmanaged_keys_and_comments():
    text = "# managed by hand, keep me\n" + fixture("debian-packaged-config.toml").replace(
        'path = "/var/lib/containerd/opt"', 'path = "/var/lib/containerd/opt"  # opt dir')
    result, data = run(text, V17, sandbox_image="registry.k8s.io/pause:3.10")
    assert "# managed by hand, keep me" in result.text
    assert "# opt dir" in result.text
    assert data["plugins"]["io.containerd.internal.v1.opt"]["path"] == "/var/lib/containerd/opt"
    # Debian's CNI directories are not managed here, so they stay
    assert data["plugins"][CRI]["cni"] == {"bin_dir": "/usr/lib/cni", "conf_dir": "/etc/cni/net.d"}


def test_debian_file_migrated_for_forky_2_1():
    # Debian's containerd 2.1.9 package ships the same version 2 file as bookworm and trixie
    result, data = run(fixture("debian-packaged-config.toml"), V21)
    assert result.file_version == 2 and result.config_version == 3
    assert data["plugins"][RT]["cni"] == {"bin_dirs": ["/usr/lib/cni"], "conf_dir": "/etc/cni/net.d"}
    assert CRI not in data["plugins"]
    assert data["plugins"]["io.containerd.internal.v1.opt"]["path"] == "/var/lib/containerd/opt"


@pytest.mark.parametrize("version", [V16, V17, V21, V23])
def test_containerd_io_disabled_cri_is_removed(version):
    result, data = run(fixture("containerd.io-disabled-cri.toml"), version)
    assert data["disabled_plugins"] == []
    assert result.file_version == 1
    assert data["version"] == cv.schema_version(version)


def test_other_disabled_plugins_survive_and_short_names_are_qualified():
    text = 'disabled_plugins = ["cri", "zfs", "io.containerd.snapshotter.v1.btrfs"]\n'
    data = run(text, V17)[1]
    assert data["disabled_plugins"] == ["io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.btrfs"]


def test_2x_strips_every_cri_plugin_id():
    text = 'version = 3\ndisabled_plugins = ["io.containerd.cri.v1.images", "io.containerd.grpc.v1.cri", "x.y"]\n'
    data = run(text, V21)[1]
    assert data["disabled_plugins"] == ["x.y"]


@pytest.mark.parametrize("name,version", [
    ("default-1.6.20.toml", V16), ("default-1.7.24.toml", V17), ("default-2.1.9.toml", V21),
    ("default-2.3-v4-from-reference.toml", V23),
])
def test_default_configs_of_each_release_take_the_spec(name, version):
    result, data = run(fixture(name), version, sandbox_image="registry.k8s.io/pause:3.10", cgroup_driver="systemd",
                       config_path="/etc/containerd/certs.d")
    assert result.file_version == cv.schema_version(version)
    assert "migrated_from" not in result.__dict__
    rpath = ct.option_path("runtimes", version)
    assert at(data, *rpath)["runc"]["options"]["SystemdCgroup"] is True
    assert at(data, *ct.option_path("sandbox_image", version)) == "registry.k8s.io/pause:3.10"
    # only what the spec manages changed: same key set as the start file
    before = tomlkit.parse(fixture(name)).unwrap()
    assert _keys(before) == _keys(data)


def _keys(data, prefix=()):
    out = set()
    for k, v in data.items():
        out.add(prefix + (k,))
        if isinstance(v, dict):
            out |= _keys(v, prefix + (k,))
    return out


def test_v1_6_defaults_migrated_to_2_0():
    result, data = run(fixture("default-1.6.20.toml"), V20)
    assert result.file_version == 2 and data["version"] == 3
    plugins = data["plugins"]
    assert "io.containerd.runtime.v1.linux" not in plugins
    assert plugins[IMG]["pinned_images"]["sandbox"] == "registry.k8s.io/pause:3.6"
    assert plugins[IMG]["snapshotter"] == "overlayfs"
    assert plugins[IMG]["registry"]["config_path"] == ""
    assert "tls" not in str(plugins[IMG]["registry"].get("configs", {}))
    assert plugins[RT]["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert "runtime_engine" not in plugins[RT]["containerd"]["runtimes"]["runc"]
    assert "sandbox_mode" not in plugins[RT]["containerd"]["runtimes"]["runc"]
    # 1.6 has no sandbox_mode; 1.7 has it and it becomes sandboxer (test below)
    assert "default_runtime" not in plugins[RT]["containerd"]
    assert "systemd_cgroup" not in plugins[RT] and "disable_cgroup" not in plugins[RT]
    assert set(plugins[CRI]) <= set(ct.KNOWN_STREAMING_KEYS)
    assert plugins[RT]["enable_selinux"] is False
    assert any("io.containerd.runtime.v1.linux" in w for w in result.warnings)


def test_v3_to_v4_moves_server_sections():
    result, data = run(fixture("default-2.1.9.toml"), V23)
    assert result.file_version == 3 and data["version"] == 4
    assert not set(data) & {"grpc", "ttrpc", "metrics"}
    assert set(data.get("debug", {})) <= {"level", "format", "log_trace_id"}
    plugins = data["plugins"]
    assert plugins["io.containerd.server.v1.grpc"]["address"] == "/run/containerd/containerd.sock"
    assert plugins["io.containerd.server.v1.grpc"]["max_recv_message_size"] == 16777216
    # before version 4 an unset ttrpc address follows the grpc one
    assert plugins["io.containerd.server.v1.ttrpc"]["address"] == "/run/containerd/containerd.sock.ttrpc"
    assert "io.containerd.server.v1.grpc-tcp" not in plugins  # all its values were empty


def test_v4_existing_server_plugin_section_wins():
    text = 'version = 3\n[grpc]\naddress = "/a.sock"\n[plugins."io.containerd.server.v1.grpc"]\naddress = "/b.sock"\n'
    data = run(text, V23)[1]
    assert data["plugins"]["io.containerd.server.v1.grpc"]["address"] == "/b.sock"


def test_nvidia_hand_added_runtime_kept_and_driver_unified():
    text = fixture("nvidia-hand-added-1.7.toml")
    result, data = run(text, V17, default_runtime="nvidia", cgroup_driver="systemd")
    runtimes = data["plugins"][CRI]["containerd"]["runtimes"]
    assert runtimes["nvidia"]["options"] == {"BinaryName": "/usr/bin/nvidia-container-runtime", "SystemdCgroup": True}
    assert runtimes["runc"]["options"]["SystemdCgroup"] is True
    assert data["plugins"][CRI]["containerd"]["default_runtime_name"] == "nvidia"
    assert "# GPU node: pods run through the NVIDIA runtime" in result.text


def test_nvidia_hand_added_runtime_migrated_to_2_1():
    result, data = run(fixture("nvidia-hand-added-1.7.toml"), V21, default_runtime="nvidia")
    nvidia = data["plugins"][RT]["containerd"]["runtimes"]["nvidia"]
    assert nvidia["runtime_type"] == "io.containerd.runc.v2"
    assert "runtime_engine" not in nvidia and "runtime_root" not in nvidia
    assert nvidia["options"]["BinaryName"] == "/usr/bin/nvidia-container-runtime"
    assert data["plugins"][IMG]["pinned_images"]["sandbox"] == "registry.k8s.io/pause:3.8"


def test_cgroup_driver_auto_follows_pid1():
    data = run(None, V17, pid1_systemd=False)[1]
    assert data["plugins"][CRI]["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False
    data = run(None, V17, pid1_systemd=True)[1]
    assert data["plugins"][CRI]["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True


def test_cgroup_driver_leaves_non_runc_handlers_alone():
    data = run(None, V21, cgroup_driver="systemd", runtimes={"gvisor": {"kind": "gvisor"}})[1]
    gvisor = data["plugins"][RT]["containerd"]["runtimes"]["gvisor"]
    assert gvisor["runtime_type"] == "io.containerd.runsc.v1"
    assert gvisor["options"] == {"TypeUrl": "io.containerd.runsc.v1.options"}


def test_default_runtime_missing_is_a_problem():
    result = cm.merge(None, spec(default_runtime="kata"), V17, True)
    assert result.text is None
    assert any(p.startswith("default_runtime:") for p in result.problems)


def test_mirrors_and_config_path_refused():
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
            'endpoint = ["https://mirror.example"]\n')
    result = cm.merge(text, spec(config_path="/etc/containerd/certs.d"), V17, True)
    assert result.text is None
    assert any("mirrors" in p and p.startswith("config_path:") for p in result.problems)


def test_bin_dir_and_bin_dirs_refused():
    text = 'version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\nbin_dir = "/a"\nbin_dirs = ["/b"]\n'
    result = cm.merge(text, spec(), V21, True)
    assert any("bin_dir and bin_dirs" in p for p in result.problems)
    # managing cni_bin_dir resolves it
    result = cm.merge(text, spec(cni_bin_dir=["/b"]), V21, True)
    assert result.problems == []
    assert tomlkit.parse(result.text)["plugins"][RT]["cni"].unwrap() == {"bin_dirs": ["/b"]}


def test_newer_file_is_not_downgraded():
    result = cm.merge(fixture("default-2.1.9.toml"), spec(), V17, True)
    assert result.text is None
    assert "refusing to downgrade" in result.problems[0]


def test_invalid_toml_is_a_problem():
    result = cm.merge("version = 2\n[plugins\n", spec(), V17, True)
    assert result.text is None and result.problems[0].startswith("path: the existing file is not valid TOML")


def test_scalar_in_the_way_is_a_problem_not_a_traceback():
    result = cm.merge('version = 2\nplugins = 3\n', spec(sandbox_image="registry.k8s.io/pause:3.10"), V17, True)
    assert result.text is None
    assert any("not a table" in p for p in result.problems)


def test_unchanged_values_keep_their_formatting():
    text = "version = 2\n[plugins.'io.containerd.grpc.v1.cri']\n  sandbox_image = 'registry.k8s.io/pause:3.10'  # pinned\n"
    result = run(text, V17, sandbox_image="registry.k8s.io/pause:3.10")[0]
    assert "sandbox_image = 'registry.k8s.io/pause:3.10'  # pinned" in result.text


def test_bool_is_not_int():
    text = "version = 2\n[plugins.'io.containerd.grpc.v1.cri']\nenable_selinux = 1\n"
    data = run(text, V17, settings={"cri.runtime.enable_selinux": True})[1]
    assert data["plugins"][CRI]["enable_selinux"] is True


def test_one_x_warns_about_imports():
    result = run('version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n', V17)[0]
    assert any("drop-in" in w for w in result.warnings)


def test_registry_tls_dropped_with_warning_on_2x():
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example:5000".tls]\n'
            'insecure_skip_verify = true\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example:5000".auth]\n'
            'username = "u"\n')
    result, data = run(text, V21)
    assert data["plugins"][IMG]["registry"]["configs"] == {"r.example:5000": {"auth": {"username": "u"}}}
    assert any("hosts.toml" in w for w in result.warnings)


def test_runtime_root_is_dropped_like_containerd_does():
    # containerd 1.7 accepts runtime_root only for io.containerd.runtime.v1.linux; 2.x has no such key
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
            'runtime_type = "io.containerd.runc.v2"\nruntime_root = "/run/runc-root"\n')
    result, data = run(text, V20)
    runc = data["plugins"][RT]["containerd"]["runtimes"]["runc"]
    assert "runtime_root" not in runc and "Root" not in runc.get("options", {})
    assert any("runtime_root was removed" in w for w in result.warnings)


def test_v1_7_defaults_migrated_to_2_1_sandbox_mode_becomes_sandboxer():
    result, data = run(fixture("default-1.7.24.toml"), V21)
    runc = data["plugins"][RT]["containerd"]["runtimes"]["runc"]
    assert runc["sandboxer"] == "podsandbox" and "sandbox_mode" not in runc
    cni = data["plugins"][RT]["cni"]
    assert "bin_dir" not in cni and cni["bin_dirs"] == ["/usr/lib/cni"]  # Debian builds default to /usr/lib/cni


@pytest.mark.parametrize("version", [V17, V21, V23])
def test_new_file_layout_is_plain(version):
    result = run(None, version, sandbox_image="registry.k8s.io/pause:3.10", runtimes={"crun": {"kind": "crun"}})[0]
    assert result.text.startswith("version = %d\n" % cv.schema_version(version))
    # every header is followed directly by its first key, no stray blank lines or indents
    for block in result.text.split("\n\n")[1:]:
        lines = block.strip("\n").split("\n")
        assert lines[0].startswith("[plugins.") and all(not line.startswith((" ", "\t")) for line in lines[1:]), block


def test_added_keys_follow_the_files_indentation():
    result = run(fixture("debian-packaged-config.toml"), V17, sandbox_image="registry.k8s.io/pause:3.10")[0]
    assert '\n    sandbox_image = "registry.k8s.io/pause:3.10"\n' in result.text


@pytest.mark.parametrize("version", [V17, V21, V23])
def test_containerd_io_comments_survive(version):
    result = run(fixture("containerd.io-disabled-cri.toml"), version, sandbox_image="registry.k8s.io/pause:3.10")[0]
    for line in fixture("containerd.io-disabled-cri.toml").splitlines():
        if line.startswith("#"):
            assert line in result.text
    assert "disabled_plugins = []" in result.text


ODD_SHAPES = {
    "inline options": 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
                      'runtime_type = "io.containerd.runc.v2"\noptions = { SystemdCgroup = false }\n',
    "inline runtimes": 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n'
                       'runtimes = { runc = { runtime_type = "io.containerd.runc.v2" } }\n',
    "dotted top": 'version = 2\nplugins."io.containerd.grpc.v1.cri".sandbox_image = "x/y:1"\n',
    "dotted in table": 'version = 2\n[plugins]\n"io.containerd.grpc.v1.cri".containerd.default_runtime_name = "runc"\n',
    "out of order": 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\nbin_dir = "/a"\n[grpc]\naddress = "/x"\n'
                    '[plugins."io.containerd.grpc.v1.cri".containerd]\nsnapshotter = "native"\n',
    "array of tables": 'version = 2\n[[plugins."io.containerd.grpc.v1.cri".x]]\na = 1\n',
    "inline plugins": 'version = 2\nplugins = { "io.containerd.grpc.v1.cri" = { sandbox_image = "a" } }\n',
}


@pytest.mark.parametrize("version", [V17, V21, V23])
@pytest.mark.parametrize("name", sorted(ODD_SHAPES))
def test_odd_toml_shapes_merge_to_what_was_meant(name, version):
    kw = dict(sandbox_image="registry.k8s.io/pause:3.10", cgroup_driver="systemd",
              runtimes={"crun": {"kind": "crun", "settings": {"pod_annotations": ["a"]}}},
              settings={"cri.registry.configs": {"r.example:5000": {"auth": {"username": "u"}}}})
    result, data = run(ODD_SHAPES[name], version, **kw)
    rpath = ct.option_path("runtimes", version)
    assert at(data, *ct.option_path("sandbox_image", version)) == "registry.k8s.io/pause:3.10"
    assert at(data, *rpath)["runc"]["options"]["SystemdCgroup"] is True
    assert at(data, *rpath)["crun"]["pod_annotations"] == ["a"]
    assert at(data, *ct.option_path("config_path", version)[:-1])["configs"]["r.example:5000"]["auth"] == {"username": "u"}
    # nothing lands at the top level except what containerd has there
    assert set(data) <= {"version", "plugins", "grpc"}
    again = cm.merge(result.text, spec(**kw), version, True)
    assert again.text == result.text


def test_dotted_keys_that_tomlkit_cannot_extend_are_rewritten_plainly():
    result = run(ODD_SHAPES["dotted in table"], V17)[0]
    assert any("rewritten in plain table form" in w for w in result.warnings)
