# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a CSI install plan as a GitOps-ready directory (pure logic, controller side).

``render_tree(plan)`` returns ``{relative path: text}``:

* one numbered directory per plan step, in install order;
* manifest steps (snapshot CRDs, snapshot-controller, local-path-provisioner, classes) are
  kustomize directories (``kustomization.yaml`` + YAML files, written by ``k8s/gitops.py``),
  applied with ``kubectl apply --server-side -k <dir>``;
* Helm steps are plain values files (``<dir>/values.yaml``) for ``helm upgrade --install -f``
  (or a Flux HelmRelease ``valuesFrom``/``values``): no Flux CRDs are needed to use them;
* ``README.md`` lists every step with the exact commands and waits, in order.

Objects and values are serialised with PyYAML (through gitops.py), never by string templating;
shell words in the README are quoted with ``shlex.quote``. No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import gitops

README = "README.md"
VALUES = "values.yaml"
_SAFE = re.compile(r"[^a-z0-9.-]+")


def _dir_name(index, step):
    name = _SAFE.sub("-", str(step.get("name") or "step").lower()).strip("-.") or "step"
    return "%02d-%s" % (index, name)


def _q(word):
    return shlex.quote(str(word))


def values_text(values):
    """A Helm values file: one YAML document without the leading ``---``."""
    text = gitops.dump_documents([values if values is not None else {}])
    if text.startswith("---\n"):
        text = text[4:]
    return text


def _wait_commands(wait):
    kind = wait.get("kind")
    ns = " -n %s" % _q(wait["namespace"]) if wait.get("namespace") else ""
    ref = "%s/%s" % (str(kind).lower(), wait.get("name"))
    if kind in ("Deployment", "DaemonSet", "StatefulSet"):
        return ["kubectl%s rollout status %s --timeout=10m" % (ns, _q(ref))]
    lines = []
    if wait.get("condition"):
        lines.append("kubectl%s wait %s --for=%s --timeout=10m" % (
            ns, _q(ref), _q("condition=%s=%s" % (wait["condition"]["type"], wait["condition"]["status"]))))
    else:
        lines.append("kubectl%s get %s  # must exist" % (ns, _q(ref)))
    if wait.get("ceph_health"):
        lines.append("kubectl%s get %s -o jsonpath='{.status.ceph.health}'  # expect %s" % (
            ns, _q(ref), " or ".join(wait["ceph_health"])))
    return lines


def _manifest_files(step):
    if step.get("phase") == "classes":
        files = {}
        scs = [o for o in step["objects"] if o.get("kind") == "StorageClass"]
        vscs = [o for o in step["objects"] if o.get("kind") == "VolumeSnapshotClass"]
        if scs:
            files["storageclasses.yaml"] = scs
        if vscs:
            files["volumesnapshotclasses.yaml"] = vscs
        return files
    return {"%s.yaml" % _SAFE.sub("-", str(step["name"]).lower()).strip("-."): list(step["objects"])}


def render_tree(plan):
    """``{relative path: text}`` for the plan (see the module docstring)."""
    tree = {}
    readme = [
        "# CSI storage install (rendered by kubelayer.runtime.csi_plan)",
        "",
        "Apply the directories in numeric order; each step waits for the previous one.",
        "Manifest directories are kustomize roots (`kubectl apply --server-side -k DIR`;",
        "server-side apply avoids the 262144-byte annotation limit of large CRDs).",
        "Helm directories hold a plain `values.yaml` for `helm upgrade --install`",
        "(or a Flux `HelmRelease` with `dependsOn` in the same order).",
        "VolumeSnapshotClasses are applied only after the snapshot CRDs are Established.",
        "",
    ]
    index = 0
    for step in plan["steps"]:
        index += 1
        directory = _dir_name(index, step)
        readme.append("## %s: %s (%s)" % (directory, step["name"], step["kind"]))
        readme.append("")
        if step.get("source"):
            readme.append("Source: %s." % step["source"])
            readme.append("")
        readme.append("```sh")
        if step["kind"] == "helm":
            tree["%s/%s" % (directory, VALUES)] = values_text(step.get("values"))
            command = ["helm", "upgrade", "--install", step["name"], step["chart"], "--repo", step["repo"]]
            if step.get("version"):
                command += ["--version", step["version"]]
            command += ["--namespace", step["namespace"], "--create-namespace",
                        "--values", "%s/%s" % (directory, VALUES), "--wait", "--atomic"]
            readme.append(" ".join(_q(w) for w in command))
        else:
            files = _manifest_files(step)
            for name, text in gitops.render_kustomize_tree(files).items():
                tree["%s/%s" % (directory, name)] = text
            readme.append("kubectl apply --server-side --field-manager=kubelayer-runtime -k %s" % _q(directory))
            for obj in step["objects"]:
                if obj.get("kind") == "CustomResourceDefinition":
                    readme.append("kubectl wait %s --for=condition=Established --timeout=5m"
                                  % _q("crd/%s" % obj["metadata"]["name"]))
        for wait in step.get("wait") or []:
            if wait.get("kind") == "CustomResourceDefinition":
                continue
            readme.extend(_wait_commands(wait))
        readme.append("```")
        readme.append("")
        if step["kind"] == "helm" and step is _last_helm_step_of_driver(plan, step):
            driver_waits = [w for w in plan.get("waits") or [] if _wait_belongs(plan, w, step)]
            if driver_waits:
                readme.append("Then wait for the %s driver:" % step["driver"])
                readme.append("")
                readme.append("```sh")
                for wait in driver_waits:
                    readme.extend(_wait_commands(wait))
                readme.append("```")
                readme.append("")
    if plan.get("default_storage_class"):
        readme.append("Default StorageClass: `%s`." % plan["default_storage_class"])
    else:
        readme.append("No default StorageClass is set.")
    readme.append("")
    tree[README] = "\n".join(readme)
    return tree


def _last_helm_step_of_driver(plan, step):
    last = None
    for candidate in plan["steps"]:
        if candidate["kind"] == "helm" and candidate.get("driver") == step.get("driver"):
            last = candidate
    return last


def _wait_belongs(plan, wait, step):
    return wait in (plan.get("driver_waits") or {}).get(step.get("driver"), [])
