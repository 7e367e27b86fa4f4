"""Group commit: transactions queued behind each other share one COMMIT, and each still gets
all-or-nothing, durable-on-return semantics."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import errors
from storage import SqliteStore, open_store

NOW = "2026-01-01T00:00:00Z"


def _add_key(store: SqliteStore, name: str) -> None:
    store.add_api_key(name, "admin", name.encode().hex().ljust(64, "0"), "kyc_" + name, NOW)


def _names_on_disk(path: Path) -> set[str]:
    """What a separate connection (another process, after a crash) reads from the file."""
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM api_keys")}


def _queued(store: SqliteStore, count: int) -> None:
    deadline = time.monotonic() + 10
    while store._group.waiting < count:
        assert time.monotonic() < deadline, "the second writer never queued"
        time.sleep(0.001)


def _in_one_group(
    store: SqliteStore, first: Callable[[], None], second: Callable[[], None]
) -> tuple[BaseException | None, BaseException | None]:
    """Run ``first`` in a transaction that waits until ``second``'s transaction has queued
    behind it, so that the two end up in one group. Returns what each raised."""
    outcomes: list[BaseException | None] = [None, None]

    def run(index: int, body: Callable[[], None], hold: bool) -> None:
        try:
            with store.transaction():
                body()
                if hold:
                    _queued(store, 1)
        except BaseException as exc:  # reported to the test
            outcomes[index] = exc

    one = threading.Thread(target=run, args=(0, first, True))
    one.start()
    while not store._group.running:
        time.sleep(0.001)
    two = threading.Thread(target=run, args=(1, second, False))
    two.start()
    one.join(10)
    two.join(10)
    return outcomes[0], outcomes[1]


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    opened = open_store(tmp_path / "db.sqlite3")
    yield opened
    opened.close()


def test_queued_transactions_share_one_commit(store: SqliteStore, tmp_path: Path) -> None:
    with store.transaction():
        _add_key(store, "warm")  # the writer connection exists from here on
    statements: list[str] = []
    store._group.conn.set_trace_callback(statements.append)
    first, second = _in_one_group(
        store, lambda: _add_key(store, "a"), lambda: _add_key(store, "b")
    )
    assert (first, second) == (None, None)
    assert statements.count("COMMIT") == 1
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert _names_on_disk(tmp_path / "db.sqlite3") == {"warm", "a", "b"}


def test_a_failing_member_rolls_back_alone(store: SqliteStore, tmp_path: Path) -> None:
    def fails() -> None:
        _add_key(store, "b")
        raise RuntimeError("b fails")

    first, second = _in_one_group(store, lambda: _add_key(store, "a"), fails)
    assert first is None
    assert isinstance(second, RuntimeError)
    assert _names_on_disk(tmp_path / "db.sqlite3") == {"a"}


def test_a_failed_commit_fails_every_member_and_stores_nothing(
    store: SqliteStore, tmp_path: Path
) -> None:
    def breaks_the_commit() -> None:
        _add_key(store, "b")
        # A foreign key checked only at COMMIT: the data key of an application that does not
        # exist. The body itself succeeds; the group's COMMIT fails.
        store._conn().execute("PRAGMA defer_foreign_keys = ON")
        store.put_data_key("kyc_missing", b"wrapped")

    first, second = _in_one_group(store, lambda: _add_key(store, "a"), breaks_the_commit)
    assert isinstance(first, errors.StorageError)
    assert isinstance(second, errors.StorageError)
    assert "FOREIGN KEY" in str(first) and "FOREIGN KEY" in str(second)
    assert _names_on_disk(tmp_path / "db.sqlite3") == set()
    with store.transaction():  # and the store goes on working
        _add_key(store, "c")
    assert _names_on_disk(tmp_path / "db.sqlite3") == {"c"}


@pytest.mark.parametrize("seed", range(3))
def test_concurrent_transactions_each_all_or_nothing_and_durable_on_return(
    store: SqliteStore, tmp_path: Path, seed: int
) -> None:
    """8 threads x 40 transactions of two rows each, about a third failing after their first
    row: exactly the successful ones are stored, whole, and each is on disk when it returns."""
    committed: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()

    def worker(thread: int) -> None:
        chooser = random.Random(seed * 100 + thread)
        for number in range(40):
            name = f"t{thread}n{number}"
            fail = chooser.random() < 0.35
            try:
                with store.transaction():
                    _add_key(store, name)
                    if fail:
                        raise RuntimeError("planned")
                    _add_key(store, name + "x")
            except RuntimeError:
                continue
            # returned: committed, so any other connection reads it now
            if not {name, name + "x"} <= _names_on_disk(tmp_path / "db.sqlite3"):
                with lock:
                    problems.append(name)
            with lock:
                committed.append(name)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert problems == []
    expected = {n for name in committed for n in (name, name + "x")}
    assert _names_on_disk(tmp_path / "db.sqlite3") == expected
    assert 8 * 40 * 0.5 < len(committed) < 8 * 40 * 0.8


def test_a_writer_that_times_out_queued_leaves_the_group_working(
    store: SqliteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued writer gives up (busy); the member it left waiting still gets committed."""
    import storage.sqlite as module

    monkeypatch.setattr(module, "_BUSY_TIMEOUT_MS", 200)
    release = threading.Event()

    def slow() -> None:
        _add_key(store, "a")
        release.wait(5)

    def impatient() -> None:  # pragma: no cover - never runs: it times out queued
        _add_key(store, "never")

    holder = threading.Thread(target=lambda: _run(store, slow))
    holder.start()
    while not store._group.running:
        time.sleep(0.001)
    with pytest.raises(errors.StorageError, match="busy"):
        _run(store, impatient)
    release.set()
    holder.join(10)
    assert _names_on_disk(tmp_path / "db.sqlite3") == {"a"}


def _run(store: SqliteStore, body: Callable[[], None]) -> None:
    with store.transaction():
        body()


def test_memory_databases_are_refused() -> None:
    with pytest.raises(errors.StorageError, match="file"):
        SqliteStore(":memory:")
