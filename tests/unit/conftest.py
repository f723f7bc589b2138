"""Make ``ansible_collections.kubelayer.runtime`` importable for plain pytest runs.

`make venv` links this checkout to .venv/collections/ansible_collections/kubelayer/runtime;
ansible-test units runs from its own copy and does not need this.
"""
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTIONS = os.path.join(_ROOT, ".venv", "collections")
if os.path.isdir(os.path.join(_COLLECTIONS, "ansible_collections")) and _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
# shared test helpers (kubelayer_paths); ansible-test's pytest does not put this directory on sys.path itself
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # ansible-test units without hypothesis installed: property tests import it themselves
    settings = None

if settings is not None:
    # Machines here are noisy (2 cores shared with the lab): no per-example deadline, and a fixed seed so a CI run
    # is reproducible. HYPOTHESIS_PROFILE=thorough explores more.
    settings.register_profile(
        "ci", deadline=None, derandomize=True, max_examples=100,
        suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("thorough", deadline=None, max_examples=2000)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
