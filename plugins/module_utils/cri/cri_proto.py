# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few CRI ``runtime.v1`` messages the collection sends and reads, on the protobuf wire format.

Pure functions, standard library only (runs on nodes, python 3.8+), no generated code and no protobuf
package. Each RPC is an :class:`Rpc` (gRPC method path, request encoder, response decoder) that a
transport (``grpc_client.CriClient`` on python3-grpcio) calls with a plain dict and gets a plain dict back.

Field numbers are those of ``k8s.io/cri-api/pkg/apis/runtime/v1/api.proto``. Only the fields listed
here are encoded; unknown response fields are skipped, as protobuf readers must.

This file imports nothing from the collection, so lab scripts can copy it next to themselves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import struct
from collections import namedtuple

RUNTIME_SERVICE = "/runtime.v1.RuntimeService/"
IMAGE_SERVICE = "/runtime.v1.ImageService/"
NAMESPACE_MODES = {"pod": 0, "container": 1, "node": 2, "target": 3}
SANDBOX_STATES = {0: "SANDBOX_READY", 1: "SANDBOX_NOTREADY"}
CONTAINER_STATES = {0: "CONTAINER_CREATED", 1: "CONTAINER_RUNNING", 2: "CONTAINER_EXITED", 3: "CONTAINER_UNKNOWN"}


class ProtobufError(ValueError):
    """Malformed protobuf wire data, or a request this module cannot encode."""


# ---------------------------------------------------------------------------
# protobuf wire format
# ---------------------------------------------------------------------------
WIRE_VARINT, WIRE_FIXED64, WIRE_LEN, WIRE_FIXED32 = 0, 1, 2, 5


def encode_varint(value):
    if value < 0:
        value += 1 << 64  # int64 negatives are 10-byte two's complement
    if value >= 1 << 64:
        raise ProtobufError("varint out of range")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def decode_varint(data, pos=0):
    """Return (value, new_pos)."""
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        if shift >= 64 or (shift == 63 and byte > 1):
            raise ProtobufError("varint too long")
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def encode_field(number, value):
    """One field: bool/int as varint, str/bytes length-delimited, a list of (number, value) pairs as a message."""
    if number < 1 or number > (1 << 29) - 1:
        raise ProtobufError("field number out of range: %r" % (number,))
    if isinstance(value, bool):
        return encode_varint(number << 3 | WIRE_VARINT) + (b"\x01" if value else b"\x00")
    if isinstance(value, int):
        return encode_varint(number << 3 | WIRE_VARINT) + encode_varint(value)
    if isinstance(value, (list, tuple)):
        value = encode_message(value)
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return encode_varint(number << 3 | WIRE_LEN) + encode_varint(len(value)) + bytes(value)
    raise ProtobufError("cannot encode %s" % type(value).__name__)


def encode_message(fields):
    """Encode (number, value) pairs; proto3 defaults (None, "", 0, False, empty) are left out."""
    return b"".join(encode_field(number, value) for number, value in fields
                    if value is not None and value != "" and value is not False
                    and not (isinstance(value, int) and not isinstance(value, bool) and value == 0)
                    and not (isinstance(value, (list, tuple)) and not value))


def _read_field(data, pos):
    key, pos = decode_varint(data, pos)
    number, wire = key >> 3, key & 7
    if number == 0:
        raise ProtobufError("field number 0")
    if wire == WIRE_VARINT:
        value, pos = decode_varint(data, pos)
        return number, wire, value, pos
    size = {WIRE_FIXED64: 8, WIRE_FIXED32: 4}.get(wire)
    if size:
        if pos + size > len(data):
            raise ProtobufError("truncated fixed%d" % (size * 8))
        value = struct.unpack("<Q" if size == 8 else "<I", data[pos:pos + size])[0]
        return number, wire, value, pos + size
    if wire != WIRE_LEN:
        raise ProtobufError("unsupported wire type %d" % wire)
    length, pos = decode_varint(data, pos)
    if pos + length > len(data):
        raise ProtobufError("truncated length-delimited field")
    return number, wire, data[pos:pos + length], pos + length


def decode_message(data):
    """Wire data -> list of (field_number, wire_type, value); varint/fixed values are ints, the rest bytes."""
    data = bytes(data)
    out = []
    pos = 0
    while pos < len(data):
        number, wire, value, pos = _read_field(data, pos)
        out.append((number, wire, value))
    return out


