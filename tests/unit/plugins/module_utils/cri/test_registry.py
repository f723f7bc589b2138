"""Tests for the hosts.toml planner (kubespray containerd_registries_mirrors schema)."""
import base64
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import registry
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.registry import RegistryError, plan

KUBESPRAY_DEFAULT = [
    {
        "prefix": "docker.io",
        "mirrors": [{"host": "https://registry-1.docker.io", "capabilities": ["pull", "resolve"], "skip_verify": False}],
    }
]


def _parsed(item):
    return tomllib.loads(registry.render(item["document"]))


def test_kubespray_default_docker_io():
    (item,) = plan(KUBESPRAY_DEFAULT)
    assert item["dir"] == "docker.io"
    assert item["credentials"] is False
    assert _parsed(item) == {
        "server": "https://registry-1.docker.io",
        "host": {"https://registry-1.docker.io": {"capabilities": ["pull", "resolve"], "skip_verify": False}},
    }


def test_full_mirror_schema_and_default_server():
    regs = [
        {
            "prefix": "registry.example.com:5000",
            "mirrors": [
                {
                    "host": "mirror.local:8443/v2/cache",
                    "capabilities": "pull",
                    "skip_verify": True,
                    "override_path": True,
                    "ca": "/etc/ssl/ca.pem",
                    "client": [["/etc/ssl/c.pem", "/etc/ssl/c.key"]],
                    "header": {"X-Tenant": ["a", "b"], "X-One": "1"},
                    "dial_timeout": "1s",
                },
                {"host": "http://10.0.0.5:5000"},
            ],
        }
    ]
    (item,) = plan(regs)
    doc = _parsed(item)
    assert item["dir"] == "registry.example.com:5000"
    assert doc["server"] == "https://registry.example.com:5000"
    assert list(doc["host"]) == ["https://mirror.local:8443/v2/cache", "http://10.0.0.5:5000"]
    first = doc["host"]["https://mirror.local:8443/v2/cache"]
    assert first == {
        "capabilities": ["pull"],
        "skip_verify": True,
        "override_path": True,
        "dial_timeout": "1s",
        "ca": "/etc/ssl/ca.pem",
        "client": [["/etc/ssl/c.pem", "/etc/ssl/c.key"]],
        "header": {"X-Tenant": ["a", "b"], "X-One": "1"},
    }
    assert doc["host"]["http://10.0.0.5:5000"] == {"capabilities": ["pull", "resolve"], "skip_verify": False}


def test_default_namespace_has_no_server():
    (item,) = plan([{"prefix": "*", "mirrors": [{"host": "https://mirror.example"}]}])
    assert item["dir"] == "_default"
    assert "server" not in _parsed(item)


def test_explicit_server_wins():
    (item,) = plan([{"prefix": "quay.io", "server": "https://quay-mirror.example/"}])
    assert _parsed(item) == {"server": "https://quay-mirror.example"}


def test_auth_user_password_becomes_basic_header_on_matching_mirror():
    regs = [{"prefix": "docker.io", "mirrors": [{"host": "https://mirror.corp:5000"}, {"host": "https://other"}]}]
    auth = [{"registry": "mirror.corp:5000", "username": "bob", "password": "s3cret"}]
    (item,) = plan(regs, auth)
    doc = _parsed(item)
    token = base64.b64encode(b"bob:s3cret").decode()
    assert doc["host"]["https://mirror.corp:5000"]["header"] == {"Authorization": "Basic " + token}
    assert "header" not in doc["host"]["https://other"]
    assert item["credentials"] is True
    redacted = registry.render(registry.redact(item["document"]))
    assert token not in redacted and registry.REDACTED in redacted


def test_auth_for_registry_without_mirrors_gets_its_own_file():
    token = base64.b64encode(b"u:p").decode()
    plans = plan(KUBESPRAY_DEFAULT, [{"registry": "https://private.example:5000", "auth": token}])
    assert [p["dir"] for p in plans] == ["docker.io", "private.example:5000"]
    assert _parsed(plans[1]) == {"server": "https://private.example:5000", "header": {"Authorization": "Basic " + token}}
    assert plans[1]["credentials"] and not plans[0]["credentials"]


def test_auth_matching_prefix_goes_on_server():
    plans = plan([{"prefix": "docker.io"}], [{"registry": "docker.io", "username": "a", "password": "b"}])
    assert len(plans) == 1
    assert _parsed(plans[0])["header"]["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    "prefix, fragment",
    [
        ("evil\nhost", "newline"),
        ('ev"il', "double quote"),
        ("host]", "']'"),
        ("docker.io/..", "/.."),
        ("../etc", "/.."),
        ("a/b", "without '/'"),
        ("host:99999", "invalid port"),
        ("", "required"),
        ("-bad-.com", "registry host name"),
    ],
)
def test_bad_prefix_is_named(prefix, fragment):
    with pytest.raises(RegistryError) as err:
        plan([{"prefix": prefix}])
    assert "registries[0].prefix" in str(err.value)
    assert fragment in str(err.value)


