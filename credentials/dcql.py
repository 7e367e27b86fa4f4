"""DCQL, the Digital Credentials Query Language of OpenID4VP 1.0 (§6, §7): parsing a query
strictly, and checking that what a wallet returned satisfies it.

A verifier must not rely on the wallet to have honoured its query (OpenID4VP, "Security Checks on
the Returned Credentials"), so the same query is matched again against the claims of each
*verified* credential: format, type (``meta.vct_values`` / ``meta.type_values``), every requested
claim path present, and, where the query gives ``values``, the claim equal to one of them (type
and value: ``1`` is not ``true``). A minimum such as "KYC level 2 or higher" is the set of the
acceptable levels, ``{"path": ["kyc_level"], "values": [2, 3]}``; ``minimum_level_values``
builds it.

    >>> query = parse_query({"credentials": [{"id": "kyc", "format": "dc+sd-jwt",
    ...     "meta": {"vct_values": ["https://broker.example/credential-types/kyc/v1"]},
    ...     "claims": [{"path": ["kyc_level"], "values": [2, 3]}, {"path": ["age_over_18"]}]}]})
    >>> match_credential(query.credentials[0], credential_format="dc+sd-jwt",
    ...     types=["https://broker.example/credential-types/kyc/v1"],
    ...     claims={"kyc_level": 3, "age_over_18": True})
    []
    >>> match_credential(query.credentials[0], credential_format="dc+sd-jwt",
    ...     types=["https://broker.example/credential-types/kyc/v1"], claims={"kyc_level": 1})
    ['claim kyc_level has a value the query does not accept', 'claim age_over_18 is missing']
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from errors import InvalidInput

__all__ = [
    "FORMATS",
    "ClaimQuery",
    "CredentialQuery",
    "CredentialSetQuery",
    "DcqlQuery",
    "InvalidDcqlQuery",
    "match_credential",
    "minimum_level_values",
    "parse_query",
    "select_claim",
    "unsatisfied_sets",
]

SD_JWT_VC: Final = "dc+sd-jwt"
JWT_VC_JSON: Final = "jwt_vc_json"
FORMATS: Final = frozenset({SD_JWT_VC, JWT_VC_JSON})

MAX_CREDENTIALS: Final = 8
MAX_CLAIMS: Final = 64
MAX_PATH: Final = 16
MAX_VALUES: Final = 64
MAX_SETS: Final = 16
MAX_STRING: Final = 512
_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


class InvalidDcqlQuery(InvalidInput):
    """A DCQL query that breaks OpenID4VP 1.0 §6 (or this verifier's limits)."""

    code = "invalid_dcql_query"


PathElement = str | int | None


@dataclass(frozen=True, slots=True)
class ClaimQuery:
    path: tuple[PathElement, ...]
    id: str | None = None
    values: tuple[str | int | bool, ...] | None = None

    def label(self) -> str:
        return ".".join("*" if p is None else str(p) for p in self.path)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        out["path"] = list(self.path)
        if self.values is not None:
            out["values"] = list(self.values)
        return out


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    id: str
    format: str
    meta: Mapping[str, Any]
    claims: tuple[ClaimQuery, ...] | None = None
    claim_sets: tuple[tuple[str, ...], ...] | None = None
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True

    @property
    def vct_values(self) -> tuple[str, ...] | None:
        values = self.meta.get("vct_values")
        return None if values is None else tuple(values)

    @property
    def type_values(self) -> tuple[tuple[str, ...], ...] | None:
        values = self.meta.get("type_values")
        return None if values is None else tuple(tuple(v) for v in values)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "format": self.format, "meta": dict(self.meta)}
        if self.claims is not None:
            out["claims"] = [c.to_json() for c in self.claims]
        if self.claim_sets is not None:
            out["claim_sets"] = [list(s) for s in self.claim_sets]
        if self.multiple:
            out["multiple"] = True
        if not self.require_cryptographic_holder_binding:
            out["require_cryptographic_holder_binding"] = False
        return out


@dataclass(frozen=True, slots=True)
class CredentialSetQuery:
    options: tuple[tuple[str, ...], ...]
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"options": [list(o) for o in self.options]}
        if not self.required:
            out["required"] = False
        return out


@dataclass(frozen=True, slots=True)
class DcqlQuery:
    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None

    def credential(self, query_id: str) -> CredentialQuery | None:
        return next((c for c in self.credentials if c.id == query_id), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"credentials": [c.to_json() for c in self.credentials]}
        if self.credential_sets is not None:
            out["credential_sets"] = [s.to_json() for s in self.credential_sets]
        return out


# --- parsing -------------------------------------------------------------------------------------


def _fail(message: str, where: str) -> InvalidDcqlQuery:
    return InvalidDcqlQuery(message, field=where)


