"""KYC onboarding on a node: intake, checks, decisions, reviews, re-screening, erasure.

The rules are in ``kyc/`` (pure functions); this module runs them against the store. Personal
data is sealed per applicant (``storage.pii``); the clear columns and the audit trail hold ids,
statuses, check names and outcomes, KYC levels and watchlist entry ids only.

Statuses: ``approved``, ``rejected``, ``manual_review`` (after intake), ``suspended`` (an approved
client hit by re-screening), plus ``restricted_at`` / ``erased_at`` marks.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import errors
from credentials.jose import sign_compact
from identity.multikey import multikey_from_public_key
from kyc.application import Application, parse_application
from kyc.checks import (
    CheckResult,
    FatfLists,
    KycPolicy,
    load_fatf_lists,
    run_checks,
    screening_subject,
)
from kyc.decision import (
    ClientScreeningInput,
    DecisionOutcome,
    KycLevel,
    RescreeningAction,
    decide,
    rescreen,
)
from kyc.screening import WatchlistEntry, WatchlistIndex
from node.events import Event
from storage import AuditEvent
from storage.records import KycApplicationRow

if TYPE_CHECKING:
    from node import Node

__all__ = [
    "ApprovedClaims",
    "KycService",
    "Status",
]

RETENTION = timedelta(days=5 * 365 + 1)  # AML record keeping: 5 years after the relationship


class Status:
    APPROVED = "approved"
    REJECTED = "rejected"
    MANUAL_REVIEW = "manual_review"
    SUSPENDED = "suspended"


class NotApproved(errors.Conflict):
    code = "application_not_approved"


class ProcessingRestricted(errors.Conflict):
    code = "processing_restricted"


@dataclass(frozen=True, slots=True)
class ApprovedClaims:
    """What a KYC credential may say about an approved client (for issuance)."""

    application_id: str
    holder_did: str
    kyc_level: int
    verified_at: str  # when the decision was made (UTC, ISO 8601)
    given_name: str
    family_name: str
    birthdate: date
    nationality: str  # ISO 3166-1 alpha-2
    residence_country: str  # ISO 3166-1 alpha-2
    document_type: str  # passport | id_card
    broker_key_id: int  # the broker (API key) that onboarded the client


def _pii(application: Application) -> dict[str, Any]:
    return {
        "given_names": application.given_names,
        "family_names": application.family_names,
        "birthdate": application.birthdate.isoformat(),
        "nationality": application.nationality,
        "residence_country": application.residence_country,
        "address": {
            "street": application.address.street,
            "city": application.address.city,
            "postal_code": application.address.postal_code,
            "country": application.address.country,
        },
        "document": {
            "type": str(application.document.type),
            "number": application.document.number,
            "issuing_country": application.document.issuing_country,
            "expiry_date": application.document.expiry_date.isoformat(),
            "mrz": list(application.document.mrz) if application.document.mrz else None,
        },
        "consent": {
            "text_version": application.consent.text_version,
            "given_at": application.consent.given_at.isoformat(),
        },
    }


def _check_json(result: CheckResult, *, with_detail: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"name": str(result.name), "outcome": str(result.outcome),
                            "reason": result.reason}
    if with_detail and result.detail:
        body["detail"] = result.detail
    return body


class KycService:
    """One node's onboarding. Thread-safe; screening uses an index rebuilt on list imports."""

    def __init__(self, node: Node, *, policy: KycPolicy | None = None,
                 fatf: FatfLists | None = None) -> None:
        self.node = node
        self.policy = policy or KycPolicy()
        self.fatf = fatf or load_fatf_lists()
        self._index: WatchlistIndex | None = None
        self._index_lock = threading.Lock()

    # --- watchlists -----------------------------------------------------------------------------

    def index(self) -> WatchlistIndex:
        with self._index_lock:
            if self._index is None:
                entries = [_entry_from_json(data) for data in
                           self.node.store.watchlist_entry_data()]
                self._index = WatchlistIndex(entries)
            return self._index

    def import_watchlist(
        self, source: str, version: str, published: str | None,
        entries: Iterable[WatchlistEntry], actor: str,
    ) -> tuple[int, list[str]]:
        """Store a new list version and re-screen every approved client against all active
        lists. A new hit suspends the client (and, through the event, their credentials).
        Returns ``(entries stored, ids of clients suspended)``."""
        list_id = f"{source}:{version}"
        now = self.node.now()
        with self.node.store.transaction():
            count = self.node.store.add_watchlist(
                list_id, source, version, published, now,
                ((e.id, json.dumps(_entry_to_json(e), sort_keys=True)) for e in entries),
            )
            self._audit(actor, "watchlist.import", list_id, {"entries": count})
            with self._index_lock:
                self._index = None
            suspended = self._rescreen(actor)
        return count, suspended

    def _rescreen(self, actor: str) -> list[str]:
        index = self.index()
        clients = []
        dismissed: dict[str, frozenset[str]] = {}
        for row in self.node.store.applications_with_status(Status.APPROVED, limit=10**9):
            if row.erased_at or row.sealed_pii is None:
                continue
            application = self._open(row)
            clients.append(ClientScreeningInput(
                client_id=row.id,
                subject=screening_subject(application),
            ))
            dismissed[row.id] = frozenset(row.decision.get("dismissed_matches", []))
        suspended = []
        for finding in rescreen(clients, index, config=self.policy.screening,
                                dismissed=dismissed):
            if finding.action is RescreeningAction.SUSPEND:
                self._set_status(finding.client_id, Status.SUSPENDED, actor, "rescreening_hit",
                                 {"matches": sorted(finding.result.matched_entry_ids)})
                self.node.events.publish(Event.CLIENT_SUSPENDED,
                                         application_id=finding.client_id)
                suspended.append(finding.client_id)
            else:
                self._set_status(finding.client_id, Status.MANUAL_REVIEW, actor,
                                 "rescreening_possible_match",
                                 {"matches": sorted(finding.result.matched_entry_ids)})
        return suspended

    # --- intake ---------------------------------------------------------------------------------

    def submit(self, body: dict[str, Any], broker_key_id: int, actor: str,
               idempotency_key: str | None) -> tuple[KycApplicationRow, bool]:
        """Validate, check, decide and store an application. Returns ``(row, created)``; a
        retry with the same idempotency key returns the first result (``created`` False)."""
        request_hash = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        if idempotency_key is not None:
            existing = self.node.store.find_application(broker_key_id, idempotency_key)
            if existing is not None:
                if existing.request_hash != request_hash:
                    raise errors.IdempotencyConflict(
                        "this Idempotency-Key was used for a different request"
                    )
                return existing, False
        today = self.node.clock().date()
        application = parse_application(body, today=today)
        results = run_checks(application, today=today, watchlist=self.index(), fatf=self.fatf,
                             policy=self.policy)
        decision = decide(results)
        application_id = "app_" + secrets.token_urlsafe(12)
        now = self.node.now()
        with self.node.store.transaction():
            if idempotency_key is not None:  # a concurrent twin may have won meanwhile
                existing = self.node.store.find_application(broker_key_id, idempotency_key)
                if existing is not None:
                    return existing, False
            wrapped, sealed = self.node.vault.seal_new(application_id, {
                "application": _pii(application),
                "checks": [_check_json(r, with_detail=True) for r in results],
            })
            row = KycApplicationRow(
                id=application_id, broker_key_id=broker_key_id, idempotency_key=idempotency_key,
                request_hash=request_hash, status=str(decision.outcome),
                holder_did=application.holder_did,
                kyc_level=int(decision.kyc_level) or None,
                decision={
                    "outcome": str(decision.outcome),
                    "reasons": list(decision.reasons),
                    "checks": [_check_json(r, with_detail=False) for r in results],
                    "decided_at": now,
                    "decided_by": "rules",
                },
                sealed_pii=sealed, created_at=now, updated_at=now,
                relationship_ended_at=now if decision.outcome is DecisionOutcome.REJECTED
                else None,
            )
            self.node.store.add_application(row)
            self.node.vault.store_key(application_id, wrapped)
            self._audit(actor, "kyc.submitted", application_id, {
                "status": row.status, "kyc_level": row.kyc_level,
                "checks": {c["name"]: c["outcome"] for c in row.decision["checks"]},
            })
        return row, True

    # --- reading --------------------------------------------------------------------------------

    def get(self, application_id: str, *, broker_key_id: int | None) -> KycApplicationRow:
        """The application; a broker sees only its own (others are "not found", not "forbidden",
        so ids cannot be probed)."""
        row = self.node.store.get_application(application_id)
        if row is None or (broker_key_id is not None and row.broker_key_id != broker_key_id):
            raise errors.NotFound(f"no application {application_id!r}")
        return row

    def view(self, row: KycApplicationRow) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": row.id, "status": row.status, "kyc_level": row.kyc_level,
            "holder_did": row.holder_did, "decision": row.decision,
            "created_at": row.created_at, "updated_at": row.updated_at,
            "relationship_ended_at": row.relationship_ended_at,
            "restricted": row.restricted_at is not None, "erased": row.erased_at is not None,
        }
        if row.erased_at is None and row.sealed_pii is not None:
            sealed = self.node.vault.open(row.id, row.sealed_pii)
            body["applicant"] = sealed["application"]
            body["checks"] = sealed["checks"]
        return body

    def _open(self, row: KycApplicationRow) -> Application:
        return _application_from_pii(self._sealed_application(row), row.holder_did)

    def _sealed_application(self, row: KycApplicationRow) -> dict[str, Any]:
        """The applicant's data as sealed at intake (or rectification), opened."""
        if row.sealed_pii is None:
            raise errors.NotFound(f"the personal data of {row.id} has been erased")
        sealed: dict[str, Any] = self.node.vault.open(row.id, row.sealed_pii)["application"]
        return sealed

    def approved_status(self, application_id: str) -> KycApplicationRow:
        """The application of an approved, unrestricted client; refused otherwise."""
        row = self.node.store.get_application(application_id)
        if row is None:
            raise errors.NotFound(f"no application {application_id!r}")
        if row.status != Status.APPROVED:
            raise NotApproved(f"application {application_id} is {row.status}, not approved")
        if row.restricted_at is not None or row.erased_at is not None:
            raise ProcessingRestricted(f"processing of {application_id} is restricted")
        return row

    def approved_claims(self, application_id: str) -> ApprovedClaims:
        """The claims a KYC credential may carry, for an approved, unrestricted client."""
        row = self.approved_status(application_id)
        # Validated when it was taken in (or rectified) and sealed with an AEAD since: read
        # back, not validated again on every issuance.
        pii = self._sealed_application(row)
        return ApprovedClaims(
            application_id=row.id, holder_did=row.holder_did, kyc_level=int(row.kyc_level or 0),
            verified_at=str(row.decision.get("decided_at", row.updated_at)),
            given_name=pii["given_names"], family_name=pii["family_names"],
            birthdate=date.fromisoformat(pii["birthdate"]), nationality=pii["nationality"],
            residence_country=pii["residence_country"], document_type=pii["document"]["type"],
            broker_key_id=row.broker_key_id,
        )

    # --- officers -------------------------------------------------------------------------------

    def review_queue(self) -> list[KycApplicationRow]:
        return self.node.store.applications_with_status(Status.MANUAL_REVIEW)

    def resolve(self, application_id: str, approve: bool, reason: str, actor: str) -> \
            KycApplicationRow:
        row = self.get(application_id, broker_key_id=None)
        if row.status not in (Status.MANUAL_REVIEW, Status.SUSPENDED):
            raise errors.Conflict(f"application {application_id} is {row.status}: nothing to "
                                  "resolve")
        if row.erased_at is not None:
            raise ProcessingRestricted(f"the data of {application_id} has been erased")
        was_suspended = row.status == Status.SUSPENDED
        with self.node.store.transaction():
            if approve:
                level = row.kyc_level or int(KycLevel.BASIC)
                decision = {**row.decision, "outcome": "approved", "decided_at": self.node.now(),
                            "decided_by": actor, "officer_reason": reason,
                            "dismissed_matches": sorted(
                                set(row.decision.get("dismissed_matches", []))
                                | set(row.decision.get("matches", [])))}
                self.node.store.update_application(
                    row.id, status=Status.APPROVED, kyc_level=level, decision=decision,
                    updated_at=self.node.now())
                self._audit(actor, "kyc.approved", row.id, {"kyc_level": level,
                                                            "by": "officer"})
                if was_suspended:
                    self.node.events.publish(Event.CLIENT_REINSTATED, application_id=row.id)
            else:
                decision = {**row.decision, "outcome": "rejected", "decided_at": self.node.now(),
                            "decided_by": actor, "officer_reason": reason}
                self.node.store.update_application(
                    row.id, status=Status.REJECTED, decision=decision, kyc_level=None,
                    updated_at=self.node.now(), relationship_ended_at=self.node.now())
                self._audit(actor, "kyc.rejected", row.id, {"by": "officer"})
                if was_suspended:
                    self.node.events.publish(Event.CLIENT_SUSPENDED, application_id=row.id)
        return self.get(application_id, broker_key_id=None)

    # --- relationship end, erasure, retention ---------------------------------------------------

    def end_relationship(self, application_id: str, broker_key_id: int | None,
                         actor: str) -> KycApplicationRow:
        row = self.get(application_id, broker_key_id=broker_key_id)
        if row.relationship_ended_at is None:
            with self.node.store.transaction():
                self.node.store.update_application(row.id, relationship_ended_at=self.node.now(),
                                                   updated_at=self.node.now())
                self._audit(actor, "kyc.relationship_ended", row.id, {})
                if row.status in (Status.APPROVED, Status.SUSPENDED):
                    self.node.events.publish(Event.CLIENT_SUSPENDED, application_id=row.id)
        return self.get(application_id, broker_key_id=None)

    def request_erasure(self, application_id: str, broker_key_id: int | None,
                        actor: str) -> dict[str, Any]:
        """A client's erasure request: crypto-shred if the retention period is over, otherwise
        restrict processing until it is (GDPR Art. 17(3)(b) / 18 with AML record keeping)."""
        row = self.get(application_id, broker_key_id=broker_key_id)
        now = self.node.clock()
        ended = _parse_time(row.relationship_ended_at) if row.relationship_ended_at else None
        if ended is not None and now >= ended + RETENTION:
            return self.erase(row.id, actor, reason="erasure_request")
        with self.node.store.transaction():
            if row.restricted_at is None:
                self.node.store.update_application(row.id, restricted_at=self.node.now(),
                                                   updated_at=self.node.now())
                self._audit(actor, "kyc.restricted", row.id, {"reason": "erasure_request"})
                if row.status in (Status.APPROVED, Status.SUSPENDED):
                    self.node.events.publish(Event.CLIENT_SUSPENDED, application_id=row.id)
        retained_until = (ended + RETENTION).isoformat() if ended else None
        return {"application_id": row.id, "action": "restricted",
                "retained_until": retained_until,
                "message": "kept for AML record keeping; processing is restricted meanwhile"}

    def erase(self, application_id: str, actor: str, reason: str) -> dict[str, Any]:
        """Crypto-shred an applicant's personal data and return a signed erasure receipt."""
        row = self.get(application_id, broker_key_id=None)
        now = self.node.now()
        with self.node.store.transaction():
            self.node.vault.erase(row.id)
            self.node.store.update_application(row.id, erased_at=now, sealed_pii=None,
                                               updated_at=now)
            self._audit(actor, "kyc.erased", row.id, {"reason": reason})
        self.node.store.compact_after_erasure()
        receipt = {"application_id": row.id, "erased_at": now, "method": "crypto-shredding",
                   "reason": reason, "institution": self.node.institution.did}
        return {"action": "erased", "receipt": self._sign_receipt(receipt)}

    def purge(self, actor: str) -> list[str]:
        """Erase every application whose retention period has ended."""
        now = self.node.clock()
        erased = []
        for status in (Status.APPROVED, Status.REJECTED, Status.MANUAL_REVIEW, Status.SUSPENDED):
            for row in self.node.store.applications_with_status(status, limit=10**9):
                if row.erased_at or not row.relationship_ended_at:
                    continue
                if now >= _parse_time(row.relationship_ended_at) + RETENTION:
                    self.erase(row.id, actor, reason="retention_expired")
                    erased.append(row.id)
        return erased

    def _sign_receipt(self, receipt: dict[str, Any]) -> str:
        key_name = self.node.keyring.current("issuing-ed25519")
        key = self.node.keyring.private_key(key_name)
        kid = f"{self.node.institution.did}#{multikey_from_public_key(key.public_key)}"
        return sign_compact({"alg": "EdDSA", "typ": "erasure-receipt+jwt", "kid": kid},
                            receipt, key)

    # --- helpers --------------------------------------------------------------------------------

    def _set_status(self, application_id: str, status: str, actor: str, reason: str,
                    detail: dict[str, Any]) -> None:
        row = self.get(application_id, broker_key_id=None)
        decision = {**row.decision, "rescreening": {"reason": reason, **detail,
                                                    "at": self.node.now()}}
        if detail.get("matches"):
            decision["matches"] = detail["matches"]
        self.node.store.update_application(application_id, status=status, decision=decision,
                                           updated_at=self.node.now())
        self._audit(actor, f"kyc.{status}", application_id, {"reason": reason, **detail})

    def _audit(self, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
        self.node.store.record_event(AuditEvent(self.node.now(), actor, action, subject, detail))


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _application_from_pii(pii: dict[str, Any], holder_did: str) -> Application:
    body = {
        "given_names": pii["given_names"], "family_names": pii["family_names"],
        "birthdate": pii["birthdate"], "nationality": pii["nationality"],
        "residence_country": pii["residence_country"], "address": pii["address"],
        "document": {k: v for k, v in pii["document"].items() if v is not None},
        "holder_did": holder_did, "consent": pii["consent"],
    }
    return parse_application(body)


def _entry_to_json(entry: WatchlistEntry) -> dict[str, Any]:
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in asdict(entry).items()}


def _entry_from_json(data: str) -> WatchlistEntry:
    value = json.loads(data)
    return WatchlistEntry(**{name: tuple(item) if isinstance(item, list) else item
                             for name, item in value.items()})
