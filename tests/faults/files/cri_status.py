"""Run on a lab node: runtime.v1 Version and Status over containerd's CRI socket, as JSON.

Uses the collection's stdlib gRPC client (plugins/module_utils/cri/grpc_client.py, copied next to this file).
Exit 1 with the error on stderr when the socket does not answer.
"""
import json
import sys

from grpc_client import CriClient, GrpcError, RUNTIME_SERVICE, decode_status_response, encode_message

ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "unix:///run/containerd/containerd.sock"

try:
    client = CriClient(ENDPOINT, timeout=10)
    out = client.version()
    status = decode_status_response(client.call(RUNTIME_SERVICE + "Status", encode_message([(1, True)])))
    out["conditions"] = status["conditions"]
except (GrpcError, OSError, ValueError) as exc:
    sys.stderr.write("%s: %s\n" % (type(exc).__name__, exc))
    sys.exit(1)
print(json.dumps(out, default=str))
