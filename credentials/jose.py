"""JWS compact serialisation: the only module in the project that signs or verifies a JWS.

Specs: JWS RFC 7515 §3.1, §4.1 (header parameters), §5.2 (validation); JWT RFC 7519 §7.2;
algorithms RFC 7518 §3.4 (ES256 as raw R||S), RFC 8037 (EdDSA), RFC 9864 (``Ed25519``); the JWT
BCP RFC 8725 §3.1-3.11; ``b64`` RFC 7797.

Built on ``identity.keys`` (``cryptography`` underneath), not on PyJWT or jwcrypto, so none of
their quirks listed in security.md §5 apply. What is refused, whatever the caller asks:

* an ``alg`` outside ``identity.keys.Algorithm`` (``none`` in any spelling, HS*, RS*, PS*, ES384
  ...) and an ``alg`` that does not fit the verification key (one key, one algorithm family);
* any ``crit`` extension (none is understood) and ``b64: false``;
* padded, non-canonical or non-alphabet base64url; duplicate JSON member names; NaN; headers,
  payloads and tokens over the size limits;
* a ``typ`` other than the one the caller expects (compared as a media type, RFC 7515 §4.1.9);
* the key in a ``jwk`` header, unless the caller asks for it (OpenID4VCI key proofs) and then
  only after ``PublicKey.from_jwk`` (private members and weak keys refused). ``jku``, ``x5u``,
  ``x5c`` and ``kid`` are never acted on here; the key always comes from the caller.

    >>> from identity.keys import KeyType, PrivateKey
    >>> key = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32))
    >>> token = sign_compact({"typ": "example+jwt"}, {"hello": "world"}, key)
    >>> verify_compact(token, key.public_key, expected_typ="example+jwt")[1]
    {'hello': 'world'}
"""

from __future__ import annotations

import binascii
from collections.abc import Collection, Mapping
from typing import Any

from credentials import _json
from credentials.errors import MalformedToken, UnsupportedCriticalHeader, WrongTokenType
from errors import InvalidEncoding, InvalidInput, UnsupportedAlgorithm
from identity.encoding import b64url_decode
from identity.keys import Algorithm, KeyType, PrivateKey, PublicKey

__all__ = [
    "ALL_ALGORITHMS",
    "MAX_HEADER_BYTES",
    "MAX_PAYLOAD_BYTES",
    "MAX_TOKEN_LENGTH",
    "decode_unverified",
    "default_algorithm",
    "sign_compact",
    "verify_compact",
    "verify_compact_raw",
    "verify_decoded",
]

ALL_ALGORITHMS: frozenset[Algorithm] = frozenset(Algorithm)

# Limits (security.md #16, ASVS 5.2.1). A header is a few hundred bytes even with a DID URL kid;
# the payload limit leaves room for a 2^20-entry 8-bit status list that does not compress.
MAX_HEADER_BYTES = 8 * 1024
MAX_PAYLOAD_BYTES = 2 * 1024 * 1024
MAX_TOKEN_LENGTH = 4 * (MAX_HEADER_BYTES + MAX_PAYLOAD_BYTES) // 3 + 200

# RFC 7515 §4.1.11: names defined by the JWS/JWA specs must never appear in crit.
_REGISTERED = frozenset(
    {"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit"}
)


def default_algorithm(key: PrivateKey | PublicKey) -> Algorithm:
    """The ``alg`` we write for ``key``: ES256 for P-256; ``EdDSA`` for Ed25519 (RFC 9864
    deprecates it in favour of ``Ed25519``, but it is what deployed wallets understand)."""
    return Algorithm.ES256 if key.key_type is KeyType.P256 else Algorithm.EDDSA


def _normalise_typ(typ: str) -> str:
    # RFC 7515 §4.1.9: media type names are case-insensitive and "application/" may be omitted.
    lowered = typ.lower()
    return lowered.removeprefix("application/") if lowered.count("/") == 1 else lowered


def sign_compact(
    header: Mapping[str, Any], payload: bytes | Mapping[str, Any], key: PrivateKey
) -> str:
    """Sign ``payload`` (bytes, or a JSON object serialised compactly) as a compact JWS.

    ``alg`` is taken from ``header`` if present (it must fit ``key``), else from
    ``default_algorithm(key)``; it is written first. ``b64: false`` and ``crit`` are refused.
    """
    if not isinstance(key, PrivateKey):
        raise InvalidInput("the signing key must be a PrivateKey")
    encoded_header = _protected_header(header, key)
    if isinstance(payload, bytes | bytearray):
        body = payload if type(payload) is bytes else bytes(payload)
    else:
        body = _json.dumps(
            payload if type(payload) is dict else dict(payload),
            error=MalformedToken,
            what="JWS payload",
        )
    if len(body) > MAX_PAYLOAD_BYTES:
        raise MalformedToken("JWS header or payload is over the size limit")
    signing_input = encoded_header + b"." + _b64(body)
    signature = key.sign(signing_input)
    return (signing_input + b"." + _b64(signature)).decode("ascii")


