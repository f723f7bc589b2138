# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``containerd_runtime_plan``: the containerd role's runtime handlers, their install plan and RuntimeClasses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: containerd_runtime_plan
short_description: The runtime handlers, install plan and RuntimeClasses of the containerd role
version_added: 0.3.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - Turns the containerd role's runtime variables into C(runtimes) for M(kubelayer.runtime.containerd_config),
    the apt packages, pinned downloads and binaries the enabled runtimes need, and one RuntimeClass per handler.
  - kubespray's C(kata_containers_enabled) and C(gvisor_enabled) add the handlers C(kata-qemu) and C(runsc)
    (RuntimeClasses C(kata-qemu) and C(gvisor)) as kubespray does; C(crun) and C(nvidia) handlers come from the
    role's C(containerd_crun_enabled) and C(containerd_nvidia_enabled).
options:
  _input:
    description:
      - The role's variables, by short name - C(runc_runtime), C(additional_runtimes), C(crun), C(kata), C(gvisor),
        C(nvidia), C(nvidia_packages), C(crun_package), C(classes), C(cfg_dir), C(bin_dir), C(download_dir), C(arch),
        C(mirror_url).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show what gVisor needs
  ansible.builtin.debug:
    msg: "{{ {'gvisor': true, 'runc_runtime': containerd_runc_runtime} | kubelayer.runtime.containerd_runtime_plan }}"
"""

RETURN = r"""
_value:
  description:
    - C(runtimes) (containerd_config's option), C(classes) (name, handler, overhead), C(packages), C(downloads)
      (name, url, checksum, dest, creates, unpack), C(debs), C(binaries) and C(problems) (each naming its variable).
  type: dict
"""

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.runtime_plan import runtime_plan


class FilterModule(object):
    def filters(self):
        return {"containerd_runtime_plan": runtime_plan}
