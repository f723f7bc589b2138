# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side check of a task's arguments against the module's own argument_spec, before it is sent.

What ansible-core does on the host before a module's own code runs (type conversion, choices, required and
unsupported options, and logging the invocation, which a NUL byte in an argument breaks) is done here first, so a
refusal has the collection's one failure shape: ``msg`` plus ``problems``, each problem starting with the option
it is about. Everything else (paths, grammars, bounds, duplicates) stays in the modules' pure layer.

Values of ``no_log`` options never appear in a problem. Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values


def controller_spec(spec):
    """``spec`` with every ``type: path`` as ``str``: the controller must not expand ``~`` or ``$VAR`` in node paths."""
    out = {}
    for name, opts in spec.items():
        opts = dict(opts)
        if opts.get("type") == "path":
            opts["type"] = "str"
        if isinstance(opts.get("options"), dict):
            opts["options"] = controller_spec(opts["options"])
        out[name] = opts
    return out


def _nul_problems(option, value, secret, out):
    """One problem per value holding a NUL byte (keys included), named by its path under ``option``; the value
    itself is never shown (it may be a secret)."""
    if isinstance(value, str):
        if "\x00" in value:
            out.append("%s: contains a NUL byte (\\x00)" % option)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                out.append("%s: a key contains a NUL byte (\\x00)" % option)
            _nul_problems(option if secret else "%s.%s" % (option, key), item, secret, out)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _nul_problems("%s[%d]" % (option, index), item, secret, out)


def _secret(opts):
    return bool(opts.get("no_log"))


def _strings(value):
    if isinstance(value, dict):
        return set().union(*[_strings(v) for v in value.values()]) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*[_strings(v) for v in value]) if value else set()
    return set([str(value)]) if value not in (None, "") else set()


def _secrets(spec, args):
    """Every value given to a no_log option (suboptions too), as text: masked in any problem."""
    out = set()
    for name, opts in spec.items():
        value = args.get(name) if isinstance(args, dict) else None
        if value is None:
            continue
        if _secret(opts):
            out |= _strings(value)
        elif isinstance(opts.get("options"), dict):
            for item in (value if isinstance(value, list) else [value]):
                out |= _secrets(opts["options"], item)
    return out


def nul_problems(spec, args):
    """A NUL byte anywhere in ``args``: no host file, log or command line can hold one."""
    out = []
    for name, value in args.items():
        _nul_problems(name, value, _secret(spec.get(name) or {}), out)
    return out


def _canonical(spec, name):
    """The option ``name`` stands for (itself or the option it is an alias of), or None."""
    if name in spec:
        return name
    for option, opts in spec.items():
        if name in (opts.get("aliases") or ()):
            return option
    return None


def _validate(spec, args):
    """ansible-core's validation; ``None`` when it raises instead of reporting (``Decimal`` of a list of huge ints
    overflows, a list of scalars where suboptions are declared is a TypeError)."""
    try:
        return ArgumentSpecValidator(spec).validate(args)
    except (TypeError, ValueError, OverflowError, MemoryError, RecursionError):
        return None


def _option_problems(spec, name, option, value, no_log_values):
    """ansible-core's own errors for one option, each prefixed with the option as the user wrote it."""
    result = _validate({option: spec[option]}, {name: value})
    if result is None:
        return ["%s: is not a valid %s" % (name, spec[option].get("type", "str"))
                + (" of %s" % spec[option]["elements"] if spec[option].get("elements") else "")]
    return ["%s: %s" % (name, remove_values(message, no_log_values)) for message in result.error_messages]


def _plain(args):
    """``args`` as the module receives them: plain JSON types (no controller-side tagged subclasses in a message)."""
    try:
        return json.loads(json.dumps(args))
    except (TypeError, ValueError):
        return args


def check(spec, args):
    """``(problems, validated_parameters)`` for ``args`` against the module's ``spec`` (controller paths kept as
    given). ``problems`` is empty when ansible-core on the host would accept the arguments too."""
    spec = controller_spec(spec)
    args = _plain(args)
    problems = nul_problems(spec, args)
    result = _validate(spec, args)
    if result is None or result.error_messages:
        no_log_values = _secrets(spec, args)
        for name in sorted(args):
            option = _canonical(spec, name)
            if option is None:
                problems.append("%s: is not an option of this module (options: %s)" % (name, ", ".join(sorted(spec))))
            else:
                problems.extend(_option_problems(spec, name, option, args[name], no_log_values))
        for option in sorted(spec):
            given = [option] + list(spec[option].get("aliases") or [])
            if spec[option].get("required") and not any(name in args for name in given):
                problems.append("%s: is required" % option)
        if not problems:
            problems.extend(remove_values(message, no_log_values) for message in (
                result.error_messages if result is not None else ["arguments: ansible-core cannot validate them"]))
    return problems, (result.validated_parameters if result is not None and not problems else dict(args))
