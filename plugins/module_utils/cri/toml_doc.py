# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Editing a parsed TOML document (tomlkit) in place: read, set, delete and compare values by key path.

Pure logic without Ansible imports. tomlkit is a controller-side library (guarded import); comments and layout of
what is not touched survive an edit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import tomlkit
except ImportError:  # pragma: no cover - containerd_merge reports the missing library
    tomlkit = None

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import toml_values as tv


def is_table(item):
    return isinstance(item, dict) or hasattr(item, "unwrap") and isinstance(item.unwrap(), dict)


def plain(item):
    return item.unwrap() if hasattr(item, "unwrap") else item


def same_value(a, b):
    """Equal and of the same TOML type (``True`` is not ``1``)."""
    a, b = plain(a), plain(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, (list, tuple, dict)) or isinstance(b, (list, tuple, dict)):
        return False
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, float) != isinstance(b, float):
        return False
    return a == b


def get(doc, path):
    node = doc
    for key in path:
        if not is_table(node) or key not in node:
            return None
        node = node[key]
    return node


def is_inline(node):
    return isinstance(node, tomlkit.items.InlineTable)


def new_table(parent):
    return tomlkit.inline_table() if is_inline(parent) else tomlkit.table()


def ensure_table(doc, path, problems, where):
    node = doc
    for i, key in enumerate(path):
        if key not in node:
            node[key] = new_table(node)
        child = node[key]
        if not is_table(child):
            problems.append("%s: cannot set %s: %s is a %s in the existing file, not a table"
                            % (where, dotted(path), dotted(path[:i + 1]), tv.type_name(plain(child))))
            return None
        node = child
    return node


def to_toml(value, inline=False):
    """Plain python -> tomlkit item: dicts as tables (inline tables when ``inline``, as everything inside an
    array or an inline table must be), lists as arrays."""
    if isinstance(value, dict):
        table = tomlkit.inline_table() if inline else tomlkit.table()
        for k, v in value.items():
            table[k] = to_toml(v, inline)
        return table
    if isinstance(value, (list, tuple)):
        arr = tomlkit.array()
        for v in value:
            arr.append(to_toml(v, inline=True))
        return arr
    return value


def set_value(doc, path, value, problems, where):
    """Set ``path`` to ``value``; a dict merges key by key. Unchanged values keep their formatting."""
    parent = ensure_table(doc, path[:-1], problems, where)
    if parent is None:
        return
    key = path[-1]
    if isinstance(value, dict):
        if key in parent and not is_table(parent[key]):
            problems.append("%s: cannot set %s: it is a %s in the existing file, not a table"
                            % (where, dotted(path), tv.type_name(plain(parent[key]))))
            return
        if key not in parent:
            parent[key] = new_table(parent)
        for k, v in value.items():
            set_value(doc, tuple(path) + (k,), v, problems, where)
        return
    if key in parent and same_value(parent[key], value):
        return
    fresh = key not in parent
    parent[key] = to_toml(value, inline=is_inline(parent))
    if fresh:
        _match_indent(parent, key)


def _match_indent(parent, key):
    """Indent a new key like its siblings (cosmetic; tomlkit guesses otherwise)."""
    container = getattr(parent, "value", None)
    body = getattr(container, "body", None)
    if not body:
        return
    indent = None
    for k, item in body:
        if k is None or k.key == key or is_table(item) or not hasattr(item, "trivia"):
            continue
        indent = item.trivia.indent
        break
    if indent is None:
        header = (getattr(getattr(parent, "trivia", None), "indent", "") or "").split("\n")[-1]
        if not header:
            return
        indent = header + "  "
    for k, item in body:
        if k is not None and k.key == key and hasattr(item, "trivia"):
            item.trivia.indent = indent


def delete(doc, path):
    parent = get(doc, path[:-1])
    if parent is not None and is_table(parent) and path[-1] in parent:
        del parent[path[-1]]
        return True
    return False


def pop_empty(doc, path):
    """Remove the table at ``path`` when it holds nothing."""
    node = get(doc, path)
    if node is not None and is_table(node) and len(plain(node)) == 0:
        delete(doc, path)


def dotted(path):
    out = []
    for key in path:
        if tv.SEGMENT.match(key):
            out.append(key)
        else:
            out.append('"%s"' % key)
    return ".".join(out)


def trivial(value):
    """True for values containerd treats as unset (zero values)."""
    value = plain(value)
    if isinstance(value, dict):
        return all(trivial(v) for v in value.values())
    return value in ("", 0, False, None) or value == [] and not isinstance(value, bool)
