"""Tests for the crictl side of cri_info (command lines, output parsing, result shape)."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import crictl, cri_proto

# Output layout as printed by `crictl version` (text) and `crictl info` (JSON: "status" plus the
# runtime's verbose info keys, each parsed), per cri-tools' documented output.
VERSION_TEXT = "Version:  0.1.0\nRuntimeName:  containerd\nRuntimeVersion:  1.7.24~ds1\nRuntimeApiVersion:  v1\n"


def test_command_line_pins_the_endpoint():
    assert crictl.crictl_command("/usr/bin/crictl", "unix:///run/containerd/containerd.sock", 7, "info") == [
        "/usr/bin/crictl", "--runtime-endpoint", "unix:///run/containerd/containerd.sock", "--timeout", "7s", "info",
    ]


def test_parse_version_text_and_json():
    expected = {"version": "0.1.0", "runtime_name": "containerd", "runtime_version": "1.7.24~ds1", "runtime_api_version": "v1"}
    assert crictl.parse_version(VERSION_TEXT) == expected
    as_json = json.dumps({"version": "0.1.0", "runtimeName": "containerd", "runtimeVersion": "1.7.24~ds1", "runtimeApiVersion": "v1"})
    assert crictl.parse_version(as_json) == expected
    with pytest.raises(crictl.CrictlOutputError):
        crictl.parse_version("garbage")


def test_parse_info_splits_status_handlers_and_info():
    doc = {
        "status": {"conditions": [
            {"type": "RuntimeReady", "status": True, "reason": "", "message": ""},
            {"type": "NetworkReady", "status": False, "reason": "NetworkPluginNotReady", "message": "cni plugin not initialized"},
        ]},
        "runtimeHandlers": [{"name": "runc", "features": {"recursive_read_only_mounts": True, "user_namespaces": True}}],
        "features": {"supplemental_groups_policy": True},
        "config": {"containerd": {"defaultRuntimeName": "runc"}},
        "golang": "go1.23",
    }
    conditions, handlers, info = crictl.parse_info(json.dumps(doc))
    assert [c["type"] for c in conditions] == ["RuntimeReady", "NetworkReady"]
    assert handlers[0]["name"] == "runc" and handlers[0]["features"]["user_namespaces"] is True
    assert info == {"config": doc["config"], "golang": "go1.23"}
    result = crictl.shape_result(crictl.parse_version(VERSION_TEXT), conditions, handlers, info)
    assert result["runtime_ready"] is True
    assert result["network_ready"] is False
    assert result["network_ready_reason"] == "NetworkPluginNotReady cni plugin not initialized"
    assert result["runtime_semver"] == "1.7.24"
    assert result["config"]["containerd"]["defaultRuntimeName"] == "runc"
    assert result["runtime_handlers"] == ["runc"]


def test_both_paths_give_the_same_shape():
    """A Status response decoded by the gRPC client and the same data as crictl JSON agree."""
    config = {"sandboxImage": "registry.k8s.io/pause:3.8"}
    status = cri_proto.encode_message([
        (1, [(1, [(1, "RuntimeReady"), (2, True)]), (1, [(1, "NetworkReady"), (2, True)])]),
        (2, [(1, "config"), (2, json.dumps(config))]),
    ])
    decoded = cri_proto.decode_status_response(status)
    via_grpc = crictl.shape_result(crictl.parse_version(VERSION_TEXT), decoded["conditions"], decoded["runtime_handlers"],
                                   cri_proto.parse_info(decoded["info"]))
    as_crictl = json.dumps({"status": {"conditions": decoded["conditions"]}, "config": config})
    conditions, handlers, info = crictl.parse_info(as_crictl)
    via_crictl = crictl.shape_result(crictl.parse_version(VERSION_TEXT), conditions, handlers, info)
    assert via_grpc == via_crictl


@pytest.mark.parametrize("text", ["not json", "[]", '{"config": {}}'])
def test_parse_info_rejects(text):
    with pytest.raises(crictl.CrictlOutputError):
        crictl.parse_info(text)


@pytest.mark.parametrize(
    "installed, wanted, ok",
    [
        ("1.6.20~ds1", "", True),
        ("", "", False),
        ("1.6.20~ds1", "1.6", True),
        ("1.6.20~ds1", "1.6.20", True),
        ("1.6.20~ds1", "1.7", False),
        ("v2.1.4", "2.1.4", True),
        ("2.1.4-1", "v2.1", True),
        ("2.10.1", "2.1", False),
    ],
)
def test_version_matches(installed, wanted, ok):
    assert crictl.version_matches(installed, wanted) is ok


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.sampled_from(["", "~ds1", "-1", "+deb12u3"]))
def test_semver_extracts_numbers(major, minor, patch, suffix):
    version = "%d.%d.%d%s" % (major, minor, patch, suffix)
    assert crictl.semver("v" + version) == "%d.%d.%d" % (major, minor, patch)
    assert crictl.version_matches(version, "%d.%d" % (major, minor))


def test_parse_crictl_yaml():
    text = "runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: 'unix:///x'\ntimeout: 10\ndebug: false\n# c\n"
    assert crictl.parse_crictl_yaml(text) == {
        "runtime-endpoint": "unix:///run/containerd/containerd.sock",
        "image-endpoint": "unix:///x",
        "timeout": 10,
        "debug": False,
    }
