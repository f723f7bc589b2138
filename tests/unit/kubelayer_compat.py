"""ansible-core 2.18 and 2.19 side by side for the module tests (`make core218` runs the unit tests on 2.18).

``patch_module_args`` is ansible-core 2.19's test helper; on 2.18 the same is done through ``basic._ANSIBLE_ARGS``,
the way 2.18's own module tests set their arguments.
"""
import contextlib
import json

try:
    from ansible.module_utils.testing import patch_module_args  # noqa: F401  pylint: disable=unused-import
except ImportError:  # ansible-core 2.18
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        previous = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args or {})}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = previous
