# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal gRPC client for the CRI over a unix socket, stdlib only.

Runs on nodes (python 3.8+ syntax, no grpcio, no protobuf stubs):

* protobuf wire format encoding/decoding by hand (varint, length-delimited,
  fixed32/64) plus decoders for the few CRI ``runtime.v1`` messages we use;
* HPACK (RFC 7541): requests use literal header fields without indexing and
  without Huffman coding; responses are decoded fully (static and dynamic
  table, Huffman strings, table size updates);
* HTTP/2 (RFC 9113) with prior knowledge: preface, SETTINGS, HEADERS(+
  CONTINUATION), DATA, WINDOW_UPDATE, PING, RST_STREAM, GOAWAY;
* gRPC length-prefixed messages and ``grpc-status`` trailers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import struct

try:
    from urllib.parse import unquote
except ImportError:  # pragma: no cover
    from urllib import unquote  # type: ignore

DEFAULT_ENDPOINT = "unix:///run/containerd/containerd.sock"
RUNTIME_SERVICE = "/runtime.v1.RuntimeService/"


class GrpcError(Exception):
    """A transport, protocol or gRPC status error (``code`` is the gRPC status, or None)."""

    def __init__(self, message, code=None):
        super(GrpcError, self).__init__(message)
        self.code = code


class ProtobufError(ValueError):
    """Malformed protobuf wire data."""


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
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


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
    """Encode one field: bool/int as varint, str/bytes as length-delimited.

    A list/tuple of (number, value) pairs is encoded as a nested message.
    """
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
    return b"".join(encode_field(number, value) for number, value in fields)


def decode_message(data):
    """Decode wire data into a list of (field_number, wire_type, value).

    varint and fixed values are ints; length-delimited values are bytes.
    """
    data = bytes(data)
    out = []
    pos = 0
    while pos < len(data):
        key, pos = decode_varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == WIRE_VARINT:
            value, pos = decode_varint(data, pos)
        elif wire == WIRE_FIXED64:
            if pos + 8 > len(data):
                raise ProtobufError("truncated fixed64")
            value = struct.unpack("<Q", data[pos:pos + 8])[0]
            pos += 8
        elif wire == WIRE_LEN:
            length, pos = decode_varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated length-delimited field")
            value = data[pos:pos + length]
            pos += length
        elif wire == WIRE_FIXED32:
            if pos + 4 > len(data):
                raise ProtobufError("truncated fixed32")
            value = struct.unpack("<I", data[pos:pos + 4])[0]
            pos += 4
        else:
            raise ProtobufError("unsupported wire type %d" % wire)
        out.append((number, wire, value))
    return out


def _text(value):
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtobufError("invalid UTF-8 in a string field")


def decode_version_response(data):
    """runtime.v1.VersionResponse."""
    names = {1: "version", 2: "runtime_name", 3: "runtime_version", 4: "runtime_api_version"}
    out = dict((name, "") for name in names.values())
    for number, wire, value in decode_message(data):
        if number in names and wire == WIRE_LEN:
            out[names[number]] = _text(value)
    return out


def _decode_condition(data):
    cond = {"type": "", "status": False, "reason": "", "message": ""}
    for number, wire, value in decode_message(data):
        if number == 1 and wire == WIRE_LEN:
            cond["type"] = _text(value)
        elif number == 2 and wire == WIRE_VARINT:
            cond["status"] = bool(value)
        elif number == 3 and wire == WIRE_LEN:
            cond["reason"] = _text(value)
        elif number == 4 and wire == WIRE_LEN:
            cond["message"] = _text(value)
    return cond


def _decode_handler(data):
    handler = {"name": "", "features": {}}
    for number, wire, value in decode_message(data):
        if number == 1 and wire == WIRE_LEN:
            handler["name"] = _text(value)
        elif number == 2 and wire == WIRE_LEN:
            names = {1: "recursive_read_only_mounts", 2: "user_namespaces"}
            for fnum, fwire, fval in decode_message(value):
                if fnum in names and fwire == WIRE_VARINT:
                    handler["features"][names[fnum]] = bool(fval)
    return handler


