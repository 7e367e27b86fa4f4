"""API keys with roles, sent as ``Authorization: Bearer <key>``.

Keys are 256-bit random secrets (``kyc_`` + base64url), so a plain SHA-256 is a sound way to store
them: there is nothing to brute-force. Only the hash and a short display prefix are kept.

Roles are explicit and not hierarchical: ``admin`` manages keys and governance, ``broker`` runs
onboarding and issuance, ``officer`` resolves KYC reviews, ``verifier`` asks for and checks
presentations. An endpoint names the roles it accepts.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from flask import g, request

import errors
from api.context import node
from storage import ApiKeyRecord, SqliteStore

__all__ = ["Role", "authenticate", "current_key", "hash_api_key", "new_api_key", "require_role"]

F = TypeVar("F", bound=Callable[..., Any])

_KEY_PATTERN = re.compile(r"kyc_[A-Za-z0-9_-]{43}")


class Role(StrEnum):
    ADMIN = "admin"
    BROKER = "broker"
    OFFICER = "officer"
    VERIFIER = "verifier"


def new_api_key() -> tuple[str, str, str]:
    """Return ``(key, key_hash, prefix)`` for a fresh key; the key itself is shown once."""
    key = "kyc_" + secrets.token_urlsafe(32)
    return key, hash_api_key(key), key[:12]


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def authenticate(store: SqliteStore, header: str | None) -> ApiKeyRecord:
    """Resolve an ``Authorization`` header to an active API key, or raise Unauthorized."""
    if not header:
        raise errors.MissingCredentials(
            "this endpoint needs an API key: Authorization: Bearer <key>"
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise errors.InvalidApiKey("use the Bearer scheme: Authorization: Bearer <key>")
    token = token.strip()
    if not _KEY_PATTERN.fullmatch(token):
        raise errors.InvalidApiKey("the API key is not valid")
    record = store.find_api_key(hash_api_key(token))
    if record is None or record.revoked_at is not None:
        raise errors.InvalidApiKey("the API key is not valid")
    return record


def require_role(*roles: Role) -> Callable[[F], F]:
    """Decorator: the request must carry an active API key holding one of ``roles``."""
    allowed = frozenset(roles)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            record = authenticate(node().store, request.headers.get("Authorization"))
            if record.role not in allowed:
                raise errors.InsufficientRole(
                    f"this endpoint needs the role {' or '.join(sorted(allowed))}"
                )
            g.api_key = record
            return view(*args, **kwargs)

        wrapper.required_roles = allowed  # type: ignore[attr-defined]  # read by the OpenAPI test
        return wrapper  # type: ignore[return-value]

    return decorate


def current_key() -> ApiKeyRecord:
    record: ApiKeyRecord = g.api_key
    return record
