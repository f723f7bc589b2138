# -*- coding: utf-8 -*-
"""registry_auth: kubespray's containerd_registry_auth as containerd's CRI registry configs, per config version;
hostile values cannot add a key and never show in problems or the redacted diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import tomlkit
from hypothesis import given, settings, strategies as st

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_merge as cm
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import containerd_spec as cs
from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import registry_auth as ra

from hypothesis_budget import examples

V16, V17, V21, V23 = (1, 6, 20), (1, 7, 24), (2, 1, 9), (2, 3, 4)
CRI = "io.containerd.grpc.v1.cri"
IMG = "io.containerd.cri.v1.images"
# the place of the tables per release, from containerd's own config structs (1.6.39 pkg/cri/config, 2.1.9 and
# 2.3.4 internal/cri/config/config.go; 2.3's images plugin keeps the 2.x key, its ConfigMigration does not move it)
PLACES = {V16: ("plugins", CRI, "registry", "configs"), V17: ("plugins", CRI, "registry", "configs"),
          V21: ("plugins", IMG, "registry", "configs"), V23: ("plugins", IMG, "registry", "configs")}
KUBESPRAY = [
    {"registry": "10.0.0.2:5000", "username": "user", "password": "pass"},
    {"registry": "registry.example.com", "auth": "dXNlcjpwYXNz"},  # base64("user:pass")
]


def _merge(existing, auth, version, **extra):
    spec = dict(path="/etc/containerd/config.toml", cgroup_driver="systemd", registry_auth=auth)
    spec.update(extra)
    return cm.merge(existing, spec, version)


def _at(data, path):
    for key in path:
        data = data[key]
    return data


def test_kubespray_items_land_in_the_cri_registry_configs_of_each_release():
    for version, place in sorted(PLACES.items()):
        result = _merge(None, KUBESPRAY, version, config_path="/etc/containerd/certs.d")
        assert result.problems == [], version
        data = tomlkit.parse(result.text).unwrap()
        assert _at(data, place) == {
            "10.0.0.2:5000": {"auth": {"username": "user", "password": "pass"}},
            "registry.example.com": {"auth": {"auth": "dXNlcjpwYXNz"}},
        }, version
        # config_path (hosts.toml for mirrors) stays beside them: containerd reads both
        assert _at(data, place[:-1])["config_path"] == "/etc/containerd/certs.d"
        assert result.holds_credentials is True
        assert data["version"] == (2 if version[0] == 1 else 3 if version < (2, 3) else 4)


def test_kubespray_template_text_is_what_we_write_on_1x():
    """kubespray's config-v1.toml.j2 writes [plugins."io.containerd.grpc.v1.cri".registry.configs."<r>".auth]
    with password and username, or auth: the same table, key for key."""
    text = _merge(None, KUBESPRAY[:1], V16).text
    assert '[plugins."io.containerd.grpc.v1.cri".registry.configs."10.0.0.2:5000".auth]' in text
    assert 'username = "user"' in text and 'password = "pass"' in text


def test_identitytoken_and_scheme_and_case():
    result = _merge(None, [{"registry": "https://GHCR.io/", "identitytoken": "tok"}], V21)
    assert _at(tomlkit.parse(result.text).unwrap(), PLACES[V21]) == {"ghcr.io": {"auth": {"identitytoken": "tok"}}}


def test_list_owns_the_auth_tables_and_says_which_it_removed():
    first = _merge(None, KUBESPRAY, V17).text
    again = _merge(first, KUBESPRAY, V17)
    assert again.text == first and again.warnings == []
    fewer = _merge(first, KUBESPRAY[1:], V17)
    data = tomlkit.parse(fewer.text).unwrap()
    assert list(_at(data, PLACES[V17])) == ["registry.example.com"]
    assert fewer.warnings == ["registry_auth: the credentials for 10.0.0.2:5000 were removed from the file "
                              "(not in registry_auth)"]
    assert "pass" not in " ".join(fewer.warnings)
    empty = _merge(first, [], V17)
    assert "configs" not in _at(tomlkit.parse(empty.text).unwrap(), PLACES[V17][:-1])
    assert empty.holds_credentials is False


def test_not_given_leaves_the_tables_alone_and_other_keys_of_a_host_survive():
    existing = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example".tls]\n'
                'insecure_skip_verify = true\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example".auth]\n'
                'username = "old"\npassword = "old-pass"\n')
    kept = cm.merge(existing, dict(cgroup_driver="systemd"), V17)
    assert 'password = "old-pass"' in kept.text and kept.holds_credentials
    replaced = _merge(existing, [{"registry": "r.example", "auth": "dXNlcjpwYXNz"}], V17)
    host = _at(tomlkit.parse(replaced.text).unwrap(), PLACES[V17])["r.example"]
    assert host == {"tls": {"insecure_skip_verify": True}, "auth": {"auth": "dXNlcjpwYXNz"}}


def test_a_v2_file_with_credentials_migrates_them_to_the_images_plugin():
    existing = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example".auth]\n'
                'username = "u"\npassword = "p"\n')
    result = _merge(existing, [{"registry": "r.example", "username": "u", "password": "p"}], V21)
    data = tomlkit.parse(result.text).unwrap()
    assert _at(data, PLACES[V21]) == {"r.example": {"auth": {"username": "u", "password": "p"}}}
    assert CRI not in data.get("plugins", {}) or "registry" not in data["plugins"][CRI]


def _problems(auth):
    return cs.validate_spec(dict(registry_auth=auth), V21)


def test_kubespray_shapes_that_cannot_work_are_refused_naming_the_item():
    assert _problems([{"registry": "r.example", "username": "u"}]) == [
        "registry_auth[0]: username and password go together"]
    assert _problems([{"registry": "r.example", "username": "u", "password": "p", "auth": "dXNlcjpwYXNz"}]) == [
        "registry_auth[0]: give exactly one of username and password, auth, or identitytoken "
        "(got username/password, auth)"]
    assert _problems([{"registry": "r.example"}]) == [
        "registry_auth[0]: give exactly one of username and password, auth, or identitytoken (got none)"]
    assert _problems([{"registry": "r.example", "auth": "!!"}]) == [
        "registry_auth[0].auth is not valid base64 (expected base64 of 'user:password')"]
    assert _problems([{"registry": "a.example", "auth": "dXNlcjpwYXNz"},
                      {"registry": "A.example", "auth": "dXNlcjpwYXNz"}]) == [
        "registry_auth[1].registry: a.example is listed twice (also registry_auth[0])"]
    assert _problems([{"registry": "*", "auth": "dXNlcjpwYXNz"}])[0].startswith("registry_auth[0].registry")
    assert _problems([{"registry": "r.example", "auth": "dXNlcjpwYXNz", "email": "x"}]) == [
        "registry_auth[0]: unknown key 'email' (allowed: registry, username, password, auth, identitytoken)"]
    assert _problems("r.example") == [
        "registry_auth: must be a list of {registry, username, password} or {registry, auth} items"]


def test_credentials_through_settings_are_refused():
    for name, value in (("cri.registry.configs", {"r.example": {"auth": {"username": "u"}}}),
                        ("cri.registry.auths", {"https://r.example": {"username": "u"}}),
                        ("cri.registry", {"configs": {"r": {"auth": {"password": "p"}}}})):
        problems = cs.validate_spec(dict(settings={name: value}), V17)
        assert problems == ["settings: %r: registry credentials go in registry_auth (kept out of the diff, "
                            "file 0600)" % name]
    # TLS of a 1.x registry config is not a credential
    assert cs.validate_spec(dict(settings={"cri.registry.configs": {"r": {"tls": {"insecure_skip_verify": True}}}}),
                            V17) == []


def test_redact_hides_every_credential_form_and_keeps_the_rest():
    text = ('version = 2\n# a comment\n[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = "/c"\n'
            'headers = {Authorization = ["Basic c2VjcmV0"], X-Other = ["keep"]}\n'
            '[plugins."io.containerd.grpc.v1.cri".registry.auths."https://old.example"]\nauth = "b2xkOnNlY3JldA=="\n'
            '[plugins."io.containerd.grpc.v1.cri".registry.configs."r".auth]\nusername = "u-secret"\n'
            'password = "p-secret"\nidentitytoken = "t-secret"\n')
    out = ra.redact_text(text)
    for secret in ("c2VjcmV0", "b2xkOnNlY3JldA==", "u-secret", "p-secret", "t-secret"):
        assert secret not in out
    assert "# a comment" in out and 'config_path = "/c"' in out and '"keep"' in out
    assert ra.redact_text("not = [toml") == "(not shown: not valid TOML, and it may hold registry credentials)\n"
    assert ra.redact_text("") == ""


SECRET = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


def _keys(data, prefix=()):
    """Every key path of a parsed document (values left out)."""
    out = set()
    for key, value in data.items():
        out.add(prefix + (key,))
        if isinstance(value, dict):
            out |= _keys(value, prefix + (key,))
    return out


def _with(user, password, version):
    return _merge(None, [{"registry": "r.example:5000", "username": user, "password": password}], version)


BASELINE = dict((v, _keys(tomlkit.parse(_with("u", "p", v).text).unwrap())) for v in PLACES)


@settings(max_examples=examples(100))
@given(user=SECRET, password=SECRET, version=st.sampled_from(sorted(PLACES)))
def test_hostile_values_are_data_never_keys_and_never_shown(user, password, version):
    user, password = "U~" + user, "P~" + password  # distinct from everything else in the file
    result = _with(user, password, version)
    assert result.problems == []
    data = tomlkit.parse(result.text).unwrap()
    assert _at(data, PLACES[version]) == {"r.example:5000": {"auth": {"username": user, "password": password}}}
    assert _keys(data) == BASELINE[version]
    shown = ra.redact_text(result.text)
    assert user not in shown and password not in shown


@settings(max_examples=examples(100))
@given(value=st.text(min_size=1, max_size=30).map(lambda s: "x\n" + s), key=st.sampled_from(ra.SECRET_KEYS))
def test_refused_values_are_not_echoed(value, key):
    entry = {"registry": "r.example", key: value}
    if key in ("username", "password"):
        entry.update({"username": "u", "password": "p", key: value})
    problems = _problems([entry])
    assert problems
    assert not any(value in p for p in problems)


def test_an_empty_list_changes_nothing_in_containerd_default_configs():
    """containerd's own default configs carry an empty registry.configs table: registry_auth [] leaves it."""
    import os
    fixtures = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "containerd")
    for name, version in (("default-1.6.20.toml", V16), ("default-1.7.24.toml", V17), ("default-2.1.9.toml", V21)):
        with open(os.path.join(fixtures, name)) as handle:
            text = handle.read()
        base = cm.merge(text, dict(cgroup_driver="systemd"), version)
        assert _merge(text, [], version).text == base.text, name
