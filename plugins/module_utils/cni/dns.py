# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster DNS address of a plan, when the caller names it (pure logic, no I/O).

The plan's own choice is the tenth address of the primary service range (kubeadm's default). kubespray's kubelets
use ``skydns_server`` (the third address) or, with ``enable_nodelocaldns``, ``nodelocaldns_ip`` (a link-local
address served by NodeLocal DNSCache on every node); the canal role passes that address as ``cluster_dns``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def apply_cluster_dns(plan, value):
    """Set the plan's ``dns_ip`` (and its family's) to ``value``; returns a list of problems (plan untouched then).

    The address must be inside a planned service range, or link-local (NodeLocal DNSCache).
    """
    if value is None or value == "":
        return []
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return ["cluster_dns: %r is not an IP address" % (value,)]
    family = "ipv4" if address.version == 4 else "ipv6"
    fam = (plan.get("families") or {}).get(family)
    if fam is None:
        return ["cluster_dns: %s is an %s address but the plan has no %s service range" % (address, family, family)]
    service = ipaddress.ip_network(fam["service_cidr"]) if fam.get("service_cidr") else None
    if not address.is_link_local and (service is None or address not in service):
        return ["cluster_dns: %s is neither inside the service range %s nor a link-local address "
                "(NodeLocal DNSCache)" % (address, service)]
    fam["dns_ip"] = str(address)
    primary = ipaddress.ip_network(plan["service_cidrs"][0]) if plan.get("service_cidrs") else None
    if primary is not None and primary.version == address.version:
        plan["dns_ip"] = str(address)
    return []
