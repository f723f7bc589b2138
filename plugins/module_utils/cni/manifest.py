# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Patch the upstream Canal manifest (projectcalico/calico ``manifests/canal.yaml``) from a plan.

Structured edit only: the caller loads every YAML document into dicts, ``patch_canal`` edits
copies of those dicts and returns them; nothing is done with text substitution. The two JSON
documents embedded in the ConfigMap (``net-conf.json`` and ``cni_network_config``) are parsed,
edited as dicts and serialised with ``json.dumps``. ``cni_network_config`` carries the
installer's bare placeholder ``__CNI_MTU__`` (not valid JSON); it is quoted to parse and the
same placeholder is restored after serialisation.

Fields changed (and nothing else):

* ConfigMap ``canal-config``: ``net-conf.json`` (``Network``, ``IPv6Network``, ``EnableIPv4``,
  ``EnableIPv6``, ``Backend`` from the plan's ``flannel_net_conf``), ``veth_mtu`` (always set
  explicitly), ``canal_iface``, ``canal_iface_regex`` (new key, only when asked), and for
  dual-stack/IPv6 the host-local IPAM ``ranges`` (``usePodCidr``/``usePodCidrIPv6``) in
  ``cni_network_config``;
* DaemonSet ``canal``: ``calico-node`` env ``CALICO_IPV4POOL_CIDR`` (pod range), for IPv6
  ``FELIX_IPV6SUPPORT=true`` and ``CALICO_IPV6POOL_CIDR``; ``kube-flannel`` image, extra
  command arguments (e.g. ``--ip-blackhole-route``) and env ``FLANNELD_IFACE_REGEX`` when asked.

Also: ``semantic_diff``
(object-by-object, embedded JSON parsed) to prove the patch touched only these fields.

Pure logic, no Ansible imports, no third-party imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import json
import re

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.backends import BACKENDS  # noqa: F401

CONFIGMAP = ("ConfigMap", "kube-system", "canal-config")
DAEMONSET = ("DaemonSet", "kube-system", "canal")
CALICO_CONTAINER = "calico-node"
FLANNEL_CONTAINER = "kube-flannel"
CONFIGMAP_KEYS = ("net-conf.json", "veth_mtu", "cni_network_config", "canal_iface")
# the placeholders install-cni substitutes in cni_network_config; only __CNI_MTU__ is bare
_BARE_PLACEHOLDER = re.compile(r'(:\s*)(__[A-Z0-9_]+__)(\s*[,}\]])')
_SENTINEL = "@@kubelayer-bare:%s@@"
_SENTINEL_RE = re.compile(r'"@@kubelayer-bare:(__[A-Z0-9_]+__)@@"')
_IMAGE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._/-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?\Z")


class CanalManifestError(ValueError):
    """Bad input; ``problems`` lists every problem found."""

    def __init__(self, problems):
        self.problems = list(problems)
        super(CanalManifestError, self).__init__("; ".join(self.problems))


def object_key(obj):
    meta = obj.get("metadata") or {}
    return (obj.get("kind"), meta.get("namespace") or "", meta.get("name"))


def key_label(key):
    return "%s/%s/%s" % (key[0], key[1] or "-", key[2])


def find_object(docs, key):
    for obj in docs:
        if isinstance(obj, dict) and object_key(obj) == key:
            return obj
    return None


