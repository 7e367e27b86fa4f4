"""The holder's decisions, with no I/O: what an offer or a request says, which credential answers
a DCQL query and which claims to disclose, and the JWTs the holder signs.

Specs: OpenID4VCI 1.0 §4.1 (credential offer), App. F.1 (key proof JWT); OpenID4VP 1.0 §5
(authorization request), §6 (DCQL), §7 (claims path pointers), §8.1 (``vp_token``), App. B.3
(SD-JWT VC: KB-JWT ``nonce`` = request nonce, ``aud`` = the full client_id with its prefix);
RFC 9901 §6 (presentation), §7.2 (the holder checks what it receives); SD-JWT VC draft -18.

Time comes in as ``now`` (seconds since the epoch); keys come in as ``identity.keys.PrivateKey``.

    >>> query = {"credentials": [{"id": "kyc", "format": "dc+sd-jwt",
    ...          "meta": {"vct_values": ["https://example/kyc"]},
    ...          "claims": [{"path": ["age_over_18"], "values": [True]}]}]}
    >>> parse_dcql(query).credentials[0].claims[0].path
    ('age_over_18',)
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from credentials import dcql, jose, sd_jwt
from credentials.errors import HolderMismatch, InvalidCredential
from errors import Error
from identity.keys import PrivateKey, PublicKey
from wallet.errors import NoMatchingCredential, ProtocolError

__all__ = [
    "OFFER_SCHEME",
    "PRE_AUTHORIZED_GRANT",
    "PROOF_TYP",
    "SD_JWT_VC_FORMAT",
    "VP_SCHEME",
    "ClaimQuery",
    "CredentialOffer",
    "CredentialQuery",
    "CredentialRecord",
    "DcqlQuery",
    "Match",
    "PresentationRequest",
    "accept_credential",
    "build_presentation",
    "build_proof_jwt",
    "build_vp_token",
    "describe_matches",
    "format_path",
    "match_dcql",
    "parse_credential_offer",
    "parse_dcql",
    "parse_offer_uri",
    "parse_presentation_request",
    "parse_vp_uri",
]

OFFER_SCHEME: Final = "openid-credential-offer"
VP_SCHEME: Final = "openid4vp"
PRE_AUTHORIZED_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP: Final = "openid4vci-proof+jwt"
SD_JWT_VC_FORMAT: Final = "dc+sd-jwt"

# Claims about the credential itself rather than the person; always visible, shown apart.
TECHNICAL_CLAIMS: Final = frozenset(
    {"iss", "vct", "vct#integrity", "cnf", "status", "iat", "exp", "nbf", "sub", "_sd_alg"}
)
_QUERY_ID: Final = re.compile(r"[A-Za-z0-9_-]+")
_MAX_TX_CODE_DESCRIPTION: Final = 300

Path = tuple[str | int | None, ...]


# --- credentials in the wallet -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A credential as the wallet keeps it: the raw SD-JWT VC exactly as issued, and what the
    wallet learned when it verified it (all claims, the paths that disclosures reveal)."""

    id: str
    format: str
    credential: str
    issuer: str
    vct: str
    received_at: int
    issuer_url: str
    holder_key_id: str
    claims: dict[str, Any]
    disclosable: tuple[tuple[str | int, ...], ...]
    expires_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "format": self.format,
            "credential": self.credential,
            "issuer": self.issuer,
            "vct": self.vct,
            "received_at": self.received_at,
            "issuer_url": self.issuer_url,
            "holder_key_id": self.holder_key_id,
            "claims": self.claims,
            "disclosable": [list(p) for p in self.disclosable],
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CredentialRecord:
        return cls(
            id=str(data["id"]),
            format=str(data["format"]),
            credential=str(data["credential"]),
            issuer=str(data["issuer"]),
            vct=str(data["vct"]),
            received_at=int(data["received_at"]),
            issuer_url=str(data["issuer_url"]),
            holder_key_id=str(data["holder_key_id"]),
            claims=dict(data["claims"]),
            disclosable=tuple(tuple(p) for p in data["disclosable"]),
            expires_at=None if data.get("expires_at") is None else int(data["expires_at"]),
        )

    @property
    def personal_claims(self) -> dict[str, Any]:
        """The claims about the holder, without ``iss``/``vct``/``cnf``/``status``/dates."""
        return {k: v for k, v in self.claims.items() if k not in TECHNICAL_CLAIMS}


