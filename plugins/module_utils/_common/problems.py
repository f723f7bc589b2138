# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one failure shape: ``fail_json(msg=..., problems=[...])``. Private to this collection (see ``__init__``).

Every problem is a string that starts with the option it is about (``"extra_sysctls.kernel.x: ..."``), so a user
sees which input to fix. ``msg`` repeats them after one summary line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class OptionError(ValueError):
    """Raised by pure code with every problem found; ``problems`` each start with an option name."""

    def __init__(self, problems):
        self.problems = [str(p) for p in problems]
        super(OptionError, self).__init__("; ".join(self.problems))


def problem(option, text):
    """``"<option>: <text>"``: the only way a problem string is built."""
    return "%s: %s" % (option, text)


def message(name, problems):
    """One ``msg`` for ``problems``: ``"<name>: 2 problems:\\n- a\\n- b"``."""
    count = len(problems)
    return "%s: %d problem%s:\n- %s" % (name, count, "" if count == 1 else "s", "\n- ".join(problems))


def fail(module, name, problems, **extra):
    """``module.fail_json`` in the one shape. ``module`` is the calling AnsibleModule (duck-typed)."""
    problems = [problems] if isinstance(problems, str) else [str(p) for p in problems]
    module.fail_json(msg=message(name, problems), problems=problems, **extra)


def fail_if(module, name, problems, **extra):
    """``fail`` when ``problems`` is not empty; otherwise return."""
    if problems:
        fail(module, name, problems, **extra)
