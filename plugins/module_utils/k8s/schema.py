# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes OpenAPI schema validation of rendered objects (controller side).

``validate_objects(objects, crds=(), k8s_version=DEFAULT_K8S_VERSION)`` checks every object:

* core kinds (anything kubernetes-validate ships a schema for) against the
  bundled, offline Kubernetes JSON schemas in *strict* mode (unknown fields are
  errors, as ``kubectl apply --validate=strict`` / server-side field validation
  would report them);
* kinds served by a CustomResourceDefinition (from ``crds`` or from ``objects``
  itself) against that CRD's ``openAPIV3Schema`` for the object's version,
  translated to JSON schema (``nullable``, ``x-kubernetes-int-or-string``,
  ``x-kubernetes-preserve-unknown-fields`` and structural pruning semantics).

It returns a list of problem strings ``"Kind/namespace/name: message"`` (the
namespace part is ``-`` for cluster-scoped objects); an empty list means valid.

No Ansible imports; kubernetes-validate and jsonschema are imported guarded,
so importing this file never fails. ``HAS_SCHEMA_LIBS``/``SCHEMA_IMPORT_ERROR``
tell the caller whether validation is possible; without them
``validate_objects`` raises ``MissingSchemaLibrary``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

try:
    import jsonschema
    import kubernetes_validate
    from kubernetes_validate import utils as _kv_utils

    HAS_SCHEMA_LIBS = True
    SCHEMA_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised by ansible-test import sanity
    jsonschema = None
    kubernetes_validate = None
    _kv_utils = None
    HAS_SCHEMA_LIBS = False
    SCHEMA_IMPORT_ERROR = _exc

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s import gitops


class MissingSchemaLibrary(RuntimeError):
    """kubernetes-validate or jsonschema is not installed on the controller."""


_DNS1123_SUBDOMAIN = validate.DNS1123_SUBDOMAIN

# Kinds the API server serves only through a CRD never get a bundled schema; kinds the
# bundled schemas know are validated with kubernetes-validate.


# The Kubernetes version the collection targets when none is given: the default of csi_plan's kubernetes_version
# and canal_manifest's k8s_version (their DOCUMENTATION repeats it; validate-modules checks that they agree).
DEFAULT_K8S_VERSION = "1.34.0"


def object_label(obj):
    """``Kind/namespace/name`` for messages (``-`` for a missing namespace)."""
    if not isinstance(obj, dict):
        return "<not a mapping>/-/-"
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    return "%s/%s/%s" % (obj.get("kind") or "<no kind>", meta.get("namespace") or "-", meta.get("name") or "<no name>")


def _split_api_version(api_version):
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def _crd_index(crds):
    """{(group, kind, version): (schema, scope)} for every served version of every CRD."""
    index = {}
    for crd in crds:
        if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd.get("spec") or {}
        group = spec.get("group")
        kind = (spec.get("names") or {}).get("kind")
        scope = spec.get("scope", "Namespaced")
        for version in spec.get("versions") or []:
            if not version.get("served", True):
                continue
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if not schema:
                schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            index[(group, kind, version.get("name"))] = (schema, scope)
    return index


