# -*- coding: utf-8 -*-
"""containerd_merge migration parity with containerd's own `config migrate` (2.1.9 and 2.3.4 source):
renamed plugins, SCHED_CORE, removed keys, version 1 names, 2.3's serviceMigrate; node defaults kept.
The lab test (molecule/containerd/tests/test_migration.py) compares the real config dumps."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import tomlkit

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_merge as cm

V17 = (1, 7, 24)
V21 = (2, 1, 9)
V23 = (2, 3, 4)
RT = "io.containerd.cri.v1.runtime"
CRI = "io.containerd.grpc.v1.cri"


def run(text, version, **kw):
    spec = dict(path="/etc/containerd/config.toml", cgroup_driver="cgroupfs")
    spec.update(kw)
    result = cm.merge(text, spec, version, True)
    assert result.problems == [], result.problems
    return result, tomlkit.parse(result.text).unwrap()


@pytest.mark.parametrize("version", [V21, V23])
def test_restart_and_cgroups_monitor_keep_their_values(version):
    text = ('version = 2\n[plugins."io.containerd.internal.v1.restart"]\n  interval = "37s"\n'
            '[plugins."io.containerd.monitor.v1.cgroups"]\n  no_prometheus = true\n')
    plugins = run(text, version)[1]["plugins"]
    assert plugins["io.containerd.monitor.container.v1.restart"] == {"interval": "37s"}
    assert plugins["io.containerd.monitor.task.v1.cgroups"] == {"no_prometheus": True}
    assert "io.containerd.internal.v1.restart" not in plugins
    assert "io.containerd.monitor.v1.cgroups" not in plugins


def test_renamed_plugins_stay_on_version_2():
    text = 'version = 2\n[plugins."io.containerd.internal.v1.restart"]\n  interval = "37s"\n'
    data = run(text, V17)[1]
    assert data["plugins"]["io.containerd.internal.v1.restart"] == {"interval": "37s"}


def test_sched_core_becomes_shim_manager_env():
    text = 'version = 2\n[plugins."io.containerd.runtime.v2.task"]\n  sched_core = true\n  platforms = ["linux/amd64"]\n'
    plugins = run(text, V21)[1]["plugins"]
    assert plugins["io.containerd.shim.v1.manager"]["env"] == ["SCHED_CORE=1"]
    assert plugins["io.containerd.runtime.v2.task"] == {"platforms": ["linux/amd64"]}


def test_sched_core_false_leaves_no_table_behind():
    text = 'version = 2\n[plugins."io.containerd.runtime.v2.task"]\n  sched_core = false\n'
    plugins = run(text, V21)[1]["plugins"]
    assert "io.containerd.shim.v1.manager" not in plugins
    assert "io.containerd.runtime.v2.task" not in plugins  # 2.3 would otherwise reset the manager table


def test_sched_core_keeps_an_existing_env():
    text = ('version = 2\n[plugins."io.containerd.runtime.v2.task"]\n  sched_core = true\n'
            '[plugins."io.containerd.shim.v1.manager"]\n  env = ["A=1"]\n')
    plugins = run(text, V21)[1]["plugins"]
    assert plugins["io.containerd.shim.v1.manager"]["env"] == ["A=1", "SCHED_CORE=1"]


def test_sched_core_not_boolean_is_dropped_with_a_warning():
    text = 'version = 2\n[plugins."io.containerd.runtime.v2.task"]\n  sched_core = "yes"\n'
    result, data = run(text, V21)
    assert "io.containerd.shim.v1.manager" not in data.get("plugins", {})
    assert any("sched_core" in w for w in result.warnings)


def test_removed_keys_are_dropped_on_2x_only():
    text = ('version = 2\nplugin_dir = "/opt/plugins"\n[plugins."io.containerd.grpc.v1.cri".containerd]\n'
            '  no_pivot = true\n  snapshotter = "overlayfs"\n')
    result, data = run(text, V21)
    assert "plugin_dir" not in data
    assert "no_pivot" not in data["plugins"][RT]["containerd"]
    assert any("plugin_dir" in w for w in result.warnings) and any("no_pivot" in w for w in result.warnings)
    old = run(text, V17)[1]
    assert old["plugin_dir"] == "/opt/plugins"
    assert old["plugins"][CRI]["containerd"]["no_pivot"] is True


def test_disabled_restart_plugin_stays_disabled_under_its_new_name():
    # gce-configure-sh: containerd's own migration leaves the old name, which then disables nothing
    text = 'version = 2\ndisabled_plugins = ["io.containerd.internal.v1.restart"]\n'
    result, data = run(text, V21)
    assert data["disabled_plugins"] == ["io.containerd.monitor.container.v1.restart"]
    assert any("stays disabled" in w for w in result.warnings)


def test_version_1_names_follow_containerd():
    text = '[plugins.tracing]\n  x = 1\n[plugins.diff-service]\n  y = 1\n[plugins.foo]\n  z = 1\n'
    result, data = run(text, V17)
    plugins = data["plugins"]
    assert plugins["io.containerd.internal.v1.tracing"] == {"x": 1}
    assert plugins["io.containerd.service.v1.diff-service"] == {"y": 1}
    assert plugins["io.containerd.grpc.v1.foo"] == {"z": 1}
    assert any("ambiguous" in w for w in result.warnings)


def test_v4_keeps_debug_level_top_level_and_moves_the_sockets():
    text = ('version = 3\n[grpc]\n  address = "/run/c.sock"\n  tcp_address = "127.0.0.1:9"\n'
            '  max_recv_message_size = 100\n[debug]\n  level = "debug"\n  address = "/run/d.sock"\n'
            '[metrics]\n  grpc_histogram = false\n  address = "127.0.0.1:1338"\n')
    result, data = run(text, V23)
    plugins = data["plugins"]
    assert data["debug"] == {"level": "debug"}
    assert plugins["io.containerd.server.v1.grpc"] == {"address": "/run/c.sock", "uid": 0, "gid": 0,
                                                       "max_recv_message_size": 100}
    assert plugins["io.containerd.server.v1.grpc-tcp"] == {"address": "127.0.0.1:9", "max_recv_message_size": 100}
    assert plugins["io.containerd.server.v1.ttrpc"] == {"address": "/run/c.sock.ttrpc", "uid": 0, "gid": 0}
    assert plugins["io.containerd.server.v1.debug"] == {"address": "/run/d.sock", "uid": 0, "gid": 0}
    assert plugins["io.containerd.server.v1.metrics"] == {"address": "127.0.0.1:1338"}
    assert "io.containerd.metrics.v1.grpc-prometheus" not in plugins
    assert not any("ignores the top-level [debug]" in w for w in result.warnings)


def test_server_debug_level_setting_stays_top_level_on_v4():
    data = run(None, V23, settings={"server.debug.level": "warn"})[1]
    assert data["debug"] == {"level": "warn"}


def test_the_nodes_default_runtime_stays_without_a_spec():
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  default_runtime_name = "nvidia"\n'
            '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]\n  runtime_type = "io.containerd.runc.v2"\n')
    for version, base in ((V17, ("plugins", CRI)), (V21, ("plugins", RT))):
        data = run(text, version)[1]
        node = data
        for key in base + ("containerd",):
            node = node[key]
        assert node["default_runtime_name"] == "nvidia"
    data = run(text, V17, default_runtime="runc")[1]
    assert data["plugins"][CRI]["containerd"]["default_runtime_name"] == "runc"


def test_cgroupfs_writes_nothing_where_systemd_cgroup_is_absent():
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
            '  runtime_type = "io.containerd.runc.v2"\n')
    data = run(text, V17)[1]
    assert "options" not in data["plugins"][CRI]["containerd"]["runtimes"]["runc"]
    data = run(text, V17, cgroup_driver="systemd")[1]
    assert data["plugins"][CRI]["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
