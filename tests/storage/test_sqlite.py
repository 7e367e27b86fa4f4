"""The SQLite store on a real file: migrations, WAL, transactions, sealing at rest."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

import errors
from config import Config
from node import open_node
from storage import AuditEvent, Sealer, SqliteStore, load_or_create_master_key, open_store
from storage.migrations import MIGRATIONS


def test_migrations_apply_once_and_record_the_version(tmp_path: Path) -> None:
    store = open_store(tmp_path / "db.sqlite3")
    assert store.schema_version() == MIGRATIONS[-1][0]
    store.close()
    again = open_store(tmp_path / "db.sqlite3")  # re-opening must not re-run migrations
    assert again.schema_version() == MIGRATIONS[-1][0]
    assert again.db["schema_migrations"].count == len(MIGRATIONS)
    again.close()


def test_wal_mode(tmp_path: Path) -> None:
    store = open_store(tmp_path / "db.sqlite3")
    assert store.db.journal_mode == "wal"
    store.close()


def test_writes_outside_a_transaction_are_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path / "db.sqlite3")
    with pytest.raises(errors.StorageError):
        store.add_api_key("x", "admin", "h" * 64, "kyc_abc", "2026-01-01T00:00:00Z")
    assert store.list_api_keys() == []
    store.close()


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "db.sqlite3")
    before = store.row_counts()
    with pytest.raises(RuntimeError), store.transaction():
        store.add_api_key("x", "admin", "h" * 64, "kyc_abc", "2026-01-01T00:00:00Z")
        store.record_event(AuditEvent("2026-01-01T00:00:00Z", "t", "a", "s", {}))
        raise RuntimeError("boom")
    assert store.row_counts() == before
    store.close()


def test_nested_transaction_rolls_back_only_the_inner_part(tmp_path: Path) -> None:
    store = open_store(tmp_path / "db.sqlite3")
    with store.transaction():
        store.add_api_key("outer", "admin", "a" * 64, "kyc_a", "2026-01-01T00:00:00Z")
        with pytest.raises(RuntimeError), store.transaction():
            store.add_api_key("inner", "admin", "b" * 64, "kyc_b", "2026-01-01T00:00:00Z")
            raise RuntimeError("inner fails")
    assert [k.name for k in store.list_api_keys()] == ["outer"]
    store.close()


def test_unique_key_hash_violation_rolls_back(tmp_path: Path) -> None:
    store = open_store(tmp_path / "db.sqlite3")
    with store.transaction():
        store.add_api_key("one", "admin", "a" * 64, "kyc_a", "2026-01-01T00:00:00Z")
    with pytest.raises(Exception, match="UNIQUE"), store.transaction():
        store.record_event(AuditEvent("2026-01-01T00:00:00Z", "t", "a", "s", {}))
        store.add_api_key("two", "admin", "a" * 64, "kyc_a", "2026-01-01T00:00:00Z")
    assert store.db["audit_events"].count == 0
    store.close()


def test_sealer_round_trip_and_tamper_detection() -> None:
    sealer = Sealer(b"k" * 32)
    sealed = sealer.seal(b"secret", b"purpose")
    assert b"secret" not in sealed
    assert sealer.open(sealed, b"purpose") == b"secret"
    with pytest.raises(errors.SealedDataError):
        sealer.open(sealed, b"other purpose")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(errors.SealedDataError):
        sealer.open(tampered, b"purpose")
    with pytest.raises(errors.SealedDataError):
        Sealer(b"x" * 32).open(sealed, b"purpose")
    assert "k" * 8 not in repr(sealer)


def test_master_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    key = load_or_create_master_key(tmp_path, None)
    mode = stat.S_IMODE(os.stat(tmp_path / "master.key").st_mode)
    assert mode == 0o600
    assert load_or_create_master_key(tmp_path, None) == key
    with pytest.raises(errors.InvalidValue):
        load_or_create_master_key(tmp_path, "too-short")


def test_private_keys_are_sealed_on_disk(tmp_path: Path) -> None:
    node = open_node(Config.from_env({}, {"data_dir": tmp_path}))
    name = "issuing-ed25519"
    private_jwk = node.keyring.private_key(name).to_jwk(include_private=True)
    node.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("kyc.sqlite3*"))
    assert private_jwk["d"].encode() not in raw
    assert b'"d"' not in raw
    # A different master key cannot open them.
    other = SqliteStore(tmp_path / "kyc.sqlite3")
    from storage.keyring import Keyring

    with pytest.raises(errors.SealedDataError):
        Keyring(other, Sealer(b"z" * 32)).private_key(name)
    other.close()


def test_audit_trail_is_hash_chained_and_append_only(tmp_path: Path) -> None:
    store = open_store(tmp_path / "db.sqlite3")
    with store.transaction():
        for i in range(3):
            store.record_event(AuditEvent(f"2026-01-0{i + 1}T00:00:00Z", "t", "a", f"s{i}",
                                          {"n": i}))
    assert store.verify_audit_chain() == (3, None)
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_events SET action = 'x' WHERE id = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_events WHERE id = 2")
    # Someone with raw access drops the trigger and edits a record: the chain shows where.
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("UPDATE audit_events SET detail = ? WHERE id = 2", ('{"n": 9}',))
    conn.commit()
    conn.close()
    assert store.verify_audit_chain() == (1, 2)
    store.close()


def test_audit_rows_keep_the_chain_definition(tmp_path: Path) -> None:
    # Records written by earlier versions must still verify: the stored detail is
    # json.dumps(detail, sort_keys=True), the hash SHA-256 of the compact sorted JSON array.
    detail = {"z": "\u00e9\u6f22", "a": [1, 2.5, None], "m": {"y": True, "b": "x"}}
    event = AuditEvent("2026-01-01T00:00:00Z", "t\u00e9", "a", "s", detail)
    store = open_store(tmp_path / "db.sqlite3")
    with store.transaction():
        store.record_events([event, event])
    query = "SELECT detail, prev_hash, hash FROM audit_events ORDER BY id"
    rows = store.db.execute(query).fetchall()
    store.close()
    prev = ""
    for stored_detail, stored_prev, stored_hash in rows:
        assert stored_detail == json.dumps(detail, sort_keys=True)
        body = json.dumps([prev, event.at, event.actor, event.action, event.subject, detail],
                          sort_keys=True, separators=(",", ":"))
        assert stored_prev == prev
        assert stored_hash == hashlib.sha256(body.encode()).hexdigest()
        prev = stored_hash


def test_cli_audit_verify(runner) -> None:
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0 and "audit trail intact" in result.output


def test_request_threads_do_not_leak_connections(app) -> None:
    import threading

    store = app.extensions["kyc"].store
    client = app.test_client()

    def one_request() -> None:
        assert client.get("/registry/checkpoint").status_code == 200

    for _ in range(50):
        thread = threading.Thread(target=one_request)
        thread.start()
        thread.join()
    # the main thread's, one pooled and the writer connection: not one per request thread
    assert len(store._all_connections) <= 3


def test_derived_keys_depend_on_purpose_and_master_key() -> None:
    one, other = Sealer(bytes(32)), Sealer(bytes(range(32)))
    assert one.derive_key(b"a") == Sealer(bytes(32)).derive_key(b"a")  # stable across restarts
    assert len(one.derive_key(b"a")) == 32
    assert one.derive_key(b"a") != one.derive_key(b"b")
    assert one.derive_key(b"a") != other.derive_key(b"a")
    assert bytes(32) not in (one.derive_key(b"a"), one.derive_key(b"b"))
    with pytest.raises(errors.InvalidValue):
        one.derive_key(b"")
