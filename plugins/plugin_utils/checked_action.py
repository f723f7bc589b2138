# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin of the kubelayer.runtime modules: check the arguments on the controller, then run the module.

A module's action plugin is a subclass naming the module's ``ARGUMENT_SPEC`` and name. Arguments
that ansible-core on the host would refuse (or crash on: a NUL byte) are refused here in the collection's failure
shape (``msg`` + ``problems``, see ``module_args``), before any connection to the host is made. Arguments that pass
go to the module unchanged, exactly as ansible-core's ``normal`` action sends them: check mode, diff mode, async and
no_log behave as without this plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action.normal import ActionModule as NormalAction

from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import message
from ansible_collections.kubelayer.runtime.plugins.plugin_utils import module_args


def failure(name, problems):
    """The failed result every module returns for bad input (``fail_json(msg=..., problems=...)``)."""
    return {"failed": True, "changed": False, "msg": message(name, problems), "problems": list(problems)}


class CheckedModuleAction(NormalAction):
    """``normal`` with a controller-side argument check in front. Subclasses set ``ARGUMENT_SPEC`` and ``NAME``."""

    ARGUMENT_SPEC = None
    NAME = None

    def run(self, tmp=None, task_vars=None):
        problems, _validated = module_args.check(self.ARGUMENT_SPEC, dict(self._task.args))
        if problems:
            return failure(self.NAME, problems)
        return super(CheckedModuleAction, self).run(tmp, task_vars)
