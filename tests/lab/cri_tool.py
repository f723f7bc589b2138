"""A node-side CRI test driver: runs with the node's python3 and python3-grpcio, prints JSON.

Copy it to a lab node together with the collection's CRI client (both files import nothing else):

    podman cp tests/lab/cri_tool.py NODE:/root/cri/
    podman cp plugins/module_utils/cri/cri_proto.py NODE:/root/cri/
    podman cp plugins/module_utils/cri/grpc_client.py NODE:/root/cri/
    podman exec NODE python3 /root/cri/cri_tool.py status

Global options (before the subcommand): ``--endpoint unix:///run/containerd/containerd.sock``, ``--timeout 60``.

Subcommands (each prints one JSON object on stdout):

  version                         runtime.v1 Version
  status                          Version + Status(verbose): conditions, runtime_handlers, info (JSON values parsed)
  pull IMAGE [--username U --password-file F] [--server-address S]
                                  ImageService.PullImage, with an AuthConfig when --username is given (the password
                                  is read from the file, never from the command line) -> {"image_ref"}
  runp --name N [--namespace NS] [--netns own|host] [--handler H] [--cni-check] [--rm]
                                  RunPodSandbox (own network namespace = POD mode, host = NODE mode; runtime_handler H,
                                  i.e. a RuntimeClass handler), then PodSandboxStatus(verbose) ->
                                  {"id", "state", "ip", "additional_ips", "netns", "runtime_handler", "network_mode"}.
                                  --cni-check: exit 3 (JSON still printed, "cni_error" set) when an own-netns sandbox
                                  is not READY or has no IP. --rm: stop and remove the sandbox afterwards
                                  ("removed": true). Without --rm the sandbox stays; its config is kept in
                                  /run/kubelayer-cri-tool/<id>.json for `create`.
  create SANDBOX_ID IMAGE [--name C] [--mount HOST:CONTAINER[:ro]]... -- CMD [ARG...]
                                  CreateContainer in a sandbox made by `runp` -> {"id", "log_path"}
                                  (the container's stdout/stderr file on the node). In the podman lab nodes (cgroup
                                  v1, nested) runc cannot mount the cgroup filesystem containerd asks for; pass
                                  --mount /sys/fs/cgroup:/sys/fs/cgroup:ro there (a bind mount replaces it).
  start CONTAINER_ID              StartContainer -> {"id", "started": true}
  inspect CONTAINER_ID            ContainerStatus(verbose) -> {"state", "exit_code", "reason", "log_path", "info"}
                                  (info.runtimeOptions shows e.g. the runc BinaryName, i.e. crun)
  wait CONTAINER_ID [--seconds S] polls ContainerStatus until CONTAINER_EXITED -> as inspect; exit 4 on timeout
  stop SANDBOX_ID                 StopPodSandbox (also stops its containers, releases the CNI address)
  rm SANDBOX_ID                   RemovePodSandbox

Errors: exit 1 with {"error": "...", "code": "<gRPC status>"} on stdout. Exit codes 3 and 4 as above.
"""
import argparse
import json
import os
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
for _path in (HERE, os.path.join(HERE, "..", "..", "plugins", "module_utils", "cri")):
    if os.path.isfile(os.path.join(_path, "cri_proto.py")):
        sys.path.insert(0, _path)
        break

import cri_proto as proto  # noqa: E402  (copied next to this file)
from grpc_client import CriClient, GrpcError  # noqa: E402

STATE_DIR = "/run/kubelayer-cri-tool"
LOG_ROOT = "/var/log/kubelayer-cri-tool"


