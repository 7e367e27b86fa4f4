"""did:key edge cases beyond the published vectors: version form, multibase and multicodec
strictness, key validation, document options."""

from __future__ import annotations

import pytest

import errors
from identity import did_key
from identity.encoding import b58_encode, multibase_encode
from identity.keys import KeyType, PrivateKey

ED = PrivateKey.from_private_bytes(KeyType.ED25519, b"\x11" * 32).public_key
EC = PrivateKey.from_private_bytes(KeyType.P256, b"\x11" * 32).public_key
ED_DID = did_key.did_from_public_key(ED)
EC_DID = did_key.did_from_public_key(EC)
ED_MB = ED_DID.removeprefix("did:key:")


def _did(data: bytes) -> str:
    return "did:key:" + multibase_encode(data)


def test_round_trip() -> None:
    assert ED_DID.startswith("did:key:z6Mk")
    assert EC_DID.startswith("did:key:zDn")
    assert did_key.public_key_from_did(ED_DID) == ED
    assert did_key.public_key_from_did(EC_DID) == EC


def test_version_1_form_is_accepted_and_kept_in_ids() -> None:
    did = f"did:key:1:{ED_MB}"
    assert did_key.public_key_from_did(did) == ED
    document = did_key.resolve(did)
    assert document["id"] == did
    assert document["verificationMethod"][0]["id"] == f"{did}#{ED_MB}"
    assert document["verificationMethod"][0]["controller"] == did


@pytest.mark.parametrize(
    ("did", "error"),
    [
        (f"did:key:0:{ED_MB}", errors.InvalidDid),
        (f"did:key:2:{ED_MB}", errors.InvalidDid),  # positive, but not a version we know
        (f"did:key:01:{ED_MB}", errors.InvalidDid),
        (f"did:key:1:1:{ED_MB}", errors.InvalidDid),
        (f"did:key:x:{ED_MB}", errors.InvalidDid),
        (f"did:key::{ED_MB}", errors.InvalidDid),
        ("did:key:u7QE" + "A" * 43, errors.InvalidDid),  # base64url multibase: ABNF yes, algo no
        ("did:key:z", errors.InvalidDid),
        ("did:key:z0OIl", errors.InvalidDid),  # not base58btc
        (f"did:key:{ED_MB}#{ED_MB}", errors.InvalidDid),  # a DID URL is not a DID
        (f"did:KEY:{ED_MB}", errors.InvalidDid),
        (f"did:jwk:{ED_MB}", errors.MethodNotSupported),
        (f"did:web:{ED_MB}", errors.MethodNotSupported),
        (_did(b"\xed"), errors.InvalidPublicKey),  # truncated varint
        (_did(b"\xed\x81\x00" + ED.raw), errors.InvalidPublicKey),  # over-long varint
        (_did(b"\xed\x01"), errors.InvalidPublicKeyLength),
        (_did(b"\xed\x01" + ED.raw + b"\x00"), errors.InvalidPublicKeyLength),
        (_did(b"\xed\x01" + ED.raw[:-1]), errors.InvalidPublicKeyLength),
        (_did(b"\x80\x24" + EC.raw), errors.InvalidPublicKeyLength),  # uncompressed P-256
        (_did(b"\x80\x24" + EC.compressed()[:-1]), errors.InvalidPublicKeyLength),
        (_did(b"\x80\x24\x04" + EC.raw[1:33]), errors.InvalidPublicKey),  # bad SEC1 prefix
        (_did(b"\x80\x24\x02" + b"\xff" * 32), errors.InvalidPublicKey),  # x >= p
        (_did(b"\xed\x01" + (2).to_bytes(32, "little")), errors.InvalidPublicKey),  # off curve
        (_did(b"\xec\x01" + ED.raw), errors.UnsupportedPublicKeyType),  # X25519
        (_did(b"\xe7\x01\x02" + EC.raw[1:33]), errors.UnsupportedPublicKeyType),  # secp256k1
        (_did(b"\x81\x24\x02" + b"\x01" * 48), errors.UnsupportedPublicKeyType),  # P-384
        (_did(b"\x81\x24\x02" + b"\x01" * 32), errors.InvalidPublicKeyLength),  # P-384 length
        (_did(b"\xeb\x01" + ED.raw), errors.UnsupportedPublicKeyType),  # bls12_381-g1? unknown
        (_did(b"\x00" + ED.raw), errors.UnsupportedPublicKeyType),
    ],
)
def test_invalid(did: str, error: type[errors.DidError]) -> None:
    with pytest.raises(error) as info:
        did_key.public_key_from_did(did)
    assert type(info.value) is error  # not a subclass or a sibling: the code must be exact


def test_leading_zero_bytes_in_base58_are_kept() -> None:
    # '1' encodes a leading zero byte; '1z6Mk...' must not silently decode to the same key.
    did = "did:key:z1" + b58_encode(b"\xed\x01" + ED.raw)
    with pytest.raises(errors.UnsupportedPublicKeyType):
        did_key.public_key_from_did(did)


def test_documents_multikey_and_jsonwebkey() -> None:
    multikey = did_key.resolve(ED_DID)
    jwk = did_key.resolve(ED_DID, vm_type=did_key.VmType.JSON_WEB_KEY)
    assert multikey["verificationMethod"][0]["publicKeyMultibase"] == ED_MB
    assert jwk["verificationMethod"][0]["publicKeyJwk"] == ED.to_jwk()
    assert multikey["@context"] == jwk["@context"] == ["https://www.w3.org/ns/did/v1.1"]


def test_ed25519_without_key_agreement() -> None:
    document = did_key.resolve(ED_DID, enable_encryption_key_derivation=False)
    assert "keyAgreement" not in document
    assert len(document["verificationMethod"]) == 1


def test_p256_key_agreement_references_signing_key() -> None:
    document = did_key.resolve(EC_DID)
    vm_id = document["verificationMethod"][0]["id"]
    for name in (
        "authentication",
        "assertionMethod",
        "capabilityInvocation",
        "capabilityDelegation",
        "keyAgreement",
    ):
        assert document[name] == [vm_id]
    assert document["verificationMethod"][0]["publicKeyMultibase"] == vm_id.split("#")[1]


@pytest.mark.parametrize(
    "vm_type", ["Ed25519VerificationKey2020", "JsonWebKey2020", "", "multikey"]
)
def test_unknown_public_key_format(vm_type: str) -> None:
    with pytest.raises(errors.UnsupportedPublicKeyType):
        did_key.resolve(ED_DID, vm_type=vm_type)


def test_documents_are_fresh() -> None:
    first = did_key.resolve(ED_DID)
    first["verificationMethod"].clear()
    assert did_key.resolve(ED_DID)["verificationMethod"]


def test_identifier_is_checked_before_the_format_option() -> None:
    with pytest.raises(errors.InvalidDid):
        did_key.resolve("did:key:@", vm_type="Unknown")
