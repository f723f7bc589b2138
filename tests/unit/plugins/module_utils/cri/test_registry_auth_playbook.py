# -*- coding: utf-8 -*-
"""containerd_config with registry_auth through ansible-playbook (local connection, a file under tmp_path):
the credentials reach the file, the file and its backup are 0600, and -vvvv --diff output never shows a value."""
import os
import secrets
import stat
import subprocess
import textwrap

import pytest
import tomllib
import yaml

from kubelayer_paths import REPO, collections_path, controller

pytestmark = pytest.mark.slow  # runs ansible-playbook


def _run(tmp_path, auth, *args):
    (tmp_path / "vars.yml").write_text(yaml.safe_dump({"auth": auth, "path": str(tmp_path / "config.toml")}))
    (tmp_path / "play.yml").write_text(textwrap.dedent("""\
        - name: containerd config with registry credentials
          hosts: node1
          gather_facts: false
          vars_files: [vars.yml]
          tasks:
            - name: Write the config
              kubelayer.runtime.containerd_config:
                path: "{{ path }}"
                containerd_version: 2.1.9
                validate: false
                backup: true
                cgroup_driver: systemd
                config_path: /etc/containerd/certs.d
                registry_auth: "{{ auth }}"
        """))
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"node1": {
        "ansible_connection": "local", "ansible_python_interpreter": controller()[0]}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_DISPLAY_ARGS_TO_STDOUT="0")
    env.pop("PYTHONPATH", None)
    return subprocess.run(controller()[1] + ["-i", "hosts.yml", "play.yml"] + list(args), cwd=str(tmp_path), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
                          check=False)


def test_credentials_in_a_0600_file_and_never_in_the_output(tmp_path):
    user = "user-" + secrets.token_hex(6)
    password = 'pw"] [x] ' + secrets.token_hex(8)  # TOML-hostile: a quote, brackets
    token = "tok-" + secrets.token_hex(8)
    config = tmp_path / "config.toml"
    config.write_text("version = 3\n")
    os.chmod(str(config), 0o644)  # the distribution's file, readable by all
    auth = [{"registry": "127.0.0.1:5000", "username": user, "password": password},
            {"registry": "ghcr.io", "identitytoken": token}]
    proc = _run(tmp_path, auth, "-vvvv", "--diff")
    assert proc.returncode == 0, proc.stdout
    for value in (user, password, token, password.split(" ")[-1]):
        assert value not in proc.stdout
    assert 'password = "********"' in proc.stdout  # the diff was shown, redacted
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    data = tomllib.loads(config.read_text())
    assert data["plugins"]["io.containerd.cri.v1.images"]["registry"]["configs"] == {
        "127.0.0.1:5000": {"auth": {"username": user, "password": password}},
        "ghcr.io": {"auth": {"identitytoken": token}},
    }
    backups = [p for p in tmp_path.iterdir() if p.name.startswith("config.toml.")]
    assert len(backups) == 1

    # a change of credentials: the backup (holding the old ones) is 0600 too; the removed host is named
    proc = _run(tmp_path, auth[:1], "--diff")
    assert proc.returncode == 0, proc.stdout
    assert "the credentials for ghcr.io were removed" in proc.stdout
    assert token not in proc.stdout and password not in proc.stdout
    backups = [p for p in tmp_path.iterdir() if p.name.startswith("config.toml.")]
    assert len(backups) == 2
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in backups)


def test_refusal_names_the_item_without_the_value(tmp_path):
    password = "pw-" + secrets.token_hex(8)
    proc = _run(tmp_path, [{"registry": "r.example", "username": "u\nx", "password": password, "auth": "x"}], "-vvv")
    assert proc.returncode == 2, proc.stdout
    assert "registry_auth[0].username: must not contain control characters" in proc.stdout
    assert password not in proc.stdout
    assert not (tmp_path / "config.toml").exists()
