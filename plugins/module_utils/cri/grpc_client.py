# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CRI transport: unary gRPC calls on the runtime's unix socket through python3-grpcio.

Nodes get grpcio from the distribution (Debian/Ubuntu ``python3-grpcio``; the containerd role installs it).
No generated code: each call is grpcio's generic ``unary_unary`` with the request encoder and response
decoder of a ``cri_proto.Rpc`` as serializer and deserializer.

This file imports nothing from the collection, so lab scripts can copy it next to themselves.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import grpc
    HAS_GRPC = True
    GRPC_IMPORT_ERROR = None
except ImportError as exc:  # the module reports it; nodes install python3-grpcio
    grpc = None
    HAS_GRPC = False
    GRPC_IMPORT_ERROR = str(exc)

DEFAULT_ENDPOINT = "unix:///run/containerd/containerd.sock"
MAX_MESSAGE = 64 * 1024 * 1024
GRPC_MISSING = "python3-grpcio is not installed on the node (apt-get install python3-grpcio)"


class GrpcError(Exception):
    """A transport or gRPC status error; ``code`` is the gRPC status name (e.g. ``UNAVAILABLE``) or None."""

    def __init__(self, message, code=None):
        super(GrpcError, self).__init__(message)
        self.code = code


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


class _DecodeFailure:
    """Carries a decoder exception through grpcio (which would replace it by a bare INTERNAL status)."""

    def __init__(self, error):
        self.error = error


def _deserializer(decode):
    def run(data):
        try:
            return decode(data)
        except ValueError as exc:
            return _DecodeFailure(exc)
    return run


class CriClient:
    """One grpcio channel to a CRI endpoint; ``call(rpc, request_dict) -> response_dict``."""

    def __init__(self, endpoint=DEFAULT_ENDPOINT, timeout=10.0):
        self.endpoint = endpoint
        self.timeout = timeout
        self._channel = None

    def connect(self):
        if not HAS_GRPC:
            raise GrpcError("%s: %s" % (GRPC_MISSING, GRPC_IMPORT_ERROR), "GRPC_MISSING")
        if self._channel is None:
            target = "unix://" + socket_path(self.endpoint)
            options = [("grpc.max_receive_message_length", MAX_MESSAGE), ("grpc.enable_http_proxy", 0)]
            self._channel = grpc.insecure_channel(target, options=options)
        return self

    def close(self):
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.close()

    def call(self, rpc, request=None, timeout=None):
        """Unary call of ``rpc`` (a cri_proto.Rpc) with ``request`` (a dict); returns the decoded response."""
        self.connect()
        request = request if request is not None else {}
        rpc.encode(request)  # a bad request raises its own ProtobufError here, not grpcio's bare INTERNAL
        method = self._channel.unary_unary(rpc.method, request_serializer=rpc.encode,
                                           response_deserializer=_deserializer(rpc.decode))
        try:
            response = method(request, timeout=timeout or self.timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            name = code.name if code is not None else "UNKNOWN"
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise GrpcError("%s on %s failed: %s: %s" % (rpc.method, self.endpoint, name, details), name)
        if isinstance(response, _DecodeFailure):
            raise GrpcError("%s on %s: unreadable response: %s" % (rpc.method, self.endpoint, response.error))
        return response
