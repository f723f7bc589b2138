"""The CRI runtime.v1 messages on the protobuf wire: encoders, decoders, and responses captured from real runtimes.

tests/unit/fixtures/cri/containerd-<version>.json hold the raw (base64) responses of a lab node's containerd to the
requests tests/lab/cri_tool.py makes (captured with python3-grpcio and an identity deserializer).
"""
import base64
import glob
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import cri_proto as p

FIXTURES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "cri", "*.json")))


# ---------------------------------------------------------------- wire format


@given(st.integers(min_value=0, max_value=2 ** 64 - 1))
def test_varint_roundtrip(value):
    encoded = p.encode_varint(value)
    assert p.decode_varint(encoded) == (value, len(encoded))
    assert len(encoded) <= 10


def test_known_protobuf_bytes():
    assert p.encode_varint(300) == b"\xac\x02"
    assert p.encode_varint(-1) == b"\xff" * 9 + b"\x01"
    assert p.encode_message([(1, 150)]) == b"\x08\x96\x01"  # protobuf encoding guide
    assert p.encode_message([(2, "testing")]) == b"\x12\x07testing"
    assert p.decode_message(b"\x0d\x01\x00\x00\x00\x11" + b"\x02" + b"\x00" * 7) == [(1, 5, 1), (2, 1, 2)]
    # proto3 defaults are not sent
    assert p.encode_message([(1, ""), (2, 0), (3, False), (4, None), (5, [])]) == b""


FIELD_NUMBERS = st.integers(min_value=1, max_value=2 ** 29 - 1)
SCALAR = st.one_of(st.booleans(), st.integers(min_value=1, max_value=2 ** 64 - 1), st.binary(min_size=1, max_size=40),
                   st.text(min_size=1, max_size=20))


def _wire(value):
    if isinstance(value, (bool, int)):
        return 0, int(value)
    return 2, value.encode("utf-8") if isinstance(value, str) else value


@given(st.lists(st.tuples(FIELD_NUMBERS, SCALAR), max_size=12))
def test_message_roundtrip(fields):
    expected = [(number,) + _wire(value) for number, value in fields if value is not False]
    assert p.decode_message(p.encode_message(fields)) == expected


@given(st.binary(max_size=64))
def test_decoders_never_crash_on_garbage(data):
    for decode in (p.decode_message, p.decode_version_response, p.decode_status_response,
                   p.decode_pod_sandbox_status_response, p.decode_container_status_response):
        try:
            decode(data)
        except p.ProtobufError:
            pass


def test_wrong_wire_type_is_refused():
    with pytest.raises(p.ProtobufError, match="runtime_name"):
        p.decode_version_response(b"\x10\x01")  # field 2 as a varint


# ---------------------------------------------------------------- requests


def test_version_and_status_requests():
    assert p.encode_version_request() == b"\x0a\x02v1"
    assert p.encode_status_request({"verbose": True}) == b"\x08\x01"
    assert p.encode_status_request({"verbose": False}) == b""


def _by_number(data):
    out = {}
    for number, dummy, value in p.decode_message(data):
        out.setdefault(number, []).append(value)
    return out


def test_pull_image_with_auth_config():
    data = p.encode_pull_image_request({"image": "reg.lab:5000/app:1",
                                        "auth": {"username": "u", "password": "s3cret", "server_address": "reg.lab:5000"}})
    fields = _by_number(data)
    assert _by_number(fields[1][0]) == {1: [b"reg.lab:5000/app:1"]}  # ImageSpec.image
    assert _by_number(fields[2][0]) == {1: [b"u"], 2: [b"s3cret"], 4: [b"reg.lab:5000"]}  # AuthConfig
    assert 2 not in _by_number(p.encode_pull_image_request({"image": "x", "auth": {}}))
    with pytest.raises(p.ProtobufError, match="auth: unknown keys token"):
        p.encode_pull_image_request({"image": "x", "auth": {"token": "t"}})
    with pytest.raises(p.ProtobufError, match="^image"):
        p.encode_pull_image_request({"image": ""})


SANDBOX = {"name": "web", "uid": "u-1", "namespace": "default", "hostname": "web", "log_directory": "/var/log/x",
           "labels": {"b": "2", "a": "1"}, "network": "node", "cgroup_parent": "/kubelayer"}


