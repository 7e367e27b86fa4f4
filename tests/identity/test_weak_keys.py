"""Ed25519 weak keys: the 8 small-order points, non-canonical encodings and mixed-order points.

Why it matters (security.md §3 row 7, §5): OpenSSL, hence ``cryptography``, PyJWT and jwcrypto,
verifies the all-zero-ish signature R = identity, S = 0 for *every* message under the identity
public key ``01 00..00``, and for many messages under the other small-order keys. A DID or JWK
carrying such a key lets anyone sign as its owner. We refuse them at every door:

* ``PublicKey.from_raw`` / ``from_jwk`` raise ``WeakKey``;
* did:key and did:jwk decoding raise ``InvalidPublicKey`` (the DID Resolution code), chained to
  the ``WeakKey`` that explains why.
"""

from __future__ import annotations

import json
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from errors import InvalidKey, InvalidPublicKey, WeakKey
from identity import _ed25519, did_jwk, did_key
from identity.encoding import b64url_encode, multibase_encode
from identity.keys import KeyType, PrivateKey, PublicKey, ed25519_is_weak

P = 2**255 - 19

# The 8 points of order dividing 8, canonically encoded (identity, order 2, 2 of order 4,
# 4 of order 8); the list is the well-known one (e.g. libsodium's blocklist, Wycheproof).
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]

# Non-canonical encodings of small-order points: y >= p (y = p is y = 0, y = p + 1 is the
# identity), and x = 0 with the sign bit set ("negative zero", for y = 1 and y = -1).
NON_CANONICAL = [
    "0100000000000000000000000000000000000000000000000000000000000080",  # identity, x = -0
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  # order 2, x = -0
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p (= 0)
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1 (= 1)
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
]
WEAK = SMALL_ORDER + NON_CANONICAL


def _order8_torsion() -> list[bytes]:
    return [bytes.fromhex(h) for h in SMALL_ORDER]


def test_the_list_is_exactly_the_small_order_points() -> None:
    # Computed, not trusted: each listed encoding decodes to a point P with 8P = O, and the 8
    # points are distinct (so this is the whole torsion subgroup).
    points = set()
    for raw in _order8_torsion():
        verdict, point = _ed25519._decode(raw)
        assert verdict is _ed25519.PointCheck.OK and point is not None
        assert _ed25519._is_identity(_ed25519._mul(8, point))
        assert _ed25519._encode(point) == raw
        points.add(raw)
    assert len(points) == 8


@pytest.mark.parametrize("hex_key", SMALL_ORDER)
def test_small_order_classified(hex_key: str) -> None:
    assert _ed25519.check_point(bytes.fromhex(hex_key)) is _ed25519.PointCheck.SMALL_ORDER


@pytest.mark.parametrize("hex_key", NON_CANONICAL)
def test_non_canonical_classified(hex_key: str) -> None:
    assert _ed25519.check_point(bytes.fromhex(hex_key)) is _ed25519.PointCheck.NON_CANONICAL


@pytest.mark.parametrize("offset", range(19))
@pytest.mark.parametrize("sign", [0, 1])
def test_every_y_at_or_above_p_is_refused(offset: int, sign: int) -> None:
    raw = ((P + offset) | (sign << 255)).to_bytes(32, "little")
    assert ed25519_is_weak(raw)
    with pytest.raises(WeakKey):
        PublicKey.from_raw(KeyType.ED25519, raw)


def test_mixed_order_point_refused() -> None:
    # An honest key plus a point of order 8: not small-order, but not in the prime subgroup
    # either; no honest key looks like this.
    honest = PrivateKey.generate(KeyType.ED25519, randbytes=lambda n: b"\x05" * n).public_key
    _, a = _ed25519._decode(honest.raw)
    _, t = _ed25519._decode(bytes.fromhex(SMALL_ORDER[4]))
    assert a is not None and t is not None
    mixed = _ed25519._encode(_ed25519._add(a, t))
    assert _ed25519.check_point(mixed) is _ed25519.PointCheck.MIXED_ORDER
    assert ed25519_is_weak(mixed)
    with pytest.raises(WeakKey, match="mixed-order"):
        PublicKey.from_raw(KeyType.ED25519, mixed)


@pytest.mark.parametrize("hex_key", WEAK)
def test_weak_via_from_raw(hex_key: str) -> None:
    raw = bytes.fromhex(hex_key)
    assert ed25519_is_weak(raw)
    with pytest.raises(WeakKey):
        PublicKey.from_raw(KeyType.ED25519, raw)
    with pytest.raises(WeakKey):
        PublicKey(KeyType.ED25519, raw)


@pytest.mark.parametrize("hex_key", WEAK)
def test_weak_via_from_jwk(hex_key: str) -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes.fromhex(hex_key))}
    with pytest.raises(WeakKey):
        PublicKey.from_jwk(jwk)


@pytest.mark.parametrize("hex_key", WEAK)
def test_weak_via_did_key(hex_key: str) -> None:
    did = "did:key:" + multibase_encode(b"\xed\x01" + bytes.fromhex(hex_key))
    with pytest.raises(InvalidPublicKey) as info:
        did_key.public_key_from_did(did)
    assert isinstance(info.value.__cause__, WeakKey)


@pytest.mark.parametrize("hex_key", WEAK)
def test_weak_via_did_jwk(hex_key: str) -> None:
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(bytes.fromhex(hex_key))}
    did = "did:jwk:" + b64url_encode(json.dumps(jwk).encode())
    with pytest.raises(InvalidPublicKey) as info:
        did_jwk.public_key_from_did(did)
    assert isinstance(info.value.__cause__, WeakKey)


def test_good_keys_are_not_weak() -> None:
    for seed in range(20):
        key = PrivateKey.from_private_bytes(KeyType.ED25519, bytes([seed]) * 32)
        assert not ed25519_is_weak(key.public_key.raw)


def test_not_a_point_is_invalid_not_weak() -> None:
    raw = (2).to_bytes(32, "little")
    assert not ed25519_is_weak(raw)
    with pytest.raises(InvalidKey) as info:
        PublicKey.from_raw(KeyType.ED25519, raw)
    assert not isinstance(info.value, WeakKey)


def test_why_identity_key_forgery_verifies_in_raw_cryptography() -> None:
    # The demonstration: R = identity (01 00..00), S = 0 is a valid signature on ANY message
    # under public key 01 00..00, as far as OpenSSL is concerned (8SB = 8R + 8kA with every
    # term the identity). Our PublicKey never lets such a key exist.
    identity = bytes.fromhex(SMALL_ORDER[0])
    forged = identity + bytes(32)
    message = os.urandom(32)
    Ed25519PublicKey.from_public_bytes(identity).verify(forged, message)  # no exception!
    with pytest.raises(WeakKey):
        PublicKey.from_raw(KeyType.ED25519, identity)
    with pytest.raises(WeakKey):
        PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(identity)})
