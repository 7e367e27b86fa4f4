"""Property tests for identity.encoding: round trips and crash-freedom on arbitrary input."""

from __future__ import annotations

import base64
import contextlib

from hypothesis import given
from hypothesis import strategies as st

from errors import Error
from identity.encoding import (
    b58_decode,
    b58_encode,
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multibase_encode,
    varint_decode,
    varint_encode,
)


@given(st.binary(max_size=256))
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert b64url_decode(text) == data


@given(st.text(max_size=64))
def test_b64url_decode_is_strict_and_never_crashes(text: str) -> None:
    try:
        data = b64url_decode(text)
    except Error:
        return
    assert b64url_encode(data) == text  # whatever decodes has exactly one spelling


@given(st.binary(max_size=64))
def test_b64url_agrees_with_stdlib(data: bytes) -> None:
    assert b64url_encode(data) == base64.urlsafe_b64encode(data).decode().rstrip("=")


@given(st.binary(max_size=128))
def test_base58_and_multibase_round_trip(data: bytes) -> None:
    assert b58_decode(b58_encode(data)) == data
    assert multibase_decode(multibase_encode(data)) == data


@given(st.text(max_size=64))
def test_base58_decode_is_strict_and_never_crashes(text: str) -> None:
    try:
        data = b58_decode(text)
    except Error:
        return
    assert b58_encode(data) == text


@given(st.text(max_size=64))
def test_multibase_decode_never_crashes(text: str) -> None:
    with contextlib.suppress(Error):
        multibase_decode(text)


@given(st.integers(min_value=0, max_value=2**63 - 1), st.binary(max_size=8))
def test_varint_round_trip(value: int, rest: bytes) -> None:
    encoded = varint_encode(value)
    assert varint_decode(encoded + rest) == (value, len(encoded))


@given(st.binary(max_size=12))
def test_varint_decode_is_strict_and_never_crashes(data: bytes) -> None:
    try:
        value, length = varint_decode(data)
    except Error:
        return
    assert varint_encode(value) == data[:length]  # only minimal encodings decode


@given(st.binary(max_size=300))
def test_b64url_encode_is_the_standard_encoding_unpadded(data: bytes) -> None:
    import base64

    expected = base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    for form in (data, bytearray(data), memoryview(data)):
        assert b64url_encode(form) == expected
