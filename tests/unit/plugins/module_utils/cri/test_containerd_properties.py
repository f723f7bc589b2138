# -*- coding: utf-8 -*-
"""Property tests: merge is idempotent; hostile names/values never inject keys."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import tomlkit
from hypothesis import HealthCheck, event, example, given, settings, strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_merge as cm
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_runtimes as cr
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_settings as cset
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_spec as cs
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_tables as ct
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_versions as cv

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "containerd")
START_FILES = [None] + sorted(os.listdir(FIXTURES))
VERSIONS = [(1, 6, 20), (1, 7, 24), (2, 0, 5), (2, 1, 9), (2, 2, 7), (2, 3, 4)]

HOSTILE = st.sampled_from(['"', "'", "]", "[", "\n", "\r", "\\", "=", "#", ".", "/..", "\u0000", "\u2028", '"""', "'''",
                           "[plugins.evil]\nx = 1", '"]\n[evil]\n', "\t", " ", "\U0001F600"])
TEXT = st.lists(st.one_of(HOSTILE, st.text(max_size=4)), max_size=6).map("".join)
SCALAR = st.one_of(TEXT, st.booleans(), st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1),
                   st.floats(allow_nan=False, allow_infinity=False))
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(TEXT.filter(bool), inner, max_size=3)),
                     max_leaves=6)
SETTING_NAMES = st.sampled_from([
    "cri.runtime.enable_selinux", "cri.runtime.x", "cri.images.max_concurrent_downloads", "cri.registry.headers",
    "cri.cni.max_conf_num", "cri.containerd.ignore_rdt_not_enabled_errors", "cri.streaming.stream_server_port",
    "server.grpc.address", "server.debug.level", "server.metrics.grpc_histogram", "snapshotters.overlayfs.root_path",
    "gc.pause_threshold", "nri.disable",
])
RUNTIME_NAMES = st.one_of(st.sampled_from(["runc", "crun", "kata-qemu", "nvidia", "gvisor"]), TEXT)


CLEAN_TEXT = st.sampled_from(["a", "/opt/bin/x", "debug", "127.0.0.1:1338", ""])
CLEAN_VALUE = st.one_of(CLEAN_TEXT, st.booleans(), st.integers(-(2 ** 63), 2 ** 63 - 1),
                        st.floats(allow_nan=False, allow_infinity=False),
                        st.dictionaries(st.sampled_from(["k", "X-Meta", "r.example:5000"]), CLEAN_TEXT, max_size=2))


@st.composite
def specs(draw, hostile=True):
    text = TEXT if hostile else CLEAN_TEXT
    value = VALUE if hostile else CLEAN_VALUE
    names = RUNTIME_NAMES if hostile else st.sampled_from(["runc", "crun", "kata-qemu", "nvidia", "gvisor"])
    spec = dict(path="/etc/containerd/config.toml", cgroup_driver=draw(st.sampled_from(["auto", "systemd", "cgroupfs"])),
                default_runtime="runc")
    if draw(st.booleans()):
        spec["sandbox_image"] = draw(st.one_of(st.just("registry.k8s.io/pause:3.10"), text))
    if draw(st.booleans()):
        spec["config_path"] = draw(st.one_of(st.just("/etc/containerd/certs.d"), text.map(lambda t: "/" + t)))
    if draw(st.booleans()):
        spec["cni_bin_dir"] = [draw(st.one_of(st.just("/opt/cni/bin"), text.map(lambda t: "/" + t)))]
    runtimes = {}
    for name in draw(st.lists(names, max_size=3)):
        runtimes[name] = {
            "kind": draw(st.sampled_from(["runc", "crun", "kata", "gvisor", "nvidia"])),
            "options": draw(st.dictionaries(st.sampled_from(["BinaryName", "Root", "NoPivotRoot", "ConfigPath"])
                                            | (TEXT if hostile else st.just("Extra")),
                                            SCALAR if hostile else st.sampled_from(["/opt/bin/x", True, 3]), max_size=2)),
        }
    if runtimes:
        spec["runtimes"] = runtimes
    settings_ = draw(st.dictionaries(st.one_of(SETTING_NAMES, TEXT) if hostile else SETTING_NAMES, value, max_size=3))
    if settings_:
        spec["settings"] = settings_
    return spec


