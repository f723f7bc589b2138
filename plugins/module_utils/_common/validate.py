# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option checks every module runs before any I/O. Private to this collection (see ``__init__``).

Each ``check_*`` appends problems (``"<option>: ..."``) to the ``problems`` list it is given and returns the value
to use (normalised where that is harmless, e.g. a directory's trailing ``/``), or ``None`` when it was refused.
Nothing here touches the system.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

# C0 controls (NUL, \t, \n, \r, ...), DEL, C1 controls and the Unicode line/paragraph separators: systemd, YAML and
# most line-based readers treat several of these as line breaks, so none may reach a host file.
_CONTROL = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_TEXT = 4096
MAX_PATH = 4095

# Kubernetes object names (k8s.io/apimachinery validation): a DNS-1123 label (<= 63) and subdomain (<= 253)
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
KERNEL_MODULE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,54}\Z")  # MODULE_NAME_LEN 56, no option-like "-x"
CNI_PLUGIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}\Z")  # a plain file name: no "/", no "." or ".."
_SYSCTL_DOTTED = re.compile(r"^[A-Za-z0-9_*][A-Za-z0-9_*:-]*\Z")
_SYSCTL_SLASHED = re.compile(r"^[A-Za-z0-9_*:@-][A-Za-z0-9_*:@.-]*\Z")
_IFNAME_BAD = re.compile(r"[/:\s]")


def check_text(option, value, problems, allow_empty=False, max_len=MAX_TEXT):
    """A string with no control character (NUL, \\r, \\n, ...), not empty unless ``allow_empty``."""
    if not isinstance(value, str):
        problems.append("%s: %r is not a string" % (option, value))
        return None
    if not value and not allow_empty:
        problems.append("%s: must not be empty" % option)
        return None
    bad = _CONTROL.search(value)
    if bad:
        problems.append("%s: %r contains the control character %r" % (option, value, bad.group(0)))
        return None
    if len(value) > max_len:
        problems.append("%s: is %d characters long, at most %d are allowed" % (option, len(value), max_len))
        return None
    return value


def check_path(option, value, problems, directory=False, allow_root=False):
    """An absolute, normalised path: no ``//``, ``/.``, ``..``, not empty, not ``/`` unless ``allow_root``.

    A directory may end in one ``/`` (dropped). Returns the path, or ``None`` when refused.
    """
    value = check_text(option, value, problems, max_len=MAX_PATH)
    if value is None:
        return None
    if not value.startswith("/"):
        problems.append("%s: %r is not an absolute path" % (option, value))
        return None
    if directory and len(value) > 1 and value.endswith("/") and not value.endswith("//"):
        value = value[:-1]
    if value == "/" and not allow_root:
        problems.append("%s: must not be / itself" % option)
        return None
    if posixpath.normpath(value) != value or value.startswith("//"):
        problems.append("%s: %r is not a normalised path (no //, /./, /.. or trailing /); did you mean %r?"
                        % (option, value, posixpath.normpath(value)))
        return None
    return value


def check_int(option, value, problems, low=None, high=None):
    """An integer (not a boolean) with ``low <= value <= high`` where given."""
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append("%s: %r is not an integer" % (option, value))
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        problems.append("%s: %d is out of range (%s..%s)" % (
            option, value, "" if low is None else low, "" if high is None else high))
        return None
    return value


def _check_grammar(option, value, problems, pattern, what):
    if check_text(option, value, problems) is None:
        return None
    if not pattern.match(value):
        problems.append("%s: %r is not a %s" % (option, value, what))
        return None
    return value


def check_kernel_module(option, value, problems):
    """A kernel module name as modprobe and modules-load.d read it (letters, digits, ``_``, ``-``; no leading ``-``)."""
    return _check_grammar(option, value, problems, KERNEL_MODULE, "kernel module name")


def check_cni_plugin(option, value, problems):
    """A CNI plugin file name (no ``/``, not ``.`` or ``..``, no leading ``-`` or ``.``)."""
    return _check_grammar(option, value, problems, CNI_PLUGIN, "CNI plugin file name")


