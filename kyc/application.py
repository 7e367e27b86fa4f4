"""A KYC application: what a broker submits about a client, parsed strictly.

``parse_application(body)`` takes the decoded JSON body and returns an ``Application`` or raises
an ``errors.InvalidInput`` subclass whose ``field`` is the dotted path of the first offending
value (``"document.expiry_date"``): ``UnknownField`` (anything not in the schema, so
``"status": "approved"`` cannot be mass-assigned), ``MissingField``, ``WrongType``,
``InvalidValue``, ``InvalidMrz`` and the DID errors of ``identity.did``.

``APPLICATION_SCHEMA`` is the same contract as JSON Schema (2020-12) for the HTTP layer and the
OpenAPI document; ``parse_application`` remains the authority (it also checks ISO 3166 codes,
real calendar dates, MRZ structure and DID syntax, which the schema only approximates).

Text is stored NFC-normalised with surrounding whitespace removed. Control characters, bidi
controls, other invisible format characters (except ZWNJ/ZWJ, which Persian and Indic names
need), private-use characters and unpaired surrogates are refused (security notes G3).

    >>> body = {
    ...     "given_names": "Anna Maria", "family_names": "Eriksson", "birthdate": "1974-08-12",
    ...     "nationality": "SWE", "residence_country": "SE",
    ...     "address": {"street": "Storgatan 1", "city": "Stockholm", "postal_code": "111 22",
    ...                 "country": "SE"},
    ...     "document": {"type": "passport", "number": "L898902C3", "issuing_country": "SE",
    ...                  "expiry_date": "2032-04-15"},
    ...     "holder_did": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    ...     "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00+02:00"}}
    >>> application = parse_application(body)
    >>> application.nationality, application.consent.given_at.isoformat()
    ('SE', '2026-09-01T08:00:00+00:00')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from errors import DidError, InvalidValue, MissingField, UnknownField, WrongType
from identity.did import parse_did
from kyc.countries import normalize_country
from kyc.mrz import InvalidMrz, parse_mrz

__all__ = [
    "APPLICATION_SCHEMA",
    "MAX_NAME_LENGTH",
    "Address",
    "Application",
    "Consent",
    "DocumentType",
    "IdentityDocument",
    "parse_application",
]

MAX_NAME_LENGTH = 200
MAX_TEXT_LENGTH = 200
MAX_POSTAL_CODE_LENGTH = 16
MAX_DOCUMENT_NUMBER_LENGTH = 20
MAX_TEXT_VERSION_LENGTH = 64
MIN_BIRTH_YEAR = 1900

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_DOCUMENT_NUMBER_RE = re.compile(r"[A-Za-z0-9]+")
_POSTAL_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]*")
_TEXT_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_ALLOWED_FORMAT = frozenset("\u200c\u200d")  # ZWNJ, ZWJ


class DocumentType(StrEnum):
    PASSPORT = "passport"
    ID_CARD = "id_card"


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2


@dataclass(frozen=True, slots=True)
class IdentityDocument:
    type: DocumentType
    number: str  # upper case, [A-Z0-9]
    issuing_country: str  # ISO 3166-1 alpha-2
    expiry_date: date
    mrz: tuple[str, ...] | None = None  # structurally valid MRZ lines; check digits not judged


@dataclass(frozen=True, slots=True)
class Consent:
    text_version: str
    given_at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class Application:
    given_names: str
    family_names: str
    birthdate: date
    nationality: str  # ISO 3166-1 alpha-2
    residence_country: str  # ISO 3166-1 alpha-2
    address: Address
    document: IdentityDocument
    holder_did: str  # a syntactically valid DID (identity.did.parse_did)
    consent: Consent

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_names}"


# --- JSON Schema ----------------------------------------------------------------------------------

_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_LENGTH}
_COUNTRY = {"type": "string", "pattern": "^[A-Za-z]{2,3}$"}
_DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}

APPLICATION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "KYC application",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "given_names", "family_names", "birthdate", "nationality", "residence_country",
        "address", "document", "holder_did", "consent",
    ],
    "properties": {
        "given_names": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
        "family_names": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
        "birthdate": _DATE,
        "nationality": _COUNTRY,
        "residence_country": _COUNTRY,
        "address": {
            "type": "object",
            "additionalProperties": False,
            "required": ["street", "city", "postal_code", "country"],
            "properties": {
                "street": _TEXT,
                "city": _TEXT,
                "postal_code": {
                    "type": "string",
                    "maxLength": MAX_POSTAL_CODE_LENGTH,
                    "pattern": "^[A-Za-z0-9][A-Za-z0-9 -]*$",
                },
                "country": _COUNTRY,
            },
        },
        "document": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "number", "issuing_country", "expiry_date"],
            "properties": {
                "type": {"enum": [t.value for t in DocumentType]},
                "number": {
                    "type": "string",
                    "maxLength": MAX_DOCUMENT_NUMBER_LENGTH,
                    "pattern": "^[A-Za-z0-9]+$",
                },
                "issuing_country": _COUNTRY,
                "expiry_date": _DATE,
                "mrz": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 3,
                    "items": {"type": "string", "pattern": "^[A-Z0-9<]{30,44}$"},
                },
            },
        },
        "holder_did": {"type": "string", "pattern": "^did:[a-z0-9]+:", "maxLength": 4096},
        "consent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text_version", "given_at"],
            "properties": {
                "text_version": {
                    "type": "string",
                    "maxLength": MAX_TEXT_VERSION_LENGTH,
                    "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                },
                "given_at": {"type": "string", "format": "date-time"},
            },
        },
    },
}  # fmt: skip


# --- parsing --------------------------------------------------------------------------------------


def _object(value: object, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise WrongType(f"{path or 'body'} must be an object", field=path or None)
    for key in value:
        if key not in allowed:
            name = f"{path}.{key}" if path else str(key)
            raise UnknownField(f"unknown field {name[:100]!r}", field=name[:100])
    for key in allowed:
        if key not in value:
            raise MissingField(f"{_join(path, key)} is required", field=_join(path, key))
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _string(value: object, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise WrongType(f"{field} must be a string", field=field)
    if len(value) > max_length * 4:  # cheap bound before any Unicode work
        raise InvalidValue(f"{field} is longer than {max_length} characters", field=field)
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co") or char in _BIDI_CONTROLS:
            raise InvalidValue(f"{field} contains a control character", field=field)
        if category == "Cf" and char not in _ALLOWED_FORMAT:
            raise InvalidValue(f"{field} contains an invisible format character", field=field)
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidValue(f"{field} must not be empty", field=field)
    if len(text) > max_length:
        raise InvalidValue(f"{field} is longer than {max_length} characters", field=field)
    return text


def _name(value: object, field: str) -> str:
    text = _string(value, field, MAX_NAME_LENGTH)
    if not any(unicodedata.category(c).startswith("L") for c in text):
        raise InvalidValue(f"{field} must contain a letter", field=field)
    if any(unicodedata.category(c) == "Nd" for c in text):
        raise InvalidValue(f"{field} must not contain digits", field=field)
    return " ".join(text.split())


def _date(value: object, field: str) -> date:
    if not isinstance(value, str):
        raise WrongType(f"{field} must be a string (YYYY-MM-DD)", field=field)
    if _DATE_RE.fullmatch(value) is None:
        raise InvalidValue(f"{field} must be a date YYYY-MM-DD", field=field)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidValue(f"{field} is not a calendar date", field=field) from exc


def _datetime(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise WrongType(f"{field} must be a string (RFC 3339)", field=field)
    if _DATETIME_RE.fullmatch(value) is None:
        raise InvalidValue(f"{field} must be an RFC 3339 date-time with offset", field=field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidValue(f"{field} is not a valid date-time", field=field) from exc
    return parsed.astimezone(UTC)


def _pattern(value: object, field: str, pattern: re.Pattern[str], max_length: int) -> str:
    if not isinstance(value, str):
        raise WrongType(f"{field} must be a string", field=field)
    if len(value) > max_length or pattern.fullmatch(value) is None:
        raise InvalidValue(f"{field} has an invalid format", field=field)
    return value


def _mrz(value: object, field: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise WrongType(f"{field} must be a list of lines", field=field)
    try:
        return parse_mrz(value).lines
    except InvalidMrz as exc:
        raise InvalidMrz(exc.message, field=field) from exc


def parse_application(body: object, *, today: date | None = None) -> Application:
    """Validate an intake body and build an ``Application``; raise on the first bad field.

    With ``today``, a birth date after it is refused too.
    """
    top = _object(
        body,
        "",
        (
            "given_names", "family_names", "birthdate", "nationality", "residence_country",
            "address", "document", "holder_did", "consent",
        ),
    )  # fmt: skip
    given = _name(top["given_names"], "given_names")
    family = _name(top["family_names"], "family_names")
    birthdate = _date(top["birthdate"], "birthdate")
    if birthdate.year < MIN_BIRTH_YEAR or (today is not None and birthdate > today):
        raise InvalidValue("birthdate is not plausible", field="birthdate")
    nationality = normalize_country(top["nationality"], field="nationality")
    residence = normalize_country(top["residence_country"], field="residence_country")

    raw_address = _object(top["address"], "address", ("street", "city", "postal_code", "country"))
    address = Address(
        street=_string(raw_address["street"], "address.street", MAX_TEXT_LENGTH),
        city=_string(raw_address["city"], "address.city", MAX_TEXT_LENGTH),
        postal_code=_pattern(
            raw_address["postal_code"], "address.postal_code", _POSTAL_CODE_RE,
            MAX_POSTAL_CODE_LENGTH,
        ).upper(),
        country=normalize_country(raw_address["country"], field="address.country"),
    )  # fmt: skip
    if address.country != residence:
        raise InvalidValue("address.country must be the residence_country", field="address.country")

    raw_document = top["document"]
    optional = ("mrz",) if isinstance(raw_document, Mapping) and "mrz" in raw_document else ()
    raw_document = _object(
        raw_document, "document", ("type", "number", "issuing_country", "expiry_date", *optional)
    )
    doc_type = raw_document["type"]
    if not isinstance(doc_type, str):
        raise WrongType("document.type must be a string", field="document.type")
    if doc_type not in {t.value for t in DocumentType}:
        raise InvalidValue("document.type must be passport or id_card", field="document.type")
    document = IdentityDocument(
        type=DocumentType(doc_type),
        number=_pattern(
            raw_document["number"], "document.number", _DOCUMENT_NUMBER_RE,
            MAX_DOCUMENT_NUMBER_LENGTH,
        ).upper(),
        issuing_country=normalize_country(
            raw_document["issuing_country"], field="document.issuing_country"
        ),
        expiry_date=_date(raw_document["expiry_date"], "document.expiry_date"),
        mrz=_mrz(raw_document["mrz"], "document.mrz") if optional else None,
    )  # fmt: skip

    did_text = top["holder_did"]
    if not isinstance(did_text, str):
        raise WrongType("holder_did must be a string", field="holder_did")
    try:
        holder_did = str(parse_did(did_text))
    except DidError as exc:
        raise type(exc)(f"holder_did: {exc.message}", field="holder_did") from exc

    raw_consent = _object(top["consent"], "consent", ("text_version", "given_at"))
    consent = Consent(
        text_version=_pattern(
            raw_consent["text_version"], "consent.text_version", _TEXT_VERSION_RE,
            MAX_TEXT_VERSION_LENGTH,
        ),
        given_at=_datetime(raw_consent["given_at"], "consent.given_at"),
    )  # fmt: skip
    return Application(
        given_names=given,
        family_names=family,
        birthdate=birthdate,
        nationality=nationality,
        residence_country=residence,
        address=address,
        document=document,
        holder_did=holder_did,
        consent=consent,
    )
