#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: node_network_facts
short_description: Interfaces, addresses, routes of every table and MTUs of a node, read with C(ip -j)
version_added: 0.1.0
description:
  - Runs C(ip -j -d addr show), C(ip -j -4 route show table all) and C(ip -j -6 route show table all)
    (iproute2) on the node and returns every interface with its addresses, connected networks and MTU,
    and every route of every routing table (including routes to VPN and overlay ranges in policy-routing tables).
  - Needs no Python package on the node beyond the standard library; needs iproute2 with JSON output (C(ip -j)).
  - Interfaces created by the cluster network itself (flannel, Calico, the CNI bridge, kube-proxy IPVS; see
    O(cni_interface_pattern)) are reported but flagged C(cni=true) and left out of RV(ansible_facts.node_network.networks)
    and RV(ansible_facts.node_network.route_destinations), so that planning again on a running cluster does not
    see its own pod and service ranges as conflicts.
  - The result feeds M(kubelayer.runtime.canal_plan), which accepts RV(ansible_facts.node_network) as a node entry.
author: kubelayer.runtime developers (@kubelayer)
options:
  underlay_interface:
    description:
      - Interface whose MTU is the node's underlay MTU (the interface flannel uses, C(canal_iface)).
      - When unset, the interfaces carrying a default route in the main table are used; if there is none,
        every up, non-loopback, non-bridge, non-CNI interface with a global address.
    type: str
  cni_interface_pattern:
    description:
      - Python regular expression matching the names of interfaces owned by the cluster network.
      - Their networks, and routes whose every next hop uses them, do not count as node networks/routes.
    type: str
    default: '^(flannel.*|cali.*|cni\d*|kube-ipvs0|kube-bridge|tunl0|vxlan(-v6)?\.calico|wireguard\.cali|wg-v6\.cali|nodelocaldns)$'
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to diff.
  facts:
    support: full
    description: Sets the C(node_network) fact.
  platform:
    support: full
    platforms: posix
    description: Linux with iproute2 (C(ip -j) support, iproute2 4.14 or later).
notes:
  - Routes of type C(local), C(broadcast), C(blackhole), C(unreachable) and the like are included; a route
    whose prefix length is 0 or 1 (the default route, and the C(0.0.0.0/1)+C(128.0.0.0/1) pair VPN clients
    use instead of it) is flagged C(default=true) and not a planning conflict.
seealso:
  - module: kubelayer.runtime.canal_plan
"""

EXAMPLES = r"""
- name: Read the node networks
  kubelayer.runtime.node_network_facts:

- name: Read them, taking the MTU of the interface flannel will use
  kubelayer.runtime.node_network_facts:
    underlay_interface: eth1