def decode_status_response(data):
    """runtime.v1.StatusResponse: conditions, info map (raw strings), runtime handlers."""
    out = {"conditions": [], "info": {}, "runtime_handlers": []}
    for number, wire, value in decode_message(data):
        if number == 1 and wire == WIRE_LEN:
            for snum, swire, sval in decode_message(value):
                if snum == 1 and swire == WIRE_LEN:
                    out["conditions"].append(_decode_condition(sval))
        elif number == 2 and wire == WIRE_LEN:
            key, val = "", ""
            for enum, ewire, evalue in decode_message(value):
                if enum == 1 and ewire == WIRE_LEN:
                    key = _text(evalue)
                elif enum == 2 and ewire == WIRE_LEN:
                    val = _text(evalue)
            out["info"][key] = val
        elif number == 3 and wire == WIRE_LEN:
            out["runtime_handlers"].append(_decode_handler(value))
    return out


# ---------------------------------------------------------------------------
# HPACK (RFC 7541)
# ---------------------------------------------------------------------------
STATIC_TABLE = (
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
    (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
    (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""),
    ("access-control-allow-origin", ""), ("age", ""), ("allow", ""), ("authorization", ""),
    ("cache-control", ""), ("content-disposition", ""), ("content-encoding", ""), ("content-language", ""),
    ("content-length", ""), ("content-location", ""), ("content-range", ""), ("content-type", ""),
    ("cookie", ""), ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""), ("max-forwards", ""),
    ("proxy-authenticate", ""), ("proxy-authorization", ""), ("range", ""), ("referer", ""), ("refresh", ""),
    ("retry-after", ""), ("server", ""), ("set-cookie", ""), ("strict-transport-security", ""),
    ("transfer-encoding", ""), ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
)

# RFC 7541 Appendix B code lengths for symbols 0..256 (256 = EOS), as (length - 5) in
# base 36. The code is canonical: codes follow from the lengths (sorted by length, symbol).
_HUFFMAN_LENGTHS = (
    "8innnnnnnjpnnpnnnnnnnnpnnnnnnnnn1557813655363111000111111123a175"
    "8122222222222222222222223238e891a01010111022111012100122222a698n"
    "fhffhhhihiiiiijijjhijiiiighihiijhgfhhiigihhjghiigghgihiifhhhihhi"
    "llfehihklllmmljkeglmmlmjggllnmmmfjfghggihhkkjjlilmllmmmmmnmmmmml"
    "p"
)


def _build_huffman():
    lengths = [int(c, 36) + 5 for c in _HUFFMAN_LENGTHS]
    order = sorted(range(257), key=lambda s: (lengths[s], s))
    codes = [0] * 257
    code = 0
    prev = lengths[order[0]]
    for idx, sym in enumerate(order):
        if idx:
            code = (code + 1) << (lengths[sym] - prev)
        prev = lengths[sym]
        codes[sym] = code
    decode = dict(((lengths[s], codes[s]), s) for s in range(257))
    return lengths, codes, decode


HUFFMAN_LENGTHS, HUFFMAN_CODES, _HUFFMAN_DECODE = _build_huffman()


class HpackError(ValueError):
    """Malformed HPACK data."""


def huffman_encode(data):
    bits = 0
    nbits = 0
    out = bytearray()
    for byte in bytearray(data):
        bits = (bits << HUFFMAN_LENGTHS[byte]) | HUFFMAN_CODES[byte]
        nbits += HUFFMAN_LENGTHS[byte]
        while nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xFF)
        bits &= (1 << nbits) - 1
    if nbits:
        out.append(((bits << (8 - nbits)) | ((1 << (8 - nbits)) - 1)) & 0xFF)
    return bytes(out)