def test_run_pod_sandbox_request_fields():
    request = _by_number(p.encode_run_pod_sandbox_request({"config": SANDBOX, "runtime_handler": "crun"}))
    assert request[2] == [b"crun"]  # runtime_handler
    config = _by_number(request[1][0])
    assert _by_number(config[1][0]) == {1: [b"web"], 2: [b"u-1"], 3: [b"default"]}  # metadata, attempt 0 omitted
    assert config[2] == [b"web"] and config[3] == [b"/var/log/x"]
    assert [_by_number(entry) for entry in config[6]] == [{1: [b"a"], 2: [b"1"]}, {1: [b"b"], 2: [b"2"]}]
    linux = _by_number(config[8][0])
    assert linux[1] == [b"/kubelayer"]
    namespace_options = _by_number(_by_number(linux[2][0])[1][0])  # security_context.namespace_options
    assert namespace_options == {1: [2]}  # network NODE; pid and ipc POD (0) are defaults


def test_own_netns_sandbox_sends_pod_mode_and_no_handler():
    request = _by_number(p.encode_run_pod_sandbox_request({"config": dict(SANDBOX, network="pod")}))
    assert 2 not in request
    linux = _by_number(_by_number(request[1][0])[8][0])
    assert _by_number(_by_number(linux[2][0])[1][0]) == {}


@pytest.mark.parametrize("change, message", [
    ({"name": ""}, "^name"), ({"uid": None}, "^uid"), ({"network": "bridge"}, "^network: 'bridge'"),
])
def test_bad_sandbox_configs_are_refused(change, message):
    with pytest.raises(p.ProtobufError, match=message):
        p.encode_run_pod_sandbox_request({"config": dict(SANDBOX, **change)})


def test_create_container_request_fields():
    data = p.encode_create_container_request({
        "pod_sandbox_id": "sb", "sandbox_config": SANDBOX, "name": "c", "image": "img:1",
        "command": ["/bin/sh", "-c", "echo hi"], "envs": {"A": "1"}, "log_path": "c.log",
        "mounts": [{"host_path": "/sys/fs/cgroup", "container_path": "/sys/fs/cgroup", "readonly": True}]})
    request = _by_number(data)
    assert request[1] == [b"sb"]
    assert request[3] == [p.encode_message(p.sandbox_config_fields(SANDBOX))]
    config = _by_number(request[2][0])
    assert _by_number(config[1][0]) == {1: [b"c"]}
    assert _by_number(config[2][0]) == {1: [b"img:1"]}
    assert config[3] == [b"/bin/sh", b"-c", b"echo hi"]
    assert _by_number(config[6][0]) == {1: [b"A"], 2: [b"1"]}
    assert config[11] == [b"c.log"]
    assert _by_number(config[7][0]) == {1: [b"/sys/fs/cgroup"], 2: [b"/sys/fs/cgroup"], 3: [1]}
    security = _by_number(_by_number(config[15][0])[2][0])  # linux.security_context
    assert _by_number(security[3][0]) == {1: [2], 2: [1]}  # network follows the sandbox (NODE), pid CONTAINER


def test_id_requests():
    assert p.encode_sandbox_id_request({"pod_sandbox_id": "abc"}) == b"\x0a\x03abc"
    assert p.encode_sandbox_id_request({"pod_sandbox_id": "abc", "verbose": True}) == b"\x0a\x03abc\x10\x01"
    assert p.encode_container_id_request({"container_id": "c", "timeout": 30}) == b"\x0a\x01c\x10\x1e"
    with pytest.raises(p.ProtobufError, match="^container_id"):
        p.encode_container_id_request({})


# ---------------------------------------------------------------- decoders on synthetic data


@settings(max_examples=examples(50))
@given(st.text(max_size=20), st.text(max_size=20), st.text(max_size=30), st.text(max_size=5))
def test_version_response_decoding(version, name, runtime_version, api):
    data = p.encode_message([(1, version), (2, name), (3, runtime_version), (4, api), (9, 7)])
    assert p.decode_version_response(data) == {
        "version": version, "runtime_name": name, "runtime_version": runtime_version, "runtime_api_version": api}


