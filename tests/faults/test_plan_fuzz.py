"""canal_plan and csi_plan fuzzed through the MODULE entry point: hypothesis-generated task arguments go through
ansible's module test pattern (``patch_module_args`` + ``main()``), and a few hostile ones through
``ansible localhost -m``. Whatever the input, the module ends in exit_json or fail_json with a message: never a
traceback, never an "internal error" (a caught exception is still a bug).

FAULTS_FUZZ_EXAMPLES sets the number of examples per module (default 300 for canal_plan, 120 for csi_plan, whose
schema validation is slower).
"""

import contextlib
import io
import ipaddress
import json
import os
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from faultlab import ROOT, ansible_env

from ansible.module_utils.testing import patch_module_args
from ansible_collections.kubelayer.runtime.plugins.modules import canal_plan, csi_plan

# the pinned upstream files: KUBELAYER_UPSTREAM_DIR as `make` sets it (../shared/upstream when it exists)
UPSTREAM = os.environ.get("KUBELAYER_UPSTREAM_DIR") or str(ROOT.parent / "shared" / "upstream")
EXAMPLES = int(os.environ.get("FAULTS_FUZZ_EXAMPLES", "0")) or None
BAD_MESSAGE = ("Traceback", "internal error", "MODULE FAILURE")
# Shrinking a failure can take many minutes on this machine; CI reports the failing example unshrunk.
# FAULTS_FUZZ_SHRINK=1 shrinks it (locally, to study a failure).
PHASES = [p for p in Phase if os.environ.get("FAULTS_FUZZ_SHRINK") == "1" or p not in (Phase.shrink, Phase.explain)]
FUZZ = dict(deadline=None, derandomize=True, phases=PHASES,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def run_module(main, args):
    """Run a module's main() with ``args`` as its task arguments; returns (result dict, exit code)."""
    out = io.StringIO()
    code = None
    with patch_module_args(args), contextlib.redirect_stdout(out):
        try:
            main()
        except SystemExit as exc:
            code = exc.code
    text = out.getvalue()
    assert code is not None, "main() returned without exit_json/fail_json; printed %r" % text[:500]
    start = text.find("{")
    assert start >= 0, "the module printed no JSON result: %r" % text[:500]
    return json.loads(text[start:]), code


def check_outcome(result, code, args):
    if result.get("failed"):
        assert code == 1, (code, result)
        msg = result.get("msg")
        assert isinstance(msg, str) and msg.strip(), "a failure without a message: %r for %r" % (result, args)
        for bad in BAD_MESSAGE:
            assert bad not in msg, "%s: %s\nargs: %r" % (bad, msg, args)
        assert "exception" not in result, "%s\nargs: %r" % (result.get("exception"), args)
    else:
        assert code == 0, (code, result)
        assert "plan" in result


# --------------------------------------------------------------------------- values

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["auto", "auto4", "auto6", "", "0", "-1", "1e3", "10.0.0.0/8", "::/0", "0.0.0.0/0",
                     "fd00::/8", "10.244.0.0/16,fd10:244::/48", "10.96.0.0/12", "not-a-cidr", "300.1.1.1/24",
                     "10.0.0.1/33", "\x00", "🙂", "vxlan", "host-gw", "wireguard", "None", "true"]),
)
json_like = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


@st.composite
def cidr(draw):
    if draw(st.booleans()):
        prefix = draw(st.integers(0, 32))
        addr = ipaddress.IPv4Address(draw(st.integers(0, 2 ** 32 - 1)))
    else:
        prefix = draw(st.integers(0, 128))
        addr = ipaddress.IPv6Address(draw(st.integers(0, 2 ** 128 - 1)))
    strict = draw(st.booleans())
    net = ipaddress.ip_network("%s/%d" % (addr, prefix), strict=False)
    return str(net) if strict else "%s/%d" % (addr, prefix)


cidr_value = st.one_of(cidr(), scalars)
cidr_list = st.one_of(st.lists(cidr_value, max_size=4), cidr_value, json_like)