def accept_credential(
    credential: str,
    issuer_key_resolver: sd_jwt.IssuerKeyResolver,
    *,
    holder_key: PublicKey,
    expected_vct: str | None,
    issuer_url: str,
    holder_key_id: str,
    now: float,
    new_id: Callable[[], str] = lambda: secrets.token_hex(8),
) -> CredentialRecord:
    """Check a credential just received and make the record to store (RFC 9901 §7.2, §7.1).

    The SD-JWT VC must verify under the key ``issuer_key_resolver`` returns (signature, every
    disclosure, ``exp``/``nbf``), carry no KB-JWT, name a DID as ``iss``, bind ``holder_key`` in
    ``cnf.jwk``, and have the ``vct`` of the configuration asked for.
    """
    parsed = sd_jwt.parse(credential)
    if parsed.kb_jwt is not None:
        raise InvalidCredential("an issued SD-JWT must not carry a KB-JWT (RFC 9901 §7.2)")
    verified = sd_jwt.verify_sd_jwt_vc(credential, issuer_key_resolver, now=now, require_kb=False)
    claims = verified.claims
    issuer = claims["iss"]
    if not issuer.startswith("did:"):
        raise InvalidCredential("the credential's issuer is not a DID", field="iss")
    cnf = claims.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise HolderMismatch("the credential is not bound to a holder key (no cnf.jwk)")
    if PublicKey.from_jwk(cnf["jwk"]) != holder_key:
        raise HolderMismatch("the credential is bound to another key than the wallet's")
    if expected_vct is not None and claims["vct"] != expected_vct:
        raise InvalidCredential(
            f"the credential's vct {claims['vct']!r} is not {expected_vct!r}", field="vct"
        )
    exp = claims.get("exp")
    return CredentialRecord(
        id=new_id(),
        format=SD_JWT_VC_FORMAT,
        credential=credential,
        issuer=issuer,
        vct=claims["vct"],
        received_at=int(now),
        issuer_url=issuer_url,
        holder_key_id=holder_key_id,
        claims=claims,
        disclosable=tuple(tuple(p) for p in verified.disclosed_paths),
        expires_at=int(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None,
    )


# --- OpenID4VCI ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CredentialOffer:
    """A pre-authorized credential offer (OpenID4VCI §4.1.1)."""

    credential_issuer: str
    configuration_ids: tuple[str, ...]
    pre_authorized_code: str
    tx_code: dict[str, Any] | None  # None: no tx_code; {} or more: one must be sent

    @property
    def needs_tx_code(self) -> bool:
        return self.tx_code is not None


def _single(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if values is None:
        return None
    if len(values) != 1:
        raise ProtocolError(f"parameter {name!r} appears more than once")
    return values[0]


def _query(uri: str, scheme: str) -> dict[str, list[str]]:
    if not isinstance(uri, str) or len(uri) > 64 * 1024:
        raise ProtocolError("the URI is not a string of reasonable size")
    parts = urlsplit(uri.strip())
    if parts.scheme.lower() != scheme:
        raise ProtocolError(f"expected an {scheme}:// URI")
    return parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} must be a JSON object")
    return value


def parse_offer_uri(uri: str) -> CredentialOffer | str:
    """The offer carried by value, or the ``credential_offer_uri`` to fetch it from (§4.1.3)."""
    try:
        params = _query(uri, OFFER_SCHEME)
    except ValueError as exc:
        raise ProtocolError("the offer URI's query is malformed") from exc
    by_value = _single(params, "credential_offer")
    by_reference = _single(params, "credential_offer_uri")
    if (by_value is None) == (by_reference is None):
        raise ProtocolError("an offer has exactly one of credential_offer, credential_offer_uri")
    if by_reference is not None:
        return by_reference
    return parse_credential_offer(_json_object(str(by_value), "credential_offer"))


def parse_credential_offer(offer: Mapping[str, Any]) -> CredentialOffer:
    """Check a credential offer object (§4.1.1) for the pre-authorized code flow."""
    issuer = offer.get("credential_issuer")
    if not isinstance(issuer, str) or not issuer:
        raise ProtocolError("the offer has no credential_issuer")
    ids = offer.get("credential_configuration_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ProtocolError("the offer's credential_configuration_ids must be non-empty strings")
    grants = offer.get("grants")
    grant = grants.get(PRE_AUTHORIZED_GRANT) if isinstance(grants, dict) else None
    if not isinstance(grant, dict):
        raise ProtocolError("the offer has no pre-authorized code grant (only that is supported)")
    code = grant.get("pre-authorized_code")
    if not isinstance(code, str) or not code:
        raise ProtocolError("the offer's pre-authorized_code is missing")
    tx_code = grant.get("tx_code")
    if tx_code is not None:
        if not isinstance(tx_code, dict):
            raise ProtocolError("the offer's tx_code must be an object")
        description = tx_code.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > _MAX_TX_CODE_DESCRIPTION
        ):
            raise ProtocolError("the offer's tx_code description is not a short string")
        if tx_code.get("input_mode", "numeric") not in ("numeric", "text"):
            raise ProtocolError("the offer's tx_code input_mode is neither numeric nor text")
    return CredentialOffer(issuer, tuple(ids), code, None if tx_code is None else dict(tx_code))


def build_proof_jwt(
    key: PrivateKey, *, credential_issuer: str, c_nonce: str | None, now: float
) -> str:
    """The key proof (OpenID4VCI App. F.1): ``typ: openid4vci-proof+jwt``, the holder's public
    key as ``jwk``; ``aud`` = the credential issuer id, ``iat``, ``nonce`` = ``c_nonce``. No
    ``iss``: the pre-authorized flow is anonymous."""
    claims: dict[str, Any] = {"aud": credential_issuer, "iat": int(now)}
    if c_nonce is not None:
        claims["nonce"] = c_nonce
    header = {"typ": PROOF_TYP, "jwk": key.public_key.to_jwk()}
    return jose.sign_compact(header, claims, key)


# --- DCQL (OpenID4VP §6, §7) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimQuery:
    path: Path
    values: tuple[Any, ...] | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    id: str
    format: str
    vct_values: tuple[str, ...] | None
    claims: tuple[ClaimQuery, ...] | None
    claim_sets: tuple[tuple[str, ...], ...] | None = None


@dataclass(frozen=True, slots=True)
class DcqlQuery:
    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[tuple[bool, tuple[tuple[str, ...], ...]], ...] | None = None


def _claim_query(raw: Any) -> ClaimQuery:
    if not isinstance(raw, dict):
        raise ProtocolError("a DCQL claims entry must be an object")
    path = raw.get("path")
    if not isinstance(path, list) or not path:
        raise ProtocolError("a DCQL claim path must be a non-empty array")
    for element in path:
        if element is not None and (
            isinstance(element, bool)
            or not isinstance(element, str | int)
            or (isinstance(element, int) and element < 0)
        ):
            raise ProtocolError("a DCQL claim path holds strings, null and non-negative integers")
    values = raw.get("values")
    if values is not None and (not isinstance(values, list) or not values):
        raise ProtocolError("DCQL claim values must be a non-empty array")
    if values is not None and any(isinstance(v, dict | list) for v in values):
        raise ProtocolError("DCQL claim values must be strings, numbers or booleans")
    claim_id = raw.get("id")
    if claim_id is not None and (
        not isinstance(claim_id, str) or not _QUERY_ID.fullmatch(claim_id)
    ):
        raise ProtocolError("a DCQL claim id must be alphanumeric, '_' or '-'")
    return ClaimQuery(tuple(path), None if values is None else tuple(values), claim_id)


def parse_dcql(query: Any) -> DcqlQuery:
    """Check a DCQL query with the verifier's own strict parser (``credentials.dcql``, so the
    wallet refuses what a verifier would), then keep what answering it needs."""
    if not isinstance(query, dict):
        raise ProtocolError("dcql_query must be a JSON object")
    try:
        dcql.parse_query(query)
    except Error as exc:
        raise ProtocolError(f"the DCQL query is malformed: {exc.message}") from exc
    raw_credentials = query.get("credentials")
    if not isinstance(raw_credentials, list) or not raw_credentials:
        raise ProtocolError("dcql_query.credentials must be a non-empty array")
    credentials = []
    for raw in raw_credentials:
        if not isinstance(raw, dict):
            raise ProtocolError("a DCQL credential query must be an object")
        query_id, fmt, meta = raw.get("id"), raw.get("format"), raw.get("meta")
        if not isinstance(query_id, str) or not _QUERY_ID.fullmatch(query_id):
            raise ProtocolError("a DCQL credential query id must be alphanumeric, '_' or '-'")
        if not isinstance(fmt, str):
            raise ProtocolError(f"DCQL credential query {query_id!r} has no format")
        if not isinstance(meta, dict):
            raise ProtocolError(f"DCQL credential query {query_id!r} has no meta object")
        vct_values = meta.get("vct_values")
        if vct_values is not None and (
            not isinstance(vct_values, list) or not all(isinstance(v, str) for v in vct_values)
        ):
            raise ProtocolError("meta.vct_values must be an array of strings")
        raw_claims = raw.get("claims")
        if raw_claims is not None and (not isinstance(raw_claims, list) or not raw_claims):
            raise ProtocolError("DCQL claims must be a non-empty array")
        claims = None if raw_claims is None else tuple(_claim_query(c) for c in raw_claims)
        raw_sets = raw.get("claim_sets")
        claim_sets = None
        if raw_sets is not None:
            ids = {c.id for c in claims or ()}
            if (
                not isinstance(raw_sets, list)
                or not raw_sets
                or not all(isinstance(s, list) and s for s in raw_sets)
                or not all(i in ids for s in raw_sets for i in s)
            ):
                raise ProtocolError("claim_sets must list ids of claims in the query")
            claim_sets = tuple(tuple(s) for s in raw_sets)
        credentials.append(
            CredentialQuery(
                query_id,
                fmt,
                None if vct_values is None else tuple(vct_values),
                claims,
                claim_sets,
            )
        )
    ids = [c.id for c in credentials]
    if len(ids) != len(set(ids)):
        raise ProtocolError("DCQL credential query ids must be unique")
    credential_sets = None
    raw_sets = query.get("credential_sets")
    if raw_sets is not None:
        if not isinstance(raw_sets, list) or not raw_sets:
            raise ProtocolError("credential_sets must be a non-empty array")
        parsed = []
        for entry in raw_sets:
            options = entry.get("options") if isinstance(entry, dict) else None
            if (
                not isinstance(options, list)
                or not options
                or not all(isinstance(o, list) and o and set(o) <= set(ids) for o in options)
            ):
                raise ProtocolError("credential_sets options must list credential query ids")
            required = entry.get("required", True)
            if not isinstance(required, bool):
                raise ProtocolError("credential_sets required must be a boolean")
            parsed.append((required, tuple(tuple(o) for o in options)))
        credential_sets = tuple(parsed)
    return DcqlQuery(tuple(credentials), credential_sets)


def _select(
    node: Any, path: Path, prefix: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], Any]]:
    """OpenID4VP §7.1 claims path pointer over processed claims: concrete paths and values."""
    if not path:
        return [(prefix, node)]
    head, rest = path[0], path[1:]
    if isinstance(head, str):
        if isinstance(node, dict) and head in node:
            return _select(node[head], rest, (*prefix, head))
        return []
    if not isinstance(node, list):
        return []
    if head is None:
        found = []
        for index, item in enumerate(node):
            found.extend(_select(item, rest, (*prefix, index)))
        return found
    if head < len(node):
        return _select(node[head], rest, (*prefix, head))
    return []