def check_sysctl_key(option, value, problems):
    """A sysctl key in dotted (``net.ipv4.ip_forward``) or slashed (``net/ipv4/conf/eth0.1/rp_filter``) form."""
    if check_text(option, value, problems, max_len=255) is None:
        return None
    slashed = "/" in value
    parts = value.split("/" if slashed else ".")
    pattern = _SYSCTL_SLASHED if slashed else _SYSCTL_DOTTED
    if len(parts) < 2 or any(p in (".", "..") or not pattern.match(p) for p in parts) or not value[0].isalnum():
        problems.append("%s: %r is not a sysctl key (such as net.ipv4.ip_forward)" % (option, value))
        return None
    return value


def check_sysctl_value(option, value, problems):
    """A one-line sysctl value: a string, an integer or a boolean (written 1/0)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if check_text(option, value, problems, max_len=1024) is None:
        return None
    if not value.strip():
        problems.append("%s: must not be blank" % option)
        return None
    return value.strip()


def check_interface(option, value, problems):
    """A Linux interface name: 1-15 bytes, not ``.``/``..``, no ``/``, ``:`` or blanks."""
    if check_text(option, value, problems, max_len=15) is None:
        return None
    if value in (".", "..") or _IFNAME_BAD.search(value) or len(value.encode("utf-8")) > 15:
        problems.append("%s: %r is not a network interface name" % (option, value))
        return None
    return value


def each_mapping(option, items, problems, what=""):
    """``(path, item)`` for each item of the list ``items`` that is a mapping, ``path`` being ``option[i]``; any
    other item is one problem, ``"<option>[i]: must be a mapping<what>"``, and is passed over."""
    for i, item in enumerate(items):
        path = "%s[%d]" % (option, i)
        if isinstance(item, dict):
            yield path, item
        else:
            problems.append("%s: must be a mapping%s" % (path, what))


def check_unique(option, values, problems, key=None):
    """Each value (or ``key(value)``) at most once; every duplicate is one problem."""
    seen, reported = set(), set()
    for value in values or []:
        mark = key(value) if key else value
        try:
            hash(mark)
        except TypeError:
            mark = repr(mark)
        if mark in seen and mark not in reported:
            problems.append("%s: %r is given more than once" % (option, mark))
            reported.add(mark)
        seen.add(mark)
    return not reported


def check_distinct(paths, problems):
    """``{option: path}``: one file may serve one purpose only (``None`` paths are skipped)."""
    owners = {}
    for option in sorted(paths):
        path = paths[option]
        if path is None:
            continue
        if path in owners:
            problems.append("%s: %s is also given as %s; one file cannot serve both" % (option, path, owners[path]))
        else:
            owners[path] = option
    return problems


def check_within(option, path, root, problems):
    """``path`` (absolute, normalised) lies strictly below ``root``."""
    if path is None or root is None:
        return None
    if not path.startswith(root.rstrip("/") + "/"):
        problems.append("%s: %s is not below %s" % (option, path, root))
        return None
    return path


def check_plain(option, value, problems, depth=0):
    """Plain data (mappings, lists, strings, numbers, booleans, None) with no control character in any string or
    key; one problem per offending item, named by its path (``nodes[2].name``)."""
    if depth > 32:
        problems.append("%s: nested too deeply" % option)
    elif isinstance(value, str):
        check_text(option, value, problems, allow_empty=True, max_len=1 << 20)
    elif isinstance(value, dict):
        for key in value:
            where = "%s.%s" % (option, key)
            if not isinstance(key, str) or _CONTROL.search(key):
                problems.append("%s: the key %r is not a plain string" % (option, key))
            else:
                check_plain(where, value[key], problems, depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_plain("%s[%d]" % (option, index), item, problems, depth + 1)
    elif value is not None and not isinstance(value, (bool, int, float)):
        problems.append("%s: %r is not plain data" % (option, type(value).__name__))
    return problems