@st.composite
def canal_node(draw, index):
    node = {}
    if draw(st.integers(0, 9)):
        node["name"] = draw(st.one_of(st.just("node%d" % index), scalars))
    if draw(st.integers(0, 9)):
        node["networks"] = draw(cidr_list)
    if draw(st.integers(0, 9)):
        node["routes"] = draw(st.one_of(
            cidr_list, st.lists(st.dictionaries(st.sampled_from(["dst", "dev", "gateway", "table", "type"]),
                                                cidr_value, max_size=4), max_size=4)))
    if draw(st.integers(0, 9)):
        node["mtu"] = draw(st.one_of(st.integers(-10, 70000), scalars))
    if draw(st.integers(0, 4)) == 0:
        node["subnets"] = draw(cidr_list)
    if draw(st.integers(0, 6)) == 0:
        node[draw(st.text(max_size=8))] = draw(json_like)
    return node


@st.composite
def canal_args(draw):
    args = {}
    options = {
        "pod_cidrs": cidr_list, "service_cidrs": cidr_list, "node_prefix": st.one_of(st.integers(-5, 140), scalars),
        "node_prefix_v6": st.one_of(st.integers(-5, 140), scalars), "max_pods": st.one_of(st.integers(-5, 10 ** 6),
                                                                                          scalars),
        "backend": scalars, "expected_nodes": st.one_of(st.integers(-5, 10 ** 7), scalars), "reserved": cidr_list,
        "assignments": st.one_of(
            json_like, st.dictionaries(st.sampled_from(["node0", "node1", "node2", "x"]), cidr_list, max_size=3)),
    }
    for name, strategy in options.items():
        if draw(st.booleans()):
            args[name] = draw(strategy)
    count = draw(st.integers(0, 5))
    nodes = [draw(canal_node(i)) for i in range(count)]
    shape = draw(st.integers(0, 5))
    if shape == 0:
        args["nodes"] = {("node%d" % i): n for i, n in enumerate(nodes)}
    elif shape == 1:
        args["nodes"] = draw(json_like)
    elif shape > 2:
        args["nodes"] = nodes
    return args


DRIVER_NAMES = ["rook-ceph", "quobyte", "nfs", "local-path", "longhorn", "storageos"]
DRIVER_KEYS = ["install", "namespace", "version", "repo", "values", "operator_values", "drivers_values",
               "cluster_values", "server", "share", "registry", "device_filter", "osd_devices", "path", "mode",
               "nfs_v3_locking", "enabled"]
CLASS_KEYS = ["name", "default", "reclaim_policy", "volume_binding_mode", "allow_volume_expansion", "parameters",
              "mount_options", "annotations", "deletion_policy"]


@st.composite
def storage_class(draw):
    cls = {}
    for key in CLASS_KEYS:
        if draw(st.integers(0, 2)):
            if key == "name":
                cls[key] = draw(st.one_of(st.sampled_from(["fast", "slow", "fast", "Bad_Name", ""]), scalars))
            elif key == "default":
                cls[key] = draw(st.one_of(st.booleans(), scalars))
            else:
                cls[key] = draw(json_like)
    return cls


@st.composite
def driver(draw):
    d = {}
    if draw(st.integers(0, 9)):
        d["name"] = draw(st.one_of(st.sampled_from(DRIVER_NAMES), scalars))
    for key in DRIVER_KEYS:
        if draw(st.integers(0, 3)) == 0:
            d[key] = draw(json_like)
    for key in ("storage_classes", "snapshot_classes"):
        if draw(st.integers(0, 2)) == 0:
            d[key] = draw(st.one_of(st.lists(storage_class(), max_size=3), json_like))
    return d


