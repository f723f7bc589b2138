#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: canal_plan
short_description: Plan and check Canal pod/service CIDRs, node subnets and MTU for a whole cluster
version_added: 0.1.0
description:
  - Runs once, on the controller (delegated to C(localhost) with C(run_once)), over the network facts of every
    node (from M(kubelayer.runtime.node_network_facts)) and returns a complete, checked address plan (pod and
    service ranges, per-node pod subnets, capacity, the cluster DNS address, the pod MTU, the flannel
    C(net-conf.json), and the matching kubeadm and kubespray settings).
  - Refuses unsafe input with a single failure message listing every problem (also returned as RV(problems)),
    including any overlap, in either direction, between pod ranges, service ranges, node networks, node routes
    other than the default route, and O(reserved); see docs/canal-planning.md for every rule.
  - Types are checked by the argument spec; every planning rule (ranges, overlaps, capacity, MTU) is checked by the
    planner, which reports all problems at once.
  - Uses only the Python standard library (C(ipaddress)). It changes nothing but O(state_file), when given.
author: kubelayer.runtime developers (@kubelayer)
options:
  pod_cidrs:
    description:
      - Cluster pod ranges (C(--cluster-cidr), flannel C(Network)/C(IPv6Network)), at most one per IP family,
        primary family first. A comma-separated string is split into the list.
      - V(auto) picks the first candidate range that passes every check (IPv4 pools in order
        C(10.244.0.0/16), C(10.42.0.0/16), pieces of C(172.16.0.0/12), pieces of C(100.64.0.0/10), pieces of
        C(10.0.0.0/8); IPv6 C(fd10:244::/48) and further ULA pieces), sized for O(expected_nodes) (at least a /16
        for IPv4, O(node_prefix_v6) - 16 for IPv6).
      - A bare V(auto) takes the families of O(service_cidrs) (IPv4 if that is V(auto) too); list entries
        V(auto4) and V(auto6) ask for one family each, for example V([auto4, auto6]) for dual-stack.
    type: list
    elements: str
    default: [auto]
  service_cidrs:
    description:
      - Service ranges (C(--service-cluster-ip-range)), at most one per IP family, primary family first.
        IPv4 /12 to /28, IPv6 /108 or smaller; each must hold at least 10 addresses.
      - V(auto) picks, for every pod family, the first free candidate (IPv4 C(10.96.0.0/12), C(10.43.0.0/16),
        C(10.233.0.0/18), /16 pieces of C(172.16.0.0/12), C(100.64.0.0/10), C(10.0.0.0/8); IPv6
        C(fd10:96::/112), C(fd10:43::/112), further ULA pieces).
    type: list
    elements: str
    default: [auto]
  node_prefix:
    description:
      - Prefix length of each node's IPv4 pod subnet (KCM C(--node-cidr-mask-size-ipv4)), 0..32.
      - The range, like every planning rule, is checked by the planner, which lists all problems at once.
    type: int
    default: 24
  node_prefix_v6:
    description: Prefix length of each node's IPv6 pod subnet (KCM C(--node-cidr-mask-size-ipv6)), 0..128.
    type: int
    default: 64
  max_pods:
    description: Pods per node (kubelet C(maxPods)); every node subnet must have at least this many usable addresses.
    type: int
    default: 110
  backend:
    description:
      - flannel backend; decides the MTU overhead, as flannel v0.24.4 (the version Calico v3.32.1's C(canal.yaml)
        ships) subtracts it in C(pkg/backend) - V(vxlan) 50, V(wireguard) 80, V(ipip) 20, V(host-gw) 0, the same
        on every address family.
      - V(ipip) carries IPv4 only; a plan with an IPv6 pod range and V(ipip) is refused.
    type: str
    choices: [vxlan, host-gw, wireguard, ipip]
    default: vxlan
  expected_nodes:
    description:
      - Number of nodes the pod range must hold (plan for growth here). Defaults to the number of O(nodes)
        (at least 1); a value below that is raised to it, with a warning.
    type: int
  reserved:
    description:
      - CIDRs the cluster ranges must not overlap that the nodes cannot see (other sites, VPN peers,
        corporate ranges, load-balancer pools).
    type: list
    elements: str
    default: []
  nodes:
    description:
      - One entry per node, normally built by the role from C(hostvars). Each is a dict with C(name),
        C(networks) (list of CIDR strings; interface addresses such as C(10.88.0.12/16) are accepted),
        C(routes) (list of CIDR strings; C(default), C(/0) and C(/1) routes are ignored) and C(mtu) (int, the
        underlay MTU); optionally C(subnets), the node's existing pod subnets (see O(assignments)).
      - The C(node_network) fact of M(kubelayer.runtime.node_network_facts) is accepted as is; C(name)
        defaults to its C(hostname), C(routes) may be its route dicts (default and cluster-network routes are
        skipped), C(networks) may come from its C(interfaces).
      - A dict mapping node names to such entries is accepted too (the role passes one, keyed by inventory name);
        this option stays C(raw) because it takes both shapes.
    type: raw
    default: []
  assignments:
    description:
      - Existing node to pod subnet assignments to keep (for example each node's real C(spec.podCIDRs)), mapping
        each node name to a list of CIDRs (or to a dict with C(ipv4) and C(ipv6) keys).
      - Kept assignments never move; new nodes get the lowest free subnets, in O(nodes) order. Node routes
        into an assigned subnet (host-gw routes, flannel blackhole routes) are not conflicts; node interface
        networks there still are. An entry here wins over the same node's entry in O(state_file), with a warning.
    type: dict
    default: {}
  state_file:
    description:
      - Controller-side JSON file that keeps the planned node subnets between runs (the role puts it next to the
        rendered manifests). Its assignments are read and kept like O(assignments), and the plan's node subnets
        are written back to it (only when they changed; not in check mode). So adding a node, or changing the
        host order, moves no existing node, without the user feeding anything back.
      - A node that left the inventory keeps its subnet in the file until it is named in O(release_nodes).
      - The subnets stay a prediction; kube-controller-manager assigns the real C(spec.podCIDR). Feed the real
        values in through O(assignments) when they are known.
    type: path
  previous_state_file:
    description:
      - Migration from an earlier default place of O(state_file) (the role passes the shared
        C(~/.local/share/kubelayer/rendered/canal-node-subnets.json) of earlier releases when O(state_file) is in
        its default, per-inventory place). Read only while O(state_file) does not exist yet, and never changed.
      - Its nodes are adopted (kept, and written to O(state_file)) when every one of them is in O(nodes); the file
        is ignored when none of them is (it belongs to another inventory); when only some are, the plan is refused
        with a message, since the file cannot tell which cluster it belongs to.
    type: path
  release_nodes:
    description:
      - Nodes whose kept subnet in O(state_file) is given up (removed nodes). A released node that is still in
        O(nodes) gets the lowest free subnet again.
    type: list
    elements: str
    default: []
  cluster_dns:
    description:
      - The cluster DNS address (kubelet C(clusterDNS)) when it is not the plan's own choice, the tenth address of
        the primary service range. It must be inside a planned service range, or link-local (NodeLocal DNSCache).
      - The canal role passes kubespray's C(nodelocaldns_ip) with C(enable_nodelocaldns), else C(skydns_server).
    type: str
attributes:
  check_mode:
    support: full
    description: Plans the same in check mode and reports whether O(state_file) would change, without writing it.
  diff_mode:
    support: full
    description: Shows O(state_file) before and after.
  platform:
    support: full
    platforms: posix
    description: Meant to run on the controller (localhost); needs only the Python standard library.
seealso:
  - module: kubelayer.runtime.node_network_facts
"""

EXAMPLES = r"""
- name: Read every node's networks
  kubelayer.runtime.node_network_facts:

- name: Plan the cluster addresses once, on the controller
  kubelayer.runtime.canal_plan:
    pod_cidrs: auto
    service_cidrs: auto
    expected_nodes: 400
    reserved: [10.0.0.0/8]
    nodes: "{{ ansible_play_hosts | map('extract', hostvars, 'node_network') | list }}"
  delegate_to: localhost
  run_once: true
  register: canal_plan_result

- name: Dual-stack, explicit ranges, nodes built by hand
  kubelayer.runtime.canal_plan:
    pod_cidrs: [10.244.0.0/16, "fd10:244::/48"]
    service_cidrs: [10.96.0.0/16, "fd10:96::/112"]
    backend: wireguard
    nodes:
      - {name: node1, networks: [192.168.1.0/24], routes: [10.8.0.0/16], mtu: 1500}
      - {name: node2, networks: [192.168.1.0/24], routes: [], mtu: 1450}
    assignments:
      node1: [10.244.0.0/24, "fd10:244::/64"]
  delegate_to: localhost
  run_once: true

# ad hoc: ansible localhost -m kubelayer.runtime.canal_plan -a '{"pod_cidrs": ["10.88.0.0/16"], "nodes": [...]}'
"""

RETURN = r"""
plan:
  description: The checked plan; empty dict when RV(problems) is not empty.
  returned: always
  type: dict
  contains:
    pod_cidrs:
      description: Pod ranges, primary family first.
      type: list
      elements: str
      sample: [10.244.0.0/16]
    service_cidrs:
      description: Service ranges, primary family first.
      type: list
      elements: str
      sample: [10.96.0.0/12]
    node_prefix:
      description: IPv4 node subnet prefix length.
      type: int
      sample: 24
    node_prefix_v6:
      description: IPv6 node subnet prefix length.
      type: int
      sample: 64
    max_nodes:
      description: Nodes the pod ranges can hold (2^(node prefix - pod prefix); the smaller over families).
      type: int
      sample: 256
    pods_per_node:
      description: Usable pod addresses per node subnet (IPv4 2^(32-prefix) - 3, IPv6 2^(128-prefix) - 2; the smaller).
      type: int
      sample: 253
    max_pods:
      description: The O(max_pods) checked against.
      type: int
      sample: 110
    expected_nodes:
      description: The node count checked against.
      type: int
      sample: 3
    families:
      description: Per family (C(ipv4), C(ipv6)) C(pod_cidr), C(service_cidr), C(node_prefix), C(max_nodes),
        C(pods_per_node), C(dns_ip), C(api_service_ip).
      type: dict
      sample: {ipv4: {pod_cidr: 10.244.0.0/16, service_cidr: 10.96.0.0/12, node_prefix: 24, max_nodes: 256,
               pods_per_node: 253, dns_ip: 10.96.0.10, api_service_ip: 10.96.0.1}}
    dns_ip:
      description: Cluster DNS address, O(cluster_dns) when given, else the tenth address of the primary service range.
      type: str
      sample: 10.96.0.10
    api_service_ip:
      description: The C(kubernetes.default) service address (first address of the primary service range).
      type: str
      sample: 10.96.0.1
    nodes:
      description:
        - Node name to its planned pod subnet per family; stable (kept assignments and O(state_file) entries never
          move, new nodes get the lowest free subnets). A prediction - kube-controller-manager assigns the real
          C(spec.podCIDR).
      type: dict
      sample: {node1: {ipv4: 10.244.0.0/24}, node2: {ipv4: 10.244.1.0/24}}
    node_subnets_source:
      description: Where RV(plan.nodes) comes from; always V(planned) (not read from the cluster).
      type: str
      sample: planned
    backend:
      description: The flannel backend.
      type: str
      sample: vxlan
    underlay_mtu:
      description: Smallest node MTU (1500 when no node MTU is known, with a warning).
      type: int
      sample: 1500
    mtu:
      description: Pod MTU, RV(plan.underlay_mtu) minus flannel's backend overhead (vxlan 50, wireguard 80, ipip 20,
        host-gw 0).
      type: int
      sample: 1450
    veth_mtu:
      description: Value for the C(canal-config) C(veth_mtu) key (same as RV(plan.mtu)).
      type: int
      sample: 1450
    flannel_net_conf:
      description: flannel C(net-conf.json) content; C(Backend.Type) is always set, C(Backend.MTU) when node MTUs differ.
      type: dict
      sample: {Network: 10.244.0.0/16, Backend: {Type: vxlan}}
    calico_ipv4pool_cidr:
      description: Value for calico-node C(CALICO_IPV4POOL_CIDR) (the IPv4 pod range), or null.
      type: str
      sample: 10.244.0.0/16
    calico_ipv6pool_cidr:
      description: Value for calico-node C(CALICO_IPV6POOL_CIDR) (the IPv6 pod range), or null.
      type: str
      sample: null
    kubeadm:
      description: kubeadm C(ClusterConfiguration.networking) C(podSubnet) and C(serviceSubnet) (comma-joined).
      type: dict
      sample: {podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/12}
    kubespray:
      description: kubespray variables C(kube_pods_subnet), C(kube_service_addresses), C(kube_network_node_prefix),
        C(kube_pods_subnet_ipv6), C(kube_service_addresses_ipv6), C(kube_network_node_prefix_ipv6),
        C(ipv4_stack), C(ipv6_stack).
      type: dict
      sample: {kube_pods_subnet: 10.244.0.0/16, kube_service_addresses: 10.96.0.0/12, kube_network_node_prefix: 24,
               kube_pods_subnet_ipv6: null, kube_service_addresses_ipv6: null, kube_network_node_prefix_ipv6: 64,
               ipv4_stack: true, ipv6_stack: false}
    warnings:
      description: Things that are allowed but worth a look (node MTUs differ, non-private ranges, ...).
      type: list
      elements: str
      sample: ["node MTUs differ (1450 on node2 .. 1500 on node1); using the smallest, 1450"]