def openapi_to_jsonschema(schema, root=True):
    """Translate a CRD structural ``openAPIV3Schema`` to a JSON schema with API-server semantics.

    * ``nullable: true`` admits ``null``;
    * ``x-kubernetes-int-or-string: true`` admits an integer or a string;
    * an object with ``properties`` and neither ``additionalProperties`` nor
      ``x-kubernetes-preserve-unknown-fields`` rejects unknown fields (the API server
      would prune them, strict field validation reports them);
    * at the root, ``apiVersion``, ``kind`` and ``metadata`` are always allowed.
    """
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = dict((name, openapi_to_jsonschema(sub, root=False)) for name, sub in value.items())
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = openapi_to_jsonschema(value, root=False)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [openapi_to_jsonschema(sub, root=False) for sub in value]
        elif key.startswith("x-kubernetes-") or key in ("nullable", "format", "description", "example", "externalDocs"):
            continue
        else:
            out[key] = copy.deepcopy(value)
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        if "anyOf" not in out:
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else list(out["type"]) + ["null"]
    if root:
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})
    if ("properties" in out and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def _format_error(error):
    path = ".".join(str(part) for part in error.absolute_path)
    return "%s: %s" % (path or "(root)", error.message)


def _validate_metadata(obj, scope):
    problems = []
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return ["metadata: is required and must be a mapping"]
    name = meta.get("name")
    if not name:
        problems.append("metadata.name: is required")
    elif not isinstance(name, str) or len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        problems.append("metadata.name: %r is not a valid RFC 1123 subdomain" % (name,))
    if scope == "Cluster" and meta.get("namespace"):
        problems.append("metadata.namespace: %s is cluster-scoped and must not have a namespace" % obj.get("kind"))
    return problems


# Namespaced/cluster-scoped is not in the OpenAPI schemas; the cluster-scoped core kinds that
# the collection renders are listed so a namespace on them is reported.
CLUSTER_SCOPED_CORE_KINDS = frozenset([
    "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace", "PersistentVolume",
    "StorageClass", "CSIDriver", "PriorityClass", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "APIService", "VolumeAttachment", "RuntimeClass", "Node",
    "IngressClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
])


def argument_spec():
    """The options of every module that validates the manifests it writes (doc fragment
    kubelayer.runtime.k8s_schema), a fresh copy for each module."""
    return dict(
        validate=dict(type="bool", default=True),
        k8s_version=dict(type="str", default=DEFAULT_K8S_VERSION),
    )


def missing_libraries(validate=True):
    """The controller libraries a manifest module needs and lacks, as ``[(name, import error)]``: PyYAML always,
    kubernetes-validate and jsonschema when it validates."""
    missing = []
    if not gitops.HAS_YAML:
        missing.append(("PyYAML", gitops.YAML_IMPORT_ERROR))
    if validate and not HAS_SCHEMA_LIBS:
        missing.append(("kubernetes-validate and jsonschema", SCHEMA_IMPORT_ERROR))
    return missing


def validate_objects(objects, crds=(), k8s_version=DEFAULT_K8S_VERSION):
    """Validate Kubernetes objects; return a list of ``"Kind/ns/name: message"`` problems.

    ``objects``: iterable of dicts (already loaded YAML documents).
    ``crds``: extra CustomResourceDefinition dicts; CRDs among ``objects`` are used too.
    ``k8s_version``: the Kubernetes version whose bundled schemas are used (default ``DEFAULT_K8S_VERSION``).
    """
    if not HAS_SCHEMA_LIBS:
        raise MissingSchemaLibrary("kubernetes-validate and jsonschema are required on the controller: %s"
                                   % SCHEMA_IMPORT_ERROR)
    objects = list(objects)
    index = _crd_index(list(crds) + [o for o in objects if isinstance(o, dict)])
    problems = []
    for obj in objects:
        label = object_label(obj)
        if not isinstance(obj, dict):
            problems.append("%s: document is not a mapping" % label)
            continue
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
            problems.append("%s: apiVersion and kind are required strings" % label)
            continue
        group, version = _split_api_version(api_version)
        crd_entry = index.get((group, kind, version))
        if crd_entry is not None:
            schema, scope = crd_entry
            problems.extend("%s: %s" % (label, p) for p in _validate_metadata(obj, scope))
            validator = jsonschema.Draft7Validator(openapi_to_jsonschema(schema))
            errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
            problems.extend("%s: %s" % (label, _format_error(e)) for e in errors)
            continue
        scope = "Cluster" if kind in CLUSTER_SCOPED_CORE_KINDS else "Namespaced"
        problems.extend("%s: %s" % (label, p) for p in _validate_metadata(obj, scope))
        try:
            kubernetes_validate.validate(obj, k8s_version, strict=True)
        except _kv_utils.ValidationError as exc:
            problems.append("%s: %s" % (label, _format_error(exc)))
        except _kv_utils.SchemaNotFoundError:
            problems.append("%s: no schema for %s %s in Kubernetes %s and no CustomResourceDefinition serves it"
                            % (label, api_version, kind, k8s_version))
        except _kv_utils.VersionNotSupportedError:
            problems.append("%s: kubernetes-validate has no schemas for Kubernetes %s" % (label, k8s_version))
        except Exception as exc:  # pylint: disable=broad-except
            # a schema that cannot be loaded or resolved is reported, never a traceback
            problems.append("%s: schema validation failed: %s" % (label, exc))
    return problems
