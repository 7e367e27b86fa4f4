"""eddsa-jcs-2022 Data Integrity proofs (identity/data_integrity.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from errors import InvalidSignature, InvalidValue
from identity.data_integrity import (
    InvalidProof,
    create_proof,
    did_key_verification_method,
    verify_did_key_proof,
    verify_proof,
)
from identity.keys import KeyType, PrivateKey
from identity.multikey import decode_multikey, public_key_from_multikey

# W3C vc-di-eddsa TestVectors/keyPair.json and TestVectors/eddsa-jcs-2022/signedJCS.json
# (w3c/vc-di-eddsa@369f0f00, the v1.0 Recommendation's Appendix A.2 test vector).
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
]
W3C_SIGNED: dict[str, Any] = {
    "@context": W3C_CONTEXT,
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": f"https://vc.example/issuers/5678#{W3C_PUBLIC}",
        "proofPurpose": "assertionMethod",
        "@context": W3C_CONTEXT,
        "proofValue": "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9"
        "LsVogtuTsijJKh4",
    },
}


def _w3c() -> tuple[dict[str, Any], dict[str, Any]]:
    document = copy.deepcopy(W3C_SIGNED)
    return document, document.pop("proof")


def test_w3c_vector_verifies() -> None:
    document, proof = _w3c()
    verify_proof(document, proof, public_key_from_multikey(W3C_PUBLIC))


def test_w3c_vector_is_reproduced_by_create_proof() -> None:
    document, proof = _w3c()
    codec, secret = decode_multikey(W3C_PRIVATE)
    assert codec == 0x1300  # ed25519-priv
    key = PrivateKey.from_private_bytes(KeyType.ED25519, secret)
    assert key.public_key == public_key_from_multikey(W3C_PUBLIC)
    made = create_proof(
        document, key, verification_method=proof["verificationMethod"], created=proof["created"]
    )
    # Without a proof @context the document's @context enters the proof configuration (§3.3.5
    # step 4), so the signature is the same as the vector's.
    assert made["proofValue"] == proof["proofValue"]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("document", ("name", "Alumni Credential!")),
        ("document", ("validFrom", "2023-01-01T00:00:01Z")),
        ("proof", ("created", "2023-02-24T23:36:39Z")),
        ("proof", ("verificationMethod", "https://vc.example/issuers/5678#other")),
    ],
)
def test_any_change_breaks_the_signature(where: str, value: tuple[str, str]) -> None:
    document, proof = _w3c()
    target = document if where == "document" else proof
    target[value[0]] = value[1]
    with pytest.raises(InvalidSignature):
        verify_proof(document, proof, public_key_from_multikey(W3C_PUBLIC))


@pytest.fixture
def key() -> PrivateKey:
    return PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(32)))


def test_did_key_round_trip(key: PrivateKey) -> None:
    document = {"versionId": "1-Qm"}
    proof = create_proof(document, key, created="2025-01-01T00:00:00Z")
    assert proof["verificationMethod"] == did_key_verification_method(key.public_key)
    assert proof["proofValue"].startswith("z")
    assert verify_did_key_proof(document, proof) == key.public_key


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("type", "Ed25519Signature2020"),
        ("cryptosuite", "eddsa-rdfc-2022"),
        ("cryptosuite", "ecdsa-jcs-2019"),
        ("proofPurpose", "authentication"),
        ("created", "yesterday"),
        ("proofValue", "uAAAA"),
        ("proofValue", "z1111"),
        ("proofValue", 7),
    ],
)
def test_malformed_proofs_are_refused(key: PrivateKey, member: str, value: Any) -> None:
    document = {"a": 1}
    proof = create_proof(document, key)
    proof[member] = value
    with pytest.raises(InvalidProof):
        verify_did_key_proof(document, proof)


@pytest.mark.parametrize(
    "method",
    [
        "did:key:{mk}",  # no fragment
        "did:key:{mk}#key-1",  # fragment is not the key body
        "did:key:{mk}#{other}",  # another key's body
        "did:web:example.com#{mk}",  # another DID method
        "did:key:{mk}/path#{mk}",
        "https://example.com/keys#{mk}",
        "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
    ],
)
def test_verification_method_must_be_a_did_key_with_the_key_as_fragment(
    key: PrivateKey, method: str
) -> None:
    other = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32)).public_key
    multikey = did_key_verification_method(key.public_key).split("#")[1]
    other_mk = did_key_verification_method(other).split("#")[1]
    document = {"a": 1}
    proof = create_proof(
        document, key, verification_method=method.format(mk=multikey, other=other_mk)
    )
    with pytest.raises(InvalidProof):
        verify_did_key_proof(document, proof)


def test_proof_signed_by_another_key_fails(key: PrivateKey) -> None:
    other = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32))
    document = {"a": 1}
    proof = create_proof(
        document, other, verification_method=did_key_verification_method(key.public_key)
    )
    with pytest.raises(InvalidSignature):
        verify_did_key_proof(document, proof)


def test_proof_context_must_prefix_the_document_context() -> None:
    document, proof = _w3c()
    document["@context"] = list(reversed(W3C_CONTEXT))
    with pytest.raises(InvalidProof):
        verify_proof(document, proof, public_key_from_multikey(W3C_PUBLIC))


def test_create_refuses_p256_keys_and_documents_with_a_proof(key: PrivateKey) -> None:
    with pytest.raises(InvalidValue):
        create_proof({"a": 1}, PrivateKey.generate(KeyType.P256))
    with pytest.raises(InvalidValue):
        create_proof({"proof": {}}, key)
    with pytest.raises(InvalidValue):
        create_proof({"a": float("nan")}, key)