# An issuer signs many tokens under one header ({alg, kid, typ}): its encoding is kept, keyed by
# the key type and the header's exact (name, value) pairs, for headers whose names and values are
# all plain strings. A header is only kept once it has passed the checks for that key type, which
# depend on nothing else.
_HEADERS: dict[tuple[KeyType, tuple[tuple[str, str], ...]], bytes] = {}
_HEADERS_KEPT = 256


def _protected_header(header: Mapping[str, Any], key: PrivateKey) -> bytes:
    """base64url(compact JSON) of the protected header for signing with ``key``: ``alg`` first
    (from ``header``, where it must fit the key, else ``default_algorithm``); ``crit`` and
    ``b64: false`` refused."""
    try:
        cache_key = (key.key_type, tuple(header.items()))
        found = _HEADERS.get(cache_key)
    except (TypeError, AttributeError):  # an unhashable value (a jwk object): not kept
        cache_key, found = None, None
    if found is not None:
        return found
    fields = dict(header)
    alg = fields.pop("alg", None)
    if alg is None:
        alg = default_algorithm(key)
    elif alg not in key.algorithms:
        raise UnsupportedAlgorithm(f"alg {alg!r} cannot be used with a {key.key_type} key")
    if "crit" in fields or fields.get("b64", True) is not True:
        raise UnsupportedCriticalHeader("crit and b64 are not supported")
    protected = {"alg": str(alg), **fields}
    encoded = _json.dumps(protected, error=MalformedToken, what="JWS header")
    if len(encoded) > MAX_HEADER_BYTES:
        raise MalformedToken("JWS header or payload is over the size limit")
    found = _b64(encoded)
    if (
        cache_key is not None
        and len(_HEADERS) < _HEADERS_KEPT
        and all(type(name) is str and type(value) is str for name, value in cache_key[1])
    ):
        _HEADERS[cache_key] = found
    return found




def _b64(data: bytes) -> bytes:
    # identity.encoding.b64url_encode, as ASCII bytes (the signing input is bytes); see there for
    # why two replaces rather than a translate.
    return (
        binascii.b2a_base64(data, newline=False)
        .replace(b"+", b"-")
        .replace(b"/", b"_")
        .rstrip(b"=")
    )


def _segment(text: str, what: str, limit: int) -> bytes:
    if len(text) > 4 * limit // 3 + 4:
        raise MalformedToken(f"JWS {what} is over the size limit")
    try:
        data = b64url_decode(text)
    except InvalidEncoding as exc:
        raise MalformedToken(f"JWS {what} is not canonical unpadded base64url") from exc
    if len(data) > limit:
        raise MalformedToken(f"JWS {what} is over the size limit")
    return data