@st.composite
def csi_args(draw):
    args = {"drivers": draw(st.one_of(st.lists(driver(), max_size=4), json_like))}
    if draw(st.booleans()):
        args["snapshot"] = draw(st.one_of(
            st.fixed_dictionaries({}, optional={
                "crds": st.sampled_from(["managed", "external", "absent", "bogus"]),
                "controller": st.sampled_from(["managed", "external", "absent"]),
                "namespace": scalars, "replicas": st.one_of(st.integers(-3, 10), scalars), "image": scalars}),
            json_like))
    args["upstream_dir"] = draw(st.sampled_from([UPSTREAM, UPSTREAM, "/nonexistent/upstream", "", None]))
    if draw(st.booleans()):
        args["kubernetes_version"] = draw(st.one_of(
            st.sampled_from(["1.34.0", "1.28.0", "1.99.9", "v1.34", "1.34", "latest", ""]), scalars))
    args["validate"] = draw(st.booleans())
    return {k: v for k, v in args.items() if v is not None}


# --------------------------------------------------------------------------- in-process fuzzing


@settings(max_examples=EXAMPLES or 300, **FUZZ)
@given(canal_args())
def test_canal_plan_module_never_crashes(args):
    result, code = run_module(canal_plan.main, args)
    check_outcome(result, code, args)
    if result.get("failed") and "problems" not in result:
        # canal_plan's options are typed: a wrong type or choice is the argument spec's one failure, naming it
        assert any(name in result["msg"] for name in args), "an argument failure naming no option: %r" % result
    elif result.get("failed"):
        assert result["problems"], "refused without listing the problems: %r" % result


@settings(max_examples=EXAMPLES or 120, **FUZZ)
@given(csi_args())
def test_csi_plan_module_never_crashes(args):
    result, code = run_module(csi_plan.main, args)
    check_outcome(result, code, args)


@settings(max_examples=EXAMPLES or 20, **FUZZ)
@given(csi_args())
def test_csi_plan_render_dir_never_crashes(args):
    """With render_dir the module also writes: still a result or a failure with a message."""
    with tempfile.TemporaryDirectory(prefix="kubelayer-fuzz-") as tmp:
        args = dict(args, render_dir=os.path.join(tmp, "render"))
        result, code = run_module(csi_plan.main, args)
        check_outcome(result, code, args)
        # a refused plan writes nothing
        if result.get("failed"):
            assert not os.path.exists(args["render_dir"]) or not os.listdir(args["render_dir"]), result


# --------------------------------------------------------------------------- through ansible itself

HOSTILE = [
    ("canal_plan", {"pod_cidrs": [None, {"a": []}], "nodes": "node1", "max_pods": "1e999", "node_prefix": True}),
    ("canal_plan", {"nodes": [{"name": ["x"], "networks": [12], "routes": [{"dst": None}], "mtu": "jumbo"}],
                    "assignments": [["node1"]], "reserved": {"10.0.0.0/8": 1}}),
    ("csi_plan", {"drivers": [{"name": "rook-ceph", "osd_devices": {"x": 1}, "storage_classes": "fast"},
                              {"name": None}, "nfs"], "upstream_dir": "/nonexistent", "kubernetes_version": "1.x"}),
    # a scalar where the option is a dict with suboptions
    ("csi_plan", {"drivers": [{"name": "local-path"}], "snapshot": 5}),
]


@pytest.mark.parametrize("module,args", HOSTILE, ids=["canal-types", "canal-shapes", "csi-shapes", "csi-snapshot"])
def test_hostile_args_through_ansible(module, args):
    """The real entry point (AnsiballZ, argument parsing): a failure the module reports itself.

    A clean failure carries ``invocation`` (fail_json, including ansible's own argument validation) or, when the
    module's action plugin refused the arguments on the controller, ``problems``; an exception escaping the module
    has neither, and its msg is ansible's "Task failed: Module failed: <exception>".
    """
    env = dict(ansible_env(), ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run(
        ["ansible", "localhost", "-m", "kubelayer.runtime.%s" % module, "-a", json.dumps(args)],
        capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    result = json.loads(proc.stdout[proc.stdout.index("{"):])["plays"][0]["tasks"][0]["hosts"]["localhost"]
    msg = result.get("msg")
    assert result.get("failed") is True, result
    assert isinstance(msg, str) and msg.strip(), result
    clean = "invocation" in result or isinstance(result.get("problems"), list)
    assert clean and not msg.startswith("Task failed"), "exception in the module: %s" % msg
    for bad in BAD_MESSAGE:
        assert bad not in msg, result
