"""Decision rules, KYC levels, and re-screening approved clients against a new list version."""

from __future__ import annotations

from datetime import date

from kyc.checks import CheckName, CheckResult, Outcome
from kyc.decision import (
    ClientScreeningInput,
    DecisionOutcome,
    DecisionPolicy,
    KycLevel,
    RescreeningAction,
    decide,
    kyc_level,
    rescreen,
)
from kyc.screening import ScreeningSubject, WatchlistEntry, WatchlistIndex


def _r(name: CheckName, outcome: Outcome = Outcome.PASS, reason: str = "") -> CheckResult:
    return CheckResult(name, outcome, reason or f"{name}_{outcome}")


BASIC = [_r(CheckName.DOCUMENT_EXPIRY), _r(CheckName.AGE), _r(CheckName.COUNTRY_RISK)]


def test_all_passed_with_mrz_is_level_3() -> None:
    decision = decide([*BASIC, _r(CheckName.MRZ), _r(CheckName.SCREENING)])
    assert decision.outcome is DecisionOutcome.APPROVED
    assert decision.kyc_level is KycLevel.SCREENED


def test_all_passed_without_mrz_is_level_1() -> None:
    decision = decide([*BASIC, _r(CheckName.SCREENING)])
    assert (decision.outcome, decision.kyc_level) == (DecisionOutcome.APPROVED, KycLevel.BASIC)


def test_level_2_only_when_screening_is_not_required() -> None:
    policy = DecisionPolicy(
        required=frozenset({CheckName.DOCUMENT_EXPIRY, CheckName.AGE, CheckName.COUNTRY_RISK})
    )
    decision = decide([*BASIC, _r(CheckName.MRZ)], policy)
    assert decision.kyc_level is KycLevel.DOCUMENT_VERIFIED


def test_any_fail_rejects_with_all_reasons() -> None:
    decision = decide(
        [
            *BASIC,
            _r(CheckName.SCREENING, Outcome.FAIL, "watchlist_hit"),
            _r(CheckName.NAME_CHARACTERS, Outcome.REVIEW, "mixed_script_name"),
        ]
    )
    assert decision.outcome is DecisionOutcome.REJECTED
    assert decision.kyc_level is KycLevel.NONE
    assert decision.reasons == ("watchlist_hit", "mixed_script_name")


def test_review_without_fail_goes_to_an_officer() -> None:
    decision = decide([*BASIC, _r(CheckName.SCREENING, Outcome.REVIEW, "watchlist_possible_match")])
    assert decision.outcome is DecisionOutcome.MANUAL_REVIEW
    assert decision.reasons == ("watchlist_possible_match",)


def test_a_missing_required_check_never_approves() -> None:
    decision = decide(BASIC)  # screening never ran
    assert decision.outcome is DecisionOutcome.MANUAL_REVIEW
    assert decision.reasons == ("missing_check_screening",)
    assert decide([]).outcome is DecisionOutcome.MANUAL_REVIEW


def test_kyc_level_for_an_officer_approval_counts_only_passed_checks() -> None:
    results = [*BASIC, _r(CheckName.MRZ), _r(CheckName.SCREENING, Outcome.REVIEW)]
    assert kyc_level(results) is KycLevel.DOCUMENT_VERIFIED
    assert kyc_level([_r(CheckName.AGE)]) is KycLevel.NONE


def _entry(id_: str, name: str, born: str, version: str) -> WatchlistEntry:
    return WatchlistEntry(
        id=id_,
        name=name,
        birth_dates=(born,),
        nationalities=("SE",),
        list_name="sample",
        list_version=version,
    )


ANNA = ScreeningSubject(("Anna Maria Eriksson",), date(1974, 8, 12), ("SE",))
CLIENTS = [
    ClientScreeningInput("c-1", ANNA),
    ClientScreeningInput("c-2", ScreeningSubject(("Lars Nilsson",), date(1980, 1, 1), ("SE",))),
    ClientScreeningInput("c-3", ScreeningSubject(("Karin Berg",), None, ())),
]


def test_rescreening_finds_clients_who_now_hit() -> None:
    old = WatchlistIndex([_entry("e-1", "Peter Jones", "1960-01-01", "v1")])
    assert list(rescreen(CLIENTS, old)) == []
    new = WatchlistIndex(
        [
            _entry("e-1", "Peter Jones", "1960-01-01", "v2"),
            _entry("e-2", "Eriksson, Anna Maria", "1974-08-12", "v2"),
            _entry("e-3", "Karin Berg", "1955-05-05", "v2"),
        ]
    )
    findings = {f.client_id: f for f in rescreen(CLIENTS, new)}
    assert set(findings) == {"c-1", "c-3"}
    assert findings["c-1"].action is RescreeningAction.SUSPEND
    assert findings["c-1"].result.matched_entry_ids == {"e-2"}
    assert findings["c-1"].result.lists == (("sample", "v2"),)
    assert findings["c-3"].action is RescreeningAction.REVIEW  # a name alone: an officer looks


def test_rescreening_ignores_matches_an_officer_dismissed() -> None:
    new = WatchlistIndex([_entry("e-3", "Karin Berg", "1955-05-05", "v2")])
    dismissed = {"c-3": frozenset({"e-3"})}
    assert list(rescreen(CLIENTS, new, dismissed=dismissed)) == []
