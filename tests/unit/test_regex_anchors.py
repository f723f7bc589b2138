"""Validation patterns anchor at the true end of the string.

Python's ``$`` also matches just before a final newline, so ``re.match(r"^[a-z]+$", "name\\n")`` accepts a value with
a trailing newline: a TOML key written bare with a line break after it, a kernel module name that ends a line early.
Every pattern in plugins/ that starts with ``^`` must end with ``\\Z``.
"""
import pathlib
import re

import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.toml_emit import emit, format_key

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"
# a regex literal given to the re module, opened with ^ and closed with $ right before its quote (documented user
# defaults, such as node_network_facts' interface pattern, are the user's regexes and not checked here)
_DOLLAR_ANCHORED = re.compile(r"""re\.(?:compile|match|search|fullmatch)\(r?(["'])\^[^"'\n]*\$\1""")


def test_no_pattern_in_plugins_ends_with_dollar():
    offenders = []
    for path in sorted(PLUGINS.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _DOLLAR_ANCHORED.search(line):
                offenders.append("%s:%d: %s" % (path.relative_to(PLUGINS), number, line.strip()))
    assert offenders == []


def test_the_checker_sees_a_dollar_anchor():
    assert _DOLLAR_ANCHORED.search('X = re.compile(r"^[a-z]+$")')
    assert not _DOLLAR_ANCHORED.search('X = re.compile(r"^[a-z]+\\Z")')


@pytest.mark.parametrize("key", ["0\n", "name\n"])
def test_a_key_with_a_trailing_newline_is_quoted(key):
    import tomllib  # pylint: disable=import-outside-toplevel

    assert format_key(key).startswith('"')
    assert tomllib.loads(emit({key: {}, "k": [key]})) == {key: {}, "k": [key]}


@pytest.mark.parametrize("pattern", [validate.KERNEL_MODULE, validate.CNI_PLUGIN])
def test_names_with_a_trailing_newline_are_refused(pattern):
    assert pattern.match("loopback")
    assert not pattern.match("loopback\n")
