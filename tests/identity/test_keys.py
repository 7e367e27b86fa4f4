"""PublicKey / PrivateKey: JWK and raw input validation, signing, verification edge cases."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from errors import (
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
    UnsupportedKeyType,
    WeakKey,
)
from identity.encoding import b64url_encode
from identity.keys import Algorithm, KeyType, PrivateKey, PublicKey, jwk_thumbprint

P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED25519_L = 2**252 + 27742317777372353535851937790883648493


def _counter(start: int = 1):  # deterministic randomness for key generation
    state = [start]

    def randbytes(n: int) -> bytes:
        state[0] += 1
        return state[0].to_bytes(n, "big")

    return randbytes


ED = PrivateKey.generate(KeyType.ED25519, randbytes=_counter())
EC = PrivateKey.generate(KeyType.P256, randbytes=_counter())


def test_generate_is_deterministic_given_randomness() -> None:
    again = PrivateKey.generate(KeyType.ED25519, randbytes=_counter())
    assert again.public_key == ED.public_key
    assert PrivateKey.generate("P-256", randbytes=_counter()).public_key == EC.public_key


def test_generate_p256_rejects_out_of_range_scalars() -> None:
    draws = iter([b"\x00" * 32, (P256_N).to_bytes(32, "big"), b"\xff" * 32, b"\x00" * 31 + b"\x07"])
    key = PrivateKey.generate(KeyType.P256, randbytes=lambda n: next(draws))
    assert key.private_bytes() == b"\x00" * 31 + b"\x07"


def test_generate_default_randomness() -> None:
    assert PrivateKey.generate(KeyType.ED25519) != PrivateKey.generate(KeyType.ED25519)


@pytest.mark.parametrize("key", [ED, EC], ids=["Ed25519", "P-256"])
def test_sign_verify_and_jwk_round_trip(key: PrivateKey) -> None:
    signature = key.sign(b"message")
    assert len(signature) == 64
    key.public_key.verify(signature, b"message")
    with pytest.raises(InvalidSignature):
        key.public_key.verify(signature, b"other message")
    assert PrivateKey.from_jwk(key.to_jwk()).public_key == key.public_key
    assert PublicKey.from_jwk(key.to_jwk(include_private=False)) == key.public_key
    assert "d" not in key.public_key.to_jwk()
    assert key.public_key.thumbprint() == jwk_thumbprint(key.to_jwk())


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.sampled_from([KeyType.ED25519, KeyType.P256]))
def test_thumbprint_and_jwk_text_written_directly_match_the_generic_serialisation(
    secret: bytes, key_type: KeyType
) -> None:
    # thumbprint() and to_jwk_json() write their JSON themselves; jwk_thumbprint and json.dumps
    # are the reference.
    try:
        public = PrivateKey.from_private_bytes(key_type, secret).public_key
    except InvalidKey:  # not a P-256 scalar (0 or >= n)
        return
    fresh = PublicKey(public.key_type, public.raw)  # nothing kept yet
    assert fresh.thumbprint() == jwk_thumbprint(fresh.to_jwk())
    assert json.loads(fresh.to_jwk_json()) == fresh.to_jwk()
    assert fresh.to_jwk_json() == json.dumps(fresh.to_jwk(), separators=(",", ":"))


def test_private_key_repr_hides_secret() -> None:
    assert b64url_encode(ED.private_bytes()) not in repr(ED)
    assert "_crypto" not in repr(ED)


def test_algorithms() -> None:
    assert ED.public_key.algorithms == (Algorithm.EDDSA, Algorithm.ED25519)
    assert EC.algorithms == (Algorithm.ES256,)
    assert {a.value for a in Algorithm} == {"EdDSA", "Ed25519", "ES256"}


@pytest.mark.parametrize(
    ("key", "alg"),
    [(ED, "ES256"), (EC, "EdDSA"), (EC, "Ed25519"), (ED, "none"), (EC, "HS256"), (EC, "ES384")],
)
def test_verify_refuses_algorithm_not_fitting_the_key(key: PrivateKey, alg: str) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        key.public_key.verify(key.sign(b"m"), b"m", algorithm=alg)


@pytest.mark.parametrize("key", [ED, EC], ids=["Ed25519", "P-256"])
@pytest.mark.parametrize("length", [0, 63, 65, 72])
def test_verify_refuses_wrong_signature_length(key: PrivateKey, length: int) -> None:
    with pytest.raises(InvalidSignature):
        key.public_key.verify(b"\x01" * length, b"m")


def test_ed25519_s_plus_l_is_refused() -> None:
    signature = ED.sign(b"m")
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + ED25519_L).to_bytes(32, "little")
    with pytest.raises(InvalidSignature, match="S >= L"):
        ED.public_key.verify(malleated, b"m")


def test_es256_der_signature_is_refused() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    der = EC._crypto.sign(b"m", ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
    with pytest.raises(InvalidSignature):
        EC.public_key.verify(der, b"m")


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 0), (0, 1), (1, 0), (P256_N, 1), (1, P256_N), (2**256 - 1, 2**256 - 1)],
)
def test_es256_out_of_range_components_are_refused(r: int, s: int) -> None:
    # CVE-2022-21449 "psychic signatures" are r = s = 0.
    with pytest.raises(InvalidSignature):
        EC.public_key.verify(r.to_bytes(32, "big") + s.to_bytes(32, "big"), b"m")


def test_es256_high_s_is_valid_ecdsa() -> None:
    # (r, n - s) is malleable by design (security.md row 8); replay protection must not rely on it.
    signature = EC.sign(b"m")
    s = int.from_bytes(signature[32:], "big")
    EC.public_key.verify(signature[:32] + (P256_N - s).to_bytes(32, "big"), b"m")


# --- raw input -----------------------------------------------------------------------------


def test_p256_from_raw_compressed_and_uncompressed_agree() -> None:
    public = EC.public_key
    assert len(public.raw) == 65 and public.raw[0] == 4
    assert len(public.compressed()) == 33
    assert PublicKey.from_raw(KeyType.P256, public.compressed()) == public
    assert PublicKey.from_raw("P-256", public.raw) == public


def test_compressed_only_for_p256() -> None:
    with pytest.raises(UnsupportedKeyType):
        ED.public_key.compressed()


@pytest.mark.parametrize(
    ("key_type", "raw"),
    [
        (KeyType.ED25519, b""),
        (KeyType.ED25519, b"\x01" * 31),
        (KeyType.ED25519, b"\x01" * 33),
        (KeyType.P256, b""),
        (KeyType.P256, b"\x02" * 32),
        (KeyType.P256, b"\x04" * 64),
        (KeyType.P256, b"\x04" * 66),
        (KeyType.P256, b"\x00"),  # SEC1 point at infinity
        (KeyType.P256, b"\x05" + b"\x01" * 32),  # bad compressed prefix
        (KeyType.P256, b"\x06" + b"\x01" * 64),  # hybrid form
        (KeyType.P256, b"\x02" + P256_P.to_bytes(32, "big")),  # x = p (unreduced)
    ],
)
def test_from_raw_refuses_malformed(key_type: KeyType, raw: bytes) -> None:
    with pytest.raises(InvalidKey):
        PublicKey.from_raw(key_type, raw)


def test_p256_off_curve_point_refused() -> None:
    raw = bytearray(EC.public_key.raw)
    raw[-1] ^= 1
    with pytest.raises(InvalidKey, match="not on the curve"):
        PublicKey.from_raw(KeyType.P256, bytes(raw))
    with pytest.raises(InvalidKey):
        PublicKey(KeyType.P256, bytes(raw))


def test_p256_compressed_x_without_point_refused() -> None:
    # Pick the first small x whose x^3 - 3x + b is a quadratic non-residue: no point has it.
    for x in range(1, 50):
        rhs = x**3 - 3 * x + 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
        if pow(rhs % P256_P, (P256_P - 1) // 2, P256_P) != 1:
            break
    with pytest.raises(InvalidKey):
        PublicKey.from_raw(KeyType.P256, b"\x02" + x.to_bytes(32, "big"))


@pytest.mark.parametrize(("x", "y"), [(P256_P, 1), (1, P256_P), (P256_P + 1, 2**256 - 1)])
def test_p256_unreduced_coordinate_refused(x: int, y: int) -> None:
    raw = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    with pytest.raises(InvalidKey, match="not reduced"):
        PublicKey.from_raw(KeyType.P256, raw)


@pytest.mark.parametrize("key_type", ["X25519", "Ed448", "P-384", "secp256k1", "ed25519", ""])
def test_unsupported_key_types(key_type: str) -> None:
    with pytest.raises(UnsupportedKeyType):
        PublicKey.from_raw(key_type, b"\x01" * 32)
    with pytest.raises(UnsupportedKeyType):
        PrivateKey.generate(key_type)


def test_ed25519_not_a_point_is_invalid_not_weak() -> None:
    # y = 2 gives (y^2 - 1) / (d y^2 + 1) without a square root.
    with pytest.raises(InvalidKey, match="not on curve"):
        PublicKey.from_raw(KeyType.ED25519, (2).to_bytes(32, "little"))


# --- JWK input ------------------------------------------------------------------------------

ED_JWK = ED.public_key.to_jwk()
EC_JWK = EC.public_key.to_jwk()


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "oct", "k": "AAAA"},
        {"kty": "OKP", "crv": "X25519", "x": ED_JWK["x"]},
        {"kty": "OKP", "crv": "Ed448", "x": ED_JWK["x"]},
        {"kty": "EC", "crv": "P-384", "x": EC_JWK["x"], "y": EC_JWK["y"]},
        {"kty": "EC", "crv": "secp256k1", "x": EC_JWK["x"], "y": EC_JWK["y"]},
        {"kty": "EC", "crv": "Ed25519", "x": ED_JWK["x"]},
        {"kty": "OKP", "crv": "P-256", "x": EC_JWK["x"], "y": EC_JWK["y"]},
        {"kty": "ec", "crv": "P-256", "x": EC_JWK["x"], "y": EC_JWK["y"]},
    ],
)
def test_from_jwk_unsupported(jwk: dict[str, str]) -> None:
    with pytest.raises(UnsupportedKeyType):
        PublicKey.from_jwk(jwk)


def _replace(jwk: dict[str, str], **members: object) -> dict[str, object]:
    out: dict[str, object] = dict(jwk)
    for name, value in members.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


@pytest.mark.parametrize(
    "jwk",
    [
        [],
        "{}",
        {},
        _replace(ED_JWK, kty=None),
        _replace(ED_JWK, kty=1),
        _replace(ED_JWK, crv=None),
        _replace(ED_JWK, crv=["Ed25519"]),
        _replace(ED_JWK, x=None),
        _replace(ED_JWK, x=1),
        _replace(ED_JWK, x=ED_JWK["x"] + "="),  # padding
        _replace(ED_JWK, x=ED_JWK["x"] + "A"),  # impossible length
        _replace(ED_JWK, x=ED_JWK["x"][:-1]),  # 31 bytes + bits
        _replace(ED_JWK, x=b64url_encode(ED.public_key.raw + b"\x00")),  # 33 bytes
        _replace(ED_JWK, x=ED_JWK["x"].replace("_", "/").replace("-", "+") + "+"),
        _replace(ED_JWK, x=" " + ED_JWK["x"]),
        _replace(ED_JWK, y=EC_JWK["y"]),  # OKP has no y
        _replace(ED_JWK, d=b64url_encode(ED.private_bytes())),  # private key as a public key
        _replace(EC_JWK, y=None),
        _replace(EC_JWK, x=b64url_encode(b"\x00" + EC.public_key.raw[1:33])),  # 33-byte x
        _replace(EC_JWK, y=b64url_encode(EC.public_key.raw[34:])),  # 31-byte y
        _replace(EC_JWK, y=EC_JWK["x"]),  # off curve
        _replace(EC_JWK, d=b64url_encode(EC.private_bytes())),
        _replace(EC_JWK, p="AQAB"),
        _replace(EC_JWK, k="AQAB"),
    ],
)
def test_from_jwk_invalid(jwk: object) -> None:
    with pytest.raises(InvalidKey):
        PublicKey.from_jwk(jwk)  # type: ignore[arg-type]


def test_from_jwk_ignores_registered_optional_members() -> None:
    jwk = {**EC_JWK, "kid": "k1", "use": "sig", "key_ops": ["verify"], "alg": "ES256"}
    assert PublicKey.from_jwk(jwk) == EC.public_key
    assert PublicKey.from_jwk({**ED_JWK, "alg": "EdDSA"}) == ED.public_key
    assert PublicKey.from_jwk({**ED_JWK, "alg": "Ed25519"}) == ED.public_key


@pytest.mark.parametrize(
    "jwk",
    [
        {**EC_JWK, "alg": "ES384"},
        {**EC_JWK, "alg": "EdDSA"},
        {**ED_JWK, "alg": "ES256"},
        {**ED_JWK, "alg": "none"},
        {**EC_JWK, "alg": "HS256"},
    ],
)
def test_from_jwk_alg_must_fit_key(jwk: dict[str, str]) -> None:
    with pytest.raises(UnsupportedAlgorithm):
        PublicKey.from_jwk(jwk)


@pytest.mark.parametrize(
    ("key", "other"),
    [
        (ED, PrivateKey.generate(KeyType.ED25519, randbytes=_counter(7))),
        (EC, PrivateKey.generate(KeyType.P256, randbytes=_counter(7))),
    ],
    ids=["Ed25519", "P-256"],
)
def test_private_from_jwk_d_must_match_public_members(key: PrivateKey, other: PrivateKey) -> None:
    mismatched = {**other.public_key.to_jwk(), "d": key.to_jwk()["d"]}
    with pytest.raises(InvalidKey, match="does not match"):
        PrivateKey.from_jwk(mismatched)


@pytest.mark.parametrize(
    "jwk",
    [
        ED.public_key.to_jwk(),  # no d
        _replace(ED.to_jwk(), x=None),  # no x
        _replace(ED.to_jwk(), d=b64url_encode(b"\x01" * 31)),
        _replace(ED.to_jwk(), d=ED.to_jwk()["d"] + "="),
        _replace(EC.to_jwk(), y=None),
        _replace(EC.to_jwk(), d=b64url_encode(bytes(32))),  # scalar 0
        _replace(EC.to_jwk(), d=b64url_encode(P256_N.to_bytes(32, "big"))),  # scalar n
        _replace(EC.to_jwk(), p="AQAB"),
    ],
)
def test_private_from_jwk_invalid(jwk: dict[str, str]) -> None:
    with pytest.raises(InvalidKey):
        PrivateKey.from_jwk(jwk)


def test_private_from_bytes_length() -> None:
    with pytest.raises(InvalidKey):
        PrivateKey.from_private_bytes(KeyType.ED25519, b"\x01" * 31)


@pytest.mark.parametrize(
    "jwk",
    [
        {},
        {"kty": 1},
        {"kty": "EC", "crv": "P-256", "x": "a"},
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "RSA", "n": 5, "e": "AQAB"},
        {"kty": "oct"},
        "not a mapping",
    ],
)
def test_thumbprint_requires_members(jwk: object) -> None:
    with pytest.raises(InvalidKey):
        jwk_thumbprint(jwk)  # type: ignore[arg-type]


def test_thumbprint_unknown_kty() -> None:
    with pytest.raises(UnsupportedKeyType):
        jwk_thumbprint({"kty": "PQC", "x": "a"})


def test_thumbprint_lone_surrogate() -> None:
    with pytest.raises(InvalidKey):
        jwk_thumbprint({"kty": "oct", "k": "\ud800"})


# --- the from_jwk cache ---------------------------------------------------------------------


def test_from_jwk_cache_returns_the_validated_key_for_the_same_members() -> None:
    first = PublicKey.from_jwk(dict(EC_JWK))
    assert PublicKey.from_jwk(dict(EC_JWK)) is first
    assert first == EC.public_key
    # A JWK with the same coordinates but other members is a different lookup, checked anew.
    with pytest.raises(InvalidKey):
        PublicKey.from_jwk({**EC_JWK, "d": b64url_encode(EC.private_bytes())})
    with pytest.raises(UnsupportedAlgorithm):
        PublicKey.from_jwk({**EC_JWK, "alg": "EdDSA"})
    with pytest.raises(InvalidKey):
        PublicKey.from_jwk({**ED.public_key.to_jwk(), "y": EC_JWK["y"]})
    assert PublicKey.from_jwk({**EC_JWK, "kid": "k1"}) == EC.public_key


def test_from_jwk_cache_never_keeps_a_refused_key() -> None:
    off_curve = _replace(EC_JWK, y=EC_JWK["x"])
    weak = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes([1]) + bytes(31))}
    for _ in range(3):
        with pytest.raises(InvalidKey, match="not on the curve"):
            PublicKey.from_jwk(off_curve)
        with pytest.raises(WeakKey):
            PublicKey.from_jwk(weak)


def test_from_jwk_cache_is_bounded() -> None:
    from identity import keys  # the module itself, for its private cache

    for i in range(keys._FROM_JWK_KEPT + 10):
        PublicKey.from_jwk({**ED_JWK, "kid": f"k{i}"})
    assert len(keys._FROM_JWK) <= keys._FROM_JWK_KEPT
    assert PublicKey.from_jwk(dict(ED_JWK)) == ED.public_key


@pytest.mark.parametrize(
    "der",
    [b"", b"\x30\x06\x02\x01\x01\x02\x01", b"\x31\x06\x02\x01\x01\x02\x01\x01", b"\x30" * 10],
)
def test_malformed_der_is_not_sliced(der: bytes) -> None:
    # Anything that is not a well-formed DER signature goes to the full decoder, which raises.
    from identity.keys import _jose_es256

    with pytest.raises(ValueError):
        _jose_es256(der)
