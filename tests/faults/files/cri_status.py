"""Run on a lab node: runtime.v1 Version and Status over containerd's CRI socket, as JSON.

Uses the collection's CRI client (plugins/module_utils/cri/cri_proto.py and grpc_client.py, copied next to this
file) on the node's python3-grpcio. Exit 1 with the error on stderr when the socket does not answer (or grpcio is
not installed yet).
"""
import json
import sys

import cri_proto
from grpc_client import CriClient, GrpcError

ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "unix:///run/containerd/containerd.sock"

try:
    with CriClient(ENDPOINT, timeout=10) as client:
        out = client.call(cri_proto.VERSION)
        out["conditions"] = client.call(cri_proto.STATUS, {"verbose": True})["conditions"]
except (GrpcError, OSError, ValueError) as exc:
    sys.stderr.write("%s: %s\n" % (type(exc).__name__, exc))
    sys.exit(1)
print(json.dumps(out, default=str))