- name: Show what would collide with a pod range
  ansible.builtin.debug:
    msg: "{{ node_network.networks + node_network.route_destinations }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by this module.
  returned: success
  type: dict
  contains:
    node_network:
      description: The node's network facts.
      returned: success
      type: dict
      contains:
        hostname:
          description: The node's host name (C(canal_plan) uses it when a node entry has no C(name)).
          type: str
          sample: node1
        interfaces:
          description: Every interface, with C(name), C(index), C(mtu), C(state), C(up), C(loopback), C(kind)
            (C(ip -d) link kind such as C(vxlan), C(veth), C(bridge), C(wireguard)), C(link_type), C(master), C(cni),
            C(addresses) (each C(address), C(prefixlen), C(family), C(cidr), C(network), C(scope), optional C(peer))
            and C(networks).
          type: list
          elements: dict
          sample:
            - name: eth0
              index: 2
              mtu: 1500
              state: up
              up: true
              loopback: false
              kind: veth
              link_type: ether
              master: null
              cni: false
              addresses:
                - {address: 10.88.0.12, prefixlen: 16, family: ipv4, cidr: 10.88.0.12/16, network: 10.88.0.0/16, scope: global}
              networks: [10.88.0.0/16]
        routes:
          description: Every route of every table, both families, with C(dst) (CIDR; C(default) is C(0.0.0.0/0) or C(::/0)),
            C(family), C(type), C(table), C(dev), C(devices), C(gateway), C(gateways) (multipath next hops), C(protocol),
            C(scope), C(metric), C(default), C(cni) and C(address_route) (a kernel-made local-table entry for an
            interface address, covered by that interface's network).
          type: list
          elements: dict
          sample:
            - {dst: 172.31.0.0/16, family: ipv4, type: unicast, table: "51820", dev: wg0, devices: [wg0],
               gateway: 10.200.0.1, gateways: [10.200.0.1], protocol: null, scope: null, metric: null,
               default: false, cni: false, address_route: false}
        networks:
          description: Connected networks of the interfaces not owned by the cluster network (both families, no duplicates).
          type: list
          elements: str
          sample: [127.0.0.0/8, "::1/128", 10.88.0.0/16, "fe80::/64"]
        route_destinations:
          description: Destinations of every route that is not default-like, not via cluster-network interfaces and
            not an C(address_route).
          type: list
          elements: str
          sample: [10.88.0.0/16, 172.31.0.0/16, "fd42:99::/48"]
        underlay_interfaces:
          description: Interfaces whose MTU makes up RV(ansible_facts.node_network.mtu).
          type: list
          elements: str
          sample: [eth0]
        underlay_source:
          description: Why those interfaces were chosen (C(underlay_interface), C(default route) or
            C(up interfaces with a global address)).
          type: str
          sample: default route
        mtu:
          description: Smallest MTU of the underlay interfaces; null when none was found.
          type: int
          sample: 1500
        mtus:
          description: MTU of every interface by name.
          type: dict
          sample: {lo: 65536, eth0: 1500}
"""

import re
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.netfacts import (
    DEFAULT_CNI_INTERFACE_PATTERN,
    IP_COMMANDS,
    NetfactsError,
    build_facts,
    parse_ip_json,
)
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail, fail_if


def _run(module, ip_bin, key, optional=False):
    rc, out, err = module.run_command([ip_bin] + IP_COMMANDS[key], environ_update={"LC_ALL": "C"})
    if rc != 0:
        if optional:
            module.warn("'ip %s' failed (%s); assuming no IPv6 routes" % (" ".join(IP_COMMANDS[key]), err.strip()))
            return []
        fail(module, "node_network_facts", ["ip: 'ip %s' failed with rc %d: %s (iproute2 with JSON output, ip -j, "
                                            "is required)" % (" ".join(IP_COMMANDS[key]), rc, err.strip())])
    return parse_ip_json(out, "output of 'ip %s'" % " ".join(IP_COMMANDS[key]))


ARGUMENT_SPEC = dict(
    underlay_interface=dict(type="str"),
    cni_interface_pattern=dict(type="str", default=DEFAULT_CNI_INTERFACE_PATTERN),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    problems = []
    if module.params["underlay_interface"] is not None:
        validate.check_interface("underlay_interface", module.params["underlay_interface"], problems)
    if validate.check_text("cni_interface_pattern", module.params["cni_interface_pattern"], problems,
                           allow_empty=True) is not None:
        try:
            re.compile(module.params["cni_interface_pattern"])
        except re.error as exc:
            problems.append("cni_interface_pattern: not a valid regular expression: %s" % exc)
    fail_if(module, "node_network_facts", problems)
    ip_bin = module.get_bin_path("ip", required=True, opt_dirs=["/usr/sbin", "/sbin"])
    try:
        addr = _run(module, ip_bin, "addr")
        route4 = _run(module, ip_bin, "route4")
        route6 = _run(module, ip_bin, "route6", optional=True)
        facts = build_facts(addr, route4, route6,
                            underlay_interface=module.params["underlay_interface"],
                            cni_pattern=module.params["cni_interface_pattern"],
                            hostname=socket.gethostname())
    except NetfactsError as exc:
        fail(module, "node_network_facts", [str(exc) if str(exc).startswith("underlay_interface") else "ip: %s" % exc])
    module.exit_json(changed=False, ansible_facts={"node_network": facts})


if __name__ == "__main__":
    main()
