"""The registry log: admission, batched integration, checkpoints and proofs over a LogStore.

Appends are group-committed: concurrent submitters queue their entries and whichever thread takes
the sequencing lock integrates everything queued in one store transaction (entries, changed tiles,
the new signed checkpoint), then wakes the others with their indexes. One durable commit per batch
instead of one per entry is what makes thousands of appends per second possible on SQLite.

Admission (RFC 9162 leaves are the exact entry bytes, so all is checked before hashing):

1. parse the entry strictly (canonical JCS, type schema, size cap, this log's origin);
2. authorise it against the writer set as of its position (governance quorum, or an
   authorised writer's registry key);
3. check its subject chain: ``prev`` must be the subject's current head (``None`` for a new
   subject), counting earlier entries of the same batch, so replays and forks are refused;
4. refuse an entry whose bytes are already in the log (replay of an identical entry).

On start-up ``verify_integrity`` recomputes the root at the last checkpoint from the stored tiles
and refuses to serve if it disagrees.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from errors import Conflict, Forbidden, InvalidValue, NotFound, ServiceUnavailable
from registry import merkle
from registry.entries import Entry, EntryType, parse_entry
from registry.errors import MissingTile
from registry.governance import GovernancePolicy, WriterSet

__all__ = [
    "Admitted",
    "ChainConflict",
    "DuplicateEntry",
    "Log",
    "LogStore",
    "ReadOnlyLog",
    "RegistryCorrupt",
]

MAX_BATCH = 1024
_PARALLEL_FROM = 64
_CHUNK = 32
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _checkers() -> ThreadPoolExecutor:
    """One shared pool for entry checks, sized to the machine's cores."""
    global _POOL  # noqa: PLW0603 - a lazily created process-wide pool
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                       thread_name_prefix="registry-check")
        return _POOL


class RegistryCorrupt(ServiceUnavailable):
    code = "registry_corrupt"


class ChainConflict(Conflict):
    code = "subject_chain_conflict"


class DuplicateEntry(Conflict):
    code = "duplicate_entry"


class ReadOnlyLog(Forbidden):
    """Appends to a mirror's copy: only the log's operator appends."""

    code = "read_only_log"