def test_status_response_decoding():
    data = p.encode_message([
        (1, [(1, [(1, "RuntimeReady"), (2, True)]), (1, [(1, "NetworkReady"), (3, "NetworkPluginNotReady")])]),
        (2, [(1, "config"), (2, '{"a": 1}')]), (2, [(1, "golang"), (2, "go1.21")]),
        (3, [(1, "runc"), (2, [(1, True)])]), (4, [(1, True)])])
    decoded = p.decode_status_response(data)
    assert decoded["conditions"] == [
        {"type": "RuntimeReady", "status": True, "reason": "", "message": ""},
        {"type": "NetworkReady", "status": False, "reason": "NetworkPluginNotReady", "message": ""}]
    assert decoded["runtime_handlers"] == [
        {"name": "runc", "features": {"recursive_read_only_mounts": True, "user_namespaces": False}}]
    assert p.parse_info(decoded["info"]) == {"config": {"a": 1}, "golang": "go1.21"}


def test_sandbox_and_container_status_decoding():
    sandbox = p.encode_message([(1, [(1, "sb"), (3, 1), (5, [(1, "10.244.1.5"), (2, [(1, "fd00::5")])]),
                                     (6, [(1, [(2, [(1, 2)])])]), (9, "crun")]), (2, [(1, "info"), (2, "{}")])])
    status = p.decode_pod_sandbox_status_response(sandbox)["status"]
    assert (status["id"], status["state"], status["ip"], status["additional_ips"]) == (
        "sb", "SANDBOX_NOTREADY", "10.244.1.5", ["fd00::5"])
    assert status["namespace_options"]["network"] == "node" and status["runtime_handler"] == "crun"
    container = p.encode_message([(1, [(1, "c"), (3, 2), (7, p.encode_varint(-1) and -1), (10, "Error")])])
    assert p.decode_container_status_response(container)["status"]["exit_code"] == -1
    assert p.decode_container_status_response(container)["status"]["state"] == "CONTAINER_EXITED"


# ---------------------------------------------------------------- captured real responses


@pytest.fixture(params=FIXTURES, ids=[os.path.basename(f)[:-5] for f in FIXTURES])
def captured(request):
    with open(request.param) as handle:
        data = json.load(handle)
    return data["runtime_version"], dict((k, base64.b64decode(v)) for k, v in data["responses"].items())


def test_there_are_captures_of_every_lab_release():
    names = [os.path.basename(f) for f in FIXTURES]
    for line in ("1.6.", "1.7.", "2.1."):  # bookworm, trixie, forky
        assert any(n.startswith("containerd-" + line) for n in names), names


def test_captured_version_and_status(captured):
    runtime_version, raw = captured
    version = p.decode_version_response(raw["version"])
    assert version == {"version": "0.1.0", "runtime_name": "containerd", "runtime_version": runtime_version,
                       "runtime_api_version": "v1"}
    status = p.decode_status_response(raw["status_verbose"])
    assert [c["type"] for c in status["conditions"]][:2] == ["RuntimeReady", "NetworkReady"]
    assert status["conditions"][0]["status"] is True
    info = p.parse_info(status["info"])
    assert info["config"]["containerd"]["defaultRuntimeName"] == "runc"
    assert "/opt/cni/bin" in json.dumps(info["config"]["cni"])


def test_captured_sandbox_lifecycle(captured):
    dummy, raw = captured
    sandbox_id = p.decode_run_pod_sandbox_response(raw["run_pod_sandbox"])["pod_sandbox_id"]
    assert len(sandbox_id) == 64
    status = p.decode_pod_sandbox_status_response(raw["pod_sandbox_status"])["status"]
    assert status["id"] == sandbox_id and status["state"] == "SANDBOX_READY"
    assert status["ip"].startswith("10.") and status["namespace_options"]["network"] == "pod"
    assert status["metadata"]["name"] == "capture"
    container_id = p.decode_create_container_response(raw["create_container"])["container_id"]
    container = p.decode_container_status_response(raw["container_status"])["status"]
    assert container["id"] == container_id and container["state"] == "CONTAINER_CREATED"
    assert container["image"] == "localhost/kubelayer/busybox:1"
    assert p.decode_empty_response(raw["stop_pod_sandbox"]) == {} == p.decode_empty_response(raw["remove_pod_sandbox"])
