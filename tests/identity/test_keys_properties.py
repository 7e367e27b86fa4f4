"""Property tests for keys and DID methods: round trips for random keys, and arbitrary input to
every decoder fails only with errors.Error."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from errors import Error
from identity import did_jwk, did_key
from identity.did import parse_did, parse_did_url
from identity.encoding import b64url_encode, multibase_encode
from identity.keys import KeyType, PrivateKey, PublicKey, ed25519_is_weak
from identity.multikey import public_key_from_multikey
from identity.resolver import Resolver

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

ed25519_keys = st.binary(min_size=32, max_size=32).map(
    lambda seed: PrivateKey.from_private_bytes(KeyType.ED25519, seed)
)
p256_keys = st.integers(min_value=1, max_value=P256_N - 1).map(
    lambda d: PrivateKey.from_private_bytes(KeyType.P256, d.to_bytes(32, "big"))
)
private_keys = st.one_of(ed25519_keys, p256_keys)


@settings(deadline=None)
@given(private_keys)
def test_jwk_round_trip(key: PrivateKey) -> None:
    assert PublicKey.from_jwk(key.public_key.to_jwk()) == key.public_key
    again = PrivateKey.from_jwk(key.to_jwk())
    assert again.public_key == key.public_key
    assert again.private_bytes() == key.private_bytes()


@settings(deadline=None)
@given(private_keys)
def test_raw_round_trip(key: PrivateKey) -> None:
    public = key.public_key
    assert PublicKey.from_raw(public.key_type, public.raw) == public
    if public.key_type is KeyType.P256:
        assert PublicKey.from_raw(KeyType.P256, public.compressed()) == public
    else:
        assert not ed25519_is_weak(public.raw)


@settings(deadline=None)
@given(private_keys, st.binary(max_size=64))
def test_sign_verify(key: PrivateKey, message: bytes) -> None:
    key.public_key.verify(key.sign(message), message)


@settings(deadline=None)
@given(private_keys)
def test_did_key_round_trip(key: PrivateKey) -> None:
    did = did_key.did_from_public_key(key.public_key)
    assert parse_did(did).method == "key"
    assert did_key.public_key_from_did(did) == key.public_key
    document = Resolver().resolve(did).did_document
    assert document is not None and document["id"] == did


@settings(deadline=None)
@given(private_keys)
def test_did_jwk_round_trip(key: PrivateKey) -> None:
    did = did_jwk.did_from_public_key(key.public_key)
    assert did_jwk.public_key_from_did(did) == key.public_key
    assert Resolver().resolve_verification_method(did + "#0") == key.public_key


# --- arbitrary input never crashes with anything but errors.Error ----------------------------


def _assert_only_errors(function: Any, *args: Any) -> None:
    """Call ``function``: it may succeed or raise ``errors.Error``; anything else (an
    unexpected exception from a decoder) propagates and fails the test."""
    with contextlib.suppress(Error):
        function(*args)


@settings(deadline=None)
@given(st.binary(max_size=70))
def test_from_raw_never_crashes(raw: bytes) -> None:
    _assert_only_errors(PublicKey.from_raw, KeyType.ED25519, raw)
    _assert_only_errors(PublicKey.from_raw, KeyType.P256, raw)


@settings(deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_random_ed25519_bytes_are_keys_or_refused(raw: bytes) -> None:
    try:
        key = PublicKey.from_raw(KeyType.ED25519, raw)
    except Error:
        return
    # Whatever is accepted is a sound key that survives a JWK round trip.
    assert not ed25519_is_weak(raw)
    assert PublicKey.from_jwk(key.to_jwk()) == key


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
jwk_like = st.fixed_dictionaries(
    {},
    optional={
        "kty": st.sampled_from(["OKP", "EC", "RSA", "oct", ""]) | json_values,
        "crv": st.sampled_from(["Ed25519", "P-256", "X25519", "P-384"]) | json_values,
        "x": st.binary(max_size=34).map(b64url_encode) | json_values,
        "y": st.binary(max_size=34).map(b64url_encode) | json_values,
        "d": st.binary(max_size=34).map(b64url_encode) | json_values,
        "alg": st.sampled_from(["EdDSA", "ES256", "none"]) | json_values,
        "use": st.sampled_from(["sig", "enc"]) | json_values,
    },
)


@settings(deadline=None)
@given(jwk_like | json_values)
def test_jwk_decoders_never_crash(jwk: Any) -> None:
    _assert_only_errors(PublicKey.from_jwk, jwk)
    _assert_only_errors(PrivateKey.from_jwk, jwk)
    _assert_only_errors(did_jwk.resolve, "did:jwk:" + b64url_encode(json.dumps(jwk).encode()))


@settings(deadline=None)
@given(st.binary(max_size=60))
def test_multikey_and_did_key_never_crash(data: bytes) -> None:
    _assert_only_errors(public_key_from_multikey, multibase_encode(data))
    _assert_only_errors(did_key.resolve, "did:key:" + multibase_encode(data))


@settings(deadline=None)
@given(st.text(max_size=80))
def test_did_parsers_and_resolver_never_crash(text: str) -> None:
    _assert_only_errors(parse_did, text)
    _assert_only_errors(parse_did_url, text)
    for candidate in (text, "did:key:" + text, "did:jwk:" + text):
        result = Resolver().resolve(candidate)
        assert (result.error is None) != (result.did_document is None)
        _assert_only_errors(Resolver().resolve_verification_method, candidate + "#0")


@settings(deadline=None)
@given(st.binary(max_size=120))
def test_did_jwk_random_bytes_never_crash(data: bytes) -> None:
    _assert_only_errors(did_jwk.resolve, "did:jwk:" + b64url_encode(data))


# Components of every length a DER INTEGER can take: short (leading zero bytes dropped), 32 bytes
# and 33 bytes (a 00 before a set top bit).
der_components = st.one_of(
    st.integers(min_value=1, max_value=255),
    st.integers(min_value=1, max_value=2**255 - 1),
    st.integers(min_value=2**255, max_value=P256_N - 1),
)


@given(der_components, der_components)
def test_es256_der_to_raw_matches_the_der_decoder(r: int, s: int) -> None:
    # PrivateKey.sign reads OpenSSL's DER signature by slicing; it must agree with the full
    # decoder for every r and s.
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from identity.keys import _jose_es256

    raw = _jose_es256(encode_dss_signature(r, s))
    assert raw == r.to_bytes(32, "big") + s.to_bytes(32, "big")


@settings(deadline=None, max_examples=30)
@given(p256_keys, st.binary(max_size=64))
def test_es256_signatures_verify(key: PrivateKey, message: bytes) -> None:
    key.public_key.verify(key.sign(message), message)
    key.public_key.verify(key.sign(bytearray(message)), message)


@settings(deadline=None)
@given(private_keys)
def test_jwk_json_is_the_compact_json_of_to_jwk(key: PrivateKey) -> None:
    # to_jwk_json writes the JWK itself (x and y encoded in one call for P-256) and keeps it on
    # the key: it must be exactly what the JSON encoder writes for to_jwk(), every time.
    public = PublicKey(key.key_type, key.public_key.raw)  # a fresh object: nothing kept yet
    expected = json.dumps(public.to_jwk(), separators=(",", ":"), ensure_ascii=False)
    assert public.to_jwk_json() == expected
    assert public.to_jwk_json() == expected
    assert public == key.public_key and hash(public) == hash(key.public_key)
