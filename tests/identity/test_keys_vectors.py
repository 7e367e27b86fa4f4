"""Known answers from RFC 8037 App. A, RFC 7638 §3.1, RFC 7515 App. A.3 (vectors/rfc8037.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from identity.encoding import b64url_decode, b64url_encode
from identity.keys import Algorithm, KeyType, PrivateKey, PublicKey, jwk_thumbprint

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "rfc8037.json").read_text())
RFC8037 = VECTORS["rfc8037"]
RFC7638 = VECTORS["rfc7638_3_1"]
ES256 = VECTORS["rfc7515_A3_es256"]


def _split(jws: str) -> tuple[bytes, bytes]:
    header, payload, signature = jws.split(".")
    return f"{header}.{payload}".encode("ascii"), b64url_decode(signature)


def test_rfc8037_a1_d_gives_x() -> None:
    key = PrivateKey.from_jwk(RFC8037["A.1_private_key_jwk"])
    assert key.key_type is KeyType.ED25519
    assert key.public_key.to_jwk() == RFC8037["A.2_public_key_jwk"]
    assert key.to_jwk() == RFC8037["A.1_private_key_jwk"]
    # A.1 note: d is the RFC 8032 §7.1 TEST 1 secret key.
    assert key.private_bytes().hex() == RFC8037["A.1_note"].split()[-1]


def test_rfc8037_a3_thumbprint() -> None:
    key = PublicKey.from_jwk(RFC8037["A.2_public_key_jwk"])
    assert key.thumbprint() == RFC8037["A.3_thumbprint_sha256_b64url"]
    assert jwk_thumbprint(json.loads(RFC8037["A.3_thumbprint_input"])) == key.thumbprint()


def test_rfc8037_a4_a5_jws_verifies_and_resigning_reproduces_it() -> None:
    header, payload, _ = RFC8037["A.4_jws_compact"].split(".")
    assert json.loads(b64url_decode(header)) == RFC8037["A.4_protected_header"]
    assert b64url_decode(payload).decode() == RFC8037["A.4_payload_utf8"]
    signing_input, signature = _split(RFC8037["A.4_jws_compact"])

    public = PublicKey.from_jwk(RFC8037["A.2_public_key_jwk"])
    public.verify(signature, signing_input, algorithm=Algorithm.EDDSA)
    public.verify(signature, signing_input, algorithm=Algorithm.ED25519)

    private = PrivateKey.from_jwk(RFC8037["A.1_private_key_jwk"])
    assert b64url_encode(private.sign(signing_input)) == RFC8037["A.4_jws_compact"].split(".")[2]


def test_rfc7638_rsa_thumbprint() -> None:
    assert jwk_thumbprint(RFC7638["jwk"]) == RFC7638["thumbprint_sha256_b64url"]


@pytest.mark.parametrize("extra", [{}, {"alg": "RS512"}, {"kid": "other"}, {"d": "secret"}])
def test_rfc7638_thumbprint_ignores_non_required_members(extra: dict[str, str]) -> None:
    jwk = {**RFC7638["jwk"], **extra}
    assert jwk_thumbprint(jwk) == RFC7638["thumbprint_sha256_b64url"]


def test_rfc7517_ec_key_thumbprint() -> None:
    vector = VECTORS["rfc7517_A1_ec_public_key"]
    assert jwk_thumbprint(vector["jwk"]) == vector["thumbprint_sha256_b64url"]
    assert PublicKey.from_jwk(vector["jwk"]).thumbprint() == vector["thumbprint_sha256_b64url"]


def test_rfc7515_a3_es256_verifies() -> None:
    signing_input, signature = _split(ES256["jws_compact"])
    assert signature == b64url_decode(ES256["signature_r_s_b64url"])
    assert b64url_decode(ES256["jws_compact"].split(".")[1]) == ES256["payload_utf8"].encode()
    public_jwk = {k: v for k, v in ES256["jwk"].items() if k != "d"}
    PublicKey.from_jwk(public_jwk).verify(signature, signing_input, algorithm="ES256")


def test_rfc7515_a3_private_key_matches_and_signs_verifiably() -> None:
    key = PrivateKey.from_jwk(ES256["jwk"])
    assert key.to_jwk() == ES256["jwk"]
    signing_input, _ = _split(ES256["jws_compact"])
    key.public_key.verify(key.sign(signing_input), signing_input)
