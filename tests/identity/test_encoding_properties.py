"""Property tests for identity.encoding: round trips and crash-freedom on arbitrary input."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import Error, InvalidEncoding
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


@given(st.text(max_size=64) | st.binary(max_size=40).map(lambda data: "z" + b58_encode(data)))
def test_multibase_decode_never_crashes_and_decodes_only_canonical_text(text: str) -> None:
    try:
        data = multibase_decode(text)
    except Error:
        return  # refused cleanly: the only other outcome allowed
    assert isinstance(data, bytes)
    assert "z" + b58_encode(data) == text  # what decodes is exactly what encodes to it


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


# --- the fast b64url_decode against the previous, obviously strict implementation ----------------

_REFERENCE_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def _reference_b64url_decode(text: str) -> bytes:
    """The former implementation: regex alphabet check, then decode and re-encode."""
    if not isinstance(text, str):
        raise InvalidEncoding("base64url input must be a string")
    if _REFERENCE_ALPHABET.fullmatch(text) is None:
        raise InvalidEncoding("base64url input contains characters outside [A-Za-z0-9_-]")
    if len(text) % 4 == 1:
        raise InvalidEncoding("base64url input has an impossible length")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != text:
        raise InvalidEncoding("base64url input has non-zero trailing bits")
    return data


def _outcome(call: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", call(*args)
    except InvalidEncoding as exc:
        return "refused", exc.message


# Strings built from the alphabet plus the characters a lax decoder would accept or skip.
_HOSTILE_CHARS = "AQgw_-+/= \n\t\r\x00é\u0660\ud800Zz09"
b64ish = st.text(alphabet=_HOSTILE_CHARS, max_size=24) | st.text(max_size=24)


@given(st.binary(max_size=64).map(b64url_encode) | b64ish)
def test_b64url_decode_agrees_with_reference(text: str) -> None:
    assert _outcome(b64url_decode, text) == _outcome(_reference_b64url_decode, text)


@given(st.binary(min_size=1, max_size=40), st.integers(min_value=1, max_value=15))
def test_b64url_decode_refuses_trailing_bits_like_reference(data: bytes, flip: int) -> None:
    text = b64url_encode(data)
    if len(text) % 4 == 0:
        return  # a full last group has no unused bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(text[-1]) ^ (flip & (0b1111 if len(text) % 4 == 2 else 0b11))]
    tampered = text[:-1] + last
    assert _outcome(b64url_decode, tampered) == _outcome(_reference_b64url_decode, tampered)
    if tampered != text:
        assert _outcome(b64url_decode, tampered)[0] == "refused"


@pytest.mark.parametrize("text", ["QQ==", "QQ=", "Q Q", "QQ\n", "+/8", "QR", "QUE\u0660", "-_8"])
def test_b64url_decode_examples_agree_with_reference(text: str) -> None:
    assert _outcome(b64url_decode, text) == _outcome(_reference_b64url_decode, text)
@given(st.binary(max_size=300))
def test_b64url_encode_is_the_standard_encoding_unpadded(data: bytes) -> None:
    import base64

    expected = base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    for form in (data, bytearray(data), memoryview(data)):
        assert b64url_encode(form) == expected
