"""Country codes: ISO 3166-1 (through ``pycountry``) and the ICAO 9303 Part 3 §5 MRZ codes.

Every country this package keeps is an ISO 3166-1 alpha-2 code. Input may be alpha-2 or alpha-3;
MRZ fields carry ICAO three-letter codes, which are ISO alpha-3 plus a few of ICAO's own
(``D`` for Germany, ``GBD``/``GBN``/... for the kinds of British nationality, ``RKS`` for Kosovo,
``UNO``/``XXA``/... for organisations and stateless persons).

    >>> normalize_country("swe", field="nationality")
    'SE'
    >>> icao_to_alpha2("D<<")
    'DE'
"""

from __future__ import annotations

import re
from functools import cache

import pycountry

from errors import InvalidValue, WrongType

__all__ = ["country_from_name", "icao_to_alpha2", "is_country", "normalize_country"]

_CODE_RE = re.compile(r"[A-Za-z]{2,3}")

# Doc 9303 Part 3 §5 codes that are not ISO 3166-1 alpha-3 but name a country.
_ICAO_EXTRA = {
    "D": "DE",
    "GBD": "GB",  # British Overseas Territories Citizen
    "GBN": "GB",  # British National (Overseas)
    "GBO": "GB",  # British Overseas Citizen
    "GBP": "GB",  # British Protected Person
    "GBS": "GB",  # British Subject
}


def is_country(alpha2: str) -> bool:
    """True when ``alpha2`` is an assigned ISO 3166-1 alpha-2 code (upper case)."""
    return pycountry.countries.get(alpha_2=alpha2) is not None if len(alpha2) == 2 else False


def normalize_country(value: object, *, field: str) -> str:
    """ISO 3166-1 alpha-2 or alpha-3 (any case) -> alpha-2; raise ``InvalidValue`` otherwise."""
    if not isinstance(value, str):
        raise WrongType(f"{field} must be a string", field=field)
    if _CODE_RE.fullmatch(value) is None:
        raise InvalidValue(f"{field} must be an ISO 3166-1 alpha-2 or alpha-3 code", field=field)
    code = value.upper()
    country = (
        pycountry.countries.get(alpha_2=code)
        if len(code) == 2
        else pycountry.countries.get(alpha_3=code)
    )
    if country is None:
        raise InvalidValue(f"{field}: unknown country code", field=field)
    return str(country.alpha_2)


def icao_to_alpha2(code: str) -> str | None:
    """An MRZ nationality/issuing-state field (fillers allowed) -> alpha-2, or None.

    ``None`` means the code names no country (``UTO``, the specimen's Utopia; ``UNO``; ``XXA``
    stateless; ``XXB`` refugee; unknown codes).
    """
    code = code.rstrip("<")
    if code in _ICAO_EXTRA:
        return _ICAO_EXTRA[code]
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        return None
    country = pycountry.countries.get(alpha_3=code)
    return None if country is None else str(country.alpha_2)


@cache
def _names() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                table[_name_key(name)] = str(country.alpha_2)
    return table


def _name_key(name: str) -> str:
    # "Iran (Islamic Republic of)" (UN style) -> "iran, islamic republic of" (ISO style)
    match = re.fullmatch(r"\s*(.*?)\s*\((.*)\)\s*", name)
    if match:
        name = f"{match.group(1)}, {match.group(2)}"
    return " ".join(name.casefold().split())


_NAME_ALIASES = {
    "republic of korea": "KR",
    "united states": "US",
    "united kingdom": "GB",
    "turkey": "TR",
    "state of palestine": "PS",
    "russia": "RU",
    "syria": "SY",
    "iran": "IR",
    "north korea": "KP",
    "south korea": "KR",
    "vietnam": "VN",
    "laos": "LA",
    "democratic republic of the congo": "CD",
    "congo": "CG",
}


def country_from_name(name: str) -> str | None:
    """An English country name as sanctions lists write it -> alpha-2, or None when unknown.

    >>> country_from_name("Iran (Islamic Republic of)")
    'IR'
    >>> country_from_name("Democratic People's Republic of Korea")
    'KP'
    """
    key = _name_key(name)
    return _NAME_ALIASES.get(key) or _names().get(key)
