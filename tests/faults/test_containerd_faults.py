"""containerd faults on converged nodes (containerd 1.6 and 2.1): bad settings, a config containerd cannot start
with, and registry credentials.

Each test drives playbooks/runtime.yml (the containerd role) with ansible-playbook and checks the node itself.
"""

import base64
import re
import secrets

import pytest

from faultlab import CONVERGED, ROOT

RUNTIME = ROOT / "playbooks" / "runtime.yml"
CONFIG = "/etc/containerd/config.toml"
TEMP_NAME = re.compile(r"/(\.ansible_tmp|\.containerd-config\.|\.hosts\.toml\.)[^/]*$")


def _etc_containerd(lab, node):
    return lab.snapshot(node, ["/etc/containerd"])


def _temp_files(snapshot):
    return sorted(p for p in snapshot if TEMP_NAME.search(p))


def _assert_serving(lab, node):
    assert lab.podman("exec", node, "systemctl", "is-active", "containerd", check=False).stdout.strip() == "active"
    ready, status = lab.runtime_ready(node)
    assert ready, "%s: containerd does not report RuntimeReady: %s" % (node, status)


INVALID_SETTINGS = {
    # a value of the wrong type the module does not know about: only containerd itself (config dump) can tell,
    # on the node, before the file is replaced
    "containerd-rejects": ({"gc.pause_threshold": "x"},
                           r"containerd rejects the candidate config, /etc/containerd/config\.toml is unchanged: "
                           r"containerd: .*(float64|PauseThreshold)"),
    # a value of the wrong type for a key the module knows: refused on the controller
    "module-type": ({"cri.runtime.enable_selinux": "yes"},
                    r"nothing written: settings\.cri\.runtime\.enable_selinux: 'yes' is a string"),
    # a name that would inject a TOML table: refused on the controller
    "injected-name": ({'cri.runtime."x"]\n[evil': 1},
                      r"nothing written: settings: name 'cri\.runtime\.\"x\"\]\\n\[evil' must be"),
}


@pytest.mark.parametrize("case", sorted(INVALID_SETTINGS))
def test_invalid_setting_fails_before_writing(lab, case):
    """An invalid free-form setting fails the task; the file is byte-identical and CRI keeps serving."""
    settings, reason = INVALID_SETTINGS[case]
    before = {node: _etc_containerd(lab, node) for node in CONVERGED}
    extra = {"containerd_extra_settings": dict({"cri.runtime.restrict_oom_score_adj": True}, **settings)}
    run = lab.playbook("invalid-setting-%s" % case, RUNTIME, extra=extra, limit=",".join(CONVERGED))

    assert run.rc != 0, run
    for node in CONVERGED:
        recap = run.recap(node)
        assert recap and recap["failed"] == 1 and recap["changed"] == 0, (node, recap, run)
        after = _etc_containerd(lab, node)
        assert after[CONFIG] == before[node][CONFIG], "%s: %s changed" % (node, CONFIG)
        assert after == before[node], "%s: /etc/containerd changed: %s" % (
            node, sorted(set(after.items()) ^ set(before[node].items())))
        assert _temp_files(after) == []
        _assert_serving(lab, node)
    assert re.search(reason, re.sub(r"\s+", " ", run.stdout).replace("''", "'")), run
    assert "Traceback" not in run.output and "MODULE FAILURE" not in run.output, run


def test_config_that_fails_start_is_rolled_back(lab):
    """state under /proc passes `containerd config dump` but containerd cannot start with it: the role restores the
    previous file, containerd serves again and the host fails with the reason."""
    bad_state = "/proc/kubelayer-broken"
    before = {}
    for node in CONVERGED:
        before[node] = lab.sha256(node, CONFIG)
        # the fault is real on this release: containerd's own validation accepts it
        check = lab.sh(node, "sed 's|^state = .*|state = \"%s\"|' %s > /root/faults/bad.toml && "
                             "grep -q '^state = \"%s\"' /root/faults/bad.toml && "
                             "containerd -c /root/faults/bad.toml config dump >/dev/null"
                       % (bad_state, CONFIG, bad_state), check=False)
        assert check.returncode == 0, "%s: containerd config dump rejects the fault: %s" % (node, check.stderr)

    run = lab.playbook("rollback", RUNTIME, limit=",".join(CONVERGED),
                       extra={"containerd_state_dir": bad_state, "containerd_restart_timeout": 15})

    assert run.rc != 0, run
    text = run.stdout.replace("\n    ", " ")
    for node in CONVERGED:
        recap = run.recap(node)
        assert recap and recap["failed"] == 1 and recap["rescued"] == 1, (node, recap, run)
        assert lab.sha256(node, CONFIG) == before[node], "%s: the previous config was not restored" % node
        _assert_serving(lab, node)
        assert re.search(r"fatal: \[%s\]" % re.escape(node), text), run
    assert "did not report RuntimeReady" in text, run
    assert "was restored and containerd restarted" in text, run


