"""The did:jwk method (quartzjer/did-jwk ``spec.md``): ``did:jwk:<base64url(UTF-8 JSON JWK)>``.

Read (§"Read"): strip the prefix, base64url-decode, parse as UTF-8 JSON, validate the JWK,
build the document. Validation here is ``PublicKey.from_jwk`` (strict members, supported curves,
on-curve, no weak Ed25519 keys) plus the spec's own rule that a JWK with private members "must be
rejected". Decoding is strict: unpadded canonical base64url, valid UTF-8, a JSON object with no
duplicate names, no NaN/Infinity.

Document (§"To create the DID Document"): one verification method ``<did>#0`` (the only valid
fragment, whatever ``kid`` says) whose ``publicKeyJwk`` is the JWK as given. We use the CID 1.0
type ``JsonWebKey`` and the DID v1.1 context (which defines it) instead of the spec's older
``JsonWebKey2020`` / jws-2020 context, as did:key v0.9 does. Relationships follow the ``use``
rule: ``"sig"``: authentication, assertionMethod, capabilityInvocation, capabilityDelegation;
``"enc"``: keyAgreement only; absent: all five for P-256 (the spec's P-256 example), the four
signing ones for Ed25519, because the spec notes Ed25519 is only valid for "sig" (RFC 8037 §3.1).
An Ed25519 JWK with ``"use": "enc"`` and any other ``use`` value are ``invalidPublicKey``.

    >>> from identity.keys import PrivateKey, KeyType
    >>> key = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\\x01").public_key
    >>> public_key_from_did(did_from_public_key(key)) == key
    True
"""

from __future__ import annotations

import json
import math
from typing import Any

from errors import (
    InvalidDid,
    InvalidEncoding,
    InvalidKey,
    InvalidPublicKey,
    MethodNotSupported,
    UnsupportedAlgorithm,
    UnsupportedKeyType,
    UnsupportedPublicKeyType,
)
from identity.did import parse_did
from identity.encoding import b64url_decode, b64url_encode
from identity.keys import KeyType, PublicKey

__all__ = ["CONTEXT", "did_from_public_key", "public_key_from_did", "resolve"]

CONTEXT = "https://www.w3.org/ns/did/v1.1"

_SIGNING_RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityInvocation",
    "capabilityDelegation",
)
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def did_from_public_key(key: PublicKey) -> str:
    """``did:jwk:`` + base64url of the public JWK serialised with sorted members and no
    whitespace (for these ASCII members that is exactly RFC 8785 JCS), so one key gives one DID
    when we create it. Other serialisations of the same key are different, equally valid DIDs."""
    canonical = json.dumps(key.to_jwk(), sort_keys=True, separators=(",", ":"))
    return "did:jwk:" + b64url_encode(canonical.encode("ascii"))


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise InvalidDid(f"did:jwk JWK has a duplicate member {name!r}")
        result[name] = value
    return result


def _reject_constant(name: str) -> Any:
    raise InvalidDid(f"did:jwk JWK contains {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidDid("did:jwk JWK contains a non-finite number")
    return value


def _decode_jwk(did: str) -> dict[str, Any]:
    """Read steps 1-3: the JWK object inside ``did``."""
    parsed = parse_did(did)
    if parsed.method != "jwk":
        raise MethodNotSupported(f"not a did:jwk DID (method {parsed.method!r})")
    try:
        # ':' and '%' are valid idchars but never base64url; b64url_decode refuses them.
        text = b64url_decode(parsed.method_specific_id).decode("utf-8")
    except (InvalidEncoding, UnicodeDecodeError) as exc:
        raise InvalidDid("did:jwk value is not base64url of UTF-8 text") from exc
    try:
        jwk = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
        # A lone surrogate written as a JSON escape survives json.loads; refuse it here.
        json.dumps(jwk, ensure_ascii=False).encode("utf-8")
    except InvalidDid:
        raise
    except (ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise InvalidDid("did:jwk value is not valid JSON") from exc
    if not isinstance(jwk, dict):
        raise InvalidDid("did:jwk value must be a JSON object")
    return jwk


def _key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    """Read step 4: validate the JWK, mapping key errors to DID Resolution codes."""
    leaked = _PRIVATE_MEMBERS.intersection(jwk)
    if leaked:
        raise InvalidPublicKey(f"did:jwk JWK must not contain private members {sorted(leaked)}")
    try:
        key = PublicKey.from_jwk(jwk)
    except UnsupportedKeyType as exc:
        raise UnsupportedPublicKeyType(exc.message) from exc
    except (InvalidKey, UnsupportedAlgorithm) as exc:  # WeakKey included: the cause says which
        raise InvalidPublicKey(exc.message) from exc
    use = jwk.get("use")
    if use is not None and use not in ("sig", "enc"):
        raise InvalidPublicKey(f"did:jwk JWK has an unknown 'use' {use!r}")
    if use == "enc" and key.key_type is KeyType.ED25519:
        raise InvalidPublicKey("an Ed25519 key cannot have 'use': 'enc'")
    return key


def public_key_from_did(did: str) -> PublicKey:
    """The public key a did:jwk names."""
    return _key_from_jwk(_decode_jwk(did))


def resolve(did: str) -> dict[str, Any]:
    """Expand a did:jwk into its DID document (a fresh dict)."""
    jwk = _decode_jwk(did)
    key = _key_from_jwk(jwk)
    vm_id = f"{did}#0"
    document: dict[str, Any] = {
        "@context": [CONTEXT],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "JsonWebKey", "controller": did, "publicKeyJwk": jwk}
        ],
    }
    use = jwk.get("use")
    if use != "enc":
        for relationship in _SIGNING_RELATIONSHIPS:
            document[relationship] = [vm_id]
    if use == "enc" or (use is None and key.key_type is KeyType.P256):
        document["keyAgreement"] = [vm_id]
    return document
