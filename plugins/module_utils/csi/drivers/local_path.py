# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""local-path-provisioner: the upstream manifest, patched structurally (namespace, nodePathMap, image, --debug)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import sources
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import (
    DNS_LABEL, STRING_TYPES, check_host_path, get)

NAME = "local-path"
MIN_KUBERNETES = (1, 12)


def plan(reader, problems, upstream):
    """The local-path part of the plan, from the upstream ``local_path`` manifest."""
    result = common.DriverPlan(NAME)
    where = reader.where
    namespace = reader.text("namespace", "local-path-storage", pattern=DNS_LABEL)
    version = reader.text("version", sources.LOCAL_PATH_VERSION)
    if version is not None and version != sources.LOCAL_PATH_VERSION:
        problems.append("%s.version: only the %s manifest is supported, got %r"
                        % (where, sources.LOCAL_PATH_VERSION, version))
    path = reader.text("path", "/opt/local-path-provisioner")
    check_host_path(where, "path", path, problems)
    node_path_map = _node_path_map(reader, problems)
    image = reader.text("image")
    debug = reader.flag("debug", False)
    specs = common.read_class_specs(reader, "storage_classes", [{"name": "local-path"}], problems)
    for sub in common.read_class_specs(reader, "snapshot_classes", [], problems):
        problems.append("%s: local-path-provisioner has no snapshot support, remove snapshot_classes entry %r"
                        % (where, sub.text("name")))

    objects = sources.upstream_objects(upstream, "local_path")
    if objects is None:
        problems.append("%s: the local-path-provisioner %s manifest is not available (upstream_dir with %s, from %s)"
                        % (where, sources.LOCAL_PATH_VERSION, sources.UPSTREAM_FILES["local_path"][0],
                           sources.UPSTREAM_URLS["local_path"]))
        return result
    upstream_sc = sources.find(objects, "StorageClass")
    config = sources.find(objects, "ConfigMap", "local-path-config")
    deployment = sources.find(objects, "Deployment", "local-path-provisioner")
    if upstream_sc is None or config is None or deployment is None:
        problems.append("%s: the local-path manifest lacks its StorageClass, ConfigMap local-path-config or "
                        "Deployment local-path-provisioner" % where)
        return result
    objects = [o for o in objects if o is not upstream_sc]
    if namespace and namespace != "local-path-storage":
        sources.rename_namespace(objects, "local-path-storage", namespace)
    if not _patch_config(config, path, node_path_map, where, problems):
        return result
    _patch_deployment(deployment, image, debug)
    result.storage_classes = [_storage_class(sub, upstream_sc) for sub in specs]
    source = ("rancher/local-path-provisioner %s deploy/local-path-storage.yaml (namespace, nodePathMap, image, "
              "--debug patched; StorageClass moved to the classes step)" % sources.LOCAL_PATH_VERSION)
    result.steps.append({"phase": "driver", "kind": "manifest", "driver": NAME, "name": "local-path-provisioner",
                         "namespace": namespace, "source": source, "objects": objects,
                         "wait": [common.wait_ready("Deployment", "local-path-provisioner", namespace)]})
    result.node_requirements = {"directories": [path] + [p for e in node_path_map for p in e["paths"]]}
    return result


def _node_path_map(reader, problems):
    out = []
    for index, entry in enumerate(reader.items("node_path_map")):
        node = get(entry, "node")
        paths = get(entry, "paths")
        if not isinstance(node, STRING_TYPES) or not node or not isinstance(paths, list) or \
                not all(isinstance(p, STRING_TYPES) and p.startswith("/") and p.rstrip("/") for p in paths):
            problems.append("%s.node_path_map[%d]: must be {node: <name>, paths: [<absolute path other than />, ...]}"
                            % (reader.where, index))
            continue
        out.append({"node": node, "paths": list(paths)})
    return out


def _patch_config(config, path, node_path_map, where, problems):
    """nodePathMap in ConfigMap local-path-config; False (with a problem) when its config.json is not JSON."""
    try:
        raw = get(config, "data", "config.json")
        cfg = json.loads(raw if isinstance(raw, STRING_TYPES) and raw else "{}")
    except ValueError as exc:
        problems.append("%s: upstream config.json is not JSON: %s" % (where, exc))
        return False
    if not isinstance(cfg, dict):
        cfg = {}
    cfg["nodePathMap"] = [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [path]}] + node_path_map
    if not isinstance(config.get("data"), dict):
        config["data"] = {}
    config["data"]["config.json"] = json.dumps(cfg, indent=2, sort_keys=False)
    return True


def _patch_deployment(deployment, image, debug):
    containers = get(deployment, "spec", "template", "spec", "containers")
    for container in containers if isinstance(containers, list) else []:
        if isinstance(container, dict) and container.get("name") == "local-path-provisioner":
            if image:
                container["image"] = image
            command = container.get("command")
            if isinstance(command, list):
                command = [c for c in command if c != "--debug"]
                if debug:
                    command.insert(1, "--debug")
                container["command"] = command


def _storage_class(sub, upstream_sc):
    """One StorageClass from upstream's, renamed, labelled and set from the class entry ``sub``."""
    sc = copy.deepcopy(upstream_sc)
    meta = sc["metadata"]
    meta["name"] = sub.text("name")
    if not isinstance(meta.get("labels"), dict):
        meta["labels"] = {}
    meta["labels"]["app.kubernetes.io/managed-by"] = common.MANAGED_BY
    if not isinstance(meta.get("annotations"), dict):
        meta["annotations"] = {}
    ann = meta["annotations"]
    ann.update(sub.str_map("annotations"))
    ann[common.DEFAULT_SC_ANNOTATION] = "true" if sub.flag("default", False) else "false"
    sc["reclaimPolicy"] = sub.text("reclaim_policy", sc.get("reclaimPolicy", "Delete"),
                                   choices=common.RECLAIM_POLICIES)
    sc["volumeBindingMode"] = sub.text("volume_binding_mode", sc.get("volumeBindingMode", "WaitForFirstConsumer"),
                                       choices=common.BINDING_MODES)
    params = sub.str_map("parameters")
    if params:
        sc["parameters"] = params
    mount_options = sub.str_list("mount_options")
    if mount_options:
        sc["mountOptions"] = mount_options
    return sc
