# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node-side Canal host preparation: what the files say and which ports to open (pure logic).

Used by the ``kubelayer.runtime.canal_node`` module on every node, so stdlib only and
Python 3.8 syntax. Nothing here touches the system: the module reads the world, calls these
functions and writes the results.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import kernel, validate
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.backends import BACKENDS  # noqa: F401

BACKEND_MODULES = {"vxlan": ["vxlan"], "wireguard": ["wireguard"], "host-gw": [], "ipip": ["ipip"]}
BASE_MODULES = ["br_netfilter"]
# flannel (Linux): vxlan 8472/udp unless Backend.Port; wireguard ListenPort 51820, ListenPortV6 51821
DEFAULT_PORTS = {"vxlan": 8472, "wireguard": 51820, "wireguard_v6": 51821}
# interfaces Canal creates (flannel.1, flannel-v6.1, flannel-wg, cali*...); RKE2's rke2-canal.conf list
NM_UNMANAGED = ["flannel*", "cali*", "tunl*", "vxlan.calico", "vxlan-v6.calico", "wireguard.cali", "wg-v6.cali",
                "vxlan*"]
HEADER = "# Managed by kubelayer.runtime (canal_node); local changes are overwritten.\n"
RULE_COMMENT = "kubelayer-canal"


def sysctl_settings(ipv6=False, extra=None):
    """Ordered ``[(key, value)]``: IPv4 forwarding, IPv6 forwarding when asked, then ``extra`` (checked values)."""
    settings = [("net.ipv4.ip_forward", "1")]
    if ipv6:
        settings.append(("net.ipv6.conf.all.forwarding", "1"))
    for key in sorted(extra or {}):
        value = validate.check_sysctl_value("extra_sysctls.%s" % key, extra[key], [])
        settings = [(k, v) for k, v in settings if k != key] + [(key, value)]
    return settings


def render_sysctl(settings):
    return kernel.render_sysctl(HEADER, settings)


def kernel_modules(backend, extra=None):
    """Modules to load and persist: the backend's, ``br_netfilter``, then ``extra`` (no duplicates)."""
    out = []
    for name in BACKEND_MODULES.get(backend, []) + BASE_MODULES + list(extra or []):
        if name not in out:
            out.append(name)
    return out


def render_modules(modules):
    return kernel.render_modules_load(HEADER, modules)


def render_networkmanager(patterns=None):
    patterns = NM_UNMANAGED if patterns is None else patterns
    return (HEADER + "# Canal's interfaces belong to flannel and Calico, not to NetworkManager.\n"
            "[keyfile]\nunmanaged-devices=%s\n" % ";".join("interface-name:%s" % p for p in patterns))


def render_udev(interface="flannel.1", ethtool="/usr/sbin/ethtool"):
    # flannel-io/flannel#1279, #2152: broken VXLAN tx checksum offload on some NICs/kernels
    return (HEADER + 'SUBSYSTEM=="net", ACTION=="add|change|move", ENV{INTERFACE}=="%s", '
            'RUN+="%s -K %s tx-checksum-ip-generic off"\n' % (interface, ethtool, interface))


def backend_ports(backend, ipv6=False, vxlan_port=None, wireguard_port=None, wireguard_port_v6=None):
    """``[(port, proto)]`` the backend needs open between nodes (0/None: flannel's default)."""
    if backend == "vxlan":
        return [(vxlan_port or DEFAULT_PORTS["vxlan"], "udp")]
    if backend == "wireguard":
        ports = [(wireguard_port or DEFAULT_PORTS["wireguard"], "udp")]
        if ipv6:
            ports.append((wireguard_port_v6 or DEFAULT_PORTS["wireguard_v6"], "udp"))
        return ports
    return []


FILE_OPTIONS = ("sysctl_file", "modules_load_file", "networkmanager_file", "udev_rule_file")
DIR_OPTIONS = ("cni_conf_dir", "cni_bin_dir")


def check_params(params):
    """Every problem in the module parameters (empty list: fine). Normalises the directory options in place."""
    problems = []
    if params.get("backend") not in BACKENDS:
        problems.append("backend: %r is not one of %s" % (params.get("backend"), ", ".join(BACKENDS)))
    extra = params.get("extra_sysctls") or {}
    for key in sorted(extra, key=str):
        if validate.check_sysctl_key("extra_sysctls", key, problems) is not None:
            validate.check_sysctl_value("extra_sysctls.%s" % key, extra[key], problems)
    modules = params.get("extra_modules") or []
    for index, name in enumerate(modules):
        validate.check_kernel_module("extra_modules[%d]" % index, name, problems)
    validate.check_unique("extra_modules", modules, problems)
    for opt in ("vxlan_port", "wireguard_port", "wireguard_port_v6"):
        if params.get(opt) is not None:
            validate.check_int(opt, params[opt], problems, 1, 65535)
    plugins = params.get("cni_plugins") or []
    for index, plugin in enumerate(plugins):
        validate.check_cni_plugin("cni_plugins[%d]" % index, plugin, problems)
    validate.check_unique("cni_plugins", plugins, problems)
    problems.extend(_check_paths(params))
    return problems