def _text(value):
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtobufError("invalid UTF-8 in a string field")


def _fields(data, schema):
    """Decode ``data`` by ``schema`` {number: (name, kind)}; kinds: str, bool, int, bytes, or a decoder function.

    Names ending in ``[]`` collect repeated fields; missing fields get their proto3 default.
    """
    out = {}
    for name, kind in schema.values():
        out[name.rstrip("[]")] = [] if name.endswith("[]") else {str: "", bool: False, int: 0}.get(kind)
    for number, wire, value in decode_message(data):
        if number not in schema:
            continue
        name, kind = schema[number]
        if wire != (WIRE_VARINT if kind in (bool, int) else WIRE_LEN):
            raise ProtobufError("field %s (%d) has wire type %d" % (name.rstrip("[]"), number, wire))
        value = _text(value) if kind is str else bool(value) if kind is bool else value if kind in (int, bytes) else kind(value)
        if name.endswith("[]"):
            out[name[:-2]].append(value)
        else:
            out[name] = value
    return out


def _map_entry(data):
    entry = _fields(data, {1: ("key", str), 2: ("value", str)})
    return entry["key"], entry["value"]


def _map(entries):
    return dict(entries)


def _map_fields(mapping):
    """A ``map<string, string>`` as repeated entries (sorted, so requests are deterministic)."""
    return [[(1, key), (2, value)] for key, value in sorted((mapping or {}).items())]


# ---------------------------------------------------------------------------
# Version, Status
# ---------------------------------------------------------------------------
def encode_version_request(request=None):
    return encode_message([(1, (request or {}).get("version", "v1"))])


def decode_version_response(data):
    return _fields(data, {1: ("version", str), 2: ("runtime_name", str), 3: ("runtime_version", str),
                          4: ("runtime_api_version", str)})


def encode_status_request(request=None):
    return encode_message([(1, bool((request or {}).get("verbose", True)))])


def _decode_condition(data):
    return _fields(data, {1: ("type", str), 2: ("status", bool), 3: ("reason", str), 4: ("message", str)})


def _decode_handler(data):
    handler = _fields(data, {1: ("name", str), 2: ("features", bytes)})
    handler["features"] = _fields(handler["features"] or b"", {1: ("recursive_read_only_mounts", bool),
                                                               2: ("user_namespaces", bool)})
    return handler


def decode_status_response(data):
    """runtime.v1.StatusResponse: conditions, the info map (raw JSON strings), runtime handlers."""
    out = _fields(data, {1: ("status", bytes), 2: ("info[]", _map_entry), 3: ("runtime_handlers[]", _decode_handler)})
    out["conditions"] = _fields(out.pop("status") or b"", {1: ("conditions[]", _decode_condition)})["conditions"]
    out["info"] = _map(out["info"])
    return out


def parse_info(info):
    """Verbose ``info`` values are JSON strings: parse those that are."""
    out = {}
    for key, value in info.items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


# ---------------------------------------------------------------------------
# PullImage
# ---------------------------------------------------------------------------
AUTH_FIELDS = (("username", 1), ("password", 2), ("auth", 3), ("server_address", 4), ("identity_token", 5),
               ("registry_token", 6))


def encode_pull_image_request(request):
    """``{"image": ref, "auth": {"username", "password", "auth", "server_address", ...}}`` (auth optional)."""
    if not request.get("image"):
        raise ProtobufError("image: give an image reference")
    auth = request.get("auth") or {}
    unknown = sorted(set(auth) - set(name for name, dummy in AUTH_FIELDS))
    if unknown:
        raise ProtobufError("auth: unknown keys %s" % ", ".join(unknown))
    auth_fields = [(number, auth.get(name)) for name, number in AUTH_FIELDS]
    return encode_message([(1, [(1, request["image"])]), (2, auth_fields if any(v for dummy, v in auth_fields) else None)])


def decode_pull_image_response(data):
    return _fields(data, {1: ("image_ref", str)})


# ---------------------------------------------------------------------------
# Pod sandboxes
# ---------------------------------------------------------------------------
def _namespace_mode(request, key):
    mode = request.get(key, "pod")
    if mode not in NAMESPACE_MODES:
        raise ProtobufError("%s: %r is not one of %s" % (key, mode, ", ".join(sorted(NAMESPACE_MODES))))
    return NAMESPACE_MODES[mode]