def _claim_paths(record: CredentialRecord, claim: ClaimQuery) -> list[tuple[str | int, ...]]:
    selected = _select(record.claims, claim.path)
    if claim.values is not None:
        selected = [
            (p, v)
            for p, v in selected
            if any(v == wanted and type(v) is type(wanted) for wanted in claim.values)
        ]
    return [p for p, _v in selected]


def _answer(
    query: CredentialQuery, record: CredentialRecord
) -> tuple[tuple[str | int, ...], ...] | None:
    """The claim paths to disclose for ``query`` from ``record``, or None if it cannot answer."""
    if query.format != SD_JWT_VC_FORMAT or record.format != SD_JWT_VC_FORMAT:
        return None
    if query.vct_values is not None and record.vct not in query.vct_values:
        return None
    if query.claims is None:
        return ()  # §6.4.1: no claims asked, only the always-visible ones are returned
    found = {i: _claim_paths(record, claim) for i, claim in enumerate(query.claims)}
    if query.claim_sets is None:
        if not all(found.values()):
            return None
        chosen = list(range(len(query.claims)))
    else:
        by_id = {claim.id: i for i, claim in enumerate(query.claims)}
        for option in query.claim_sets:  # §6.4.2: the first option the wallet can satisfy
            if all(found[by_id[claim_id]] for claim_id in option):
                chosen = [by_id[claim_id] for claim_id in option]
                break
        else:
            return None
    paths: list[tuple[str | int, ...]] = []
    for i in chosen:
        for path in found[i]:
            if path not in paths:
                paths.append(path)
    return tuple(paths)


