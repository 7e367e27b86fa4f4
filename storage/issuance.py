"""Storage for issued credentials, status lists and OpenID4VCI state (a part of SqliteStore).

``SqliteStore`` inherits these methods; they use its connection helpers (``_conn`` for reads,
``_writing`` for writes inside ``transaction()``).
"""

from __future__ import annotations

__all__ = ["IssuanceStore"]


class IssuanceStore:
    """Credential, status-list and OpenID4VCI tables (migration 5)."""