def test_every_problem_is_reported():
    regs = [
        {"prefix": "ok.example", "mirrors": [
            {"host": "ftp://x", "capabilities": ["pull", "fly"], "ca": "relative/ca.pem", "skip_verify": "maybe"},
            {"host": 'https://a"b'},
            {"host": "https://m/../x"},
        ], "extra": 1},
        {"prefix": "ok.example"},
    ]
    auth = [{"registry": "r.example", "auth": "!!notbase64"}]
    with pytest.raises(RegistryError) as err:
        plan(regs, auth)
    text = "\n".join(err.value.errors)
    for expected in (
        "registries[0] has an unknown key 'extra'",
        "registries[0].mirrors[0].host must use http:// or https://",
        "registries[0].mirrors[0].capabilities has 'fly'",
        "registries[0].mirrors[0].ca[0] must be an absolute path",
        "registries[0].mirrors[0].skip_verify must be a boolean",
        "registries[0].mirrors[1].host must not contain a double quote",
        "registries[0].mirrors[2].host must not contain '/..'",
        "registries[1].prefix 'ok.example' uses the same directory as registries[0]",
        "auth[0].auth is not valid base64",
    ):
        assert expected in text
    assert len(err.value.errors) >= 9


def test_header_conflict_and_bad_header_values():
    regs = [{"prefix": "r.example", "mirrors": [{"host": "https://r.example", "header": {"Authorization": "x", "Bad Name": "v", "X": "a\nb"}}]}]
    with pytest.raises(RegistryError) as err:
        plan(regs, [{"registry": "r.example", "username": "u", "password": "p"}])
    text = str(err.value)
    assert "not a valid HTTP header name" in text
    assert "without CR, LF or NUL" in text
    assert "sets Authorization" in text


def test_ipv6_mirror_allowed_but_brackets_elsewhere_rejected():
    (item,) = plan([{"prefix": "r.example", "mirrors": [{"host": "https://[fd00::1]:5000"}]}])
    assert list(_parsed(item)["host"]) == ["https://[fd00::1]:5000"]
    with pytest.raises(RegistryError, match="only around an IPv6"):
        plan([{"prefix": "r.example", "mirrors": [{"host": "https://x]y"}]}])


def test_stale_dirs():
    assert registry.stale_dirs(["docker.io", "old.example", "_default"], ["docker.io", "_default"]) == ["old.example"]


def test_stale_dirs_only_marked_ones():
    # myreg:5000 was made by hand (no marker): exclusive mode never touches it
    existing = ["docker.io", "old.example", "myreg:5000"]
    assert registry.stale_dirs(existing, ["docker.io"], marked=["docker.io", "old.example"]) == ["old.example"]
    assert registry.stale_dirs(existing, ["docker.io"], marked=[]) == []


def test_removable_files_are_only_the_collections():
    assert registry.removable_files(["hosts.toml", registry.MARKER]) == sorted(["hosts.toml", registry.MARKER])
    assert registry.removable_files(["hosts.toml", registry.MARKER, "ca.crt"]) == sorted(["hosts.toml", registry.MARKER])


def test_redact_text_for_existing_files():
    text = '[host."x".header]\nAuthorization = "Basic abc"\nX-Other = "keep"\n'
    out = registry.redact_text(text)
    assert "abc" not in out and "keep" in out


HOSTISH = st.from_regex(r"\A[a-z]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z]([a-z0-9-]{0,8}[a-z0-9])?){0,2}(:[1-9][0-9]{0,3})?\Z")


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(HOSTISH, min_size=1, max_size=4, unique=True), st.lists(st.sampled_from(registry.CAPABILITIES), min_size=1, max_size=3))
def test_plans_always_render_valid_toml(prefixes, caps):
    regs = [{"prefix": p, "mirrors": [{"host": "https://%s/v2" % p, "capabilities": caps}]} for p in prefixes]
    plans = plan(regs)
    assert [p["dir"] for p in plans] == prefixes
    for p in plans:
        doc = _parsed(p)
        assert doc["host"]["https://%s/v2" % p["prefix"]]["capabilities"] == caps


@settings(max_examples=examples(200), deadline=None)
@given(st.text(max_size=20))
def test_arbitrary_prefix_never_escapes_certs_d(prefix):
    try:
        plans = plan([{"prefix": prefix}])
    except RegistryError as err:
        assert all(e.startswith("registries[0]") for e in err.errors)
        return
    (item,) = plans
    assert "/" not in item["dir"] and item["dir"] not in (".", "..")


def test_any_header_makes_the_file_private():
    """Header values are no_log: a token in X-Registry-Token is as secret as an Authorization header (0600)."""
    regs = [{"prefix": "r.example", "mirrors": [{"host": "https://m.example", "header": {"X-Registry-Token": "t"}}]},
            {"prefix": "s.example", "mirrors": [{"host": "https://n.example"}]}]
    plans = plan(regs)
    assert [p["credentials"] for p in plans] == [True, False]
