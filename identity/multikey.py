"""Multikey public keys: ``'z' + base58btc(varint(multicodec) || raw key)``.

Specs: W3C Controlled Identifiers 1.0 §2.2.2 "Multikey" (Ed25519 header ``0xed01``, P-256 header
``0x8024`` with the 33-byte compressed point); the multicodec table; did:key v0.9 "Signature
Method Creation Algorithm" for the key lengths and the error codes used here.

    >>> from identity.keys import PrivateKey, KeyType
    >>> key = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32)).public_key
    >>> multikey_from_public_key(key)[:4]
    'z6Mk'
"""

from __future__ import annotations

import enum

from errors import (
    InvalidEncoding,
    InvalidKey,
    InvalidPublicKey,
    InvalidPublicKeyLength,
    UnsupportedKeyType,
    UnsupportedPublicKeyType,
)
from identity.encoding import multibase_decode, multibase_encode, varint_decode, varint_encode
from identity.keys import KeyType, PublicKey

__all__ = [
    "Multicodec",
    "decode_multikey",
    "encode_multikey",
    "multikey_from_public_key",
    "public_key_from_multikey",
]


class Multicodec(enum.IntEnum):
    """Public key codes from the multicodec table that did:key v0.9 lists."""

    SECP256K1_PUB = 0xE7
    X25519_PUB = 0xEC
    ED25519_PUB = 0xED
    P256_PUB = 0x1200
    P384_PUB = 0x1201


# did:key v0.9 Signature Method Creation Algorithm, step 3 table.
_KEY_LENGTHS: dict[Multicodec, int] = {
    Multicodec.SECP256K1_PUB: 33,
    Multicodec.X25519_PUB: 32,
    Multicodec.ED25519_PUB: 32,
    Multicodec.P256_PUB: 33,
    Multicodec.P384_PUB: 49,
}

_SUPPORTED: dict[Multicodec, KeyType] = {
    Multicodec.ED25519_PUB: KeyType.ED25519,
    Multicodec.P256_PUB: KeyType.P256,
}
_CODEC_FOR: dict[KeyType, Multicodec] = {v: k for k, v in _SUPPORTED.items()}


def encode_multikey(codec: Multicodec | int, raw: bytes) -> str:
    """Multibase-encode ``raw`` under the multicodec header ``codec`` (no validation of ``raw``)."""
    return multibase_encode(varint_encode(int(codec)) + raw)


def decode_multikey(value: str) -> tuple[int, bytes]:
    """Split a Multikey value into ``(multicodec code, raw key bytes)``.

    Raises ``InvalidEncoding`` if ``value`` is not ``'z'``-multibase or the varint header is
    malformed; the raw bytes are not checked here.
    """
    data = multibase_decode(value)
    codec, header_length = varint_decode(data)
    return codec, data[header_length:]


def public_key_from_multikey(value: str) -> PublicKey:
    """Decode and validate a Multikey, raising the DID Resolution errors the did:key spec names:
    ``InvalidPublicKeyLength``, ``UnsupportedPublicKeyType``, ``InvalidPublicKey``."""
    try:
        codec, raw = decode_multikey(value)
    except InvalidEncoding as exc:
        raise InvalidPublicKey(f"malformed Multikey value: {exc.message}") from exc
    try:
        known = Multicodec(codec)
    except ValueError:
        raise UnsupportedPublicKeyType(f"unknown multicodec 0x{codec:x}") from None
    if len(raw) != _KEY_LENGTHS[known]:
        raise InvalidPublicKeyLength(
            f"{known.name.lower()} key must be {_KEY_LENGTHS[known]} bytes, got {len(raw)}"
        )
    key_type = _SUPPORTED.get(known)
    if key_type is None:
        raise UnsupportedPublicKeyType(f"{known.name.lower()} keys are not supported")
    try:
        return PublicKey.from_raw(key_type, raw)
    except InvalidKey as exc:  # WeakKey included: the cause says which
        raise InvalidPublicKey(exc.message) from exc
    except UnsupportedKeyType as exc:  # pragma: no cover - _SUPPORTED only lists our types
        raise UnsupportedPublicKeyType(exc.message) from exc


def multikey_from_public_key(key: PublicKey) -> str:
    """The Multikey value of ``key`` (P-256 in its compressed form, as CID 1.0 requires)."""
    if key.key_type is KeyType.P256:
        return encode_multikey(Multicodec.P256_PUB, key.compressed())
    return encode_multikey(_CODEC_FOR[key.key_type], key.raw)
