"""The SQLite implementation of the store (sqlite-utils over the standard library driver).

One file, WAL mode, a connection per thread, and one ``transaction()`` through which every write
goes: write methods refuse to run outside it, so a request that fails half-way rolls back whole.
``BEGIN IMMEDIATE`` takes the write lock up front, which avoids the deadlock-prone upgrade from a
read to a write transaction when two requests write at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from errors import StorageError
from registry.merkle import TileId
from registry.witness import CosignedCheckpoint
from storage.issuance import IssuanceStore
from storage.migrations import MIGRATIONS
from storage.records import (
    ApiKeyRecord,
    AuditEvent,
    InstitutionRecord,
    KycApplicationRow,
    MirrorStateRow,
    RegistryEntryRow,
    StoredKey,
)
from storage.verification import VerificationStore

__all__ = ["SqliteStore"]

_BUSY_TIMEOUT_MS = 10_000
_MAX_IDLE = 16  # pooled connections kept by a store for the next request thread
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_INSERT_CHUNK = 100  # rows per INSERT statement (well under SQLite's 32,766 parameters)
_INSERT_SQL: dict[tuple[str, tuple[str, ...]], str] = {}


_GROUP_LIMIT = 32  # transactions committed together at most (bounds a member's wait)


class _Outcome:
    """How one group of transactions ended (its members wait for ``done``)."""

    __slots__ = ("done", "failure", "lost")

    def __init__(self) -> None:
        self.done = False
        self.failure: BaseException | None = None
        self.lost = False  # SQLite rolled the whole transaction back under a member


# The columns AuditEvent.row_values() fills, then the chain.
_AUDIT_COLUMNS = ("at", "actor", "action", "subject", "detail", "prev_hash", "hash")


class _WriteGroup:
    """This process's writer connection and the group of transactions open on it."""

    __slots__ = (
        "committing", "conn", "db", "ended", "lock", "members", "outcome", "running", "turn",
        "waiting",
    )  # fmt: skip

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # Two conditions, so that a change wakes only who can act on it (a thread woken for
        # nothing still has to take the GIL, check and sleep again): queued writers wait for
        # their ``turn``; members of the open group wait for it to have ``ended``.
        self.turn = threading.Condition(self.lock)
        self.ended = threading.Condition(self.lock)
        self.conn: sqlite3.Connection | None = None  # made on the first write
        self.db: sqlite_utils.Database | None = None
        self.outcome: _Outcome | None = None  # the open group (BEGIN done, not yet ended)
        self.running = False  # a transaction body runs on ``conn``
        self.committing = False
        self.waiting = 0  # threads queued to run a body
        self.members = 0  # bodies of the open group that succeeded


