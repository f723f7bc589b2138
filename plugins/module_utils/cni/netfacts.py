# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse iproute2 JSON (``ip -j``) into node network facts.

Pure logic: no Ansible imports, stdlib only, Python 3.8 syntax. The module
``kubelayer.runtime.node_network_facts`` runs the commands on a node and hands
their output to :func:`build_facts`.

Input commands (see ``IP_COMMANDS``)::

    ip -j -d addr show                  # every interface, its MTU, kind, addresses
    ip -j -4 route show table all       # every IPv4 route of every table
    ip -j -6 route show table all       # every IPv6 route of every table

``ip route`` lists IPv4 only unless a family is given, hence two route commands.
"""

from __future__ import absolute_import, division, print_function

import ipaddress
import json
import re

__metaclass__ = type

IP_COMMANDS = {
    "addr": ["-j", "-d", "addr", "show"],
    "route4": ["-j", "-4", "route", "show", "table", "all"],
    "route6": ["-j", "-6", "route", "show", "table", "all"],
}

# Interfaces created by the cluster's own networking (flannel, Calico, the CNI
# bridge, kube-proxy IPVS). Their addresses and routes ARE the pod/service
# ranges once Canal runs, so they must not count as "node networks" that a plan
# has to avoid (otherwise re-planning a running cluster would always fail).
DEFAULT_CNI_INTERFACE_PATTERN = (
    r"^(flannel.*|cali.*|cni\d*|kube-ipvs0|kube-bridge|tunl0|vxlan"
    r"(-v6)?\.calico|wireguard\.cali|wg-v6\.cali|nodelocaldns)$"
)


class NetfactsError(ValueError):
    """The ip -j output cannot be understood."""


def parse_ip_json(text, what="ip -j output"):
    """Decode the JSON printed by ``ip -j``.

    Empty output (some iproute2 versions print nothing instead of ``[]`` when
    there are no routes) is an empty list.
    """
    if text is None:
        return []
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NetfactsError("%s is not JSON (iproute2 too old for -j?): %s" % (what, exc))
    if not isinstance(data, list):
        raise NetfactsError("%s is not a JSON list" % what)
    return data


def _family(name):
    if name in ("inet", "ipv4", 4, "4"):
        return "ipv4"
    if name in ("inet6", "ipv6", 6, "6"):
        return "ipv6"
    return None


def normalize_dst(dst, family):
    """Return the CIDR string of a route destination.

    ``default`` becomes ``0.0.0.0/0`` or ``::/0``; a bare address (local,
    broadcast and host routes) becomes a /32 or /128. Returns ``None`` for
    anything that is not an address (e.g. ``ip`` printing a non-IP family).
    """
    if not isinstance(dst, str) or not dst:
        return None
    if dst == "default":
        return "::/0" if family == "ipv6" else "0.0.0.0/0"
    try:
        return str(ipaddress.ip_network(dst, strict=False))
    except ValueError:
        return None


def is_default_like(cidr):
    """``/0`` routes, and the ``/1`` pair VPNs install to override the default
    route without replacing it (OpenVPN ``def1``, wg-quick ``0.0.0.0/1``)."""
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen <= 1
    except ValueError:
        return False


def _addresses(iface):
    result = []
    infos = iface.get("addr_info")
    for info in infos if isinstance(infos, list) else []:
        if not isinstance(info, dict):
            continue
        family = _family(info.get("family"))
        local = info.get("local")
        plen = info.get("prefixlen")
        if family is None or not isinstance(local, str) or not isinstance(plen, int):
            continue
        # point-to-point links: the connected network is the peer's
        peer = info.get("address") if isinstance(info.get("address"), str) else None
        base = peer or local
        try:
            network = str(ipaddress.ip_network("%s/%d" % (base, plen), strict=False))
            ipaddress.ip_address(local)
        except ValueError:
            continue
        entry = {
            "address": local,
            "prefixlen": plen,
            "family": family,
            "cidr": "%s/%d" % (local, plen),
            "network": network,
            "scope": info.get("scope", "global"),
        }
        if peer:
            entry["peer"] = peer
        result.append(entry)
    return result


def parse_interfaces(addr_data, cni_pattern=DEFAULT_CNI_INTERFACE_PATTERN):
    """Interfaces from ``ip -j -d addr show``: name, MTU, state, kind, addresses."""
    cni_re = re.compile(cni_pattern) if cni_pattern else None
    interfaces = []
    for item in addr_data:
        if not isinstance(item, dict) or not isinstance(item.get("ifname"), str):
            continue
        name = item["ifname"]
        flags = item.get("flags") if isinstance(item.get("flags"), list) else []
        linkinfo = item.get("linkinfo") if isinstance(item.get("linkinfo"), dict) else {}
        addresses = _addresses(item)
        networks = []
        for addr in addresses:
            if addr["network"] not in networks:
                networks.append(addr["network"])
        mtu = item.get("mtu")
        interfaces.append({
            "name": name,
            "index": item.get("ifindex"),
            "mtu": mtu if isinstance(mtu, int) and not isinstance(mtu, bool) else None,
            "state": str(item.get("operstate", "UNKNOWN")).lower(),
            "up": "UP" in flags,
            "loopback": "LOOPBACK" in flags or item.get("link_type") == "loopback",
            "kind": linkinfo.get("info_kind"),
            "link_type": item.get("link_type"),
            "master": item.get("master"),
            "cni": bool(cni_re and cni_re.match(name)),
            "addresses": addresses,
            "networks": networks,
        })
    return interfaces


def parse_routes(route_data, family, cni_pattern=DEFAULT_CNI_INTERFACE_PATTERN):
    """Routes from ``ip -j -4|-6 route show table all`` (every table)."""
    cni_re = re.compile(cni_pattern) if cni_pattern else None
    routes = []
    for item in route_data:
        if not isinstance(item, dict):
            continue
        dst = normalize_dst(item.get("dst"), family)
        if dst is None:
            continue
        devices = []
        gateways = []
        hops = item.get("nexthops") if isinstance(item.get("nexthops"), list) else [item]
        for hop in hops:
            if not isinstance(hop, dict):
                continue
            if isinstance(hop.get("dev"), str) and hop["dev"] not in devices:
                devices.append(hop["dev"])
            if isinstance(hop.get("gateway"), str) and hop["gateway"] not in gateways:
                gateways.append(hop["gateway"])
        table = item.get("table", "main")
        routes.append({
            "dst": dst,
            "family": family,
            "type": item.get("type", "unicast"),
            "table": str(table),
            "dev": devices[0] if devices else None,
            "devices": devices,
            "gateway": gateways[0] if gateways else None,
            "gateways": gateways,
            "protocol": item.get("protocol"),
            "scope": item.get("scope"),
            "metric": item.get("metric"),
            "default": is_default_like(dst),
            "cni": bool(devices) and bool(cni_re) and all(cni_re.match(d) for d in devices),
            # the kernel's own local/broadcast/multicast entries for the interface addresses
            # (already covered by the interfaces' networks)
            "address_route": str(table) == "local" and item.get("protocol") == "kernel",
        })
    return routes


def _underlay(interfaces, routes, underlay_interface):
    by_name = dict((i["name"], i) for i in interfaces)
    if underlay_interface:
        iface = by_name.get(underlay_interface)
        if iface is None:
            raise NetfactsError("underlay_interface %r does not exist on this node (interfaces: %s)"
                                % (underlay_interface, ", ".join(sorted(by_name))))
        return [underlay_interface], "underlay_interface"
    names = []
    for route in routes:
        if route["table"] == "main" and route["type"] == "unicast" and route["dst"] in ("0.0.0.0/0", "::/0"):
            for dev in route["devices"]:
                if dev in by_name and not by_name[dev]["cni"] and dev not in names:
                    names.append(dev)
    if names:
        return names, "default route"
    for iface in interfaces:
        if (iface["up"] and not iface["loopback"] and not iface["cni"] and iface["kind"] != "bridge"
                and any(a["scope"] == "global" for a in iface["addresses"])):
            names.append(iface["name"])
    return names, "up interfaces with a global address"


def build_facts(addr_data, route4_data, route6_data, underlay_interface=None,
                cni_pattern=DEFAULT_CNI_INTERFACE_PATTERN, hostname=None):
    """Assemble the ``node_network`` facts.

    Returns a dict with ``interfaces`` (every interface, address, connected
    network, MTU), ``routes`` (every route of every table, both families),
    ``networks`` (connected networks of non-CNI interfaces), ``route_destinations``
    (destinations of routes that are neither default-like, nor via CNI interfaces,
    nor the kernel's local-table entries for the interface addresses),
    ``mtu`` (smallest MTU of the underlay interfaces: ``underlay_interface`` if
    given, else those carrying a default route) and ``underlay_interfaces``.
    """
    interfaces = parse_interfaces(addr_data, cni_pattern)
    routes = parse_routes(route4_data, "ipv4", cni_pattern) + parse_routes(route6_data, "ipv6", cni_pattern)
    networks = []
    seen = set()
    for iface in interfaces:
        if iface["cni"]:
            continue
        for net in iface["networks"]:
            if net not in seen:
                seen.add(net)
                networks.append(net)
    destinations = []
    seen = set()
    for route in routes:
        if route["default"] or route["cni"] or route["address_route"]:
            continue
        if route["dst"] not in seen:
            seen.add(route["dst"])
            destinations.append(route["dst"])
    underlay, source = _underlay(interfaces, routes, underlay_interface)
    mtus = [i["mtu"] for i in interfaces if i["name"] in underlay and i["mtu"]]
    return {
        "hostname": hostname,
        "interfaces": interfaces,
        "routes": routes,
        "networks": networks,
        "route_destinations": destinations,
        "underlay_interfaces": underlay,
        "underlay_source": source,
        "mtu": min(mtus) if mtus else None,
        "mtus": dict((i["name"], i["mtu"]) for i in interfaces),
    }
