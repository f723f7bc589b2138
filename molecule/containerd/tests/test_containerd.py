"""The containerd role on real nodes: service, written config, CRI readiness, hosts.toml, a running container
from a locally built OCI image, and a host-network CRI pod sandbox using that image as the sandbox image."""
import json
import tomllib

import pytest

LAB = "/root/kubelayer-lab"
# release -> (containerd major.minor, config schema version written)
EXPECTED = {
    "cri-bookworm": ("1.6", 2),
    "cri-trixie": ("1.7", 2),
    "cri-forky": ("2.1", 3),
}


def _name(host):
    return host.backend.get_hostname()


def _config(host):
    return tomllib.loads(host.file("/etc/containerd/config.toml").content_string)


def test_containerd_release_matches_the_node(host):
    version = host.check_output("containerd --version")
    assert " %s." % EXPECTED[_name(host)][0] in version


def test_service_running_and_enabled(host):
    svc = host.service("containerd")
    assert svc.is_running
    assert svc.is_enabled


def test_config_is_the_written_one(host):
    cfg = _config(host)
    major_minor, schema = EXPECTED[_name(host)]
    assert cfg["version"] == schema
    assert cfg["root"] == "/var/lib/containerd"
    assert cfg["state"] == "/run/containerd"
    if schema == 2:
        cri = cfg["plugins"]["io.containerd.grpc.v1.cri"]
        assert cri["sandbox_image"] == "localhost/kubelayer/pause:1"
        assert cri["registry"]["config_path"] == "/etc/containerd/certs.d"
        assert cri["containerd"]["default_runtime_name"] == "runc"
        assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False
        assert cri["restrict_oom_score_adj"] is True
    else:
        images = cfg["plugins"]["io.containerd.cri.v1.images"]
        runtime = cfg["plugins"]["io.containerd.cri.v1.runtime"]
        assert images["pinned_images"]["sandbox"] == "localhost/kubelayer/pause:1"
        assert images["registry"]["config_path"] == "/etc/containerd/certs.d"
        assert runtime["containerd"]["default_runtime_name"] == "runc"
        assert runtime["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False
        assert runtime["restrict_oom_score_adj"] is True


def _cri_status(host):
    return json.loads(host.check_output("python3 %s/cri_tool.py status" % LAB))


def test_cri_runtime_ready_and_live_config(host):
    status = _cri_status(host)
    assert status["runtime_name"] == "containerd"
    assert status["runtime_api_version"] == "v1"
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["RuntimeReady"]["status"] is True
    # no CNI config in the lab: NetworkReady is false with the CNI reason
    assert conditions["NetworkReady"]["status"] is False
    assert conditions["NetworkReady"]["reason"] == "NetworkPluginNotReady"
    live = status["info"]["config"]
    assert live["containerd"]["defaultRuntimeName"] == "runc"
    if EXPECTED[_name(host)][1] == 2:  # 1.x reports image settings in the CRI config too
        assert live["sandboxImage"] == "localhost/kubelayer/pause:1"
        assert live["registry"]["configPath"] == "/etc/containerd/certs.d"


def test_hosts_toml_written(host):
    docker = host.file("/etc/containerd/certs.d/docker.io/hosts.toml")
    assert docker.mode == 0o644
    parsed = tomllib.loads(docker.content_string)
    assert parsed["server"] == "https://registry-1.docker.io"
    assert list(parsed["host"]) == ["https://mirror.gcr.io", "https://registry-1.docker.io"]
    assert parsed["host"]["https://mirror.gcr.io"]["capabilities"] == ["pull", "resolve"]


def test_credentials_only_in_a_0600_file(host):
    # containerd_registry_auth goes to config.toml's CRI registry configs (containerd's authorizer answers the
    # registry's challenge with it); hosts.toml keeps the mirrors only
    private = host.file("/etc/containerd/certs.d/registry.lab.example:5000/hosts.toml")
    assert private.mode == 0o644
    parsed = tomllib.loads(private.content_string)
    assert parsed["server"] == "https://registry.lab.example:5000"
    assert parsed["host"]["http://127.0.0.1:5000"]["skip_verify"] is True
    assert "header" not in parsed and "lab-secret-password" not in private.content_string
    config = host.file("/etc/containerd/config.toml")
    assert config.mode == 0o600 and config.user == "root"
    plugin = "io.containerd.grpc.v1.cri" if EXPECTED[_name(host)][1] == 2 else "io.containerd.cri.v1.images"
    assert _config(host)["plugins"][plugin]["registry"]["configs"] == {
        "127.0.0.1:5000": {"auth": {"username": "lab", "password": "lab-secret-password"}}}


def test_crictl_yaml(host):
    text = host.file("/etc/crictl.yaml").content_string
    assert "runtime-endpoint: unix:///run/containerd/containerd.sock" in text
    assert "timeout: 10" in text


@pytest.fixture
def lab_images(host):
    for name, cmd in (("busybox", "/bin/busybox,echo,hello-from-a-local-oci-image"), ("pause", "/bin/busybox,sleep,infinity")):
        host.check_output(
            "python3 %s/oci_image.py --name localhost/kubelayer/%s:1 --out %s/%s.oci.tar "
            "--file /bin/busybox:bin/busybox --link bin/sh=busybox --cmd %s" % (LAB, name, LAB, name, cmd)
        )
        host.check_output("ctr -n k8s.io images import %s/%s.oci.tar" % (LAB, name))
    return host.check_output("ctr -n k8s.io images ls -q")


def test_container_runs_from_local_image(host, lab_images):
    assert "localhost/kubelayer/busybox:1" in lab_images
    out = host.check_output("ctr -n k8s.io run --rm localhost/kubelayer/busybox:1 kl-verify-%s" % _name(host))
    assert out.strip() == "hello-from-a-local-oci-image"


def test_cri_pod_sandbox_with_host_network(host, lab_images):
    assert "localhost/kubelayer/pause:1" in lab_images
    result = json.loads(host.check_output("python3 %s/cri_tool.py runp --name kl-pod-%s --netns host --rm"
                                          % (LAB, _name(host))))
    assert result["state"] == "SANDBOX_READY"
    assert result["network_mode"] == "node"
    assert len(result["id"]) == 64
    assert result["removed"] is True


def test_rollback_left_a_working_runtime(host):
    # the rollback side effect runs on cri-bookworm only
    assert host.file("%s/rollback-tested" % LAB).exists is (_name(host) == "cri-bookworm")
    assert _config(host)["root"] == "/var/lib/containerd"
    backups = host.check_output("ls /etc/containerd").split()
    assert any(name.startswith("config.toml.") for name in backups)
    assert {c["type"]: c["status"] for c in _cri_status(host)["conditions"]}["RuntimeReady"] is True


def test_tarball_install_on_trixie(host):
    """side_effect replaced trixie's packages by the release-tarball install (local mirror, sha256 checked)."""
    tarball = _name(host) == "cri-trixie"
    assert host.file("/usr/local/bin/containerd").exists is tarball
    assert host.file("/usr/local/bin/runc").exists is tarball
    assert host.package("containerd").is_installed is not tarball
    if tarball:
        unit = host.file("/etc/systemd/system/containerd.service").content_string
        assert "ExecStart=/usr/local/bin/containerd --config /etc/containerd/config.toml" in unit
        assert host.check_output("systemctl show -p FragmentPath containerd") == "FragmentPath=/etc/systemd/system/containerd.service"
