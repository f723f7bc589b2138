# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one boolean parser. Private to this collection (see ``__init__``).

Accepts what ansible-core's ``boolean()`` accepts for ``type: bool`` options (``yes``/``no``, ``true``/``false``,
``on``/``off``, ``1``/``0``, ``y``/``n``, ``t``/``f`` in any case, the integers 1 and 0, real booleans), so a
boolean nested in a ``raw`` or ``dict`` option means the same as a top-level one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

TRUE_STRINGS = frozenset(("y", "yes", "on", "1", "true", "t"))
FALSE_STRINGS = frozenset(("n", "no", "off", "0", "false", "f"))


def parse_bool(value):
    """``True``/``False`` for a boolean-like ``value``; ``None`` when it is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {1: True, 0: False}.get(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_STRINGS:
            return True
        if text in FALSE_STRINGS:
            return False
    return None


def check_bool(option, value, problems):
    """``parse_bool(value)``, appending ``"<option>: ... is not a boolean"`` to ``problems`` when it is not one."""
    parsed = parse_bool(value)
    if parsed is None:
        problems.append("%s: %r is not a boolean (true/false, yes/no, on/off, 1/0)" % (option, value))
    return parsed
