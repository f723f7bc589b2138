# -*- coding: utf-8 -*-
"""_common/inventory_key.py and the inventory_key filter: one stable, readable key per inventory, never shared."""
import os

import pytest
from hypothesis import given, strategies as st

from ansible_collections.kubelayer.runtime.plugins.filter.inventory_key import inventory_key as key_filter
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.inventory_key import inventory_key

PATHS = st.lists(st.from_regex(r"\A(/[a-z0-9._-]{1,8}){1,4}\Z"), min_size=1, max_size=3, unique=True)


@pytest.mark.parametrize("source,is_dir,name", [
    ("/home/me/kubespray/inventory/mycluster/inventory.ini", False, "mycluster"),
    ("/home/me/kubespray/inventory/mycluster/hosts.yaml", False, "mycluster"),
    ("/home/me/kubespray/inventory/mycluster", True, "mycluster"),
    ("/home/me/kubespray/inventory/mycluster/", True, "mycluster"),
    ("/srv/inventories/prod.yml", False, "prod"),
    ("node1,node2,", False, "hosts"),
    ("/srv/inv/my cluster (eu)", True, "my-cluster-eu"),
    ("/", True, "inventory"),
])
def test_the_name_part_reads_as_the_cluster(source, is_dir, name):
    key = inventory_key([(source, is_dir)])
    assert key.rsplit("-", 1)[0] == name and len(key.rsplit("-", 1)[1]) == 12


@given(PATHS, PATHS)
def test_two_inventories_never_share_a_key_and_one_keeps_its_own(a, b):
    key_a = inventory_key([(p, True) for p in a])
    assert key_a == inventory_key([(p, True) for p in reversed(a)])  # -i order does not matter
    assert (key_a == inventory_key([(p, True) for p in b])) is (sorted(set(a)) == sorted(set(b)))


def test_the_filter_resolves_paths_so_the_working_directory_and_links_do_not_matter(tmp_path, monkeypatch):
    inv = tmp_path / "inventory" / "mycluster"
    inv.mkdir(parents=True)
    (inv / "hosts.yaml").write_text("all: {}\n")
    os.symlink(str(inv), str(tmp_path / "link"))
    key = key_filter([str(inv / "hosts.yaml")])
    assert key.startswith("mycluster-")
    monkeypatch.chdir(str(tmp_path / "inventory"))
    assert key_filter(["mycluster/hosts.yaml"]) == key == key_filter(str(tmp_path / "link" / "hosts.yaml"))
    assert key_filter([str(inv)]) != key  # the directory and a file in it are two different inventory sources
    assert key_filter([str(inv)]).startswith("mycluster-")
