"""Storage for the verifier: OpenID4VP requests, consumed nonces, receipts (a part of
SqliteStore, migration 6).

No personal data is stored in clear: a request holds its query and, once answered, the verdict
with its disclosed claims sealed under the master key (``claims_sealed``); a receipt holds only
digests. Consumed nonces are kept as SHA-256 hashes of
``audience || nonce`` and never deleted, so a replay is refused after a restart and after a clock
step backwards alike.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

__all__ = ["VerificationStore", "VerifierRequestRow"]


@dataclass(frozen=True, slots=True)
class VerifierRequestRow:
    id: str
    state: str
    nonce: str
    client_id: str
    response_uri: str
    dcql_query: dict[str, Any]
    api_key_id: int
    created_at: str
    expires_at: int
    status: str  # pending | completed
    verdict: dict[str, Any] | None = None
    receipt_id: str | None = None
    completed_at: str | None = None


def _request_row(row: dict[str, Any]) -> VerifierRequestRow:
    return VerifierRequestRow(
        **{
            **row,
            "dcql_query": json.loads(row["dcql_query"]),
            "verdict": None if row["verdict"] is None else json.loads(row["verdict"]),
        }
    )


class VerificationStore:
    """Verifier tables (migration 6)."""

    if TYPE_CHECKING:  # provided by SqliteStore

        def _conn(self) -> sqlite3.Connection: ...
        def _writing(self) -> sqlite_utils.Database: ...
        def _insert(self, table: str, values: Mapping[str, Any]) -> None: ...
        def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...
        @property
        def db(self) -> sqlite_utils.Database: ...

    def add_verifier_request(self, row: VerifierRequestRow) -> None:
        self._writing()["verifier_requests"].insert(
            {
                "id": row.id,
                "state": row.state,
                "nonce": row.nonce,
                "client_id": row.client_id,
                "response_uri": row.response_uri,
                "dcql_query": json.dumps(row.dcql_query),
                "api_key_id": row.api_key_id,
                "created_at": row.created_at,
                "expires_at": row.expires_at,
                "status": row.status,
                "verdict": None,
                "receipt_id": None,
                "completed_at": None,
            }
        )

    def get_verifier_request(self, request_id: str) -> VerifierRequestRow | None:
        rows = self._query("SELECT * FROM verifier_requests WHERE id = ?", [request_id])
        return _request_row(rows[0]) if rows else None

    def complete_verifier_request(
        self, request_id: str, verdict: dict[str, Any], receipt_id: str, now: str
    ) -> bool:
        """Mark a pending request answered; False if it was not pending (answered already)."""
        cursor = self._writing().execute(
            "UPDATE verifier_requests SET status = 'completed', verdict = ?, receipt_id = ?, "
            "completed_at = ? WHERE id = ? AND status = 'pending'",
            [json.dumps(verdict), receipt_id, now, request_id],
        )
        return cursor.rowcount == 1

    def consume_verifier_nonce(self, nonce_hash: str, now: str) -> bool:
        """Record a nonce as used; False if it was used before (a replay)."""
        cursor = self._writing().execute(
            "INSERT OR IGNORE INTO verifier_nonces (nonce_hash, consumed_at) VALUES (?, ?)",
            [nonce_hash, now],
        )
        return cursor.rowcount == 1

    def verifier_nonce_consumed(self, nonce_hash: str) -> bool:
        row = (
            self._conn()
            .execute("SELECT 1 FROM verifier_nonces WHERE nonce_hash = ?", (nonce_hash,))
            .fetchone()
        )
        return row is not None

    def add_verification_receipt(
        self,
        receipt_id: str,
        *,
        request_id: str | None,
        api_key_id: int | None,
        valid: bool,
        receipt: str,
        now: str,
    ) -> None:
        self._insert(
            "verification_receipts",
            {
                "id": receipt_id,
                "request_id": request_id,
                "api_key_id": api_key_id,
                "valid": int(valid),
                "receipt": receipt,
                "created_at": now,
            }
        )

    def get_verification_receipt(self, receipt_id: str) -> str | None:
        row = (
            self._conn()
            .execute("SELECT receipt FROM verification_receipts WHERE id = ?", (receipt_id,))
            .fetchone()
        )
        return None if row is None else str(row[0])