def decode_unverified(
    token: str,
    *,
    max_token_length: int = MAX_TOKEN_LENGTH,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """Split and decode a compact JWS without checking anything cryptographic.

    Returns ``(header, payload, signing_input, signature)``. The header is a strictly parsed JSON
    object; nothing in it may be trusted before ``verify_compact``. It is meant for picking the
    verification key (``kid``, ``iss``) and nothing else.
    """
    if not isinstance(token, str):
        raise MalformedToken("a compact JWS must be a string")
    if len(token) > max_token_length:
        raise MalformedToken("JWS is over the size limit")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("a compact JWS has exactly three '.'-separated parts")
    header_b64, payload_b64, signature_b64 = parts
    header = _json.loads(
        _segment(header_b64, "header", MAX_HEADER_BYTES), error=MalformedToken, what="JWS header"
    )
    if not isinstance(header, dict):
        raise MalformedToken("JWS header must be a JSON object")
    payload = _segment(payload_b64, "payload", max_payload_bytes)
    signature = _segment(signature_b64, "signature", 512)
    return header, payload, f"{header_b64}.{payload_b64}".encode("ascii"), signature


# The allow-lists callers pass are a few module-level frozensets; their conversion to Algorithm
# members is kept (bounded) instead of being rebuilt for every token.
_ALLOWED: dict[frozenset[Any], frozenset[Algorithm]] = {}
_ALLOWED_KEPT = 64


def _allowed(allowed_algs: Collection[Algorithm | str]) -> frozenset[Algorithm]:
    if type(allowed_algs) is frozenset:
        found = _ALLOWED.get(allowed_algs)
        if found is None:
            found = frozenset(Algorithm(a) for a in allowed_algs)
            if len(_ALLOWED) < _ALLOWED_KEPT:
                _ALLOWED[allowed_algs] = found
        return found
    return frozenset(Algorithm(a) for a in allowed_algs)


def _check_header(
    header: dict[str, Any], allowed_algs: Collection[Algorithm | str], expected_typ: str | None
) -> Algorithm:
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedToken("JWS header has no 'alg' string", field="alg")
    try:
        algorithm = Algorithm(alg)  # exact, case-sensitive: "none", "None", "HS256" all fail
    except ValueError:
        raise UnsupportedAlgorithm(f"JWS alg {alg!r} is not allowed", field="alg") from None
    if algorithm not in _allowed(allowed_algs):
        raise UnsupportedAlgorithm(f"JWS alg {alg!r} is not allowed here", field="alg")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(isinstance(n, str) for n in crit):
            raise MalformedToken("JWS 'crit' must be a non-empty array of strings", field="crit")
        # Nothing is understood, so any crit is refused (RFC 7515 §4.1.11); a registered name in
        # crit is malformed besides.
        raise UnsupportedCriticalHeader(f"unsupported critical header(s) {crit}", field="crit")
    if "b64" in header and header["b64"] is not True:
        raise UnsupportedCriticalHeader("unencoded payloads (b64: false) are refused", field="b64")
    typ = header.get("typ")
    if expected_typ is None:
        if typ is not None:
            raise WrongTokenType(f"unexpected JWS typ {typ!r}", field="typ")
    elif not isinstance(typ, str) or _normalise_typ(typ) != _normalise_typ(expected_typ):
        raise WrongTokenType(f"JWS typ must be {expected_typ!r}, not {typ!r}", field="typ")
    return algorithm


def verify_compact_raw(
    token: str,
    key: PublicKey | None,
    *,
    allowed_algs: Collection[Algorithm | str] = ALL_ALGORITHMS,
    expected_typ: str | None,
    trust_header_jwk: bool = False,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> tuple[dict[str, Any], bytes]:
    """Verify a compact JWS and return ``(header, payload_bytes)``.

    ``expected_typ`` is required: the token's ``typ`` must equal it (as a media type), or, when
    it is ``None``, the token must carry no ``typ`` at all. ``key`` is the verification key from a
    trusted source. Only with ``trust_header_jwk=True`` and ``key=None`` is the header's ``jwk``
    used (proof-of-possession tokens whose key is the subject of the check).
    """
    decoded = decode_unverified(token, max_payload_bytes=max_payload_bytes)
    if trust_header_jwk:
        # The header is checked before its key is read (verify_decoded checks it again: cheap).
        _check_header(decoded[0], allowed_algs, expected_typ)
        if key is not None:
            raise InvalidInput("pass either a key or trust_header_jwk, not both")
        jwk = decoded[0].get("jwk")
        if not isinstance(jwk, dict):
            raise MalformedToken("JWS header has no 'jwk' object", field="jwk")
        key = PublicKey.from_jwk(jwk)
    return verify_decoded(decoded, key, allowed_algs=allowed_algs, expected_typ=expected_typ)


def verify_decoded(
    decoded: tuple[dict[str, Any], bytes, bytes, bytes],
    key: PublicKey | None,
    *,
    allowed_algs: Collection[Algorithm | str] = ALL_ALGORITHMS,
    expected_typ: str | None,
) -> tuple[dict[str, Any], bytes]:
    """``verify_compact_raw`` on what ``decode_unverified`` returned for the token, for callers
    that decoded it already to pick the key: the token is not split and decoded a second time.
    Every check of ``verify_compact_raw`` runs (header rules, ``typ``, the algorithm fitting the
    key, the signature over the signing input). Returns ``(header, payload_bytes)``."""
    header, payload, signing_input, signature = decoded
    algorithm = _check_header(header, allowed_algs, expected_typ)
    if not isinstance(key, PublicKey):
        raise InvalidInput("a verification key is required")
    # RFC 8725 §3.1: the algorithm must be one this key is used with; PublicKey.verify raises
    # UnsupportedAlgorithm otherwise (an ES256 header on an Ed25519 key, and the reverse).
    key.verify(signature, signing_input, algorithm=algorithm)
    return header, payload


def claims_of(payload: bytes) -> dict[str, Any]:
    """The JWT claims in a verified payload: a strict JSON object (RFC 7519 §7.2 step 10)."""
    claims = _json.loads(payload, error=MalformedToken, what="JWT claims")
    if not isinstance(claims, dict):
        raise MalformedToken("JWT claims must be a JSON object")
    return claims


def verify_compact(
    token: str,
    key: PublicKey | None,
    *,
    allowed_algs: Collection[Algorithm | str] = ALL_ALGORITHMS,
    expected_typ: str | None,
    trust_header_jwk: bool = False,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``verify_compact_raw`` for JWTs: the payload must be a strict JSON object (RFC 7519 §7.2
    step 10), returned parsed."""
    header, payload = verify_compact_raw(
        token,
        key,
        allowed_algs=allowed_algs,
        expected_typ=expected_typ,
        trust_header_jwk=trust_header_jwk,
        max_payload_bytes=max_payload_bytes,
    )
    return header, claims_of(payload)
