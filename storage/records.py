"""Plain records the store reads and writes. No SQL here, so a second backend can share them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "ApiKeyRecord",
    "AuditEvent",
    "InstitutionRecord",
    "KycApplicationRow",
    "MirrorStateRow",
    "RegistryEntryRow",
    "StoredKey",
]


@dataclass(frozen=True, slots=True)
class InstitutionRecord:
    name: str
    public_url: str
    did: str
    created_at: str

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A private key as kept at rest: the public JWK in clear, the private JWK sealed."""

    name: str
    key_type: str
    public_jwk: dict[str, str]
    sealed: bytes
    created_at: str
    retired_at: str | None = None

    def __repr__(self) -> str:  # the sealed blob is not secret, but keep logs short and clean
        return f"StoredKey(name={self.name!r}, key_type={self.key_type!r})"

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["public_jwk"] = json.dumps(self.public_jwk, sort_keys=True)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredKey:
        return cls(
            name=row["name"],
            key_type=row["key_type"],
            public_jwk=json.loads(row["public_jwk"]),
            sealed=bytes(row["sealed"]),
            created_at=row["created_at"],
            retired_at=row["retired_at"],
        )


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: int
    name: str
    role: str
    prefix: str
    created_at: str
    revoked_at: str | None

    def to_public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "revoked": self.revoked_at is not None,
        }


# What json.dumps(value, sort_keys=True) and json.dumps(value, sort_keys=True,
# separators=(",", ":")) write: encoders with those options, built once (json.dumps builds one
# per call when given options). The stored chain depends on these exact bytes.
_DETAIL_JSON = json.JSONEncoder(sort_keys=True).encode
_CHAIN_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: str
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]

    def to_row(self) -> dict[str, Any]:
        names = ("at", "actor", "action", "subject", "detail")
        return dict(zip(names, self.row_values(), strict=True))

    def row_values(self) -> tuple[str, str, str, str, str]:
        """``at, actor, action, subject, detail``: ``to_row()``'s values, in that order."""
        return self.at, self.actor, self.action, self.subject, _DETAIL_JSON(self.detail)

    def chain_hash(self, prev_hash: str) -> str:
        """SHA-256 over the previous record's hash and this record's canonical JSON."""
        body = _CHAIN_JSON([prev_hash, self.at, self.actor, self.action, self.subject,
                            self.detail])
        return hashlib.sha256(body.encode()).hexdigest()

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AuditEvent:
        return cls(
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            subject=row["subject"],
            detail=json.loads(row["detail"]),
        )


@dataclass(frozen=True, slots=True)
class RegistryEntryRow:
    index: int
    data: bytes
    leaf_hash: bytes
    type: str
    subject: str
    prev: int | None
    writer: str


@dataclass(frozen=True, slots=True)
class MirrorStateRow:
    """How far a mirror has verified another node's log."""

    origin: str
    source_url: str
    size: int
    root: bytes
    note: bytes
    updated_at: str

    def to_row(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MirrorStateRow:
        return cls(
            row["origin"],
            row["source_url"],
            int(row["size"]),
            bytes(row["root"]),
            bytes(row["note"]),
            row["updated_at"],
        )


@dataclass(frozen=True, slots=True)
class KycApplicationRow:
    """An application as stored: ids, state and decision in clear; personal data sealed."""

    id: str
    broker_key_id: int
    idempotency_key: str | None
    request_hash: str
    status: str
    holder_did: str
    kyc_level: int | None
    decision: dict[str, Any]
    sealed_pii: bytes | None
    created_at: str
    updated_at: str
    relationship_ended_at: str | None = None
    restricted_at: str | None = None
    erased_at: str | None = None

    def __repr__(self) -> str:
        return f"KycApplicationRow(id={self.id!r}, status={self.status!r})"

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["decision"] = json.dumps(self.decision, sort_keys=True)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> KycApplicationRow:
        values = dict(row)
        values["decision"] = json.loads(values["decision"])
        values["sealed_pii"] = None if values["sealed_pii"] is None else bytes(values["sealed_pii"])
        return cls(**values)