def sandbox_config_fields(config):
    """runtime.v1.PodSandboxConfig from ``{"name", "uid", "namespace", "attempt", "hostname", "log_directory",
    "labels", "annotations", "network": "pod"|"node", "cgroup_parent"}``."""
    for key in ("name", "uid", "namespace"):
        if not config.get(key):
            raise ProtobufError("%s: required for a pod sandbox" % key)
    namespaces = [(1, _namespace_mode(config, "network")), (2, _namespace_mode(config, "pid")),
                  (3, _namespace_mode(config, "ipc"))]
    linux = [(1, config.get("cgroup_parent")), (2, [(1, namespaces)])]
    metadata = [(1, config["name"]), (2, config["uid"]), (3, config["namespace"]), (4, int(config.get("attempt", 0)))]
    fields = [(1, metadata), (2, config.get("hostname")), (3, config.get("log_directory"))]
    fields += [(6, entry) for entry in _map_fields(config.get("labels"))]
    fields += [(7, entry) for entry in _map_fields(config.get("annotations"))]
    return fields + [(8, linux)]


def encode_run_pod_sandbox_request(request):
    """``{"config": {...sandbox_config_fields...}, "runtime_handler": "crun"}``."""
    return encode_message([(1, sandbox_config_fields(request["config"])), (2, request.get("runtime_handler"))])


def decode_run_pod_sandbox_response(data):
    return _fields(data, {1: ("pod_sandbox_id", str)})


def encode_sandbox_id_request(request):
    """Stop/RemovePodSandbox and PodSandboxStatus (with ``verbose``)."""
    if not request.get("pod_sandbox_id"):
        raise ProtobufError("pod_sandbox_id: required")
    return encode_message([(1, request["pod_sandbox_id"]), (2, bool(request.get("verbose")))])


def decode_empty_response(data):
    decode_message(data)
    return {}


def _decode_namespace_option(data):
    out = _fields(data, {1: ("network", int), 2: ("pid", int), 3: ("ipc", int), 4: ("target_id", str)})
    names = dict((number, name) for name, number in NAMESPACE_MODES.items())
    for key in ("network", "pid", "ipc"):
        out[key] = names.get(out[key], str(out[key]))
    return out


def _decode_sandbox_status(data):
    status = _fields(data, {1: ("id", str), 2: ("metadata", bytes), 3: ("state", int), 4: ("created_at", int),
                            5: ("network", bytes), 6: ("linux", bytes), 7: ("labels[]", _map_entry),
                            8: ("annotations[]", _map_entry), 9: ("runtime_handler", str)})
    metadata_schema = {1: ("name", str), 2: ("uid", str), 3: ("namespace", str), 4: ("attempt", int)}
    status["metadata"] = _fields(status["metadata"] or b"", metadata_schema)
    status["state"] = SANDBOX_STATES.get(status["state"], str(status["state"]))
    network = _fields(status.pop("network") or b"", {1: ("ip", str), 2: ("additional_ips[]", bytes)})
    status["ip"] = network["ip"]
    status["additional_ips"] = [_fields(ip, {1: ("ip", str)})["ip"] for ip in network["additional_ips"]]
    namespaces = _fields(_fields(status.pop("linux") or b"", {1: ("namespaces", bytes)})["namespaces"] or b"",
                         {2: ("options", bytes)})["options"]
    status["namespace_options"] = _decode_namespace_option(namespaces or b"")
    status["labels"] = _map(status["labels"])
    status["annotations"] = _map(status["annotations"])
    return status


def _status_response(data, decode_status):
    """A CRI *StatusResponse: field 1 the status (decoded, empty when absent), field 2 the verbose info map."""
    out = _fields(data, {1: ("status", decode_status), 2: ("info[]", _map_entry)})
    out["info"] = _map(out["info"])
    if out["status"] is None:
        out["status"] = decode_status(b"")
    return out


def decode_pod_sandbox_status_response(data):
    """runtime.v1.PodSandboxStatusResponse: the status (IP, state, namespaces) and the verbose info map."""
    return _status_response(data, _decode_sandbox_status)


