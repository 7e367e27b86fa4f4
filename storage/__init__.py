"""The storage layer: the only package that speaks SQL.

``open_store(path)`` returns the SQLite implementation. Callers depend on the methods of
``SqliteStore`` (typed, grouped by concern) and on ``transaction()``; a PostgreSQL backend later
implements the same methods with its own migrations list.
"""

from __future__ import annotations

from pathlib import Path

from storage.records import ApiKeyRecord, AuditEvent, InstitutionRecord, StoredKey
from storage.sealing import Sealer, load_or_create_master_key
from storage.sqlite import SqliteStore

__all__ = [
    "ApiKeyRecord",
    "AuditEvent",
    "InstitutionRecord",
    "Sealer",
    "SqliteStore",
    "StoredKey",
    "load_or_create_master_key",
    "open_store",
]

Store = SqliteStore


def open_store(path: Path | str) -> SqliteStore:
    """Open (creating and migrating if needed) the store at ``path``."""
    return SqliteStore(path)
