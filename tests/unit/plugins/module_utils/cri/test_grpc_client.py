"""Tests for the stdlib gRPC/HTTP2/HPACK/protobuf client used by cri_info."""
import json
import socket
import struct
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import grpc_client as g

# ---------------------------------------------------------------- protobuf


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=2 ** 64 - 1))
def test_varint_roundtrip(value):
    encoded = g.encode_varint(value)
    assert g.decode_varint(encoded) == (value, len(encoded))
    assert len(encoded) <= 10


def test_varint_known_encodings():
    assert g.encode_varint(0) == b"\x00"
    assert g.encode_varint(1) == b"\x01"
    assert g.encode_varint(300) == b"\xac\x02"
    assert g.encode_varint(-1) == b"\xff" * 9 + b"\x01"


FIELD_NUMBERS = st.integers(min_value=1, max_value=2 ** 29 - 1)
SCALAR = st.one_of(st.booleans(), st.integers(min_value=0, max_value=2 ** 64 - 1), st.binary(max_size=40), st.text(max_size=20))


def _normalise(fields):
    out = []
    for number, value in fields:
        if isinstance(value, bool):
            out.append((number, 0, int(value)))
        elif isinstance(value, int):
            out.append((number, 0, value))
        elif isinstance(value, str):
            out.append((number, 2, value.encode("utf-8")))
        else:
            out.append((number, 2, bytes(value)))
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(FIELD_NUMBERS, SCALAR), max_size=12))
def test_message_roundtrip(fields):
    assert g.decode_message(g.encode_message(fields)) == _normalise(fields)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_decoder_never_crashes_on_garbage(data):
    try:
        fields = g.decode_message(data)
    except g.ProtobufError:
        return
    for number, wire, _value in fields:
        assert number >= 1 and wire in (0, 1, 2, 5)


def test_known_protobuf_bytes():
    # field 1 varint 150 -> 08 96 01 (protobuf encoding guide)
    assert g.encode_message([(1, 150)]) == b"\x08\x96\x01"
    assert g.encode_message([(2, "testing")]) == b"\x12\x07testing"
    assert g.encode_message([(1, True)]) == b"\x08\x01"  # StatusRequest{verbose: true}
    assert g.decode_message(b"\x0d\x01\x00\x00\x00\x11" + b"\x02" + b"\x00" * 7) == [(1, 5, 1), (2, 1, 2)]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20), st.text(max_size=30), st.text(max_size=5))
def test_version_response_decoding(version, name, runtime_version, api):
    data = g.encode_message([(1, version), (2, name), (3, runtime_version), (4, api), (9, 7)])
    assert g.decode_version_response(data) == {
        "version": version, "runtime_name": name, "runtime_version": runtime_version, "runtime_api_version": api,
    }


CONDITION = st.tuples(st.text(max_size=12), st.booleans(), st.text(max_size=12), st.text(max_size=12))


@settings(max_examples=200, deadline=None)
@given(st.lists(CONDITION, max_size=4), st.dictionaries(st.text(max_size=8), st.text(max_size=30), max_size=4))
def test_status_response_decoding(conditions, info):
    status = [(1, [(1, t), (2, s), (3, r), (4, m)]) for t, s, r, m in conditions]
    fields = [(1, status)] + [(2, [(1, k), (2, v)]) for k, v in info.items()]
    fields.append((3, [(1, "runc"), (2, [(1, True), (2, False)])]))
    decoded = g.decode_status_response(g.encode_message(fields))
    assert decoded["conditions"] == [{"type": t, "status": s, "reason": r, "message": m} for t, s, r, m in conditions]
    assert decoded["info"] == info
    assert decoded["runtime_handlers"] == [
        {"name": "runc", "features": {"recursive_read_only_mounts": True, "user_namespaces": False}}
    ]


# ---------------------------------------------------------------- HPACK


