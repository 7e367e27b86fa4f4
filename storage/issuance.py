"""Storage for issued credentials, status lists and OpenID4VCI state (a part of SqliteStore).

``SqliteStore`` inherits these methods; they use its connection helpers (``_conn`` for reads,
``_writing`` for writes inside ``transaction()``).

No credential and no personal data is stored here: a credential row holds ids, its format, its
status and where that status lives (status group and index). Secrets handed out by OpenID4VCI
(pre-authorized codes, transaction codes, access tokens, nonces) are stored as SHA-256 hashes.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

    import sqlite_utils

__all__ = [
    "CredentialRow",
    "IssuanceStore",
    "OfferRow",
    "StatusGroupRow",
    "StatusListRow",
    "TokenRow",
]


@dataclass(frozen=True, slots=True)
class StatusGroupRow:
    """Status lists sharing one index space: one Token Status List (``ietf``), or a revocation
    and a suspension Bitstring Status List (``w3c``)."""

    id: str
    format: str
    size: int
    allocated: int
    full: int
    created_at: str


@dataclass(frozen=True, slots=True)
class StatusListRow:
    uri: str
    group_id: str
    purpose: str
    bits: int
    data: bytes
    changes: int  # bumped on every change of ``data``
    published_changes: int  # the value of ``changes`` that the published token reflects
    version: int
    token: str | None
    token_sha256: str | None
    registry_index: int | None
    published_at: int | None

    @property
    def pending(self) -> bool:
        return self.changes != self.published_changes


@dataclass(frozen=True, slots=True)
class CredentialRow:
    id: str
    application_id: str
    broker_key_id: int
    format: str
    configuration_id: str
    status: str
    suspended_by: str | None
    status_reason: str | None
    group_id: str
    status_idx: int
    holder_jkt: str
    issuer_kid: str
    issued_at: str
    expires_at: str
    updated_at: str


_CREDENTIAL_COLUMNS = tuple(field.name for field in fields(CredentialRow))
_credential_values = operator.attrgetter(*_CREDENTIAL_COLUMNS)


@dataclass(frozen=True, slots=True)
class OfferRow:
    id: str
    application_id: str
    broker_key_id: int
    code_hash: str
    tx_code_hash: str | None
    configuration_ids: list[str]
    created_at: str
    expires_at: int
    redeemed_at: str | None
    failed_attempts: int


@dataclass(frozen=True, slots=True)
class TokenRow:
    token_hash: str
    offer_id: str
    expires_at: int
    issued: list[str]


_PURGE_INTERVAL = 60  # seconds between deletions of expired nonces and tokens


def _list_row(row: dict[str, Any]) -> StatusListRow:
    return StatusListRow(**{**row, "data": bytes(row["data"])})


class IssuanceStore:
    """Credential, status-list and OpenID4VCI tables (migration 5)."""

    if TYPE_CHECKING:  # provided by SqliteStore

        def _conn(self) -> sqlite3.Connection: ...
        def _writing(self) -> sqlite_utils.Database: ...
        def _insert(self, table: str, values: Mapping[str, Any]) -> None: ...
        def _insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None: ...
        def _insert_values(
            self, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
        ) -> None: ...
        def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
        @property
        def db(self) -> sqlite_utils.Database: ...

    def in_transaction(self) -> bool:
        """True inside ``transaction()`` on this thread."""
        return getattr(self._local, "depth", 0) > 0  # type: ignore[attr-defined]

    # --- status groups and lists ----------------------------------------------------------------

    def open_status_group(self, fmt: str) -> StatusGroupRow | None:
        """The oldest status group of ``fmt`` that still has free indexes."""
        rows = list(
            self._query(
                "SELECT * FROM status_groups WHERE format = ? AND full = 0 "
                "ORDER BY created_at, id LIMIT 1",
                [fmt],
            )
        )
        return StatusGroupRow(**rows[0]) if rows else None

    def get_status_group(self, group_id: str) -> StatusGroupRow | None:
        rows = self._query("SELECT * FROM status_groups WHERE id = ?", [group_id])
        return StatusGroupRow(**rows[0]) if rows else None

    def add_status_group(self, group: StatusGroupRow, lists: list[StatusListRow]) -> None:
        db = self._writing()
        db["status_groups"].insert(asdict(group))
        for status_list in lists:
            db["status_lists"].insert(asdict(status_list))

    def status_index_used(self, group_id: str, index: int) -> bool:
        row = (
            self._conn()
            .execute(
                "SELECT 1 FROM issued_credentials WHERE group_id = ? AND status_idx = ?",
                (group_id, index),
            )
            .fetchone()
        )
        return row is not None

    def status_indexes_taken(self, group_id: str, candidates: Collection[int]) -> set[int]:
        """Which of ``candidates`` are given out in the group (one query for all of them)."""
        if not candidates:
            return set()
        marks = ",".join("?" * len(candidates))
        rows = self._conn().execute(
            "SELECT status_idx FROM issued_credentials "  # noqa: S608 (only ? placeholders)
            f"WHERE group_id = ? AND status_idx IN ({marks})",
            (group_id, *candidates),
        )
        return {int(r[0]) for r in rows}

    def status_indexes(self, group_id: str) -> Iterator[int]:
        rows = self._conn().execute(
            "SELECT status_idx FROM issued_credentials WHERE group_id = ? ORDER BY status_idx",
            (group_id,),
        )
        return (int(r[0]) for r in rows)

    def count_status_allocation(self, group_id: str, full: bool, count: int = 1) -> None:
        self._writing().execute(
            "UPDATE status_groups SET allocated = allocated + ?, full = ? WHERE id = ?",
            [count, int(full), group_id],
        )

    def status_lists_of_group(self, group_id: str) -> list[StatusListRow]:
        return [
            _list_row(r)
            for r in self._query(
                "SELECT * FROM status_lists WHERE group_id = ? ORDER BY purpose", [group_id]
            )
        ]

    def get_status_list(self, uri: str) -> StatusListRow | None:
        rows = self._query("SELECT * FROM status_lists WHERE uri = ?", [uri])
        return _list_row(rows[0]) if rows else None

    def pending_status_lists(self) -> list[str]:
        """URIs of the lists changed since their last publication."""
        rows = self._conn().execute(
            "SELECT uri FROM status_lists WHERE changes != published_changes ORDER BY uri"
        )
        return [r[0] for r in rows]

    def stale_status_lists(self, published_before: int) -> list[str]:
        """URIs of the lists whose published token is older than ``published_before``."""
        rows = self._conn().execute(
            "SELECT uri FROM status_lists WHERE published_at IS NULL OR published_at < ? "
            "ORDER BY uri",
            (published_before,),
        )
        return [r[0] for r in rows]

    def update_status_list_data(self, uri: str, data: bytes) -> None:
        self._writing().execute(
            "UPDATE status_lists SET data = ?, changes = changes + 1 WHERE uri = ?", [data, uri]
        )

    def record_status_publication(
        self,
        uri: str,
        *,
        changes: int,
        version: int,
        token: str,
        token_sha256: str,
        registry_index: int,
        published_at: int,
    ) -> bool:
        """Record a publication unless a newer version is recorded already (another worker
        process may have anchored and recorded a later one meanwhile); True if recorded."""
        cursor = self._writing().execute(
            "UPDATE status_lists SET published_changes = ?, version = ?, token = ?, "
            "token_sha256 = ?, registry_index = ?, published_at = ? WHERE uri = ? AND version < ?",
            [changes, version, token, token_sha256, registry_index, published_at, uri, version],
        )
        return cursor.rowcount == 1

    # --- issued credentials ---------------------------------------------------------------------

    def add_credential(self, row: CredentialRow) -> None:
        self.add_credentials((row,))

    def add_credentials(self, rows: Sequence[CredentialRow]) -> None:
        # Every field is a scalar stored as it is: the values in column order, in one C call per
        # row (``asdict`` deep-copies every field).
        self._insert_values(
            "issued_credentials", _CREDENTIAL_COLUMNS, list(map(_credential_values, rows))
        )

    def get_credential(self, credential_id: str) -> CredentialRow | None:
        rows = self._query("SELECT * FROM issued_credentials WHERE id = ?", [credential_id])
        return CredentialRow(**rows[0]) if rows else None

    def credentials_of_application(self, application_id: str) -> list[CredentialRow]:
        return [
            CredentialRow(**r)
            for r in self._query(
                "SELECT * FROM issued_credentials WHERE application_id = ? ORDER BY issued_at, id",
                [application_id],
            )
        ]

    def update_credential_status(
        self,
        credential_id: str,
        *,
        status: str,
        suspended_by: str | None,
        reason: str | None,
        now: str,
    ) -> None:
        self._writing().execute(
            "UPDATE issued_credentials SET status = ?, suspended_by = ?, status_reason = ?, "
            "updated_at = ? WHERE id = ?",
            [status, suspended_by, reason, now, credential_id],
        )

    # --- OpenID4VCI ----------------------------------------------------------------------------

    def add_offer(self, row: OfferRow) -> None:
        value = asdict(row)
        value["configuration_ids"] = json.dumps(row.configuration_ids)
        self._insert("oid4vci_offers", value)

    def find_offer(self, code_hash: str) -> OfferRow | None:
        rows = self._query("SELECT * FROM oid4vci_offers WHERE code_hash = ?", [code_hash])
        if not rows:
            return None
        return OfferRow(
            **{**rows[0], "configuration_ids": json.loads(rows[0]["configuration_ids"])}
        )

    def get_offer(self, offer_id: str) -> OfferRow | None:
        rows = self._query("SELECT * FROM oid4vci_offers WHERE id = ?", [offer_id])
        if not rows:
            return None
        return OfferRow(
            **{**rows[0], "configuration_ids": json.loads(rows[0]["configuration_ids"])}
        )

    def redeem_offer(self, offer_id: str, now: str) -> bool:
        """Mark the offer's code used; False if it already was (single use)."""
        cursor = self._writing().execute(
            "UPDATE oid4vci_offers SET redeemed_at = ? WHERE id = ? AND redeemed_at IS NULL",
            [now, offer_id],
        )
        return cursor.rowcount == 1

    def count_failed_offer_attempt(self, offer_id: str) -> int:
        self._writing().execute(
            "UPDATE oid4vci_offers SET failed_attempts = failed_attempts + 1 WHERE id = ?",
            [offer_id],
        )
        row = (
            self._conn()
            .execute("SELECT failed_attempts FROM oid4vci_offers WHERE id = ?", (offer_id,))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def add_access_token(self, row: TokenRow) -> None:
        value = asdict(row)
        value["issued"] = json.dumps(row.issued)
        self._insert("oid4vci_tokens", value)

    def find_access_token(self, token_hash: str) -> TokenRow | None:
        rows = list(
            self._query("SELECT * FROM oid4vci_tokens WHERE token_hash = ?", [token_hash])
        )
        if not rows:
            return None
        return TokenRow(**{**rows[0], "issued": json.loads(rows[0]["issued"])})

    def mark_token_issued(self, token_hash: str, issued: list[str]) -> None:
        self._writing().execute(
            "UPDATE oid4vci_tokens SET issued = ? WHERE token_hash = ?",
            [json.dumps(issued), token_hash],
        )

    def use_nonce(self, nonce_hash: str, expires_at: int, now: int) -> bool:
        """Record a c_nonce as used; False if it was used before (each nonce is used once).
        The rows only need to outlive the nonces' own expiry, which the caller checks."""
        db = self._writing()
        cursor = db.execute(
            "INSERT INTO oid4vci_nonces (nonce_hash, expires_at) VALUES (?, ?) "
            "ON CONFLICT (nonce_hash) DO NOTHING",
            [nonce_hash, expires_at],
        )
        return cursor.rowcount == 1

    def purge_oid4vci(self, now: int) -> None:
        """Forget expired nonces and access tokens (inside the caller's transaction). Every
        reader checks expiry itself, so this is housekeeping: done at most once a minute by a
        store, not on every request."""
        if now < getattr(self, "_next_oid4vci_purge", 0):
            return
        self._next_oid4vci_purge = now + _PURGE_INTERVAL
        db = self._writing()
        db.execute("DELETE FROM oid4vci_nonces WHERE expires_at <= ?", [now])
        db.execute("DELETE FROM oid4vci_tokens WHERE expires_at <= ?", [now])
