"""Strict byte-to-text encodings used by keys and DIDs.

* base64url without padding: RFC 4648 §5, as JOSE requires it (RFC 7515 §2 "Base64url Encoding").
* base58btc (Bitcoin alphabet) and its multibase form ``'z' + base58btc`` (W3C Controlled
  Identifiers 1.0 §Multibase; draft-multiformats-multibase).
* unsigned varint as used for multicodec prefixes (multiformats unsigned-varint spec).

Every decoder here has exactly one accepted spelling per byte string: a second spelling of the
same bytes (padding, whitespace, non-zero trailing bits, over-long varints) is an attack surface
for anything that compares or caches encoded values, so all of them raise ``InvalidEncoding``.

    >>> b64url_encode(b"\\xfb\\xff")
    '-_8'
    >>> multibase_decode(multibase_encode(b"\\x00\\x01"))
    b'\\x00\\x01'
"""

from __future__ import annotations

import binascii
import re

import base58

from errors import InvalidEncoding

__all__ = [
    "MAX_ENCODED_LENGTH",
    "MAX_VARINT_BYTES",
    "b58_decode",
    "b58_encode",
    "b64url_decode",
    "b64url_encode",
    "multibase_decode",
    "multibase_encode",
    "varint_decode",
    "varint_encode",
]

# base58 decoding is quadratic in the input length; nothing we decode (keys, DIDs) comes close.
MAX_ENCODED_LENGTH = 4096

# The multiformats unsigned-varint spec caps varints at 9 bytes (63 bits of payload).
MAX_VARINT_BYTES = 9

_B64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# The 6-bit value of each alphabet byte (other bytes never reach the lookup).
_B64URL_VALUE = bytes(
    _B64URL_ALPHABET.index(byte) if byte in _B64URL_ALPHABET else 0 for byte in range(256)
)
_UNUSED_BITS = {2: 0b1111, 3: 0b11}
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = {0: b"", 2: b"==", 3: b"="}
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_RE = re.compile(f"[{_B58_ALPHABET}]*")


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as base64url with the padding removed (RFC 7515 §2)."""
    # binascii directly: base64.urlsafe_b64encode is two Python calls around the same thing.
    # Two replaces rather than a translate: bytes.translate looks at every byte (about 1.5 ns
    # each, 2.7 us for a 1 KiB JWS payload), a one-byte replace finds the few "+" and "/" with
    # memchr (three times faster on a payload, the same on a key). The padding is at the end.
    return (
        binascii.b2a_base64(data, newline=False)
        .replace(b"+", b"-")
        .replace(b"/", b"_")
        .rstrip(b"=")
        .decode("ascii")
    )


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing every non-canonical spelling.

    Raises ``InvalidEncoding`` for padding, whitespace, characters outside ``[A-Za-z0-9_-]``,
    an impossible length, or non-zero unused trailing bits.
    """
    if not isinstance(text, str):
        raise InvalidEncoding("base64url input must be a string")
    # Every JWS segment, disclosure and key coordinate passes through here, so the checks are
    # C-level string operations rather than a regex and a re-encoding: ASCII first (so that the
    # byte view below is the text), then deleting the alphabet must leave nothing (this refuses
    # '=', '+', '/', whitespace and anything else, newlines included).
    if not text.isascii():
        raise InvalidEncoding("base64url input contains characters outside [A-Za-z0-9_-]")
    raw = text.encode("ascii")
    if raw.translate(None, _B64URL_ALPHABET):
        raise InvalidEncoding("base64url input contains characters outside [A-Za-z0-9_-]")
    tail = len(raw) % 4
    if tail == 1:
        raise InvalidEncoding("base64url input has an impossible length")
    # Unused low bits of the last character must be zero (RFC 4648 §3.5): with 2 characters in
    # the last group its low 4 bits are unused, with 3 its low 2 bits; a full group has none.
    if tail and _B64URL_VALUE[raw[-1]] & _UNUSED_BITS[tail]:
        raise InvalidEncoding("base64url input has non-zero trailing bits")
    # The input is now exactly alphabet characters of a possible length, which a2b_base64
    # decodes without skipping or guessing anything.
    return binascii.a2b_base64(raw.translate(_TO_STANDARD) + _PADDING[tail])


def b58_encode(data: bytes) -> str:
    """Encode ``data`` as base58btc (Bitcoin alphabet); leading zero bytes become ``'1'``."""
    return base58.b58encode(data).decode("ascii")


def b58_decode(text: str, *, max_length: int = MAX_ENCODED_LENGTH) -> bytes:
    """Decode base58btc, refusing characters outside the Bitcoin alphabet (including whitespace,
    which the ``base58`` package would otherwise strip silently)."""
    if not isinstance(text, str):
        raise InvalidEncoding("base58btc input must be a string")
    if len(text) > max_length:
        raise InvalidEncoding("base58btc input is too long")
    if _B58_RE.fullmatch(text) is None:
        raise InvalidEncoding("base58btc input contains characters outside the alphabet")
    return base58.b58decode(text)


def multibase_encode(data: bytes) -> str:
    """Multibase base58btc: ``'z'`` followed by the base58btc encoding of ``data``."""
    return "z" + b58_encode(data)


def multibase_decode(text: str, *, max_length: int = MAX_ENCODED_LENGTH) -> bytes:
    """Decode a ``'z'``-prefixed multibase value; any other base prefix is refused."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise InvalidEncoding("multibase value must start with 'z' (base58btc)")
    return b58_decode(text[1:], max_length=max_length)


def varint_encode(value: int) -> bytes:
    """Encode a non-negative integer as an unsigned LEB128 varint (7 bits per byte, LSB first)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidEncoding("varint value must be a non-negative integer")
    if value >= 1 << (7 * MAX_VARINT_BYTES):
        raise InvalidEncoding("varint value is too large")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_decode(data: bytes) -> tuple[int, int]:
    """Decode the unsigned varint at the start of ``data``.

    Returns ``(value, length_in_bytes)``. Raises ``InvalidEncoding`` if the varint is truncated,
    longer than ``MAX_VARINT_BYTES``, or over-long (a final ``0x00`` byte after a continuation:
    the same value has a shorter encoding, so two byte strings would name one codec).
    """
    value = 0
    for index, byte in enumerate(data[:MAX_VARINT_BYTES]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if byte == 0 and index > 0:
                raise InvalidEncoding("varint is not minimally encoded")
            return value, index + 1
    if len(data) >= MAX_VARINT_BYTES:
        raise InvalidEncoding("varint is longer than 9 bytes")
    raise InvalidEncoding("varint is truncated")
