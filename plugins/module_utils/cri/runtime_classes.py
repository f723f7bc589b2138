# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RuntimeClass objects (``node.k8s.io/v1``) for the runtime handlers of the nodes: checks and objects, pure logic.

A class is ``{"name", "handler", "overhead"}``: ``overhead`` maps a resource name to a quantity and becomes
``overhead.podFixed`` (what the scheduler and the kubelet add to each pod of that class, e.g. kata's VM). The
classes of every node of a run come together here: the same class twice is one object, the same name with a
different handler or overhead is refused.

No Ansible imports; structured data only (the module serialises it with ``k8s/gitops.py``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate

API_VERSION = "node.k8s.io/v1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubelayer.runtime"}

# Kubernetes' quantity grammar (k8s.io/apimachinery/pkg/api/resource), without a sign: overhead is never negative
_QUANTITY = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?\Z")
# a resource name: an optional DNS subdomain prefix and a qualified name (cpu, memory, example.com/gpu)
_RESOURCE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
_KEYS = ("name", "handler", "overhead")


def _overhead_problems(overhead, where):
    if overhead is None:
        return []
    if not isinstance(overhead, dict):
        return ["%s.overhead: must be a mapping of resource name to quantity, e.g. {cpu: 250m, memory: 160Mi}" % where]
    problems = []
    for resource in sorted(overhead, key=str):
        value = overhead[resource]
        if not isinstance(resource, str) or len(resource) > 316 or not _RESOURCE.match(resource):
            problems.append("%s.overhead: %r is not a resource name such as cpu or memory" % (where, resource))
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not _QUANTITY.match(str(value)):
            problems.append("%s.overhead.%s: %r is not a non-negative Kubernetes quantity such as 250m or 160Mi"
                            % (where, resource, value))
    return problems


def class_problems(cls, where):
    """Problems of one class, each starting with ``where``."""
    if not isinstance(cls, dict):
        return ["%s: must be a mapping with name, handler and optionally overhead" % where]
    problems = []
    unknown = sorted(set(cls) - set(_KEYS), key=str)
    if unknown:
        problems.append("%s: unknown keys %s (known: %s)" % (where, ", ".join(map(str, unknown)), ", ".join(_KEYS)))
    name, handler = cls.get("name"), cls.get("handler")
    if not isinstance(name, str) or len(name) > 253 or not validate.DNS1123_SUBDOMAIN.match(name):
        problems.append("%s.name: %r is not a lowercase DNS-1123 subdomain (a RuntimeClass name)" % (where, name))
    if not isinstance(handler, str) or len(handler) > 63 or not validate.DNS1123_LABEL.match(handler):
        problems.append("%s.handler: %r is not a lowercase DNS-1123 label (a CRI runtime handler)" % (where, handler))
    problems.extend(_overhead_problems(cls.get("overhead"), where))
    return problems


def merge_classes(classes, option="classes"):
    """(one class per name, in first-seen order, problems): equal duplicates are one class; a name given
    with two different definitions is refused, naming both."""
    merged = {}
    problems = []
    for index, cls in enumerate(classes):
        where = "%s[%d]" % (option, index)
        found = class_problems(cls, where)
        if found:
            problems.extend(found)
            continue
        clean = {"name": cls["name"], "handler": cls["handler"]}
        if cls.get("overhead"):
            clean["overhead"] = dict((k, str(v)) for k, v in cls["overhead"].items())
        first = merged.get(clean["name"])
        if first is None:
            merged[clean["name"]] = (index, clean)
        elif first[1] != clean:
            problems.append("%s: RuntimeClass %r is %s here but %s in %s[%d] (set the runtime variables alike on "
                            "every node, e.g. at group level)" % (where, clean["name"], _describe(clean),
                                                                  _describe(first[1]), option, first[0]))
    return [entry[1] for entry in sorted(merged.values(), key=lambda e: e[0])], problems


def _describe(cls):
    text = "handler %s" % cls["handler"]
    if cls.get("overhead"):
        text += " with overhead %s" % ", ".join("%s=%s" % kv for kv in sorted(cls["overhead"].items()))
    return text


def runtime_class_object(cls):
    """The RuntimeClass object of one checked class."""
    obj = {"apiVersion": API_VERSION, "kind": "RuntimeClass",
           "metadata": {"name": cls["name"], "labels": dict(MANAGED_BY)}, "handler": cls["handler"]}
    if cls.get("overhead"):
        obj["overhead"] = {"podFixed": dict(cls["overhead"])}
    return obj
