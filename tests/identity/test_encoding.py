"""Examples and edge cases for identity.encoding (RFC 4648 §5, base58btc, multibase, varint)."""

from __future__ import annotations

import pytest

from errors import InvalidEncoding
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


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"f", "Zg"),
        (b"fo", "Zm8"),
        (b"foo", "Zm9v"),
        (b"\xfb\xff", "-_8"),
        (b"\xff\xff\xfe", "___-"),
    ],
)
def test_b64url_known_answers(data: bytes, text: str) -> None:
    assert b64url_encode(data) == text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    [
        "Zg==",  # padding
        "Zg=",
        "Zm9v\n",  # trailing newline ('$' would accept it)
        " Zm9v",
        "Zm 9v",
        "Zm9v+",  # standard alphabet, not url-safe
        "Zm9v/",
        "Zh",  # non-zero trailing bits: 'h' leaves 0b0001 unused
        "Zm9",  # '9' = 0b111101: the 2 unused low bits are not zero
        "A",  # impossible length
        "Zm9vY",
        "Zm9v\u00e9",
        "Zm9v\x00",
    ],
)
def test_b64url_rejects_non_canonical(text: str) -> None:
    with pytest.raises(InvalidEncoding):
        b64url_decode(text)


def test_b64url_rejects_non_str() -> None:
    with pytest.raises(InvalidEncoding):
        b64url_decode(b"Zg")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"\x00", "1"),
        (b"\x00\x00\x01", "112"),
        (b"hello world", "StV1DL6CwTryKyV"),
    ],
)
def test_base58_known_answers(data: bytes, text: str) -> None:
    assert b58_encode(data) == text
    assert b58_decode(text) == data
    assert multibase_encode(data) == "z" + text
    assert multibase_decode("z" + text) == data


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "abc ", " abc", "ab\nc", "abc\n", "é", "+"])
def test_base58_rejects_characters_outside_alphabet(text: str) -> None:
    with pytest.raises(InvalidEncoding):
        b58_decode(text)


def test_base58_bounded_length() -> None:
    with pytest.raises(InvalidEncoding):
        b58_decode("2" * 5000)


@pytest.mark.parametrize("text", ["", "Z6Mk", "u6Mk", "f00", "6Mk"])
def test_multibase_requires_z_prefix(text: str) -> None:
    with pytest.raises(InvalidEncoding):
        multibase_decode(text)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (1, "01"),
        (0x7F, "7f"),
        (0x80, "8001"),
        (0xEC, "ec01"),
        (0xED, "ed01"),
        (0x1200, "8024"),
        (0x1201, "8124"),
        (2**63 - 1, "ffffffffffffffff7f"),
    ],
)
def test_varint_known_answers(value: int, encoded: str) -> None:
    assert varint_encode(value) == bytes.fromhex(encoded)
    assert varint_decode(bytes.fromhex(encoded) + b"rest") == (value, len(encoded) // 2)


@pytest.mark.parametrize(
    "encoded",
    [
        "",  # empty
        "80",  # truncated
        "ff",
        "ed",
        "8000",  # over-long zero
        "ed8100",  # over-long 0xed
        "ed81808000",
        "ffffffffffffffffff01",  # 10 bytes
        "808080808080808080",  # 9 continuation bytes
    ],
)
def test_varint_rejects_malformed(encoded: str) -> None:
    with pytest.raises(InvalidEncoding):
        varint_decode(bytes.fromhex(encoded))


@pytest.mark.parametrize("value", [-1, 2**63, True, 1.0])
def test_varint_encode_rejects_out_of_range(value: object) -> None:
    with pytest.raises(InvalidEncoding):
        varint_encode(value)  # type: ignore[arg-type]
