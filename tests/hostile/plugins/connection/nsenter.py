# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only connection of the hostile-input suite: run commands inside the lab node's namespaces with nsenter.

``podman exec`` costs seconds per command on a loaded machine and a module task needs several; entering the node's
namespaces (mount, PID, network, UTS, IPC, cgroup, user) costs milliseconds, so every case can go through
ansible-playbook, the collection's action plugins and the real module on the node. The node is the process given by
``KL_HOSTILE_PID`` (podman's ``.State.Pid``); commands run as root with a clean environment, in ``KL_HOSTILE_CWD``
(inside the managed roots, where a relative path would land) or ``/``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: nsenter
short_description: Run commands in a lab node's namespaces (kubelayer.runtime hostile-input suite only)
description:
  - Commands, file transfers and pipelined modules through C(nsenter --target $KL_HOSTILE_PID --all).
author: kubelayer.runtime developers
extends_documentation_fragment:
  - connection_pipelining
options: {}
"""

import os
import shlex
import subprocess

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection import ConnectionBase

ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"]


class Connection(ConnectionBase):
    transport = "nsenter"
    has_pipelining = True

    def _connect(self):
        if not os.environ.get("KL_HOSTILE_PID"):
            raise AnsibleConnectionFailure("nsenter connection: KL_HOSTILE_PID is not set")
        self._connected = True
        return self

    @staticmethod
    def _argv(cmd):
        cwd = os.environ.get("KL_HOSTILE_CWD") or "/"
        script = "cd %s 2>/dev/null || cd /\n%s" % (shlex.quote(cwd), cmd)
        return ["nsenter", "--target", os.environ["KL_HOSTILE_PID"], "--all", "/usr/bin/env", "-i"] + ENV + [
            "/bin/sh", "-c", script]

    def _run(self, cmd, stdin=None, in_data=None):
        proc = subprocess.Popen(self._argv(cmd), stdin=stdin if stdin is not None else subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(None if stdin is not None else in_data)
        return proc.returncode, out, err

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        return self._run(cmd, in_data=in_data or b"")

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        with open(in_path, "rb") as source:
            rc, _out, err = self._run("cat > %s" % shlex.quote(out_path), stdin=source)
        if rc != 0:
            raise AnsibleConnectionFailure("nsenter put_file %s: %s" % (out_path, err))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        with open(out_path, "wb") as target:
            proc = subprocess.run(self._argv("cat %s" % shlex.quote(in_path)), stdout=target, stderr=subprocess.PIPE,
                                  check=False)
        if proc.returncode != 0:
            raise AnsibleConnectionFailure("nsenter fetch_file %s: %s" % (in_path, proc.stderr))

    def close(self):
        self._connected = False