# ---------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------
def encode_create_container_request(request):
    """``{"pod_sandbox_id", "sandbox_config": {...}, "name", "image", "command": [...], "args": [...],
    "envs": {...}, "mounts": [{"container_path", "host_path", "readonly"}], "log_path", "labels": {...}}``;
    the container shares the sandbox's network mode."""
    for key in ("pod_sandbox_id", "name", "image"):
        if not request.get(key):
            raise ProtobufError("%s: required for a container" % key)
    sandbox = request.get("sandbox_config") or {}
    namespaces = [(1, _namespace_mode(sandbox, "network")), (2, NAMESPACE_MODES["container"])]
    config = [(1, [(1, request["name"]), (2, int(request.get("attempt", 0)))]), (2, [(1, request["image"])])]
    config += [(3, item) for item in request.get("command") or []]
    config += [(4, item) for item in request.get("args") or []]
    config += [(6, [(1, key), (2, value)]) for key, value in sorted((request.get("envs") or {}).items())]
    config += [(7, [(1, m["container_path"]), (2, m["host_path"]), (3, bool(m.get("readonly")))])
               for m in request.get("mounts") or []]
    config += [(9, entry) for entry in _map_fields(request.get("labels"))]
    config += [(11, request.get("log_path")), (15, [(2, [(3, namespaces)])])]
    return encode_message([(1, request["pod_sandbox_id"]), (2, config), (3, sandbox_config_fields(sandbox))])


def decode_create_container_response(data):
    return _fields(data, {1: ("container_id", str)})


def encode_container_id_request(request):
    """Start/Stop/RemoveContainer and ContainerStatus (``verbose``); StopContainer's ``timeout`` in seconds."""
    if not request.get("container_id"):
        raise ProtobufError("container_id: required")
    return encode_message([(1, request["container_id"]), (2, request.get("timeout") or bool(request.get("verbose")))])


def _decode_container_status(data):
    status = _fields(data, {1: ("id", str), 2: ("metadata", bytes), 3: ("state", int), 4: ("created_at", int),
                            5: ("started_at", int), 6: ("finished_at", int), 7: ("exit_code", int),
                            8: ("image", bytes), 9: ("image_ref", str), 10: ("reason", str), 11: ("message", str),
                            15: ("log_path", str)})
    status["metadata"] = _fields(status["metadata"] or b"", {1: ("name", str), 2: ("attempt", int)})
    status["image"] = _fields(status["image"] or b"", {1: ("image", str)})["image"]
    status["state"] = CONTAINER_STATES.get(status["state"], str(status["state"]))
    if status["exit_code"] >= 1 << 31:  # int32 negatives arrive as 64-bit two's complement
        status["exit_code"] -= 1 << 64
    return status


def decode_container_status_response(data):
    """runtime.v1.ContainerStatusResponse: the status (state, exit code, image) and the verbose info map."""
    return _status_response(data, _decode_container_status)


Rpc = namedtuple("Rpc", "method encode decode")

VERSION = Rpc(RUNTIME_SERVICE + "Version", encode_version_request, decode_version_response)
STATUS = Rpc(RUNTIME_SERVICE + "Status", encode_status_request, decode_status_response)
PULL_IMAGE = Rpc(IMAGE_SERVICE + "PullImage", encode_pull_image_request, decode_pull_image_response)
RUN_POD_SANDBOX = Rpc(RUNTIME_SERVICE + "RunPodSandbox", encode_run_pod_sandbox_request, decode_run_pod_sandbox_response)
STOP_POD_SANDBOX = Rpc(RUNTIME_SERVICE + "StopPodSandbox", encode_sandbox_id_request, decode_empty_response)
REMOVE_POD_SANDBOX = Rpc(RUNTIME_SERVICE + "RemovePodSandbox", encode_sandbox_id_request, decode_empty_response)
POD_SANDBOX_STATUS = Rpc(RUNTIME_SERVICE + "PodSandboxStatus", encode_sandbox_id_request,
                         decode_pod_sandbox_status_response)
CREATE_CONTAINER = Rpc(RUNTIME_SERVICE + "CreateContainer", encode_create_container_request,
                       decode_create_container_response)
START_CONTAINER = Rpc(RUNTIME_SERVICE + "StartContainer", encode_container_id_request, decode_empty_response)
STOP_CONTAINER = Rpc(RUNTIME_SERVICE + "StopContainer", encode_container_id_request, decode_empty_response)
REMOVE_CONTAINER = Rpc(RUNTIME_SERVICE + "RemoveContainer", encode_container_id_request, decode_empty_response)
CONTAINER_STATUS = Rpc(RUNTIME_SERVICE + "ContainerStatus", encode_container_id_request,
                       decode_container_status_response)
