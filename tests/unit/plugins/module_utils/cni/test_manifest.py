# -*- coding: utf-8 -*-
"""Canal manifest patching against the real upstream calico v3.32.1 canal.yaml (read from ../shared/upstream)."""
import copy
import ipaddress
import json
import os

from kubelayer_paths import upstream_dir
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni import manifest as m
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.gitops import dump_documents, load_documents
from ansible_collections.kubelayer.runtime.plugins.module_utils.k8s.schema import validate_objects


CANAL = os.path.join(upstream_dir(), "calico-v3.32.1", "canal.yaml")

CM = "ConfigMap/kube-system/canal-config"
DS = "DaemonSet/kube-system/canal"
CALICO_ENV = DS + ": spec.template.spec.containers.calico-node.env."
FLANNEL = DS + ": spec.template.spec.containers.kube-flannel."

# the plan canal_plan makes for the 3-node lab (podman network, MTU 1500, vxlan, 10.42.0.0/16)
LAB_PLAN = {
    "pod_cidrs": ["10.42.0.0/16"], "service_cidrs": ["10.43.0.0/16"], "node_prefix": 24, "node_prefix_v6": 64,
    "max_nodes": 256, "pods_per_node": 110, "dns_ip": "10.43.0.10",
    "nodes": {"canal-bookworm": ["10.42.0.0/24"], "canal-trixie": ["10.42.1.0/24"], "canal-forky": ["10.42.2.0/24"]},
    "mtu": 1450, "veth_mtu": 1450,
    "flannel_net_conf": {"Network": "10.42.0.0/16", "Backend": {"Type": "vxlan"}},
    "calico_ipv4pool_cidr": "10.42.0.0/16", "calico_ipv6pool_cidr": None,
    "kubeadm": {"podSubnet": "10.42.0.0/16", "serviceSubnet": "10.43.0.0/16"}, "warnings": [],
}
DUAL_PLAN = dict(LAB_PLAN, pod_cidrs=["10.42.0.0/16", "fd00:42::/56"], veth_mtu=1450,
                 flannel_net_conf={"Network": "10.42.0.0/16", "IPv6Network": "fd00:42::/56", "EnableIPv6": True,
                                   "Backend": {"Type": "vxlan"}},
                 calico_ipv6pool_cidr="fd00:42::/56")


@pytest.fixture(scope="module")
def upstream_text():
    with open(CANAL) as f:
        return f.read()


@pytest.fixture(scope="module")
def upstream(upstream_text):
    return load_documents(upstream_text, source=CANAL)


def data(docs):
    return m.find_object(docs, m.CONFIGMAP)["data"]


def env(docs, container):
    c = m.find_container(m.find_object(docs, m.DAEMONSET), container)
    return dict((e["name"], e.get("value", e.get("valueFrom"))) for e in c.get("env", []))


@pytest.mark.slow  # the real upstream canal.yaml
def test_lab_plan_changes_exactly_the_planned_fields_and_validates(upstream):
    patched = m.patch_canal(upstream, LAB_PLAN)
    assert m.semantic_diff(upstream, patched) == sorted([
        CM + ": data.net-conf.json.Network",
        CM + ": data.veth_mtu",
        CALICO_ENV + "CALICO_IPV4POOL_CIDR",
    ])
    assert validate_objects(patched) == []
    assert json.loads(data(patched)["net-conf.json"]) == {"Network": "10.42.0.0/16", "Backend": {"Type": "vxlan"}}
    assert data(patched)["veth_mtu"] == "1450"
    assert env(patched, "calico-node")["CALICO_IPV4POOL_CIDR"] == "10.42.0.0/16"
    # upstream comments say the pool "should fall within --cluster-cidr": it sits right after IP
    names = [e["name"] for e in m.find_container(m.find_object(patched, m.DAEMONSET), "calico-node")["env"]]
    assert names[names.index("IP") + 1] == "CALICO_IPV4POOL_CIDR"
    # the 40 objects keep their order
    assert [m.object_key(o) for o in patched] == [m.object_key(o) for o in upstream]


@pytest.mark.slow  # the real upstream canal.yaml
def test_patched_manifest_survives_yaml_round_trip(upstream):
    patched = m.patch_canal(upstream, DUAL_PLAN)
    assert load_documents(dump_documents(patched)) == patched


def test_input_documents_not_modified(upstream):
    before = copy.deepcopy(upstream)
    m.patch_canal(upstream, DUAL_PLAN, {"flannel_extra_args": ["--ip-blackhole-route"], "canal_iface_regex": "^e"})
    assert upstream == before


