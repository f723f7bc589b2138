# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection sets: which protocols and destination ports a connection may use.

A connection set is a dict ``{protocol: ((lo, hi), ...)}`` with sorted, merged, non-empty port
intervals. ``TCP``, ``UDP`` and ``SCTP`` carry ports 1-65535; ``other`` (every protocol without
ports: ICMP, ...) is either absent or ``((0, 0),)``. The empty dict allows nothing; ``ALL`` allows
everything. Values are immutable, so sets can be shared and compared with ``==``.

No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PORT_PROTOCOLS = ("TCP", "UDP", "SCTP")
OTHER = "other"
PROTOCOLS = PORT_PROTOCOLS + (OTHER,)
FULL = ((1, 65535),)
ALL = dict((p, FULL) for p in PORT_PROTOCOLS)
ALL[OTHER] = ((0, 0),)
NONE = {}


def _merge(intervals):
    out = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def make(protocol, lo=None, hi=None):
    """One protocol, one port range (all ports when ``lo`` is None)."""
    if protocol == OTHER:
        return {OTHER: ((0, 0),)}
    if lo is None:
        return {protocol: FULL}
    return {protocol: ((lo, lo if hi is None else hi),)}


def union(*sets):
    out = {}
    for conns in sets:
        for proto, intervals in conns.items():
            out[proto] = _merge(list(out.get(proto, ())) + list(intervals))
    return out


def _intersect_intervals(a, b):
    out = []
    for alo, ahi in a:
        for blo, bhi in b:
            lo, hi = max(alo, blo), min(ahi, bhi)
            if lo <= hi:
                out.append((lo, hi))
    return _merge(out)


def intersect(a, b):
    out = {}
    for proto in set(a) & set(b):
        both = _intersect_intervals(a[proto], b[proto])
        if both:
            out[proto] = both
    return out


def _subtract_intervals(a, b):
    out = list(a)
    for blo, bhi in b:
        nxt = []
        for lo, hi in out:
            if bhi < lo or blo > hi:
                nxt.append((lo, hi))
                continue
            if lo < blo:
                nxt.append((lo, blo - 1))
            if hi > bhi:
                nxt.append((bhi + 1, hi))
        out = nxt
    return _merge(out)


def subtract(a, b):
    out = {}
    for proto, intervals in a.items():
        rest = _subtract_intervals(intervals, b.get(proto, ())) if proto in b else intervals
        if rest:
            out[proto] = rest
    return out


def is_all(conns):
    return conns == ALL


def from_ports(ports):
    """Kubernetes ``ports`` list (``protocol``, ``port``, ``endPort``) -> connection set.

    ``None`` or ``[]`` means every port of every protocol, as in a NetworkPolicy rule.
    """
    if not ports:
        return dict(ALL)
    out = {}
    for item in ports:
        proto = item.get("protocol") or "TCP"
        port = item.get("port")
        if port is None:
            out = union(out, make(proto))
        else:
            out = union(out, make(proto, int(port), int(item.get("endPort") or port)))
    return out


def to_ports(conns):
    """Connection set -> Kubernetes ``ports`` list (``None`` for every port of every protocol).

    Raises ``ValueError`` for a set a ``ports`` list cannot express (some but not all of ``other``).
    """
    if is_all(conns):
        return None
    if OTHER in conns:
        raise ValueError("protocols without ports cannot be listed in a NetworkPolicy ports list")
    out = []
    for proto in PORT_PROTOCOLS:
        for lo, hi in conns.get(proto, ()):
            if (lo, hi) == FULL[0]:
                out.append({"protocol": proto})
                continue
            item = {"protocol": proto, "port": lo}
            if hi != lo:
                item["endPort"] = hi
            out.append(item)
    return out


def fmt(conns):
    """Human text: ``TCP 80, 8000-8100; UDP 53``, ``all``, ``none``."""
    if not conns:
        return "none"
    if is_all(conns):
        return "all"
    parts = []
    for proto in PROTOCOLS:
        if proto not in conns:
            continue
        if proto == OTHER:
            parts.append("other protocols")
        elif conns[proto] == FULL:
            parts.append("%s all ports" % proto)
        else:
            parts.append("%s %s" % (proto, ", ".join(
                str(lo) if lo == hi else "%d-%d" % (lo, hi) for lo, hi in conns[proto])))
    return "; ".join(parts)
