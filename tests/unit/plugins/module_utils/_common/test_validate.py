# -*- coding: utf-8 -*-
"""_common/validate.py, booleans.py, problems.py and kernel.py: every check names its option."""
import pytest
from hypothesis import given, strategies as st

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import booleans as B
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import kernel as K
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import problems as P
from ansible_collections.kubelayer.runtime.plugins.module_utils._common import validate as V


def refused(check, value, *args, **kw):
    problems = []
    out = check("opt", value, problems, *args, **kw)
    assert out is None or problems == [] or check is V.check_unique
    return problems


@pytest.mark.parametrize("value", ["a\0b", "a\rb", "a\nb", "a\tb", "a\x7fb", u"a\u2028b", u"a\x85b", "", 5, None, []])
def test_text_refuses_control_characters_empty_and_non_strings(value):
    problems = refused(V.check_text, value)
    assert len(problems) == 1 and problems[0].startswith("opt: ")


@pytest.mark.parametrize("value", ["/.", "/a/.", "//a", "/a//b", "/a/../b", "..", "a/b", "", "/", "/a/", "/a\0",
                                   "/a\rb", 7])
def test_paths_refused(value):
    problems = refused(V.check_path, value)
    assert len(problems) == 1 and problems[0].startswith("opt: "), problems


def test_paths_accepted():
    problems = []
    assert V.check_path("o", "/etc/sysctl.d/x.conf", problems) == "/etc/sysctl.d/x.conf"
    assert V.check_path("o", "/etc/cni/net.d/", problems, directory=True) == "/etc/cni/net.d"
    assert V.check_path("o", "/", problems, allow_root=True) == "/"
    assert problems == []


@given(st.text(alphabet="/.ab", max_size=12))
def test_property_accepted_paths_are_normalised_and_absolute(value):
    problems = []
    out = V.check_path("o", value, problems)
    if out is not None:
        assert out.startswith("/") and "//" not in out and "/./" not in out + "/" and "/../" not in out + "/"
        assert out != "/" and problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith("o: ")


@pytest.mark.parametrize("value, low, high, ok", [
    (5, 1, 10, True), (0, 1, 10, False), (2 ** 70, 1, 2 ** 31, False), (True, 0, 1, False), ("5", 0, 9, False)])
def test_int(value, low, high, ok):
    problems = []
    assert (V.check_int("opt", value, problems, low, high) is not None) == ok
    assert all(p.startswith("opt: ") for p in problems) and bool(problems) != ok


@pytest.mark.parametrize("check, good, bad", [
    (V.check_kernel_module, ["br_netfilter", "nf-conntrack", "rbd"], ["-r", "a b", "a/b", "", "x" * 60, "a\0", "a.ko"]),
    (V.check_cni_plugin, ["portmap", "host-local", "v1.0"], ["..", ".", "a/b", "-x", ".hidden", "", "a\rb"]),
    (V.check_sysctl_key, ["net.ipv4.ip_forward", "net/ipv4/conf/eth0.1/rp_filter", "net.ipv4.conf.*.rp_filter",
                          "fs.aio-max-nr"],
     ["ip_forward", "net..x", "net/../x", "/net/x", "-net.x", "net.x\r", "net.x y", "net.x=1", ""]),
    (V.check_interface, ["eth0", "flannel.1", "enp0s31f6"], ["", ".", "..", "a/b", "a:b", "a b", "x" * 16]),
])
def test_name_grammars(check, good, bad):
    for value in good:
        problems = []
        assert check("opt", value, problems) == value and problems == [], value
    for value in bad:
        problems = []
        assert check("opt", value, problems) is None, value
        assert len(problems) == 1 and problems[0].startswith("opt: "), value


@pytest.mark.parametrize("value, out", [(True, "1"), (False, "0"), (5, "5"), ("4096 87380", "4096 87380"), (" 1 ", "1")])
def test_sysctl_values(value, out):
    problems = []
    assert V.check_sysctl_value("opt", value, problems) == out and problems == []


