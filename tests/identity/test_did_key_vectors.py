"""did:key conformance against tests/vectors/didkey.json (did:key v0.9 spec, its older test
vectors, and the did-key-test-suite negative cases)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import errors
from identity import did_key
from identity.encoding import b58_decode, b64url_decode, multibase_decode
from identity.keys import KeyType, PrivateKey, PublicKey
from identity.multikey import decode_multikey
from identity.resolver import Resolver

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "didkey.json").read_text())
EXAMPLE = VECTORS["v0_9_spec_example"]
ED25519 = VECTORS["ed25519_x25519_vectors"]["vectors"]
P256 = VECTORS["p256_vectors"]["vectors"]
SUITE = VECTORS["test_suite_negative_and_ids"]
SPEC_DIDS = VECTORS["v0_9_spec_test_vector_dids"]

RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityInvocation",
    "capabilityDelegation",
    "keyAgreement",
)


def _ids(document: dict[str, Any], relationship: str) -> list[str]:
    return [e["id"] if isinstance(e, dict) else e for e in document.get(relationship, [])]


def _methods(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every verification method, listed or embedded, by id."""
    found = {m["id"]: m for m in document.get("verificationMethod", [])}
    for name in RELATIONSHIPS:
        found.update({e["id"]: e for e in document.get(name, []) if isinstance(e, dict)})
    return found


def _key_bytes(method: dict[str, Any]) -> bytes:
    """Raw key bytes of a method in any of the encodings the vectors use; P-256 uncompressed."""
    if "publicKeyBase58" in method:
        raw = b58_decode(method["publicKeyBase58"])
    elif "publicKeyMultibase" in method:
        raw = decode_multikey(method["publicKeyMultibase"])[1]
    else:
        jwk = method["publicKeyJwk"]
        if jwk["kty"] == "EC":
            return b"\x04" + b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])
        raw = b64url_decode(jwk["x"])
    if len(raw) == 33:  # compressed P-256 point
        return PublicKey.from_raw(KeyType.P256, raw).raw
    return raw


