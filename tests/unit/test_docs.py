"""Docs lint, offline: links resolve, and every module's and role's documented interface is in its docs page."""
import ast
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE_DIR = os.path.join(ROOT, "plugins", "modules")
MODULES = sorted(f[:-3] for f in os.listdir(MODULE_DIR) if f.endswith(".py") and not f.startswith("_"))
ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if not d.startswith("."))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _markdown_files():
    found = [os.path.join(ROOT, "README.md")]
    for top, _dirs, files in os.walk(os.path.join(ROOT, "docs")):
        found.extend(os.path.join(top, f) for f in files if f.endswith(".md"))
    return sorted(found)


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_resolve(path):
    with open(path) as handle:
        text = handle.read()
    broken = []
    for target in LINK.findall(text):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(path), target))):
            broken.append(target)
    assert not broken, "broken links in %s: %s" % (os.path.relpath(path, ROOT), broken)


def _module_options(name):
    with open(os.path.join(MODULE_DIR, name + ".py")) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value).get("options") or {}
    raise AssertionError("%s has no DOCUMENTATION" % name)


@pytest.mark.parametrize("name", MODULES)
def test_module_page_documents_every_option(name):
    page = os.path.join(ROOT, "docs", "modules", name + ".md")
    assert os.path.isfile(page), "docs/modules/%s.md is missing" % name
    with open(page) as handle:
        text = handle.read()
    public = [o for o, spec in _module_options(name).items()
              if not o.startswith("_") and "internal" not in str(spec.get("description", "")).lower()]
    missing = [o for o in public if o not in text]
    assert not missing, "docs/modules/%s.md does not mention options %s" % (name, missing)


@pytest.mark.parametrize("role", ROLES)
def test_role_page_documents_every_variable(role):
    page = os.path.join(ROOT, "docs", "roles", role + ".md")
    assert os.path.isfile(page), "docs/roles/%s.md is missing" % role
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    with open(page) as handle:
        text = handle.read()
    variables = sorted({v for entry in specs.values() for v in (entry.get("options") or {})})
    missing = [v for v in variables if v not in text]
    assert not missing, "docs/roles/%s.md does not mention %s" % (role, missing)


def test_role_variable_reference_is_generated_from_argument_specs():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "utils", "role_docs.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
