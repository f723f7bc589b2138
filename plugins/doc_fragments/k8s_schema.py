# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The schema validation options of the modules that write Kubernetes manifests (their argument spec:
module_utils/k8s/schema.py argument_spec())."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  validate:
    description: Validate every object against the Kubernetes and CRD schemas before writing.
    type: bool
    default: true
  k8s_version:
    description: Kubernetes version whose schemas are used for validation.
    type: str
    default: 1.34.0
"""
