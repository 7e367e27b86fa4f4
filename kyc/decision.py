"""Combine check results into a KYC decision, and re-screen approved clients.

Decision rule (fail closed):

1. any check ``fail`` -> ``rejected``, level 0;
2. else any check ``review`` -> ``manual_review``, level 0 (an officer decides; ``kyc_level``
   gives the level to record if the officer approves);
3. else a required check that did not run (``DecisionPolicy.required``: document expiry, age,
   country risk and screening by default, since no one is approved unscreened) ->
   ``manual_review`` with ``missing_check_<name>``;
4. else ``approved`` at the level the passed checks reach.

KYC levels are cumulative:

- **1, basic identity**: document not expired, minimum age, country risk acceptable;
- **2, document verified**: level 1 and the MRZ verified (check digits, and every field
  agreeing with the declared data);
- **3, screened**: level 2 and screening clear.

With screening required (the default) an approved client is at level 1 (no MRZ given) or 3;
level 2 appears only under a policy that approves without screening.

Reasons are the check reason codes (no personal data), so a decision can go to the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from kyc.checks import CheckName, CheckResult, Outcome
from kyc.screening import (
    ScreeningConfig,
    ScreeningOutcome,
    ScreeningResult,
    ScreeningSubject,
    WatchlistIndex,
)

__all__ = [
    "ClientScreeningInput",
    "Decision",
    "DecisionOutcome",
    "DecisionPolicy",
    "KycLevel",
    "RescreeningAction",
    "RescreeningFinding",
    "decide",
    "kyc_level",
    "rescreen",
]


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    MANUAL_REVIEW = "manual_review"


class KycLevel(IntEnum):
    NONE = 0
    BASIC = 1
    DOCUMENT_VERIFIED = 2
    SCREENED = 3


_BASIC = frozenset({CheckName.DOCUMENT_EXPIRY, CheckName.AGE, CheckName.COUNTRY_RISK})


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    required: frozenset[CheckName] = field(default_factory=lambda: _BASIC | {CheckName.SCREENING})


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: DecisionOutcome
    kyc_level: KycLevel
    reasons: tuple[str, ...]


def kyc_level(results: Iterable[CheckResult]) -> KycLevel:
    """The level the passed checks reach (ignores failed and review checks)."""
    passed = {r.name for r in results if r.outcome is Outcome.PASS}
    if not _BASIC.issubset(passed):
        return KycLevel.NONE
    if CheckName.MRZ not in passed:
        return KycLevel.BASIC
    if CheckName.SCREENING not in passed:
        return KycLevel.DOCUMENT_VERIFIED
    return KycLevel.SCREENED


def decide(results: Iterable[CheckResult], policy: DecisionPolicy | None = None) -> Decision:
    """Apply the decision rule in the module docstring."""
    policy = policy or DecisionPolicy()
    results = tuple(results)
    failed = tuple(r.reason for r in results if r.outcome is Outcome.FAIL)
    review = tuple(r.reason for r in results if r.outcome is Outcome.REVIEW)
    if failed:
        return Decision(DecisionOutcome.REJECTED, KycLevel.NONE, failed + review)
    if review:
        return Decision(DecisionOutcome.MANUAL_REVIEW, KycLevel.NONE, review)
    ran = {r.name for r in results}
    missing = tuple(f"missing_check_{name}" for name in sorted(policy.required - ran))
    if missing:
        return Decision(DecisionOutcome.MANUAL_REVIEW, KycLevel.NONE, missing)
    level = kyc_level(results)
    if level is KycLevel.NONE:
        return Decision(DecisionOutcome.MANUAL_REVIEW, level, ("no_basic_identity",))
    return Decision(DecisionOutcome.APPROVED, level, tuple(r.reason for r in results))


# --- re-screening ---------------------------------------------------------------------------------


class RescreeningAction(StrEnum):
    SUSPEND = "suspend"  # a hit: suspend the client and their credentials
    REVIEW = "review"  # a possible match: an officer looks


@dataclass(frozen=True, slots=True)
class ClientScreeningInput:
    """An approved client as screening sees them (the lead keeps these encrypted at rest)."""

    client_id: str
    subject: ScreeningSubject


@dataclass(frozen=True, slots=True)
class RescreeningFinding:
    client_id: str
    action: RescreeningAction
    result: ScreeningResult


def rescreen(
    clients: Iterable[ClientScreeningInput],
    index: WatchlistIndex,
    *,
    config: ScreeningConfig | None = None,
    dismissed: Mapping[str, frozenset[str]] | None = None,
) -> Iterator[RescreeningFinding]:
    """Screen approved clients against a new list version; yield those that now match.

    ``dismissed`` maps a client id to entry ids an officer already judged false positives for
    that client; matches on them alone do not produce a finding again.
    """
    dismissed = dismissed or {}
    for client in clients:
        result = index.screen(client.subject, config)
        if result.outcome is ScreeningOutcome.CLEAR:
            continue
        ignored = dismissed.get(client.client_id, frozenset())
        live = tuple(m for m in result.matches if m.entry.id not in ignored)
        if not live:
            continue
        if any(m.outcome is ScreeningOutcome.HIT for m in live):
            action, outcome = RescreeningAction.SUSPEND, ScreeningOutcome.HIT
        else:
            action, outcome = RescreeningAction.REVIEW, ScreeningOutcome.POSSIBLE_MATCH
        yield RescreeningFinding(
            client.client_id, action, ScreeningResult(outcome, live, result.lists)
        )
