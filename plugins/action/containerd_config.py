# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of kubelayer.runtime.containerd_config.

Two module executions per task: phase ``probe`` reads the node (file, ``containerd --version``,
PID 1), the merge runs here on the controller with tomlkit (pure logic in
module_utils/cri/containerd_merge.py), phase ``apply`` validates and writes on the node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible.plugins.action import ActionBase

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate as validators
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_cgroup as cg
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_merge as cm
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_spec as cs
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_versions as cv
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import registry_auth as ra
from ansible_collections.kubelayer.runtime.plugins.plugin_utils import module_args

MODULE = "kubelayer.runtime.containerd_config"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(cs.ARGUMENT_SPEC)

    def _fail(self, result, problems, **extra):
        result.update(extra)
        result["failed"] = True
        result["changed"] = False
        result["problems"] = problems
        result["msg"] = "containerd_config: %d problem%s, nothing written: %s" % (
            len(problems), "" if len(problems) == 1 else "s", "; ".join(problems))
        return result

    @staticmethod
    def _node_side(params, probe, version):
        """What the node already says: the kubelet's cgroup driver, the Kubernetes release."""
        problems, warnings = [], []
        kubelet = []
        text = probe.get("kubelet_config_content")
        if text:
            try:
                config = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                config = None
                warnings.append("kubelet_config: %s is not YAML (%s); its cgroupDriver is not compared"
                                % (params.get("kubelet_config"), str(exc).splitlines()[0]))
            kubelet.append((cg.kubelet_file_driver(config), "%s (cgroupDriver)" % params.get("kubelet_config")))
        kubelet.append((params.get("kubelet_cgroup_driver"), "kubelet_cgroup_driver"))
        driver, found = cg.resolve_cgroup_driver(params.get("cgroup_driver"), probe.get("pid1_systemd", True), kubelet)
        problems.extend(found)
        kube = params.get("kubernetes_version")
        if kube:
            parsed = cv.parse_version(kube)
            if parsed is None or not cv.VERSION.match(kube.strip()):
                problems.append("kubernetes_version: %r is not a Kubernetes version such as 1.34.2" % (kube,))
            else:
                problem, warning = cv.kubernetes_pair(version, parsed)
                problems.extend([problem] if problem else [])
                warnings.extend([warning] if warning else [])
        return dict(params, cgroup_driver=driver), problems, warnings

    @staticmethod
    def _versions(params, probe, problems):
        """(the containerd version the file is for, the version installed on the node); each None when unknown,
        a problem added when the version the file is for cannot be known."""
        requested = params.get("containerd_version")
        installed = cv.parse_version(probe.get("containerd_version") or "")
        if requested:
            version = cv.parse_version(requested)
            if version is None or not cv.VERSION.match(requested.strip()):
                problems.append("containerd_version: %r is not a containerd version such as 1.7.24 or 2.1"
                                % (requested,))
                version = None
            return version, installed
        if installed is None:
            problems.append("containerd_version: not given and containerd is not usable on the node (%s); "
                            "install containerd or set containerd_version"
                            % (probe.get("containerd_version_error") or "no version found"))
        return installed, installed

    @staticmethod
    def _validate_on_node(params, installed, version, warnings):
        """Whether the node's containerd can check the file (config dump): only the same minor release can."""
        validate = bool(params.get("validate"))
        if validate and (installed is None or tuple(installed[:2]) != tuple(version[:2])):
            if installed is None:
                warnings.append("validate: containerd is not installed on the node; the file was not "
                                "checked with containerd config dump")
            else:
                warnings.append("validate: the node has containerd %s, the file is for %s; not checked "
                                "with containerd config dump" % (cv.format_version(installed),
                                                                 cv.format_version(version)))
            validate = False
        return validate

    @staticmethod
    def _diff(path, before, after):
        """The file before and after, every registry credential shown as ********."""
        return dict(before_header=path if before is not None else "%s (absent)" % path, after_header=path,
                    before=ra.redact_text(before or ""), after=ra.redact_text(after))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        try:
            return self._run(result, task_vars or {})
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _run(self, result, task_vars):
        # what ansible-core on the node would refuse (types, choices, a NUL byte), in the one failure shape
        problems, params = module_args.check(cs.ARGUMENT_SPEC, dict(self._task.args))
        if problems:
            return self._fail(result, problems)
        # "" is not the default: every path is checked before the node is asked anything
        path = params["path"] if params.get("path") is not None else cs.DEFAULT_PATH
        path_problems = []
        validators.check_path("path", path, path_problems)
        if path_problems:
            return self._fail(result, problems + path_problems)

        probe = self._execute_module(
            module_name=MODULE,
            module_args={"_phase": "probe", "path": path,
                         "kubelet_config": params.get("kubelet_config") or ""},
            task_vars=task_vars,
        )
        if probe.get("failed"):
            probe.pop("invocation", None)
            result.update(probe)
            return result

        version, installed = self._versions(params, probe, problems)
        problems.extend(cs.validate_spec(params, version))
        if version is None or problems:
            return self._fail(result, problems)
        params, node_problems, node_warnings = self._node_side(params, probe, version)
        if node_problems:
            return self._fail(result, node_problems)

        merged = cm.merge(probe.get("content"), params, version, probe.get("pid1_systemd", True))
        merged.warnings.extend(node_warnings)
        if merged.problems:
            return self._fail(result, problems + merged.problems)

        validate = self._validate_on_node(params, installed, version, merged.warnings)
        applied = self._execute_module(
            module_name=MODULE,
            module_args={
                "_phase": "apply",
                "path": path,
                "_content": merged.text,
                "validate": validate,
                "backup": bool(params.get("backup")),
                "_secret": merged.holds_credentials,
            },
            task_vars=task_vars,
        )
        applied.pop("invocation", None)
        applied.pop("diff", None)
        result.update(applied)
        if self._task.diff:
            result["diff"] = self._diff(path, probe.get("content"), merged.text)
        result["config_version"] = merged.config_version
        result["containerd_version"] = cv.format_version(version)
        if merged.file_version is not None and merged.file_version != merged.config_version:
            result["migrated_from"] = merged.file_version
        warnings = list(result.get("warnings") or []) + merged.warnings
        if warnings:
            result["warnings"] = warnings
        result.setdefault("restart_required", False)
        return result
