# -*- coding: utf-8 -*-
"""Connection-set algebra (ports per protocol)."""
from hypothesis import given, strategies as st

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import conns

PROTO = st.sampled_from(conns.PORT_PROTOCOLS)
RANGE = st.tuples(st.integers(1, 65535), st.integers(0, 200)).map(lambda t: (t[0], min(65535, t[0] + t[1])))
SETS = st.lists(st.tuples(PROTO, RANGE), max_size=5).map(
    lambda items: conns.union(*[conns.make(p, lo, hi) for p, (lo, hi) in items]) if items else {})


def test_ports_round_trip_and_text():
    ports = [{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 81, "endPort": 90},
             {"protocol": "UDP", "port": 53}]
    c = conns.from_ports(ports)
    assert c == {"TCP": ((80, 90),), "UDP": ((53, 53),)}
    assert conns.to_ports(c) == [{"protocol": "TCP", "port": 80, "endPort": 90}, {"protocol": "UDP", "port": 53}]
    assert conns.fmt(c) == "TCP 80-90; UDP 53"
    assert conns.from_ports(None) == conns.ALL and conns.to_ports(conns.ALL) is None
    assert conns.fmt({}) == "none" and conns.fmt(conns.ALL) == "all"
    assert conns.subtract(conns.ALL, {"TCP": conns.FULL})["UDP"] == conns.FULL


@given(SETS, SETS)
def test_algebra(a, b):
    both = conns.intersect(a, b)
    assert conns.union(conns.subtract(a, b), both) == a
    assert conns.subtract(both, a) == {} and conns.subtract(both, b) == {}
    assert conns.union(a, b) == conns.union(b, a)
    assert conns.from_ports(conns.to_ports(a)) == a if a else True
