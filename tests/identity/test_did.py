"""DID and DID URL syntax (DID Core 1.0 §3.1, §3.2)."""

from __future__ import annotations

import re

import pytest

from errors import InvalidDid, InvalidDidUrl
from identity.did import MAX_DID_LENGTH, Did, DidUrl, parse_did, parse_did_url


@pytest.mark.parametrize(
    ("text", "method", "msid"),
    [
        ("did:example:123456789abcdefghi", "example", "123456789abcdefghi"),
        (
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "key",
            "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        ),
        ("did:web:example.com%3A8443:user:alice", "web", "example.com%3A8443:user:alice"),
        ("did:a1:b", "a1", "b"),
        ("did:x::y", "x", ":y"),  # empty segments are allowed before the last one
        ("did:x:a.b-c_d", "x", "a.b-c_d"),
        ("did:x:%aF", "x", "%aF"),
    ],
)
def test_valid_dids(text: str, method: str, msid: str) -> None:
    did = parse_did(text)
    assert did == Did(method, msid)
    assert str(did) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "did:",
        "did:key",
        "did:key:",
        "did::abc",
        "DID:key:abc",
        "notDid:key:z6Mk",
        "did:Key:abc",  # method names are lowercase
        "did:ke-y:abc",
        "did:key:abc:",  # must not end with ':'
        "did:key:a b",
        "did:key:a%2",  # truncated pct-encoding
        "did:key:a%zz",
        "did:key:@",
        "did:key:abc\n",
        "did:key:ä",
        "did:key:abc#frag",  # a DID URL is not a DID
        "did:key:abc/path",
        "did:key:abc?q=1",
        " did:key:abc",
        "did:key:" + "a" * MAX_DID_LENGTH,
    ],
)
def test_invalid_dids(text: str) -> None:
    with pytest.raises(InvalidDid):
        parse_did(text)


@pytest.mark.parametrize("value", [None, 1, b"did:key:abc", ["did:key:abc"]])
def test_non_string_did(value: object) -> None:
    with pytest.raises(InvalidDid):
        parse_did(value)  # type: ignore[arg-type]
    with pytest.raises(InvalidDidUrl):
        parse_did_url(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "path", "query", "fragment"),
    [
        ("did:example:123", "", None, None),
        ("did:example:123#key-1", "", None, "key-1"),
        ("did:example:123#", "", None, ""),
        ("did:example:123/path/to/x", "/path/to/x", None, None),
        ("did:example:123?versionId=1", "", "versionId=1", None),
        ("did:example:123/a?b=c/d?e#f/g?h", "/a", "b=c/d?e", "f/g?h"),
        (
            "did:example:123?service=files&relativeRef=/x%20y",
            "",
            "service=files&relativeRef=/x%20y",
            None,
        ),
        ("did:example:123#public-key-0", "", None, "public-key-0"),
        ("did:web:host%3A1:u#k", "", None, "k"),
    ],
)
def test_valid_did_urls(text: str, path: str, query: str | None, fragment: str | None) -> None:
    url = parse_did_url(text)
    assert url == DidUrl(parse_did(re.split(r"[/?#]", text, maxsplit=1)[0]), path, query, fragment)
    assert str(url) == text


@pytest.mark.parametrize(
    "text",
    [
        "did:example:123#frag ment",
        "did:example:123#a#b",
        "did:example:123/pa th",
        "did:example:123?q=<x>",
        "did:example:123#%",
        "did:example:#frag",
        "did:example:123:#frag",
        "notdid:example:123#frag",
    ],
)
def test_invalid_did_urls(text: str) -> None:
    with pytest.raises(InvalidDidUrl):
        parse_did_url(text)


def test_did_url_error_is_distinct_from_did_error() -> None:
    with pytest.raises(InvalidDidUrl) as info:
        parse_did_url("did:x:#")
    assert info.value.resolution_error == "invalidDidUrl"
