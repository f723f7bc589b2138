# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the CSI plan's user input: typed access that records every problem instead of raising.

Pure logic, no Ansible imports. ``Reader`` wraps one user mapping (a ``csi_drivers`` entry, a class entry, the
``snapshot`` settings); each accessor returns the value or a default and appends ``"<where>.<key>: ..."`` to the
shared problem list, so one run reports every problem.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import math
import re

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import mappings, validate

DNS_LABEL = validate.DNS1123_LABEL
DNS_SUBDOMAIN = validate.DNS1123_SUBDOMAIN
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+][0-9A-Za-z.+-]*)?\Z")

STRING_TYPES = (str,)
# the planners' nested lookup
get = mappings.get


def parse_version(text):
    """``"v1.20.6"``/``"1.20"`` -> ``(1, 20, 6)``; ``None`` when not a version."""
    if isinstance(text, bool) or not isinstance(text, STRING_TYPES):
        return None
    match = _VERSION.match(text.strip())
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def deep_merge(base, override):
    """Helm-style merge: mappings merge recursively, everything else (lists too) replaces."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def truthy(value):
    """Helm/YAML truthiness of chart flags (``true``, ``"true"``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, STRING_TYPES):
        return value.strip().lower() == "true"
    return False


def is_json_value(value, depth=0):
    """True when ``value`` is plain JSON data (what Helm values and manifests may hold)."""
    if depth > 64:
        return False
    if value is None or isinstance(value, (bool, int, float) + STRING_TYPES):
        if isinstance(value, float) and math.isnan(value):
            return False
        return True
    if isinstance(value, (list, tuple)):
        return all(is_json_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, STRING_TYPES) and is_json_value(v, depth + 1) for k, v in value.items())
    return False


def name_ok(name):
    """A valid object name (lowercase RFC 1123 subdomain, at most 253 characters)."""
    return isinstance(name, STRING_TYPES) and 0 < len(name) <= 253 and bool(DNS_SUBDOMAIN.match(name))


def check_host_path(where, key, path, problems):
    """A host directory option: absolute, normalised (no ``//``, ``/.``, ``..``), no control character, not ``/``."""
    if path is not None:
        validate.check_path("%s.%s" % (where, key), path, problems, directory=True)


class Reader(object):
    """Typed access to one user mapping that records every problem instead of raising."""

    def __init__(self, data, where, problems):
        self.data = data if isinstance(data, dict) else {}
        self.where = where
        self.problems = problems

    def _bad(self, key, message):
        self.problems.append("%s.%s: %s" % (self.where, key, message))

    def text(self, key, default=None, required=False, choices=None, pattern=None, what=None):
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                self._bad(key, "is required%s" % (" (%s)" % what if what else ""))
            return default
        if isinstance(value, bool) or not isinstance(value, STRING_TYPES + (int, float)):
            self._bad(key, "must be a string, got %s" % type(value).__name__)
            return default
        value = str(value)
        if choices is not None and value not in choices:
            self._bad(key, "must be one of %s, got %r" % (", ".join(choices), value))
            return default
        if pattern is not None and not pattern.match(value):
            self._bad(key, "%r is not a valid name (lowercase RFC 1123)" % value)
            return default
        return value

    def flag(self, key, default=None):
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, STRING_TYPES) and value.strip().lower() in ("true", "yes", "on", "false", "no", "off"):
            return value.strip().lower() in ("true", "yes", "on")
        self._bad(key, "must be a boolean, got %r" % (value,))
        return default

    def integer(self, key, default=None, minimum=None):
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            self._bad(key, "must be an integer, got %r" % (value,))
            return default
        if isinstance(value, STRING_TYPES) and re.match(r"^\s*-?\d+\s*\Z", value):
            value = int(value)
        if not isinstance(value, int):
            self._bad(key, "must be an integer, got %r" % (value,))
            return default
        if minimum is not None and value < minimum:
            self._bad(key, "must be >= %d, got %d" % (minimum, value))
            return default
        return value

    def mapping(self, key, default=None):
        value = self.data.get(key)
        if value is None:
            return copy.deepcopy(default) if default is not None else {}
        if not isinstance(value, dict):
            self._bad(key, "must be a mapping, got %s" % type(value).__name__)
            return copy.deepcopy(default) if default is not None else {}
        if not is_json_value(value):
            self._bad(key, "must hold only plain data (mappings with string keys, lists, strings, numbers, booleans)")
            return copy.deepcopy(default) if default is not None else {}
        return copy.deepcopy(value)

    def items(self, key, default=None):
        value = self.data.get(key)
        if value is None:
            return copy.deepcopy(default) if default is not None else []
        if not isinstance(value, (list, tuple)):
            self._bad(key, "must be a list, got %s" % type(value).__name__)
            return []
        return list(value)

    def str_map(self, key):
        """A mapping of string keys to string values (StorageClass parameters, annotations)."""
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._bad(key, "must be a mapping of strings, got %s" % type(value).__name__)
            return {}
        out = {}
        for k, v in value.items():
            if not isinstance(k, STRING_TYPES) or not k:
                self._bad(key, "keys must be non-empty strings, got %r" % (k,))
            elif isinstance(v, bool):
                out[k] = "true" if v else "false"
            elif isinstance(v, STRING_TYPES + (int,)) or (isinstance(v, float) and not math.isnan(v)):
                out[k] = str(v)
            else:
                self._bad("%s.%s" % (key, k), "must be a string, got %s" % type(v).__name__)
        return out

    def str_list(self, key):
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, STRING_TYPES) and v for v in value):
            self._bad(key, "must be a list of non-empty strings")
            return []
        return list(value)
