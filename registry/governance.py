"""Who may write to the registry, as a pure function of the entries before a given index.

Governance entries (``writer.add`` / ``writer.remove``) need signatures from ``threshold``
distinct keys of the governance policy (k of n; 1 of 1, the node's governance key, by default).
Every other entry must be signed by the registry key of a writer that holds the ``writer`` role at
that point of the log. Because the writer set is derived from earlier entries only, a mirror that
replays the log re-checks every write exactly as the log did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from errors import Forbidden, InvalidSignature, InvalidValue
from identity.keys import KeyType, PublicKey
from registry.entries import Entry, EntryType

__all__ = ["GovernancePolicy", "UnauthorizedWriter", "Writer", "WriterSet"]


class UnauthorizedWriter(Forbidden):
    code = "unauthorized_writer"


@dataclass(frozen=True, slots=True)
class GovernancePolicy:
    keys: tuple[PublicKey, ...]
    threshold: int
    _kids: tuple[str, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        if not self.keys:
            raise InvalidValue("a governance policy needs at least one key")
        if any(k.key_type is not KeyType.ED25519 for k in self.keys):
            raise InvalidValue("governance keys must be Ed25519")
        if len({k.thumbprint() for k in self.keys}) != len(self.keys):
            raise InvalidValue("governance keys must be distinct")
        if not 1 <= self.threshold <= len(self.keys):
            raise InvalidValue("the governance threshold must be between 1 and the key count")
        object.__setattr__(self, "_kids", tuple(k.thumbprint() for k in self.keys))

    def kids(self) -> tuple[str, ...]:
        return self._kids

    def check(self, entry: Entry, verified: frozenset[str] = frozenset()) -> None:
        """Raise unless at least ``threshold`` distinct policy keys signed ``entry``.

        ``verified`` names keys whose signature on this entry was already checked."""
        valid = 0
        for key, kid in zip(self.keys, self.kids(), strict=True):
            if kid not in verified:
                try:
                    entry.verify_signature(key, kid)
                except InvalidSignature:
                    continue
            valid += 1
        if valid < self.threshold:
            raise UnauthorizedWriter(
                f"governance entries need {self.threshold} governance signatures, found {valid}"
            )

    def to_json(self) -> dict[str, object]:
        return {"threshold": self.threshold, "keys": [k.to_jwk() for k in self.keys]}

    @classmethod
    def from_json(cls, value: Mapping[str, object]) -> GovernancePolicy:
        keys = value.get("keys")
        threshold = value.get("threshold")
        if not isinstance(keys, list) or not isinstance(threshold, int):
            raise InvalidValue("a governance policy is {threshold: int, keys: [JWK]}")
        return cls(tuple(PublicKey.from_jwk(k) for k in keys), threshold)


@dataclass(frozen=True, slots=True)
class Writer:
    did: str
    key: PublicKey
    roles: frozenset[str]
    added_at: int
    kid: str = ""  # the key's RFC 7638 thumbprint, computed once


@dataclass(slots=True)
class WriterSet:
    """The authorised writers as of some log index; ``apply`` advances it by one entry."""

    policy: GovernancePolicy
    writers: dict[str, Writer] = field(default_factory=dict)

    def authorize(self, entry: Entry, verified: frozenset[str] = frozenset()) -> None:
        """Raise unless ``entry`` may be appended next. Does not change the set.

        ``verified`` names keys whose signature on this entry was already checked (outside the
        sequencing lock); any other key's signature is checked here."""
        if entry.type.is_governance:
            self.policy.check(entry, verified)
            return
        writer = self.writers.get(entry.writer)
        if writer is None or "writer" not in writer.roles:
            raise UnauthorizedWriter(f"{entry.writer} is not an authorised registry writer")
        if writer.kid in verified:
            return
        try:
            entry.verify_signature(writer.key, writer.kid)
        except InvalidSignature as exc:
            raise UnauthorizedWriter(
                f"entry is not signed by the registry key of {entry.writer}"
            ) from exc

    def apply(self, entry: Entry, index: int) -> None:
        """Record the effect of an (authorised) entry appended at ``index``."""
        if entry.type is EntryType.WRITER_ADD:
            payload = entry.payload
            key = PublicKey.from_jwk(payload["registry_key"])
            self.writers[entry.subject] = Writer(
                did=entry.subject,
                key=key,
                roles=frozenset(payload["roles"]),
                added_at=index,
                kid=key.thumbprint(),
            )
        elif entry.type is EntryType.WRITER_REMOVE:
            self.writers.pop(entry.subject, None)

    def replay(self, entries: Iterable[tuple[int, Entry]]) -> None:
        for index, entry in entries:
            self.authorize(entry)
            self.apply(entry, index)

    def preverify(self, entry: Entry) -> frozenset[str]:
        """Check the signatures this writer set would ask for, without deciding anything: the
        keys whose signatures verified. Safe to run outside the sequencing lock (the set may
        change before admission; ``authorize`` then checks any other key itself)."""
        if entry.type.is_governance:
            candidates = list(zip(self.policy.keys, self.policy.kids(), strict=True))
        else:
            writer = self.writers.get(entry.writer)
            candidates = [] if writer is None else [(writer.key, writer.kid)]
        verified = set()
        for key, kid in candidates:
            try:
                entry.verify_signature(key, kid)
            except InvalidSignature:
                continue
            verified.add(kid)
        return frozenset(verified)

    def has_role(self, did: str, role: str) -> bool:
        writer = self.writers.get(did)
        return writer is not None and role in writer.roles