def keys(data, prefix=()):
    out = set()
    for k, v in data.items():
        out.add(prefix + (k,))
        if isinstance(v, dict):
            out |= keys(v, prefix + (k,))
    return out


def expected_keys(spec, version, before):
    """The key set a correct merge must produce: the start file's (migrated) keys plus the spec's."""
    out = set()
    for option in ("sandbox_image", "config_path", "cni_bin_dir"):
        if spec.get(option) is not None:
            out.add(ct.option_path(option, version))
    rpath = ct.option_path("runtimes", version)
    out.add(ct.option_path("default_runtime", version))
    if "runc" not in (spec.get("runtimes") or {}):  # the default handler the merge adds
        out.add(rpath + ("runc", "runtime_type"))
        out.add(rpath + ("runc", "options", "SystemdCgroup"))  # every spec here manages the cgroup driver
    for name, rt in (spec.get("runtimes") or {}).items():
        handler, options = cr.effective_runtime(name, rt, True)
        for key in handler:
            out.add(rpath + (name, ct.handler_key(key, version) if key != "runtime_type" else key))
        for key in options:
            out.add(rpath + (name, "options", key))
    for name, value in (spec.get("settings") or {}).items():
        path = cset.setting_path(name, version)[0]
        out |= _value_keys(path, value)
    full = set()
    for path in out | before:
        for i in range(1, len(path) + 1):
            full.add(path[:i])
    return full


def _value_keys(path, value):
    out = {path}
    if isinstance(value, dict):
        for k, v in value.items():
            out |= _value_keys(path + (k,), v)
    return out


def load(name):
    if name is None:
        return None
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.one_of(specs(hostile=False), specs()), version=st.sampled_from(VERSIONS),
       start=st.sampled_from(START_FILES), systemd=st.booleans())
def test_merge_is_idempotent(spec, version, start, systemd):
    problems = cs.validate_spec(spec, version)
    first = cm.merge(load(start), spec, version, systemd)
    event("refused" if problems or first.problems else "merged")
    if problems or first.problems:
        assert first.text is None or problems
        return
    second = cm.merge(first.text, spec, version, systemd)
    assert second.problems == []
    assert second.text == first.text
    assert second.file_version == cv.schema_version(version)


VALID_RUNTIME_NAMES = st.sampled_from(["runc", "crun", "kata-qemu", "nvidia", "gvisor"])
# settings whose value may be any string or table: a hostile value there must be accepted and kept a value
STRING_SETTINGS = st.sampled_from(["cri.runtime.x", "server.grpc.address", "server.debug.level",
                                   "snapshotters.overlayfs.root_path", "cri.cni.conf_template"])
TABLE_SETTINGS = st.sampled_from(["cri.registry.headers", "cri.runtime.y"])
ONE_IN_TEN = st.sampled_from([True] + [False] * 9)
OPTION_KEYS = st.sampled_from(["Extra_1", "ShimOption", "Annotation_2"])  # not paths: any string value is valid
TABLE_KEYS = st.sampled_from(["k", "X-Meta", "r.example:5000", "a.b", "with space", "ünï"])


def _rarely(draw, common, rare):
    """``rare`` in about one draw of ten, else ``common``: most examples get past validation to the assertion."""
    return draw(rare if draw(ONE_IN_TEN) else common)


def _key(draw):
    """A table key: ordinary, or (rarely) hostile text."""
    return TEXT.filter(bool) if draw(ONE_IN_TEN) else TABLE_KEYS