def _parser():
    parser = argparse.ArgumentParser(prog="cri_tool.py", description="CRI test driver (see the module docstring)")
    parser.add_argument("--endpoint", default="unix:///run/containerd/containerd.sock")
    parser.add_argument("--timeout", type=float, default=60.0)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("version")
    sub.add_parser("status")
    pull = sub.add_parser("pull")
    pull.add_argument("image")
    pull.add_argument("--username")
    pull.add_argument("--password-file")
    pull.add_argument("--server-address")
    runp = sub.add_parser("runp")
    runp.add_argument("--name", required=True)
    runp.add_argument("--namespace", default="kubelayer-test")
    runp.add_argument("--netns", choices=["own", "host"], default="own")
    runp.add_argument("--handler", default="")
    runp.add_argument("--cni-check", action="store_true")
    runp.add_argument("--rm", action="store_true")
    create = sub.add_parser("create")
    create.add_argument("sandbox")
    create.add_argument("image")
    create.add_argument("--name", default="main")
    create.add_argument("--mount", action="append", default=[], metavar="HOST:CONTAINER[:ro]")
    for name in ("start", "inspect", "stop", "rm"):
        sub.add_parser(name).add_argument("id")
    wait = sub.add_parser("wait")
    wait.add_argument("id")
    wait.add_argument("--seconds", type=float, default=60.0)
    return parser


def cmd_status(client):
    out = client.call(proto.VERSION)
    status = client.call(proto.STATUS, {"verbose": True})
    out.update(conditions=status["conditions"], runtime_handlers=[h["name"] for h in status["runtime_handlers"]],
               info=proto.parse_info(status["info"]))
    return out


def cmd_pull(client, args):
    request = {"image": args.image}
    if args.username:
        if not args.password_file:
            raise SystemExit("pull: --username needs --password-file")
        with open(args.password_file) as handle:
            password = handle.read().rstrip("\n")
        request["auth"] = {"username": args.username, "password": password, "server_address": args.server_address}
    return client.call(proto.PULL_IMAGE, request)


def sandbox_report(client, sandbox_id):
    answer = client.call(proto.POD_SANDBOX_STATUS, {"pod_sandbox_id": sandbox_id, "verbose": True})
    status = answer["status"]
    info = proto.parse_info(answer["info"]).get("info") or {}
    spec_ns = ((info.get("runtimeSpec") or {}).get("linux") or {}).get("namespaces") or []
    netns = [ns.get("path", "") for ns in spec_ns if ns.get("type") == "network"]
    return {"id": status["id"], "state": status["state"], "ip": status["ip"],
            "additional_ips": status["additional_ips"], "network_mode": status["namespace_options"]["network"],
            "runtime_handler": status["runtime_handler"] or info.get("runtimeHandler", ""),
            "netns": netns[0] if netns else "", "metadata": status["metadata"]}


def cgroup_parent(client):
    """A parent cgroup in the runtime's cgroup driver's syntax (containers fail to start without one)."""
    config = proto.parse_info(client.call(proto.STATUS, {"verbose": True})["info"]).get("config") or {}
    runtimes = (config.get("containerd") or {}).get("runtimes") or {}
    systemd = any((rt.get("options") or {}).get("SystemdCgroup") for rt in runtimes.values() if isinstance(rt, dict))
    return "kubelayer_cri_tool.slice" if systemd else "/kubelayer-cri-tool"


def cmd_runp(client, args):
    name = args.name
    config = {"name": name, "uid": str(uuid.uuid4()), "namespace": args.namespace,
              "hostname": name if args.netns == "own" else "", "labels": {"kubelayer.test/tool": "cri_tool"},
              "log_directory": os.path.join(LOG_ROOT, "%s_%s" % (args.namespace, name)),
              "network": "pod" if args.netns == "own" else "node", "cgroup_parent": cgroup_parent(client)}
    os.makedirs(config["log_directory"], exist_ok=True)
    sandbox_id = client.call(proto.RUN_POD_SANDBOX, {"config": config, "runtime_handler": args.handler})["pod_sandbox_id"]
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(os.path.join(STATE_DIR, sandbox_id + ".json"), "w") as handle:
        json.dump(config, handle)
    out = sandbox_report(client, sandbox_id)
    if args.cni_check and args.netns == "own" and (out["state"] != "SANDBOX_READY" or not out["ip"]):
        out["cni_error"] = "sandbox %s is %s with IP %r after CNI ADD" % (sandbox_id, out["state"], out["ip"])
    if args.rm:
        remove_sandbox(client, sandbox_id)
        out["removed"] = True
    return out, (3 if out.get("cni_error") else 0)