def test_patch_is_idempotent(upstream):
    opts = {"flannel_extra_args": ["--ip-blackhole-route", "--iptables-forward-rules=false"], "canal_iface_regex": "^e"}
    once = m.patch_canal(upstream, DUAL_PLAN, opts)
    assert m.patch_canal(once, DUAL_PLAN, opts) == once


@pytest.mark.slow  # the real upstream canal.yaml
def test_dual_stack_with_all_options(upstream):
    opts = {"canal_iface": "eth0", "canal_iface_regex": "^(eth|ens)[0-9]+$",
            "flannel_image": "docker.io/flannel/flannel:v0.28.9",
            "flannel_extra_args": ["--ip-blackhole-route", "--iptables-forward-rules=false", "--ip-masq"]}
    patched = m.patch_canal(upstream, DUAL_PLAN, opts)
    assert m.semantic_diff(upstream, patched) == sorted([
        CM + ": data.canal_iface",
        CM + ": data.canal_iface_regex",
        CM + ": data.cni_network_config.plugins.calico.ipam.ranges",
        CM + ": data.cni_network_config.plugins.calico.ipam.subnet",
        CM + ": data.net-conf.json.EnableIPv6",
        CM + ": data.net-conf.json.IPv6Network",
        CM + ": data.net-conf.json.Network",
        CM + ": data.veth_mtu",
        CALICO_ENV + "CALICO_IPV4POOL_CIDR",
        CALICO_ENV + "CALICO_IPV6POOL_CIDR",
        CALICO_ENV + "FELIX_IPV6SUPPORT.value",
        FLANNEL + "command",
        FLANNEL + "env.FLANNELD_IFACE_REGEX",
        FLANNEL + "image",
    ])
    assert validate_objects(patched) == []
    cni = m.load_cni_config(data(patched)["cni_network_config"])
    assert cni["plugins"][0]["ipam"] == {"type": "host-local",
                                         "ranges": [[{"subnet": "usePodCidr"}], [{"subnet": "usePodCidrIPv6"}]]}
    # the installer's bare placeholder stays bare
    assert '"mtu": __CNI_MTU__,' in data(patched)["cni_network_config"]
    assert env(patched, "calico-node")["FELIX_IPV6SUPPORT"] == "true"
    flannel = m.find_container(m.find_object(patched, m.DAEMONSET), "kube-flannel")
    # --ip-masq is already there: not repeated
    assert flannel["command"] == ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr", "--ip-blackhole-route",
                                  "--iptables-forward-rules=false"]
    assert env(patched, "kube-flannel")["FLANNELD_IFACE_REGEX"] == {
        "configMapKeyRef": {"name": "canal-config", "key": "canal_iface_regex"}}


def test_ipv6_only(upstream):
    plan = dict(LAB_PLAN, calico_ipv4pool_cidr=None, calico_ipv6pool_cidr="fd00:42::/56",
                flannel_net_conf={"EnableIPv4": False, "IPv6Network": "fd00:42::/56", "EnableIPv6": True,
                                  "Backend": {"Type": "wireguard"}}, veth_mtu=1420)
    patched = m.patch_canal(upstream, plan)
    net = json.loads(data(patched)["net-conf.json"])
    assert net == {"EnableIPv4": False, "EnableIPv6": True, "IPv6Network": "fd00:42::/56",
                   "Backend": {"Type": "wireguard"}}
    assert m.load_cni_config(data(patched)["cni_network_config"])["plugins"][0]["ipam"]["ranges"] == [
        [{"subnet": "usePodCidrIPv6"}]]
    assert "CALICO_IPV4POOL_CIDR" not in env(patched, "calico-node")
    assert validate_objects([m.find_object(patched, m.DAEMONSET), m.find_object(patched, m.CONFIGMAP)]) == []


def test_backend_mtu_kept(upstream):
    plan = dict(LAB_PLAN, flannel_net_conf={"Network": "10.42.0.0/16", "Backend": {"Type": "vxlan", "MTU": 1400}},
                veth_mtu=1350)
    patched = m.patch_canal(upstream, plan)
    assert json.loads(data(patched)["net-conf.json"])["Backend"] == {"Type": "vxlan", "MTU": 1400}
    assert data(patched)["veth_mtu"] == "1350"


def test_missing_configmap_and_daemonset_named(upstream):
    docs = [o for o in upstream if o["kind"] not in ("ConfigMap", "DaemonSet")]
    with pytest.raises(m.CanalManifestError) as err:
        m.patch_canal(docs, LAB_PLAN)
    assert err.value.problems == ["upstream manifest has no ConfigMap kube-system/canal-config",
                                  "upstream manifest has no DaemonSet kube-system/canal"]


