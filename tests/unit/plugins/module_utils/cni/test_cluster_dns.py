"""canal_plan's cluster_dns: kubespray's skydns_server / nodelocaldns_ip replace the plan's tenth address."""
import pytest

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.dns import apply_cluster_dns
from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.plan import make_plan


def _plan(services):
    plan, problems, _warnings = make_plan({"pod_cidrs": ["10.233.64.0/18"] + (["fd10:244::/56"] if len(services) > 1
                                                                              else []),
                                           "service_cidrs": services, "node_prefix": 24})
    assert problems == []
    return plan


def test_no_value_keeps_the_tenth_address():
    plan = _plan(["10.233.0.0/18"])
    assert apply_cluster_dns(plan, None) == [] and apply_cluster_dns(plan, "") == []
    assert plan["dns_ip"] == "10.233.0.10"


def test_skydns_server_the_third_address():
    plan = _plan(["10.233.0.0/18"])
    assert apply_cluster_dns(plan, "10.233.0.3") == []
    assert plan["dns_ip"] == "10.233.0.3" and plan["families"]["ipv4"]["dns_ip"] == "10.233.0.3"


def test_nodelocaldns_link_local_address():
    plan = _plan(["10.233.0.0/18"])
    assert apply_cluster_dns(plan, "169.254.25.10") == []
    assert plan["dns_ip"] == "169.254.25.10"


def test_secondary_family_address_sets_only_that_family():
    plan = _plan(["10.233.0.0/18", "fd85:ee78:d8a6:8607::1000/116"])
    assert apply_cluster_dns(plan, "fd85:ee78:d8a6:8607::1003") == []
    assert plan["dns_ip"] == "10.233.0.10"
    assert plan["families"]["ipv6"]["dns_ip"] == "fd85:ee78:d8a6:8607::1003"


@pytest.mark.parametrize("value, words", [
    ("10.96.0.10", "neither inside the service range 10.233.0.0/18"),
    ("not-an-ip", "is not an IP address"),
    (["10.233.0.3"], "is not an IP address"),
    ("fd00::a", "no ipv6 service range"),
])
def test_refusals_name_the_option_and_leave_the_plan(value, words):
    plan = _plan(["10.233.0.0/18"])
    problems = apply_cluster_dns(plan, value)
    assert len(problems) == 1 and problems[0].startswith("cluster_dns: ") and words in problems[0], problems
    assert plan["dns_ip"] == "10.233.0.10"
