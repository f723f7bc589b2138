# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes objects <-> YAML text, and kustomize-ready directory trees (controller side).

* ``load_documents(text)``: every non-empty YAML document of a multi-document stream.
* ``dump_documents(objects)``: one deterministic multi-document YAML text (key order kept,
  multi-line strings as literal blocks, ``---`` before every document).
* ``render_kustomize_tree(files, namespace=None, labels=None)``: ``{filename: [objects]}`` ->
  ``{filename: yaml text}`` plus ``kustomization.yaml`` listing the files in order, so the
  directory can be committed to a GitOps repository and applied with ``kubectl apply -k``.

PyYAML is imported guarded: ``HAS_YAML``/``YAML_IMPORT_ERROR``.
No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised by ansible-test import sanity
    yaml = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = _exc


KUSTOMIZATION = "kustomization.yaml"
_ODD_BREAKS = ("\x85", "\u2028", "\u2029", "\r")
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml\Z")


class ManifestError(ValueError):
    """Invalid input for loading or rendering manifests; ``problems`` lists every problem."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(ManifestError, self).__init__("; ".join(self.problems))


def _require_yaml():
    if not HAS_YAML:
        raise ManifestError(["PyYAML is required on the controller: %s" % YAML_IMPORT_ERROR])


if HAS_YAML:
    class _Dumper(yaml.SafeDumper):
        """SafeDumper that writes multi-line strings as literal blocks and indents lists."""

        def increase_indent(self, flow=False, indentless=False):
            return super(_Dumper, self).increase_indent(flow, False)

    def _represent_str(dumper, data):
        if any(c in data for c in _ODD_BREAKS):
            # PyYAML folds NEL/LS/PS/CR in plain and block scalars: quote to keep the value
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        if "\n" in data:
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", data)

    _Dumper.add_representer(str, _represent_str)
else:  # pragma: no cover
    _Dumper = None


def load_documents(text, source="manifest"):
    """Parse a multi-document YAML stream; return the non-empty documents (mappings).

    Raises ``ManifestError`` on YAML syntax errors or a document that is not a mapping.
    """
    _require_yaml()
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ManifestError(["%s: not valid YAML: %s" % (source, exc)])
    problems = ["%s: document %d is a %s, not a mapping" % (source, i + 1, type(d).__name__)
                for i, d in enumerate(docs) if not isinstance(d, dict)]
    if problems:
        raise ManifestError(problems)
    return docs


def dump_documents(objects):
    """Serialise objects as one multi-document YAML text (each document starts with ``---``)."""
    _require_yaml()
    if not objects:
        return ""
    return yaml.dump_all(list(objects), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         explicit_start=True, allow_unicode=True, width=4096)


def kustomization(resources, namespace=None, labels=None):
    """The ``kustomization.yaml`` object for ``resources`` (file names, in order)."""
    doc = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    if namespace:
        doc["namespace"] = namespace
    if labels:
        # includeSelectors false: never rewrite selectors of existing workloads
        doc["labels"] = [{"pairs": dict(labels), "includeSelectors": False}]
    doc["resources"] = list(resources)
    return doc


def render_kustomize_tree(files, namespace=None, labels=None):
    """``{filename: [objects]}`` -> ``{filename: yaml text}`` plus ``kustomization.yaml``.

    File names must be plain ``*.yaml``/``*.yml`` names (no directories), unique, and not
    ``kustomization.yaml``; every value must be a non-empty list of mappings. All problems are
    collected and raised together as ``ManifestError``. The result keeps the input order with
    ``kustomization.yaml`` last; ``resources`` lists the files in input order.
    """
    _require_yaml()
    problems = []
    for name, objects in files.items():
        if not isinstance(name, str) or not _FILENAME.match(name) or posixpath.basename(name) != name:
            problems.append("file name %r must be a plain name ending in .yaml or .yml" % (name,))
        elif name == KUSTOMIZATION:
            problems.append("file name %r is reserved for the generated kustomization" % name)
        if not isinstance(objects, (list, tuple)) or not objects:
            problems.append("file %r must hold a non-empty list of objects" % (name,))
        elif not all(isinstance(o, dict) for o in objects):
            problems.append("file %r holds a document that is not a mapping" % (name,))
    if problems:
        raise ManifestError(problems)
    tree = {}
    for name, objects in files.items():
        tree[name] = dump_documents(objects)
    tree[KUSTOMIZATION] = dump_documents([kustomization(list(files), namespace=namespace, labels=labels)])
    return tree