state_file:
  description: The O(state_file) path, when given.
  returned: when O(state_file) is set
  type: str
  sample: /home/me/inventory/canal-node-subnets.json
previous_state_file:
  description: What happened to O(previous_state_file) on this run.
  returned: when O(previous_state_file) was read (O(state_file) did not exist yet and the file did)
  type: dict
  contains:
    path:
      description: The O(previous_state_file) path.
      type: str
    outcome:
      description: V(adopted) (its nodes were kept) or V(ignored) (none of its nodes is in this plan).
      type: str
  sample: {"path": "/home/me/.local/share/kubelayer/rendered/canal-node-subnets.json", "outcome": "adopted"}
problems:
  description: Every problem found; empty on success (on failure the message lists them too).
  returned: always
  type: list
  elements: str
  sample: ["pod_cidrs 10.88.0.0/16 overlaps node network / route 10.88.0.0/16 on node1, node2"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.files import HostFiles, commit_or_fail, lstat
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.files import read_text
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail as fail_problems
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni import subnet_state
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.backends import BACKENDS
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.dns import apply_cluster_dns
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.plan import make_plan

ARGUMENT_SPEC = dict(
    pod_cidrs=dict(type="list", elements="str", default=["auto"]),
    service_cidrs=dict(type="list", elements="str", default=["auto"]),
    node_prefix=dict(type="int", default=24),
    node_prefix_v6=dict(type="int", default=64),
    max_pods=dict(type="int", default=110),
    backend=dict(type="str", choices=list(BACKENDS), default="vxlan"),
    expected_nodes=dict(type="int"),
    reserved=dict(type="list", elements="str", default=[]),
    nodes=dict(type="raw", default=[]),
    assignments=dict(type="dict", default={}),
    state_file=dict(type="path"),
    previous_state_file=dict(type="path"),
    release_nodes=dict(type="list", elements="str", default=[]),
    cluster_dns=dict(type="str"),
)
PLAN_OPTIONS = ("pod_cidrs", "service_cidrs", "node_prefix", "node_prefix_v6", "max_pods", "backend",
                "expected_nodes", "reserved", "nodes", "assignments", "release_nodes")
OPTIONS = tuple(ARGUMENT_SPEC)


def read_state(path):
    """``(text or None, problem or None)``: the state file's content; a missing file is an empty state."""
    if lstat(path) is None:
        return None, None
    text = read_text(path, strict=True)
    if text is None:
        return None, "state_file: cannot read %s as UTF-8 text" % path
    return text, None


def _node_names(nodes):
    if isinstance(nodes, dict):
        return [str(k) for k in nodes]
    if isinstance(nodes, (list, tuple)):
        return [str(n.get("name")) for n in nodes if isinstance(n, dict) and n.get("name") is not None]
    return []


def load_state(params, path, previous):
    """``(old text, kept assignments, problems, previous outcome)`` from ``state_file``; when it does not exist yet,
    from ``previous_state_file`` if that one's nodes all belong to this plan (see subnet_state.adopt_previous)."""
    old, problem = read_state(path)
    if problem is not None:
        return None, {}, [problem], None
    if old is not None or not previous or previous == path:
        state, problems = subnet_state.parse_state(old, path)
        return old, state, problems, None
    text, problem = read_state(previous)
    if problem is not None:
        return None, {}, ["previous_state_file: " + problem.split(": ", 1)[1]], None
    if text is None:
        return None, {}, [], None
    state, problems = subnet_state.parse_state(text, previous)
    problems = [p.replace("state_file:", "previous_state_file:", 1) for p in problems]
    if problems:
        return None, {}, problems, None
    state, outcome, problems = subnet_state.adopt_previous(state, _node_names(params.get("nodes")), previous, path)
    return None, state, problems, outcome


def fail(module, problems):
    fail_problems(module, "canal_plan refuses this address plan", problems, plan={})


def save_state(module, path, old, plan, result):
    """Write the plan's node subnets to ``path`` through the safe write path when they changed (not in check mode)."""
    new = subnet_state.render_state(plan)
    writes = HostFiles(check_mode=module.check_mode)
    if writes.file("state_file", path, to_bytes(new), mode=0o644) is None:
        return
    commit_or_fail(module, "canal_plan refuses this address plan", writes, plan={})
    result["changed"] = True
    if module._diff:
        result["diff"] = {"before_header": path, "after_header": path, "before": old or "", "after": new}


def _new_module():
    """The AnsibleModule; ansible-core's own int check can raise instead of failing (``Decimal`` of a list such as
    ``[False, None, 2**63]`` overflows): then fail in the one shape, naming the int options that hold a non-number."""
    try:
        return AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    except (OverflowError, MemoryError) as exc:
        loose = AnsibleModule(argument_spec=dict((k, dict(type="raw")) for k in ARGUMENT_SPEC), supports_check_mode=True)
        ints = [k for k, spec in ARGUMENT_SPEC.items() if spec.get("type") == "int"]
        bad = [k for k in ints if isinstance(loose.params.get(k), (list, tuple, dict))] or ints
        fail_problems(loose, "canal_plan", ["%s: not an integer (%s)" % (k, type(exc).__name__) for k in bad])
    return None


def main():
    module = _new_module()
    params = dict((k, module.params[k]) for k in PLAN_OPTIONS)
    path = module.params["state_file"]
    old, problems, outcome = None, [], None
    previous = module.params["previous_state_file"]
    if path:
        old, params["state_assignments"], problems, outcome = load_state(params, path, previous)
    try:
        plan, plan_problems, warnings = make_plan(params)
    except Exception as exc:  # pylint: disable=broad-except
        # make_plan is meant never to raise; if it does, fail cleanly and say it is a bug
        module.fail_json(msg="canal_plan: internal error (please report): %s: %s" % (type(exc).__name__, exc),
                         plan={}, problems=["internal error: %s" % exc])
    problems = problems + plan_problems
    if not problems:
        problems = apply_cluster_dns(plan, module.params["cluster_dns"])
    if problems:
        fail(module, problems)
    for warning in warnings:
        module.warn(warning)
    result = dict(changed=False, plan=plan, problems=[])
    if path:
        result["state_file"] = path
        if outcome:
            result["previous_state_file"] = dict(path=previous, outcome=outcome)
        if outcome == "adopted":
            module.warn("previous_state_file: the node subnets of %s are adopted into %s (the old file is left in "
                        "place; remove it once no inventory uses it)" % (previous, path))
        save_state(module, path, old, plan, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
