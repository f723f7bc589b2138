# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of kubelayer.runtime.csi_plan: its arguments are checked on the controller first (plugin_utils/
checked_action.py), then the module runs as it would without this plugin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.modules.csi_plan import ARGUMENT_SPEC
from ansible_collections.kubelayer.runtime.plugins.plugin_utils.checked_action import CheckedModuleAction


class ActionModule(CheckedModuleAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    NAME = "csi_plan"
