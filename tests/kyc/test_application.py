"""Intake parsing: a good body, and hostile bodies refused with the right code and field."""
# ruff: noqa: E501 - the hostile-input table reads best one case per line

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import jsonschema
import pytest

from errors import InvalidInput
from kyc.application import APPLICATION_SCHEMA, DocumentType, parse_application

MRZ = [
    "P<SWEERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36SWE7408122F3204159<<<<<<<<<<<<<<06",
]


def good_body() -> dict[str, Any]:
    return {
        "given_names": "Anna Maria",
        "family_names": "Eriksson",
        "birthdate": "1974-08-12",
        "nationality": "SWE",
        "residence_country": "se",
        "address": {
            "street": "Storgatan 1",
            "city": "Stockholm",
            "postal_code": "111 22",
            "country": "SE",
        },
        "document": {
            "type": "passport",
            "number": "l898902c3",
            "issuing_country": "SE",
            "expiry_date": "2032-04-15",
            "mrz": list(MRZ),
        },
        "holder_did": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00Z"},
    }


def test_good_body_parses_and_normalises() -> None:
    application = parse_application(good_body(), today=date(2026, 10, 1))
    assert application.nationality == "SE"
    assert application.residence_country == "SE"
    assert application.document.type is DocumentType.PASSPORT
    assert application.document.number == "L898902C3"
    assert application.document.mrz == tuple(MRZ)
    assert application.consent.given_at == datetime(2026, 9, 1, 10, tzinfo=UTC)
    assert application.full_name == "Anna Maria Eriksson"


def test_unicode_names_are_kept_nfc() -> None:
    body = good_body()
    body["given_names"] = "Zoe\u0301"  # decomposed é
    body["family_names"] = "Ильина-Мюллер"
    application = parse_application(body)
    assert application.given_names == "Zoé"
    assert application.family_names == "Ильина-Мюллер"


def test_persian_zwnj_is_allowed() -> None:
    body = good_body()
    body["family_names"] = "\u0645\u06cc\u200c\u0631\u0632\u0627"
    assert "\u200c" in parse_application(body).family_names


def test_mrz_is_optional() -> None:
    body = good_body()
    del body["document"]["mrz"]
    assert parse_application(body).document.mrz is None


