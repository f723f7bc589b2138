# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes label selectors (``matchLabels``, ``matchExpressions``): check and evaluate.

No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
NAME_LABEL = "kubernetes.io/metadata.name"
_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?\Z")


def check_labels(labels, path):
    """Problems of a ``{key: value}`` label map (keys and values as Kubernetes allows them)."""
    if not isinstance(labels, dict):
        return ["%s: must be a mapping of label keys to values" % path]
    problems = []
    for key, value in labels.items():
        if not isinstance(key, str) or len(key) > 317 or not _KEY.match(key):
            problems.append("%s: %r is not a label key" % (path, key))
        if not isinstance(value, str) or not _VALUE.match(value):
            problems.append("%s.%s: %r is not a label value (a string of at most 63 characters)" % (path, key, value))
    return problems


def check_selector(selector, path, expressions=True):
    """Problems of a label selector; ``expressions=False`` allows ``matchLabels`` only."""
    if not isinstance(selector, dict):
        return ["%s: must be a label selector (matchLabels, matchExpressions)" % path]
    allowed = ("matchLabels", "matchExpressions") if expressions else ("matchLabels",)
    problems = ["%s: unknown key %r (use %s)" % (path, key, ", ".join(allowed)) for key in selector if key not in allowed]
    if "matchLabels" in selector:
        problems.extend(check_labels(selector["matchLabels"], path + ".matchLabels"))
    exprs = selector.get("matchExpressions") or []
    if expressions and not isinstance(exprs, list):
        return problems + ["%s.matchExpressions: must be a list" % path]
    for i, expr in enumerate(exprs if expressions else []):
        sub = "%s.matchExpressions[%d]" % (path, i)
        if not isinstance(expr, dict) or set(expr) - {"key", "operator", "values"}:
            problems.append("%s: must have key, operator and values only" % sub)
            continue
        if not isinstance(expr.get("key"), str) or not _KEY.match(expr["key"]):
            problems.append("%s.key: %r is not a label key" % (sub, expr.get("key")))
        op = expr.get("operator")
        values = expr.get("values")
        if op not in OPERATORS:
            problems.append("%s.operator: %r is not one of %s" % (sub, op, ", ".join(OPERATORS)))
        elif op in ("In", "NotIn") and (not isinstance(values, list) or not values
                                        or not all(isinstance(v, str) and _VALUE.match(v) for v in values)):
            problems.append("%s.values: %s needs a non-empty list of label values" % (sub, op))
        elif op in ("Exists", "DoesNotExist") and values:
            problems.append("%s.values: must be empty for %s" % (sub, op))
    return problems


def matches(selector, labels):
    """Whether ``labels`` satisfy ``selector`` (``None`` or ``{}`` select everything)."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def namespace_selector(name):
    """The selector of exactly namespace ``name`` (the label every namespace has since 1.22)."""
    return {"matchLabels": {NAME_LABEL: name}}
