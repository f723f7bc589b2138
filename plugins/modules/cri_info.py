#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cri_info
short_description: Ask the container runtime over its CRI socket for its version, readiness and live config
version_added: 0.1.0
description:
  - Calls the CRI C(runtime.v1.RuntimeService) methods C(Version) and C(Status) (verbose) on the runtime's
    unix socket and returns the runtime's name and version, the C(RuntimeReady) and C(NetworkReady)
    conditions, the runtime handlers and the live configuration the runtime reports.
  - Uses C(crictl) when it is installed (O(method=auto)); without it, makes the two gRPC calls through the
    node's C(python3-grpcio) (Debian/Ubuntu package; the M(kubelayer.runtime.containerd) role installs it) with
    the few CRI messages encoded by the collection itself (no generated code, no protobuf package).
  - Can wait until the runtime reports C(RuntimeReady) (O(wait_ready)), for example after a restart.
  - Can also report a systemd unit's state (O(service)) and the contents of C(/etc/crictl.yaml), so a role
    can decide from one probe which of its tasks have work to do.
  - Never changes anything.
author: kubelayer.runtime developers (@kubelayer)
extends_documentation_fragment:
  - kubelayer.runtime.attributes.info
options:
  endpoint:
    description:
      - The CRI endpoint, C(unix:///path) or an absolute socket path.
    type: str
    default: unix:///run/containerd/containerd.sock
  method:
    description:
      - How to ask the runtime. V(auto) uses crictl when it is found, else gRPC through C(python3-grpcio).
      - Without crictl and without C(python3-grpcio) the runtime counts as unreachable (RV(available=false),
        RV(reason) names the missing package).
    type: str
    choices: [auto, crictl, grpc]
    default: auto
  crictl_path:
    description:
      - The crictl binary. Looked up in C(PATH) (and C(/usr/local/bin)) when absent.
    type: path
  timeout:
    description:
      - Seconds allowed for each call.
    type: int
    default: 10
  wait_ready:
    description:
      - Seconds to wait until the runtime answers and reports C(RuntimeReady). V(0) asks once.
      - The module fails with the last reason when the runtime is not ready by then (unless
        O(required=false)).
    type: int
    default: 0
  required:
    description:
      - When V(false), an unreachable or not ready runtime is reported with RV(available=false) or
        RV(runtime_ready=false) instead of failing.
    type: bool
    default: true
  service:
    description:
      - A systemd unit (for example V(containerd)) whose enabled and active states are returned in RV(service_state).
    type: str
  crictl_config_path:
    description:
      - The crictl configuration file whose top-level keys are returned in RV(crictl_config).
    type: path
    default: /etc/crictl.yaml
  cni_bin_dir:
    description:
      - A CNI plugin directory in which O(cni_plugins) are looked for (RV(cni_plugins_missing)).
      - The directory the runtime is, or is about to be, configured with; the live ones are in C(cniconfig) of RV(info).
    type: path
  cni_plugins:
    description:
      - CNI plugin file names that must be executable in O(cni_bin_dir) (for example V(loopback), which every pod
        sandbox with its own network namespace runs).
    type: list
    elements: str
    default: []
  binaries:
    description:
      - Absolute paths of programs that must be executable files (for example the runtime binaries of the handlers
        a role configures, such as V(/usr/bin/crun)); those that are not are returned in RV(binaries_missing).
    type: list
    elements: path
    default: []
notes:
  - The runtime's verbose info can include its whole configuration; registry credentials set in
    C(config.toml) (C(registry.configs.*.auth)) would appear in RV(config). Keep them in C(hosts.toml)
    headers (M(kubelayer.runtime.containerd_registry)) instead.
seealso:
  - module: kubelayer.runtime.containerd_config
  - module: kubelayer.runtime.containerd_registry
"""

EXAMPLES = r"""
- name: Probe the runtime without failing when it is absent
  kubelayer.runtime.cri_info:
    required: false
    service: containerd
  register: cri

- name: Wait up to a minute for RuntimeReady after a restart
  kubelayer.runtime.cri_info:
    wait_ready: 60

- name: Show the sandbox image containerd 1.x uses
  ansible.builtin.debug:
    msg: "{{ cri.config.sandboxImage | default('n/a') }}"
"""

RETURN = r"""
available:
  description: Whether the runtime answered.
  returned: always
  type: bool
  sample: true
reason:
  description: Why the runtime is unavailable or not ready (empty when all is well).
  returned: always
  type: str
  sample: "cannot connect to unix:///run/containerd/containerd.sock: [Errno 2] No such file or directory"
method:
  description: The method used, V(crictl) or V(grpc) (empty when the runtime was not reached).
  returned: always
  type: str
  sample: grpc
endpoint:
  description: The endpoint asked.
  returned: always
  type: str
  sample: unix:///run/containerd/containerd.sock
runtime_name:
  description: The runtime's name.
  returned: always
  type: str
  sample: containerd
runtime_version:
  description: The runtime's version as it reports it.
  returned: always
  type: str
  sample: 1.6.20~ds1
runtime_semver:
  description: The C(MAJOR.MINOR.PATCH) part of RV(runtime_version).
  returned: always
  type: str
  sample: 1.6.20
runtime_api_version:
  description: The CRI API version the runtime serves.
  returned: always
  type: str
  sample: v1
version:
  description: The version field of the CRI Version response.
  returned: always
  type: str
  sample: 0.1.0
conditions:
  description: All runtime conditions (C(type), C(status), C(reason), C(message)).
  returned: always
  type: list
  elements: dict
  sample: [{"type": "RuntimeReady", "status": true, "reason": "", "message": ""}]
runtime_ready:
  description: The C(RuntimeReady) condition.
  returned: always
  type: bool
  sample: true
runtime_ready_reason:
  description: Reason and message of the C(RuntimeReady) condition.
  returned: always
  type: str
  sample: ""
network_ready:
  description: The C(NetworkReady) condition.
  returned: always
  type: bool
  sample: false
network_ready_reason:
  description: Reason and message of the C(NetworkReady) condition.
  returned: always
  type: str
  sample: "NetworkPluginNotReady Network plugin returns error: cni plugin not initialized"
runtime_handlers:
  description: Names of the runtime handlers the runtime reports (CRI v0.30+ runtimes).
  returned: always
  type: list
  elements: str
  sample: [runc]
config:
  description: The live configuration in the runtime's verbose status (C(info.config)), parsed.
  returned: always
  type: dict
  sample: {"sandboxImage": "registry.k8s.io/pause:3.6", "containerd": {"defaultRuntimeName": "runc"}}
info:
  description: Every key of the verbose status info, JSON values parsed (C(config), C(cniconfig), C(golang), ...).
  returned: always
  type: dict
  sample: {"golang": "go1.19.8"}
service_state:
  description: The O(service) unit's C(enabled) and C(active) states (C(systemctl is-enabled/is-active)).
  returned: when O(service) is set
  type: dict
  sample: {"name": "containerd", "enabled": "enabled", "active": "active"}
cni_plugins_missing:
  description: Plugins of O(cni_plugins) that are not an executable file in O(cni_bin_dir).
  returned: always
  type: list
  elements: str
  sample: [loopback]
binaries_missing:
  description: Paths of O(binaries) that are not an executable file.
  returned: always
  type: list
  elements: str
  sample: [/usr/bin/crun]
crictl_config:
  description: Top-level keys of O(crictl_config_path), empty when the file does not exist.
  returned: always
  type: dict
  sample: {"runtime-endpoint": "unix:///run/containerd/containerd.sock", "timeout": 10}
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import crictl as crictl_utils
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import cri_proto
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.grpc_client import CriClient, GrpcError
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import files as host_files
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail, fail_if

# one day: longer waits or timeouts are a mistake, not a wish (and larger numbers overflow the socket timeout)
MAX_SECONDS = 86400


def ask_grpc(endpoint, timeout):
    with CriClient(endpoint=endpoint, timeout=timeout) as client:
        version = client.call(cri_proto.VERSION)
        status = client.call(cri_proto.STATUS, {"verbose": True})
    return crictl_utils.shape_result(version, status["conditions"], status["runtime_handlers"],
                                     cri_proto.parse_info(status["info"]))


def ask_crictl(module, crictl, endpoint, timeout):
    rc, out, err = module.run_command(crictl_utils.crictl_command(crictl, endpoint, timeout, "version"))
    if rc != 0:
        raise GrpcError("crictl version failed (rc %d): %s" % (rc, (err or out).strip()))
    version = crictl_utils.parse_version(out)
    rc, out, err = module.run_command(crictl_utils.crictl_command(crictl, endpoint, timeout, "info"))
    if rc != 0:
        raise GrpcError("crictl info failed (rc %d): %s" % (rc, (err or out).strip()))
    conditions, handlers, info = crictl_utils.parse_info(out)
    return crictl_utils.shape_result(version, conditions, handlers, info)


def ask_until_ready(module, method, crictl, params):
    """(result, available, reason), retrying until RuntimeReady or ``wait_ready`` seconds have passed."""
    deadline = time.time() + params["wait_ready"]
    while True:
        reason = ""
        available = False
        try:
            if method == "crictl":
                result = ask_crictl(module, crictl, params["endpoint"], params["timeout"])
            else:
                result = ask_grpc(params["endpoint"], params["timeout"])
            available = True
            if not result["runtime_ready"]:
                reason = "RuntimeReady is false: %s" % (result["runtime_ready_reason"] or "no reason given")
        except (GrpcError, cri_proto.ProtobufError, crictl_utils.CrictlOutputError) as exc:
            result = empty_result()
            reason = str(exc)
        if not reason or time.time() >= deadline:
            return result, available, reason
        time.sleep(min(2.0, max(0.1, deadline - time.time())))


def empty_result():
    return crictl_utils.shape_result({}, [], [], {})


def service_state(module, name):
    systemctl = module.get_bin_path("systemctl")
    state = {"name": name, "enabled": "unknown", "active": "unknown"}
    if systemctl:
        for key in ("enabled", "active"):
            dummy, out, err = module.run_command([systemctl, "is-" + key, name])
            state[key] = (out.strip() or err.strip()).splitlines()[0] if (out.strip() or err.strip()) else "unknown"
    return state


def read_crictl_config(path, problems):
    """The settings of crictl's config file ({} when it is absent); a file that is not text is a problem."""
    if host_files.lstat(path) is None:
        return {}
    text = host_files.read_text(path, strict=True)
    if text is None or "\x00" in text:
        problems.append("crictl_config_path: %s is not a readable UTF-8 text file" % path)
        return {}
    return crictl_utils.parse_crictl_yaml(text)


def check_options(params):
    """Every problem in the options, before anything is read or asked."""
    problems = []
    endpoint = validate.check_text("endpoint", params["endpoint"], problems)
    if endpoint is not None:
        path = endpoint[len("unix://"):] if endpoint.startswith("unix://") else endpoint
        if "://" in path:
            problems.append("endpoint: only unix:// endpoints are supported, got %r" % endpoint)
        else:
            validate.check_path("endpoint", path, problems)
    validate.check_int("timeout", params["timeout"], problems, 1, MAX_SECONDS)
    validate.check_int("wait_ready", params["wait_ready"], problems, 0, MAX_SECONDS)
    if params["crictl_path"] is not None:
        validate.check_path("crictl_path", params["crictl_path"], problems)
    validate.check_path("crictl_config_path", params["crictl_config_path"], problems)
    if params["service"] is not None:
        validate.check_text("service", params["service"], problems, max_len=255)
    for index, plugin in enumerate(params["cni_plugins"]):
        validate.check_cni_plugin("cni_plugins[%d]" % index, plugin, problems)
    if params["cni_plugins"]:
        validate.check_path("cni_bin_dir", params["cni_bin_dir"], problems, directory=True)
    for index, path in enumerate(params["binaries"]):
        validate.check_path("binaries[%d]" % index, path, problems)
    return problems


def missing_cni_plugins(directory, plugins):
    """Plugins that are not an executable file in ``directory``."""
    return [name for name in plugins if not_executable(os.path.join(directory, name))]


def not_executable(path):
    return not (os.path.isfile(path) and os.access(path, os.X_OK))


ARGUMENT_SPEC = dict(
    endpoint=dict(type="str", default="unix:///run/containerd/containerd.sock"),
    method=dict(type="str", default="auto", choices=["auto", "crictl", "grpc"]),
    crictl_path=dict(type="path"),
    timeout=dict(type="int", default=10),
    wait_ready=dict(type="int", default=0),
    required=dict(type="bool", default=True),
    service=dict(type="str"),
    crictl_config_path=dict(type="path", default="/etc/crictl.yaml"),
    cni_bin_dir=dict(type="path"),
    cni_plugins=dict(type="list", elements="str", default=[]),
    binaries=dict(type="list", elements="path", default=[]),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    params = module.params
    fail_if(module, "cri_info", check_options(params))
    problems = []
    crictl_config = read_crictl_config(params["crictl_config_path"], problems)
    fail_if(module, "cri_info", problems)

    crictl = None
    if params["method"] in ("auto", "crictl"):
        crictl = params["crictl_path"] or module.get_bin_path("crictl", opt_dirs=["/usr/local/bin"])
        if crictl and not os.access(crictl, os.X_OK):
            crictl = None
        if params["method"] == "crictl" and not crictl:
            fail(module, "cri_info", ["method: crictl was not found (set crictl_path or use method=grpc)"])
    method = "crictl" if crictl else "grpc"

    # systemctl first: forking after grpcio has run can hang in grpc's fork handler ("Waiting for thread pool
    # to idle before forking"), so nothing may fork once the gRPC calls started.
    extra = {"crictl_config": crictl_config,
             "cni_plugins_missing": missing_cni_plugins(params["cni_bin_dir"], params["cni_plugins"]),
             "binaries_missing": [path for path in params["binaries"] if not_executable(path)]}
    if params["service"]:
        extra["service_state"] = service_state(module, params["service"])
    result, available, reason = ask_until_ready(module, method, crictl, params)
    result.update(extra, changed=False, available=available, reason=reason, method=method if available else "",
                  endpoint=params["endpoint"])
    if reason and params["required"]:
        waited = " after waiting %ds" % params["wait_ready"] if params["wait_ready"] else ""
        fail(module, "cri_info", ["endpoint: the container runtime at %s is not ready%s: %s"
                                  % (params["endpoint"], waited, reason)], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