def _object(value: Any, where: str, allowed: Collection[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(f"{where} must be an object", where)
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise _fail(f"{where} has unknown member {unknown[0]!r}", where)
    return value


def _array(value: Any, where: str, limit: int, *, empty: bool = False) -> list[Any]:
    if not isinstance(value, list) or (not value and not empty):
        raise _fail(f"{where} must be a non-empty array", where)
    if len(value) > limit:
        raise _fail(f"{where} has more than {limit} items", where)
    return value


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise _fail(f"{where} must be 1 to 64 of [A-Za-z0-9_-]", where)
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_STRING:
        raise _fail(f"{where} must be a non-empty string of at most {MAX_STRING}", where)
    return value


def _path(value: Any, where: str) -> tuple[PathElement, ...]:
    elements = _array(value, where, MAX_PATH)
    for element in elements:
        if element is None:
            continue
        if isinstance(element, bool) or not isinstance(element, str | int):
            raise _fail(f"{where} elements are strings, non-negative integers or null", where)
        if isinstance(element, int) and element < 0:
            raise _fail(f"{where} indexes are non-negative", where)
        if isinstance(element, str) and (not element or len(element) > MAX_STRING):
            raise _fail(f"{where} names are non-empty strings", where)
    return tuple(elements)


def _claim(value: Any, where: str) -> ClaimQuery:
    body = _object(value, where, {"id", "path", "values"})
    if "path" not in body:
        raise _fail(f"{where}.path is required", where)
    claim_id = _identifier(body["id"], f"{where}.id") if "id" in body else None
    values = None
    if "values" in body:
        items = _array(body["values"], f"{where}.values", MAX_VALUES)
        for item in items:
            if not isinstance(item, str | int | bool) or (
                isinstance(item, str) and len(item) > MAX_STRING
            ):
                raise _fail(f"{where}.values are strings, integers or booleans", where)
        values = tuple(items)
    return ClaimQuery(_path(body["path"], f"{where}.path"), claim_id, values)


def _meta(value: Any, fmt: str, where: str) -> Mapping[str, Any]:
    if fmt == SD_JWT_VC:
        body = _object(value, where, {"vct_values"})
        if "vct_values" in body:
            for item in _array(body["vct_values"], f"{where}.vct_values", MAX_VALUES):
                _string(item, f"{where}.vct_values")
        return {k: list(v) for k, v in body.items()}
    body = _object(value, where, {"type_values"})
    if "type_values" in body:
        for option in _array(body["type_values"], f"{where}.type_values", MAX_VALUES):
            for item in _array(option, f"{where}.type_values", MAX_VALUES):
                _string(item, f"{where}.type_values")
        return {"type_values": [list(o) for o in body["type_values"]]}
    return {}


def _boolean(body: Mapping[str, Any], name: str, default: bool, where: str) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise _fail(f"{where}.{name} must be a boolean", f"{where}.{name}")
    return value


def _credential(value: Any, where: str) -> CredentialQuery:
    body = _object(
        value,
        where,
        {
            "id",
            "format",
            "meta",
            "claims",
            "claim_sets",
            "multiple",
            "require_cryptographic_holder_binding",
            "trusted_authorities",
        },
    )
    for name in ("id", "format", "meta"):
        if name not in body:
            raise _fail(f"{where}.{name} is required", f"{where}.{name}")
    query_id = _identifier(body["id"], f"{where}.id")
    fmt = body["format"]
    if fmt not in FORMATS:
        raise _fail(f"{where}.format must be one of {sorted(FORMATS)}", f"{where}.format")
    if "trusted_authorities" in body:
        # Trust comes from this verifier's registry governance, never from the request.
        raise _fail(
            "trusted_authorities is not supported: issuers are trusted by governance",
            f"{where}.trusted_authorities",
        )
    claims = None
    if "claims" in body:
        claims = tuple(
            _claim(c, f"{where}.claims[{i}]")
            for i, c in enumerate(_array(body["claims"], f"{where}.claims", MAX_CLAIMS))
        )
    claim_sets = None
    if "claim_sets" in body:
        if claims is None:
            raise _fail("claim_sets needs claims", f"{where}.claim_sets")
        ids = {c.id for c in claims if c.id is not None}
        if len(ids) != sum(1 for c in claims if c.id is not None):
            raise _fail("claim ids must be unique", f"{where}.claims")
        sets = []
        for option in _array(body["claim_sets"], f"{where}.claim_sets", MAX_SETS):
            members = tuple(
                _identifier(m, f"{where}.claim_sets")
                for m in _array(option, f"{where}.claim_sets", MAX_CLAIMS)
            )
            if not set(members) <= ids:
                raise _fail("claim_sets name claims the query does not have", f"{where}.claim_sets")
            sets.append(members)
        claim_sets = tuple(sets)
    return CredentialQuery(
        query_id,
        fmt,
        _meta(body["meta"], fmt, f"{where}.meta"),
        claims,
        claim_sets,
        _boolean(body, "multiple", False, where),
        _boolean(body, "require_cryptographic_holder_binding", True, where),
    )


def parse_query(value: Any) -> DcqlQuery:
    """A DCQL query, strictly: unknown members, empty arrays, duplicate ids, ``claim_sets`` or
    ``credential_sets`` naming what does not exist are all refused (``invalid_dcql_query``)."""
    body = _object(value, "dcql_query", {"credentials", "credential_sets"})
    if "credentials" not in body:
        raise _fail("dcql_query.credentials is required", "dcql_query.credentials")
    credentials = tuple(
        _credential(c, f"dcql_query.credentials[{i}]")
        for i, c in enumerate(
            _array(body["credentials"], "dcql_query.credentials", MAX_CREDENTIALS)
        )
    )
    ids = [c.id for c in credentials]
    if len(set(ids)) != len(ids):
        raise _fail("credential query ids must be unique", "dcql_query.credentials")
    sets = None
    if "credential_sets" in body:
        parsed = []
        for i, item in enumerate(
            _array(body["credential_sets"], "dcql_query.credential_sets", MAX_SETS)
        ):
            where = f"dcql_query.credential_sets[{i}]"
            entry = _object(item, where, {"options", "required", "purpose"})
            if "options" not in entry:
                raise _fail(f"{where}.options is required", where)
            options = tuple(
                tuple(_identifier(m, where) for m in _array(o, where, MAX_CREDENTIALS))
                for o in _array(entry["options"], where, MAX_SETS)
            )
            if any(not set(o) <= set(ids) for o in options):
                raise _fail("credential_sets name credential queries that do not exist", where)
            parsed.append(CredentialSetQuery(options, _boolean(entry, "required", True, where)))
        sets = tuple(parsed)
    return DcqlQuery(credentials, sets)


def minimum_level_values(minimum: int, maximum: int) -> list[int]:
    """The ``values`` that express "at least ``minimum``" for an integer claim up to
    ``maximum`` (DCQL has only value sets)."""
    if not 0 <= minimum <= maximum:
        raise InvalidDcqlQuery("the minimum level is out of range", field="min_kyc_level")
    return list(range(minimum, maximum + 1))


# --- matching ------------------------------------------------------------------------------------


def select_claim(claims: Any, path: Sequence[PathElement]) -> list[Any]:
    """The values ``path`` selects (OpenID4VP §7.1): a string is an object member, an integer
    an array index, ``null`` every element of an array. Empty when nothing is selected."""
    selected: list[Any] = [claims]
    for element in path:
        following: list[Any] = []
        for item in selected:
            if element is None:
                if isinstance(item, list):
                    following.extend(item)
            elif isinstance(element, int) and not isinstance(element, bool):
                if isinstance(item, list) and element < len(item):
                    following.append(item[element])
            elif isinstance(item, Mapping) and element in item:
                following.append(item[element])
        selected = following
        if not selected:
            return []
    return selected


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _claim_problem(claim: ClaimQuery, claims: Mapping[str, Any]) -> str | None:
    selected = select_claim(claims, claim.path)
    if not selected:
        return f"claim {claim.label()} is missing"
    if claim.values is not None and not any(
        _same(value, wanted) for value in selected for wanted in claim.values
    ):
        return f"claim {claim.label()} has a value the query does not accept"
    return None


def match_credential(
    query: CredentialQuery,
    *,
    credential_format: str,
    types: Sequence[str],
    claims: Mapping[str, Any],
) -> list[str]:
    """Why a verified credential does not satisfy ``query`` (empty: it does). ``types`` is the
    SD-JWT VC ``vct`` (one item) or the VC's ``type`` array."""
    problems: list[str] = []
    if credential_format != query.format:
        problems.append(f"the query asks for {query.format}, not {credential_format}")
    if query.vct_values is not None and not any(t in query.vct_values for t in types):
        problems.append("the credential type (vct) is not one the query accepts")
    if query.type_values is not None and not any(
        set(option) <= set(types) for option in query.type_values
    ):
        problems.append("the credential type is not one the query accepts")
    if query.claims is None:
        return problems
    outcome = {c: _claim_problem(c, claims) for c in query.claims}
    if query.claim_sets is None:
        problems.extend(p for p in outcome.values() if p is not None)
        return problems
    by_id = {c.id: p for c, p in outcome.items() if c.id is not None}
    if not any(all(by_id[m] is None for m in option) for option in query.claim_sets):
        problems.append("no claim set of the query is satisfied")
    return problems


def unsatisfied_sets(query: DcqlQuery, satisfied: Collection[str]) -> list[str]:
    """Why the credential queries ``satisfied`` (their ids) do not fulfil ``query`` as a whole:
    every credential query without ``credential_sets``, else every required set's option."""
    if query.credential_sets is None:
        return [
            f"credential query {c.id!r} is not satisfied"
            for c in query.credentials
            if c.id not in satisfied
        ]
    return [
        f"required credential set {i} is not satisfied"
        for i, entry in enumerate(query.credential_sets)
        if entry.required and not any(set(o) <= set(satisfied) for o in entry.options)
    ]
