"""Test helpers: valid MRZs built from fields, good application bodies, the sample index."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from kyc.mrz import check_digit, mrz_name_field
from kyc.screening import WatchlistIndex
from kyc.watchlists import iter_opensanctions_csv, iter_un_consolidated_xml

SAMPLES = Path(__file__).parents[2] / "kyc" / "data" / "samples"
DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


def td3(
    family: str,
    given: str,
    number: str,
    nationality: str,
    birth: date,
    sex: str,
    expiry: date,
    issuer: str | None = None,
) -> list[str]:
    line1 = f"P<{(issuer or nationality):<<3}" + mrz_name_field(family, given, 39)
    doc = f"{number:<<9}"[:9]
    body = (
        doc
        + check_digit(doc)
        + f"{nationality:<<3}"
        + birth.strftime("%y%m%d")
        + check_digit(birth.strftime("%y%m%d"))
        + sex
        + expiry.strftime("%y%m%d")
        + check_digit(expiry.strftime("%y%m%d"))
        + "<" * 14
        + "<"
    )
    line2 = body + check_digit(body[0:10] + body[13:20] + body[21:43])
    return [line1, line2]


def body(**overrides: Any) -> dict[str, Any]:
    """A good intake body for a Swedish passport holder; MRZ consistent with the fields."""
    value: dict[str, Any] = {
        "given_names": "Anna Maria",
        "family_names": "Eriksson",
        "birthdate": "1974-08-12",
        "nationality": "SE",
        "residence_country": "SE",
        "address": {
            "street": "Storgatan 1",
            "city": "Stockholm",
            "postal_code": "111 22",
            "country": "SE",
        },
        "document": {
            "type": "passport",
            "number": "AB1234567",
            "issuing_country": "SE",
            "expiry_date": "2032-04-15",
            "mrz": td3(
                "Eriksson", "Anna Maria", "AB1234567", "SWE",
                date(1974, 8, 12), "F", date(2032, 4, 15),
            ),
        },
        "holder_did": DID,
        "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00Z"},
    }  # fmt: skip
    value.update(overrides)
    return value


@cache
def sample_index() -> WatchlistIndex:
    with (SAMPLES / "opensanctions-targets.simple.csv").open(newline="", encoding="utf-8") as f:
        entries = list(iter_opensanctions_csv(f, list_version="2026-09-15"))
    entries += list(iter_un_consolidated_xml(str(SAMPLES / "un-consolidated.xml")))
    return WatchlistIndex(entries)
