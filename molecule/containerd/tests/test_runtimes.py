"""Runtime handlers on real nodes: crun installed from Debian by the role, a container run through the `crun`
handler over CRI (RunPodSandbox with runtime_handler=crun, CreateContainer, StartContainer), and the RuntimeClasses
rendered on the controller. kata, gVisor and nvidia cannot run here (no nested virtualisation, no GPU, no GitHub);
their config and install plan are unit-tested (tests/unit/plugins/module_utils/cri/test_runtime_plan.py)."""
import json
import os

import yaml

LAB = "/root/kubelayer-lab"
TOOL = "python3 %s/cri_tool.py" % LAB


def _cri(host, args):
    return json.loads(host.check_output("%s %s" % (TOOL, args)))


def _images(host):
    have = host.check_output("ctr -n k8s.io images ls -q")
    for name, cmd in (("busybox", "/bin/busybox,echo,hello-from-a-local-oci-image"), ("pause", "/bin/busybox,sleep,infinity")):
        if "localhost/kubelayer/%s:1" % name in have:
            continue
        host.check_output("python3 %s/oci_image.py --name localhost/kubelayer/%s:1 --out %s/%s.oci.tar "
                          "--file /bin/busybox:bin/busybox --link bin/sh=busybox --cmd %s" % (LAB, name, LAB, name, cmd))
        host.check_output("ctr -n k8s.io images import %s/%s.oci.tar" % (LAB, name))


def test_crun_comes_from_the_debian_package(host):
    assert host.package("crun").is_installed
    assert host.file("/usr/bin/crun").mode & 0o111


def test_crun_handler_is_live(host):
    status = _cri(host, "status")
    runtimes = status["info"]["config"]["containerd"]["runtimes"]
    assert runtimes["crun"]["options"]["BinaryName"] == "/usr/bin/crun"
    assert runtimes["crun"]["runtimeType"] == "io.containerd.runc.v2"
    # the role's minimal spec leaves the default handler alone: a fresh file gets containerd's own, runc
    assert status["info"]["config"]["containerd"]["defaultRuntimeName"] == "runc"


def test_a_container_runs_through_the_crun_handler(host):
    _images(host)
    sandbox = _cri(host, "runp --name kl-crun --netns host --handler crun")
    try:
        assert sandbox["state"] == "SANDBOX_READY"
        assert sandbox["runtime_handler"] == "crun"
        # nested on a cgroup v1 host, the cgroup filesystem is bind-mounted read-only (see cri_tool.py create)
        created = _cri(host, "create %s localhost/kubelayer/busybox:1 --name hello --mount /sys/fs/cgroup:/sys/fs/cgroup:ro "
                             "-- /bin/busybox echo hello-through-crun" % sandbox["id"])
        _cri(host, "start %s" % created["id"])
        done = _cri(host, "wait %s --seconds 60" % created["id"])
        assert done["state"] == "CONTAINER_EXITED" and done["exit_code"] == 0
        assert done["info"]["runtimeOptions"]["binary_name"] == "/usr/bin/crun"
        assert host.file(created["log_path"]).content_string.rstrip().endswith("stdout F hello-through-crun")
    finally:
        host.run("%s stop %s" % (TOOL, sandbox["id"]))
        host.run("%s rm %s" % (TOOL, sandbox["id"]))


def test_runtime_classes_rendered_for_every_handler():
    directory = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "runtime-classes")
    with open(os.path.join(directory, "runtime-classes.yaml")) as handle:
        objects = list(yaml.safe_load_all(handle))
    assert [(o["kind"], o["apiVersion"], o["metadata"]["name"], o["handler"]) for o in objects] == [
        ("RuntimeClass", "node.k8s.io/v1", "runc", "runc"), ("RuntimeClass", "node.k8s.io/v1", "crun", "crun")]
    with open(os.path.join(directory, "kustomization.yaml")) as handle:
        assert yaml.safe_load(handle)["resources"] == ["runtime-classes.yaml"]