def test_missing_keys_and_containers_named(upstream):
    docs = copy.deepcopy(upstream)
    del data(docs)["net-conf.json"]
    data(docs)["cni_network_config"] = "{not json"
    ds = m.find_object(docs, m.DAEMONSET)
    ds["spec"]["template"]["spec"]["containers"] = [c for c in ds["spec"]["template"]["spec"]["containers"]
                                                    if c["name"] != "kube-flannel"]
    with pytest.raises(m.CanalManifestError) as err:
        m.patch_canal(docs, LAB_PLAN)
    problems = err.value.problems
    assert "upstream ConfigMap kube-system/canal-config has no data key 'net-conf.json'" in problems
    assert any(p.startswith("upstream ConfigMap kube-system/canal-config: cni_network_config is not JSON") for p in problems)
    assert "upstream DaemonSet kube-system/canal has no container 'kube-flannel'" in problems
    assert len(problems) == 3


def test_bad_plan_lists_every_problem(upstream):
    plan = {"flannel_net_conf": {"Network": "10.42.0.1/16", "IPv6Network": "10.0.0.0/8", "Backend": {"Type": "udp"}},
            "veth_mtu": "1450", "calico_ipv4pool_cidr": "nope"}
    with pytest.raises(m.CanalManifestError) as err:
        m.patch_canal(upstream, plan)
    assert err.value.problems == [
        "plan.flannel_net_conf.Network: '10.42.0.1/16' is not an IPv4 network",
        "plan.flannel_net_conf.IPv6Network: '10.0.0.0/8' is not an IPv6 network",
        "plan.flannel_net_conf.Backend.Type: must be one of vxlan, host-gw, wireguard, ipip",
        "plan.veth_mtu: '1450' is not an MTU between 576 and 65535",
        "plan.calico_ipv4pool_cidr: 'nope' is not an IPv4 network",
    ]
    assert m.check_plan(None) == ["plan: must be the dict returned by kubelayer.runtime.canal_plan (got NoneType)"]
    assert m.check_plan(dict(LAB_PLAN, calico_ipv4pool_cidr="192.168.0.0/16")) == [
        "plan.calico_ipv4pool_cidr: 192.168.0.0/16 is not inside flannel Network 10.42.0.0/16"]


def test_bad_options_list_every_problem(upstream):
    opts = {"flannel_image": "Not An Image", "flannel_extra_args": ["--ok", "-x", "--a b"],
            "canal_iface": "eth0,has space", "canal_iface_regex": "("}
    with pytest.raises(m.CanalManifestError) as err:
        m.patch_canal(upstream, LAB_PLAN, opts)
    problems = err.value.problems
    assert [p.split(":")[0] for p in problems] == ["flannel_image", "flannel_extra_args[1]", "flannel_extra_args[2]",
                                                   "canal_iface", "canal_iface_regex"]


def test_canal_iface_accepts_names_ips_and_lists():
    assert m.check_options({"canal_iface": "eth0,10.0.0.1,fd00::1"}) == []
    assert m.check_options({"canal_iface": ""}) == []
    assert m.check_options({"canal_iface": "averyveryverylongname"}) != []


def test_cni_placeholder_round_trip(upstream):
    text = data(upstream)["cni_network_config"]
    conf = m.load_cni_config(text)
    assert conf["plugins"][0]["mtu"] == "@@kubelayer-bare:__CNI_MTU__@@"
    assert conf["plugins"][0]["nodename"] == "__KUBERNETES_NODE_NAME__"
    again = m.dump_cni_config(conf)
    assert '"mtu": __CNI_MTU__,' in again
    assert m.load_cni_config(again) == conf
    # with the installer's substitution both are the same JSON
    assert json.loads(again.replace("__CNI_MTU__", "1450")) == json.loads(text.replace("__CNI_MTU__", "1450"))


def test_split_for_apply(upstream):
    crds, others = m.split_for_apply(upstream)
    assert len(crds) == 23 and len(others) == 17
    assert all(o["kind"] != "CustomResourceDefinition" for o in others)


def test_semantic_diff_reports_added_and_removed(upstream):
    extra = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "kube-system"}}
    assert m.semantic_diff(upstream[:2], [upstream[1], extra]) == [
        "ConfigMap/kube-system/x: (added)", "PodDisruptionBudget/kube-system/calico-kube-controllers: (removed)"]


