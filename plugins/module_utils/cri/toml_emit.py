# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small TOML emitter for documents this collection owns wholly (hosts.toml).

Pure Python, stdlib only, runs on nodes (python 3.8+ syntax). Supported values:
str, bool, int (64-bit signed), lists of those (nested lists allowed) and
dicts (tables; dict keys must be str). Anything else raises TomlEmitError.

Every string, key or value, is written as a TOML basic string with the escapes
the TOML 1.0 spec defines, so no value can break out of its string and inject
keys or tables. Table order and key order follow the dict order, which matters
for hosts.toml (containerd tries ``[host."..."]`` tables in file order).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+\Z")
_INT_MIN = -(2 ** 63)
_INT_MAX = 2 ** 63 - 1
_SHORT_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}


class TomlEmitError(ValueError):
    """A value that this emitter does not (or cannot safely) represent."""


def quote_string(value):
    """Return ``value`` as a TOML basic string (with surrounding quotes)."""
    if not isinstance(value, str):
        raise TomlEmitError("expected a string, got %s" % type(value).__name__)
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append("\\u%04X" % code)
        elif 0xD800 <= code <= 0xDFFF:
            raise TomlEmitError("string contains a lone surrogate (U+%04X), not valid in TOML" % code)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_key(key):
    """A TOML key: bare when it only has A-Za-z0-9_-, else a quoted basic string."""
    if not isinstance(key, str):
        raise TomlEmitError("table keys must be strings, got %s" % type(key).__name__)
    if _BARE_KEY.match(key):
        return key
    return quote_string(key)


def format_value(value, where="value"):
    """Render an inline value (str, bool, int or list of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value < _INT_MIN or value > _INT_MAX:
            raise TomlEmitError("%s: integer %d does not fit TOML's 64-bit range" % (where, value))
        return str(value)
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, (list, tuple)):
        items = []
        for idx, item in enumerate(value):
            if isinstance(item, dict):
                raise TomlEmitError("%s[%d]: tables inside arrays are not supported" % (where, idx))
            items.append(format_value(item, "%s[%d]" % (where, idx)))
        return "[" + ", ".join(items) + "]"
    raise TomlEmitError("%s: unsupported type %s" % (where, type(value).__name__))


def _emit_table(lines, path, table):
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, dict)]
    # A header is needed when the table holds values, or is empty (so that the
    # empty table still exists after parsing). The root table has no header.
    if path and (scalars or not tables):
        if lines:
            lines.append("")
        lines.append("[" + ".".join(format_key(p) for p in path) + "]")
    for key, value in scalars:
        where = ".".join(path + [key])
        lines.append("%s = %s" % (format_key(key), format_value(value, where)))
    for key, value in tables:
        _emit_table(lines, path + [key], value)


def emit(document, header_comment=None):
    """Serialise ``document`` (a dict) to TOML text ending with a newline.

    ``header_comment`` (optional, a single line chosen by the caller, never user
    data) is written as a ``#`` comment at the top.
    """
    if not isinstance(document, dict):
        raise TomlEmitError("a TOML document must be a table (dict)")
    for key in document:
        format_key(key)
    lines = []
    if header_comment is not None:
        if "\n" in header_comment or "\r" in header_comment:
            raise TomlEmitError("header comment must be one line")
        lines.append("# " + header_comment)
        lines.append("")
    body = []
    _emit_table(body, [], document)
    lines.extend(body)
    return "\n".join(lines).rstrip("\n") + "\n"
