"""Verification of presented credentials as numbered steps, each reported as a named check.

Two presentation forms:

* an SD-JWT VC with a KB-JWT (RFC 9901 §7.1 and §7.3, SD-JWT VC) - ``verify_sd_jwt_vc``;
* a ``vp+jwt`` carrying VCDM 2.0 ``vc+jwt`` credentials (VC-JOSE-COSE) - ``verify_vp_jwt``;
  each inner credential goes through the same issuer steps as an SD-JWT VC.

The steps for one credential (the check names, in order):

1. ``parse`` - the compact form, strict base64url and JSON (duplicate member names refused);
2. ``typ`` - exactly ``dc+sd-jwt`` / ``vc+jwt`` / ``vp+jwt`` (RFC 8725 §3.11);
3. ``algorithm`` - EdDSA/Ed25519 or ES256 only: never ``none`` (any spelling) nor HMAC;
4. ``key_reference`` - ``kid`` is a DID URL of the issuer named in the token; no ``jwk``,
   ``jku``, ``x5u``, ``x5c`` header (keys come from the registry, never from the token);
5. ``issuer_key`` - the key ``kid`` names, as valid at the credential's ``iat`` in the issuer's
   DID history (a key rotated out before, or a weak/invalid key, fails here);
6. ``registry_inclusion`` - the DID version holding that key is in the registry: its inclusion
   proof checks against the root of a checkpoint the caller verified;
7. ``issuer_trusted`` - registry governance authorises the issuer to issue;
8. ``signature`` - the issuer's signature. Nothing after it runs if it fails;
9. ``disclosures`` (SD-JWT) / ``credential`` (VCDM shape) - RFC 9901 disclosure processing:
   duplicate digests, unreferenced disclosures, reserved names, malformed disclosures refused;
10. ``validity`` - ``exp``/``nbf`` (and ``validFrom``/``validUntil``) with a small leeway;
11. ``key_binding``, ``nonce``, ``audience``, ``kb_freshness``, ``sd_hash`` - the KB-JWT
    (``typ: kb+jwt``, signed by the ``cnf`` key), or for a VP its own nonce, audience, ``iat``
    and ``holder_binding`` of each credential to the presenter;
12. ``status_anchor`` and ``status`` - the status list token fetched from the issuer's own
    endpoint (the fetcher enforces it), its SHA-256 equal to the latest registry anchor (else
    split view), its signature by the issuer, bounded decompression, then the status value;
13. ``dcql`` - the verifier's query, matched against the verified claims.

Checks after the signature are independent and all run, so a verdict lists every reason.
Expected failures are ``Check`` values, never exceptions; anything unexpected fails the check it
happened in (``verification_error``): verification fails closed.

Collaborators are plain callables (``KeyAt``, ``IssuerTrust``, ``StatusFetcher``) so this module
stays pure: no HTTP, no SQL, no clock.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

import rfc8785

import errors
from credentials import _json, dcql, jose, sd_jwt, status_list, vc_jwt
from credentials.errors import (
    AudienceMismatch,
    HolderMismatch,
    InvalidCredential,
    KeyBindingInvalid,
    KeyBindingMissing,
    MalformedToken,
    NonceMismatch,
    SdHashMismatch,
    TokenExpired,
    TokenNotYetValid,
    WrongTokenType,
)
from identity.did import parse_did_url
from identity.keys import Algorithm, PrivateKey, PublicKey
from registry import merkle
from registry.entries import EntryType, parse_entry

__all__ = [
    "ALLOWED_ALGORITHMS",
    "RECEIPT_TYP",
    "Check",
    "CredentialRevoked",
    "CredentialSuspended",
    "DcqlNotSatisfied",
    "FetchedStatusList",
    "InclusionEvidence",
    "IssuerTrust",
    "KeyAt",
    "KeyReferenceInvalid",
    "NonceReplayed",
    "Policy",
    "RegistryEvidenceMissing",
    "ResolvedKey",
    "StatusFetcher",
    "StatusListSplitView",
    "StatusUnavailable",
    "StatusUriNotAllowed",
    "UntrustedIssuer",
    "Verdict",
    "Verifier",
    "claims_digest",
    "sign_receipt",
    "verify_receipt",
]

log = logging.getLogger(__name__)

ALLOWED_ALGORITHMS: Final = frozenset({Algorithm.EDDSA, Algorithm.ED25519, Algorithm.ES256})
EMBEDDED_KEY_HEADERS: Final = ("jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256")
RECEIPT_TYP: Final = "verification-receipt+jwt"
DEFAULT_LEEWAY: Final = 60
DEFAULT_KB_MAX_AGE: Final = 300


# --- outcomes of the checks ----------------------------------------------------------------------


class UntrustedIssuer(errors.VerificationFailed):
    """The issuer is not authorised by registry governance to issue credentials."""

    code = "untrusted_issuer"


class KeyReferenceInvalid(errors.VerificationFailed):
    """``kid`` is not a DID URL of the issuer, or the token carries its own key (``jwk``,
    ``jku``, ``x5c`` ...)."""

    code = "key_reference_invalid"


class RegistryEvidenceMissing(errors.VerificationFailed):
    """No registry inclusion evidence for the DID version that holds the issuer's key."""

    code = "registry_evidence_missing"