@dataclass(frozen=True, slots=True)
class Match:
    """One credential answering one credential query, and the claim paths to disclose."""

    query_id: str
    record: CredentialRecord
    paths: tuple[tuple[str | int, ...], ...]


def match_dcql(
    query: DcqlQuery, records: Iterable[CredentialRecord], *, now: float | None = None
) -> list[Match]:
    """Choose credentials for a DCQL query: for each credential query the newest unexpired
    credential that satisfies it, then the first satisfiable option of each credential set
    (§6.4.2). Raises ``NoMatchingCredential`` if a required query or set cannot be answered."""
    usable = [r for r in records if now is None or r.expires_at is None or r.expires_at > now]
    usable.sort(key=lambda r: r.received_at, reverse=True)
    answers: dict[str, Match] = {}
    for credential_query in query.credentials:
        for record in usable:
            paths = _answer(credential_query, record)
            if paths is not None:
                answers[credential_query.id] = Match(credential_query.id, record, paths)
                break
    if query.credential_sets is None:
        missing = [c.id for c in query.credentials if c.id not in answers]
        if missing:
            raise NoMatchingCredential(
                f"no credential in the wallet answers the query {', '.join(missing)}"
            )
        return [answers[c.id] for c in query.credentials]
    wanted: list[str] = []
    for required, options in query.credential_sets:
        option = next((o for o in options if all(i in answers for i in o)), None)
        if option is None:
            if required:
                raise NoMatchingCredential(
                    "no credential in the wallet answers a required credential set"
                )
            continue
        wanted.extend(i for i in option if i not in wanted)
    return [answers[i] for i in wanted]