@st.composite
def injection_specs(draw):
    """Hostile values everywhere a value goes (option values, setting values, table keys inside values); hostile
    names (runtime names, setting names, image references, paths) rarely, since validation refuses those."""
    spec = dict(path="/etc/containerd/config.toml", cgroup_driver=draw(st.sampled_from(["auto", "systemd", "cgroupfs"])),
                default_runtime="runc")
    if draw(st.booleans()):
        spec["sandbox_image"] = _rarely(draw, st.just("registry.k8s.io/pause:3.10"), TEXT)
    if draw(st.booleans()):
        spec["config_path"] = _rarely(draw, st.just("/etc/containerd/certs.d"), TEXT.map(lambda t: "/" + t))
    runtimes = {}
    for _index in range(draw(st.integers(0, 3))):
        name = _rarely(draw, VALID_RUNTIME_NAMES, TEXT.filter(bool))
        runtimes[name] = {"kind": draw(st.sampled_from(["runc", "crun", "kata", "gvisor", "nvidia"])),
                          "options": draw(st.dictionaries(OPTION_KEYS, TEXT, max_size=2))}
    if runtimes:
        spec["runtimes"] = runtimes
    settings_ = {}
    for _index in range(draw(st.integers(0, 2))):
        settings_[_rarely(draw, STRING_SETTINGS, st.one_of(SETTING_NAMES, TEXT))] = draw(TEXT)
    if draw(st.booleans()):
        settings_[draw(TABLE_SETTINGS)] = draw(st.dictionaries(_key(draw), TEXT, max_size=3))
    if settings_:
        spec["settings"] = settings_
    return spec


def _problem_names_its_option(problem, spec):
    return any(problem.startswith(option) and problem[len(option):][:1] in (":", ".", "[") for option in spec)


def test_hostile_values_never_inject_keys():
    """Hostile strings as values (and rarely as names) never add a key: the merged file has exactly the keys the
    spec asks for, and every value reads back exactly. Most examples must reach that assertion: inputs validation
    refuses are counted, their problems must name the option, and they may be at most half of the examples."""
    seen = {"merged": 0, "refused": 0}

    @settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(spec=injection_specs(), version=st.sampled_from(VERSIONS))
    @example(spec={"path": "/etc/containerd/config.toml", "cgroup_driver": "systemd", "default_runtime": "runc",
                   "runtimes": {"evil": {"kind": "runc", "options": {"Extra_1": '/x"]\n[plugins.evil]\ny = 1'}}},
                   "settings": {"cri.registry.headers": {'X-Meta': ["'" * 3 + "\n[evil2]"]},
                                "server.debug.level": '"\n[plugins."io.containerd.evil"]\nz = 2\n'}},
             version=(2, 3, 4))
    def check(spec, version):
        problems = cs.validate_spec(spec, version)
        result = cm.merge(None, spec, version, True)
        event("refused by validation" if problems else "merged")
        if problems:
            # the action plugin stops here, nothing is written; each problem names its option
            seen["refused"] += 1
            assert all(_problem_names_its_option(p, spec) for p in problems), problems
            return
        seen["merged"] += 1
        assert result.problems == [], result.problems
        data = tomlkit.parse(result.text).unwrap()
        assert keys(data) == expected_keys(spec, version, {("version",)})
        for name, value in (spec.get("settings") or {}).items():
            got = data
            for k in cs.setting_path(name, version)[0]:
                got = got[k]
            if isinstance(value, dict):
                for k, v in value.items():
                    assert cm.same_value(got[k], v)
            else:
                assert cm.same_value(got, value)
        for name, runtime in (spec.get("runtimes") or {}).items():
            if not runtime["options"]:
                continue
            got = data
            for k in ct.option_path("runtimes", version) + (name, "options"):
                got = got[k]
            for k, v in runtime["options"].items():
                assert got[k] == v
        if spec.get("sandbox_image") is not None:
            got = data
            for k in ct.option_path("sandbox_image", version):
                got = got[k]
            assert got == spec["sandbox_image"]

    check()
    total = seen["merged"] + seen["refused"]
    assert total >= 5 and seen["merged"] * 2 >= total, "only %(merged)d of the examples got past validation" % seen