def test_huffman_rfc7541_examples():
    # RFC 7541 C.4.1 / C.4.2 / C.6.1
    assert g.huffman_encode(b"www.example.com") == bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ff")
    assert g.huffman_encode(b"no-cache") == bytes.fromhex("a8eb10649cbf")
    assert g.huffman_encode(b"302") == bytes.fromhex("6402")
    assert g.huffman_decode(bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ff")) == b"www.example.com"


def test_huffman_code_is_complete_prefix_code():
    # Kraft equality: a canonical code built from the lengths uses every code point.
    assert sum(2.0 ** -length for length in g.HUFFMAN_LENGTHS) == pytest.approx(1.0)
    assert g.HUFFMAN_CODES[256] == (1 << 30) - 1  # EOS is all ones


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_huffman_roundtrip(data):
    assert g.huffman_decode(g.huffman_encode(data)) == data


def test_huffman_rejects_bad_padding():
    with pytest.raises(g.HpackError):
        g.huffman_decode(b"\x00")  # '0' symbol code 00000 then 000 padding (not ones)


def test_hpack_rfc7541_c3_requests_without_huffman():
    dec = g.HpackDecoder()
    first = bytes.fromhex("828684410f7777772e6578616d706c652e636f6d")
    assert dec.decode(first) == [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]
    assert dec.size == 57
    second = bytes.fromhex("828684be58086e6f2d6361636865")
    assert dec.decode(second) == [
        (":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"),
        ("cache-control", "no-cache"),
    ]
    assert dec.size == 110


def test_hpack_rfc7541_c4_huffman_request():
    dec = g.HpackDecoder()
    block = bytes.fromhex("828684418cf1e3c2e5f23a6ba0ab90f4ff")
    assert dec.decode(block)[-1] == (":authority", "www.example.com")


def test_hpack_eviction_and_size_update():
    dec = g.HpackDecoder(max_size=64)
    # literal with incremental indexing, new name: 32 + 4 + 4 = 40 octets each
    block = b"\x40" + g.encode_string("aaaa") + g.encode_string("1111")
    block += b"\x40" + g.encode_string("bbbb") + g.encode_string("2222")
    dec.decode(block)
    assert dec.table == [("bbbb", "2222")]
    assert dec.decode(b"\xbe") == [("bbbb", "2222")]  # index 62 = newest dynamic entry
    dec.decode(b"\x20")  # size update to 0 empties the table
    assert dec.table == [] and dec.size == 0
    with pytest.raises(g.HpackError):
        dec.decode(b"\xbe")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=15), st.text(max_size=30)), max_size=8), st.booleans())
def test_hpack_literal_roundtrip(headers, huffman):
    assert g.HpackDecoder().decode(g.encode_headers(headers, huffman)) == headers


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2 ** 28), st.integers(min_value=1, max_value=8))
def test_hpack_integer_roundtrip(value, prefix):
    encoded = g.encode_integer(value, prefix)
    assert g.decode_integer(encoded, 0, prefix) == (value, len(encoded))


# ---------------------------------------------------------------- HTTP/2 + gRPC against an in-process server