ALLOWED_PREFIXES = (
    CM + ": data.net-conf.json.", CM + ": data.veth_mtu", CM + ": data.cni_network_config.plugins.calico.ipam.",
    CALICO_ENV + "CALICO_IPV4POOL_CIDR", CALICO_ENV + "CALICO_IPV6POOL_CIDR", CALICO_ENV + "FELIX_IPV6SUPPORT",
)


_CACHE = {}


def _small_upstream():
    """The ConfigMap and DaemonSet of the upstream manifest (the objects the patch may touch)."""
    if "small" not in _CACHE:
        with open(CANAL) as f:
            _CACHE["small"] = [o for o in load_documents(f.read()) if o["kind"] in ("ConfigMap", "DaemonSet")]
    return copy.deepcopy(_CACHE["small"])


@st.composite
def plans(draw):
    v4 = draw(st.booleans())
    v6 = draw(st.booleans()) or not v4
    conf = {"Backend": {"Type": draw(st.sampled_from(m.BACKENDS))}}
    plan = {"veth_mtu": draw(st.integers(1280, 9000)), "calico_ipv4pool_cidr": None}
    if v4:
        prefix = draw(st.integers(8, 24))
        net = ipaddress.IPv4Network((draw(st.integers(0, 2 ** 32 - 1)) >> (32 - prefix) << (32 - prefix), prefix))
        conf["Network"] = str(net)
        plan["calico_ipv4pool_cidr"] = str(net)
    else:
        conf["EnableIPv4"] = False
    if v6:
        prefix = draw(st.integers(32, 112))
        net = ipaddress.IPv6Network((draw(st.integers(0, 2 ** 128 - 1)) >> (128 - prefix) << (128 - prefix), prefix))
        conf["IPv6Network"] = str(net)
        conf["EnableIPv6"] = True
        plan["calico_ipv6pool_cidr"] = str(net)
    plan["flannel_net_conf"] = conf
    return plan


@pytest.mark.slow  # the real upstream canal.yaml
@settings(max_examples=examples(60), deadline=None)
@given(plans())
def test_property_only_planned_fields_change(plan):
    small = _small_upstream()
    patched = m.patch_canal(small, plan)
    diff = m.semantic_diff(small, patched)
    assert all(d.startswith(ALLOWED_PREFIXES) for d in diff), diff
    net = json.loads(data(patched)["net-conf.json"])
    assert net.get("Network") == plan["flannel_net_conf"].get("Network")
    assert net.get("IPv6Network") == plan["flannel_net_conf"].get("IPv6Network")
    assert net["Backend"]["Type"] == plan["flannel_net_conf"]["Backend"]["Type"]
    assert data(patched)["veth_mtu"] == str(plan["veth_mtu"])
    assert m.patch_canal(patched, plan) == patched
    assert validate_objects(patched) == []


@pytest.mark.slow  # the real upstream canal.yaml
def test_plan_from_canal_plan_for_the_lab(upstream):
    """The planner's own output for the 3 lab nodes (podman network, MTU 1500) drives the patch."""
    from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.plan import make_plan

    nodes = [{"name": "canal-%s" % rel, "networks": ["10.88.0.0/16"], "routes": [], "mtu": 1500}
             for rel in ("bookworm", "trixie", "forky")]
    plan, problems, _warnings = make_plan({"pod_cidrs": "auto", "service_cidrs": "auto", "nodes": nodes})
    assert problems == []
    patched = m.patch_canal(upstream, plan)
    assert validate_objects(patched) == []
    net = json.loads(data(patched)["net-conf.json"])
    assert net == {"Network": plan["pod_cidrs"][0], "Backend": {"Type": "vxlan"}}
    assert data(patched)["veth_mtu"] == "1450"
    expected = [CM + ": data.veth_mtu", CALICO_ENV + "CALICO_IPV4POOL_CIDR"]
    if plan["pod_cidrs"][0] != "10.244.0.0/16":
        expected.append(CM + ": data.net-conf.json.Network")
    assert m.semantic_diff(upstream, patched) == sorted(expected)
    # dual-stack from the planner
    plan6, problems6, _w = make_plan({"pod_cidrs": ["auto4", "auto6"], "service_cidrs": "auto", "nodes": nodes})
    assert problems6 == []
    patched6 = m.patch_canal(upstream, plan6)
    assert validate_objects(patched6) == []
    assert env(patched6, "calico-node")["FELIX_IPV6SUPPORT"] == "true"
    assert env(patched6, "calico-node")["CALICO_IPV6POOL_CIDR"] == plan6["calico_ipv6pool_cidr"]
