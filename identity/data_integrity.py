"""Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite.

Specs: W3C Data Integrity EdDSA Cryptosuites v1.0 §3.3 "eddsa-jcs-2022" (3.3.1 Create Proof,
3.3.2 Verify Proof, 3.3.3 Transformation, 3.3.4 Hashing, 3.3.5 Proof Configuration, 3.3.6 Proof
Serialization, 3.3.7 Proof Verification); W3C Verifiable Credential Data Integrity 1.0 §2.1
(proof members) and §4 (proof purpose check); RFC 8785 (JCS); RFC 8032 (Ed25519).

The hash that is signed is ``SHA-256(JCS(proofConfig)) || SHA-256(JCS(document))`` where
``proofConfig`` is the proof without ``proofValue`` (plus the document's ``@context`` if it has
one), and ``proofValue`` is ``'z' + base58btc(signature)``.

Keys are named by a did:key DID URL whose fragment is the key itself
(``did:key:z6Mk...#z6Mk...``); ``verify_did_key_proof`` refuses any other form, so a proof can
never point at a key that a resolver would have to fetch.

    >>> from identity.keys import KeyType, PrivateKey
    >>> key = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32))
    >>> proof = create_proof({"hello": "world"}, key, created="2025-01-01T00:00:00Z")
    >>> verify_did_key_proof({"hello": "world"}, proof) == key.public_key
    True
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

from errors import (
    Error,
    InvalidEncoding,
    InvalidValue,
    VerificationFailed,
)
from identity.did import parse_did_url
from identity.encoding import multibase_decode, multibase_encode
from identity.keys import KeyType, PrivateKey, PublicKey
from identity.multikey import multikey_from_public_key, public_key_from_multikey

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "InvalidProof",
    "create_proof",
    "did_key_verification_method",
    "jcs",
    "public_key_from_verification_method",
    "verify_did_key_proof",
    "verify_proof",
]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"

# XML Schema 1.1 dateTime (VC Data Integrity §2.1 "created"): the time zone is optional there;
# we only ever need to read the UTC forms did:webvh and our own code write.
_DATETIME_RE = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")


class InvalidProof(VerificationFailed):
    """A Data Integrity proof that is malformed or does not fit the cryptosuite (the spec's
    ``INVALID_PROOF_CONFIGURATION``, ``INVALID_PROOF_DATETIME``, ``PROOF_TRANSFORMATION_ERROR``,
    a wrong proof purpose or a verification method we cannot use). A signature that does not
    verify is ``errors.InvalidSignature`` instead."""

    code = "invalid_proof"


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of ``value``; ``InvalidValue`` if it has no JCS form
    (non-string keys, NaN, integers beyond IEEE 754 doubles, lone surrogates ...)."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise InvalidValue(f"value cannot be canonicalised with JCS: {exc}") from exc


def did_key_verification_method(key: PublicKey) -> str:
    """``did:key:<multikey>#<multikey>``, the verification method id of a did:key."""
    multikey = multikey_from_public_key(key)
    return f"did:key:{multikey}#{multikey}"


def _format_created(created: datetime | str | None) -> str | None:
    if created is None or isinstance(created, str):
        return created
    if created.tzinfo is None:
        raise InvalidValue("created must be a timezone-aware datetime")
    return created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _proof_config(options: Mapping[str, Any], document: Mapping[str, Any]) -> bytes:
    """§3.3.5 Proof Configuration: check type/cryptosuite/created, copy the document's
    ``@context`` in, return the canonical bytes."""
    config = dict(options)
    if config.get("type") != PROOF_TYPE or config.get("cryptosuite") != CRYPTOSUITE:
        raise InvalidProof(f"proof must be a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    created = config.get("created")
    if created is not None and (
        not isinstance(created, str) or _DATETIME_RE.fullmatch(created) is None
    ):
        raise InvalidProof("proof 'created' is not an XML Schema dateTime")
    if "@context" in document:
        config["@context"] = document["@context"]
    return jcs(config)


def _hash_data(config: bytes, document: Mapping[str, Any]) -> bytes:
    # §3.3.4: proofConfigHash || transformedDocumentHash.
    return hashlib.sha256(config).digest() + hashlib.sha256(jcs(document)).digest()


def create_proof(
    document: Mapping[str, Any],
    key: PrivateKey,
    *,
    verification_method: str | None = None,
    proof_purpose: str = "assertionMethod",
    created: datetime | str | None = None,
) -> dict[str, Any]:
    """§3.3.1 Create Proof: the proof object for ``document`` (which must not carry a proof).

    ``verification_method`` defaults to the key's did:key DID URL. Only Ed25519 keys can sign.
    """
    if key.key_type is not KeyType.ED25519:
        raise InvalidValue(f"{CRYPTOSUITE} needs an Ed25519 key")
    if not isinstance(document, Mapping) or "proof" in document:
        raise InvalidValue("the document must be an object without a proof")
    proof: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE}
    when = _format_created(created)
    if when is not None:
        proof["created"] = when
    proof["verificationMethod"] = verification_method or did_key_verification_method(key.public_key)
    proof["proofPurpose"] = proof_purpose
    hash_data = _hash_data(_proof_config(proof, document), document)
    proof["proofValue"] = multibase_encode(key.sign(hash_data))
    return proof