class FakeCriServer(threading.Thread):
    """Speaks HTTP/2 the way grpc-go does (Huffman, indexing, split frames) on one socket."""

    def __init__(self, sock, responses):
        super().__init__(daemon=True)
        self.sock = sock
        self.responses = responses
        self.requests = []
        self.buf = bytearray()

    def recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def run(self):
        try:
            assert self.recv_exact(len(g.PREFACE)) == g.PREFACE
            self.sock.sendall(g.frame(g.SETTINGS, 0, 0, struct.pack(">HI", 5, 16384)) + g.frame(g.PING, 0, 0, b"12345678"))
            dec = g.HpackDecoder()
            path = None
            while True:
                length, ftype, flags, stream = g.parse_frame_header(self.recv_exact(9))
                payload = self.recv_exact(length)
                if ftype == g.HEADERS:
                    path = dict(dec.decode(payload))[":path"]
                elif ftype == g.DATA and flags & g.FLAG_END_STREAM:
                    self.requests.append((path, g.grpc_messages(payload)[0]))
                    self.respond(stream, path)
                elif ftype == g.GOAWAY:
                    return
        except (EOFError, OSError):
            return

    def respond(self, stream, path):
        kind, message = self.responses[path]
        if kind == "error":
            trailers = b"\x88" + b"\x40" + g.encode_string("grpc-status", True) + g.encode_string("12", True)
            trailers += b"\x00" + g.encode_string("grpc-message") + g.encode_string("unknown%20method")
            self.sock.sendall(g.frame(g.HEADERS, g.FLAG_END_HEADERS | g.FLAG_END_STREAM, stream, trailers))
            return
        head = b"\x88" + b"\x40" + g.encode_string("content-type", True) + g.encode_string("application/grpc", True)
        body = g.grpc_frame(message)
        half = len(body) // 2
        # headers split across HEADERS (padded) + CONTINUATION, body across two DATA frames (one padded)
        padded = bytes([3]) + head[:2] + b"\x00\x00\x00"
        self.sock.sendall(
            g.frame(g.HEADERS, g.FLAG_PADDED, stream, padded)
            + g.frame(g.CONTINUATION, g.FLAG_END_HEADERS, stream, head[2:])
            + g.frame(g.WINDOW_UPDATE, 0, 0, struct.pack(">I", 10))
            + g.frame(g.DATA, g.FLAG_PADDED, stream, bytes([2]) + body[:half] + b"\x00\x00")
            + g.frame(g.DATA, 0, stream, body[half:])
            + g.frame(g.HEADERS, g.FLAG_END_HEADERS | g.FLAG_END_STREAM, stream, b"\x00" + g.encode_string("grpc-status", True) + g.encode_string("0"))
        )


def _client_with(responses):
    ours, theirs = socket.socketpair()
    server = FakeCriServer(theirs, responses)
    server.start()
    return g.CriClient(endpoint="unix:///fake.sock", timeout=5, sock=ours), server


def test_client_version_and_status_over_http2():
    version = g.encode_message([(1, "0.1.0"), (2, "containerd"), (3, "1.7.24~ds1"), (4, "v1")])
    config = {"containerd": {"defaultRuntimeName": "runc"}, "sandboxImage": "registry.k8s.io/pause:3.8"}
    status = g.encode_message([
        (1, [(1, [(1, "RuntimeReady"), (2, True)]), (1, [(1, "NetworkReady"), (2, False), (3, "NetworkPluginNotReady"), (4, "cni plugin not initialized")])]),
        (2, [(1, "config"), (2, json.dumps(config) * 1)]),
        (2, [(1, "golang"), (2, '"go1.22"')]),
        (2, [(1, "raw"), (2, "not json")]),
    ])
    client, server = _client_with({
        "/runtime.v1.RuntimeService/Version": ("ok", version),
        "/runtime.v1.RuntimeService/Status": ("ok", status),
    })
    with client:
        assert client.version()["runtime_version"] == "1.7.24~ds1"
        result = client.status()
        assert client.version()["runtime_name"] == "containerd"  # dynamic table state carried across streams
    assert server.requests[1] == ("/runtime.v1.RuntimeService/Status", b"\x08\x01")
    assert [c["type"] for c in result["conditions"]] == ["RuntimeReady", "NetworkReady"]
    assert result["conditions"][1]["reason"] == "NetworkPluginNotReady"
    info = g.parse_info(result["info"])
    assert info == {"config": config, "golang": "go1.22", "raw": "not json"}


def test_client_reports_grpc_errors():
    client, _server = _client_with({"/runtime.v1.RuntimeService/Version": ("error", b"")})
    with client, pytest.raises(g.GrpcError) as err:
        client.version()
    assert err.value.code == 12
    assert "unknown method" in str(err.value)


def test_client_cannot_connect_to_missing_socket(tmp_path):
    with pytest.raises(g.GrpcError, match="cannot connect"):
        g.CriClient(endpoint="unix://%s" % (tmp_path / "none.sock"), timeout=1).version()


@pytest.mark.parametrize("endpoint", ["tcp://1.2.3.4:5", "relative.sock"])
def test_socket_path_rejects(endpoint):
    with pytest.raises(g.GrpcError):
        g.socket_path(endpoint)
