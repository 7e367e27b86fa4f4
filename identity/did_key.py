"""The did:key method, v0.9 (W3C CCG draft, w3c-ccg/did-key-spec@2cc490c).

* Syntax (§"did:key Identifier Syntax"): ``did:key:<mb-value>`` with ``mb-value`` a Multikey
  (``identity.multikey``). The ABNF also allows a ``u`` (base64url) multibase value, but the
  Document Creation Algorithm step 3 requires ``z``, so ``u`` is ``invalidDid``.
* Optional version (§"Document Creation Algorithm" step 2-3): ``did:key:<version>:<mb-value>``.
  The spec requires a positive integer and defines only version 1, so only ``1`` is accepted;
  anything else is ``invalidDid`` rather than a guess at semantics we do not know.
* Key checks (§"Signature Method Creation Algorithm" steps 3-4): wrong length for the codec is
  ``invalidPublicKeyLength``; a key that does not decode, or an Ed25519 weak key, is
  ``invalidPublicKey``; keys other than Ed25519 and P-256 (secp256k1, P-384, X25519, unknown
  codecs) are ``unsupportedPublicKeyType``.
* Document: as the v0.9 example document: ``@context`` ``https://www.w3.org/ns/did/v1.1``, one
  verification method ``<did>#<mb-value>`` referenced from authentication, assertionMethod,
  capabilityInvocation and capabilityDelegation; for Ed25519 the X25519 key derived by the
  "Derive Encryption Key Algorithm" is *embedded* in keyAgreement (as the example shows); for
  P-256, keyAgreement references the signing key (ECDH on the same curve, as in the
  did-key-spec nist-curves vectors).

    >>> doc = resolve("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    >>> doc["verificationMethod"][0]["type"]
    'Multikey'
"""

from __future__ import annotations

import enum
from typing import Any

from errors import InvalidDid, InvalidEncoding, MethodNotSupported, UnsupportedPublicKeyType
from identity import _ed25519
from identity.did import parse_did
from identity.encoding import b58_decode, b64url_encode
from identity.keys import KeyType, PublicKey
from identity.multikey import (
    Multicodec,
    encode_multikey,
    multikey_from_public_key,
    public_key_from_multikey,
)

__all__ = [
    "CONTEXT",
    "VmType",
    "did_from_public_key",
    "public_key_from_did",
    "resolve",
]

CONTEXT = "https://www.w3.org/ns/did/v1.1"


class VmType(enum.StrEnum):
    """The ``publicKeyFormat`` values we produce (CID 1.0 §2.2)."""

    MULTIKEY = "Multikey"
    JSON_WEB_KEY = "JsonWebKey"


def did_from_public_key(key: PublicKey) -> str:
    """``did:key:`` followed by the key's Multikey value."""
    return "did:key:" + multikey_from_public_key(key)


def _split(did: str) -> tuple[str, PublicKey]:
    """Validate ``did`` and return its multibase value and key (Document Creation steps 2-3)."""
    parsed = parse_did(did)
    if parsed.method != "key":
        raise MethodNotSupported(f"not a did:key DID (method {parsed.method!r})")
    parts = parsed.method_specific_id.split(":")
    if len(parts) == 1:
        multibase_value = parts[0]
    elif len(parts) == 2 and parts[0] == "1":
        multibase_value = parts[1]
    else:
        raise InvalidDid("did:key version must be 1 (did:key:<mb> or did:key:1:<mb>)")
    # ABNF mb-value: "z" followed by at least one base58btc character.
    if not multibase_value.startswith("z") or len(multibase_value) < 2:
        raise InvalidDid("did:key value must be base58btc multibase ('z' and base58btc)")
    try:
        b58_decode(multibase_value[1:])
    except InvalidEncoding as exc:
        raise InvalidDid("did:key value is not base58btc") from exc
    return multibase_value, public_key_from_multikey(multibase_value)


def public_key_from_did(did: str) -> PublicKey:
    """The public key a did:key names; raises the did:key spec's errors (see module docstring)."""
    return _split(did)[1]


def _verification_method(
    did: str, fragment: str, vm_type: VmType, multibase_value: str, jwk: dict[str, str]
) -> dict[str, Any]:
    method: dict[str, Any] = {"id": f"{did}#{fragment}", "type": vm_type.value, "controller": did}
    if vm_type is VmType.MULTIKEY:
        method["publicKeyMultibase"] = multibase_value
    else:
        method["publicKeyJwk"] = jwk
    return method


def resolve(
    did: str,
    *,
    vm_type: VmType | str = VmType.MULTIKEY,
    enable_encryption_key_derivation: bool = True,
) -> dict[str, Any]:
    """Expand a did:key into its DID document (a fresh dict)."""
    # Spec order: the identifier is checked (invalidDid ...) before the format option.
    multibase_value, key = _split(did)
    try:
        vm_type = VmType(vm_type)
    except ValueError:
        raise UnsupportedPublicKeyType(f"unknown publicKeyFormat {vm_type!r}") from None
    signing = _verification_method(did, multibase_value, vm_type, multibase_value, key.to_jwk())
    document: dict[str, Any] = {
        "@context": [CONTEXT],
        "id": did,
        "verificationMethod": [signing],
    }
    for relationship in (
        "authentication",
        "assertionMethod",
        "capabilityDelegation",
        "capabilityInvocation",
    ):
        document[relationship] = [signing["id"]]
    if key.key_type is KeyType.ED25519 and enable_encryption_key_derivation:
        x25519 = _ed25519.x25519_from_ed25519(key.raw)
        x25519_mb = encode_multikey(Multicodec.X25519_PUB, x25519)
        x25519_jwk = {"kty": "OKP", "crv": "X25519", "x": b64url_encode(x25519)}
        document["keyAgreement"] = [
            _verification_method(did, x25519_mb, vm_type, x25519_mb, x25519_jwk)
        ]
    elif key.key_type is KeyType.P256:
        document["keyAgreement"] = [signing["id"]]
    return document