class CredentialRevoked(errors.VerificationFailed):
    code = "credential_revoked"


class CredentialSuspended(errors.VerificationFailed):
    code = "credential_suspended"


class StatusListSplitView(errors.VerificationFailed):
    """The status list served differs from the one anchored in the registry: the issuer may be
    showing this verifier a list nobody else sees."""

    code = "status_list_split_view"


class StatusUriNotAllowed(errors.VerificationFailed):
    """The credential's status URI is not under its issuer's own service endpoint."""

    code = "status_uri_not_allowed"


class StatusUnavailable(errors.VerificationFailed):
    """The status list could not be fetched (so the credential's status is unknown)."""

    code = "status_unavailable"


class NonceReplayed(errors.VerificationFailed):
    """A presentation for a nonce that was already used once."""

    code = "nonce_replayed"


class DcqlNotSatisfied(errors.VerificationFailed):
    code = "dcql_not_satisfied"


class _NotChecked(errors.VerificationFailed):
    code = "not_checked"


# --- values --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    code: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "code": self.code, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Verdict:
    """``valid`` only if every check passed; ``claims`` only for a valid credential."""

    valid: bool
    checks: tuple[Check, ...]
    claims: dict[str, Any] | None = None
    issuer: str | None = None
    credential_type: str | None = None

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checks": [c.to_json() for c in self.checks],
            "claims": self.claims,
            "issuer": self.issuer,
            "credential_type": self.credential_type,
        }


@dataclass(frozen=True, slots=True)
class InclusionEvidence:
    """A registry entry (its exact bytes), where it sits, and an inclusion proof up to the root
    of a checkpoint the caller has verified (signature and origin)."""

    entry: bytes
    index: int
    tree_size: int
    proof: tuple[bytes, ...]
    root: bytes


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    key: PublicKey
    evidence: InclusionEvidence | None = None


class KeyAt(Protocol):
    def __call__(self, kid: str, at: float) -> ResolvedKey:
        """The key the DID URL ``kid`` names, valid at ``at`` (seconds since the epoch), with the
        registry evidence of the DID version that holds it (None for did:key / did:jwk)."""
        ...


