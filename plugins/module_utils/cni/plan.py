# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canal (flannel + Calico policy) address planning.

Pure logic: no Ansible imports, stdlib only (``ipaddress``, ``bisect``),
Python 3.8 syntax. Entry point: :func:`make_plan`, which never raises for bad
input: it returns ``(plan, problems, warnings)`` and ``plan`` is ``None``
whenever ``problems`` is not empty.

Rules (docs/canal-planning.md has worked examples):

* at most one pod and one service CIDR per IP family, no host bits set;
* no overlap, in either direction, between pod ranges, service ranges,
  ``reserved`` ranges, built-in special-purpose ranges, node networks and node
  routes other than default routes (``/0`` and the VPN ``/1`` pair);
* node prefix >= cluster prefix and at most 16 bits longer (kube-controller-manager
  / kubeadm), usable addresses per node (2^(32-m) - 3, IPv6 2^(128-m) - 2)
  >= ``max_pods``, node count 2^(m - p) >= ``expected_nodes``;
* service range IPv4 /12../28, IPv6 /108 or smaller, >= 10 addresses;
* node subnets are stable: existing assignments (``assignments``, node
  ``subnets``, the state file's ``state_assignments`` minus ``release_nodes``)
  are kept, new nodes get the lowest free subnets in input order. They are a
  prediction: kube-controller-manager assigns the real ``spec.podCIDR``.

Overlap checks use an index of the distinct node/reserved ranges (hash of
prefix-aligned starts for containing ranges + sorted starts for contained
ranges), so a check costs O(log n + prefix length), and building the index is
O(n log n) in the number of distinct ranges.
"""

from __future__ import absolute_import, division, print_function

import bisect
import ipaddress
import re
import socket

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.backends import BACKENDS, BACKEND_OVERHEAD

_inet_aton = socket.inet_aton   # only ever given regex-validated dotted quads
_from_bytes = int.from_bytes

__metaclass__ = type

FAMILIES = ("ipv4", "ipv6")
BITS = {"ipv4": 32, "ipv6": 128}
LABEL = {"ipv4": "IPv4", "ipv6": "IPv6"}
SERVICE_MAX_BITS = 20          # kube-apiserver maxCIDRBits: IPv4 >= /12, IPv6 >= /108
SERVICE_MIN_ADDRESSES = 10     # kubeadm MinimumAddressesInServiceSubnet
NODE_MASK_MAX_DIFF = 16        # kubeadm PodSubnetNodeMaskMaxDiff / KCM clusterSubnetMaxDiff
DNS_OFFSET = 10                # 10.96.0.10
DEFAULT_MTU = 1500
LIST_LIMIT = 5                 # node names listed per problem before "and N more"

# Candidate pools for ``auto``, in order of preference: (pool, prefix). A pool
# is split into aligned subnets of the needed size, tried lowest first. Pod
# pools take the prefix computed from node_prefix/expected_nodes; ``None``
# means "that computed prefix".
POD_CANDIDATES = {
    "ipv4": [("10.244.0.0/16", None),     # flannel / Canal default
             ("10.42.0.0/16", None),      # RKE2 / k3s default
             ("172.16.0.0/12", None),     # RFC 1918, pieces
             ("100.64.0.0/10", None),     # RFC 6598 shared space, pieces
             ("10.0.0.0/8", None)],       # last resort, pieces
    "ipv6": [("fd10:244::/32", None),     # ULA pieces (fd10:244:0::/48 first)
             ("fd42:42::/32", None),
             ("fd00::/8", None)],
}
SERVICE_CANDIDATES = {
    "ipv4": [("10.96.0.0/12", 12),        # kubeadm default
             ("10.43.0.0/16", 16),        # RKE2 / k3s default
             ("10.233.0.0/18", 18),       # kubespray default
             ("172.16.0.0/12", 16),
             ("100.64.0.0/10", 16),
             ("10.0.0.0/8", 16)],
    "ipv6": [("fd10:96::/64", 112),       # kubeadm clamps to /112
             ("fd10:43::/64", 112),
             ("fd00::/8", 112)],
}
# never usable for pods or services
SPECIAL_RANGES = [
    ("0.0.0.0/8", "'this network' (RFC 1122)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved/broadcast (RFC 1112)"),
    ("::/127", "unspecified/loopback"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
]
AUTO_WORDS = {"auto": "ipv4", "auto4": "ipv4", "auto6": "ipv6"}


class Net:
    """A parsed CIDR: family, first and last address as ints, prefix length."""

    __slots__ = ("family", "start", "end", "prefix", "text", "key")

    def __init__(self, family, start, prefix):
        bits = BITS[family]
        self.family = family
        self.start = start
        self.prefix = prefix
        self.end = start + (1 << (bits - prefix)) - 1
        self.text = None
        self.key = (family, prefix, start)

    def __str__(self):
        if self.text is None:
            cls = ipaddress.IPv4Network if self.family == "ipv4" else ipaddress.IPv6Network
            self.text = str(cls((self.start, self.prefix)))
        return self.text

    __repr__ = __str__

    def overlaps(self, other):
        return self.family == other.family and self.start <= other.end and other.start <= self.end

    def contains(self, other):
        return self.family == other.family and self.start <= other.start and other.end <= self.end

    def address(self, offset):
        cls = ipaddress.IPv4Address if self.family == "ipv4" else ipaddress.IPv6Address
        return str(cls(self.start + offset))

    def size(self):
        return self.end - self.start + 1


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4_RE = re.compile(r"\A(%s\.%s\.%s\.%s)(?:/(3[0-2]|[12]?[0-9]))?\Z" % ((_OCTET,) * 4))


def _parse_v4_fast(text):
    """``(int, prefix)`` for a canonical dotted-quad IPv4 CIDR, else ``None``."""
    m = _V4_RE.match(text)
    if m is None:
        return None
    addr, plen = m.groups()
    return _from_bytes(_inet_aton(addr), "big"), (32 if plen is None else int(plen))


class Parser:
    """Memoising CIDR parser (inventories repeat the same networks a lot)."""

    def __init__(self):
        self.cache = {}
        self.loose = {}
        self.items = {}   # "networks"/"routes" -> {text: (net, desc) or ()}
        self.uncached = []   # node nets that came from fact dicts (not in ``items``)

    def parse_loose(self, text):
        """Parse a node range: host bits allowed, ``default`` is ``(None, None)`` (skip)."""
        if not isinstance(text, str):
            return None, "%r is not a CIDR string" % (text,)
        hit = self.loose.get(text)
        if hit is None:
            if text.strip() == "default":
                hit = (None, None)
            else:
                hit = self._parse(text, False)
            self.loose[text] = hit
        return hit

    def parse(self, text, strict=True):
        """Return ``(net, error)``; ``error`` is a message or ``None``.

        With ``strict`` a CIDR with host bits set is an error that names the
        network that was probably meant; without it the host bits are dropped
        (interface addresses such as ``10.88.0.12/16``).
        """
        if not isinstance(text, str):
            return None, "%r is not a CIDR string" % (text,)
        key = (text, strict)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        result = self._parse(text, strict)
        self.cache[key] = result
        return result

    @staticmethod
    def _parse(text, strict):
        if not isinstance(text, str):
            return None, "%r is not a CIDR string" % (text,)
        stripped = text.strip()
        fast = _parse_v4_fast(stripped)
        if fast is not None:
            value, prefix = fast
            mask_host = (1 << (32 - prefix)) - 1
            if value & mask_host:
                net = Net("ipv4", value & ~mask_host, prefix)
                if strict:
                    return None, "%s has host bits set (did you mean %s?)" % (stripped, net)
                return net, None
            return Net("ipv4", value, prefix), None
        try:
            net = ipaddress.ip_network(stripped, strict=False)
        except (ValueError, TypeError):
            return None, "%r is not a valid CIDR" % (text,)
        family = "ipv4" if net.version == 4 else "ipv6"
        result = Net(family, int(net.network_address), net.prefixlen)
        if strict and int(ipaddress.ip_interface(stripped).ip) != result.start:
            return None, "%s has host bits set (did you mean %s?)" % (stripped, result)
        return result, None


class RangeIndex:
    """Distinct CIDRs of one or both families, queryable for overlaps.

    CIDRs are laminar (two either nest or are disjoint), so the ranges
    overlapping a query ``q`` are exactly: those containing ``q`` (for each
    prefix length p <= q.prefix at most one, found by hashing q's start masked
    to p) plus those starting inside ``q`` (a bisect over sorted starts).
    """

    def __init__(self, nets):
        self.keys = {}
        for net in nets:
            self.keys.setdefault(net.key, net)
        self.prefixes = {}
        self.sorted = {}
        for family in FAMILIES:
            items = sorted((k[2], k[1]) for k in self.keys if k[0] == family)
            self.sorted[family] = ([s for s, _p in items], [p for _s, p in items])
            self.prefixes[family] = sorted(set(p for _s, p in items))

    def __len__(self):
        return len(self.keys)

    def overlapping(self, q, limit=None):
        """Distinct indexed nets overlapping ``q`` (up to ``limit``)."""
        found = []
        bits = BITS[q.family]
        for p in self.prefixes[q.family]:
            if p > q.prefix:
                break
            mask = ((1 << bits) - 1) ^ ((1 << (bits - p)) - 1)
            net = self.keys.get((q.family, p, q.start & mask))
            if net is not None:
                found.append(net)
                if limit and len(found) >= limit:
                    return found
        starts, prefixes = self.sorted[q.family]
        i = bisect.bisect_left(starts, q.start)
        while i < len(starts) and starts[i] <= q.end:
            if prefixes[i] > q.prefix or (prefixes[i] == q.prefix and starts[i] != q.start):
                found.append(self.keys[(q.family, prefixes[i], starts[i])])
                if limit and len(found) >= limit:
                    return found
            i += 1
        return found

    def any_overlap(self, q):
        return bool(self.overlapping(q, limit=1))


_DIGITS = re.compile(r"^[0-9]{1,9}\Z")


def _int_option(name, value, default, low, high, problems):
    if value is None:
        return default
    if isinstance(value, bool):
        problems.append("%s: %r is not an integer" % (name, value))
        return None
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        problems.append("%s: %r is not an integer" % (name, value))
        return None
    if value < low or value > high:
        problems.append("%s: %d is out of range (%d..%d)" % (name, value, low, high))
        return None
    return value


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _cidr_field(name, value, parser, problems):
    """Parse pod_cidrs/service_cidrs: ``{family: Net}`` and the families asked for with ``auto``."""
    chosen = {}
    auto = []
    seen = {}   # family -> text of the entry that took it (also when that entry had host bits set)
    # a control character is refused, not stripped away with the whitespace around an entry
    given = value if isinstance(value, (list, tuple)) else [value]
    if [v for v in given if isinstance(v, str) and validate.check_text(name, v, problems, allow_empty=True) is None]:
        return chosen, auto, []
    items = _as_list(value if value is not None else "auto")
    if not items:
        problems.append("%s: must list one CIDR per IP family (or be 'auto')" % name)
    for item in items:
        if isinstance(item, str) and item.strip().lower() in AUTO_WORDS:
            family = AUTO_WORDS[item.strip().lower()]
            text = "auto"
            net = None
        else:
            net, error = parser.parse(item)
            if error:
                problems.append("%s: %s" % (name, error))
                net, _error = parser.parse_loose(item)
                if net is not None:
                    seen.setdefault(net.family, str(item).strip())
                continue
            family = net.family
            text = str(net)
        if family in seen:
            problems.append("%s: two %s entries (%s and %s); give at most one per IP family"
                            % (name, LABEL[family], seen[family], text))
            continue
        seen[family] = text
        if net is None:
            auto.append(family)
        else:
            chosen[family] = net
    return chosen, auto, list(seen)


def _bare_auto(value):
    items = _as_list(value if value is not None else "auto")
    return len(items) == 1 and isinstance(items[0], str) and items[0].strip().lower() == "auto"


def _clean_name(value):
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


class Node:
    __slots__ = ("name", "nets", "mtu", "subnets")

    def __init__(self, name):
        self.name = name
        self.nets = []        # (Net, description)
        self.mtu = None
        self.subnets = []     # raw existing assignment entries


def _node_ranges(index, raw, node, parser, problems, what):
    """Add the CIDRs of ``raw`` (networks or routes, strings or fact dicts).

    The hot loop of large inventories: plain strings are looked up in a
    per-kind cache of ready-made ``(net, desc)`` items (``()`` = skip), with
    ``map`` at C speed; only unseen strings and fact dicts take the slow path.
    """
    if raw is None:
        return
    if not isinstance(raw, (list, tuple)):
        problems.append("nodes[%d] (%s): %s must be a list of CIDR strings" % (index, node.name, what))
        return
    desc = what[:-1]
    min_prefix = 2 if what == "routes" else 0   # default route, or the /1 pair VPNs use in its place
    items = parser.items.setdefault(what, {})
    try:
        got = list(map(items.get, raw))
    except TypeError:   # unhashable entries (fact dicts)
        got = [None] * len(raw)
    if None in got:
        _fill_misses(index, raw, got, node, parser, problems, what, desc, min_prefix, items)
    node.nets.extend(filter(None, got))


def _fill_misses(index, raw, got, node, parser, problems, what, desc, min_prefix, items):
    """Slow path of :func:`_node_ranges`: parse the entries not in the cache, in place in ``got``."""
    pos = -1
    while True:
        try:
            pos = got.index(None, pos + 1)
        except ValueError:
            return
        entry = raw[pos]
        got[pos] = ()
        this_desc = desc
        if isinstance(entry, dict):
            # node_network_facts route (or interface address) shape
            if entry.get("default") or entry.get("cni") or entry.get("address_route"):
                continue
            text = entry.get("dst", entry.get("network", entry.get("cidr")))
            details = ["%s %s" % (k, entry[k]) for k in ("table", "dev") if isinstance(entry.get(k), str)]
            if details:
                this_desc = "%s (%s)" % (desc, ", ".join(details))
        else:
            text = entry
        net, error = parser.parse_loose(text)
        if error:
            problems.append("nodes[%d] (%s): %s: %s" % (index, node.name, what, error))
            continue
        item = (net, this_desc) if net is not None and net.prefix >= min_prefix else ()
        if entry.__class__ is str:
            items[entry] = item
        elif item:
            parser.uncached.append(net)
        got[pos] = item


def _parse_nodes(raw_nodes, parser, problems):
    nodes = []
    if raw_nodes is None:
        return nodes
    if isinstance(raw_nodes, dict):
        # {name: facts} mapping (e.g. hostvars-style)
        items = []
        for key in raw_nodes:
            value = raw_nodes[key]
            if isinstance(value, dict) and "name" not in value:
                value = dict(value, name=key)
            items.append(value)
        raw_nodes = items
    if not isinstance(raw_nodes, (list, tuple)):
        problems.append("nodes: must be a list of {name, networks, routes, mtu} (got %s)" % type(raw_nodes).__name__)
        return nodes
    seen = {}
    for i, item in enumerate(raw_nodes):
        if not isinstance(item, dict):
            problems.append("nodes[%d]: must be a dict with name, networks, routes, mtu (got %r)" % (i, item))
            continue
        name = item.get("name")
        if name.__class__ is not str or not name or name != name.strip():
            name = _clean_name(name) or _clean_name(item.get("hostname"))
        if name is None:
            problems.append("nodes[%d]: has no name" % i)
            name = "nodes[%d]" % i
        elif name in seen:
            problems.append("nodes: duplicate node name %r (nodes[%d] and nodes[%d])" % (name, seen[name], i))
            continue
        seen[name] = i
        node = Node(name)
        networks = item.get("networks")
        if networks is None and isinstance(item.get("interfaces"), list):
            networks = []
            for iface in item["interfaces"]:
                if isinstance(iface, dict) and not iface.get("cni"):
                    networks.extend(n for n in (iface.get("networks") or []))
        _node_ranges(i, networks, node, parser, problems, "networks")
        _node_ranges(i, item.get("routes"), node, parser, problems, "routes")
        mtu = item.get("mtu")
        if mtu.__class__ is int and 68 <= mtu <= 65536:
            node.mtu = mtu
        elif mtu is not None:
            node.mtu = _int_option("nodes[%d] (%s): mtu" % (i, name), mtu, None, 68, 65536, problems)
        subnets = item.get("subnets", item.get("pod_cidrs"))
        if subnets is not None:
            node.subnets = _as_list(subnets)
        nodes.append(node)
    return nodes


def _parse_assignments(raw, nodes, parser, problems, label="assignments"):
    """``{name: [cidr, ...]}`` (or list of {name, subnets}) merged with per-node ``subnets``."""
    result = {}
    if isinstance(raw, (list, tuple)):
        mapping = {}
        for i, item in enumerate(raw):
            if isinstance(item, dict) and _clean_name(item.get("name")):
                mapping[item["name"].strip()] = item.get("subnets", item.get("pod_cidrs", item.get("subnet")))
            else:
                problems.append("%s[%d]: must be {name, subnets} (got %r)" % (label, i, item))
        raw = mapping
    elif raw is not None and not isinstance(raw, dict):
        problems.append("%s: must map node names to their existing pod subnets (got %s)"
                        % (label, type(raw).__name__))
        raw = {}
    raw = dict(raw or {})
    for node in nodes:
        if node.subnets and node.name not in raw:
            raw[node.name] = node.subnets
    for name in sorted(raw, key=str):
        entries = raw[name]
        if isinstance(entries, dict):
            entries = [entries[k] for k in FAMILIES if k in entries]
        per_family = {}
        for entry in _as_list(entries):
            net, error = parser.parse(entry)
            if error:
                problems.append("%s: node %s: %s" % (label, name, error))
                continue
            if net.family in per_family:
                problems.append("%s: node %s has two %s subnets (%s and %s)"
                                % (label, name, LABEL[net.family], per_family[net.family], net))
                continue
            per_family[net.family] = net
        if per_family:
            result[str(name)] = per_family
    return result


HITS_PER_RANGE = 20            # node ranges detailed per overlapping cluster range


def _overlap_problems(cluster, index, nodes, special, reserved, problems):
    """Every overlap between cluster ranges and everything else (both directions)."""
    items = sorted(cluster, key=lambda c: (c[0], c[1].family))
    node_hits = []
    for i, (label, net) in enumerate(items):
        for label2, net2 in items[i + 1:]:
            if net.overlaps(net2):
                problems.append("%s %s overlaps %s %s" % (label, net, label2, net2))
        for snet, desc in special:
            if net.overlaps(snet):
                problems.append("%s %s overlaps the %s range %s" % (label, net, desc, snet))
        for j, rnet in reserved:
            if net.overlaps(rnet):
                problems.append("%s %s overlaps reserved[%d] %s" % (label, net, j, rnet))
        hits = index.overlapping(net)
        if hits:
            node_hits.append((label, net, hits))
    if not node_hits:
        return
    # one pass over the inventory collects who has the overlapping ranges
    wanted = set(h.key for _l, _n, hits in node_hits for h in hits[:HITS_PER_RANGE])
    owners = {}
    for node in nodes:
        for net, desc in node.nets:
            if net.key in wanted:
                lst = owners.setdefault(net.key, [])
                if not lst or lst[-1][0] != node.name:
                    lst.append((node.name, desc))
    for label, net, hits in node_hits:
        for hit in hits[:HITS_PER_RANGE]:
            found = owners.get(hit.key, [])
            names = [n for n, _d in found]
            kinds = sorted(set(d for _n, d in found))
            shown = ", ".join(names[:LIST_LIMIT])
            if len(names) > LIST_LIMIT:
                shown += " and %d more node(s)" % (len(names) - LIST_LIMIT)
            problems.append("%s %s overlaps node %s %s on %s" % (label, net, " / ".join(kinds), hit, shown))
        if len(hits) > HITS_PER_RANGE:
            problems.append("%s %s overlaps %d more distinct node networks/routes (first %d listed)"
                            % (label, net, len(hits) - HITS_PER_RANGE, HITS_PER_RANGE))


def _needed_bits(count):
    bits = 0
    while (1 << bits) < count:
        bits += 1
    return bits


def _usable(family, node_prefix):
    bits = BITS[family]
    return (1 << (bits - node_prefix)) - (3 if family == "ipv4" else 2)


def _candidates(pools, prefix, family):
    """Aligned subnets of ``prefix`` inside each pool, in order (max 256 per pool)."""
    for pool, fixed in pools:
        base = ipaddress.ip_network(pool)
        want = fixed if fixed is not None else prefix
        if want is None or want < base.prefixlen or want > BITS[family]:
            continue
        step = 1 << (BITS[family] - want)
        start = int(base.network_address)
        count = min(1 << (want - base.prefixlen), 256)
        for k in range(count):
            yield Net(family, start + k * step, want)


def make_plan(params):
    """Validate ``params`` (the module options) and build the plan.

    Returns ``(plan, problems, warnings)``. Never raises on bad input.
    """
    return _make_plan(params)


class _Run:
    """What the planning steps share: the options as parsed, and what each step adds to them."""

    def __init__(self):
        self.problems = []
        self.warnings = []
        self.parser = Parser()
        self.per_family = {}
        self.node_subnets = {}


def _make_plan(params):
    """The planning steps in order: parse, families, index, allocate, check, assign, MTU, output."""
    if not isinstance(params, dict):
        return None, ["options must be a dict (got %s)" % type(params).__name__], []
    run = _Run()
    _parse(run, params)
    _choose_families(run, params)
    _index_node_ranges(run)
    _allocate(run)
    _check(run)
    if not run.problems:
        _assign(run)
    if not run.problems:
        _mtu(run)
    if run.problems:
        return None, run.problems, run.warnings
    return _output(run), [], run.warnings


# --- step 1: parse -----------------------------------------------------------------------------------------------

def _backend_option(value, problems):
    if value is None:
        return "vxlan"
    if not isinstance(value, str) or value.strip().lower() not in BACKENDS:
        problems.append("backend: %r is not one of %s" % (value, ", ".join(BACKENDS)))
        return None
    return value.strip().lower()


def _reserved_option(value, parser, problems):
    reserved = []
    for j, item in enumerate(_as_list(value)):
        net, error = parser.parse(item)
        if error:
            problems.append("reserved[%d]: %s" % (j, error))
        else:
            reserved.append((j, net))
    return reserved


def _parse(run, params):
    """Every option into ``run``; each bad value adds a problem and planning goes on (all problems at once)."""
    problems, parser = run.problems, run.parser
    run.node_prefix = {
        "ipv4": _int_option("node_prefix", params.get("node_prefix"), 24, 0, 32, problems),
        "ipv6": _int_option("node_prefix_v6", params.get("node_prefix_v6"), 64, 0, 128, problems),
    }
    run.max_pods = _int_option("max_pods", params.get("max_pods"), 110, 1, 1 << 20, problems)
    run.backend = _backend_option(params.get("backend"), problems)
    run.pods, run.pods_auto, run.pods_seen = _cidr_field("pod_cidrs", params.get("pod_cidrs"), parser, problems)
    run.services, run.services_auto, _seen = _cidr_field("service_cidrs", params.get("service_cidrs"),
                                                         parser, problems)
    run.reserved = _reserved_option(params.get("reserved"), parser, problems)
    run.nodes = _parse_nodes(params.get("nodes"), parser, problems)
    expected = _int_option("expected_nodes", params.get("expected_nodes"), max(len(run.nodes), 1),
                           1, 1 << 24, problems)
    if expected is not None and expected < len(run.nodes):
        run.warnings.append("expected_nodes (%d) is below the number of nodes given (%d); planning for %d"
                            % (expected, len(run.nodes), len(run.nodes)))
        expected = len(run.nodes)
    run.expected = expected
    run.assignments, run.assignment_source = _kept_assignments(run, params)


def _kept_assignments(run, params):
    """Kept subnets: the state file's, minus ``release_nodes``, overridden by ``assignments`` (and node ``subnets``).

    Returns ``(assignments, source)``; ``source`` names, per node, the option its kept subnets came from.
    """
    state = _parse_assignments(params.get("state_assignments"), [], run.parser, run.problems, "state_file")
    given = _parse_assignments(params.get("assignments"), run.nodes, run.parser, run.problems)
    for name in _as_list(params.get("release_nodes")):
        name = str(name).strip()
        if state.pop(name, None) is None:
            run.warnings.append("release_nodes: %s has no subnet kept in the state file" % name)
    source = dict.fromkeys(state, "state_file")
    for name, per_family in given.items():
        kept = state.get(name) or {}
        moved = ["%s -> %s" % (kept[f], net) for f, net in sorted(per_family.items())
                 if f in kept and kept[f].key != net.key]
        if moved:
            run.warnings.append("assignments: node %s: %s replaces the subnet kept in the state file"
                                % (name, ", ".join(moved)))
        merged = dict(kept)
        merged.update(per_family)
        state[name] = merged
        source[name] = "assignments"
    return state, source


def _choose_families(run, params):
    """Families: explicit entries, then auto entries; a bare "auto" follows the other field ("auto" on both: IPv4)."""
    run.pod_families = list(run.pods) + [f for f in run.pods_auto if f not in run.pods]
    run.svc_families = list(run.services) + [f for f in run.services_auto if f not in run.services]
    pod_bare = _bare_auto(params.get("pod_cidrs"))
    svc_bare = _bare_auto(params.get("service_cidrs"))
    if pod_bare and not svc_bare and run.svc_families:
        run.pod_families = list(run.svc_families)
        run.pods_auto = list(run.svc_families)
    if svc_bare and run.pod_families:
        run.svc_families = list(run.pod_families)
        run.services_auto = list(run.svc_families)
    for family in run.svc_families:
        if family not in run.pod_families and family not in run.pods_seen:
            run.problems.append("service_cidrs: has an %s range but pod_cidrs has none" % LABEL[family])


def _index_node_ranges(run):
    """Index the node ranges (owners kept per distinct CIDR) and the ranges that are never usable.

    Routes into assigned node subnets are the cluster's own (host-gw routes to other nodes, flannel's blackhole
    route) and are left out; an interface network there is not.
    """
    assigned_keys = set(net.key for per_family in run.assignments.values() for net in per_family.values())
    if assigned_keys:
        prefixes = sorted(set(k[1] for k in assigned_keys))

        def cluster_owned(net):
            bits = BITS[net.family]
            for p in prefixes:
                if p > net.prefix:
                    break
                mask = ((1 << bits) - 1) ^ ((1 << (bits - p)) - 1)
                if (net.family, p, net.start & mask) in assigned_keys:
                    return True
            return False

        for node in run.nodes:
            node.nets = [(n, d) for n, d in node.nets if d.startswith("network") or not cluster_owned(n)]
        node_nets = dict((net.key, net) for node in run.nodes for net, _desc in node.nets)
    else:
        # every node net is in the parser's item caches (or its list of dict-shaped ones)
        node_nets = dict((item[0].key, item[0]) for cache in run.parser.items.values()
                         for item in cache.values() if item)
        node_nets.update((net.key, net) for net in run.parser.uncached)
    run.index = RangeIndex(node_nets.values())
    run.special = [(run.parser.parse(c)[0], d) for c, d in SPECIAL_RANGES]
    run.avoid = RangeIndex([n for _j, n in run.reserved] + [n for n, _d in run.special])


# --- step 2: allocate (auto) ---------------------------------------------------------------------------------------

def _is_free(run, net):
    if run.index.any_overlap(net) or run.avoid.any_overlap(net):
        return False
    return not any(net.overlaps(t) for t in list(run.services.values()) + list(run.pods.values()))


def _auto_pod_range(run, family):
    np_ = run.node_prefix[family]
    prefix = min(16, np_ - _needed_bits(run.expected)) if family == "ipv4" else np_ - NODE_MASK_MAX_DIFF
    if prefix < 0 or np_ - prefix > NODE_MASK_MAX_DIFF:
        run.problems.append("pod_cidrs: auto: no %s range can hold %d nodes with node_prefix%s %d"
                            % (LABEL[family], run.expected, "" if family == "ipv4" else "_v6", np_))
        return
    fam_assigned = [a[family] for a in run.assignments.values() if family in a]
    for cand in _candidates(POD_CANDIDATES[family], prefix, family):
        if _is_free(run, cand) and all(cand.contains(a) for a in fam_assigned):
            run.pods[family] = cand
            return
    run.problems.append("pod_cidrs: auto: every %s candidate (%s) overlaps a node network, route or "
                        "reserved range; give pod_cidrs explicitly"
                        % (LABEL[family], ", ".join(p for p, _x in POD_CANDIDATES[family])))


def _auto_service_range(run, family):
    for cand in _candidates(SERVICE_CANDIDATES[family], None, family):
        if _is_free(run, cand):
            run.services[family] = cand
            return
    run.problems.append("service_cidrs: auto: every %s candidate (%s) overlaps something; give "
                        "service_cidrs explicitly" % (LABEL[family], ", ".join(p for p, _x in SERVICE_CANDIDATES[family])))


def _allocate(run):
    """Pick the ``auto`` ranges, only on otherwise valid input (a pick made from bad input would mislead)."""
    if not run.problems:
        for family in FAMILIES:
            if family in run.pods_auto and family not in run.pods:
                _auto_pod_range(run, family)
        for family in FAMILIES:
            if family in run.services_auto and family not in run.services:
                _auto_service_range(run, family)
    run.pod_order = [f for f in run.pod_families if f in run.pods]
    run.svc_order = [f for f in run.svc_families if f in run.services]
    run.cluster = ([("pod_cidrs", run.pods[f]) for f in run.pod_order]
                   + [("service_cidrs", run.services[f]) for f in run.svc_order])


# --- step 3: check -------------------------------------------------------------------------------------------------

def _check(run):
    _overlap_problems(run.cluster, run.index, run.nodes, run.special, run.reserved, run.problems)
    _check_backend(run)
    _check_max_pods(run)
    _check_capacity(run)
    _check_services(run)
    _check_assignments(run)


def _check_backend(run):
    """A backend that cannot carry a pod family (flannel's ipip is IPv4 only) is refused."""
    if run.backend is None:
        return
    for family in run.pod_families:
        if family not in BACKEND_OVERHEAD[run.backend]:
            run.problems.append("backend: %s carries %s pod traffic only (flannel pkg/backend/%s), but the pod "
                                "ranges include %s; use vxlan, host-gw or wireguard"
                                % (run.backend, " and ".join(LABEL[f] for f in BACKEND_OVERHEAD[run.backend]),
                                   run.backend.replace("-", ""), LABEL[family]))


def _check_max_pods(run):
    for family in FAMILIES:
        np_ = run.node_prefix[family]
        if np_ is None or run.max_pods is None or (family not in run.pod_families and family not in run.pods_seen):
            continue
        usable = _usable(family, np_)
        if usable < run.max_pods:
            run.problems.append("%s: /%d leaves %d usable pod addresses per node, below max_pods %d"
                                % ("node_prefix" if family == "ipv4" else "node_prefix_v6", np_, max(usable, 0),
                                   run.max_pods))


def _check_capacity(run):
    """Node prefix against each pod range (fits, <= 16 bits longer), and room for ``expected_nodes``."""
    for family in run.pod_order:
        pod, np_ = run.pods[family], run.node_prefix[family]
        opt = "node_prefix" if family == "ipv4" else "node_prefix_v6"
        if np_ is None:
            continue
        if np_ < pod.prefix:
            run.problems.append("%s: %d is shorter than the %s pod range %s (node subnets must fit inside it)"
                                % (opt, np_, LABEL[family], pod))
            continue
        if np_ - pod.prefix > NODE_MASK_MAX_DIFF:
            run.problems.append(
                "%s: %d is more than %d bits longer than the %s pod range %s (kubeadm/KCM limit); "
                "use a smaller pod range (/%d or longer) or %s <= %d"
                % (opt, np_, NODE_MASK_MAX_DIFF, LABEL[family], pod, np_ - NODE_MASK_MAX_DIFF, opt,
                   pod.prefix + NODE_MASK_MAX_DIFF))
            continue
        max_nodes = 1 << (np_ - pod.prefix)
        if run.expected is not None and max_nodes < run.expected:
            run.problems.append("pod_cidrs: %s with /%d node subnets holds %d nodes, below expected_nodes %d "
                                "(use a /%d pod range or a longer %s)"
                                % (pod, np_, max_nodes, run.expected, np_ - _needed_bits(run.expected), opt))
        run.per_family[family] = {"max_nodes": max_nodes, "pods_per_node": _usable(family, np_)}


def _check_services(run):
    for family in run.svc_order:
        svc = run.services[family]
        if BITS[family] - svc.prefix > SERVICE_MAX_BITS:
            run.problems.append("service_cidrs: %s is wider than /%d (kube-apiserver allows at most %d host bits)"
                                % (svc, BITS[family] - SERVICE_MAX_BITS, SERVICE_MAX_BITS))
        if svc.size() < SERVICE_MIN_ADDRESSES + 1:
            run.problems.append("service_cidrs: %s is too small: it must hold at least %d addresses (DNS is the "
                                "%dth)" % (svc, SERVICE_MIN_ADDRESSES, DNS_OFFSET))


STATE_HINT = " (kept in the state file: name the node in release_nodes, or remove the file, to plan it afresh)"


def _check_assignments(run):
    """Kept assignments lie in the pod range, have the node prefix, and are not shared."""
    owner_of_subnet = {}
    for name in sorted(run.assignments):
        label = run.assignment_source.get(name, "assignments")
        hint = STATE_HINT if label == "state_file" else ""
        for family, net in sorted(run.assignments[name].items()):
            pod = run.pods.get(family)
            if pod is None:
                run.problems.append("%s: node %s has an %s subnet %s but pod_cidrs has no %s range%s"
                                    % (label, name, LABEL[family], net, LABEL[family], hint))
            elif not pod.contains(net):
                run.problems.append("%s: node %s subnet %s is outside the pod range %s%s"
                                    % (label, name, net, pod, hint))
            elif run.node_prefix[family] is not None and net.prefix != run.node_prefix[family]:
                run.problems.append("%s: node %s subnet %s is not a /%d (node_prefix%s)%s"
                                    % (label, name, net, run.node_prefix[family], "" if family == "ipv4" else "_v6",
                                       hint))
    for name in sorted(run.assignments):
        for net in run.assignments[name].values():
            if net.key in owner_of_subnet:
                run.problems.append("%s: nodes %s and %s share the subnet %s"
                                    % (run.assignment_source.get(name, "assignments"), owner_of_subnet[net.key],
                                       name, net))
            else:
                owner_of_subnet[net.key] = name


# --- step 4: assign node subnets -----------------------------------------------------------------------------------

def _assign(run):
    """Node subnets: kept assignments never move; new nodes get the lowest free subnets, in ``nodes`` order.

    Assigned nodes that are not in ``nodes`` keep their subnets too (--limit runs, nodes outside the play).
    """
    in_inventory = set(n.name for n in run.nodes)
    ordered = [n.name for n in run.nodes] + [n for n in sorted(run.assignments) if n not in in_inventory]
    for family in run.pod_order:
        pod, np_ = run.pods[family], run.node_prefix[family]
        step_bits = BITS[family] - np_
        used = {}
        for name in sorted(run.assignments):
            net = run.assignments[name].get(family)
            if net is not None:
                used[(net.start - pod.start) >> step_bits] = name
        cursor = 0
        limit = 1 << (np_ - pod.prefix)
        for name in ordered:
            have = run.assignments.get(name, {}).get(family)
            if have is None:
                while cursor in used:
                    cursor += 1
                if cursor >= limit:
                    run.problems.append("pod_cidrs: %s has no free /%d subnet left for node %s" % (pod, np_, name))
                    break
                used[cursor] = name
                have = Net(family, pod.start + (cursor << step_bits), np_)
            run.node_subnets.setdefault(name, {})[family] = str(have)


# --- step 5: MTU ---------------------------------------------------------------------------------------------------

def _underlay_mtu(run):
    """The smallest known node MTU (DEFAULT_MTU when none is known), with warnings for missing or differing ones."""
    mtus = [(n.mtu, n.name) for n in run.nodes if n.mtu is not None]
    missing = [n.name for n in run.nodes if n.mtu is None]
    if missing:
        run.warnings.append("no MTU known for %d node(s) (%s); they are not part of the MTU calculation"
                            % (len(missing), ", ".join(missing[:LIST_LIMIT])
                               + (" ..." if len(missing) > LIST_LIMIT else "")))
    run.mtus_differ = False
    if not mtus:
        run.warnings.append("no node MTU known; assuming an underlay MTU of %d" % DEFAULT_MTU)
        return DEFAULT_MTU
    underlay, lowest = min(mtus)
    highest = max(mtus)
    if underlay != highest[0]:
        run.mtus_differ = True
        run.warnings.append("node MTUs differ (%d on %s .. %d on %s); using the smallest, %d"
                            % (underlay, lowest, highest[0], highest[1], underlay))
    return underlay


def _mtu(run):
    """Pod MTU = underlay MTU - flannel's overhead for the backend (the largest over the pod families)."""
    run.underlay = _underlay_mtu(run)
    overhead = max(BACKEND_OVERHEAD[run.backend][f] for f in run.pod_order)
    run.veth_mtu = run.underlay - overhead
    if run.veth_mtu < 1280 and "ipv6" in run.pod_order:
        run.problems.append("mtu: underlay MTU %d minus %s overhead %d = %d is below the IPv6 minimum 1280"
                            % (run.underlay, run.backend, overhead, run.veth_mtu))
    elif run.veth_mtu < 576:
        run.problems.append("mtu: underlay MTU %d minus %s overhead %d = %d is too small"
                            % (run.underlay, run.backend, overhead, run.veth_mtu))


# --- step 6: output ------------------------------------------------------------------------------------------------

def _net_conf(run):
    """flannel's net-conf.json; ``Backend.MTU`` (the underlay) only when node MTUs differ."""
    net_conf = {}
    if "ipv4" in run.pods:
        net_conf["Network"] = str(run.pods["ipv4"])
    else:
        net_conf["EnableIPv4"] = False
    if "ipv6" in run.pods:
        net_conf["EnableIPv6"] = True
        net_conf["IPv6Network"] = str(run.pods["ipv6"])
    net_conf["Backend"] = {"Type": run.backend}
    if run.backend != "host-gw" and run.mtus_differ:
        net_conf["Backend"]["MTU"] = run.underlay
    return net_conf


def _output_warnings(run):
    for label, net in run.cluster:
        if not ipaddress.ip_network(str(net)).is_private:
            run.warnings.append("%s %s is not a private range" % (label, net))
    if run.pod_order and run.svc_order and run.pod_order[0] != run.svc_order[0]:
        run.warnings.append("pod_cidrs and service_cidrs start with different IP families (%s vs %s)"
                            % (LABEL[run.pod_order[0]], LABEL[run.svc_order[0]]))


def _output(run):
    _output_warnings(run)
    pods, services, node_prefix = run.pods, run.services, run.node_prefix
    pod_list = [str(pods[f]) for f in run.pod_order]
    svc_list = [str(services[f]) for f in run.svc_order]

    def fam(d, family):
        return str(d[family]) if family in d else None

    first_svc = services[run.svc_order[0]] if run.svc_order else None
    return {
        "pod_cidrs": pod_list,
        "service_cidrs": svc_list,
        "node_prefix": node_prefix["ipv4"],
        "node_prefix_v6": node_prefix["ipv6"],
        "max_nodes": min(v["max_nodes"] for v in run.per_family.values()),
        "pods_per_node": min(v["pods_per_node"] for v in run.per_family.values()),
        "max_pods": run.max_pods,
        "expected_nodes": run.expected,
        "families": dict((f, {
            "pod_cidr": fam(pods, f), "service_cidr": fam(services, f),
            "node_prefix": node_prefix[f],
            "max_nodes": run.per_family[f]["max_nodes"], "pods_per_node": run.per_family[f]["pods_per_node"],
            "dns_ip": services[f].address(DNS_OFFSET) if f in services else None,
            "api_service_ip": services[f].address(1) if f in services else None,
        }) for f in run.pod_order),
        "dns_ip": first_svc.address(DNS_OFFSET) if first_svc else None,
        "api_service_ip": first_svc.address(1) if first_svc else None,
        "nodes": run.node_subnets,
        "node_subnets_source": "planned",
        "backend": run.backend,
        "underlay_mtu": run.underlay,
        "mtu": run.veth_mtu,
        "veth_mtu": run.veth_mtu,
        "flannel_net_conf": _net_conf(run),
        "calico_ipv4pool_cidr": fam(pods, "ipv4"),
        "calico_ipv6pool_cidr": fam(pods, "ipv6"),
        "kubeadm": {"podSubnet": ",".join(pod_list), "serviceSubnet": ",".join(svc_list)},
        "kubespray": {
            "kube_pods_subnet": fam(pods, "ipv4"),
            "kube_service_addresses": fam(services, "ipv4"),
            "kube_network_node_prefix": node_prefix["ipv4"],
            "kube_pods_subnet_ipv6": fam(pods, "ipv6"),
            "kube_service_addresses_ipv6": fam(services, "ipv6"),
            "kube_network_node_prefix_ipv6": node_prefix["ipv6"],
            "ipv4_stack": "ipv4" in pods,
            "ipv6_stack": "ipv6" in pods,
        },
        "warnings": run.warnings,
    }
