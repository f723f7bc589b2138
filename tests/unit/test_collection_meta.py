"""What the collection states in more than one file agrees: licenses, and role defaults with their argument specs."""
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if not d.startswith("."))


def _yaml(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("role", ROLES)
def test_role_license_is_the_collection_license(role):
    galaxy = _yaml("galaxy.yml")["license"]
    licenses = _yaml("roles", role, "meta", "main.yml")["galaxy_info"]["license"]
    assert (licenses if isinstance(licenses, list) else [licenses]) == galaxy


@pytest.mark.parametrize("role", ROLES)
def test_argument_spec_defaults_are_the_role_defaults(role):
    """A default is written in defaults/main.yml and repeated in meta/argument_specs.yml (for validation and the
    generated variable reference): the two must agree wherever the default is a plain value, not a template."""
    defaults = _yaml("roles", role, "defaults", "main.yml") or {}
    specs = _yaml("roles", role, "meta", "argument_specs.yml")["argument_specs"]
    differ = []
    for entry, spec in specs.items():
        for name, option in (spec.get("options") or {}).items():
            if "default" not in option or name not in defaults:
                continue
            value = defaults[name]
            if isinstance(value, str) and "{{" in value:
                continue
            if str(option["default"]) != str(value):
                differ.append("%s.%s: argument_specs %r, defaults %r" % (entry, name, option["default"], value))
    assert not differ, differ
