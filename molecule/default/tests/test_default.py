"""The site playbook's result on every lab node."""


def test_node_is_debian(host):
    assert host.system_info.distribution == "debian"
