"""did:jwk (quartzjer/did-jwk spec.md): round trips, the spec's P-256 example, strict decoding."""

from __future__ import annotations

import json
from typing import Any

import pytest

import errors
from identity import did_jwk
from identity.encoding import b64url_encode
from identity.keys import KeyType, PrivateKey, PublicKey

ED = PrivateKey.from_private_bytes(KeyType.ED25519, b"\x22" * 32)
EC = PrivateKey.from_private_bytes(KeyType.P256, b"\x22" * 32)

# The spec's "Examples / P-256" DID and key (spec.md, quartzjer/did-jwk).
SPEC_P256_DID = (
    "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6"
    "OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9"
)
SPEC_P256_JWK = {
    "crv": "P-256",
    "kty": "EC",
    "x": "acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0",
    "y": "_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE",
}
# The spec's X25519 example ("use": "enc"): a key type we do not support.
SPEC_X25519_DID = (
    "did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJYMjU1MTkiLCJ1c2UiOiJlbmMiLCJ4IjoiM3A3YmZYdDl3YlRUVzJIQzdPUT"
    "FOei1EUThoYmVHZE5yZngtRkctSUswOCJ9"
)

SIGNING = ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation")


def _did(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return "did:jwk:" + b64url_encode(text.encode("utf-8", "surrogatepass"))


def test_spec_p256_example() -> None:
    assert did_jwk.public_key_from_did(SPEC_P256_DID) == PublicKey.from_jwk(SPEC_P256_JWK)
    # Our canonical serialisation (sorted members, no whitespace) reproduces the spec's DID.
    assert did_jwk.did_from_public_key(PublicKey.from_jwk(SPEC_P256_JWK)) == SPEC_P256_DID
    document = did_jwk.resolve(SPEC_P256_DID)
    vm_id = SPEC_P256_DID + "#0"
    assert document["id"] == SPEC_P256_DID
    assert document["verificationMethod"] == [
        {
            "id": vm_id,
            "type": "JsonWebKey",
            "controller": SPEC_P256_DID,
            "publicKeyJwk": SPEC_P256_JWK,
        }
    ]
    for name in (*SIGNING, "keyAgreement"):
        assert document[name] == [vm_id]


def test_spec_x25519_example_is_unsupported() -> None:
    with pytest.raises(errors.UnsupportedPublicKeyType):
        did_jwk.resolve(SPEC_X25519_DID)


@pytest.mark.parametrize("key", [ED, EC], ids=["Ed25519", "P-256"])
def test_round_trip(key: PrivateKey) -> None:
    did = did_jwk.did_from_public_key(key.public_key)
    assert did_jwk.public_key_from_did(did) == key.public_key
    assert did_jwk.resolve(did)["verificationMethod"][0]["publicKeyJwk"] == key.public_key.to_jwk()


def test_ed25519_has_no_key_agreement_by_default() -> None:
    document = did_jwk.resolve(did_jwk.did_from_public_key(ED.public_key))
    assert "keyAgreement" not in document
    for name in SIGNING:
        assert document[name] == [document["id"] + "#0"]


@pytest.mark.parametrize(
    ("key", "use", "relationships"),
    [
        (EC, "sig", SIGNING),
        (EC, "enc", ("keyAgreement",)),
        (ED, "sig", SIGNING),
    ],
)
def test_use_rules(key: PrivateKey, use: str, relationships: tuple[str, ...]) -> None:
    jwk = {**key.public_key.to_jwk(), "use": use}
    document = did_jwk.resolve(_did(jwk))
    present = {n for n in (*SIGNING, "keyAgreement") if n in document}
    assert present == set(relationships)
    assert document["verificationMethod"][0]["publicKeyJwk"] == jwk


def test_kid_is_kept_but_fragment_is_0() -> None:
    jwk = {**EC.public_key.to_jwk(), "kid": "my-key"}
    document = did_jwk.resolve(_did(jwk))
    assert document["verificationMethod"][0]["id"].endswith("#0")
    assert document["verificationMethod"][0]["publicKeyJwk"]["kid"] == "my-key"


EC_JWK = EC.public_key.to_jwk()
ED_JWK = ED.public_key.to_jwk()


@pytest.mark.parametrize(
    ("did", "error"),
    [
        ("did:jwk:", errors.InvalidDid),
        ("did:jwk:" + b64url_encode(b"{}") + "=", errors.InvalidDid),  # '=' is not an idchar
        (_did(EC_JWK) + "%3D", errors.InvalidDid),
        (_did(EC_JWK).replace("did:jwk:", "did:jwk:a:"), errors.InvalidDid),
        (_did(EC_JWK)[:-1] + "B", errors.InvalidDid),  # "B" sets unused trailing bits
        ("did:jwk:" + b64url_encode(b"\xff\xfe{}"), errors.InvalidDid),  # not UTF-8
        (_did("not json"), errors.InvalidDid),
        (_did("[1, 2]"), errors.InvalidDid),
        (_did('"x"'), errors.InvalidDid),
        (_did('{"kty":"EC","kty":"EC"}'), errors.InvalidDid),  # duplicate member
        (_did('{"kty":"EC","crv":"P-256","x":NaN}'), errors.InvalidDid),
        (_did('{"kty":"EC","crv":"P-256","n":1e999}'), errors.InvalidDid),
        (_did('{"kty":"EC","crv":"P-256","x":"\\ud800"}'), errors.InvalidDid),
        (_did("[" * 600 + "]" * 600), errors.InvalidDid),
        (_did({**EC_JWK, "d": b64url_encode(EC.private_bytes())}), errors.InvalidPublicKey),
        (_did({**ED_JWK, "d": b64url_encode(ED.private_bytes())}), errors.InvalidPublicKey),
        (_did({**EC_JWK, "y": EC_JWK["x"]}), errors.InvalidPublicKey),  # off curve
        (_did({**EC_JWK, "x": EC_JWK["x"] + "AA"}), errors.InvalidPublicKey),  # 33 bytes
        (_did({**EC_JWK, "alg": "ES384"}), errors.InvalidPublicKey),
        (_did({**EC_JWK, "use": "signature"}), errors.InvalidPublicKey),
        (_did({**ED_JWK, "use": "enc"}), errors.InvalidPublicKey),
        (_did({k: v for k, v in EC_JWK.items() if k != "y"}), errors.InvalidPublicKey),
        (_did({"kty": "RSA", "n": "AQAB", "e": "AQAB"}), errors.UnsupportedPublicKeyType),
        (_did({**EC_JWK, "crv": "P-384"}), errors.UnsupportedPublicKeyType),
        (_did({**EC_JWK, "kty": "oct", "k": "AAAA"}), errors.InvalidPublicKey),
        ("did:key:" + _did(EC_JWK).removeprefix("did:jwk:"), errors.MethodNotSupported),
    ],
)
def test_invalid(did: str, error: type[errors.DidError]) -> None:
    with pytest.raises(error) as info:
        did_jwk.public_key_from_did(did)
    assert type(info.value) is error
    with pytest.raises(error):
        did_jwk.resolve(did)
