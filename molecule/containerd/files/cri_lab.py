"""Lab helper run on a node: talk CRI through the collection's stdlib gRPC client (copied next to this file).

  cri_lab.py status            -> JSON: version + conditions (runtime.v1 Version and Status)
  cri_lab.py pod NAME          -> JSON: runs a host-network pod sandbox (the configured sandbox image),
                                  reads its status, stops and removes it
"""
import json
import sys
import uuid

from grpc_client import CriClient, RUNTIME_SERVICE, decode_message, encode_message, decode_status_response

NODE = 2  # runtime.v1.NamespaceMode.NODE
SANDBOX_STATES = {0: "SANDBOX_READY", 1: "SANDBOX_NOTREADY"}


def status(client):
    out = client.version()
    st = decode_status_response(client.call(RUNTIME_SERVICE + "Status", encode_message([(1, True)])))
    out["conditions"] = st["conditions"]
    out["config"] = json.loads(st["info"].get("config", "{}"))
    return out


def _string_field(data, number):
    for num, wire, value in decode_message(data):
        if num == number and wire == 2:
            return value.decode()
    return ""


def pod(client, name):
    uid = str(uuid.uuid4())
    metadata = [(1, name), (2, uid), (3, "kubelayer-lab"), (4, 0)]
    # security_context.namespace_options.network = NODE (host network)
    linux = [(2, [(1, [(1, NODE)])])]
    config = [(1, metadata), (6, [(1, "app"), (2, "kubelayer-lab")]), (8, linux)]
    sandbox_id = _string_field(client.call(RUNTIME_SERVICE + "RunPodSandbox", encode_message([(1, config)])), 1)
    raw = client.call(RUNTIME_SERVICE + "PodSandboxStatus", encode_message([(1, sandbox_id)]))
    state = None
    network_ns = None
    for num, wire, value in decode_message(raw):
        if num == 1 and wire == 2:  # PodSandboxStatus
            for snum, swire, sval in decode_message(value):
                if snum == 3 and swire == 0:
                    state = SANDBOX_STATES.get(sval, str(sval))
                if snum == 6 and swire == 2:  # linux -> namespaces -> options -> network
                    for lnum, lwire, lval in decode_message(sval):
                        if lnum == 1 and lwire == 2:
                            for nnum, nwire, nval in decode_message(lval):
                                if nnum == 2 and nwire == 2:
                                    network_ns = dict((n, v) for n, w, v in decode_message(nval) if w == 0).get(1, 0)
    if state is None:
        state = SANDBOX_STATES[0]  # proto3 omits the zero value SANDBOX_READY
    client.call(RUNTIME_SERVICE + "StopPodSandbox", encode_message([(1, sandbox_id)]))
    client.call(RUNTIME_SERVICE + "RemovePodSandbox", encode_message([(1, sandbox_id)]))
    return {"id": sandbox_id, "state": state, "network_namespace_mode": network_ns}


def main():
    with CriClient(timeout=60) as client:
        if sys.argv[1] == "status":
            result = status(client)
        elif sys.argv[1] == "pod":
            result = pod(client, sys.argv[2])
        else:
            raise SystemExit(__doc__)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