def huffman_decode(data):
    out = bytearray()
    code = 0
    length = 0
    for byte in bytearray(data):
        for shift in range(7, -1, -1):
            code = (code << 1) | ((byte >> shift) & 1)
            length += 1
            sym = _HUFFMAN_DECODE.get((length, code))
            if sym is not None:
                if sym == 256:
                    raise HpackError("EOS symbol inside a Huffman string")
                out.append(sym)
                code = 0
                length = 0
            elif length > 30:
                raise HpackError("invalid Huffman code")
    # padding: at most 7 bits, all ones (a prefix of EOS)
    if length > 7 or code != (1 << length) - 1:
        raise HpackError("invalid Huffman padding")
    return bytes(out)


def encode_integer(value, prefix_bits, first_byte_flags=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes(bytearray([first_byte_flags | value]))
    out = bytearray([first_byte_flags | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_integer(data, pos, prefix_bits):
    if pos >= len(data):
        raise HpackError("truncated integer")
    limit = (1 << prefix_bits) - 1
    value = data[pos] & limit
    pos += 1
    if value < limit:
        return value, pos
    shift = 0
    while True:
        if pos >= len(data):
            raise HpackError("truncated integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if shift > 35:
            raise HpackError("integer too large")
        if not byte & 0x80:
            return value, pos


def encode_string(value, huffman=False):
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if huffman:
        raw = huffman_encode(raw)
        return encode_integer(len(raw), 7, 0x80) + raw
    return encode_integer(len(raw), 7) + raw


def decode_string(data, pos):
    if pos >= len(data):
        raise HpackError("truncated string")
    huff = data[pos] & 0x80
    length, pos = decode_integer(data, pos, 7)
    if pos + length > len(data):
        raise HpackError("truncated string")
    raw = bytes(data[pos:pos + length])
    pos += length
    if huff:
        raw = huffman_decode(raw)
    return raw.decode("utf-8", "replace"), pos


def encode_headers(headers, huffman=False):
    """Literal header fields without indexing, new names (the minimal encoder)."""
    out = bytearray()
    for name, value in headers:
        out += b"\x00" + encode_string(name, huffman) + encode_string(value, huffman)
    return bytes(out)


class HpackDecoder:
    """Decoder state for one connection (dynamic table)."""

    def __init__(self, max_size=4096):
        self.max_size = max_size
        self.limit = max_size
        self.table = []  # newest first
        self.size = 0

    def _evict(self):
        while self.size > self.max_size and self.table:
            name, value = self.table.pop()
            self.size -= 32 + len(name.encode("utf-8")) + len(value.encode("utf-8"))

    def _add(self, name, value):
        self.table.insert(0, (name, value))
        self.size += 32 + len(name.encode("utf-8")) + len(value.encode("utf-8"))
        self._evict()

    def _lookup(self, index):
        if index <= 0:
            raise HpackError("header index 0")
        if index <= len(STATIC_TABLE):
            return STATIC_TABLE[index - 1]
        dyn = index - len(STATIC_TABLE) - 1
        if dyn >= len(self.table):
            raise HpackError("header index %d out of range" % index)
        return self.table[dyn]

    def decode(self, block):
        data = bytearray(block)
        pos = 0
        headers = []
        while pos < len(data):
            byte = data[pos]
            if byte & 0x80:  # indexed
                index, pos = decode_integer(data, pos, 7)
                headers.append(self._lookup(index))
                continue
            if byte & 0xE0 == 0x20:  # dynamic table size update
                size, pos = decode_integer(data, pos, 5)
                if size > self.limit:
                    raise HpackError("table size update above the limit")
                self.max_size = size
                self._evict()
                continue
            if byte & 0x40:  # literal with incremental indexing
                index, pos = decode_integer(data, pos, 6)
                indexing = True
            else:  # without indexing (0000) or never indexed (0001)
                index, pos = decode_integer(data, pos, 4)
                indexing = False
            if index:
                name = self._lookup(index)[0]
            else:
                name, pos = decode_string(data, pos)
            value, pos = decode_string(data, pos)
            if indexing:
                self._add(name, value)
            headers.append((name, value))
        return headers


# ---------------------------------------------------------------------------
# HTTP/2 framing
# ---------------------------------------------------------------------------
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
FLAG_PADDED = 0x8
FLAG_PRIORITY = 0x20
SETTINGS_ENABLE_PUSH = 0x2
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
MAX_WINDOW = (1 << 31) - 1
MAX_RESPONSE = 64 * 1024 * 1024


def frame(frame_type, flags, stream_id, payload=b""):
    length = len(payload)
    return struct.pack(">BHBBI", length >> 16, length & 0xFFFF, frame_type, flags, stream_id & 0x7FFFFFFF) + payload


def parse_frame_header(header):
    hi, lo, frame_type, flags, stream_id = struct.unpack(">BHBBI", header)
    return (hi << 16) | lo, frame_type, flags, stream_id & 0x7FFFFFFF


def strip_padding(payload, flags, priority=False):
    payload = bytes(payload)
    pad = 0
    if flags & FLAG_PADDED:
        if not payload:
            raise GrpcError("PADDED frame without pad length")
        pad = payload[0]
        payload = payload[1:]
    if priority and flags & FLAG_PRIORITY:
        payload = payload[5:]
    if pad:
        if pad > len(payload):
            raise GrpcError("padding longer than the frame")
        payload = payload[:-pad]
    return payload


def grpc_frame(message):
    return b"\x00" + struct.pack(">I", len(message)) + message


def grpc_messages(body):
    """Split a gRPC response body into its messages."""
    out = []
    pos = 0
    while pos < len(body):
        if pos + 5 > len(body):
            raise GrpcError("truncated gRPC message prefix")
        flag = body[pos]
        length = struct.unpack(">I", body[pos + 1:pos + 5])[0]
        pos += 5
        if flag != 0:
            raise GrpcError("compressed gRPC messages are not supported")
        if pos + length > len(body):
            raise GrpcError("truncated gRPC message")
        out.append(bytes(body[pos:pos + length]))
        pos += length
    return out


def socket_path(endpoint):
    """``unix:///run/x.sock`` or a plain absolute path -> the path."""
    if endpoint.startswith("unix://"):
        path = endpoint[len("unix://"):]
    elif "://" in endpoint:
        raise GrpcError("only unix:// endpoints are supported, got %r" % endpoint)
    else:
        path = endpoint
    if not path.startswith("/"):
        raise GrpcError("the socket path must be absolute, got %r" % endpoint)
    return path


class CriClient:
    """A gRPC-over-HTTP/2 client on one unix socket connection."""

    def __init__(self, endpoint=DEFAULT_ENDPOINT, timeout=10.0, sock=None):
        self.endpoint = endpoint
        self.timeout = timeout
        self._sock = sock
        self._buffer = bytearray()
        self._decoder = HpackDecoder()
        self._next_stream = 1
        self._started = False

    # -- connection -----------------------------------------------------
    def connect(self):
        if self._sock is None:
            path = socket_path(self.endpoint)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(path)
            except (OSError, socket.error) as exc:
                sock.close()
                raise GrpcError("cannot connect to %s: %s" % (self.endpoint, exc))
            self._sock = sock
        if not self._started:
            settings = struct.pack(">HI", SETTINGS_ENABLE_PUSH, 0) + struct.pack(">HI", SETTINGS_INITIAL_WINDOW_SIZE, MAX_WINDOW)
            self._send(PREFACE + frame(SETTINGS, 0, 0, settings)
                       + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", MAX_WINDOW - 65535)))
            self._started = True

    def close(self):
        if self._sock is not None:
            try:
                self._send(frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0)))
            except GrpcError:
                pass
            self._sock.close()
            self._sock = None

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, data):
        try:
            self._sock.sendall(data)
        except (OSError, socket.error) as exc:
            raise GrpcError("write to %s failed: %s" % (self.endpoint, exc))

    def _recv_exact(self, count):
        while len(self._buffer) < count:
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                raise GrpcError("timed out after %ss waiting for %s" % (self.timeout, self.endpoint))
            except (OSError, socket.error) as exc:
                raise GrpcError("read from %s failed: %s" % (self.endpoint, exc))
            if not chunk:
                raise GrpcError("%s closed the connection" % self.endpoint)
            self._buffer += chunk
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def _read_frame(self):
        length, frame_type, flags, stream_id = parse_frame_header(self._recv_exact(9))
        if length > 16 * 1024 * 1024:
            raise GrpcError("frame too large (%d bytes)" % length)
        return frame_type, flags, stream_id, self._recv_exact(length)

    # -- calls ----------------------------------------------------------
    def call(self, method, request=b""):
        """Unary call; returns the response message bytes."""
        self.connect()
        stream = self._next_stream
        self._next_stream += 2
        headers = [
            (":method", "POST"), (":scheme", "http"), (":path", method), (":authority", "localhost"),
            ("content-type", "application/grpc"), ("te", "trailers"), ("user-agent", "kubelayer-cri/0.1"),
        ]
        self._send(frame(HEADERS, FLAG_END_HEADERS, stream, encode_headers(headers))
                   + frame(DATA, FLAG_END_STREAM, stream, grpc_frame(request)))
        response_headers = []
        trailers = []
        body = bytearray()
        block = bytearray()
        block_flags = 0
        ended = False
        while not ended:
            frame_type, flags, stream_id, payload = self._read_frame()
            if frame_type == SETTINGS:
                if not flags & FLAG_ACK:
                    self._send(frame(SETTINGS, FLAG_ACK, 0))
            elif frame_type == PING:
                if not flags & FLAG_ACK:
                    self._send(frame(PING, FLAG_ACK, 0, payload))
            elif frame_type == GOAWAY:
                last, code = struct.unpack(">II", payload[:8])
                if (last & 0x7FFFFFFF) < stream or code:
                    raise GrpcError("server sent GOAWAY (error code %d): %s" % (code, payload[8:].decode("utf-8", "replace")))
            elif frame_type == WINDOW_UPDATE or frame_type == PRIORITY:
                continue
            elif stream_id != stream:
                continue
            elif frame_type == RST_STREAM:
                raise GrpcError("server reset the stream (error code %d)" % struct.unpack(">I", payload[:4])[0])
            elif frame_type in (HEADERS, CONTINUATION):
                if frame_type == HEADERS:
                    block = bytearray(strip_padding(payload, flags, priority=True))
                    block_flags = flags
                else:
                    block += payload
                if flags & FLAG_END_HEADERS:
                    decoded = self._decoder.decode(bytes(block))
                    if response_headers:
                        trailers = decoded
                    else:
                        response_headers = decoded
                    if block_flags & FLAG_END_STREAM:
                        ended = True
            elif frame_type == DATA:
                data = strip_padding(payload, flags)
                body += data
                if len(body) > MAX_RESPONSE:
                    raise GrpcError("response larger than %d bytes" % MAX_RESPONSE)
                if payload:
                    inc = struct.pack(">I", len(payload))
                    self._send(frame(WINDOW_UPDATE, 0, 0, inc) + frame(WINDOW_UPDATE, 0, stream, inc))
                if flags & FLAG_END_STREAM:
                    ended = True
        head = dict(response_headers)
        status = head.get(":status")
        if status != "200":
            raise GrpcError("HTTP status %s from %s" % (status, self.endpoint))
        tail = dict(trailers) if trailers else head  # trailers-only responses carry grpc-status in the headers
        code = tail.get("grpc-status")
        if code is None:
            raise GrpcError("response without grpc-status")
        if code != "0":
            raise GrpcError("%s failed: grpc-status %s: %s" % (method, code, unquote(tail.get("grpc-message", ""))), int(code))
        messages = grpc_messages(body)
        if len(messages) != 1:
            raise GrpcError("%s returned %d messages, expected 1" % (method, len(messages)))
        return messages[0]

    def version(self):
        return decode_version_response(self.call(RUNTIME_SERVICE + "Version", encode_message([(1, "v1")])))

    def status(self, verbose=True):
        request = encode_message([(1, True)]) if verbose else b""
        return decode_status_response(self.call(RUNTIME_SERVICE + "Status", request))


def parse_info(info):
    """Status verbose ``info`` values are JSON strings: parse those that are."""
    out = {}
    for key, value in info.items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out
