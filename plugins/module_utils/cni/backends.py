# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flannel's backends and the bytes each subtracts from the underlay MTU, per pod address family.

Pure data, stdlib only (runs on the controller and on the nodes). Read from flannel v0.24.4, the version Calico
v3.32.1's ``manifests/canal.yaml`` ships (unchanged in v0.28.9):

* vxlan: ``pkg/backend/vxlan/device.go`` newVXLANDevice ``MTU: devAttrs.MTU - 50`` for ``flannel.1`` and
  ``flannel-v6.1`` alike (``encapOverhead = 50`` in ``pkg/backend/vxlan/vxlan_network.go``); 50, not Calico's 70,
  on IPv6 too.
* wireguard: ``pkg/backend/wireguard/wireguard_network.go`` ``overhead = 80``, used by
  ``pkg/backend/wireguard/device.go`` newWGDevice ``MTU: devAttrs.MTU - overhead`` for ``flannel-wg`` and
  ``flannel-wg-v6`` alike (Calico subtracts 60 for IPv4; flannel does not).
* ipip: ``pkg/backend/ipip/ipip.go`` configureIPIPDevice ``expectMTU := be.extIface.Iface.MTU - 20``. IPv4 only: it
  leases and routes IPv4 subnets only, and ``pkg/subnet/kube/kube.go`` writes ``backend-v6-data`` for vxlan,
  wireguard, host-gw and extension, never for ipip.
* host-gw: ``pkg/backend/hostgw/hostgw.go`` ``Mtu: be.extIface.Iface.MTU`` (no encapsulation).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

FLANNEL_SOURCE = "flannel v0.24.4 pkg/backend"
BACKENDS = ("vxlan", "host-gw", "wireguard", "ipip")
# backend -> {pod address family it can carry: overhead in bytes}
BACKEND_OVERHEAD = {
    "vxlan": {"ipv4": 50, "ipv6": 50},
    "host-gw": {"ipv4": 0, "ipv6": 0},
    "wireguard": {"ipv4": 80, "ipv6": 80},
    "ipip": {"ipv4": 20},
}
