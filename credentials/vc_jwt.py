"""W3C Verifiable Credentials 2.0 secured with JOSE: ``vc+jwt`` credentials and ``vp+jwt``
presentations of enveloped credentials.

Specs: VCDM 2.0 §4.3 (``@context`` first item ``https://www.w3.org/ns/credentials/v2``), §4.4
(``type``), §4.7 (``issuer``), §4.9 (``validFrom``/``validUntil``), §4.10 (``credentialStatus``),
§4.13 (``EnvelopedVerifiableCredential``); VC-JOSE-COSE §3.1.1-3.1.2 (``typ`` ``vc+jwt`` /
``vp+jwt``; the payload IS the credential; no ``vc``/``vp`` claims; ``iss`` must not contradict
``issuer``); W3C Bitstring Status List §2.1 for ``BitstringStatusListEntry``.

A ``vp+jwt`` is only as good as what it carries: ``verify_vp_jwt`` verifies the holder's signature,
``nonce`` and ``aud``, then every enveloped credential fully with the issuer key resolver, and
checks each credential is bound to the presenter.

    >>> from identity.keys import KeyType, PrivateKey
    >>> issuer = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32))
    >>> vc = {"@context": [V2_CONTEXT], "type": ["VerifiableCredential"],
    ...       "issuer": "did:example:issuer", "credentialSubject": {"id": "did:example:alice"}}
    >>> token = build_vc_jwt(vc, issuer, kid="did:example:issuer#k1")
    >>> verify_vc_jwt(token, lambda header, claims: issuer.public_key, now=0).credential == vc
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from credentials import _json, jose, status_list
from credentials.errors import (
    AudienceMismatch,
    HolderMismatch,
    InvalidCredential,
    IssuerMismatch,
    KeyBindingInvalid,
    MalformedToken,
    NonceMismatch,
    TokenExpired,
    TokenNotYetValid,
)
from errors import InvalidInput
from identity.keys import Algorithm, PrivateKey, PublicKey

__all__ = [
    "ENVELOPED_VC_PREFIX",
    "V2_CONTEXT",
    "VC_TYP",
    "VP_TYP",
    "KeyResolver",
    "VerifiedCredential",
    "VerifiedPresentation",
    "build_vc_jwt",
    "build_vp_jwt",
    "enveloped_credential",
    "verify_vc_jwt",
    "verify_vp_jwt",
]

V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
VC_TYP: Final = "vc+jwt"
VP_TYP: Final = "vp+jwt"
ENVELOPED_VC_PREFIX: Final = "data:application/vc+jwt,"
MAX_CREDENTIALS: Final = 32

# XML Schema dateTimeStamp: a timezone is required (VCDM 2.0 §4.9).
_DATE_TIME_STAMP: Final = re.compile(
    r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)

KeyResolver = Callable[[dict[str, Any], dict[str, Any]], PublicKey]
"""Given an unverified header and payload (``kid``, ``issuer`` / ``holder``), return the key the
named party is known to use, or raise. Use the values only as lookup keys."""


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    header: dict[str, Any]
    credential: dict[str, Any]
    status: tuple[status_list.StatusEntry, ...]

    @property
    def issuer(self) -> str:
        return _issuer_id(self.credential)


@dataclass(frozen=True, slots=True)
class VerifiedPresentation:
    header: dict[str, Any]
    presentation: dict[str, Any]
    credentials: tuple[VerifiedCredential, ...]


def _types(value: Any) -> list[str]:
    types = [value] if isinstance(value, str) else value
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        raise InvalidCredential("'type' must be a string or a non-empty array of strings")
    return types


def _check_context(document: Mapping[str, Any]) -> None:
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != V2_CONTEXT:
        raise InvalidCredential(f"'@context' must be an array whose first item is {V2_CONTEXT}")


def _issuer_id(credential: Mapping[str, Any]) -> str:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not issuer:
        raise InvalidCredential("'issuer' must be a URL or an object with an 'id'", field="issuer")
    return issuer


def _date_time(credential: Mapping[str, Any], name: str) -> float | None:
    value = credential.get(name)
    if value is None and name not in credential:
        return None
    if not isinstance(value, str) or _DATE_TIME_STAMP.fullmatch(value) is None:
        raise InvalidCredential(f"'{name}' must be a dateTimeStamp with a timezone", field=name)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise InvalidCredential(f"'{name}' is not a valid date and time", field=name) from exc


def _numeric_dates(claims: Mapping[str, Any], now: float, leeway: float) -> None:
    for name in ("iat", "nbf", "exp"):
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise MalformedToken(f"{name!r} must be a NumericDate", field=name)
    if "exp" in claims and now - leeway >= claims["exp"]:
        raise TokenExpired("the token has expired", field="exp")
    if "nbf" in claims and now + leeway < claims["nbf"]:
        raise TokenNotYetValid("the token is not valid yet", field="nbf")


def _check_credential(credential: Mapping[str, Any]) -> tuple[status_list.StatusEntry, ...]:
    """VCDM 2.0 / VC-JOSE-COSE shape; returns the parsed status entries."""
    if "vc" in credential or "vp" in credential:
        raise InvalidCredential("a vc+jwt payload is the credential: no 'vc'/'vp' claims")
    _check_context(credential)
    if "VerifiableCredential" not in _types(credential.get("type")):
        raise InvalidCredential("'type' must include VerifiableCredential", field="type")
    issuer = _issuer_id(credential)
    subjects = credential.get("credentialSubject")
    subjects = [subjects] if isinstance(subjects, Mapping) else subjects
    if not isinstance(subjects, list) or not subjects:
        raise InvalidCredential("'credentialSubject' is required", field="credentialSubject")
    if not all(isinstance(s, Mapping) for s in subjects):
        raise InvalidCredential("'credentialSubject' must be objects", field="credentialSubject")
    if "id" in credential and not isinstance(credential["id"], str):
        raise InvalidCredential("'id' must be a URL", field="id")
    # VC-JOSE-COSE §3.1.2: JWT claims must not contradict the credential.
    if "iss" in credential and credential["iss"] != issuer:
        raise IssuerMismatch("JWT 'iss' differs from the credential's issuer", field="iss")
    if "jti" in credential and credential["jti"] != credential.get("id"):
        raise InvalidCredential("JWT 'jti' differs from the credential's id", field="jti")
    if "sub" in credential and all(s.get("id") != credential["sub"] for s in subjects):
        raise InvalidCredential("JWT 'sub' differs from credentialSubject.id", field="sub")
    statuses = credential.get("credentialStatus", [])
    statuses = [statuses] if isinstance(statuses, Mapping) else statuses
    if not isinstance(statuses, list):
        raise InvalidCredential("'credentialStatus' must be an object or an array")
    # Fail closed: a status mechanism this verifier cannot check is not silently skipped.
    return tuple(status_list.parse_status_entry(entry) for entry in statuses)


def build_vc_jwt(
    credential: Mapping[str, Any],
    key: PrivateKey,
    *,
    kid: str | None = None,
    iat: int | None = None,
    exp: int | None = None,
    header: Mapping[str, Any] | None = None,
) -> str:
    """Secure ``credential`` as a ``vc+jwt`` (VC-JOSE-COSE §3.1.1). ``iat``/``exp`` describe the
    signature and are added as JWT claims when given."""
    payload = dict(credential)
    _check_credential(payload)
    if iat is not None:
        payload["iat"] = iat
    if exp is not None:
        payload["exp"] = exp
    fields = {**dict(header or {}), "typ": VC_TYP}
    if kid is not None:
        fields["kid"] = kid
    return jose.sign_compact(fields, payload, key)


def _unverified_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _, _ = jose.decode_unverified(token)
    claims = _json.loads(payload, error=MalformedToken, what="JWT claims")
    if not isinstance(claims, dict):
        raise MalformedToken("JWT claims must be a JSON object")
    return header, claims


def verify_vc_jwt(
    token: str,
    issuer_key_resolver: KeyResolver,
    *,
    now: float,
    leeway: float = 60,
    allowed_algs: Sequence[Algorithm | str] = tuple(Algorithm),
) -> VerifiedCredential:
    """Verify a ``vc+jwt``: the issuer's key (from the resolver, never from the token), the
    signature, ``typ``, the VCDM 2.0 shape, ``iss``/``issuer`` agreement, ``exp``/``nbf`` and
    ``validFrom``/``validUntil`` with ``leeway``. Status is parsed, not checked (the caller
    fetches the list)."""
    header, claims = _unverified_claims(token)
    key = issuer_key_resolver(header, claims)
    header, credential = jose.verify_compact(
        token, key, expected_typ=VC_TYP, allowed_algs=allowed_algs
    )
    statuses = _check_credential(credential)
    _numeric_dates(credential, now, leeway)
    valid_from = _date_time(credential, "validFrom")
    if valid_from is not None and now + leeway < valid_from:
        raise TokenNotYetValid("the credential is not valid yet", field="validFrom")
    valid_until = _date_time(credential, "validUntil")
    if valid_until is not None and now - leeway >= valid_until:
        raise TokenExpired("the credential has expired", field="validUntil")
    return VerifiedCredential(header, credential, statuses)


def enveloped_credential(token: str) -> dict[str, Any]:
    """The ``EnvelopedVerifiableCredential`` carrying a ``vc+jwt`` (VCDM 2.0 §4.13)."""
    return {
        "@context": [V2_CONTEXT],
        "id": ENVELOPED_VC_PREFIX + token,
        "type": "EnvelopedVerifiableCredential",
    }


def build_vp_jwt(
    credentials: Sequence[str],
    key: PrivateKey,
    *,
    holder: str,
    nonce: str,
    aud: str,
    iat: int,
    exp: int | None = None,
    kid: str | None = None,
) -> str:
    """A ``vp+jwt`` presenting ``credentials`` (``vc+jwt`` strings) as enveloped credentials,
    bound to the verifier's ``nonce`` and ``aud``."""
    if not all(isinstance(v, str) for v in (holder, nonce, aud)):
        raise InvalidInput("holder, nonce and aud are strings")
    if not credentials or len(credentials) > MAX_CREDENTIALS:
        raise InvalidInput(f"a presentation carries 1 to {MAX_CREDENTIALS} credentials")
    payload: dict[str, Any] = {
        "@context": [V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder,
        "verifiableCredential": [enveloped_credential(c) for c in credentials],
        "nonce": nonce,
        "aud": aud,
        "iat": iat,
    }
    if exp is not None:
        payload["exp"] = exp
    header: dict[str, Any] = {"typ": VP_TYP}
    if kid is not None:
        header["kid"] = kid
    return jose.sign_compact(header, payload, key)


def _holder_id(presentation: Mapping[str, Any]) -> str | None:
    holder = presentation.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    if holder is not None and not isinstance(holder, str):
        raise InvalidCredential("'holder' must be a URL or an object with an 'id'", field="holder")
    return holder


def _bound_to(credential: Mapping[str, Any], holder: str | None, holder_key: PublicKey) -> bool:
    cnf = credential.get("cnf")
    if isinstance(cnf, Mapping) and isinstance(cnf.get("jwk"), Mapping):
        return PublicKey.from_jwk(cnf["jwk"]) == holder_key
    subjects = credential.get("credentialSubject")
    subjects = [subjects] if isinstance(subjects, Mapping) else subjects
    return holder is not None and all(s.get("id") == holder for s in subjects)


def verify_vp_jwt(
    token: str,
    holder_key_resolver: KeyResolver,
    issuer_key_resolver: KeyResolver,
    *,
    expected_nonce: str,
    expected_aud: str,
    now: float,
    leeway: float = 60,
    max_age: float = 300,
    require_holder_binding: bool = True,
    allowed_algs: Sequence[Algorithm | str] = tuple(Algorithm),
) -> VerifiedPresentation:
    """Verify a ``vp+jwt`` and everything inside it.

    1. the holder's key from ``holder_key_resolver``; signature; ``typ: vp+jwt``;
    2. VP shape: VCDM 2.0 context, ``VerifiablePresentation``, only enveloped ``vc+jwt``
       credentials (unsecured embedded credentials are refused);
    3. ``nonce`` and ``aud`` exactly the expected strings; ``iat`` within ``max_age``; ``exp``;
    4. each credential with ``verify_vc_jwt`` and ``issuer_key_resolver``;
    5. with ``require_holder_binding``, each credential bound to the presenter: its ``cnf.jwk``
       is the key that signed the VP, or every ``credentialSubject.id`` is the VP ``holder``.
    """
    # (1)
    header, unverified = _unverified_claims(token)
    holder_key = holder_key_resolver(header, unverified)
    header, presentation = jose.verify_compact(
        token, holder_key, expected_typ=VP_TYP, allowed_algs=allowed_algs
    )
    # (2)
    if "vp" in presentation or "vc" in presentation:
        raise InvalidCredential("a vp+jwt payload is the presentation: no 'vc'/'vp' claims")
    _check_context(presentation)
    if "VerifiablePresentation" not in _types(presentation.get("type")):
        raise InvalidCredential("'type' must include VerifiablePresentation", field="type")
    holder = _holder_id(presentation)
    if "iss" in presentation and presentation["iss"] != holder:
        raise IssuerMismatch("JWT 'iss' differs from the presentation's holder", field="iss")
    envelopes = presentation.get("verifiableCredential", [])
    envelopes = [envelopes] if isinstance(envelopes, Mapping) else envelopes
    if not isinstance(envelopes, list) or not envelopes or len(envelopes) > MAX_CREDENTIALS:
        raise InvalidCredential(f"a presentation carries 1 to {MAX_CREDENTIALS} credentials")
    tokens = []
    for envelope in envelopes:
        if (
            not isinstance(envelope, Mapping)
            or envelope.get("type") != "EnvelopedVerifiableCredential"
        ):
            raise InvalidCredential("only EnvelopedVerifiableCredential entries are accepted")
        data_url = envelope.get("id")
        if not isinstance(data_url, str) or not data_url.startswith(ENVELOPED_VC_PREFIX):
            raise InvalidCredential(f"an enveloped credential id is '{ENVELOPED_VC_PREFIX}<jws>'")
        tokens.append(data_url[len(ENVELOPED_VC_PREFIX) :])
    # (3)
    nonce, aud, iat = (presentation.get(k) for k in ("nonce", "aud", "iat"))
    if not isinstance(nonce, str) or nonce != expected_nonce:
        raise NonceMismatch("presentation nonce does not match", field="nonce")
    if not isinstance(aud, str) or aud != expected_aud:
        raise AudienceMismatch("presentation aud must be exactly the verifier", field="aud")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise KeyBindingInvalid("presentation iat must be a NumericDate", field="iat")
    if not now - max_age - leeway <= iat <= now + leeway:
        raise KeyBindingInvalid("presentation iat is outside the accepted window", field="iat")
    _numeric_dates(presentation, now, leeway)
    # (4), (5)
    verified = []
    for inner in tokens:
        credential = verify_vc_jwt(
            inner, issuer_key_resolver, now=now, leeway=leeway, allowed_algs=allowed_algs
        )
        if require_holder_binding and not _bound_to(credential.credential, holder, holder_key):
            raise HolderMismatch("a presented credential is not bound to the presenter")
        verified.append(credential)
    return VerifiedPresentation(header, presentation, tuple(verified))
