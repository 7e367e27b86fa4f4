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
    (
        5,
        "issuance: status lists, issued credentials, OpenID4VCI offers, tokens and nonces",
        """
        CREATE TABLE status_groups (
            id TEXT PRIMARY KEY,
            format TEXT NOT NULL,
            size INTEGER NOT NULL,
            allocated INTEGER NOT NULL DEFAULT 0,
            full INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE INDEX status_groups_open ON status_groups (format, full, created_at);
        CREATE TABLE status_lists (
            uri TEXT PRIMARY KEY,
            group_id TEXT NOT NULL REFERENCES status_groups (id),
            purpose TEXT NOT NULL,
            bits INTEGER NOT NULL,
            data BLOB NOT NULL,
            changes INTEGER NOT NULL DEFAULT 1,
            published_changes INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL DEFAULT 0,
            token TEXT,
            token_sha256 TEXT,
            registry_index INTEGER,
            published_at INTEGER,
            UNIQUE (group_id, purpose)
        );
        CREATE INDEX status_lists_pending ON status_lists (published_changes, changes);
        CREATE TABLE issued_credentials (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL,
            broker_key_id INTEGER NOT NULL,
            format TEXT NOT NULL,
            configuration_id TEXT NOT NULL,
            status TEXT NOT NULL,
            suspended_by TEXT,
            status_reason TEXT,
            group_id TEXT NOT NULL REFERENCES status_groups (id),
            status_idx INTEGER NOT NULL,
            holder_jkt TEXT NOT NULL,
            issuer_kid TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (group_id, status_idx)
        );
        CREATE INDEX issued_credentials_application ON issued_credentials (application_id);
        CREATE TABLE oid4vci_offers (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL,
            broker_key_id INTEGER NOT NULL,
            code_hash TEXT NOT NULL UNIQUE,
            tx_code_hash TEXT,
            configuration_ids TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            redeemed_at TEXT,
            failed_attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX oid4vci_offers_application ON oid4vci_offers (application_id);
        CREATE TABLE oid4vci_tokens (
            token_hash TEXT PRIMARY KEY,
            offer_id TEXT NOT NULL REFERENCES oid4vci_offers (id),
            expires_at INTEGER NOT NULL,
            issued TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE oid4vci_nonces (
            nonce_hash TEXT PRIMARY KEY,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX oid4vci_nonces_expiry ON oid4vci_nonces (expires_at);
        """,
    ),
    (
        6,
        "verifier: OpenID4VP requests, consumed nonces, verification receipts",
        """
        CREATE TABLE verifier_requests (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL UNIQUE,
            nonce TEXT NOT NULL UNIQUE,
            client_id TEXT NOT NULL,
            response_uri TEXT NOT NULL,
            dcql_query TEXT NOT NULL,
            api_key_id INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            status TEXT NOT NULL,
            verdict TEXT,
            receipt_id TEXT,
            completed_at TEXT
        );
        CREATE TABLE verifier_nonces (
            nonce_hash TEXT PRIMARY KEY,
            consumed_at TEXT NOT NULL
        );
        CREATE TABLE verification_receipts (
            id TEXT PRIMARY KEY,
            request_id TEXT,
            api_key_id INTEGER,
            valid INTEGER NOT NULL,
            receipt TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        7,
        "oid4vci: index token expiry (every token request deletes the expired ones)",
        """
        CREATE INDEX oid4vci_tokens_expiry ON oid4vci_tokens (expires_at);
        """,
    ),
]