def find_container(obj, name):
    for container in ((((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []):
        if container.get("name") == name:
            return container
    return None


def load_cni_config(text):
    """Parse ``cni_network_config`` with its bare ``__CNI_MTU__`` placeholder."""
    return json.loads(_BARE_PLACEHOLDER.sub(lambda m: '%s"%s"%s' % (m.group(1), _SENTINEL % m.group(2), m.group(3)), text))


def dump_cni_config(conf):
    """Serialise ``cni_network_config``, restoring bare placeholders."""
    return _SENTINEL_RE.sub(lambda m: m.group(1), json.dumps(conf, indent=2))


def check_upstream(docs):
    """Problems that make ``docs`` unusable as the Canal manifest (empty list: usable)."""
    problems = []
    cm = find_object(docs, CONFIGMAP)
    if cm is None:
        problems.append("upstream manifest has no ConfigMap kube-system/canal-config")
    else:
        data = cm.get("data") or {}
        for key in CONFIGMAP_KEYS:
            if key not in data:
                problems.append("upstream ConfigMap kube-system/canal-config has no data key %r" % key)
        if "net-conf.json" in data:
            try:
                if not isinstance(json.loads(data["net-conf.json"]), dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                problems.append("upstream ConfigMap kube-system/canal-config: net-conf.json is not a JSON object (%s)" % exc)
        if "cni_network_config" in data:
            try:
                conf = load_cni_config(data["cni_network_config"])
                if not _calico_plugin(conf):
                    problems.append("upstream ConfigMap kube-system/canal-config: cni_network_config has no calico plugin")
            except ValueError as exc:
                problems.append("upstream ConfigMap kube-system/canal-config: cni_network_config is not JSON (%s)" % exc)
    ds = find_object(docs, DAEMONSET)
    if ds is None:
        problems.append("upstream manifest has no DaemonSet kube-system/canal")
    else:
        for name in (CALICO_CONTAINER, FLANNEL_CONTAINER):
            if find_container(ds, name) is None:
                problems.append("upstream DaemonSet kube-system/canal has no container %r" % name)
    return problems


def _calico_plugin(conf):
    for plugin in conf.get("plugins") or []:
        if isinstance(plugin, dict) and plugin.get("type") == "calico":
            return plugin
    return None


def _net(value, version):
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None
    return net if net.version == version else None


def check_plan(plan):
    """Validate the fields of a canal_plan ``plan`` this module uses; return problems."""
    if not isinstance(plan, dict):
        return ["plan: must be the dict returned by kubelayer.runtime.canal_plan (got %s)" % type(plan).__name__]
    problems = []
    net_conf = plan.get("flannel_net_conf")
    if not isinstance(net_conf, dict):
        problems.append("plan.flannel_net_conf: required dict is missing")
    else:
        v4 = net_conf.get("Network")
        v6 = net_conf.get("IPv6Network")
        if v4 is None and v6 is None:
            problems.append("plan.flannel_net_conf: needs Network and/or IPv6Network")
        if v4 is not None and _net(v4, 4) is None:
            problems.append("plan.flannel_net_conf.Network: %r is not an IPv4 network" % (v4,))
        if v6 is not None and _net(v6, 6) is None:
            problems.append("plan.flannel_net_conf.IPv6Network: %r is not an IPv6 network" % (v6,))
        backend = net_conf.get("Backend")
        if not isinstance(backend, dict) or backend.get("Type") not in BACKENDS:
            problems.append("plan.flannel_net_conf.Backend.Type: must be one of %s" % ", ".join(BACKENDS))
    mtu = plan.get("veth_mtu")
    if isinstance(mtu, bool) or not isinstance(mtu, int) or not 576 <= mtu <= 65535:
        problems.append("plan.veth_mtu: %r is not an MTU between 576 and 65535" % (mtu,))
    pool = plan.get("calico_ipv4pool_cidr")
    if pool is not None and _net(pool, 4) is None:
        problems.append("plan.calico_ipv4pool_cidr: %r is not an IPv4 network" % (pool,))
    pool6 = plan.get("calico_ipv6pool_cidr")
    if pool6 is not None and _net(pool6, 6) is None:
        problems.append("plan.calico_ipv6pool_cidr: %r is not an IPv6 network" % (pool6,))
    if isinstance(net_conf, dict) and not problems:
        if pool is not None and net_conf.get("Network") is not None and not _net(pool, 4).subnet_of(_net(net_conf["Network"], 4)):
            problems.append("plan.calico_ipv4pool_cidr: %s is not inside flannel Network %s" % (pool, net_conf["Network"]))
    return problems


def check_options(options):
    """Validate the patch options; return problems."""
    problems = []
    image = options.get("flannel_image")
    if image is not None and not _IMAGE.match(str(image)):
        problems.append("flannel_image: %r is not an image reference" % (image,))
    args = options.get("flannel_extra_args") or []
    for i, arg in enumerate(args):
        if not isinstance(arg, str) or not arg.startswith("--") or any(c.isspace() for c in arg):
            problems.append("flannel_extra_args[%d]: %r must be one --flag or --flag=value without spaces" % (i, arg))
    iface = options.get("canal_iface")
    if iface is not None and iface != "":
        bad = not isinstance(iface, str) or not all(_iface_or_ip(item) for item in iface.split(","))
        if bad:
            problems.append("canal_iface: %r is not an interface name or IP address (or a comma-separated list of them)"
                            % (iface,))
    regex = options.get("canal_iface_regex")
    if regex is not None:
        try:
            re.compile(str(regex))
        except re.error as exc:
            problems.append("canal_iface_regex: %r is not a regular expression (%s)" % (regex, exc))
    return problems


def _iface_or_ip(item):
    try:
        ipaddress.ip_address(item)
        return True
    except ValueError:
        return 0 < len(item) <= 15 and not any(c.isspace() or c in "/:," for c in item)


def _set_env(container, name, value=None, value_from=None, after=None):
    """Set env ``name`` (insert after ``after`` if new, else append); keep other entries."""
    env = container.setdefault("env", [])
    entry = {"name": name}
    if value_from is not None:
        entry["valueFrom"] = value_from
    else:
        entry["value"] = value
    for i, item in enumerate(env):
        if item.get("name") == name:
            env[i] = entry
            return
    for i, item in enumerate(env):
        if after is not None and item.get("name") == after:
            env.insert(i + 1, entry)
            return
    env.append(entry)


def patch_canal(docs, plan, options=None):
    """Return patched deep copies of the Canal manifest documents.

    ``docs``: the loaded upstream documents (dicts). ``plan``: canal_plan's ``plan``.
    ``options``: ``canal_iface``, ``canal_iface_regex``, ``flannel_image``,
    ``flannel_extra_args`` (all optional). Raises ``CanalManifestError`` with every problem.
    """
    options = dict(options or {})
    problems = check_upstream(docs) + check_plan(plan) + check_options(options)
    if problems:
        raise CanalManifestError(problems)
    out = copy.deepcopy(list(docs))
    data = find_object(out, CONFIGMAP)["data"]
    ds = find_object(out, DAEMONSET)
    plan_conf = plan["flannel_net_conf"]
    ipv4 = plan_conf.get("Network") is not None
    ipv6 = plan_conf.get("IPv6Network") is not None
    data["net-conf.json"] = _net_conf(data["net-conf.json"], plan_conf, ipv4, ipv6)
    data["veth_mtu"] = str(plan["veth_mtu"])
    for key in ("canal_iface", "canal_iface_regex"):
        if options.get(key) is not None:
            data[key] = options[key]
    if ipv6:
        data["cni_network_config"] = _dual_stack_ipam(data["cni_network_config"], ipv4)
    _patch_calico(find_container(ds, CALICO_CONTAINER), plan, ipv4, ipv6)
    _patch_flannel(find_container(ds, FLANNEL_CONTAINER), options)
    return out


def _net_conf(text, plan_conf, ipv4, ipv6):
    """flannel's net-conf.json: the planned fields on top of the upstream ones."""
    net_conf = json.loads(text)
    for field in ("Network", "IPv6Network"):
        if plan_conf.get(field) is not None:
            net_conf[field] = plan_conf[field]
        else:
            net_conf.pop(field, None)
    if ipv6:
        net_conf["EnableIPv6"] = True
    else:
        net_conf.pop("EnableIPv6", None)
    if not ipv4:
        net_conf["EnableIPv4"] = False
    else:
        net_conf.pop("EnableIPv4", None)
    backend = dict(net_conf.get("Backend") or {})
    backend.update(plan_conf["Backend"])
    net_conf["Backend"] = backend
    return json.dumps(net_conf, indent=2) + "\n"


def _dual_stack_ipam(text, ipv4):
    """The CNI config's calico IPAM with a range per family (usePodCidr, usePodCidrIPv6)."""
    cni = load_cni_config(text)
    ipam = _calico_plugin(cni).setdefault("ipam", {})
    ipam.pop("subnet", None)
    ranges = []
    if ipv4:
        ranges.append([{"subnet": "usePodCidr"}])
    ranges.append([{"subnet": "usePodCidrIPv6"}])
    ipam["type"] = "host-local"
    ipam["ranges"] = ranges
    return dump_cni_config(cni)


def _patch_calico(calico, plan, ipv4, ipv6):
    """calico-node's pool CIDRs (and IPv6 support) from the plan."""
    if plan.get("calico_ipv4pool_cidr") is not None:
        _set_env(calico, "CALICO_IPV4POOL_CIDR", value=plan["calico_ipv4pool_cidr"], after="IP")
    if ipv6:
        _set_env(calico, "FELIX_IPV6SUPPORT", value="true")
        pool6 = plan.get("calico_ipv6pool_cidr") or plan["flannel_net_conf"]["IPv6Network"]
        _set_env(calico, "CALICO_IPV6POOL_CIDR", value=pool6, after="CALICO_IPV4POOL_CIDR" if ipv4 else "IP")


def _patch_flannel(flannel, options):
    """kube-flannel's image, extra arguments (each flag once) and interface regex from the options."""
    if options.get("flannel_image"):
        flannel["image"] = options["flannel_image"]
    extra = options.get("flannel_extra_args") or []
    if extra:
        command = list(flannel.get("command") or [])
        flags = set(a.split("=", 1)[0] for a in command)
        for arg in extra:
            if arg.split("=", 1)[0] not in flags:
                command.append(arg)
                flags.add(arg.split("=", 1)[0])
        flannel["command"] = command
    if options.get("canal_iface_regex") is not None:
        _set_env(flannel, "FLANNELD_IFACE_REGEX",
                 value_from={"configMapKeyRef": {"name": CONFIGMAP[2], "key": "canal_iface_regex"}},
                 after="FLANNELD_IFACE")


def split_for_apply(docs):
    """(crds, others): CustomResourceDefinitions first so server-side apply can register them."""
    crds = [d for d in docs if d.get("kind") == "CustomResourceDefinition"]
    others = [d for d in docs if d.get("kind") != "CustomResourceDefinition"]
    return crds, others


# --- semantic diff ---------------------------------------------------------------------------

_EMBEDDED_JSON = {"net-conf.json": json.loads, "cni_network_config": load_cni_config}
# named lists compared as maps: list key -> the field that names an item
_KEYED_LISTS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
                "volumeMounts": "mountPath", "plugins": "type"}


def _expand(value, key=None):
    """Normalise for comparison: parse embedded JSON, key named lists by their name field."""
    if isinstance(value, dict):
        return dict((k, _expand(v, k)) for k, v in value.items())
    if isinstance(value, list):
        field = _KEYED_LISTS.get(key)
        names = [i.get(field) for i in value if isinstance(i, dict)] if field else []
        if field and len(names) == len(value) and None not in names and len(set(names)) == len(names):
            return dict((str(i[field]), _expand(i)) for i in value)
        return [_expand(i) for i in value]
    if isinstance(value, str) and key in _EMBEDDED_JSON:
        try:
            return _expand(_EMBEDDED_JSON[key](value))
        except ValueError:
            return value
    return value


def _diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            sub = "%s.%s" % (path, k) if path else str(k)
            if k not in a or k not in b:
                out.append(sub)
            else:
                _diff(a[k], b[k], sub, out)
    elif a != b:
        out.append(path or "(root)")


def semantic_diff(before, after):
    """Object-by-object difference of two manifests.

    Returns sorted ``"Kind/ns/name: path"`` strings; objects only in one side appear as
    ``"Kind/ns/name: (added)"``/``(removed)``. Embedded JSON (``net-conf.json``,
    ``cni_network_config``) is compared parsed; containers, env, volumes and mounts by name.
    """
    a = dict((object_key(o), o) for o in before)
    b = dict((object_key(o), o) for o in after)
    out = []
    for key in a:
        if key not in b:
            out.append("%s: (removed)" % key_label(key))
            continue
        paths = []
        _diff(_expand(a[key]), _expand(b[key]), "", paths)
        out.extend("%s: %s" % (key_label(key), p) for p in paths)
    out.extend("%s: (added)" % key_label(key) for key in b if key not in a)
    return sorted(out)
