#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: canal_node
short_description: Prepare a node's host for Canal (forwarding, kernel modules, NetworkManager, firewall, CNI dirs)
version_added: 0.1.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - Does, in one task, everything Canal needs from the host outside Kubernetes, and nothing when it is all in place.
  - Forwarding sysctls (C(net.ipv4.ip_forward=1), plus C(net.ipv6.conf.all.forwarding=1) when O(ipv6=true), plus
    O(extra_sysctls)) are written to O(sysctl_file) and set in the running kernel.
  - Kernel modules (C(vxlan), C(wireguard) or C(ipip) by O(backend), C(br_netfilter), plus O(extra_modules)) are listed in
    O(modules_load_file) and loaded with C(modprobe) when not loaded yet. Where a module cannot be loaded (inside a
    container the host's kernel is shared and its modules are usually absent) the module warns and carries on.
  - When NetworkManager is installed, O(networkmanager_file) tells it to leave C(flannel*), C(cali*), C(tunl*),
    C(vxlan*) and Calico's other interfaces alone, and the configuration is reloaded.
  - With O(checksum_offload_rule=true), a udev rule turns tx checksum offload off on C(flannel.1) whenever it
    appears (flannel-io/flannel#1279); with V(false) that rule is removed if this module wrote it.
  - When a host firewall is active (firewalld, ufw, or nftables with an input chain whose policy is C(drop)), the
    backend's port (8472/udp for vxlan, 51820/udp and for IPv6 51821/udp for wireguard, none for host-gw) is opened.
  - O(cni_conf_dir) and O(cni_bin_dir) are created; with O(cni_plugin_link_from), each of O(cni_plugins) missing from
    O(cni_bin_dir) is linked from that directory (Debian's C(containernetworking-plugins) installs to
    C(/usr/lib/cni)). RV(cni_plugins_missing) lists the plugins that are still not usable, so a later task can
    install them.
  - Files are written atomically; check mode changes nothing and reports what would change; diff mode shows every
    file and setting before and after.
options:
  backend:
    description:
      - The flannel backend (the plan's C(flannel_net_conf.Backend.Type)).
      - V(ipip) loads C(ipip) and opens no port; it needs IP protocol 4 between the nodes, which this module does not
        open in a host firewall (it warns instead).
    type: str
    choices: [vxlan, host-gw, wireguard, ipip]
    default: vxlan
  ipv6:
    description: The cluster has an IPv6 pod range (dual-stack or IPv6 only); enables IPv6 forwarding.
    type: bool
    default: false
  extra_sysctls:
    description: "More sysctls to persist and set, as C({key: value}); they override the forwarding defaults."
    type: dict
    default: {}
  sysctl_file:
    description: The sysctl.d file this module owns.
    type: path
    default: /etc/sysctl.d/90-kubelayer-canal.conf
  extra_modules:
    description: More kernel modules to load and persist.
    type: list
    elements: str
    default: []
  load_modules:
    description: Load missing modules now (they are always persisted in O(modules_load_file)).
    type: bool
    default: true
  modules_load_file:
    description: The modules-load.d file this module owns.
    type: path
    default: /etc/modules-load.d/kubelayer-canal.conf
  networkmanager_file:
    description: The NetworkManager drop-in written when NetworkManager is installed.
    type: path
    default: /etc/NetworkManager/conf.d/kubelayer-canal.conf
  checksum_offload_rule:
    description: Install the udev rule that turns off tx checksum offload on C(flannel.1).
    type: bool
    default: false
  udev_rule_file:
    description: The udev rule file this module owns.
    type: path
    default: /etc/udev/rules.d/90-kubelayer-flannel.rules
  firewall:
    description: Open the backend's port when a host firewall (firewalld, ufw, nftables) is active.
    type: bool
    default: true
  vxlan_port:
    description: The VXLAN UDP port (flannel's C(Backend.Port); 0 or unset means flannel's Linux default 8472).
    type: int
    default: 8472
  wireguard_port:
    description: The WireGuard UDP port (C(Backend.ListenPort)).
    type: int
    default: 51820
  wireguard_port_v6:
    description: The IPv6 WireGuard UDP port (C(Backend.ListenPortV6)), opened when O(ipv6=true).
    type: int
    default: 51821
  cni_conf_dir:
    description: The CNI configuration directory (the Canal installer writes C(10-canal.conflist) there).
    type: path
    default: /etc/cni/net.d
  cni_bin_dir:
    description: The CNI plugin directory the container runtime searches.
    type: path
    default: /opt/cni/bin
  cni_plugins:
    description: Plugin binaries Canal's CNI configuration needs on the host.
    type: list
    elements: str
    default: [portmap, bandwidth, host-local]
  cni_plugin_link_from:
    description:
      - Directory holding packaged plugin binaries. Each plugin absent from O(cni_bin_dir) is symlinked from there;
        a real file in O(cni_bin_dir) is never replaced. A link may point at a binary the package installs later in
        the same play (Debian's and Fedora's C(containernetworking-plugins)). Unset, nothing is linked.
      - V(auto) is C(/usr/lib/cni) where apt is the package manager and C(/usr/libexec/cni) where dnf is.
    type: str
extends_documentation_fragment:
  - kubelayer.runtime.attributes
notes:
  - Runs on the node with the Python standard library only.
  - nftables is handled only when neither firewalld nor ufw is active (they own their chains).
  - nftables rules are added to the running ruleset only (with the comment C(kubelayer-canal <port>/<proto>)); the
    module warns that C(/etc/nftables.conf) must carry them to survive a reboot. firewalld gets the port in the
    runtime and the permanent configuration, ufw a persistent rule.
seealso:
  - module: kubelayer.runtime.canal_plan
  - module: kubelayer.runtime.canal_manifest
"""

EXAMPLES = r"""
- name: Prepare the node for Canal (vxlan, IPv4)
  kubelayer.runtime.canal_node:
    backend: vxlan
    cni_plugin_link_from: /usr/lib/cni
  register: canal_node

- name: Install the packaged CNI plugins when some are missing
  ansible.builtin.apt:
    name: containernetworking-plugins
  when: canal_node.cni_plugins_missing | length > 0

- name: Dual-stack wireguard, with the flannel.1 checksum rule and conntrack sized for busy nodes
  kubelayer.runtime.canal_node:
    backend: wireguard
    ipv6: true
    checksum_offload_rule: true
    extra_sysctls:
      net.netfilter.nf_conntrack_max: 1000000
"""

RETURN = r"""
sysctls:
  description: The sysctls persisted and set.
  returned: success
  type: dict
  sample: {net.ipv4.ip_forward: "1"}
modules:
  description: Kernel modules persisted, with whether each is loaded now.
  returned: success
  type: dict
  sample: {vxlan: true, br_netfilter: false}
networkmanager:
  description: Whether NetworkManager is installed (and so got O(networkmanager_file)).
  returned: success
  type: bool
  sample: false
in_container:
  description: Whether the node is a container (module loading and some sysctls are then up to the host).
  returned: success
  type: bool
  sample: true
firewall:
  description: The active host firewalls found and the ports opened in each by this run.
  returned: success
  type: dict
  sample: {active: [ufw], opened: ["ufw 8472/udp"]}
cni_plugins_missing:
  description: Plugins of O(cni_plugins) that are not an executable file in O(cni_bin_dir) (also after linking).
  returned: success
  type: list
  elements: str
  sample: [portmap]
package_manager:
  description: The node's package manager (C(apt), C(dnf)) or null, for the task that installs missing plugins.
  returned: success
  type: str
  sample: apt
files:
  description: Files this run wrote or removed (or would, in check mode).
  returned: success
  type: list
  elements: str
  sample: [/etc/sysctl.d/90-kubelayer-canal.conf]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import files as host_files
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import kernel
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail_if
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni import node

_read = host_files.read_text
# ufw, firewalld and nft are parsed: their output must not be translated
_C_LOCALE = {"LC_ALL": "C", "LANG": "C"}


class CanalNode(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.changed = False
        self.diffs = []
        self.files = []
        self.warnings = []
        self.host = host_files.HostFiles(module.check_mode, prefix=".kubelayer-canal.")
        self.touched = set()

    def record(self, header, before, after):
        self.changed = True
        self.diffs.append({"before_header": header, "after_header": header, "before": before, "after": after})

    # -- files: recorded first, checked, then written in one go ----------------------------------------------
    def plan_file(self, option, content):
        """``content`` None: absent (removed only when it is a regular file or a link)."""
        path = self.params[option]
        if content is None:
            change = self.host.absent(option, path)
        else:
            change = self.host.file(option, path, to_bytes(content), 0o644)
        if change is not None:
            self.files.append(path)
            self.touched.add(option)

    def plan_cni(self):
        p = self.params
        for option in node.DIR_OPTIONS:
            self.host.directory(option, p[option])
        source = p["cni_plugin_link_from"]
        for plugin in p["cni_plugins"] if source else []:
            target = os.path.join(p["cni_bin_dir"], plugin)
            if self.host.link("cni_plugins", target, os.path.join(source, plugin)) is not None:
                self.files.append(target)

    def commit(self):
        diffs = host_files.commit_or_fail(self.module, "canal_node", self.host, files=[])
        self.changed = self.changed or bool(diffs)
        self.diffs.extend(diffs)

    def run(self, argv):
        rc, out, err = self.module.run_command(argv, environ_update=_C_LOCALE)
        return rc, out or "", (err or out or "").strip()

    # -- kernel ------------------------------------------------------------------------------------
    def apply_sysctls(self, settings):
        for key, value in settings:
            path = kernel.sysctl_path(key)
            current = (_read(path) or "").strip()
            if current == value:
                continue
            if not os.path.exists(path):
                self.warnings.append("sysctl %s does not exist in this kernel now; %s sets it at the next boot"
                                     % (key, self.params["sysctl_file"]))
                continue
            if self.check:
                self.record("sysctl " + key, current + "\n", value + "\n")
                continue
            try:
                with open(path, "w") as handle:
                    handle.write(value + "\n")
            except (IOError, OSError) as exc:
                self.warnings.append("sysctl %s could not be set now (%s); %s sets it at the next boot"
                                     % (key, exc, self.params["sysctl_file"]))
                continue
            self.record("sysctl " + key, current + "\n", value + "\n")

    def load_modules(self, modules, in_container):
        state = {}
        modprobe = self.module.get_bin_path("modprobe")
        for name in modules:
            loaded = os.path.isdir(os.path.join("/sys/module", name))
            if not loaded and self.params["load_modules"]:
                if modprobe is None:
                    rc, err = 1, "modprobe not found"
                else:
                    rc, _out, err = self.run([modprobe] + (["--dry-run"] if self.check else []) + [name])
                if rc == 0:
                    self.record("kernel module " + name, "not loaded\n", "loaded\n")
                    loaded = not self.check
                else:
                    self.warnings.append(
                        "kernel module %s cannot be loaded (%s)%s; it is listed in %s for the next boot"
                        % (name, err or "rc=%d" % rc,
                           ": this node is a container, so the host must load it" if in_container else "",
                           self.params["modules_load_file"]))
            state[name] = loaded
        return state

    # -- NetworkManager, udev --------------------------------------------------------------------
    def nm_installed(self):
        return bool(self.module.get_bin_path("NetworkManager", opt_dirs=["/usr/sbin"])) or os.path.isdir(
            "/etc/NetworkManager")

    def plan_udev(self):
        path = self.params["udev_rule_file"]
        if self.params["checksum_offload_rule"]:
            ethtool = self.module.get_bin_path("ethtool", opt_dirs=["/usr/sbin", "/sbin"])
            if not ethtool:
                self.warnings.append("ethtool is not installed; the udev rule in %s needs it" % path)
            self.plan_file("udev_rule_file", node.render_udev(ethtool=ethtool or "/usr/sbin/ethtool"))
        elif (_read(path) or "").startswith(node.HEADER):
            # remove only a rule this module wrote
            self.plan_file("udev_rule_file", None)

    def reload(self, option, argv, what):
        if option not in self.touched or self.check or not argv[0]:
            return
        rc, _out, err = self.run(argv)
        if rc != 0:
            self.warnings.append("%s (%s); %s" % (what, err, self.params[option]))

    # -- firewalls ---------------------------------------------------------------------------------
    def firewall(self, ports):
        result = {"active": [], "opened": []}
        if not self.params["firewall"] or not ports:
            return result
        cmd = self.module.get_bin_path("firewall-cmd")
        if cmd and self.run([cmd, "--state"])[0] == 0:
            result["active"].append("firewalld")
            for port, proto in ports:
                spec = "%d/%s" % (port, proto)
                for scope in ([], ["--permanent"]):
                    if self.run([cmd] + scope + ["--query-port=" + spec])[0] != 0:
                        self.open_port("firewalld%s %s" % (" (permanent)" if scope else "", spec),
                                       [cmd] + scope + ["--add-port=" + spec], result)
        ufw = self.module.get_bin_path("ufw", opt_dirs=["/usr/sbin"])
        if ufw:
            rc, out, _err = self.run([ufw, "status"])
            if rc == 0 and node.parse_ufw_status(out)[0]:
                result["active"].append("ufw")
                for port, proto in node.ufw_missing(out, ports):
                    spec = "%d/%s" % (port, proto)
                    self.open_port("ufw " + spec, [ufw, "allow", spec, "comment", node.RULE_COMMENT], result)
        nft = self.module.get_bin_path("nft", opt_dirs=["/usr/sbin", "/sbin"])
        # firewalld and ufw keep their own nftables/iptables chains: only a bare nftables ruleset is edited
        if nft and not result["active"]:
            rc, out, _err = self.run([nft, "-j", "list", "ruleset"])
            missing = node.nft_missing(out, ports) if rc == 0 else []
            if missing:
                result["active"].append("nftables")
                for family, table, chain, port, proto in missing:
                    self.open_port("nftables %s %s %s %d/%s" % (family, table, chain, port, proto),
                                   node.nft_insert_argv(nft, family, table, chain, port, proto), result)
                self.warnings.append("opened the backend port in the running nftables ruleset only; add the same "
                                     "rule to /etc/nftables.conf to keep it after a reboot")
        return result

    def open_port(self, label, argv, result):
        self.record("firewall " + label, "closed\n", "open\n")
        result["opened"].append(label)
        if not self.check:
            rc, _out, err = self.run(argv)
            if rc != 0:
                self.module.fail_json(msg="could not open %s: %s" % (label, err), cmd=argv)

    # -- CNI ---------------------------------------------------------------------------------------
    def cni_missing(self):
        p = self.params
        return [plugin for plugin in p["cni_plugins"]
                if not (os.path.isfile(os.path.join(p["cni_bin_dir"], plugin))
                        and os.access(os.path.join(p["cni_bin_dir"], plugin), os.X_OK))]


ARGUMENT_SPEC = dict(
    backend=dict(type="str", choices=list(node.BACKENDS), default="vxlan"),
    ipv6=dict(type="bool", default=False),
    extra_sysctls=dict(type="dict", default={}),
    sysctl_file=dict(type="path", default="/etc/sysctl.d/90-kubelayer-canal.conf"),
    extra_modules=dict(type="list", elements="str", default=[]),
    load_modules=dict(type="bool", default=True),
    modules_load_file=dict(type="path", default="/etc/modules-load.d/kubelayer-canal.conf"),
    networkmanager_file=dict(type="path", default="/etc/NetworkManager/conf.d/kubelayer-canal.conf"),
    checksum_offload_rule=dict(type="bool", default=False),
    udev_rule_file=dict(type="path", default="/etc/udev/rules.d/90-kubelayer-flannel.rules"),
    firewall=dict(type="bool", default=True),
    vxlan_port=dict(type="int", default=8472),
    wireguard_port=dict(type="int", default=51820),
    wireguard_port_v6=dict(type="int", default=51821),
    cni_conf_dir=dict(type="path", default="/etc/cni/net.d"),
    cni_bin_dir=dict(type="path", default="/opt/cni/bin"),
    cni_plugins=dict(type="list", elements="str", default=["portmap", "bandwidth", "host-local"]),
    cni_plugin_link_from=dict(type="str"),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    p = module.params
    if p["vxlan_port"] == 0:
        p["vxlan_port"] = node.DEFAULT_PORTS["vxlan"]
    fail_if(module, "canal_node", node.check_params(p))

    package_manager = "apt" if module.get_bin_path("apt-get") else ("dnf" if module.get_bin_path("dnf") else None)
    if p["cni_plugin_link_from"] == "auto":
        p["cni_plugin_link_from"] = {"apt": "/usr/lib/cni", "dnf": "/usr/libexec/cni"}.get(package_manager)
    worker = CanalNode(module)
    container = kernel.in_container()
    settings = node.sysctl_settings(p["ipv6"], p["extra_sysctls"])
    modules = node.kernel_modules(p["backend"], p["extra_modules"])
    worker.plan_file("sysctl_file", node.render_sysctl(settings))
    worker.plan_file("modules_load_file", node.render_modules(modules))
    nm = worker.nm_installed()
    if nm:
        worker.plan_file("networkmanager_file", node.render_networkmanager())
    worker.plan_udev()
    worker.plan_cni()
    worker.commit()
    worker.reload("networkmanager_file", [module.get_bin_path("nmcli"), "general", "reload", "conf"],
                  "NetworkManager did not reload its configuration; it reads this file when it next starts")
    worker.reload("udev_rule_file", [module.get_bin_path("udevadm"), "control", "--reload-rules"],
                  "udev did not reload its rules; they apply when udev next starts")
    worker.apply_sysctls(settings)
    module_state = worker.load_modules(modules, container)
    ports = node.backend_ports(p["backend"], p["ipv6"], p["vxlan_port"], p["wireguard_port"], p["wireguard_port_v6"])
    firewall = worker.firewall(ports)
    if p["backend"] == "ipip" and p["firewall"]:
        worker.warnings.append("backend ipip: IP protocol 4 between the nodes is not opened by this module; allow it "
                               "in the host firewall if one is active")
    missing = worker.cni_missing()

    for warning in worker.warnings:
        module.warn(warning)
    result = dict(changed=worker.changed, sysctls=dict(settings), modules=module_state, networkmanager=nm,
                  in_container=container, firewall=firewall, cni_plugins_missing=missing, files=worker.files,
                  package_manager=package_manager)
    if module._diff:
        result["diff"] = worker.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
