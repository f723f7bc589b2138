# -*- coding: utf-8 -*-
"""Intents shared by the network policy tests (the three-tier example of the molecule scenario and the docs)."""
import copy

THREE_TIER = {
    "namespaces": {
        "shop": {"profile": "isolated", "labels": {"tier": "app"}},
        "data": {"profile": "isolated"},
        "monitoring": {"profile": "isolated", "api_server": True},
    },
    "workloads": {
        "web": {"namespace": "shop", "podSelector": {"matchLabels": {"app": "web"}}},
        "api": {"namespace": "shop", "podSelector": {"matchLabels": {"app": "api"}}},
        "db": {"namespace": "data", "podSelector": {"matchLabels": {"app": "db"}}},
        "prometheus": {"namespace": "monitoring", "podSelector": {"matchLabels": {"app": "prometheus"}}},
    },
    "flows": [
        {"name": "internet-to-web", "from": {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}},
         "to": {"workload": "web"}, "ports": [{"protocol": "TCP", "port": 8443}]},
        {"name": "web-to-api", "from": {"workload": "web"}, "to": {"workload": "api"},
         "ports": [{"protocol": "TCP", "port": 8080}]},
        {"name": "api-to-db", "from": {"workload": "api"}, "to": {"workload": "db"},
         "ports": [{"protocol": "TCP", "port": 5432}]},
        {"name": "scrape-shop", "from": {"workload": "prometheus"}, "to": {"namespace": "shop"},
         "ports": [{"protocol": "TCP", "port": 9090}]},
        {"name": "scrape-db", "from": {"workload": "prometheus"}, "to": {"workload": "db"},
         "ports": [{"protocol": "TCP", "port": 9187}]},
    ],
    "cluster": {
        "api_server": {"cidrs": ["192.0.2.10/32"]},
        "kubelet_probes": {"cidrs": ["10.89.0.0/24"]},
    },
}
DNS = "10.233.0.10"


def three_tier():
    return copy.deepcopy(THREE_TIER)