def _check_paths(params):
    problems = []
    for opt in FILE_OPTIONS:
        if opt in params:
            params[opt] = validate.check_path(opt, params[opt], problems)
    for opt in DIR_OPTIONS + ("cni_plugin_link_from",):
        value = params.get(opt)
        if value is None and opt not in DIR_OPTIONS or value == "auto" and opt == "cni_plugin_link_from":
            continue
        if opt in params:
            params[opt] = validate.check_path(opt, value, problems, directory=True)
    for opt in ("sysctl_file", "modules_load_file"):
        if isinstance(params.get(opt), str) and not params[opt].endswith(".conf"):
            problems.append("%s: %s does not end in .conf, so systemd would never read it at boot" % (opt, params[opt]))
    validate.check_distinct(dict((opt, params.get(opt)) for opt in FILE_OPTIONS + DIR_OPTIONS), problems)
    return problems


# --- firewalls -------------------------------------------------------------------------------

def parse_ufw_status(text):
    """``(active, {"8472/udp", ...})`` from ``ufw status`` output (IPv4/IPv6 rules alike)."""
    active = False
    allowed = set()
    for line in (text or "").splitlines():
        line = line.strip()
        if line.lower().startswith("status:"):
            active = line.split(":", 1)[1].strip().lower() == "active"
            continue
        parts = [p for p in line.split() if p.lower() != "(v6)"]
        if len(parts) >= 2 and parts[1].upper() == "ALLOW" and "/" in parts[0]:
            allowed.add(parts[0].lower())
    return active, allowed


def ufw_missing(text, ports):
    active, allowed = parse_ufw_status(text)
    if not active:
        return []
    return [(p, proto) for p, proto in ports if "%d/%s" % (p, proto) not in allowed]


def _rule_matches(rule, port, proto):
    """A rule that accepts ``proto dport port`` (ours, by comment, or anybody's exact match)."""
    if rule.get("comment") == "%s %d/%s" % (RULE_COMMENT, port, proto):
        return True
    exprs = rule.get("expr") or []
    has_port = False
    accepts = False
    for expr in exprs:
        match = expr.get("match") if isinstance(expr, dict) else None
        if match:
            left = match.get("left") or {}
            payload = left.get("payload") if isinstance(left, dict) else None
            if (payload and payload.get("protocol") == proto and payload.get("field") == "dport"
                    and match.get("right") == port and match.get("op") in ("==", "in")):
                has_port = True
        if isinstance(expr, dict) and "accept" in expr:
            accepts = True
    return has_port and accepts and len(exprs) == 2


def nft_missing(ruleset_json, ports):
    """Input filter base chains with a ``drop`` policy that do not accept the ports yet.

    ``ruleset_json``: the text of ``nft -j list ruleset``. Returns
    ``[(family, table, chain, port, proto)]``; an empty ruleset or no dropping input chain means
    nothing to open (a chain with ``policy accept`` lets the traffic through).
    """
    try:
        items = json.loads(ruleset_json or "{}").get("nftables") or []
    except ValueError:
        return []
    chains = []
    rules = {}
    for item in items:
        if "chain" in item:
            c = item["chain"]
            if c.get("hook") == "input" and c.get("type", "filter") == "filter" and c.get("policy") == "drop":
                chains.append((c.get("family"), c.get("table"), c.get("name")))
        elif "rule" in item:
            r = item["rule"]
            rules.setdefault((r.get("family"), r.get("table"), r.get("chain")), []).append(r)
    out = []
    for chain in chains:
        for port, proto in ports:
            if not any(_rule_matches(r, port, proto) for r in rules.get(chain, [])):
                out.append(chain + (port, proto))
    return out


def nft_insert_argv(nft, family, table, chain, port, proto):
    """``nft insert rule`` argv that accepts the port at the head of the chain, with our comment."""
    return [nft, "insert", "rule", family, table, chain, proto, "dport", str(port), "accept",
            "comment", '"%s %d/%s"' % (RULE_COMMENT, port, proto)]
