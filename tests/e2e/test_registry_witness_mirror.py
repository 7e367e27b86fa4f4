"""Two real nodes on loopback: A runs the log, B witnesses and mirrors it.

B mirrors A and cosigns its checkpoints. Then A is rolled back to an older copy of its database
(B's next sync detects the rollback), and A's history is rewritten from there (B's witness refuses
to cosign the forked tree and B's sync detects the fork). Each detection leaves evidence.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import errors
from identity.did_key import did_from_public_key
from identity.keys import KeyType, PrivateKey
from registry.checkpoint import open_checkpoint
from registry.cosignature import CosignatureVerifier, verify_cosignatures
from registry.entries import EntryType, sign_entry
from registry.note import Ed25519Verifier
from tests.e2e.conftest import NodeProcess

pytestmark = pytest.mark.e2e


def _publish(node: NodeProcess, origin: str, key: PrivateKey, writer: str, count: int,
             tag: str) -> None:
    for i in range(count):
        uri = f"https://{tag}.example/status/{i}"
        entry = sign_entry(
            log=origin, entry_type=EntryType.STATUS_PUBLISH, subject=uri, prev=None,
            time="2026-11-24T12:00:00Z", nonce=secrets.token_bytes(16),
            payload={"list_uri": uri, "version": 1, "token_sha256": secrets.token_hex(32),
                     "purpose": "revocation"},
            writer=writer, keys=[key],
        )
        status, body = node.post_json("/registry/entries", entry.to_json())
        assert status == 201, body


def _wait_cosigned(node: NodeProcess, log_vkey: str, witness_vkey: str, size: int) -> bytes:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, note = node.get("/registry/checkpoint")
        assert status == 200
        checkpoint = open_checkpoint(note, [Ed25519Verifier.from_vkey(log_vkey)]).checkpoint
        if checkpoint.size == size:
            witness = CosignatureVerifier.from_vkey(witness_vkey)
            try:
                _cp, cosigs = verify_cosignatures(note, [witness])
            except errors.Error:
                cosigs = ()
            if cosigs:
                return note
        time.sleep(0.2)
    raise AssertionError(f"checkpoint {size} was not cosigned in time")


def _backup(node: NodeProcess, target: Path) -> None:
    source = sqlite3.connect(node.data_dir / "kyc.sqlite3")
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()


def test_witness_and_mirror_detect_rollback_and_fork(
    make_node: Callable[[str], NodeProcess], tmp_path: Path
) -> None:
    a, b = make_node("broker-a"), make_node("bank-b")
    a.start()
    b.start()
    a_vkey = a.cli("registry", "vkey").stdout.strip()
    origin = a_vkey.split("+", 1)[0]
    b_witness = b.cli("witness", "vkey").stdout.strip()
    governance = json.loads(a.get("/registry/policy")[1])["governance"]["keys"][0]

    b.cli("witness", "add-log", origin, a_vkey)
    a.cli("registry", "add-witness", "bank-b", b_witness, b.url + "/witness")

    writer_key = PrivateKey.generate(KeyType.ED25519)
    writer = did_from_public_key(writer_key.public_key)
    a.cli("registry", "authorize", writer, "--roles", "writer")
    # size: 2 (A's authorisation and DID) + 1 (the test writer's) + 3 = 6
    _publish(a, origin, writer_key, writer, 3, "first")
    _wait_cosigned(a, a_vkey, b_witness, 6)

    mirror_args = ["registry", "mirror", a.url, "--log-key", a_vkey,
                   "--governance-key", governance, "--witness", b_witness, "--quorum", "1"]
    first_sync = b.cli(*mirror_args)
    assert "verified 0 -> 6" in first_sync.stdout

    # B now resolves A's did:webvh DID from its verified mirror, without asking A.
    a_did = json.loads(a.get("/institution")[1])["did"]
    status, body = b.get(f"/1.0/identifiers/{a_did}")
    assert status == 200, body
    resolved = json.loads(body)
    assert resolved["didDocument"]["id"] == a_did
    assert resolved["didDocumentMetadata"]["registry"]["origin"] == origin

    _backup(a, tmp_path / "a-at-6.sqlite3")
    _publish(a, origin, writer_key, writer, 5, "second")
    _wait_cosigned(a, a_vkey, b_witness, 11)
    assert "verified 6 -> 11" in b.cli(*mirror_args).stdout

    # A is rolled back to its older database: B's mirror refuses to go back.
    a.stop()
    for suffix in ("", "-wal", "-shm"):
        (a.data_dir / f"kyc.sqlite3{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "a-at-6.sqlite3", a.data_dir / "kyc.sqlite3")
    a.start()
    rollback = b.cli(*mirror_args[:-2], "--quorum", "0", check=False)
    assert rollback.returncode != 0
    assert "rollback_detected" in rollback.stderr
    assert "evidence written to" in rollback.stderr

    # A rewrites history from 6 on: a different tree of the same size 11.
    _publish(a, origin, writer_key, writer, 5, "forged")
    cosign = a.cli("registry", "cosign", check=False)
    assert cosign.returncode != 0
    assert "refused (422)" in cosign.stdout  # B's witness will not cosign the fork
    fork = b.cli(*mirror_args[:-2], "--quorum", "0", check=False)
    assert fork.returncode != 0
    assert "fork_detected" in fork.stderr
    evidence_files = sorted((b.data_dir / "mirrors" / "evidence").glob("*.json"))
    assert len(evidence_files) == 2
    evidence = [json.loads(p.read_text()) for p in evidence_files]
    assert {e["error"] for e in evidence} == {"rollback_detected", "fork_detected"}
    for item in evidence:  # both signed checkpoints are kept, and both verify under A's key
        for note in (item["last_verified_checkpoint"], item["offending_checkpoint"]):
            open_checkpoint(note.encode(), [Ed25519Verifier.from_vkey(a_vkey)])

    # With the quorum required, the forked checkpoint is not even a candidate.
    quorum = b.cli(*mirror_args, check=False)
    assert quorum.returncode != 0 and "witness_quorum_not_met" in quorum.stderr
