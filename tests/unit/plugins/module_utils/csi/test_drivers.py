# -*- coding: utf-8 -*-
"""csi/drivers: every driver module has the one interface, and every module in the package is registered."""
import inspect
import os

import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.csi import drivers
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.drivers import common
from ansible_collections.kubelayer.runtime.plugins.module_utils.csi.reader import Reader

PACKAGE = os.path.dirname(drivers.__file__)
DRIVER_FILES = sorted(f[:-3] for f in os.listdir(PACKAGE) if f.endswith(".py") and f not in ("__init__.py",
                                                                                             "common.py"))


def test_every_driver_file_is_registered_once():
    assert sorted(m.__name__.rsplit(".", 1)[1] for m in drivers.MODULES) == DRIVER_FILES
    assert len(set(drivers.NAMES)) == len(drivers.NAMES)


@pytest.mark.parametrize("module", drivers.MODULES, ids=lambda m: m.NAME)
def test_driver_interface(module):
    assert list(inspect.signature(module.plan).parameters) == ["reader", "problems", "upstream"]
    minimum = module.MIN_KUBERNETES
    assert minimum is None or (isinstance(minimum, tuple) and len(minimum) == 2)


@pytest.mark.parametrize("module", drivers.MODULES, ids=lambda m: m.NAME)
def test_a_driver_reports_problems_instead_of_raising(module):
    """Garbage in every option: the planner returns its DriverPlan and lists problems, each naming the entry."""
    problems = []
    entry = dict((key, object()) for key in ("namespace", "version", "repo", "storage_classes", "snapshot_classes",
                                             "values", "path", "server", "share", "registry", "install"))
    entry["name"] = module.NAME
    result = module.plan(Reader(entry, "drivers[0] (%s)" % module.NAME, problems), problems, None)
    assert isinstance(result, common.DriverPlan) and result.name == module.NAME
    assert problems and all(p.startswith("drivers[0] (%s)" % module.NAME) for p in problems), problems