class LogStore(merkle.TileStore, Protocol):
    """What the log needs from storage (``storage.SqliteStore`` implements it)."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def registry_size(self) -> int: ...
    def add_registry_entries(self, rows: Sequence[object]) -> None: ...
    def registry_entry(self, index: int) -> bytes | None: ...
    def registry_subject_head(self, subject: str) -> int | None: ...
    def registry_entries_of_types(
        self, types: Sequence[str], start: int = 0
    ) -> list[tuple[int, bytes]]: ...
    def registry_find_leaf(self, leaf_hash: bytes) -> int | None: ...
    def add_checkpoint(self, size: int, root: bytes, note: bytes, now: str) -> None: ...
    def latest_checkpoint(self) -> tuple[int, bytes, bytes] | None: ...


@dataclass(frozen=True, slots=True)
class Admitted:
    index: int
    entry: Entry
    leaf_hash: bytes


@dataclass(slots=True)
class _Pending:
    data: bytes
    entry: Entry | None = None
    verified: frozenset[str] = frozenset()
    done: threading.Event = field(default_factory=threading.Event)
    result: Admitted | None = None
    error: Exception | None = None


class Log:
    """One append-only log. Thread-safe; one instance per store."""

    def __init__(
        self,
        store: LogStore,
        *,
        origin: str,
        policy: GovernancePolicy | None,
        sign_checkpoint: Callable[[int, bytes], bytes] | None,
        row_factory: Callable[[Admitted], object],
        now: Callable[[], str],
    ) -> None:
        self.store = store
        self.origin = origin
        self.policy = policy
        self._sign_checkpoint = sign_checkpoint
        self._row_factory = row_factory
        self._now = now
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._sequencer = threading.Lock()
        self._writers: WriterSet | None = None
        self._writers_size = 0

    # --- integrity -------------------------------------------------------------------------------

    def verify_integrity(self) -> None:
        """Recompute the root at the latest checkpoint from stored tiles; raise if it differs."""
        latest = self.store.latest_checkpoint()
        size = self.store.registry_size()
        if latest is None:
            if size:
                raise RegistryCorrupt("the registry has entries but no checkpoint")
            return
        checkpoint_size, checkpoint_root, _ = latest
        if size != checkpoint_size:
            raise RegistryCorrupt(
                f"the registry holds {size} entries but its last checkpoint says {checkpoint_size}"
            )
        try:
            recomputed = merkle.tile_root(self.store, size) if size else merkle.EMPTY_ROOT
        except MissingTile as exc:
            raise RegistryCorrupt(f"the registry's stored tree is incomplete: {exc}") from exc
        if recomputed != checkpoint_root:
            raise RegistryCorrupt(
                "the registry's stored tree does not match its last signed checkpoint; "
                "refusing to serve"
            )

    def ensure_checkpoint(self) -> None:
        """Sign the empty tree's checkpoint on first start, so there is always one to serve."""
        if self._sign_checkpoint is None:
            return
        with self._sequencer, self.store.transaction():
            if self.store.latest_checkpoint() is None and self.store.registry_size() == 0:
                note = self._sign_checkpoint(0, merkle.EMPTY_ROOT)
                self.store.add_checkpoint(0, merkle.EMPTY_ROOT, note, self._now())

    # --- writers ---------------------------------------------------------------------------------

    def writers(self) -> WriterSet:
        """The writer set at the head of the log.

        Cached, and brought up to date from governance entries appended since it was built, so
        entries written by another process on the same store (the CLI) are seen too.
        """
        if self.policy is None:
            raise ReadOnlyLog("this copy of the log is read-only")
        size = self.store.registry_size()
        if self._writers is None or self._writers_size > size:
            self._writers, self._writers_size = WriterSet(self.policy), 0
        if self._writers_size < size:
            types = [str(EntryType.WRITER_ADD), str(EntryType.WRITER_REMOVE)]
            for index, data in self.store.registry_entries_of_types(types, self._writers_size):
                if index < size:
                    self._writers.apply(parse_entry(data), index)
            self._writers_size = size
        return self._writers

    # --- appending -------------------------------------------------------------------------------

    def append(self, data: bytes) -> Admitted:
        """Admit and integrate one entry; returns once it is in a signed checkpoint."""
        [outcome] = self.append_many([data])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def append_many(self, items: Sequence[bytes]) -> list[Admitted | Exception]:
        """Admit several entries (each on its own merits); integrate them with whatever else is
        queued. Returns, per item, its admission or the error that refused it."""
        pending = [_Pending(bytes(data)) for data in items]
        # Parse and check signatures before queueing, in the caller's thread: signature checks
        # release the GIL, so concurrent submitters use every core. Under the sequencing lock
        # only the cheap, order-dependent checks remain.
        snapshot = self._writers
        if snapshot is None and self.policy is not None:
            with self._sequencer:
                snapshot = self.writers()
        if len(pending) >= _PARALLEL_FROM:
            # Large batches (a mirror catching up, bulk submitters): spread the checks over
            # threads; parsing holds the GIL but Ed25519 verification does not.
            chunks = [pending[i : i + _CHUNK] for i in range(0, len(pending), _CHUNK)]
            list(_checkers().map(lambda chunk: self._precheck(chunk, snapshot), chunks))
        else:
            self._precheck(pending, snapshot)
        waiting = [item for item in pending if not item.done.is_set()]
        with self._queue_lock:
            self._queue.extend(waiting)
        # Group commit: whoever holds the sequencer integrates everything queued, in batches,
        # until the queue is empty; the others wait for their entries to be done.
        for item in waiting:
            while not item.done.is_set():
                if self._sequencer.acquire(blocking=False):
                    try:
                        self._drain()
                    finally:
                        self._sequencer.release()
                else:
                    item.done.wait(0.005)
        return [p.result if p.error is None else p.error for p in pending]  # type: ignore[misc]

    def _precheck(self, items: Sequence[_Pending], snapshot: WriterSet | None) -> None:
        for item in items:
            try:
                item.entry = parse_entry(item.data, expected_log=self.origin)
                if snapshot is not None:
                    item.verified = snapshot.preverify(item.entry)
            except Exception as exc:
                item.error = exc
                item.done.set()

    def _drain(self) -> None:
        while True:
            with self._queue_lock:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            if not batch:
                return
            self._integrate(batch)

    def _integrate(self, batch: list[_Pending]) -> None:
        try:
            with self.store.transaction():
                admitted = self._admit(batch)
                if admitted:
                    size = self.store.registry_size()
                    integration = merkle.integrate(
                        self.store, size, [a.leaf_hash for a in admitted]
                    )
                    self.store.add_registry_entries([self._row_factory(a) for a in admitted])
                    self.store.write_tiles(integration.tiles)
                    # A mirror (no signer) stores the source's checkpoint once it has verified it.
                    if self._sign_checkpoint is not None:
                        note = self._sign_checkpoint(integration.new_size, integration.root)
                        self.store.add_checkpoint(
                            integration.new_size, integration.root, note, self._now()
                        )
        except Exception as exc:  # the whole batch failed to commit: nothing was written
            self._writers, self._writers_size = None, 0
            for item in batch:
                if item.error is None:
                    item.result = None
                    item.error = exc
                item.done.set()
            return
        for item in batch:
            item.done.set()

    def _admit(self, batch: list[_Pending]) -> list[Admitted]:
        writers = self.writers()
        # Work on a copy: if the transaction fails, the cached writer set must not have moved.
        staged = WriterSet(writers.policy, dict(writers.writers))
        heads: dict[str, int | None] = {}
        seen: set[bytes] = set()
        next_index = self.store.registry_size()
        admitted: list[Admitted] = []
        for item in batch:
            try:
                entry = item.entry or parse_entry(item.data, expected_log=self.origin)
                staged.authorize(entry, item.verified)
                if entry.subject not in heads:
                    heads[entry.subject] = self.store.registry_subject_head(entry.subject)
                head = heads[entry.subject]
                if entry.prev != head:
                    raise ChainConflict(
                        f"prev must be {head} (the head of {entry.subject!r}), not {entry.prev}"
                    )
                leaf = merkle.leaf_hash(item.data)
                if leaf in seen or self.store.registry_find_leaf(leaf) is not None:
                    raise DuplicateEntry("this exact entry is already in the log")
            except Exception as exc:
                item.error = exc
                continue
            seen.add(leaf)
            staged.apply(entry, next_index)
            heads[entry.subject] = next_index
            item.result = Admitted(next_index, entry, leaf)
            admitted.append(item.result)
            next_index += 1
        self._writers, self._writers_size = staged, next_index
        return admitted

    # --- reading ---------------------------------------------------------------------------------

    def size(self) -> int:
        latest = self.store.latest_checkpoint()
        return 0 if latest is None else latest[0]

    def checkpoint_note(self) -> bytes:
        latest = self.store.latest_checkpoint()
        if latest is None:
            raise NotFound("the registry has no checkpoint yet")
        return latest[2]

    def entry(self, index: int) -> bytes:
        if not 0 <= index < self.size():
            raise NotFound(f"no entry {index} in a log of size {self.size()}")
        data = self.store.registry_entry(index)
        if data is None:
            raise NotFound(f"no entry {index}")
        return data

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check_range(index, size)
        return merkle.tile_inclusion_proof(self.store, index, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        current = self.size()
        if not 0 < old <= new <= current:
            raise InvalidValue(f"need 0 < old <= new <= {current} (the current size)")
        return merkle.tile_consistency_proof(self.store, old, new)

    def root_at(self, size: int) -> bytes:
        if not 0 <= size <= self.size():
            raise InvalidValue(f"size must be at most {self.size()}")
        return merkle.tile_root(self.store, size) if size else merkle.EMPTY_ROOT

    def _check_range(self, index: int, size: int) -> None:
        current = self.size()
        if not 0 < size <= current:
            raise InvalidValue(f"size must be between 1 and {current} (the current size)")
        if not 0 <= index < size:
            raise InvalidValue(f"index must be below size {size}")