def remove_sandbox(client, sandbox_id, stop=True):
    """RemovePodSandbox stops a running sandbox itself; `runp --rm` stops first to release the CNI address."""
    if stop:
        client.call(proto.STOP_POD_SANDBOX, {"pod_sandbox_id": sandbox_id})
    client.call(proto.REMOVE_POD_SANDBOX, {"pod_sandbox_id": sandbox_id})
    try:
        os.unlink(os.path.join(STATE_DIR, sandbox_id + ".json"))
    except OSError:
        pass


def _mount(spec):
    parts = spec.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "ro"):
        raise SystemExit("create: --mount takes HOST:CONTAINER[:ro], got %r" % spec)
    return {"host_path": parts[0], "container_path": parts[1], "readonly": len(parts) == 3}


def cmd_create(client, args):
    try:
        with open(os.path.join(STATE_DIR, args.sandbox + ".json")) as handle:
            config = json.load(handle)
    except (IOError, OSError):
        raise SystemExit("create: sandbox %s was not started by `cri_tool.py runp` on this node" % args.sandbox)
    cmd = args.cmd
    if not cmd:
        raise SystemExit("create: give the command after --")
    log_path = "%s.log" % args.name
    request = {"pod_sandbox_id": args.sandbox, "sandbox_config": config, "name": args.name, "image": args.image,
               "command": cmd, "log_path": log_path, "mounts": [_mount(spec) for spec in args.mount]}
    container_id = client.call(proto.CREATE_CONTAINER, request)["container_id"]
    return {"id": container_id, "log_path": os.path.join(config["log_directory"], log_path)}


def cmd_inspect(client, container_id):
    answer = client.call(proto.CONTAINER_STATUS, {"container_id": container_id, "verbose": True})
    out = dict(answer["status"])
    out["info"] = proto.parse_info(answer["info"]).get("info") or {}
    return out


def cmd_wait(client, args):
    deadline = time.time() + args.seconds
    while True:
        out = cmd_inspect(client, args.id)
        if out["state"] == "CONTAINER_EXITED":
            return out, 0
        if time.time() >= deadline:
            out["wait_error"] = "still %s after %ss" % (out["state"], args.seconds)
            return out, 4
        time.sleep(0.5)


def run(client, args):
    """(result dict, exit code) of one subcommand."""
    simple = {
        "version": lambda: client.call(proto.VERSION),
        "status": lambda: cmd_status(client),
        "pull": lambda: cmd_pull(client, args),
        "create": lambda: cmd_create(client, args),
        "start": lambda: dict(client.call(proto.START_CONTAINER, {"container_id": args.id}), id=args.id, started=True),
        "inspect": lambda: cmd_inspect(client, args.id),
        "stop": lambda: dict(client.call(proto.STOP_POD_SANDBOX, {"pod_sandbox_id": args.id}), id=args.id, stopped=True),
        "rm": lambda: dict(remove_sandbox(client, args.id, stop=False) or {}, id=args.id, removed=True),
    }
    if args.command in simple:
        return simple[args.command](), 0
    if args.command == "runp":
        return cmd_runp(client, args)
    return cmd_wait(client, args)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv[argv.index("--") + 1:] if "--" in argv else []
    args = _parser().parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    args.cmd = cmd
    if not args.command:
        _parser().print_help()
        return 2
    try:
        with CriClient(args.endpoint, timeout=args.timeout) as client:
            result, code = run(client, args)
    except (GrpcError, ValueError) as exc:
        result, code = {"error": str(exc), "code": getattr(exc, "code", None)}, 1
    print(json.dumps(result, sort_keys=True, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