def _split_proof(proof: Any) -> tuple[dict[str, Any], bytes]:
    if not isinstance(proof, Mapping):
        raise InvalidProof("a proof must be a JSON object")
    options = dict(proof)
    value = options.pop("proofValue", None)
    if not isinstance(value, str):
        raise InvalidProof("proofValue is missing or not a string")
    try:
        signature = multibase_decode(value, max_length=200)
    except InvalidEncoding as exc:
        raise InvalidProof("proofValue is not multibase base58btc") from exc
    if len(signature) != 64:
        raise InvalidProof("proofValue must hold a 64-byte Ed25519 signature")
    return options, signature


def verify_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    key: PublicKey,
    *,
    expected_purpose: str = "assertionMethod",
) -> None:
    """§3.3.2 Verify Proof of ``proof`` over ``document`` (the document *without* its proof)
    with ``key``. Raises ``InvalidProof`` for a malformed proof or wrong purpose and
    ``InvalidSignature`` if the signature does not verify.

    Step 4: if the proof has an ``@context``, the document's ``@context`` must start with it
    and the proof's one is used for hashing.
    """
    if not isinstance(document, Mapping):
        raise InvalidProof("the secured document must be a JSON object")
    options, signature = _split_proof(proof)
    if options.get("proofPurpose") != expected_purpose:
        raise InvalidProof(f"proofPurpose must be {expected_purpose!r}")
    unsecured = copy.copy(dict(document))
    unsecured.pop("proof", None)
    if "@context" in options:
        proof_context, document_context = options["@context"], unsecured.get("@context")
        proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
        doc_list = document_context if isinstance(document_context, list) else [document_context]
        if doc_list[: len(proof_list)] != proof_list:
            raise InvalidProof("the document @context does not start with the proof @context")
        unsecured["@context"] = proof_context
    if key.key_type is not KeyType.ED25519:
        raise InvalidProof(f"{CRYPTOSUITE} verifies Ed25519 keys only")
    hash_data = _hash_data(_proof_config(options, unsecured), unsecured)
    key.verify(signature, hash_data)


def public_key_from_verification_method(verification_method: Any) -> PublicKey:
    """The key of a ``did:key:<mk>#<mk>`` verification method; anything else (other DID
    methods, a fragment that is not the key itself, a path or query) is ``InvalidProof``."""
    if not isinstance(verification_method, str):
        raise InvalidProof("verificationMethod must be a string")
    try:
        url = parse_did_url(verification_method)
    except Error as exc:
        raise InvalidProof(f"verificationMethod is not a DID URL: {exc.message}") from exc
    multikey = url.did.method_specific_id
    if url.did.method != "key" or url.path or url.query is not None:
        raise InvalidProof("verificationMethod must be a did:key DID URL")
    if url.fragment != multikey:
        raise InvalidProof("the did:key verificationMethod fragment must equal the key")
    try:
        key = public_key_from_multikey(multikey)
    except Error as exc:
        raise InvalidProof(f"verificationMethod key is unusable: {exc.message}") from exc
    if key.key_type is not KeyType.ED25519:
        raise InvalidProof(f"{CRYPTOSUITE} verifies Ed25519 keys only")
    return key


def verify_did_key_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    *,
    expected_purpose: str = "assertionMethod",
) -> PublicKey:
    """Verify a proof whose ``verificationMethod`` is a did:key DID URL; return that key.

    Callers decide whether the key is *authorised* (e.g. in did:webvh ``updateKeys``).
    """
    if not isinstance(proof, Mapping):
        raise InvalidProof("a proof must be a JSON object")
    key = public_key_from_verification_method(proof.get("verificationMethod"))
    verify_proof(document, proof, key, expected_purpose=expected_purpose)
    return key