def _assert_same_shape(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Compare what does not depend on the spec version: ids, key bytes, relationships."""
    assert ours["id"] == theirs["id"]
    ours_methods, their_methods = _methods(ours), _methods(theirs)
    assert ours_methods.keys() == their_methods.keys()
    for method_id, method in ours_methods.items():
        assert method["controller"] == their_methods[method_id]["controller"]
        assert _key_bytes(method) == _key_bytes(their_methods[method_id])
    for name in RELATIONSHIPS:
        assert _ids(ours, name) == _ids(theirs, name), name


# --- v0.9 spec example -----------------------------------------------------------------------


def test_v0_9_example_document_exactly() -> None:
    assert did_key.resolve(EXAMPLE["did"]) == EXAMPLE["didDocument"]


def test_v0_9_example_through_resolver() -> None:
    result = Resolver().resolve(EXAMPLE["did"])
    assert result.to_dict() == {
        "didDocument": EXAMPLE["didDocument"],
        "didDocumentMetadata": {},
        "didResolutionMetadata": {"contentType": "application/did+ld+json"},
    }


def test_v0_9_example_jsonwebkey_form_has_same_ids() -> None:
    document = did_key.resolve(EXAMPLE["did"], vm_type="JsonWebKey")
    _assert_same_shape(document, EXAMPLE["didDocument"])
    assert all(m["type"] == "JsonWebKey" for m in _methods(document).values())
    assert all("d" not in m["publicKeyJwk"] for m in _methods(document).values())


# --- Ed25519 / X25519 vectors (seeds 00..00 to 00..05) -----------------------------------------


@pytest.mark.parametrize("did", list(ED25519))
def test_ed25519_seed_gives_did(did: str) -> None:
    vector = ED25519[did]
    key = PrivateKey.from_private_bytes(KeyType.ED25519, bytes.fromhex(vector["seed"]))
    assert did_key.did_from_public_key(key.public_key) == did
    assert did_key.public_key_from_did(did) == key.public_key
    pair = vector["verificationKeyPair"]
    if "publicKeyBase58" in pair:
        assert b58_decode(pair["publicKeyBase58"]) == key.public_key.raw
    else:
        assert pair["publicKeyJwk"] == key.public_key.to_jwk()
        assert pair["privateKeyJwk"] == key.to_jwk()


@pytest.mark.parametrize("did", list(ED25519))
def test_ed25519_x25519_key_agreement(did: str) -> None:
    vector = ED25519[did]
    pair = vector["keyAgreementKeyPair"]
    expected_id = pair["id"] if pair["id"].startswith("did:") else did + pair["id"]
    expected_raw = (
        b58_decode(pair["publicKeyBase58"])
        if "publicKeyBase58" in pair
        else b64url_decode(pair["publicKeyJwk"]["x"])
    )
    for vm_type in ("Multikey", "JsonWebKey"):
        document = did_key.resolve(did, vm_type=vm_type)
        (agreement,) = document["keyAgreement"]
        assert agreement["id"] == expected_id
        assert _key_bytes(agreement) == expected_raw
    # The private X25519 key in the vector is clamp(SHA-512(seed)[:32]) (RFC 8032 §5.1.5):
    # check it belongs to the public key we derived by the birational map.
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    if "privateKeyBase58" in pair:
        private = b58_decode(pair["privateKeyBase58"])
    else:
        private = b64url_decode(pair["privateKeyJwk"]["d"])
    digest = bytearray(hashlib.sha512(bytes.fromhex(vector["seed"])).digest()[:32])
    digest[0] &= 248
    digest[31] &= 127
    digest[31] |= 64
    assert private == bytes(digest)
    derived = X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
    assert derived == expected_raw


@pytest.mark.parametrize("did", list(ED25519))
def test_ed25519_document_shape(did: str) -> None:
    theirs = ED25519[did]["didDocument"]
    # Old documents list the X25519 key in verificationMethod and reference it from keyAgreement;
    # v0.9 embeds it. Ids, key bytes and relationship ids must agree either way.
    for vm_type in ("Multikey", "JsonWebKey"):
        _assert_same_shape(did_key.resolve(did, vm_type=vm_type), theirs)


# --- P-256 vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("did", list(P256))
def test_p256_key_gives_did(did: str) -> None:
    method = P256[did]["verificationMethod"]
    if "privateKeyJwk" in method:
        key = PrivateKey.from_jwk(method["privateKeyJwk"])
        assert key.public_key.to_jwk() == method["publicKeyJwk"]
        assert key.to_jwk() == method["privateKeyJwk"]
    else:
        key = PrivateKey.from_private_bytes(KeyType.P256, b58_decode(method["privateKeyBase58"]))
        assert key.public_key.compressed() == b58_decode(method["publicKeyBase58"])
    assert did_key.did_from_public_key(key.public_key) == did
    assert did_key.public_key_from_did(did) == key.public_key
    assert did.startswith("did:key:zDn")


@pytest.mark.parametrize("did", list(P256))
def test_p256_document_shape(did: str) -> None:
    theirs = P256[did]["didDocument"]
    for vm_type in ("Multikey", "JsonWebKey"):
        ours = did_key.resolve(did, vm_type=vm_type)
        _assert_same_shape(ours, theirs)
        assert ours["keyAgreement"] == [f"{did}#{did.removeprefix('did:key:')}"]


@pytest.mark.parametrize("did", list(P256))
def test_p256_jsonwebkey_matches_vector_jwk(did: str) -> None:
    theirs = P256[did]["didDocument"]["verificationMethod"][0]
    ours = did_key.resolve(did, vm_type="JsonWebKey")["verificationMethod"][0]
    if "publicKeyJwk" in theirs:
        assert ours["publicKeyJwk"] == theirs["publicKeyJwk"]


# --- v0.9 spec test-vector DIDs ----------------------------------------------------------------


def test_spec_ed25519_and_p256_dids_decode() -> None:
    ed = did_key.public_key_from_did(SPEC_DIDS["ed25519"])
    assert ed.key_type is KeyType.ED25519
    assert did_key.did_from_public_key(ed) == SPEC_DIDS["ed25519"]
    p256 = did_key.public_key_from_did(SPEC_DIDS["p256"])
    assert p256.key_type is KeyType.P256
    assert did_key.did_from_public_key(p256) == SPEC_DIDS["p256"]


@pytest.mark.parametrize(
    ("did", "codec_prefix", "length"),
    [(SPEC_DIDS["p384"], b"\x81\x24", 49)] + [(d, b"\xe7\x01", 33) for d in SPEC_DIDS["secp256k1"]],
)
def test_spec_p384_and_secp256k1_are_unsupported(
    did: str, codec_prefix: bytes, length: int
) -> None:
    # Decoded far enough to know the key type and that its length is right, then refused.
    data = multibase_decode(did.removeprefix("did:key:"))
    assert data.startswith(codec_prefix) and len(data) == len(codec_prefix) + length
    with pytest.raises(errors.UnsupportedPublicKeyType):
        did_key.public_key_from_did(did)
    result = Resolver().resolve(did)
    assert result.error == "unsupportedPublicKeyType"
    assert result.did_document is None


# --- did-key-test-suite ------------------------------------------------------------------------


def _error_class(code: str) -> type[errors.DidError]:
    matches = [
        cls
        for cls in errors.all_error_classes()
        if issubclass(cls, errors.DidError)
        and cls is not errors.DidError
        and cls.resolution_error == code
    ]
    assert len(matches) == 1, code
    return matches[0]


@pytest.mark.parametrize(
    "case", SUITE["invalid_cases"], ids=[c["input"][:40] for c in SUITE["invalid_cases"]]
)
def test_suite_invalid_cases(case: dict[str, str]) -> None:
    with pytest.raises(_error_class(case["expected_error"])) as info:
        did_key.public_key_from_did(case["input"])
    assert info.value.resolution_error == case["expected_error"]
    result = Resolver().resolve(case["input"])
    assert result.error == case["expected_error"]
    assert result.to_dict()["didDocument"] is None


def test_suite_valid_did_ids() -> None:
    document = did_key.resolve(SUITE["valid_did"])
    assert document["assertionMethod"] == [SUITE["assertion_vm_id"]]
    assert [m["id"] for m in document["keyAgreement"]] == [SUITE["key_agreement_vm_id"]]


def test_multicodec_table() -> None:
    table = VECTORS["multicodec"]
    ed = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32)).public_key
    p256 = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x01").public_key
    for key, name in ((ed, "ed25519-pub"), (p256, "p256-pub")):
        data = multibase_decode(did_key.did_from_public_key(key).removeprefix("did:key:"))
        assert data.hex().startswith(table[name]["varint_prefix_hex"])
        assert len(data) - 2 == table[name]["raw_key_len"]
        assert (
            did_key.did_from_public_key(key)
            .removeprefix("did:key:")
            .startswith(table[name]["did_prefix"])
        )
    x25519_mb = did_key.resolve(did_key.did_from_public_key(ed))["keyAgreement"][0]["id"]
    assert x25519_mb.split("#")[1].startswith(table["x25519-pub"]["did_prefix"])
