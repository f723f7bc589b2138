"""Functions a reader can hold in their head: none in plugins/ is longer than LIMIT lines.

A function's length is counted from its ``def`` line to its last line (docstring, comments and blank lines
included), for every function and method, nested ones too.
"""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, "plugins")
LIMIT = 80

# Nothing may be added here: split the function instead.
ALLOWED = set()


def _functions(path):
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read(), filename=path)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def long_functions(limit=LIMIT):
    """Every function of plugins/ longer than ``limit`` lines, as ``(path::name, first line, lines)``."""
    found = []
    for directory, _subdirs, names in os.walk(PLUGINS):
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
            for function, line, length in _functions(path):
                if length > limit:
                    found.append(("%s::%s" % (rel, function), line, length))
    return sorted(found)


def test_no_function_in_plugins_is_over_the_limit():
    over = ["%s (line %d): %d lines" % (key, line, length)
            for key, line, length in long_functions() if key not in ALLOWED]
    assert not over, "functions over %d lines, split them into named steps:\n%s" % (LIMIT, "\n".join(over))


def test_the_checker_sees_a_long_function(tmp_path):
    """The count is def-to-end: a 81-line function is found, an 80-line one is not."""
    body = "\n".join("    x%d = %d" % (i, i) for i in range(79))
    short = "def short():\n%s\n" % body
    source = tmp_path / "sample.py"
    source.write_text(short + "\n\ndef long_one():\n%s\n    return x0\n" % body)
    lengths = dict((name, length) for name, _line, length in _functions(str(source)))
    assert lengths == {"short": 80, "long_one": 81}
