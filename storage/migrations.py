"""Schema migrations for the SQLite store, applied in order, each inside one transaction.

Append new migrations at the end; never edit one that has shipped. Each is plain SQL so a
PostgreSQL backend can carry its own translated list with the same version numbers.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "institution, sealed keys, api keys, audit log",
        """
        CREATE TABLE institution (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            name TEXT NOT NULL,
            public_url TEXT NOT NULL,
            did TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE private_keys (
            name TEXT PRIMARY KEY,
            key_type TEXT NOT NULL,
            public_jwk TEXT NOT NULL,
            sealed BLOB NOT NULL,
            created_at TEXT NOT NULL,
            retired_at TEXT
        );
        CREATE TABLE api_keys (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE audit_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX audit_events_subject ON audit_events (subject);
        """,
    ),
    (
        2,
        "registry: entries, tiles, checkpoints, witness and mirror state",
        """
        CREATE TABLE registry_entries (
            idx INTEGER PRIMARY KEY,
            data BLOB NOT NULL,
            leaf_hash BLOB NOT NULL,
            type TEXT NOT NULL,
            subject TEXT NOT NULL,
            prev_idx INTEGER NOT NULL,
            writer TEXT NOT NULL,
            UNIQUE (subject, prev_idx)
        );
        CREATE INDEX registry_entries_subject ON registry_entries (subject, idx);
        CREATE INDEX registry_entries_leaf ON registry_entries (leaf_hash);
        CREATE TABLE registry_tiles (
            level INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            hashes BLOB NOT NULL,
            PRIMARY KEY (level, idx)
        );
        CREATE TABLE registry_checkpoints (
            size INTEGER PRIMARY KEY,
            root BLOB NOT NULL,
            note BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE witness_logs (
            origin TEXT PRIMARY KEY,
            vkey TEXT NOT NULL,
            added_at TEXT NOT NULL
        );
        CREATE TABLE witness_checkpoints (
            origin TEXT PRIMARY KEY REFERENCES witness_logs (origin),
            size INTEGER NOT NULL,
            root BLOB NOT NULL,
            timestamp INTEGER NOT NULL,
            note BLOB NOT NULL,
            cosignatures BLOB NOT NULL
        );
        CREATE TABLE registry_witnesses (
            name TEXT PRIMARY KEY,
            vkey TEXT NOT NULL,
            url TEXT NOT NULL,
            size INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE mirror_state (
            origin TEXT PRIMARY KEY,
            source_url TEXT NOT NULL,
            size INTEGER NOT NULL,
            root BLOB NOT NULL,
            note BLOB NOT NULL,
            updated_at TEXT NOT NULL
        );
        """,
    ),
    (
        3,
        "audit trail: hash chain",
        """
        ALTER TABLE audit_events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
        CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        """,
    ),
    (
        4,
        "KYC: applications (personal data sealed per applicant), data keys, watchlists",
        """
        CREATE TABLE kyc_applications (
            id TEXT PRIMARY KEY,
            broker_key_id INTEGER NOT NULL,
            idempotency_key TEXT,
            request_hash TEXT NOT NULL,
            status TEXT NOT NULL,
            holder_did TEXT NOT NULL,
            kyc_level INTEGER,
            decision TEXT NOT NULL DEFAULT '{}',
            sealed_pii BLOB,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            relationship_ended_at TEXT,
            restricted_at TEXT,
            erased_at TEXT,
            UNIQUE (broker_key_id, idempotency_key)
        );
        CREATE INDEX kyc_applications_status ON kyc_applications (status, created_at);
        CREATE TABLE kyc_data_keys (
            application_id TEXT PRIMARY KEY REFERENCES kyc_applications (id),
            wrapped BLOB NOT NULL
        );
        CREATE TABLE watchlists (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            version TEXT NOT NULL,
            published TEXT,
            imported_at TEXT NOT NULL,
            entry_count INTEGER NOT NULL,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE watchlist_entries (
            list_id TEXT NOT NULL REFERENCES watchlists (id),
            entry_id TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (list_id, entry_id)
        );
        """,
    ),
]
