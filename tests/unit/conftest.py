"""Make ``ansible_collections.kubelayer.runtime`` importable for plain pytest runs; hypothesis profiles; markers.

`make venv` links this checkout to .venv/collections/ansible_collections/kubelayer/runtime.
"""
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTIONS = os.path.join(_ROOT, ".venv", "collections")
if os.path.isdir(os.path.join(_COLLECTIONS, "ansible_collections")) and _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
# shared test helpers (kubelayer_paths, hypothesis_budget)
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import pytest  # noqa: E402  pylint: disable=wrong-import-position
from hypothesis import HealthCheck, settings  # noqa: E402  pylint: disable=wrong-import-position
import hypothesis_budget  # noqa: E402  pylint: disable=wrong-import-position

# Machines here are noisy (2 cores shared with the lab): no per-example deadline, and a fixed seed so a run is
# reproducible. Property tests scale their own budgets by profile (hypothesis_budget.examples); max_examples below
# is for the few that name none.
_COMMON = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("quick", max_examples=10, **_COMMON)
settings.register_profile("thorough", deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(hypothesis_budget.PROFILE)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: runs ansible-playbook, a module process or a schema load; left out of `make quick`")


@pytest.fixture(autouse=True)
def _modules_return_their_warnings():
    """Run every test as a module process sees ansible-core: not the controller.

    Importing controller code (the action plugins, plugin_utils) sets ansible-core 2.19's
    ``module_utils._internal.is_controller`` for the whole pytest worker; from then on a module's ``warn()`` goes to the
    controller's display instead of its result, and which tests see their warnings depends on the order xdist hands
    them out. Tests that need the controller's behaviour set it themselves (monkeypatch).
    """
    try:
        from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core 2.18 has no such switch
        yield
        return
    saved = getattr(_internal, "is_controller", None)
    if saved is None:
        yield
        return
    _internal.is_controller = False
    try:
        yield
    finally:
        _internal.is_controller = saved
