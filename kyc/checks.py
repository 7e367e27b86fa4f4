"""KYC checks: each a pure function returning a named ``CheckResult`` (pass / fail / review).

``reason`` is a stable snake_case code safe for the audit trail (no personal data); ``detail``
is for the officer's screen and may mention dates or list entries, so it is not for logs.

Choices, documented here because they are policy:

- **Document expiry**: valid through its expiry date; expired the day after.
- **Age**: reached on the birthday; someone born on 29 February becomes a year older on
  1 March in common years (the later of the usual conventions, so never approved early).
- **Country risk** (FATF lists in ``kyc/data/fatf.json``): nationality or residence in a
  jurisdiction under a FATF call for **countermeasures** (DPRK, Iran) -> ``fail``: FATF asks
  members to limit business relationships with them, and onboarding is a new one. Under a call
  for **enhanced due diligence** (Myanmar) or under **increased monitoring** (the grey list) ->
  ``review``: enhanced due diligence by an officer, never automatic approval (FATF itself warns
  against de-risking whole countries). All three are ``CountryRiskPolicy`` settings.
- **MRZ**: check digits and field forms must verify, and every MRZ field must agree with the
  declared data (names through ICAO transliteration, dates, number, nationality, issuing state,
  document type) -> ``pass``; a wrong check digit -> ``fail`` (damaged or forged zone); a
  disagreement with the declared data -> ``fail``.
- **Screening**: ``hit`` -> ``fail``; ``possible_match`` -> ``review``; ``clear`` -> ``pass``.
- **Name characters**: a name mixing Latin with Cyrillic/Greek letters in one word, or hiding
  invisible characters, -> ``review`` (screening still folds them; the attempt itself matters).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from errors import InvalidValue
from kyc.application import Application
from kyc.countries import is_country
from kyc.mrz import DeclaredIdentity, compare_mrz, parse_mrz
from kyc.names import has_mixed_script_words
from kyc.screening import (
    ScreeningConfig,
    ScreeningOutcome,
    ScreeningResult,
    ScreeningSubject,
    WatchlistIndex,
)

__all__ = [
    "CheckName",
    "CheckResult",
    "CountryRiskPolicy",
    "FatfLists",
    "KycPolicy",
    "Outcome",
    "age_on",
    "check_age",
    "check_country_risk",
    "check_document_expiry",
    "check_mrz",
    "check_name_characters",
    "check_screening",
    "declared_identity",
    "load_fatf_lists",
    "parse_fatf_lists",
    "run_checks",
    "screening_subject",
]


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    REVIEW = "review"


class CheckName(StrEnum):
    MRZ = "mrz"
    DOCUMENT_EXPIRY = "document_expiry"
    AGE = "age"
    COUNTRY_RISK = "country_risk"
    SCREENING = "screening"
    NAME_CHARACTERS = "name_characters"


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: CheckName
    outcome: Outcome
    reason: str  # stable snake_case code, no personal data
    detail: str = ""  # for an officer; may hold personal data


# --- FATF lists -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FatfLists:
    publication_date: date
    countermeasures: frozenset[str]
    enhanced_due_diligence: frozenset[str]
    increased_monitoring: frozenset[str]
    source: str = ""


def _codes(items: object, where: str) -> frozenset[str]:
    if not isinstance(items, list):
        raise InvalidValue(f"{where} must be a list", field=where)
    codes = set()
    for item in items:
        code = item.get("alpha2") if isinstance(item, Mapping) else None
        if not isinstance(code, str) or not is_country(code):
            raise InvalidValue(f"{where}: not an ISO 3166-1 alpha-2 code", field=where)
        codes.add(code)
    return frozenset(codes)


def parse_fatf_lists(data: Mapping[str, Any]) -> FatfLists:
    """Build ``FatfLists`` from the ``kyc/data/fatf.json`` shape."""
    try:
        published = date.fromisoformat(str(data["publication_date"]))
        call = data["call_for_action"]
        return FatfLists(
            publication_date=published,
            countermeasures=_codes(call["countermeasures"], "call_for_action.countermeasures"),
            enhanced_due_diligence=_codes(
                call["enhanced_due_diligence"], "call_for_action.enhanced_due_diligence"
            ),
            increased_monitoring=_codes(data["increased_monitoring"], "increased_monitoring"),
            source=str(data.get("source", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidValue(f"malformed FATF list: {exc}", field="fatf") from exc


def load_fatf_lists(path: Path | None = None) -> FatfLists:
    """The FATF lists shipped in ``kyc/data/fatf.json`` (or another file of that shape)."""
    if path is None:
        text = resources.files("kyc").joinpath("data/fatf.json").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return parse_fatf_lists(json.loads(text))


@dataclass(frozen=True, slots=True)
class CountryRiskPolicy:
    countermeasures: Outcome = Outcome.FAIL
    enhanced_due_diligence: Outcome = Outcome.REVIEW
    increased_monitoring: Outcome = Outcome.REVIEW
    extra_high_risk: frozenset[str] = frozenset()  # the institution's own additions -> review


@dataclass(frozen=True, slots=True)
class KycPolicy:
    minimum_age: int = 18
    country_risk: CountryRiskPolicy = field(default_factory=CountryRiskPolicy)
    screening: ScreeningConfig = field(default_factory=ScreeningConfig)


# --- helpers --------------------------------------------------------------------------------------


def age_on(birthdate: date, today: date) -> int:
    """Completed years on ``today``; a 29 February birthday falls on 1 March in common years."""
    years = today.year - birthdate.year
    try:
        birthday = birthdate.replace(year=today.year)
    except ValueError:  # 29 February in a common year
        birthday = date(today.year, 3, 1)
    return years - 1 if today < birthday else years


def declared_identity(application: Application) -> DeclaredIdentity:
    return DeclaredIdentity(
        family_names=application.family_names,
        given_names=application.given_names,
        birthdate=application.birthdate,
        document_number=application.document.number,
        expiry_date=application.document.expiry_date,
        nationality=application.nationality,
        issuing_state=application.document.issuing_country,
        document_type=application.document.type.value,
    )


def screening_subject(application: Application) -> ScreeningSubject:
    """What screening needs of an application: both name orders, birth date, countries."""
    return ScreeningSubject(
        names=(application.full_name,),
        birthdate=application.birthdate,
        countries=tuple(dict.fromkeys((application.nationality, application.residence_country))),
    )


# --- checks ---------------------------------------------------------------------------------------


def check_mrz(mrz_lines: tuple[str, ...], declared: DeclaredIdentity) -> CheckResult:
    """MRZ check digits verify and every MRZ field agrees with the declared data."""
    mrz = parse_mrz(list(mrz_lines))
    if not mrz.valid:
        failed = [*mrz.failed_checks, *mrz.problems]
        return CheckResult(
            CheckName.MRZ, Outcome.FAIL, "mrz_check_digit_invalid", "failed: " + ", ".join(failed)
        )
    mismatches = [c for c in compare_mrz(mrz, declared) if not c.ok]
    if mismatches:
        return CheckResult(
            CheckName.MRZ,
            Outcome.FAIL,
            "mrz_mismatch",
            "differs from declared: " + ", ".join(c.field for c in mismatches),
        )
    return CheckResult(CheckName.MRZ, Outcome.PASS, "mrz_valid", f"{mrz.format} verified")


def check_document_expiry(expiry_date: date, today: date) -> CheckResult:
    if expiry_date < today:
        return CheckResult(
            CheckName.DOCUMENT_EXPIRY, Outcome.FAIL, "document_expired", f"expired {expiry_date}"
        )
    return CheckResult(CheckName.DOCUMENT_EXPIRY, Outcome.PASS, "document_valid")


def check_age(birthdate: date, today: date, *, minimum_age: int = 18) -> CheckResult:
    if birthdate > today:
        return CheckResult(CheckName.AGE, Outcome.FAIL, "birthdate_in_future")
    age = age_on(birthdate, today)
    if age < minimum_age:
        return CheckResult(
            CheckName.AGE, Outcome.FAIL, "under_minimum_age", f"age {age} < {minimum_age}"
        )
    return CheckResult(CheckName.AGE, Outcome.PASS, "minimum_age_reached")


def check_country_risk(
    nationality: str,
    residence_country: str,
    fatf: FatfLists,
    policy: CountryRiskPolicy | None = None,
) -> CheckResult:
    policy = policy or CountryRiskPolicy()
    countries = {nationality, residence_country}
    tiers = (
        (fatf.countermeasures, policy.countermeasures, "fatf_call_for_countermeasures"),
        (fatf.enhanced_due_diligence, policy.enhanced_due_diligence, "fatf_call_for_edd"),
        (fatf.increased_monitoring, policy.increased_monitoring, "fatf_increased_monitoring"),
        (policy.extra_high_risk, Outcome.REVIEW, "institution_high_risk_country"),
    )
    worst: CheckResult | None = None
    rank = {Outcome.PASS: 0, Outcome.REVIEW: 1, Outcome.FAIL: 2}
    for listed, outcome, reason in tiers:
        found = sorted(countries & listed)
        if found and (worst is None or rank[outcome] > rank[worst.outcome]):
            detail = f"{', '.join(found)} (FATF lists of {fatf.publication_date})"
            worst = CheckResult(CheckName.COUNTRY_RISK, outcome, reason, detail)
    return worst or CheckResult(CheckName.COUNTRY_RISK, Outcome.PASS, "no_listed_country")


def check_screening(result: ScreeningResult) -> CheckResult:
    detail = "; ".join(
        f"{m.entry.list_name}:{m.entry.id} {m.score:.0f} ({m.matched_name})" for m in result.matches
    )
    if result.outcome is ScreeningOutcome.HIT:
        return CheckResult(CheckName.SCREENING, Outcome.FAIL, "watchlist_hit", detail)
    if result.outcome is ScreeningOutcome.POSSIBLE_MATCH:
        return CheckResult(CheckName.SCREENING, Outcome.REVIEW, "watchlist_possible_match", detail)
    lists = ", ".join(f"{name}@{version}" for name, version in result.lists)
    return CheckResult(CheckName.SCREENING, Outcome.PASS, "watchlist_clear", lists)


def check_name_characters(given_names: str, family_names: str) -> CheckResult:
    if has_mixed_script_words(given_names) or has_mixed_script_words(family_names):
        return CheckResult(CheckName.NAME_CHARACTERS, Outcome.REVIEW, "mixed_script_name")
    return CheckResult(CheckName.NAME_CHARACTERS, Outcome.PASS, "single_script_name")


def run_checks(
    application: Application,
    *,
    today: date,
    watchlist: WatchlistIndex,
    fatf: FatfLists,
    policy: KycPolicy | None = None,
) -> tuple[CheckResult, ...]:
    """Every check for an application. The MRZ check runs only when MRZ lines were given."""
    policy = policy or KycPolicy()
    results = []
    if application.document.mrz is not None:
        results.append(check_mrz(application.document.mrz, declared_identity(application)))
    results += [
        check_document_expiry(application.document.expiry_date, today),
        check_age(application.birthdate, today, minimum_age=policy.minimum_age),
        check_country_risk(
            application.nationality, application.residence_country, fatf, policy.country_risk
        ),
        check_name_characters(application.given_names, application.family_names),
        check_screening(watchlist.screen(screening_subject(application), policy.screening)),
    ]
    return tuple(results)