class SqliteStore(IssuanceStore, VerificationStore):
    """Typed access to the node's SQLite database. The only module that speaks SQL."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path == ":memory:":
            # Each connection would open a database of its own: a file is needed.
            raise StorageError("the store needs a database file, not :memory:")
        self._local = threading.local()
        self._all_connections: list[sqlite3.Connection] = []
        self._idle: list[sqlite3.Connection] = []  # released by finished threads, reusable
        self._databases: dict[sqlite3.Connection, sqlite_utils.Database] = {}
        self._lock = threading.Lock()
        # One writer at a time in this process, queued here rather than in SQLite: SQLite's
        # busy handler makes a waiting writer sleep and poll (1, 2, 5, 10 ms ...), while a
        # condition hands over as soon as the writer before is done; and writers queued behind
        # each other commit together (see ``transaction``).
        self._group = _WriteGroup()
        # ... and one writer at a time across the processes on this file (``app.py --workers``,
        # the CLI): an advisory lock on a file beside the database, taken after the thread
        # lock, for the same reason. None for an in-memory database.
        self._lock_path: str | None = None
        if self.path != ":memory:" and not self.path.startswith("file:"):
            self._lock_path = self.path + ".lock"
        self._lock_fd: int | None = None  # opened on the first write, closed by close()
        self.migrate()

    # --- connections and transactions ----------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None and self._idle:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is not None:
                self._local.conn = conn
                self._local.depth = 0
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            self._local.depth = 0
        return conn

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: the driver must not open transactions behind our back.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit that returned survives power loss (NORMAL in WAL mode may lose the
        # last transactions); group commit keeps the cost to one fsync per group.
        conn.execute("PRAGMA synchronous = FULL")
        with self._lock:
            self._all_connections.append(conn)
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is None:
            conn = self._conn()
            # Kept with the pooled connection: making one runs a PRAGMA.
            db = self._databases.get(conn)
            if db is None:
                db = sqlite_utils.Database(conn)
                with self._lock:
                    self._databases[conn] = db
            self._local.db = db
        return db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing unit of work; nests with savepoints.

        Group commit: the outermost transactions of this process run one at a time on one
        writer connection, each in a savepoint of its own, and those that queue up behind each
        other share one ``COMMIT``: one fsync and one turn of the cross-process lock for the
        group instead of one each. A body that fails rolls back to its savepoint and changes
        nothing. One that succeeds returns only once the ``COMMIT`` holding it is durable, and
        raises ``StorageError`` if that ``COMMIT`` fails (then nothing of the group is stored).
        """
        depth: int = getattr(self._local, "depth", 0)
        if depth:
            conn = self._conn()
            conn.execute(f"SAVEPOINT sp{depth}")
            self._local.depth = depth + 1
            try:
                yield
            except BaseException:
                self._local.depth = depth
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO SAVEPOINT sp{depth}")
                    conn.execute(f"RELEASE SAVEPOINT sp{depth}")
                raise
            self._local.depth = depth
            conn.execute(f"RELEASE SAVEPOINT sp{depth}")
            return
        group = self._group
        conn, outcome = self._enter_group(group, time.monotonic() + _BUSY_TIMEOUT_MS / 1000)
        own = (getattr(self._local, "conn", None), getattr(self._local, "db", None))
        self._local.conn, self._local.db, self._local.depth = conn, group.db, 1
        succeeded = False
        try:
            conn.execute("SAVEPOINT body")
            try:
                yield
                conn.execute("RELEASE SAVEPOINT body")
                succeeded = True
            except BaseException:
                self._undo_body(conn, outcome)
                raise
        finally:
            self._local.conn, self._local.db = own
            self._local.depth = 0
            failure = self._leave_group(group, conn, outcome, succeeded=succeeded)
        if failure is not None:
            raise StorageError(f"the write could not be committed: {failure}") from failure

    def _enter_group(
        self, group: _WriteGroup, deadline: float
    ) -> tuple[sqlite3.Connection, _Outcome]:
        """Wait for the writer connection, then run on it (in the open group, or a new one)."""
        with group.lock:
            group.waiting += 1
            try:
                while group.running or group.committing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise StorageError("the database stayed busy: try again")
                    group.turn.wait(remaining)
            except BaseException:
                group.waiting -= 1
                # Giving up: a member may have left the commit to us, and a turn handed to us
                # goes to the next writer.
                group.ended.notify_all()
                group.turn.notify()
                raise
            group.waiting -= 1
            group.running = True
            outcome = group.outcome
        try:
            conn = group.conn
            if conn is None:
                conn = group.conn = self._connect()
                group.db = sqlite_utils.Database(conn)
            if outcome is None:
                self._lock_processes(deadline)
                try:
                    conn.execute("BEGIN IMMEDIATE")
                except BaseException:
                    self._unlock_processes()
                    raise
                outcome = group.outcome = _Outcome()
                group.members = 0
        except BaseException:
            with group.lock:
                group.running = False
                group.turn.notify()
            raise
        return conn, outcome

    def _undo_body(self, conn: sqlite3.Connection, outcome: _Outcome) -> None:
        """Roll a failed body back to its savepoint; if SQLite already rolled the whole
        transaction back (some I/O errors do), the group is lost."""
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK TO SAVEPOINT body")
                conn.execute("RELEASE SAVEPOINT body")
            else:
                outcome.lost = True
        except sqlite3.Error:
            outcome.lost = True

    def _leave_group(
        self, group: _WriteGroup, conn: sqlite3.Connection, outcome: _Outcome, *, succeeded: bool
    ) -> BaseException | None:
        """After a body: let the next queued body run in the same group, or commit the group
        when none is queued (or it is full). A body that succeeded waits for the ``COMMIT``
        and gets its failure, if any."""
        with group.lock:
            group.running = False
            if succeeded:
                group.members += 1
            while True:
                if outcome.done:
                    return outcome.failure if succeeded else None
                idle = not group.running and not group.committing
                if idle and group.outcome is outcome and (
                    group.waiting == 0 or group.members >= _GROUP_LIMIT or outcome.lost
                ):
                    group.committing = True
                    break
                if idle and group.waiting:
                    group.turn.notify()  # the next queued writer joins the group
                if not succeeded:
                    return None  # nothing of ours to wait for; the group goes on without us
                group.ended.wait()
        failure = self._commit_group(group, conn, outcome)
        return failure if succeeded else None

    def _commit_group(
        self, group: _WriteGroup, conn: sqlite3.Connection, outcome: _Outcome
    ) -> BaseException | None:
        failure: BaseException | None = None
        try:
            if outcome.lost:
                failure = StorageError("the transaction was rolled back by the database")
            if group.members == 0 or outcome.lost:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            else:
                conn.execute("COMMIT")
        except BaseException as exc:  # handed to every member of the group
            failure = exc
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        finally:
            self._unlock_processes()
            with group.lock:
                outcome.done, outcome.failure = True, failure
                group.outcome = None
                group.committing = False
                group.ended.notify_all()
                group.turn.notify()
        return failure

    def _lock_processes(self, deadline: float) -> None:
        """Take the cross-process writer lock, polling briefly: a blocking ``flock`` cannot
        time out, and a writer that never finishes must not hang every request."""
        if self._lock_path is None:
            return
        if self._lock_fd is None:
            with self._lock:
                if self._lock_fd is None:
                    self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        pause = 0.00005
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StorageError("the database stayed busy: try again") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def _unlock_processes(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of a read as dicts by column name. Plain ``execute``: sqlite-utils'
        ``query`` wraps every read in a savepoint, three statements instead of one."""
        cursor = self._conn().execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _insert(self, table: str, values: Mapping[str, Any]) -> None:
        """``INSERT`` one row inside the current transaction (see ``_insert_many``)."""
        self._insert_many(table, (values,))

    def _insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """``INSERT`` rows that share their columns, in one statement run over all of them,
        inside the current transaction. Lists and objects are stored as JSON text (as
        sqlite-utils stores them), everything else as is. Plain SQL: a sqlite-utils insert
        also introspects the table on every call."""
        if not rows:
            self._writing()
            return
        columns = tuple(rows[0])
        values: list[tuple[Any, ...]] = []
        for row in rows:
            if tuple(row) != columns:
                raise StorageError(f"rows for {table!r} with different columns")
            values.append(tuple(
                json.dumps(value) if isinstance(value, dict | list | tuple) else value
                for value in row.values()
            ))
        self._insert_values(table, columns, values)

    def _insert_values(
        self, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
    ) -> None:
        """``_insert_many`` for rows given as values in ``columns`` order, each already what
        SQLite stores (no JSON conversion)."""
        self._writing()
        if not rows:
            return
        sql = _INSERT_SQL.get((table, columns))
        if sql is None:
            if not _IDENTIFIER.fullmatch(table) or not all(map(_IDENTIFIER.fullmatch, columns)):
                raise StorageError(f"not a plain identifier in an insert into {table!r}")
            # Identifiers are checked above and come from this module, never from a request.
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                   f"VALUES ({', '.join('?' * len(columns))})")
            _INSERT_SQL[(table, columns)] = sql
        width = len(columns)
        parameters: list[Any] = []
        for values in rows:
            if len(values) != width:
                raise StorageError(f"a row for {table!r} with {len(values)} values, not {width}")
            parameters += values
        conn = self._conn()
        # One multi-row statement per chunk rather than executemany: every SQLite step lets go
        # of the GIL, and under load getting it back is what a writer holding the lock waits on.
        for start in range(0, len(rows), _INSERT_CHUNK):
            count = min(_INSERT_CHUNK, len(rows) - start)
            conn.execute(
                sql + (",(" + ",".join("?" * width) + ")") * (count - 1),
                parameters[start * width : (start + count) * width],
            )

    def _writing(self) -> sqlite_utils.Database:
        """The database handle for a write; refuses writes outside ``transaction()``."""
        db = self.db
        if getattr(self._local, "depth", 0) == 0:
            raise StorageError("write outside a transaction")
        return db

    def release_thread(self) -> None:
        """Give back this thread's connection (a request thread that is about to end), unless
        a transaction is still open on it. Up to ``_MAX_IDLE`` are kept for the next thread
        (opening one costs a connect and four PRAGMAs, more than a small request); the rest
        are closed, so finished threads never hold file handles beyond that."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "depth", 0):
            return
        self._local.conn = None
        self._local.db = None
        with self._lock:
            if conn not in self._all_connections:
                return  # closed by close() meanwhile
            if not conn.in_transaction and len(self._idle) < _MAX_IDLE:
                self._idle.append(conn)
                return
            self._all_connections.remove(conn)
            self._databases.pop(conn, None)
        conn.close()

    def close(self) -> None:
        with self._lock:
            for conn in self._all_connections:
                conn.close()
            self._all_connections.clear()
            self._idle.clear()
            self._databases.clear()
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # also drops the lock, were a writer still holding it
                self._lock_fd = None
            self._group = _WriteGroup()
        self._local = threading.local()

    # --- schema --------------------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply pending migrations; return the schema version."""
        self._conn().execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, description TEXT NOT NULL)"
        )
        with self.transaction():
            conn = self._conn()  # the writer connection, inside
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            version: int = current.fetchone()[0]
            for number, description, sql in MIGRATIONS:
                if number <= version:
                    continue
                # executescript would COMMIT our transaction; run statement by statement instead.
                for statement in _split_sql(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, description) VALUES (?, ?)",
                    (number, description),
                )
                version = number
        return version

    def schema_version(self) -> int:
        row = self._conn().execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def row_counts(self) -> dict[str, int]:
        """Rows per table: used by tests to show that a failed request changed nothing."""
        return {name: self.db[name].count for name in self.db.table_names()}

    # --- institution ---------------------------------------------------------------------------

    def get_institution(self) -> InstitutionRecord | None:
        rows = self._query("SELECT name, public_url, did, created_at FROM institution")
        return InstitutionRecord(**rows[0]) if rows else None

    def create_institution(self, record: InstitutionRecord) -> None:
        self._writing()["institution"].insert({"id": 1, **record.to_row()})

    def update_institution_url(self, public_url: str) -> None:
        self._writing().execute("UPDATE institution SET public_url = ? WHERE id = 1", [public_url])

    # --- sealed private keys -------------------------------------------------------------------

    def put_private_key(self, key: StoredKey) -> None:
        self._writing()["private_keys"].insert(key.to_row())

    def get_private_key(self, name: str) -> StoredKey | None:
        rows = self._query("SELECT * FROM private_keys WHERE name = ?", [name])
        return StoredKey.from_row(rows[0]) if rows else None

    def retire_private_key(self, name: str, now: str) -> None:
        self._writing().execute(
            "UPDATE private_keys SET retired_at = ? WHERE name = ? AND retired_at IS NULL",
            [now, name],
        )

    def list_private_keys(self) -> list[StoredKey]:
        return [
            StoredKey.from_row(r)
            for r in self._query("SELECT * FROM private_keys ORDER BY created_at, name")
        ]

    # --- api keys ------------------------------------------------------------------------------

    def add_api_key(self, name: str, role: str, key_hash: str, prefix: str, now: str) -> int:
        table = self._writing()["api_keys"]
        table.insert(
            {"name": name, "role": role, "key_hash": key_hash, "prefix": prefix, "created_at": now}
        )
        return int(table.last_pk)

    def find_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        rows = list(
            self._query(
                "SELECT id, name, role, prefix, created_at, revoked_at FROM api_keys "
                "WHERE key_hash = ?",
                [key_hash],
            )
        )
        return ApiKeyRecord(**rows[0]) if rows else None

    def list_api_keys(self) -> list[ApiKeyRecord]:
        return [
            ApiKeyRecord(**r)
            for r in self._query(
                "SELECT id, name, role, prefix, created_at, revoked_at FROM api_keys ORDER BY id"
            )
        ]

    def revoke_api_key(self, key_id: int, now: str) -> bool:
        cursor = self._writing().execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now, key_id]
        )
        return cursor.rowcount == 1

    # --- audit trail ---------------------------------------------------------------------------

    def record_event(self, event: AuditEvent) -> None:
        """Append to the hash-chained audit trail (ids and decisions only, never personal data)."""
        self.record_events((event,))

    def record_events(self, events: Sequence[AuditEvent]) -> None:
        """Append events to the hash-chained audit trail, in order, in one statement.

        Runs inside the caller's write transaction (BEGIN IMMEDIATE), so reading the previous
        hash and appending cannot interleave with another writer."""
        self._writing()
        row = self._conn().execute(
            "SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1"
        ).fetchone()
        prev_hash = row[0] if row else ""
        rows = []
        for event in events:
            chained = event.chain_hash(prev_hash)
            rows.append((*event.row_values(), prev_hash, chained))
            prev_hash = chained
        self._insert_values("audit_events", _AUDIT_COLUMNS, rows)

    def verify_audit_chain(self) -> tuple[int, int | None]:
        """Recompute the chain: ``(records checked, id of the first broken record or None)``."""
        prev_hash = ""
        count = 0
        query = "SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_events"
        for row in self._conn().execute(query + " ORDER BY id"):
            event = AuditEvent(row[1], row[2], row[3], row[4], json.loads(row[5]))
            if row[6] != prev_hash or row[7] != event.chain_hash(prev_hash):
                return count, int(row[0])
            prev_hash = row[7]
            count += 1
        return count, None

    def events_for(self, subject: str) -> list[AuditEvent]:
        return [
            AuditEvent.from_row(r)
            for r in self._query(
                "SELECT at, actor, action, subject, detail FROM audit_events "
                "WHERE subject = ? ORDER BY id",
                [subject],
            )
        ]

    # --- KYC applications ----------------------------------------------------------------------

    def add_application(self, row: KycApplicationRow) -> None:
        self._insert("kyc_applications", row.to_row())

    def get_application(self, application_id: str) -> KycApplicationRow | None:
        rows = list(self._query("SELECT * FROM kyc_applications WHERE id = ?",
                                  [application_id]))
        return KycApplicationRow.from_row(rows[0]) if rows else None

    def find_application(
        self, broker_key_id: int, idempotency_key: str
    ) -> KycApplicationRow | None:
        rows = list(self._query(
            "SELECT * FROM kyc_applications WHERE broker_key_id = ? AND idempotency_key = ?",
            [broker_key_id, idempotency_key],
        ))
        return KycApplicationRow.from_row(rows[0]) if rows else None

    def applications_with_status(
        self, status: str, limit: int = 1000
    ) -> list[KycApplicationRow]:
        return [KycApplicationRow.from_row(r) for r in self._query(
            "SELECT * FROM kyc_applications WHERE status = ? ORDER BY created_at, id LIMIT ?",
            [status, limit],
        )]

    def update_application(self, application_id: str, **changes: Any) -> None:
        allowed = {"status", "kyc_level", "decision", "sealed_pii", "updated_at",
                   "relationship_ended_at", "restricted_at", "erased_at"}
        if not changes or set(changes) - allowed:
            raise StorageError(f"cannot update {sorted(set(changes) - allowed)}")
        if "decision" in changes:
            changes["decision"] = json.dumps(changes["decision"], sort_keys=True)
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self._writing().execute(
            f"UPDATE kyc_applications SET {assignments} WHERE id = ?",  # noqa: S608 (names fixed)
            [*changes.values(), application_id],
        )

    def put_data_key(self, application_id: str, wrapped: bytes) -> None:
        self._writing()["kyc_data_keys"].insert(
            {"application_id": application_id, "wrapped": wrapped}
        )

    def get_data_key(self, application_id: str) -> bytes | None:
        row = self._conn().execute(
            "SELECT wrapped FROM kyc_data_keys WHERE application_id = ?", (application_id,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def destroy_data_key(self, application_id: str) -> bool:
        """Delete a data key so that no copy stays in the file (crypto-shredding)."""
        self._writing()
        conn = self._conn()
        conn.execute("PRAGMA secure_delete = ON")  # freed cells are zeroed, not left behind
        cursor = conn.execute(
            "DELETE FROM kyc_data_keys WHERE application_id = ?", (application_id,)
        )
        return cursor.rowcount == 1

    def compact_after_erasure(self) -> None:
        """Checkpoint and truncate the WAL so erased pages leave no older copy on disk; run
        after the erasing transaction has committed."""
        self._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- watchlists ----------------------------------------------------------------------------

    def add_watchlist(self, list_id: str, source: str, version: str, published: str | None,
                      now: str, entries: Iterable[tuple[str, str]]) -> int:
        """Store a list version and its entries, making it the active version of ``source``."""
        self._writing()
        conn = self._conn()
        conn.execute("UPDATE watchlists SET active = 0 WHERE source = ?", (source,))
        conn.execute(
            "INSERT INTO watchlists (id, source, version, published, imported_at, entry_count) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            (list_id, source, version, published, now),
        )
        count = 0
        batch: list[tuple[str, str, str]] = []
        for entry_id, data in entries:
            batch.append((list_id, entry_id, data))
            if len(batch) >= 1000:
                conn.executemany("INSERT OR REPLACE INTO watchlist_entries VALUES (?, ?, ?)",
                                 batch)
                count += len(batch)
                batch.clear()
        conn.executemany("INSERT OR REPLACE INTO watchlist_entries VALUES (?, ?, ?)", batch)
        count += len(batch)
        conn.execute("UPDATE watchlists SET entry_count = ? WHERE id = ?", (count, list_id))
        return count

    def active_watchlists(self) -> list[dict[str, Any]]:
        return list(self._query(
            "SELECT id, source, version, published, imported_at, entry_count FROM watchlists "
            "WHERE active = 1 ORDER BY source"
        ))

    def watchlist_entry_data(self) -> Iterator[str]:
        """The JSON of every entry of every active list."""
        rows = self._conn().execute(
            "SELECT e.data FROM watchlist_entries e JOIN watchlists w ON w.id = e.list_id "
            "WHERE w.active = 1"
        )
        for row in rows:
            yield row[0]

    # --- registry: entries and tiles (the log this store holds) --------------------------------

    def registry_size(self) -> int:
        row = self._conn().execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM registry_entries")
        return int(row.fetchone()[0])

    def add_registry_entries(self, rows: Sequence[RegistryEntryRow]) -> None:
        """Insert integrated entries; ``(subject, prev)`` uniqueness refuses a forked chain."""
        self._writing()
        self._conn().executemany(
            "INSERT INTO registry_entries (idx, data, leaf_hash, type, subject, prev_idx, writer) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.index,
                    r.data,
                    r.leaf_hash,
                    r.type,
                    r.subject,
                    -1 if r.prev is None else r.prev,
                    r.writer,
                )
                for r in rows
            ],
        )

    def registry_entry(self, index: int) -> bytes | None:
        row = (
            self._conn()
            .execute("SELECT data FROM registry_entries WHERE idx = ?", (index,))
            .fetchone()
        )
        return bytes(row[0]) if row else None

    def registry_entries(self, start: int, end: int) -> list[bytes]:
        rows = self._conn().execute(
            "SELECT data FROM registry_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
            (start, end),
        )
        return [bytes(r[0]) for r in rows]

    def registry_leaf_hashes(self, start: int, end: int) -> list[bytes]:
        rows = self._conn().execute(
            "SELECT leaf_hash FROM registry_entries WHERE idx >= ? AND idx < ? ORDER BY idx",
            (start, end),
        )
        return [bytes(r[0]) for r in rows]

    def registry_subject_head(self, subject: str) -> int | None:
        row = (
            self._conn()
            .execute("SELECT MAX(idx) FROM registry_entries WHERE subject = ?", (subject,))
            .fetchone()
        )
        return None if row[0] is None else int(row[0])

    def registry_subject_chain(self, subject: str, limit: int = 10_000) -> list[tuple[int, bytes]]:
        rows = self._conn().execute(
            "SELECT idx, data FROM registry_entries WHERE subject = ? ORDER BY idx LIMIT ?",
            (subject, limit),
        )
        return [(int(r[0]), bytes(r[1])) for r in rows]

    def registry_entries_of_types(
        self, types: Sequence[str], start: int = 0
    ) -> list[tuple[int, bytes]]:
        marks = ",".join("?" * len(types))
        rows = self._conn().execute(
            f"SELECT idx, data FROM registry_entries WHERE type IN ({marks}) AND idx >= ? "  # noqa: S608
            "ORDER BY idx",
            (*types, start),
        )
        return [(int(r[0]), bytes(r[1])) for r in rows]

    def registry_find_leaf(self, leaf_hash: bytes) -> int | None:
        row = (
            self._conn()
            .execute("SELECT MIN(idx) FROM registry_entries WHERE leaf_hash = ?", (leaf_hash,))
            .fetchone()
        )
        return None if row[0] is None else int(row[0])

    def read_tiles(self, ids: Sequence[TileId]) -> dict[TileId, bytes]:
        """The stored tiles among ``ids``, in one query."""
        if not ids:
            return {}
        wanted = list(dict.fromkeys(ids))
        marks = ",".join("(?, ?)" for _ in wanted)
        rows = self._conn().execute(
            f"SELECT level, idx, hashes FROM registry_tiles WHERE (level, idx) IN (VALUES {marks})",  # noqa: S608
            [n for tile in wanted for n in (tile.level, tile.index)],
        )
        return {TileId(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}

    def write_tiles(self, tiles: Mapping[TileId, bytes]) -> None:
        self._writing()
        self._conn().executemany(
            "INSERT INTO registry_tiles (level, idx, hashes) VALUES (?, ?, ?) "
            "ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes",
            [(t.level, t.index, data) for t, data in tiles.items()],
        )

    # --- registry: checkpoints -------------------------------------------------------------------

    def add_checkpoint(self, size: int, root: bytes, note: bytes, now: str) -> None:
        self._writing()
        self._conn().execute(
            "INSERT INTO registry_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (size) DO UPDATE SET note = excluded.note WHERE root = excluded.root",
            (size, root, note, now),
        )

    def latest_checkpoint(self) -> tuple[int, bytes, bytes] | None:
        row = (
            self._conn()
            .execute("SELECT size, root, note FROM registry_checkpoints ORDER BY size DESC LIMIT 1")
            .fetchone()
        )
        return (int(row[0]), bytes(row[1]), bytes(row[2])) if row else None

    def checkpoint_at(self, size: int) -> tuple[int, bytes, bytes] | None:
        row = (
            self._conn()
            .execute("SELECT size, root, note FROM registry_checkpoints WHERE size = ?", (size,))
            .fetchone()
        )
        return (int(row[0]), bytes(row[1]), bytes(row[2])) if row else None

    # --- registry: witnessing other logs (C2SP tlog-witness) ------------------------------------

    def witnessed_logs(self) -> list[tuple[str, str]]:
        """``(origin, vkey)`` of every log this node witnesses."""
        rows = self._conn().execute("SELECT origin, vkey FROM witness_logs ORDER BY origin")
        return [(r[0], r[1]) for r in rows]

    def add_witnessed_log(self, origin: str, vkey: str, now: str) -> None:
        self._writing()
        self._conn().execute(
            "INSERT INTO witness_logs (origin, vkey, added_at) VALUES (?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET vkey = excluded.vkey",
            (origin, vkey, now),
        )

    def latest(self, origin: str) -> CosignedCheckpoint | None:
        """The latest checkpoint this witness cosigned for ``origin`` (``WitnessStore``)."""
        row = self._conn().execute(
            "SELECT origin, size, root, timestamp, note, cosignatures FROM witness_checkpoints "
            "WHERE origin = ?",
            (origin,),
        ).fetchone()
        if row is None:
            return None
        return CosignedCheckpoint(
            row[0], int(row[1]), bytes(row[2]), int(row[3]), bytes(row[4]), bytes(row[5])
        )

    def compare_and_swap(
        self, origin: str, expected_size: int | None, record: CosignedCheckpoint
    ) -> bool:
        """Store ``record`` iff the stored size is still ``expected_size``, in one statement."""
        with self.transaction():
            conn = self._conn()
            values = (record.size, record.root_hash, record.timestamp, record.note,
                      record.cosignatures)
            if expected_size is None:
                cursor = conn.execute(
                    "INSERT INTO witness_checkpoints "
                    "(size, root, timestamp, note, cosignatures, origin) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (origin) DO NOTHING",
                    (*values, origin),
                )
            else:
                cursor = conn.execute(
                    "UPDATE witness_checkpoints SET size = ?, root = ?, timestamp = ?, note = ?, "
                    "cosignatures = ? WHERE origin = ? AND size = ?",
                    (*values, origin, expected_size),
                )
            return cursor.rowcount == 1

    # --- registry: this log's witnesses ---------------------------------------------------------

    def registry_witnesses(self) -> list[tuple[str, str, str, int]]:
        """``(name, vkey, url, last size it cosigned)`` for each witness this log asks."""
        query = "SELECT name, vkey, url, size FROM registry_witnesses ORDER BY name"
        return [(r[0], r[1], r[2], int(r[3])) for r in self._conn().execute(query)]

    def put_registry_witness(self, name: str, vkey: str, url: str) -> None:
        self._writing()
        self._conn().execute(
            "INSERT INTO registry_witnesses (name, vkey, url) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET vkey = excluded.vkey, url = excluded.url",
            (name, vkey, url),
        )

    def set_registry_witness_size(self, name: str, size: int) -> None:
        self._writing()
        self._conn().execute("UPDATE registry_witnesses SET size = ? WHERE name = ?", (size, name))

    def remove_registry_witness(self, name: str) -> bool:
        self._writing()
        cursor = self._conn().execute("DELETE FROM registry_witnesses WHERE name = ?", (name,))
        return cursor.rowcount == 1

    # --- registry: mirror progress ----------------------------------------------------------------

    def mirror_state(self) -> MirrorStateRow | None:
        rows = self._query("SELECT * FROM mirror_state")
        return MirrorStateRow.from_row(rows[0]) if rows else None

    def put_mirror_state(self, row: MirrorStateRow) -> None:
        self._writing()["mirror_state"].upsert(row.to_row(), pk="origin")


def _split_sql(script: str) -> list[str]:
    """Split a script into statements; ``complete_statement`` keeps trigger bodies whole."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise StorageError("migration script ends inside a statement")
    return statements