def _set(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(good_body())
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return body


_DELETE = object()

HOSTILE = [
    # (id, body change, expected code, expected field)
    ("mass_assigned_status", ("status", "approved"), "unknown_field", "status"),
    ("mass_assigned_level", ("kyc_level", 3), "unknown_field", "kyc_level"),
    ("nested_unknown", ("address.floor", "3"), "unknown_field", "address.floor"),
    ("missing_birthdate", ("birthdate", _DELETE), "missing_field", "birthdate"),
    ("missing_expiry", ("document.expiry_date", _DELETE), "missing_field", "document.expiry_date"),
    ("name_number", ("given_names", 42), "wrong_type", "given_names"),
    ("name_list", ("family_names", ["a"]), "wrong_type", "family_names"),
    ("name_null", ("family_names", None), "wrong_type", "family_names"),
    ("name_empty", ("given_names", "   "), "invalid_value", "given_names"),
    ("name_huge", ("given_names", "A" * 100_000), "invalid_value", "given_names"),
    ("name_nul", ("given_names", "Anna\x00Maria"), "invalid_value", "given_names"),
    ("name_bidi", ("family_names", "\u202eEriksson"), "invalid_value", "family_names"),
    ("name_zwsp", ("family_names", "Eriks\u200bson"), "invalid_value", "family_names"),
    ("name_lone_surrogate", ("family_names", "Eriks\ud800son"), "invalid_value", "family_names"),
    ("name_digits", ("family_names", "Eriksson2"), "invalid_value", "family_names"),
    ("name_no_letter", ("family_names", "--"), "invalid_value", "family_names"),
    ("date_format", ("birthdate", "12/08/1974"), "invalid_value", "birthdate"),
    ("date_impossible", ("birthdate", "1974-02-30"), "invalid_value", "birthdate"),
    ("date_fullwidth", ("birthdate", "１９７４-08-12"), "invalid_value", "birthdate"),
    ("date_number", ("birthdate", 19740812), "wrong_type", "birthdate"),
    ("date_ancient", ("birthdate", "1850-01-01"), "invalid_value", "birthdate"),
    ("date_future", ("birthdate", "2030-01-01"), "invalid_value", "birthdate"),
    ("expiry_bad", ("document.expiry_date", "2032-13-01"), "invalid_value", "document.expiry_date"),
    ("country_unknown", ("nationality", "XX"), "invalid_value", "nationality"),
    ("country_unknown3", ("residence_country", "UTO"), "invalid_value", "residence_country"),
    ("country_name", ("nationality", "Sweden"), "invalid_value", "nationality"),
    ("country_type", ("nationality", 752), "wrong_type", "nationality"),
    ("address_mismatch", ("address.country", "NO"), "invalid_value", "address.country"),
    ("address_not_object", ("address", "Storgatan 1"), "wrong_type", "address"),
    ("postal_code_bad", ("address.postal_code", "<script>"), "invalid_value", "address.postal_code"),
    ("doc_type", ("document.type", "driving_licence"), "invalid_value", "document.type"),
    ("doc_type_type", ("document.type", True), "wrong_type", "document.type"),
    ("doc_number_bad", ("document.number", "L89-89"), "invalid_value", "document.number"),
    ("doc_number_long", ("document.number", "A" * 21), "invalid_value", "document.number"),
    ("doc_country", ("document.issuing_country", "ZZZ"), "invalid_value", "document.issuing_country"),
    ("mrz_not_list", ("document.mrz", "P<SWE"), "wrong_type", "document.mrz"),
    ("mrz_bad_length", ("document.mrz", ["P<SWE", "L89"]), "invalid_mrz", "document.mrz"),
    ("mrz_lowercase", ("document.mrz", [MRZ[0].lower(), MRZ[1]]), "invalid_mrz", "document.mrz"),
    ("did_bad", ("holder_did", "did:Key:abc"), "invalid_did", "holder_did"),
    ("did_url", ("holder_did", "did:key:z6Mk#frag"), "invalid_did", "holder_did"),
    ("did_type", ("holder_did", {"id": "did:key:x"}), "wrong_type", "holder_did"),
    ("consent_no_tz", ("consent.given_at", "2026-09-01T10:00:00"), "invalid_value", "consent.given_at"),
    ("consent_bad_time", ("consent.given_at", "2026-09-01T25:00:00Z"), "invalid_value", "consent.given_at"),
    ("consent_version", ("consent.text_version", ""), "invalid_value", "consent.text_version"),
    ("consent_missing", ("consent", _DELETE), "missing_field", "consent"),
]  # fmt: skip


@pytest.mark.parametrize("change,code,field", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_are_refused_with_code_and_field(
    change: tuple[str, Any], code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_application(_set(*change), today=date(2026, 10, 1))
    assert info.value.code == code
    assert info.value.field == field


@pytest.mark.parametrize("body", [None, [], "x", 1, {"given_names": "A"}])
def test_not_an_object_or_incomplete(body: object) -> None:
    with pytest.raises(InvalidInput):
        parse_application(body)


def test_schema_accepts_the_good_body() -> None:
    jsonschema.Draft202012Validator.check_schema(APPLICATION_SCHEMA)
    jsonschema.validate(good_body(), APPLICATION_SCHEMA)


@pytest.mark.parametrize(
    "hostile",
    [h for h in HOSTILE if h[0] in {
        "mass_assigned_status", "nested_unknown", "missing_birthdate", "name_number",
        "name_huge", "date_format", "country_type", "address_not_object", "doc_type",
        "doc_number_bad", "mrz_bad_length", "consent_missing", "postal_code_bad",
    }],
    ids=lambda h: h[0],
)  # fmt: skip
def test_schema_refuses_what_the_parser_refuses(hostile: tuple) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_set(*hostile[1]), APPLICATION_SCHEMA)
