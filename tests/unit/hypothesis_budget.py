"""The hypothesis profiles of the unit tests, and how many examples a property test runs under each.

A property test names its full budget, ``@settings(max_examples=examples(300))``; the profile scales it:
``ci`` (default; `make unit`) runs it as written, ``quick`` (`make quick`, the inner loop) a tenth (at least 5),
``thorough`` ten times as many. Choose with ``HYPOTHESIS_PROFILE``; conftest.py loads the profile.
"""
import os

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
SCALE = {"quick": 0.1, "ci": 1.0, "thorough": 10.0}
if PROFILE not in SCALE:
    raise ValueError("HYPOTHESIS_PROFILE=%s: expected one of %s" % (PROFILE, ", ".join(sorted(SCALE))))


def examples(full):
    """The number of examples to run for a test whose full budget is ``full``."""
    return max(5, int(full * SCALE[PROFILE]))
