"""Who someone is: keys (RFC 7517/8037/7638), DIDs (DID Core 1.0), did:key v0.9, did:jwk and
DID resolution. Pure domain code: no Flask, no SQL, no network.

    >>> from identity import KeyType, PrivateKey, Resolver, did_key
    >>> key = PrivateKey.generate(KeyType.ED25519)
    >>> did = did_key.did_from_public_key(key.public_key)
    >>> Resolver().resolve(did).did_document["id"] == did
    True
"""

from __future__ import annotations

from identity import did_jwk, did_key
from identity.did import Did, DidUrl, parse_did, parse_did_url
from identity.encoding import (
    b58_decode,
    b58_encode,
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multibase_encode,
    varint_decode,
    varint_encode,
)
from identity.keys import (
    Algorithm,
    KeyType,
    PrivateKey,
    PublicKey,
    ed25519_is_weak,
    jwk_thumbprint,
)
from identity.multikey import multikey_from_public_key, public_key_from_multikey
from identity.resolver import (
    MethodResolver,
    ResolutionResult,
    Resolver,
    resolve_verification_method,
)

__all__ = [
    "Algorithm",
    "Did",
    "DidUrl",
    "KeyType",
    "MethodResolver",
    "PrivateKey",
    "PublicKey",
    "ResolutionResult",
    "Resolver",
    "b58_decode",
    "b58_encode",
    "b64url_decode",
    "b64url_encode",
    "did_jwk",
    "did_key",
    "ed25519_is_weak",
    "jwk_thumbprint",
    "multibase_decode",
    "multibase_encode",
    "multikey_from_public_key",
    "parse_did",
    "parse_did_url",
    "public_key_from_multikey",
    "resolve_verification_method",
    "varint_decode",
    "varint_encode",
]