def format_path(path: Sequence[str | int | None]) -> str:
    """``("address", "street")`` -> ``address.street``; indexes as ``[0]``, wildcards ``[*]``."""
    text = ""
    for element in path:
        if element is None:
            text += "[*]"
        elif isinstance(element, int):
            text += f"[{element}]"
        else:
            text += ("." if text else "") + element
    return text


def describe_matches(matches: Sequence[Match]) -> list[dict[str, Any]]:
    """What the holder is asked to share, for the consent prompt: per credential, its type and
    issuer and the exact claims (with values) that would be disclosed."""
    described = []
    for match in matches:
        claims = {}
        for path in match.paths:
            selected = _select(match.record.claims, path)
            claims[format_path(path)] = selected[0][1] if selected else None
        described.append(
            {
                "query": match.query_id,
                "credential": match.record.id,
                "vct": match.record.vct,
                "issuer": match.record.issuer,
                "claims": claims,
            }
        )
    return described


# --- OpenID4VP requests and responses ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PresentationRequest:
    """An OpenID4VP authorization request for ``vp_token`` by ``direct_post`` (§5, §8.2)."""

    client_id: str
    response_uri: str
    nonce: str
    state: str | None
    dcql: DcqlQuery
    raw: dict[str, Any] = field(repr=False, compare=False)


