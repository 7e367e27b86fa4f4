"""credentials/jose.py: RFC 8037 / RFC 7515 known answers, round trips, and the JOSE attacks of
security.md §3 (rows 1-3, 6, 7, 9, 10, 16, 20, 22), each refused with a named error."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from credentials import jose
from credentials.errors import MalformedToken, UnsupportedCriticalHeader, WrongTokenType
from errors import InvalidKey, InvalidSignature, UnsupportedAlgorithm, WeakKey
from identity.encoding import b64url_decode, b64url_encode
from identity.keys import Algorithm, KeyType, PrivateKey, PublicKey

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "rfc8037.json").read_text())
RFC8037 = VECTORS["rfc8037"]
ES256 = VECTORS["rfc7515_A3_es256"]
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
L = 2**252 + 27742317777372353535851937790883648493

ED = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(32)))
EC = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x07")
OTHER = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(1, 33)))
CLAIMS = {"iss": "did:example:issuer", "sub": "did:example:holder"}


def _forge(header: dict[str, Any] | bytes, payload: bytes, signature: bytes) -> str:
    raw_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    return f"{b64url_encode(raw_header)}.{b64url_encode(payload)}.{b64url_encode(signature)}"


def _signed(header: dict[str, Any] | bytes, payload: bytes, key: PrivateKey) -> str:
    raw_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    signing_input = f"{b64url_encode(raw_header)}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


# --- known answers -------------------------------------------------------------------------------


def test_rfc8037_a4_jws_verifies_and_resigning_reproduces_it() -> None:
    public = PublicKey.from_jwk(RFC8037["A.2_public_key_jwk"])
    header, payload = jose.verify_compact_raw(RFC8037["A.4_jws_compact"], public, expected_typ=None)
    assert header == RFC8037["A.4_protected_header"]
    assert payload == RFC8037["A.4_payload_utf8"].encode()
    private = PrivateKey.from_jwk(RFC8037["A.1_private_key_jwk"])
    resigned = jose.sign_compact({"alg": "EdDSA"}, payload, private)
    assert resigned == RFC8037["A.4_jws_compact"]


def test_rfc7515_a3_es256_jws_verifies() -> None:
    public = PublicKey.from_jwk({k: v for k, v in ES256["jwk"].items() if k != "d"})
    header, claims = jose.verify_compact(ES256["jws_compact"], public, expected_typ=None)
    assert header == {"alg": "ES256"}
    assert claims == json.loads(ES256["payload_utf8"])


def test_rfc8037_a4_payload_is_not_a_jwt() -> None:
    public = PublicKey.from_jwk(RFC8037["A.2_public_key_jwk"])
    with pytest.raises(MalformedToken):
        jose.verify_compact(RFC8037["A.4_jws_compact"], public, expected_typ=None)


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "alg"),
    [(ED, "EdDSA"), (ED, "Ed25519"), (EC, "ES256")],
    ids=["eddsa", "ed25519", "es256"],
)
def test_sign_verify_round_trip(key: PrivateKey, alg: str) -> None:
    token = jose.sign_compact({"alg": alg, "typ": "vc+jwt", "kid": "k1"}, CLAIMS, key)
    header, claims = jose.verify_compact(token, key.public_key, expected_typ="vc+jwt")
    assert header == {"alg": alg, "typ": "vc+jwt", "kid": "k1"}
    assert claims == CLAIMS


def test_default_algorithm_fits_the_key() -> None:
    assert jose.decode_unverified(jose.sign_compact({}, CLAIMS, ED))[0] == {"alg": "EdDSA"}
    assert jose.decode_unverified(jose.sign_compact({}, CLAIMS, EC))[0] == {"alg": "ES256"}


def test_typ_compares_as_a_media_type() -> None:
    token = jose.sign_compact({"typ": "application/KB+JWT"}, CLAIMS, ED)
    assert jose.verify_compact(token, ED.public_key, expected_typ="kb+jwt")[1] == CLAIMS


def test_header_jwk_is_used_only_when_asked() -> None:
    token = jose.sign_compact(
        {"typ": "openid4vci-proof+jwt", "jwk": ED.public_key.to_jwk()}, CLAIMS, ED
    )
    _, claims = jose.verify_compact(
        token, None, expected_typ="openid4vci-proof+jwt", trust_header_jwk=True
    )
    assert claims == CLAIMS


# --- alg: none, HMAC, unsupported and mismatched algorithms --------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
@pytest.mark.parametrize("signature", [b"", b"\x00" * 64], ids=["empty_sig", "kept_sig"])
def test_alg_none_refused(alg: str, signature: bytes) -> None:
    token = _forge({"alg": alg}, json.dumps(CLAIMS).encode(), signature)
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


def test_alg_missing_refused() -> None:
    token = _forge({"typ": "JWT"}, b"{}", b"\x00" * 64)
    with pytest.raises(MalformedToken):
        jose.verify_compact(token, ED.public_key, expected_typ="JWT")


@pytest.mark.parametrize(
    "secret",
    [
        ED.public_key.raw,
        EC.public_key.raw,
        json.dumps(ED.public_key.to_jwk()).encode(),
        b"did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        b"z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    ],
    ids=["raw_ed25519_pub", "es256_sec1_point", "pub_jwk_json", "didkey_string", "multibase"],
)
def test_alg_confusion_hs256_keyed_with_public_key_refused(secret: bytes) -> None:
    header = b64url_encode(json.dumps({"alg": "HS256"}).encode())
    payload = b64url_encode(json.dumps(CLAIMS).encode())
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_compact(
            f"{header}.{payload}.{b64url_encode(mac)}", ED.public_key, expected_typ=None
        )


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES384", "ES256K", "HS512", "EdDSA "])
def test_algorithms_outside_the_allow_list_refused(alg: str) -> None:
    token = _signed({"alg": alg}, b"{}", ED)
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


def test_alg_header_mismatching_the_key_refused() -> None:
    # security.md #22: an ES256 header checked with an Ed25519 key must be a 4xx, not a crash.
    token = _signed({"alg": "ES256"}, b"{}", ED)
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_compact(token, ED.public_key, expected_typ=None)
    token = _signed({"alg": "EdDSA"}, b"{}", EC)
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_compact(token, EC.public_key, expected_typ=None)


def test_caller_allow_list_narrows_algorithms() -> None:
    token = jose.sign_compact({"alg": "EdDSA"}, CLAIMS, ED)
    with pytest.raises(UnsupportedAlgorithm):
        jose.verify_compact(token, ED.public_key, expected_typ=None, allowed_algs={Algorithm.ES256})


def test_sign_refuses_an_alg_that_does_not_fit_the_key() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        jose.sign_compact({"alg": "ES256"}, CLAIMS, ED)
    with pytest.raises(UnsupportedAlgorithm):
        jose.sign_compact({"alg": "HS256"}, CLAIMS, ED)


# --- signatures ----------------------------------------------------------------------------------


def _es256_token(signature: bytes) -> str:
    return _forge({"alg": "ES256"}, json.dumps(CLAIMS).encode(), signature)


@pytest.mark.parametrize(
    "signature",
    [
        bytes(64),
        P256_N.to_bytes(32, "big") * 2,
        (1).to_bytes(32, "big") + P256_N.to_bytes(32, "big"),
        (1).to_bytes(32, "big") + (P256_N + 1).to_bytes(32, "big"),
        b64url_decode("MAYCAQACAQA"),
    ],
    ids=["es256_zero_sig", "r_s_eq_n", "s_eq_n", "s_gt_n", "psychic_der"],
)
def test_es256_psychic_and_out_of_range_signatures_refused(signature: bytes) -> None:
    with pytest.raises(InvalidSignature):
        jose.verify_compact(_es256_token(signature), EC.public_key, expected_typ=None)


def test_es256_der_encoded_signature_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    token = jose.sign_compact({"alg": "ES256"}, CLAIMS, EC)
    raw = b64url_decode(token.rsplit(".", 1)[1])
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    forged = token.rsplit(".", 1)[0] + "." + b64url_encode(der)
    with pytest.raises(InvalidSignature):
        jose.verify_compact(forged, EC.public_key, expected_typ=None)


def test_eddsa_s_plus_l_malleation_refused() -> None:
    token = jose.sign_compact({}, CLAIMS, ED)
    head, sig = token.rsplit(".", 1)
    raw = b64url_decode(sig)
    s = int.from_bytes(raw[32:], "little") + L
    forged = f"{head}.{b64url_encode(raw[:32] + s.to_bytes(32, 'little'))}"
    with pytest.raises(InvalidSignature):
        jose.verify_compact(forged, ED.public_key, expected_typ=None)


def test_tampered_payload_refused() -> None:
    token = jose.sign_compact({}, CLAIMS, ED)
    head, _, sig = token.split(".")
    other = b64url_encode(json.dumps({**CLAIMS, "sub": "did:example:mallory"}).encode())
    with pytest.raises(InvalidSignature):
        jose.verify_compact(f"{head}.{other}.{sig}", ED.public_key, expected_typ=None)


# --- embedded keys -------------------------------------------------------------------------------


def test_embedded_jwk_is_not_trusted_by_default() -> None:
    # CVE-2018-0114: the attacker signs with their key and puts it in the header.
    token = jose.sign_compact({"jwk": OTHER.public_key.to_jwk()}, CLAIMS, OTHER)
    with pytest.raises(InvalidSignature):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


@pytest.mark.parametrize("header", ["jku", "x5u", "x5c"])
def test_key_url_headers_are_never_followed(header: str) -> None:
    value = ["MIIB"] if header == "x5c" else "http://169.254.169.254/keys"
    token = jose.sign_compact({header: value}, CLAIMS, OTHER)
    with pytest.raises(InvalidSignature):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


def test_small_order_key_in_trusted_jwk_header_refused() -> None:
    # The identity point 01 00..00: with R = identity and S = 0 "signs" every message.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(b"\x01" + bytes(31))}
    token = _forge({"alg": "EdDSA", "typ": "t", "jwk": jwk}, b"{}", b"\x01" + bytes(63))
    with pytest.raises(WeakKey):
        jose.verify_compact(token, None, expected_typ="t", trust_header_jwk=True)


def test_private_key_in_trusted_jwk_header_refused() -> None:
    token = jose.sign_compact({"typ": "t", "jwk": ED.to_jwk()}, CLAIMS, ED)
    with pytest.raises(InvalidKey):
        jose.verify_compact(token, None, expected_typ="t", trust_header_jwk=True)


# --- crit and b64 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [{"crit": ["exp"], "exp": 1}, {"crit": ["b64"], "b64": False}, {"b64": False}, {"crit": []}],
    ids=["crit_unknown", "crit_b64_false", "b64_false", "crit_empty"],
)
def test_crit_and_b64_refused(extra: dict[str, Any]) -> None:
    token = _signed({"alg": "EdDSA", **extra}, b"{}", ED)
    with pytest.raises((UnsupportedCriticalHeader, MalformedToken)):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


def test_sign_refuses_crit_and_b64_false() -> None:
    with pytest.raises(UnsupportedCriticalHeader):
        jose.sign_compact({"crit": ["x"], "x": 1}, CLAIMS, ED)
    with pytest.raises(UnsupportedCriticalHeader):
        jose.sign_compact({"b64": False}, CLAIMS, ED)


# --- typ -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("typ", ["kb+jwt", "statuslist+jwt", "JWT", "dc+sd-jwt"])
def test_token_type_confusion_refused(typ: str) -> None:
    token = jose.sign_compact({"typ": typ}, CLAIMS, ED)
    with pytest.raises(WrongTokenType):
        jose.verify_compact(token, ED.public_key, expected_typ="vc+jwt")


def test_missing_typ_refused_when_one_is_expected() -> None:
    token = jose.sign_compact({}, CLAIMS, ED)
    with pytest.raises(WrongTokenType):
        jose.verify_compact(token, ED.public_key, expected_typ="vc+jwt")


def test_unexpected_typ_refused_when_none_is_expected() -> None:
    token = jose.sign_compact({"typ": "vc+jwt"}, CLAIMS, ED)
    with pytest.raises(WrongTokenType):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


# --- parsing: JSON and base64url -----------------------------------------------------------------


def test_duplicate_header_member_refused() -> None:
    token = _signed(b'{"alg":"EdDSA","alg":"none"}', b"{}", ED)
    with pytest.raises(MalformedToken):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


def test_duplicate_claim_refused() -> None:
    token = _signed({"alg": "EdDSA"}, b'{"sub":"alice","sub":"mallory"}', ED)
    with pytest.raises(MalformedToken):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


@pytest.mark.parametrize(
    "payload",
    [b'{"n":NaN}', b'{"n":Infinity}', b'{"s":"\\ud800"}', b"[" * 100 + b"]" * 100, b"[1]", b"\xff"],
    ids=["nan", "infinity", "lone_surrogate", "deep_nesting", "not_an_object", "not_utf8"],
)
def test_bad_json_claims_refused(payload: bytes) -> None:
    token = _signed({"alg": "EdDSA"}, payload, ED)
    with pytest.raises(MalformedToken):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


def test_huge_integer_claim_refused() -> None:
    token = _signed({"alg": "EdDSA"}, b'{"n":' + b"9" * 5000 + b"}", ED)
    with pytest.raises(MalformedToken):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t + "==",
        lambda t: t.replace(".", "=.", 1),
        lambda t: t + " ",
        lambda t: " " + t,
        lambda t: t.replace("-", "+").replace("_", "/") if ("-" in t or "_" in t) else t + "+",
        lambda t: t + ".",
        lambda t: t.rsplit(".", 1)[0],
        lambda t: t + "\n",
    ],
    ids=[
        "padding",
        "header_padding",
        "trailing_space",
        "leading_space",
        "std_alphabet",
        "four_segments",
        "two_segments",
        "trailing_newline",
    ],
)
def test_non_canonical_serialisations_refused(mutate: Any) -> None:
    token = jose.sign_compact({}, CLAIMS, ED)
    with pytest.raises(MalformedToken):
        jose.verify_compact(mutate(token), ED.public_key, expected_typ=None)


def test_non_zero_trailing_bits_refused() -> None:
    token = jose.sign_compact({}, CLAIMS, ED)
    head, sig = token.rsplit(".", 1)
    # 64 bytes -> 86 chars; the last char carries 4 unused bits.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(sig[-1])
    tweaked = (
        sig[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last | 1]
    )
    with pytest.raises(MalformedToken):
        jose.verify_compact(f"{head}.{tweaked}", ED.public_key, expected_typ=None)


def test_huge_kid_refused_before_any_work() -> None:
    token = _forge({"alg": "EdDSA", "kid": "x" * 100_000}, b"{}", bytes(64))
    with pytest.raises(MalformedToken):
        jose.verify_compact(token, ED.public_key, expected_typ=None)


def test_oversized_token_refused() -> None:
    with pytest.raises(MalformedToken):
        jose.decode_unverified("a" * (jose.MAX_TOKEN_LENGTH + 1))


def test_non_string_token_refused() -> None:
    with pytest.raises(MalformedToken):
        jose.decode_unverified(b"a.b.c")  # type: ignore[arg-type]


def test_decode_unverified_returns_the_signing_input() -> None:
    token = jose.sign_compact({"kid": "k"}, CLAIMS, ED)
    header, payload, signing_input, signature = jose.decode_unverified(token)
    assert header == {"alg": "EdDSA", "kid": "k"}
    assert json.loads(payload) == CLAIMS
    ED.public_key.verify(signature, signing_input)


def test_a_kept_header_is_still_checked_against_each_key_type() -> None:
    # Headers are kept per key type: an ES256 header that passed for a P-256 key is refused for
    # an Ed25519 key, however often it was used before.
    from identity.keys import KeyType as _KeyType
    from identity.keys import PrivateKey as _PrivateKey

    p256 = _PrivateKey.from_private_bytes(_KeyType.P256, bytes(31) + b"\x0b")
    ed = _PrivateKey.from_private_bytes(_KeyType.ED25519, bytes(32))
    header = {"kid": "k-kept", "alg": "ES256", "typ": "x+jwt"}
    for _ in range(3):
        token = jose.sign_compact(header, {"a": 1}, p256)
        assert jose.decode_unverified(token)[0] == {"alg": "ES256", "kid": "k-kept", "typ": "x+jwt"}
        with pytest.raises(UnsupportedAlgorithm):
            jose.sign_compact(header, {"a": 1}, ed)
    for _ in range(2):
        with pytest.raises(UnsupportedCriticalHeader):
            jose.sign_compact({"kid": "k-kept", "crit": "b64"}, {"a": 1}, p256)
    # No alg: the key's default, per key type.
    assert jose.decode_unverified(jose.sign_compact({"kid": "d"}, b"{}", ed))[0]["alg"] == "EdDSA"
    assert jose.decode_unverified(jose.sign_compact({"kid": "d"}, b"{}", p256))[0]["alg"] == "ES256"
