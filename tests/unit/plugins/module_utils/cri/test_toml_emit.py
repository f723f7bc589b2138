"""Unit and property tests for the pure TOML emitter (hosts.toml)."""
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.toml_emit import (
    TomlEmitError,
    emit,
    format_key,
    quote_string,
)

# Any unicode text that can be encoded as UTF-8 (no lone surrogates).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
SCALARS = st.one_of(
    TEXT,
    st.booleans(),
    st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=8,
)
TABLES = st.recursive(
    st.dictionaries(TEXT, VALUES, max_size=4),
    lambda inner: st.dictionaries(TEXT, st.one_of(VALUES, inner), max_size=4),
    max_leaves=12,
)


@settings(max_examples=examples(400), deadline=None)
@given(TABLES)
def test_emit_then_parse_roundtrips(doc):
    text = emit(doc)
    assert tomllib.loads(text) == doc


@settings(max_examples=examples(200), deadline=None)
@given(TEXT, TEXT)
def test_hostile_values_cannot_inject_keys(key, value):
    doc = {"server": value, "host": {key: {"capabilities": [value], "header": {key: value}}}}
    parsed = tomllib.loads(emit(doc, header_comment="managed"))
    assert parsed == doc
    assert set(parsed) == {"server", "host"}


def test_injection_attempt_stays_a_string():
    evil = 'x"\n[evil]\nkey = "pwned'
    parsed = tomllib.loads(emit({"server": evil, evil: {"a": evil}}))
    assert parsed["server"] == evil
    assert "evil" not in parsed
    assert parsed[evil] == {"a": evil}


def test_hosts_toml_layout_keeps_order_and_nesting():
    doc = {
        "server": "https://registry-1.docker.io",
        "host": {
            "https://mirror.gcr.io": {"capabilities": ["pull", "resolve"], "skip_verify": False},
            "http://10.0.0.1:5000/v2/x": {
                "capabilities": ["pull"],
                "override_path": True,
                "header": {"Authorization": "Basic Zm9vOmJhcg=="},
            },
        },
    }
    text = emit(doc, header_comment="Managed by kubelayer.runtime")
    assert text.splitlines() == [
        "# Managed by kubelayer.runtime",
        "",
        'server = "https://registry-1.docker.io"',
        "",
        '[host."https://mirror.gcr.io"]',
        'capabilities = ["pull", "resolve"]',
        "skip_verify = false",
        "",
        '[host."http://10.0.0.1:5000/v2/x"]',
        'capabilities = ["pull"]',
        "override_path = true",
        "",
        '[host."http://10.0.0.1:5000/v2/x".header]',
        'Authorization = "Basic Zm9vOmJhcg=="',
    ]
    assert list(tomllib.loads(text)["host"]) == ["https://mirror.gcr.io", "http://10.0.0.1:5000/v2/x"]


def test_escapes_follow_the_spec():
    assert quote_string('a"b\\c\n\t\x00\x7f') == '"a\\"b\\\\c\\n\\t\\u0000\\u007F"'
    assert format_key("plain_key-1") == "plain_key-1"
    assert format_key("a.b") == '"a.b"'
    assert format_key("") == '""'


def test_empty_table_survives():
    assert tomllib.loads(emit({"a": {}, "b": {"c": {}}})) == {"a": {}, "b": {"c": {}}}


@pytest.mark.parametrize(
    "doc, fragment",
    [
        ({"a": 1.5}, "unsupported type float"),
        ({"a": None}, "unsupported type NoneType"),
        ({"a": 2 ** 64}, "64-bit"),
        ({"a": [{"b": 1}]}, "tables inside arrays"),
        ({"a": "\ud800"}, "surrogate"),
        ({1: "x"}, "keys must be strings"),
    ],
)
def test_unsupported_values_raise(doc, fragment):
    with pytest.raises(TomlEmitError, match=fragment):
        emit(doc)


def test_header_comment_must_be_one_line():
    with pytest.raises(TomlEmitError):
        emit({}, header_comment="a\nb")