def parse_vp_uri(uri: str) -> dict[str, str]:
    """The parameters of an ``openid4vp://`` URI (``client_id``, ``request_uri`` ... or the
    request by value). Each parameter must appear once."""
    try:
        params = _query(uri, VP_SCHEME)
    except ValueError as exc:
        raise ProtocolError("the openid4vp URI's query is malformed") from exc
    result = {}
    for name in params:
        value = _single(params, name)
        result[name] = "" if value is None else value
    if "client_id" not in result:
        raise ProtocolError("the request has no client_id")
    return result


def parse_presentation_request(
    request: Mapping[str, Any], *, expected_client_id: str
) -> PresentationRequest:
    """Check a request object: same ``client_id`` as outside (§5.10), ``response_type``
    ``vp_token``, ``response_mode`` ``direct_post`` with a ``response_uri``, a URL-safe nonce, a
    DCQL query. With the ``redirect_uri:`` client id prefix, the response must go to that very
    URI (§5.9.3), so a request cannot send the holder's data somewhere its id does not name."""
    client_id = request.get("client_id")
    if client_id != expected_client_id:
        raise ProtocolError("the request object's client_id differs from the request's")
    if request.get("response_type") != "vp_token":
        raise ProtocolError("only response_type=vp_token is supported")
    if request.get("response_mode") != "direct_post":
        raise ProtocolError("only response_mode=direct_post is supported")
    response_uri = request.get("response_uri")
    if not isinstance(response_uri, str) or not response_uri:
        raise ProtocolError("direct_post needs a response_uri")
    if "redirect_uri" in request:
        raise ProtocolError("direct_post requests must not carry a redirect_uri")
    if (
        client_id.startswith("redirect_uri:")
        and client_id.removeprefix("redirect_uri:") != response_uri
    ):
        raise ProtocolError("with a redirect_uri: client id the response_uri must be that URI")
    nonce = request.get("nonce")
    if not isinstance(nonce, str) or not re.fullmatch(r"[A-Za-z0-9._~-]{8,512}", nonce):
        raise ProtocolError("the request nonce is missing or not URL-safe")
    state = request.get("state")
    if state is not None and not isinstance(state, str):
        raise ProtocolError("the request state must be a string")
    dcql = request.get("dcql_query")
    if isinstance(dcql, str):
        dcql = _json_object(dcql, "dcql_query")
    if dcql is None:
        raise ProtocolError("the request has no dcql_query (scope queries are not supported)")
    return PresentationRequest(
        client_id, response_uri, nonce, state, parse_dcql(dcql), dict(request)
    )


def build_presentation(
    record: CredentialRecord,
    key: PrivateKey,
    paths: Iterable[Sequence[str | int]],
    *,
    nonce: str,
    client_id: str,
    now: float,
) -> str:
    """SD-JWT+KB with the disclosures on ``paths`` only (and the hidden parents that reach them);
    KB-JWT ``nonce`` = the request nonce, ``aud`` = the full client_id (App. B.3), ``iat`` = now."""
    return sd_jwt.present(
        record.credential,
        disclose=[tuple(p) for p in paths],
        kb_key=key,
        nonce=nonce,
        aud=client_id,
        iat=int(now),
    )


def build_vp_token(
    request: PresentationRequest,
    matches: Sequence[Match],
    keys: Callable[[str], PrivateKey],
    *,
    now: float,
) -> dict[str, list[str]]:
    """The ``vp_token`` object (§8.1): credential query id -> one presentation."""
    return {
        match.query_id: [
            build_presentation(
                match.record,
                keys(match.record.holder_key_id),
                match.paths,
                nonce=request.nonce,
                client_id=request.client_id,
                now=now,
            )
        ]
        for match in matches
    }