class IssuerTrust(Protocol):
    def __call__(self, issuer: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class FetchedStatusList:
    token: str
    anchor_sha256: str | None  # the latest registry anchor for the list URI, hex


class StatusFetcher(Protocol):
    def __call__(self, issuer: str, uri: str) -> FetchedStatusList:
        """The token at ``uri``, fetched only if ``uri`` is under ``issuer``'s own endpoint
        (``StatusUriNotAllowed`` otherwise), with the registry's latest anchor for it."""
        ...


@dataclass(frozen=True, slots=True)
class Policy:
    """What this verification expects. ``now`` in seconds since the epoch."""

    now: float
    nonce: str | None
    audience: str | None
    require_key_binding: bool = True
    require_status: bool = True
    leeway: float = DEFAULT_LEEWAY
    kb_max_age: float = DEFAULT_KB_MAX_AGE
    query: dcql.CredentialQuery | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.leeway <= 300:
            raise errors.InvalidValue("leeway must be between 0 and 300 seconds")


_Decoded = tuple[dict[str, Any], bytes, bytes, bytes]  # what jose.decode_unverified returns


# --- running checks ------------------------------------------------------------------------------

T = TypeVar("T")


@dataclass
class _Run:
    prefix: str = ""
    checks: list[Check] = field(default_factory=list)

    def check(self, name: str, step: Callable[[], tuple[T, str]]) -> tuple[bool, T | None]:
        """Run one step; record it. ``step`` returns ``(value, detail)`` or raises."""
        full = self.prefix + name
        try:
            value, detail = step()
        except errors.Error as exc:
            self.checks.append(Check(full, False, exc.code, exc.message))
            return False, None
        except Exception:  # fail closed: a bug in a step is a failed check, never a pass
            log.exception("verification step %s failed unexpectedly", full)
            self.checks.append(Check(full, False, "verification_error", "unexpected error"))
            return False, None
        self.checks.append(Check(full, True, "ok", detail))
        return True, value

    def skip(self, name: str, why: str) -> None:
        self.checks.append(Check(self.prefix + name, False, _NotChecked.code, why))

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def _numeric(claims: Mapping[str, Any], name: str, *, required: bool) -> float | None:
    if name not in claims:
        if required:
            raise MalformedToken(f"{name!r} is required", field=name)
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedToken(f"{name!r} must be a NumericDate", field=name)
    return float(value)


def _typ_is(header: Mapping[str, Any], expected: str) -> tuple[None, str]:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != expected:
        raise WrongTokenType(f"typ must be {expected!r}, not {typ!r}", field="typ")
    return None, expected


def _algorithm(header: Mapping[str, Any]) -> tuple[Algorithm, str]:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in {a.value for a in ALLOWED_ALGORITHMS}:
        raise errors.UnsupportedAlgorithm(f"alg {alg!r} is not allowed", field="alg")
    if "crit" in header or ("b64" in header and header["b64"] is not True):
        raise MalformedToken("crit and b64 headers are refused", field="crit")
    return Algorithm(alg), alg


class _Kept(dict[Any, Any]):
    """A bounded memo of successful, deterministic results, keyed by every input that decides
    them. Only successes are put in; the oldest entry goes when it is full. Lookups need no
    lock (one dict operation each); insertions take one so that eviction cannot race."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def keep(self, key: Any, value: Any) -> None:
        with self.lock:
            if len(self) >= self.size:
                self.pop(next(iter(self)), None)
            self[key] = value


# kid -> the DID it names (parse_did_url is a few regexes; a verifier sees the same kids often).
_DID_OF_KID = _Kept(1024)


def _key_reference(header: Mapping[str, Any], party: Any, what: str) -> tuple[str, str]:
    embedded = [name for name in EMBEDDED_KEY_HEADERS if name in header]
    if embedded:
        raise KeyReferenceInvalid(f"the token carries its own key ({embedded[0]}): refused")
    kid = header.get("kid")
    if not isinstance(kid, str) or len(kid) > 2048:
        raise KeyReferenceInvalid("kid must be a DID URL")
    did = _DID_OF_KID.get(kid)
    if did is None:
        try:
            url = parse_did_url(kid)
        except errors.Error as exc:
            raise KeyReferenceInvalid(f"kid is not a DID URL: {exc.message}") from exc
        did = str(url.did)
        _DID_OF_KID.keep(kid, did)
    if not isinstance(party, str) or did != party:
        raise KeyReferenceInvalid(f"kid names another DID than the {what}")
    return kid, kid


# (evidence, DID) -> the detail of a passed inclusion check. The check is a pure function of the
# entry bytes, index, tree size, proof and root (all in InclusionEvidence) and the DID; that the
# root is one of a checkpoint the caller verified is the caller's part, done on every call.
_INCLUDED = _Kept(1024)


def _inclusion(resolved: ResolvedKey, did: str) -> tuple[None, str]:
    evidence = resolved.evidence
    if evidence is None:
        if did.startswith(("did:key:", "did:jwk:")):
            return None, "self-certifying DID: nothing to anchor"
        raise RegistryEvidenceMissing("no registry evidence for the issuer's DID version")
    memo: tuple[InclusionEvidence, str] | None = (evidence, did)
    try:
        detail = _INCLUDED.get(memo)
    except TypeError:  # evidence built with an unhashable member (a list for the proof)
        memo, detail = None, None
    if detail is not None:
        return None, detail
    entry = parse_entry(evidence.entry)
    if entry.type is not EntryType.DID_ENTRY or entry.subject != did:
        raise RegistryEvidenceMissing("the registry evidence is not a version of this DID")
    merkle.verify_inclusion(
        merkle.leaf_hash(evidence.entry),
        evidence.index,
        evidence.tree_size,
        list(evidence.proof),
        evidence.root,
    )
    detail = f"entry {evidence.index} of a tree of {evidence.tree_size}"
    if memo is not None:
        _INCLUDED.keep(memo, detail)
    return None, detail


# Status list tokens seen before, by SHA-256 (the token's text is never kept): (digest, typ,
# issuer) -> (kid, iat), the key reference read from a token whose header passed the checks; and
# (digest, typ, uri, key) -> the verified claims and decoded list. Lists above 1 MiB are not kept,
# so the memo stays below 64 MiB whatever issuers serve. The claims and lists are only read.
_STATUS_KEY_REFERENCES = _Kept(256)
_STATUS_LISTS = _Kept(64)
_KEPT_LIST_BYTES = 1024 * 1024


def _trusted(trust: IssuerTrust, issuer: str) -> tuple[None, str]:
    if not trust(issuer):
        raise UntrustedIssuer(f"{issuer} is not authorised to issue by registry governance")
    return None, "authorised by registry governance"


def _validity(claims: Mapping[str, Any], policy: Policy) -> tuple[None, str]:
    exp = _numeric(claims, "exp", required=False)
    nbf = _numeric(claims, "nbf", required=False)
    iat = _numeric(claims, "iat", required=True)
    if exp is not None and policy.now - policy.leeway >= exp:
        raise TokenExpired("the credential has expired", field="exp")
    if nbf is not None and policy.now + policy.leeway < nbf:
        raise TokenNotYetValid("the credential is not valid yet", field="nbf")
    if iat is not None and iat > policy.now + policy.leeway:
        raise TokenNotYetValid("the credential was issued in the future", field="iat")
    return None, "within its validity period"


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _primary_type(types: Any) -> str | None:
    items = [types] if isinstance(types, str) else types
    if not isinstance(items, list):
        return None
    specific = [t for t in items if isinstance(t, str) and t != "VerifiableCredential"]
    return specific[-1] if specific else None


# --- the verifier --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verifier:
    """The verification steps, given how to resolve keys, whom to trust and how to get status."""

    key_at: KeyAt
    trust: IssuerTrust
    fetch_status: StatusFetcher

    # --- issuer steps shared by both formats (4-8) -----------------------------------------

    def _issuer_steps(
        self,
        run: _Run,
        header: Mapping[str, Any],
        claims: Mapping[str, Any],
        issuer: Any,
        typ: str,
    ) -> PublicKey | None:
        run.check("typ", lambda: _typ_is(header, typ))
        run.check("algorithm", lambda: _algorithm(header))
        ok, kid = run.check("key_reference", lambda: _key_reference(header, issuer, "issuer"))
        resolved: ResolvedKey | None = None
        if ok and kid is not None:

            def resolve() -> tuple[ResolvedKey, str]:
                iat = _numeric(claims, "iat", required=True)
                return self.key_at(kid, float(iat or 0)), "valid at the credential's iat"

            _, resolved = run.check("issuer_key", resolve)
        else:
            run.skip("issuer_key", "no usable key reference")
        if resolved is not None:
            key = resolved
            run.check("registry_inclusion", lambda: _inclusion(key, str(issuer)))
        else:
            run.skip("registry_inclusion", "no issuer key")
        if isinstance(issuer, str):
            run.check("issuer_trusted", lambda: _trusted(self.trust, issuer))
        else:
            run.skip("issuer_trusted", "no issuer named")
        return None if resolved is None else resolved.key

    # --- status (12) -------------------------------------------------------------------------

    def _fetch_verified(
        self,
        run: _Run,
        issuer: str,
        uri: str,
        name: str,
        typ: str,
        policy: Policy,
    ) -> dict[str, Any] | None:
        """Fetch a status list token, check its anchor and signature; its claims or None."""
        ok, fetched = run.check(name + "_fetch", lambda: (self.fetch_status(issuer, uri), uri))
        if not ok or fetched is None:
            return None
        token = fetched.token
        # The token's SHA-256 is compared with the registry anchor on every call (below), and is
        # also the memo key for the work that depends on the token's bytes alone. A token that
        # is not ASCII text takes the path without memos (its anchor check fails as before).
        digest = _sha256_hex(token) if isinstance(token, str) and token.isascii() else None

        def anchored() -> tuple[None, str]:
            if fetched.anchor_sha256 is None:
                raise StatusListSplitView("the status list has no anchor in the registry")
            served = digest if digest is not None else _sha256_hex(token)
            if not hmac.compare_digest(served, fetched.anchor_sha256):
                raise StatusListSplitView(
                    "the status list served is not the one anchored in the registry"
                )
            return None, "equal to the latest registry anchor"

        anchor_ok, _ = run.check(name + "_anchor", anchored)

        def signed() -> tuple[dict[str, Any], str]:
            # (1) the key reference: a function of the token, the issuer and the typ.
            seen = None if digest is None else (digest, typ, issuer)
            reference = None if seen is None else _STATUS_KEY_REFERENCES.get(seen)
            if reference is None:
                header, payload, _, _ = jose.decode_unverified(token)
                claims = _json.loads(payload, error=MalformedToken, what="status list claims")
                if not isinstance(claims, dict):
                    raise MalformedToken("status list claims must be an object")
                _typ_is(header, typ)
                _algorithm(header)
                kid, _ = _key_reference(header, issuer, "credential's issuer")
                iat = _numeric(claims, "iat", required=True)
                reference = (kid, float(iat or 0))
                if seen is not None:
                    _STATUS_KEY_REFERENCES.keep(seen, reference)
            # (2) the key is asked for on every call, as before: what key_at answers may change.
            key = self.key_at(*reference).key
            # (3) signature, sub/id and the list: a function of the token, the key, the URI and
            # the typ. What depends on the time (exp, validity) is checked on every call, and is
            # the last check on both paths, so a kept result fails exactly as a fresh one would.
            memo = None if digest is None or type(key) is not PublicKey else (digest, typ, uri, key)
            kept = None if memo is None else _STATUS_LISTS.get(memo)
            if typ == status_list.STATUS_LIST_TYP:
                if kept is None:
                    verified = status_list.verify_status_list_token(
                        token, key, expected_sub=uri, now=policy.now, leeway=policy.leeway
                    )
                    kept = {"claims": verified.claims, "list": verified.status_list}
                    listed = verified.status_list
                    if memo is not None and listed.size * listed.bits <= 8 * _KEPT_LIST_BYTES:
                        _STATUS_LISTS.keep(memo, kept)
                else:
                    status_list.check_status_list_token_time(
                        kept["claims"], now=policy.now, leeway=policy.leeway
                    )
                return dict(kept), "signed"
            if kept is None:
                _, credential = jose.verify_compact(
                    token, key, expected_typ=vc_jwt.VC_TYP, allowed_algs=ALLOWED_ALGORITHMS
                )
                if credential.get("id") != uri:
                    raise WrongTokenType("the status list credential is not the one referenced")
                kept = {"claims": credential}
                if memo is not None and len(token) <= _KEPT_LIST_BYTES:
                    _STATUS_LISTS.keep(memo, kept)
            _vc_validity(kept["claims"], policy)
            return dict(kept), "signed"

        ok, verified = run.check(name + "_list", signed)
        return verified if ok and anchor_ok else None

    def _sd_jwt_status(
        self, run: _Run, issuer: str, payload: Mapping[str, Any], policy: Policy
    ) -> None:
        if "status" not in payload and not policy.require_status:
            return
        ok, reference = run.check(
            "status_reference", lambda: (status_list.status_reference(payload), "status_list")
        )
        if not ok or reference is None:
            return
        uri, idx = reference
        verified = self._fetch_verified(
            run, issuer, uri, "status", status_list.STATUS_LIST_TYP, policy
        )
        if verified is None:
            run.skip("status", "the status list could not be trusted")
            return

        def value() -> tuple[None, str]:
            status = verified["list"].get(idx)
            if status == status_list.TokenStatus.VALID:
                return None, "valid"
            if status == status_list.TokenStatus.INVALID:
                raise CredentialRevoked("the credential is revoked")
            if status == status_list.TokenStatus.SUSPENDED:
                raise CredentialSuspended("the credential is suspended")
            raise errors.VerificationFailed(f"unknown status value {status}")

        run.check("status", value)

    # --- SD-JWT VC ---------------------------------------------------------------------------

    def verify_sd_jwt_vc(self, presentation: Any, policy: Policy) -> Verdict:
        run = _Run()

        # (1) parse
        def parse() -> tuple[tuple[sd_jwt.ParsedSdJwt, _Decoded, dict[str, Any]], str]:
            parsed = sd_jwt.parse(presentation)
            decoded = jose.decode_unverified(parsed.issuer_jwt)
            claims = _json.loads(decoded[1], error=MalformedToken, what="SD-JWT claims")
            if not isinstance(claims, dict):
                raise MalformedToken("SD-JWT claims must be a JSON object")
            return (parsed, decoded, claims), f"{len(parsed.disclosures)} disclosures"

        ok, parts = run.check("parse", parse)
        if not ok or parts is None:
            return Verdict(False, tuple(run.checks))
        parsed, decoded, unverified = parts
        header = decoded[0]

        # (2-7) typ, algorithm, key reference, issuer key at iat, inclusion, trust
        issuer = unverified.get("iss")
        key = self._issuer_steps(run, header, unverified, issuer, sd_jwt.SD_JWT_VC_TYP)

        # (8) signature
        if key is None:
            run.skip("signature", "the issuer's key was not established")
            return Verdict(False, tuple(run.checks))

        # The token decoded in (1) is the one verified: its header and claims were parsed from
        # the signed bytes and handed to no collaborator (those get kid, iat and iss strings),
        # so the claims read then are the verified payload.
        def signature() -> tuple[dict[str, Any], str]:
            jose.verify_decoded(
                decoded, key, allowed_algs=ALLOWED_ALGORITHMS, expected_typ=sd_jwt.SD_JWT_VC_TYP
            )
            return unverified, "issuer signature"

        ok, verified = run.check("signature", signature)
        if not ok or verified is None:
            return Verdict(False, tuple(run.checks))
        payload: dict[str, Any] = verified

        # (9) disclosures
        def disclose() -> tuple[dict[str, Any], str]:
            claims, paths = sd_jwt._process_payload(payload, parsed.disclosures)
            for path in paths.values():
                if path[0] in sd_jwt.NEVER_DISCLOSABLE_VC_CLAIMS:
                    raise InvalidCredential(f"claim {path[0]!r} must not be disclosable")
            for name in ("vct", "iss"):
                if not isinstance(claims.get(name), str) or not claims[name]:
                    raise InvalidCredential(f"SD-JWT VC requires a {name!r} string")
            for name in ("cnf", "status"):
                if name in claims and not isinstance(claims[name], dict):
                    raise InvalidCredential(f"SD-JWT VC {name!r} must be an object")
            return claims, f"{len(paths)} claims disclosed"

        _, claims = run.check("disclosures", disclose)

        # (10) validity
        run.check("validity", lambda: _validity(payload, policy))

        # (11) key binding
        self._key_binding(run, parsed, payload, policy)

        # (12) status
        self._sd_jwt_status(run, str(issuer), payload, policy)

        # (13) DCQL
        vct = payload.get("vct") if isinstance(payload.get("vct"), str) else None
        if policy.query is not None:
            if claims is None:
                run.skip("dcql", "the disclosed claims are not known")
            else:
                query, seen = policy.query, claims
                run.check("dcql", lambda: _dcql(query, dcql.SD_JWT_VC, [vct or ""], seen))
        valid = run.ok
        shown = None
        if valid and claims is not None:
            shown = {k: v for k, v in claims.items() if k not in ("cnf", "status")}
        return Verdict(valid, tuple(run.checks), shown, str(issuer), vct)

    def _key_binding(
        self, run: _Run, parsed: sd_jwt.ParsedSdJwt, payload: Mapping[str, Any], policy: Policy
    ) -> None:
        if parsed.kb_jwt is None:
            if policy.require_key_binding:
                run.check(
                    "key_binding",
                    _raise(
                        KeyBindingMissing(
                            "key binding is required but the presentation has no KB-JWT"
                        )
                    ),
                )
            return
        kb_jwt = parsed.kb_jwt

        def bound() -> tuple[dict[str, Any], str]:
            cnf = payload.get("cnf")
            if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
                raise KeyBindingInvalid("the credential has no cnf.jwk")
            holder = PublicKey.from_jwk(cnf["jwk"])  # weak and invalid keys refused
            decoded = jose.decode_unverified(kb_jwt)
            if any(name in decoded[0] for name in EMBEDDED_KEY_HEADERS):
                raise KeyReferenceInvalid("the KB-JWT carries its own key: refused")
            _, kb_payload = jose.verify_decoded(
                decoded, holder, allowed_algs=ALLOWED_ALGORITHMS, expected_typ=sd_jwt.KB_JWT_TYP
            )
            return jose.claims_of(kb_payload), "signed by the cnf key"

        ok, kb = run.check("key_binding", bound)
        if not ok or kb is None:
            return
        run.check("nonce", lambda: _nonce(kb.get("nonce"), policy.nonce))
        run.check("audience", lambda: _audience(kb.get("aud"), policy.audience))
        run.check("kb_freshness", lambda: _fresh(kb, policy))

        def hashed() -> tuple[None, str]:
            presented = kb.get("sd_hash")
            alg = sd_jwt._sd_alg(payload)
            expected = sd_jwt.sd_hash(parsed.sd_jwt, alg)
            if not isinstance(presented, str) or not hmac.compare_digest(
                presented.encode(), expected.encode()
            ):
                raise SdHashMismatch("sd_hash does not match the presented SD-JWT")
            return None, "over the presented SD-JWT"

        run.check("sd_hash", hashed)

    # --- VCDM 2.0 in a vp+jwt ------------------------------------------------------------------

    def verify_vp_jwt(self, token: Any, policy: Policy) -> Verdict:
        run = _Run()

        def parse() -> tuple[tuple[_Decoded, dict[str, Any]], str]:
            if not isinstance(token, str):
                raise MalformedToken("a vp+jwt is a string")
            decoded = jose.decode_unverified(token)
            claims = _json.loads(decoded[1], error=MalformedToken, what="VP claims")
            if not isinstance(claims, dict):
                raise MalformedToken("VP claims must be a JSON object")
            return (decoded, claims), "vp+jwt"

        ok, parts = run.check("parse", parse)
        if not ok or parts is None:
            return Verdict(False, tuple(run.checks))
        decoded, unverified = parts
        header = decoded[0]
        holder = unverified.get("holder")
        if isinstance(holder, Mapping):
            holder = holder.get("id")
        run.check("typ", lambda: _typ_is(header, vc_jwt.VP_TYP))
        run.check("algorithm", lambda: _algorithm(header))
        ok, kid = run.check("key_reference", lambda: _key_reference(header, holder, "holder"))
        holder_key: PublicKey | None = None
        if ok and kid is not None:
            ref = kid
            _, resolved = run.check(
                "holder_key", lambda: (self.key_at(ref, policy.now), "the presenter's key")
            )
            holder_key = None if resolved is None else resolved.key
        if holder_key is None:
            run.skip("signature", "the presenter's key was not established")
            return Verdict(False, tuple(run.checks))
        hkey = holder_key

        def signature() -> tuple[dict[str, Any], str]:
            # The token was decoded once, in parse; every header rule runs again here.
            jose.verify_decoded(
                decoded, hkey, allowed_algs=ALLOWED_ALGORITHMS, expected_typ=vc_jwt.VP_TYP
            )
            return unverified, "presenter signature"  # the payload just verified

        ok, presentation = run.check("signature", signature)
        if not ok or presentation is None:
            return Verdict(False, tuple(run.checks))
        vp: dict[str, Any] = presentation

        _, inner = run.check("presentation", lambda: _enveloped(vp))
        run.check("nonce", lambda: _nonce(vp.get("nonce"), policy.nonce))
        run.check("audience", lambda: _audience(vp.get("aud"), policy.audience))
        run.check("kb_freshness", lambda: _fresh(vp, policy))
        if not inner:
            return Verdict(False, tuple(run.checks))
        first: tuple[dict[str, Any] | None, str | None, str | None] = (None, None, None)
        for position, credential_token in enumerate(inner):
            run.prefix = f"credential[{position}]." if len(inner) > 1 else "credential."
            outcome = self._vc(run, credential_token, holder, hkey, policy)
            if position == 0:
                first = outcome
        run.prefix = ""
        credential, issuer, credential_type = first
        if policy.query is not None:
            if credential is None:
                run.skip("dcql", "the credential was not verified")
            else:
                query, seen = policy.query, credential
                types = seen.get("type")
                type_list = [types] if isinstance(types, str) else list(types or [])
                run.check("dcql", lambda: _dcql(query, dcql.JWT_VC_JSON, type_list, seen))
        valid = run.ok
        shown = None
        if valid and credential is not None:
            subject = credential.get("credentialSubject")
            shown = (
                dict(subject) if isinstance(subject, Mapping) else {"credentialSubject": subject}
            )
        return Verdict(valid, tuple(run.checks), shown, issuer, credential_type)

    def _vc(
        self, run: _Run, token: str, holder: Any, holder_key: PublicKey, policy: Policy
    ) -> tuple[dict[str, Any] | None, str | None, str | None]:
        def parse() -> tuple[tuple[_Decoded, dict[str, Any]], str]:
            decoded = jose.decode_unverified(token)
            claims = _json.loads(decoded[1], error=MalformedToken, what="VC claims")
            if not isinstance(claims, dict):
                raise MalformedToken("VC claims must be a JSON object")
            return (decoded, claims), "vc+jwt"

        ok, parts = run.check("parse", parse)
        if not ok or parts is None:
            return None, None, None
        decoded, unverified = parts
        header = decoded[0]
        issuer = unverified.get("issuer")
        if isinstance(issuer, Mapping):
            issuer = issuer.get("id")
        key = self._issuer_steps(run, header, unverified, issuer, vc_jwt.VC_TYP)
        if key is None:
            run.skip("signature", "the issuer's key was not established")
            return None, None, None
        issuer_key = key

        def signature() -> tuple[dict[str, Any], str]:
            jose.verify_decoded(
                decoded, issuer_key, allowed_algs=ALLOWED_ALGORITHMS, expected_typ=vc_jwt.VC_TYP
            )
            return unverified, "issuer signature"  # the payload just verified

        ok, verified = run.check("signature", signature)
        if not ok or verified is None:
            return None, None, None
        credential: dict[str, Any] = verified
        ok, entries = run.check(
            "credential", lambda: (vc_jwt._check_credential(credential), "VCDM 2.0")
        )
        run.check("validity", lambda: _vc_validity(credential, policy))

        def bound() -> tuple[None, str]:
            if not vc_jwt._bound_to(credential, holder, holder_key):
                raise HolderMismatch("the credential is not bound to the presenter")
            return None, "bound to the presenter"

        run.check("holder_binding", bound)
        if ok and entries is not None:
            self._vc_status(run, str(issuer), entries, policy)
        elif policy.require_status:
            run.skip("status", "no status entries could be read")
        return credential, str(issuer), _primary_type(credential.get("type"))

    def _vc_status(
        self, run: _Run, issuer: str, entries: Sequence[status_list.StatusEntry], policy: Policy
    ) -> None:
        if not entries:
            if policy.require_status:
                run.check("status", _raise(InvalidCredential("the credential has no status")))
            return
        for entry in entries:
            name = f"status_{entry.purpose}"
            verified = self._fetch_verified(
                run, issuer, entry.list_credential, name, vc_jwt.VC_TYP, policy
            )
            if verified is None:
                run.skip(name, "the status list could not be trusted")
                continue
            run.check(name, _bit_step(verified["claims"], entry))


# --- small steps ---------------------------------------------------------------------------------


def _bit_step(
    credential: dict[str, Any], entry: status_list.StatusEntry
) -> Callable[[], tuple[None, str]]:
    def step() -> tuple[None, str]:
        bits = status_list.parse_bitstring_status_list_credential(
            credential, expected_purpose=entry.purpose, status_size=entry.status_size
        )
        if bits.get(entry.index) == 0:
            return None, "not set"
        if entry.purpose == "revocation":
            raise CredentialRevoked("the credential is revoked")
        if entry.purpose == "suspension":
            raise CredentialSuspended("the credential is suspended")
        raise errors.VerificationFailed(f"status {entry.purpose!r} is set")

    return step


def _raise(error: errors.Error) -> Callable[[], tuple[None, str]]:
    def step() -> tuple[None, str]:
        raise error

    return step


def _nonce(value: Any, expected: str | None) -> tuple[None, str]:
    if expected is None:
        raise NonceMismatch("no nonce is expected: refusing a bound presentation")
    if not isinstance(value, str) or not hmac.compare_digest(value.encode(), expected.encode()):
        raise NonceMismatch("the nonce does not match", field="nonce")
    return None, "matches the request"


def _audience(value: Any, expected: str | None) -> tuple[None, str]:
    if expected is None or not isinstance(value, str) or value != expected:
        raise AudienceMismatch("aud must be exactly this verifier's client_id", field="aud")
    return None, expected


def _fresh(claims: Mapping[str, Any], policy: Policy) -> tuple[None, str]:
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise KeyBindingInvalid("iat must be a NumericDate", field="iat")
    if iat > policy.now + policy.leeway:
        raise KeyBindingInvalid("iat is in the future", field="iat")
    if iat < policy.now - policy.kb_max_age - policy.leeway:
        raise KeyBindingInvalid("iat is too old", field="iat")
    exp = claims.get("exp")
    if exp is not None and (
        isinstance(exp, bool)
        or not isinstance(exp, int | float)
        or policy.now - policy.leeway >= exp
    ):
        raise KeyBindingInvalid("the presentation has expired", field="exp")
    return None, "signed within the accepted window"


def _vc_validity(credential: Mapping[str, Any], policy: Policy) -> tuple[None, str]:
    vc_jwt._numeric_dates(credential, policy.now, policy.leeway)
    valid_from = vc_jwt._date_time(credential, "validFrom")
    if valid_from is not None and policy.now + policy.leeway < valid_from:
        raise TokenNotYetValid("the credential is not valid yet", field="validFrom")
    valid_until = vc_jwt._date_time(credential, "validUntil")
    if valid_until is not None and policy.now - policy.leeway >= valid_until:
        raise TokenExpired("the credential has expired", field="validUntil")
    return None, "within its validity period"


def _enveloped(vp: Mapping[str, Any]) -> tuple[list[str], str]:
    context = vp.get("@context")
    if not isinstance(context, list) or not context or context[0] != vc_jwt.V2_CONTEXT:
        raise InvalidCredential("@context must start with the VCDM 2.0 context")
    types = vp.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or "VerifiablePresentation" not in types:
        raise InvalidCredential("type must include VerifiablePresentation")
    envelopes = vp.get("verifiableCredential")
    envelopes = [envelopes] if isinstance(envelopes, Mapping) else envelopes
    if not isinstance(envelopes, list) or not 1 <= len(envelopes) <= vc_jwt.MAX_CREDENTIALS:
        raise InvalidCredential("a presentation carries 1 to 32 enveloped credentials")
    tokens = []
    for envelope in envelopes:
        data_url = envelope.get("id") if isinstance(envelope, Mapping) else None
        if (
            not isinstance(envelope, Mapping)
            or envelope.get("type") != "EnvelopedVerifiableCredential"
            or not isinstance(data_url, str)
            or not data_url.startswith(vc_jwt.ENVELOPED_VC_PREFIX)
        ):
            raise InvalidCredential("only EnvelopedVerifiableCredential vc+jwt entries")
        tokens.append(data_url[len(vc_jwt.ENVELOPED_VC_PREFIX) :])
    return tokens, f"{len(tokens)} credentials"


def _dcql(
    query: dcql.CredentialQuery, fmt: str, types: Sequence[str], claims: Mapping[str, Any]
) -> tuple[None, str]:
    problems = dcql.match_credential(query, credential_format=fmt, types=types, claims=claims)
    if problems:
        raise DcqlNotSatisfied("; ".join(problems))
    return None, f"satisfies credential query {query.id!r}"


# --- receipts ------------------------------------------------------------------------------------


def _digest(value: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def sign_receipt(
    verdict: Verdict,
    key: PrivateKey,
    *,
    kid: str,
    verifier: str,
    iat: int,
    jti: str,
    presentation: str,
    nonce: str | None,
    audience: str | None,
) -> str:
    """A verification receipt: a JWT (``typ: verification-receipt+jwt``) signed by the verifying
    institution, stating the verdict and every check, bound to the exact presentation by its
    SHA-256. It holds no personal data: the disclosed claims appear only as a digest (RFC 8785
    JSON, SHA-256) the holder of the claims can recompute."""
    claims: dict[str, Any] = {
        "iss": verifier,
        "iat": iat,
        "jti": jti,
        "valid": verdict.valid,
        "checks": [{"name": c.name, "ok": c.ok, "code": c.code} for c in verdict.checks],
        "issuer": verdict.issuer,
        "credential_type": verdict.credential_type,
        "presentation_sha256": hashlib.sha256(presentation.encode("utf-8")).hexdigest(),
        "claims_sha256": None if verdict.claims is None else _digest(verdict.claims),
        "nonce": nonce,
        "aud": audience,
    }
    return jose.sign_compact({"typ": RECEIPT_TYP, "kid": kid}, claims, key)


def verify_receipt(token: str, key_at: KeyAt) -> dict[str, Any]:
    """Check a receipt: ``kid`` a DID URL of ``iss``, the key valid at ``iat``, the signature.
    Returns its claims; raises on any failure."""
    header, payload, _, _ = jose.decode_unverified(token)
    claims = _json.loads(payload, error=MalformedToken, what="receipt claims")
    if not isinstance(claims, dict):
        raise MalformedToken("receipt claims must be an object")
    kid, _ = _key_reference(header, claims.get("iss"), "receipt's issuer")
    iat = _numeric(claims, "iat", required=True)
    key = key_at(kid, float(iat or 0)).key
    _, verified = jose.verify_compact(
        token, key, expected_typ=RECEIPT_TYP, allowed_algs=ALLOWED_ALGORITHMS
    )
    return verified


def claims_digest(claims: Mapping[str, Any]) -> str:
    """The ``claims_sha256`` of a receipt, recomputed from the claims a verdict returned."""
    return _digest(dict(claims))
