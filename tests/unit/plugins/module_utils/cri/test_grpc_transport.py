"""grpc_client.CriClient against a real grpcio server on a unix socket (generic handlers, the same wire bytes)."""
from concurrent import futures

import grpc  # pinned in requirements.txt and tests/unit/requirements.txt (nodes: Debian's python3-grpcio)
import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import cri_proto as p
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import grpc_client as g

SEEN = []


def _version(request, context):
    SEEN.append(("Version", request))
    return p.encode_message([(1, "0.1.0"), (2, "containerd"), (3, "2.1.9"), (4, "v1")])


def _status(request, context):
    SEEN.append(("Status", request))
    return p.encode_message([(1, [(1, [(1, "RuntimeReady"), (2, True)])])])


def _garbage(request, context):
    return b"\x12\x05ab"  # truncated string field


def _refuse(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, 'sandbox "x" not found')


HANDLERS = {"Version": _version, "Status": _status, "RunPodSandbox": _garbage, "StopPodSandbox": _refuse}


@pytest.fixture
def endpoint(tmp_path):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handlers = dict((name, grpc.unary_unary_rpc_method_handler(fn)) for name, fn in HANDLERS.items())
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("runtime.v1.RuntimeService", handlers),))
    path = str(tmp_path / "cri.sock")
    server.add_insecure_port("unix://" + path)
    server.start()
    del SEEN[:]
    yield "unix://" + path
    server.stop(None)


def test_calls_send_our_bytes_and_decode_the_answer(endpoint):
    with g.CriClient(endpoint, timeout=5) as client:
        assert client.call(p.VERSION)["runtime_version"] == "2.1.9"
        assert client.call(p.STATUS, {"verbose": True})["conditions"][0]["type"] == "RuntimeReady"
    assert SEEN == [("Version", b"\x0a\x02v1"), ("Status", b"\x08\x01")]


def test_grpc_status_errors_carry_the_code(endpoint):
    with g.CriClient(endpoint, timeout=5) as client:
        with pytest.raises(g.GrpcError, match='NOT_FOUND: sandbox "x" not found') as err:
            client.call(p.STOP_POD_SANDBOX, {"pod_sandbox_id": "x"})
    assert err.value.code == "NOT_FOUND"


def test_unreadable_responses_keep_the_decoder_message(endpoint):
    with g.CriClient(endpoint, timeout=5) as client:
        with pytest.raises(g.GrpcError, match="unreadable response: truncated length-delimited field"):
            client.call(p.RUN_POD_SANDBOX, {"config": {"name": "a", "uid": "b", "namespace": "c"}})


def test_bad_requests_fail_before_sending(endpoint):
    with g.CriClient(endpoint, timeout=5) as client:
        with pytest.raises(p.ProtobufError, match="^pod_sandbox_id"):
            client.call(p.STOP_POD_SANDBOX, {})
    assert SEEN == []


def test_missing_socket_is_unavailable(tmp_path):
    with g.CriClient("unix://%s/none.sock" % tmp_path, timeout=2) as client:
        with pytest.raises(g.GrpcError) as err:
            client.call(p.VERSION)
    assert err.value.code == "UNAVAILABLE"


@pytest.mark.parametrize("endpoint, message", [
    ("tcp://127.0.0.1:1", "only unix://"), ("unix://relative.sock", "must be absolute"), ("run/x.sock", "absolute")])
def test_endpoint_validation(endpoint, message):
    with pytest.raises(g.GrpcError, match=message):
        g.socket_path(endpoint)


def test_without_grpcio_the_reason_names_the_package(monkeypatch):
    monkeypatch.setattr(g, "HAS_GRPC", False)
    with pytest.raises(g.GrpcError, match="python3-grpcio is not installed") as err:
        g.CriClient("unix:///run/x.sock").connect()
    assert err.value.code == "GRPC_MISSING"
