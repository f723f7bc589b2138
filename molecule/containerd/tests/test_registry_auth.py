"""Registry credentials on real nodes: Debian's docker-registry with htpasswd (bcrypt) auth on 127.0.0.1:5000 inside
each node, an image pushed there with ctr, then a CRI PullImage through containerd (tests/lab/cri_tool.py, grpcio).

The pull succeeds with the config.toml the role wrote (containerd_registry_auth -> the CRI plugin's
registry.configs."127.0.0.1:5000".auth, answered by containerd's own authorizer) and fails with 401 when that
table is taken out of the same file. Plain http on loopback: containerd talks http to 127.0.0.1 (a loopback
registry host) and, for the mirror route, hosts.toml says http://127.0.0.1:5000."""
import json
import time

import pytest

LAB = "/root/kubelayer-lab"
REGISTRY = "127.0.0.1:5000"
IMAGE = REGISTRY + "/kubelayer/hello:1"
# the same repository reached as registry.lab.example:5000 through its hosts.toml mirror http://127.0.0.1:5000
MIRRORED = "registry.lab.example:5000/kubelayer/hello:1"
USER, PASSWORD = "lab", "lab-secret-password"  # converge.yml's containerd_registry_auth
CONFIG = "/etc/containerd/config.toml"
REGISTRY_CONFIG = """\
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
http:
  addr: 127.0.0.1:5000
auth:
  htpasswd:
    realm: kubelayer-lab
    path: /etc/docker/registry/htpasswd
"""
# GET /v2/ without credentials: the registry must ask for them (status and challenge printed)
PROBE = ("import urllib.request, urllib.error\n"
         "try:\n    urllib.request.urlopen('http://127.0.0.1:5000/v2/', timeout=5); print('200 none')\n"
         "except urllib.error.HTTPError as e:\n    print(e.code, e.headers.get('WWW-Authenticate'))\n")
# the role's file without the registry.configs."127.0.0.1:5000".auth table (header line up to the next table)
STRIP = ("import sys\nlines = open(sys.argv[1]).read().splitlines(True)\nout, skip = [], False\n"
         "for line in lines:\n    head = line.strip()\n"
         "    if head.startswith('['):\n        skip = head.endswith('.registry.configs.\"127.0.0.1:5000\".auth]')\n"
         "    if not skip:\n        out.append(line)\nopen(sys.argv[2], 'w').write(''.join(out))\n")


def _python(host, code, *args):
    return host.check_output("python3 -c %s %s" % (_quote(code), " ".join(args)))


def _quote(text):
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _pull(host, image):
    """CRI PullImage without an AuthConfig: (ok, json) -- credentials can only come from containerd's config."""
    host.run("ctr -n k8s.io images rm %s" % image)
    result = host.run("python3 %s/cri_tool.py pull %s" % (LAB, image))
    return result.rc == 0, json.loads(result.stdout)


def _restart_containerd(host):
    host.check_output("systemctl restart containerd")
    for dummy in range(60):
        status = host.run("python3 %s/cri_tool.py status" % LAB)
        if status.rc == 0:
            conditions = {c["type"]: c["status"] for c in json.loads(status.stdout)["conditions"]}
            if conditions.get("RuntimeReady"):
                return
        time.sleep(1)
    raise AssertionError("containerd did not report RuntimeReady after a restart")


@pytest.fixture(scope="module")
def registry(host):
    """docker-registry with one bcrypt htpasswd user on loopback, and the image pushed to it with credentials."""
    host.check_output("cat > /etc/docker/registry/config.yml <<'EOF'\n%sEOF" % REGISTRY_CONFIG)
    host.check_output("htpasswd -Bbc /etc/docker/registry/htpasswd %s %s" % (USER, PASSWORD))
    host.check_output("chown root:docker-registry /etc/docker/registry/htpasswd && chmod 0640 /etc/docker/registry/htpasswd")
    host.check_output("systemctl restart docker-registry")
    challenge = None
    for dummy in range(30):
        probe = host.run("python3 -c %s" % _quote(PROBE))
        if probe.rc == 0:
            challenge = probe.stdout.strip()
            break
        time.sleep(1)
    host.check_output("python3 %s/oci_image.py --name %s --out %s/hello.oci.tar --file /bin/busybox:bin/busybox "
                      "--link bin/sh=busybox --cmd /bin/busybox,echo,hello-from-the-lab-registry" % (LAB, IMAGE, LAB))
    # pushed from a namespace of its own: the CRI (k8s.io) namespace never holds the image before a pull
    host.check_output("ctr -n kubelayer-push images import %s/hello.oci.tar" % LAB)
    anonymous = host.run("ctr -n kubelayer-push images push --plain-http %s" % IMAGE)
    host.check_output("ctr -n kubelayer-push images push --plain-http --user %s:%s %s" % (USER, PASSWORD, IMAGE))
    return {"challenge": challenge, "anonymous_push": anonymous}


def test_the_registry_demands_credentials(host, registry):
    assert host.file("/etc/docker/registry/htpasswd").content_string.startswith(USER + ":$2y$")  # bcrypt
    assert registry["challenge"] == '401 Basic realm="kubelayer-lab"'
    assert registry["anonymous_push"].rc != 0


def test_cri_pull_with_the_written_config(host, registry):
    ok, result = _pull(host, IMAGE)
    assert ok, result
    assert result["image_ref"].startswith("sha256:")
    ok, mirrored = _pull(host, MIRRORED)  # hosts.toml mirror route, credentials keyed by the mirror's host
    assert ok, mirrored
    assert mirrored["image_ref"] == result["image_ref"]


def test_cri_pull_fails_without_the_written_credentials(host, registry):
    host.check_output("cp -p %s %s/config.toml.with-auth" % (CONFIG, LAB))
    try:
        _python(host, STRIP, CONFIG, "%s/config.toml.without-auth" % LAB)
        stripped = host.file("%s/config.toml.without-auth" % LAB).content_string
        assert PASSWORD not in stripped and "registry" in stripped
        host.check_output("cp %s/config.toml.without-auth %s" % (LAB, CONFIG))
        _restart_containerd(host)
        ok, result = _pull(host, IMAGE)
        assert not ok, result
        assert "401 Unauthorized" in result["error"] or "no basic auth credentials" in result["error"], result
        assert IMAGE not in host.check_output("ctr -n k8s.io images ls -q")
    finally:
        host.check_output("cp -p %s/config.toml.with-auth %s" % (LAB, CONFIG))
        _restart_containerd(host)
    ok, result = _pull(host, IMAGE)  # the role's file is back: the pull works again
    assert ok, result
    assert host.file(CONFIG).mode == 0o600
