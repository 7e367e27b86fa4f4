"""Each check on its boundaries: expiry, age (birthday today, leap days), country risk, MRZ,
screening and name characters; and run_checks over a whole application."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from kyc.application import parse_application
from kyc.checks import (
    CheckName,
    CountryRiskPolicy,
    FatfLists,
    KycPolicy,
    Outcome,
    age_on,
    check_age,
    check_country_risk,
    check_document_expiry,
    check_mrz,
    check_name_characters,
    declared_identity,
    load_fatf_lists,
    parse_fatf_lists,
    run_checks,
)
from tests.kyc.builders import body, sample_index, td3

TODAY = date(2026, 10, 5)


# --- document expiry ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expiry,outcome",
    [
        (date(2026, 10, 4), Outcome.FAIL),  # expired yesterday
        (date(2026, 10, 5), Outcome.PASS),  # valid through today
        (date(2026, 10, 6), Outcome.PASS),
        (date(2012, 4, 15), Outcome.FAIL),
    ],
)
def test_document_expiry_boundary(expiry: date, outcome: Outcome) -> None:
    result = check_document_expiry(expiry, TODAY)
    assert result.name is CheckName.DOCUMENT_EXPIRY
    assert result.outcome is outcome
    assert result.reason == ("document_valid" if outcome is Outcome.PASS else "document_expired")


# --- age ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "birthdate,today,age",
    [
        (date(2008, 10, 5), date(2026, 10, 5), 18),  # 18th birthday today
        (date(2008, 10, 6), date(2026, 10, 5), 17),  # tomorrow
        (date(2008, 10, 4), date(2026, 10, 5), 18),
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # leap-day birthday, common year
        (date(2008, 2, 29), date(2026, 3, 1), 18),  # ... counts from 1 March
        (date(2008, 2, 29), date(2028, 2, 29), 20),  # leap year: on the day
        (date(2008, 2, 29), date(2028, 2, 28), 19),
        (date(2000, 3, 1), date(2018, 3, 1), 18),
        (date(2000, 2, 29), date(2018, 2, 28), 17),
    ],
)
def test_age_on(birthdate: date, today: date, age: int) -> None:
    assert age_on(birthdate, today) == age


def test_age_check_boundaries() -> None:
    assert check_age(date(2008, 10, 5), TODAY).outcome is Outcome.PASS
    under = check_age(date(2008, 10, 6), TODAY)
    assert (under.outcome, under.reason) == (Outcome.FAIL, "under_minimum_age")
    assert check_age(date(2008, 2, 29), date(2026, 2, 28)).outcome is Outcome.FAIL
    assert check_age(date(2008, 2, 29), date(2026, 3, 1)).outcome is Outcome.PASS
    future = check_age(date(2030, 1, 1), TODAY)
    assert (future.outcome, future.reason) == (Outcome.FAIL, "birthdate_in_future")


def test_minimum_age_is_configurable() -> None:
    assert check_age(date(2006, 1, 1), TODAY, minimum_age=21).outcome is Outcome.FAIL
    assert check_age(date(2010, 1, 1), TODAY, minimum_age=16).outcome is Outcome.PASS


# --- country risk ---------------------------------------------------------------------------------


def test_shipped_fatf_lists() -> None:
    fatf = load_fatf_lists()
    assert fatf.publication_date == date(2026, 6, 19)
    assert fatf.countermeasures == {"KP", "IR"}
    assert fatf.enhanced_due_diligence == {"MM"}
    assert len(fatf.increased_monitoring) == 22
    assert {"BA", "IQ", "KW", "PG", "VG"} <= fatf.increased_monitoring
    assert not {"DZ", "NA", "ZA", "NG"} & fatf.increased_monitoring  # delisted by June 2026


@pytest.mark.parametrize(
    "nationality,residence,outcome,reason",
    [
        ("SE", "SE", Outcome.PASS, "no_listed_country"),
        ("IR", "SE", Outcome.FAIL, "fatf_call_for_countermeasures"),
        ("SE", "KP", Outcome.FAIL, "fatf_call_for_countermeasures"),
        ("MM", "SE", Outcome.REVIEW, "fatf_call_for_edd"),
        ("SE", "MC", Outcome.REVIEW, "fatf_increased_monitoring"),
        ("VG", "IR", Outcome.FAIL, "fatf_call_for_countermeasures"),  # the worst wins
    ],
)
def test_country_risk(nationality: str, residence: str, outcome: Outcome, reason: str) -> None:
    result = check_country_risk(nationality, residence, load_fatf_lists())
    assert (result.outcome, result.reason) == (outcome, reason)


def test_country_risk_policy_is_configurable() -> None:
    fatf = load_fatf_lists()
    lenient = CountryRiskPolicy(countermeasures=Outcome.REVIEW)
    assert check_country_risk("IR", "SE", fatf, lenient).outcome is Outcome.REVIEW
    own = CountryRiskPolicy(extra_high_risk=frozenset({"SE"}))
    assert check_country_risk("SE", "SE", fatf, own).reason == "institution_high_risk_country"


def test_malformed_fatf_data_is_refused() -> None:
    from errors import InvalidInput

    good = {
        "publication_date": "2026-06-19",
        "call_for_action": {"countermeasures": [], "enhanced_due_diligence": []},
        "increased_monitoring": [{"alpha2": "MC"}],
    }
    assert isinstance(parse_fatf_lists(good), FatfLists)
    for bad in (
        {**good, "publication_date": "June"},
        {**good, "increased_monitoring": [{"alpha2": "XX"}]},
        {**good, "increased_monitoring": "MC"},
        {"publication_date": "2026-06-19"},
    ):
        with pytest.raises(InvalidInput):
            parse_fatf_lists(bad)


# --- MRZ ------------------------------------------------------------------------------------------


def test_mrz_check_passes_for_a_consistent_document() -> None:
    application = parse_application(body())
    result = check_mrz(application.document.mrz or (), declared_identity(application))
    assert (result.outcome, result.reason) == (Outcome.PASS, "mrz_valid")


def test_mrz_check_fails_on_a_check_digit() -> None:
    application = parse_application(body())
    lines = list(application.document.mrz or ())
    lines[1] = lines[1][:19] + str((int(lines[1][19]) + 1) % 10) + lines[1][20:]
    result = check_mrz(tuple(lines), declared_identity(application))
    assert (result.outcome, result.reason) == (Outcome.FAIL, "mrz_check_digit_invalid")
    assert "birth_date" in result.detail


def test_mrz_check_fails_when_it_disagrees_with_the_declaration() -> None:
    application = parse_application(body())
    declared = replace(declared_identity(application), birthdate=date(1974, 8, 13))
    result = check_mrz(application.document.mrz or (), declared)
    assert (result.outcome, result.reason) == (Outcome.FAIL, "mrz_mismatch")
    assert result.detail == "differs from declared: birth_date"


# --- name characters ------------------------------------------------------------------------------


def test_name_characters() -> None:
    assert check_name_characters("Anna", "Eriksson").outcome is Outcome.PASS
    assert check_name_characters("Анна", "Эрикссон").outcome is Outcome.PASS
    mixed = check_name_characters("Аnna", "Eriksson")  # Cyrillic А
    assert (mixed.outcome, mixed.reason) == (Outcome.REVIEW, "mixed_script_name")


# --- all together ---------------------------------------------------------------------------------


def _run(**overrides: object) -> dict[CheckName, object]:
    application = parse_application(body(**overrides))
    results = run_checks(application, today=TODAY, watchlist=sample_index(), fatf=load_fatf_lists())
    return {r.name: r for r in results}


def test_run_checks_on_a_clean_application() -> None:
    results = _run()
    assert set(results) == set(CheckName)
    assert all(r.outcome is Outcome.PASS for r in results.values())


def test_run_checks_skips_mrz_when_none_was_given() -> None:
    document = dict(body()["document"])
    del document["mrz"]
    assert CheckName.MRZ not in _run(document=document)


def test_run_checks_catches_a_listed_applicant() -> None:
    document = dict(body()["document"])
    document["mrz"] = td3(
        "Sidorenko", "Ivan", "AB1234567", "SWE", date(1961, 3, 4), "M", date(2032, 4, 15)
    )
    results = _run(
        given_names="Ivan", family_names="Sidorenko", birthdate="1961-03-04", document=document
    )
    assert results[CheckName.MRZ].outcome is Outcome.PASS
    assert results[CheckName.SCREENING].outcome is Outcome.FAIL
    assert results[CheckName.SCREENING].reason == "watchlist_hit"
    assert "sample-os-0001" in results[CheckName.SCREENING].detail


def test_run_checks_uses_the_policy() -> None:
    application = parse_application(body())
    results = run_checks(
        application,
        today=TODAY,
        watchlist=sample_index(),
        fatf=load_fatf_lists(),
        policy=KycPolicy(minimum_age=60),
    )
    age = next(r for r in results if r.name is CheckName.AGE)
    assert age.outcome is Outcome.FAIL