def test_registry_password_never_leaks(lab):
    """Registry credentials in the inventory: not in -vvv output, only in 0600 root files under /etc/containerd."""
    node = CONVERGED[-1]
    password = "pw-" + secrets.token_hex(12)
    token = "tk-" + secrets.token_hex(12)
    user = "faults"
    basic = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    secrets_ = {"password": password, "basic": basic, "token": token}
    host_vars = {
        "containerd_registries_mirrors": [
            {"prefix": "registry.faults.example:5000",
             "mirrors": [{"host": "https://mirror.faults.example", "capabilities": ["pull", "resolve"],
                          "header": {"X-Registry-Token": token}}]},
        ],
        "containerd_registry_auth": [
            {"registry": "registry.faults.example:5000", "username": user, "password": password},
        ],
    }
    # the credentials live in the inventory (host vars), as a user keeps them (ideally vaulted)
    inventory = lab.write_inventory(lab.tmp / "registry-inventory.yml", host_vars={node: host_vars})
    run = lab.playbook("registry-auth", RUNTIME, "-vvv", limit=node, inventory=inventory)
    assert run.rc == 0, run

    leaked = [name for name, value in secrets_.items() if value in run.output]
    assert leaked == [], "%s printed by ansible-playbook -vvv (see %s)" % (leaked, run.log)

    holders = []
    snapshot = _etc_containerd(lab, node)
    for path, desc in snapshot.items():
        if not desc.startswith("file "):
            continue
        content = lab.read(node, path) or ""
        found = [name for name, value in secrets_.items() if value in content]
        if found:
            holders.append(path)
            mode, owner = desc.split(" ")[1:3]
            assert int(mode, 8) & 0o077 == 0, "%s holds %s with mode %s" % (path, found, mode)
            assert owner == "0:0", "%s holds %s, owned by %s" % (path, found, owner)
    # the credentials did reach the node (config.toml's CRI registry configs, where containerd answers the
    # registry's challenge), so the scan above proved something
    assert holders, "no file under /etc/containerd holds the credentials"
    assert "/etc/containerd/config.toml" in holders
    assert password in (lab.read(node, "/etc/containerd/config.toml") or "")
    # nothing else on the node's /etc holds them
    found = lab.sh(node, "grep -rlF -e %s -e %s -e %s /etc /root /tmp /var/tmp 2>/dev/null || true"
                   % (password, basic, token)).stdout.split()
    assert sorted(set(found) - set(holders)) == [], found


def test_registries_exclusive_keeps_hand_made_directories(lab):
    """containerd_registries_exclusive (default true) removes only the host directories the collection wrote: a
    hand-made certs.d/myreg:5000 with its CA file survives, a managed directory that left the list goes, and a CA
    file added by hand to a managed directory keeps that file (and its directory)."""
    node = CONVERGED[0]
    certs = "/etc/containerd/certs.d"
    lab.sh(node, "mkdir -p '{0}/myreg:5000' && echo 'server = \"https://myreg:5000\"' > '{0}/myreg:5000/hosts.toml'"
                 " && echo CA > '{0}/myreg:5000/ca.crt'".format(certs))
    hand_made = {p: lab.sha256(node, p) for p in ("%s/myreg:5000/hosts.toml" % certs, "%s/myreg:5000/ca.crt" % certs)}
    mirrors = [{"prefix": "docker.io", "mirrors": [{"host": "https://registry-1.docker.io"}]},
               {"prefix": "old.faults.example", "mirrors": [{"host": "https://mirror.faults.example"}]},
               {"prefix": "kept.faults.example", "mirrors": [{"host": "https://mirror.faults.example"}]}]
    inventory = lab.write_inventory(lab.tmp / "exclusive-1.yml",
                                    host_vars={node: {"containerd_registries_mirrors": mirrors}})
    run = lab.playbook("exclusive-write", RUNTIME, limit=node, inventory=inventory)
    assert run.rc == 0, run
    assert lab.exists(node, "%s/old.faults.example/.kubelayer-managed" % certs)
    lab.sh(node, "echo CA > '%s/kept.faults.example/ca.crt'" % certs)

    inventory = lab.write_inventory(lab.tmp / "exclusive-2.yml",
                                    host_vars={node: {"containerd_registries_mirrors": mirrors[:1]}})
    run = lab.playbook("exclusive-remove", RUNTIME, limit=node, inventory=inventory)
    assert run.rc == 0, run
    assert not lab.exists(node, "%s/old.faults.example" % certs), run
    # a managed directory with a hand-added file: the collection's files go, the CA file and directory stay
    assert lab.exists(node, "%s/kept.faults.example/ca.crt" % certs)
    assert not lab.exists(node, "%s/kept.faults.example/hosts.toml" % certs)
    for path, digest in hand_made.items():
        assert lab.sha256(node, path) == digest, path
    lab.sh(node, "rm -rf '%s/myreg:5000' '%s/kept.faults.example'" % (certs, certs))
