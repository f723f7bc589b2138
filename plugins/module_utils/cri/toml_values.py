# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Value checks for containerd config input: what TOML can hold, absolute paths, the types of well-known keys.

Pure logic, no Ansible imports, stdlib only (imported on the controller and on nodes, python 3.8 syntax).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.containerd_tables import KNOWN_TYPES

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1

SEGMENT = re.compile(r"^[A-Za-z0-9_-]+\Z")


def type_name(value):
    """A user-facing type name (Ansible 2.19 hands over tagged subclasses of str, list, dict)."""
    for kind, label in ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"),
                        (list, "list"), (tuple, "list"), (dict, "dictionary")):
        if isinstance(value, kind):
            return label
    return type(value).__name__


def _plain_value(value):
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def known_type_problem(name, value):
    """A problem when a well-known key (the last segment of ``name``) gets a value of the wrong type."""
    expected = KNOWN_TYPES.get(name.rsplit(".", 1)[-1])
    if expected is None or value is None:
        return None
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        return "settings.%s: %r is a %s, containerd expects a %s" % (
            name, _plain_value(value), type_name(value), {bool: "boolean", int: "integer", str: "string"}[expected])
    return None


def has_control(text):
    return any(ord(c) < 0x20 or ord(c) == 0x7f for c in text)


def toml_value_problems(value, where):
    """Problems with values TOML cannot hold (None, huge ints, unpaired surrogates, other types)."""
    problems = []
    if value is None:
        problems.append("%s: null has no TOML representation" % where)
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if value < INT64_MIN or value > INT64_MAX:
            problems.append("%s: integer %d does not fit TOML's 64-bit integers" % (where, value))
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            problems.append("%s: %r is not a usable containerd value" % (where, value))
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            problems.append("%s: string is not valid Unicode text (unpaired surrogate)" % where)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            problems.extend(toml_value_problems(item, "%s[%d]" % (where, i)))
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key or has_control(key):
                problems.append("%s: key %r must be a non-empty string without control characters" % (where, key))
                continue
            try:
                key.encode("utf-8")
            except UnicodeEncodeError:
                problems.append("%s: key %r is not valid Unicode text" % (where, key))
                continue
            problems.extend(toml_value_problems(item, "%s.%s" % (where, key)))
    else:
        problems.append("%s: a %s value has no TOML representation" % (where, type_name(value)))
    return problems


def abs_path_problem(value, where):
    if not isinstance(value, str) or not value:
        return "%s: must be a non-empty string path" % where
    if has_control(value):
        return "%s: path contains control characters" % where
    if not value.startswith("/"):
        return "%s: path %r is relative; an absolute path is required" % (where, value)
    return None


def setting_name_problem(name):
    if not isinstance(name, str) or not name:
        return "settings: names must be non-empty strings"
    segments = name.split(".")
    if any(not SEGMENT.match(s) for s in segments):
        return "settings: name %r must be dot-separated segments of letters, digits, '_' and '-'" % (name,)
    return None
