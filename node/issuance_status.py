"""The node's status lists: allocation, status changes, publication anchored in the registry.

Two families, each a *status group* of lists sharing one index space:

* ``ietf``: one IETF Token Status List (2 bits: valid 0, revoked 1, suspended 2), referenced by
  SD-JWT VCs as ``status.status_list {idx, uri}`` and served as a ``statuslist+jwt``;
* ``w3c``: a ``revocation`` and a ``suspension`` W3C Bitstring Status List (1 bit each),
  referenced by VCDM 2.0 credentials with two ``BitstringStatusListEntry`` and served as
  ``BitstringStatusListCredential`` secured as ``vc+jwt``.

Each list has at least 131,072 entries; indexes are drawn uniformly at random among the free ones
(never reused, the ``issued_credentials (group_id, status_idx)`` uniqueness guarantees it), and a
new group is opened when one fills.

Publication: a change bumps the list's ``changes`` counter inside the caller's transaction;
``publish_pending`` (called after the commit, outside any transaction) signs one token per changed
list, anchors it in the registry (``status.publish``: list URI, version, SHA-256 of the exact
token) and then stores it as the served token. Changes made meanwhile stay pending, so several
changes are published together (batched). A GET of a list whose token is pending or old publishes
first, so what is served is always current and always anchored.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from credentials.status_list import (
    MIN_BITSTRING_ENTRIES,
    BitOrder,
    StatusList,
    TokenStatus,
    allocate_index,
    bitstring_status_list_credential,
    build_status_list_token,
    status_entry,
)
from credentials.vc_jwt import build_vc_jwt
from errors import NotFound
from registry.entries import EntryType, parse_entry
from registry.log import ChainConflict
from storage.issuance import StatusGroupRow, StatusListRow

if TYPE_CHECKING:
    from node import Node
    from node.issuance import IssuanceSettings

__all__ = [
    "IETF",
    "W3C",
    "Allocation",
    "CredentialStatus",
    "StatusLists",
]

IETF = "ietf"
W3C = "w3c"
STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
VC_JWT_MEDIA_TYPE = "application/vc+jwt"


class CredentialStatus:
    VALID = "valid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"


_TOKEN_STATUS = {
    CredentialStatus.VALID: TokenStatus.VALID,
    CredentialStatus.REVOKED: TokenStatus.INVALID,
    CredentialStatus.SUSPENDED: TokenStatus.SUSPENDED,
}


@dataclass(frozen=True, slots=True)
class Allocation:
    group_id: str
    index: int
    lists: tuple[StatusListRow, ...]

    def list_for(self, purpose: str) -> StatusListRow:
        for status_list in self.lists:
            if status_list.purpose == purpose:
                return status_list
        raise NotFound(f"status group {self.group_id} has no {purpose} list")


class _UsedIndexes(Collection[int]):
    """The indexes of a group already given out, read from the store on demand (the allocator
    only asks membership of a few random candidates, and the count)."""

    def __init__(self, node: Node, group: StatusGroupRow) -> None:
        self._node = node
        self._group = group
        self.picked: list[int] = []  # given out by this allocation, not stored yet
        self.known: dict[int, bool] = {}  # membership read ahead for drawn candidates

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int):
            return False
        if index in self.picked:
            return True
        known = self.known.get(index)
        if known is not None:
            return known
        return self._node.store.status_index_used(self._group.id, index)

    def __len__(self) -> int:
        return self._group.allocated + len(self.picked)

    def __iter__(self) -> Iterator[int]:
        yield from self._node.store.status_indexes(self._group.id)
        yield from self.picked


_PUBLISH_ROUNDS = 3
_SPARE_DRAWS = 4  # drawn beyond the indexes wanted, for collisions with indexes in use


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


class StatusLists:
    def __init__(self, node: Node, settings: IssuanceSettings) -> None:
        self.node = node
        self.settings = settings
        self._publish_lock = threading.Lock()

    # --- URIs and references --------------------------------------------------------------------

    def _uri(self, fmt: str, group_id: str, purpose: str) -> str:
        base = self.node.config.public_url
        if fmt == IETF:
            return f"{base}/status/ietf/{group_id}"
        return f"{base}/status/w3c/{group_id}/{purpose}"

    @staticmethod
    def references(fmt: str, index: int, lists: Collection[StatusListRow]) -> Any:
        """How a credential points at its status: the SD-JWT VC ``status`` claim, or the VCDM
        2.0 ``credentialStatus`` entries."""
        if fmt == IETF:
            [only] = list(lists)
            return {"status_list": {"idx": index, "uri": only.uri}}
        return [
            status_entry(
                purpose=purpose,
                index=index,
                list_credential=status_list.uri,
                id=f"{status_list.uri}#{index}",
            )
            for purpose in ("revocation", "suspension")
            for status_list in lists
            if status_list.purpose == purpose
        ]

    # --- allocation (inside the caller's transaction) --------------------------------------------

    def allocate(self, fmt: str) -> Allocation:
        [allocation] = self.allocate_many(fmt, 1)
        return allocation

    def allocate_many(self, fmt: str, count: int) -> list[Allocation]:
        """``count`` distinct random indexes, from the oldest group with room, then from a new
        group when that one fills. One read of the group and its lists and one update per
        group, however many indexes."""
        store = self.node.store
        allocations: list[Allocation] = []
        while len(allocations) < count:
            group = store.open_status_group(fmt) or self._create_group(fmt)
            lists = tuple(store.status_lists_of_group(group.id))
            used = _UsedIndexes(self.node, group)
            wanted = min(count - len(allocations), group.size - group.allocated)
            if wanted <= 0:  # every index given out but not flagged full: flag it, go on
                store.count_status_allocation(group.id, full=True, count=0)
                continue
            # The allocator's first draws are made here, and whether they are taken is read in
            # one query instead of one per draw. Each is still a uniform draw over the group.
            draws = [secrets.randbelow(group.size) for _ in range(wanted + _SPARE_DRAWS)]
            taken = store.status_indexes_taken(group.id, set(draws))
            used.known = {index: index in taken for index in draws}
            drawn = iter(draws)

            def randbelow(bound: int, size: int = group.size, drawn: Iterator[int] = drawn) -> int:
                if bound == size:
                    ahead = next(drawn, None)
                    if ahead is not None:
                        return ahead
                return secrets.randbelow(bound)

            for _ in range(wanted):
                used.picked.append(allocate_index(group.size, used, randbelow=randbelow))
            store.count_status_allocation(
                group.id, full=group.allocated + wanted >= group.size, count=wanted
            )
            allocations.extend(Allocation(group.id, index, lists) for index in used.picked)
        return allocations

    def _create_group(self, fmt: str) -> StatusGroupRow:
        size = self.settings.status_list_size
        if fmt == W3C:
            size = max(size, MIN_BITSTRING_ENTRIES)
        group = StatusGroupRow(
            id=secrets.token_urlsafe(12),
            format=fmt,
            size=size,
            allocated=0,
            full=0,
            created_at=self.node.now(),
        )
        if fmt == IETF:
            shapes = [("status", 2, BitOrder.LSB)]
        else:
            shapes = [("revocation", 1, BitOrder.MSB), ("suspension", 1, BitOrder.MSB)]
        lists = [
            StatusListRow(
                uri=self._uri(fmt, group.id, purpose),
                group_id=group.id,
                purpose=purpose,
                bits=bits,
                data=StatusList(size, bits, order).to_bytes(),
                changes=1,
                published_changes=0,
                version=0,
                token=None,
                token_sha256=None,
                registry_index=None,
                published_at=None,
            )
            for purpose, bits, order in shapes
        ]
        self.node.store.add_status_group(group, lists)
        return group

    # --- status changes (inside the caller's transaction) -------------------------------------

    def set_status(self, group_id: str, index: int, status: str) -> None:
        for row in self.node.store.status_lists_of_group(group_id):
            order = BitOrder.LSB if row.purpose == "status" else BitOrder.MSB
            status_list = StatusList.from_bytes(row.data, row.bits, order)
            if row.purpose == "status":
                value = int(_TOKEN_STATUS[status])
            elif row.purpose == "revocation":
                value = int(status == CredentialStatus.REVOKED)
            else:
                value = int(status == CredentialStatus.SUSPENDED)
            if status_list.get(index) != value:
                status_list.set(index, value)
                self.node.store.update_status_list_data(row.uri, status_list.to_bytes())

    def status_of(self, group_id: str, index: int) -> dict[str, int]:
        """The statuses stored (not necessarily published yet) for one index, by purpose."""
        result = {}
        for row in self.node.store.status_lists_of_group(group_id):
            order = BitOrder.LSB if row.purpose == "status" else BitOrder.MSB
            result[row.purpose] = StatusList.from_bytes(row.data, row.bits, order).get(index)
        return result

    # --- publication (outside any transaction) --------------------------------------------------

    def publish_pending(self) -> list[str]:
        """Publish every list changed since its last publication; returns their URIs."""
        if self.node.store.in_transaction():
            return []  # the registry's group commit must not wait on our own write lock
        published: list[str] = []
        with self._publish_lock:
            # Again while something is pending, a few times: another worker process may have
            # changed a list while we published it, or won the race to anchor it.
            for _ in range(_PUBLISH_ROUNDS):
                pending = self.node.store.pending_status_lists()
                if not pending:
                    break
                for uri in pending:
                    self._publish(uri)
                    if uri not in published:
                        published.append(uri)
        return published

    def current(self, uri: str) -> StatusListRow:
        """The list at ``uri`` with a published token that is up to date and not about to
        expire (publishing first if needed)."""
        row = self.node.store.get_status_list(uri)
        if row is None:
            raise NotFound("no status list here")
        refresh_before = self.node.unix_now() - self.settings.status_token_lifetime // 2
        stale = row.token is None or row.pending or (row.published_at or 0) < refresh_before
        if stale and not self.node.store.in_transaction():
            with self._publish_lock:
                row = self.node.store.get_status_list(uri) or row
                if row.token is None or row.pending or (row.published_at or 0) < refresh_before:
                    self._publish(uri)
            row = self.node.store.get_status_list(uri) or row
        if row.token is None:
            raise NotFound("this status list is not published yet")
        return row

    def _last_anchored_version(self, uri: str) -> int:
        head = self.node.store.registry_subject_head(uri)
        if head is None:
            return 0
        [data] = self.node.store.registry_entries(head, head + 1)
        version = parse_entry(data).payload.get("version", 0)
        return int(version) if isinstance(version, int) else 0

    def _publish(self, uri: str) -> None:
        store = self.node.store
        row = store.get_status_list(uri)
        if row is None:
            return
        now = self.node.unix_now()
        version = max(row.version, self._last_anchored_version(uri)) + 1
        token = self._sign(row, now)
        digest = _sha256(token)
        purpose = "status" if row.purpose == "status" else row.purpose
        try:
            admitted = self.node.registry.write(
                EntryType.STATUS_PUBLISH,
                uri,
                {"list_uri": uri, "version": version, "token_sha256": digest, "purpose": purpose},
            )
        except ChainConflict:
            # Another worker process anchored a publication of this list between our read of
            # its head and our append. Theirs stands; if it missed our change, the list is
            # still pending and the next publication (the next change, request or tick) runs.
            return
        with store.transaction():
            store.record_status_publication(
                uri,
                changes=row.changes,
                version=version,
                token=token,
                token_sha256=digest,
                registry_index=admitted.index,
                published_at=now,
            )

    def _sign(self, row: StatusListRow, now: int) -> str:
        keyring = self.node.keyring
        key = keyring.private_key(keyring.current("issuing-p256"))
        kid = self.node.issuance.kid(key.public_key)
        did = self.node.institution.did
        lifetime = self.settings.status_token_lifetime
        if row.purpose == "status":
            status_list = StatusList.from_bytes(row.data, row.bits, BitOrder.LSB)
            return build_status_list_token(
                status_list,
                key,
                sub=row.uri,
                iat=now,
                exp=now + lifetime,
                ttl=self.settings.status_ttl,
                header={"kid": kid},
                claims={"iss": did},
            )
        status_list = StatusList.from_bytes(row.data, row.bits, BitOrder.MSB)
        credential = bitstring_status_list_credential(
            id=row.uri,
            issuer=did,
            purpose=row.purpose,
            status_list=status_list,
            valid_from=_iso(now),
            valid_until=_iso(now + lifetime),
            ttl_ms=self.settings.status_ttl * 1000,
        )
        return build_vc_jwt(credential, key, kid=kid, iat=now, exp=now + lifetime)

    @staticmethod
    def media_type(row: StatusListRow) -> str:
        return STATUS_LIST_MEDIA_TYPE if row.purpose == "status" else VC_JWT_MEDIA_TYPE