@pytest.mark.parametrize("value", ["1\rkernel.core_pattern = |/tmp/x", "1\0", "1\n", "  ", 1.5, None, [1]])
def test_sysctl_values_refused(value):
    problems = []
    assert V.check_sysctl_value("extra_sysctls.x", value, problems) is None
    assert problems[0].startswith("extra_sysctls.x: ")


def test_unique_and_distinct():
    problems = []
    assert not V.check_unique("policy_namespaces", ["default", "a", "default", "default"], problems)
    assert problems == ["policy_namespaces: 'default' is given more than once"]
    assert V.check_unique("x", [{"a": 1}, {"a": 2}], [], key=lambda d: d["a"])
    problems = V.check_distinct({"sysctl_file": "/etc/x", "modules_load_file": "/etc/x", "other": None}, [])
    assert problems == ["sysctl_file: /etc/x is also given as modules_load_file; one file cannot serve both"]
    assert V.check_within("dir", "/a/b/c", "/a/b", []) == "/a/b/c"
    assert V.check_within("dir", "/a/bc", "/a/b", []) is None


@pytest.mark.parametrize("value, out", [
    (True, True), ("yes", True), ("On", True), ("1", True), (1, True), ("t", True), ("Y", True),
    (False, False), ("no", False), ("off", False), ("0", False), (0, False), ("F", False),
    ("maybe", None), (2, None), (None, None), ([], None), (1.0, None)])
def test_booleans(value, out):
    assert B.parse_bool(value) is out
    problems = []
    B.check_bool("opt", value, problems)
    assert bool(problems) == (out is None) and all(p.startswith("opt: ") for p in problems)


def test_booleans_agree_with_ansible_core():
    from ansible.module_utils.parsing.convert_bool import boolean
    for value in list(B.TRUE_STRINGS) + list(B.FALSE_STRINGS) + [True, False, 1, 0]:
        assert boolean(value) is B.parse_bool(value)


def test_failure_shape():
    class Module(object):
        def fail_json(self, **kw):
            raise SystemExit(kw)
    with pytest.raises(SystemExit) as info:
        P.fail(Module(), "canal_node", ["a: x", "b: y"], files=[])
    assert info.value.args[0] == {"msg": "canal_node: 2 problems:\n- a: x\n- b: y", "problems": ["a: x", "b: y"],
                                  "files": []}
    P.fail_if(Module(), "x", [])
    assert P.OptionError(["a: b"]).problems == ["a: b"]
    assert P.problem("opt", "bad") == "opt: bad"


def test_renderers():
    assert K.render_sysctl("# h\n", [("net.ipv4.ip_forward", "1"), ("fs.aio-max-nr", 5)]) == \
        "# h\nnet.ipv4.ip_forward = 1\nfs.aio-max-nr = 5\n"
    assert K.render_sysctl("# h\n", {"b.c": True, "a.b": "2"}) == "# h\na.b = 2\nb.c = 1\n"
    assert K.render_sysctl("# h\n", {}) is None
    assert K.render_modules_load("# h\n", ["vxlan", "br_netfilter"]) == "# h\nvxlan\nbr_netfilter\n"
    assert K.render_modules_load("# h\n", []) is None
    assert K.sysctl_path("net.ipv4.ip_forward") == "/proc/sys/net/ipv4/ip_forward"
    assert K.sysctl_path("net/ipv4/conf/eth0.1/rp_filter") == "/proc/sys/net/ipv4/conf/eth0.1/rp_filter"
    for bad in (("a.b", "1\rkernel.core_pattern = |/x"), ("a\nb.c", "1")):
        with pytest.raises(ValueError):
            K.render_sysctl("# h\n", [bad])
    with pytest.raises(ValueError):
        K.render_modules_load("# h\n", ["-r"])


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers(), st.booleans()), max_size=4))
def test_property_rendered_sysctl_has_one_line_per_setting(settings):
    try:
        text = K.render_sysctl("# h\n", settings)
    except ValueError:
        return
    if text is not None:
        assert text.count("\n") == len(settings) + 1
        assert not any(c in text for c in "\r\0\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def test_container_check():
    assert K.is_container(True, False, b"")
    assert K.is_container(False, False, b"PATH=/bin\0container=podman\0")
    assert not K.is_container(False, False, None)
    assert K.in_container() in (True, False)