@settings(max_examples=examples(100), deadline=None)
@given(name=TEXT)
def test_runtime_names_outside_rfc1123_are_refused(name):
    problem = cr.runtime_name_problem(name)
    ok = bool(cr.RFC1123_LABEL.match(name)) and len(name) <= 63
    assert (problem is None) == ok
    if any(c in name for c in ('\n', '"', "]")) or "/.." in name:
        assert problem is not None


NAMES = st.sampled_from(["containerd", "runtimes", "runc", "options", "cni", "registry", "sandbox_image", "bin_dir",
                         "bin_dirs", "SystemdCgroup", "runtime_type", "default_runtime_name", "mirrors", "config_path",
                         "pinned_images", "sandbox", "address", "x", "tls", "configs", "snapshotter"])
PLUGIN_IDS = st.sampled_from([ct.CRI_V2[1], ct.CRI_IMAGES[1], ct.CRI_RUNTIME[1], "io.containerd.internal.v1.opt",
                              "cri", "io.containerd.runtime.v1.linux", "io.containerd.server.v1.grpc"])
TREE = st.recursive(st.one_of(st.booleans(), st.integers(-5, 5), st.sampled_from(["", "/a", "io.containerd.runc.v2"]),
                              st.lists(st.sampled_from(["/opt/cni/bin", "cri"]), max_size=2)),
                    lambda inner: st.dictionaries(NAMES, inner, max_size=3), max_leaves=8)


@st.composite
def start_documents(draw):
    doc = {}
    version = draw(st.sampled_from([None, 1, 2, 3, 4]))
    if version is not None:
        doc["version"] = version
    if draw(st.booleans()):
        doc["disabled_plugins"] = draw(st.lists(st.sampled_from(["cri", "io.containerd.grpc.v1.cri", "zfs", "x.y"]),
                                                max_size=3))
    plugins = draw(st.dictionaries(PLUGIN_IDS, st.dictionaries(NAMES, TREE, max_size=3), max_size=3))
    if plugins:
        doc["plugins"] = plugins
    for section in draw(st.lists(st.sampled_from(["grpc", "ttrpc", "debug", "metrics"]), max_size=2, unique=True)):
        doc[section] = draw(st.dictionaries(st.sampled_from(["address", "uid", "level", "tcp_address"]),
                                            st.sampled_from(["/run/x.sock", 0, 1000, "debug"]), max_size=2))
    return tomlkit.dumps(doc)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=start_documents(), version=st.sampled_from(VERSIONS), systemd=st.booleans())
def test_arbitrary_start_files_never_break_the_merge(text, version, systemd):
    spec = {"path": "/etc/containerd/config.toml", "cgroup_driver": "auto", "default_runtime": "runc",
            "sandbox_image": "registry.k8s.io/pause:3.10", "cni_bin_dir": ["/opt/cni/bin"]}
    result = cm.merge(text, spec, version, systemd)
    event("refused" if result.problems else "merged")
    if result.problems:
        assert result.text is None
        assert all(isinstance(p, str) and p for p in result.problems)
        return
    data = tomlkit.parse(result.text).unwrap()
    assert data["version"] == cv.schema_version(version)
    assert not set(data.get("disabled_plugins", [])) & set(cm.CRI_PLUGIN_IDS_2X)
    allowed_top = set(tomlkit.parse(text).unwrap()) | {"version", "plugins"}
    if cv.schema_version(version) >= 4 and (result.file_version or 0) < 4:
        allowed_top -= {"grpc", "ttrpc", "metrics"}  # migrated into server plugins
        assert set(data.get("debug", {})) <= {"level", "format", "log_trace_id"}  # stay top level in 2.3
    assert set(data) <= allowed_top
    if cv.schema_version(version) >= 4 and set(data) & {"grpc", "ttrpc", "metrics"}:
        assert any("ignores the top-level" in w for w in result.warnings)
    again = cm.merge(result.text, spec, version, systemd)
    assert again.problems == [] and again.text == result.text
