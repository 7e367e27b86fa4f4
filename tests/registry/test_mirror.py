"""Client/mirror checkpoint update: quorum, freshness, consistency, fork and rollback evidence."""

from __future__ import annotations

import hashlib

import pytest

from errors import InvalidValue
from registry import merkle, mirror, note
from registry.checkpoint import Checkpoint, sign_checkpoint
from registry.cosignature import Cosigner
from registry.errors import (
    CheckpointInvalid,
    ConsistencyProofInvalid,
    ForkDetected,
    NoteUnverified,
    QuorumNotMet,
    RollbackDetected,
)

ORIGIN = "example.com/log"
LOG = note.Ed25519Signer.from_seed(ORIGIN, hashlib.sha256(b"log").digest())
WITNESSES = [
    Cosigner.from_seed(f"w{i}.example", hashlib.sha256(b"w%d" % i).digest()) for i in range(3)
]
LEAVES = [merkle.leaf_hash(b"%d" % i) for i in range(50)]
FORK = [merkle.leaf_hash(b"fork %d" % i) for i in range(50)]
STORE = merkle.MemoryTileStore()
STORE.apply(merkle.integrate(STORE, 0, LEAVES))
POLICY = mirror.LogPolicy(ORIGIN, (LOG.verifier(),), tuple(w.verifier() for w in WITNESSES), 2)
NOW = 1_700_000_000


def _note(size: int, witnesses: int = 2, leaves: list[bytes] = LEAVES, at: int = NOW) -> bytes:
    cp = Checkpoint(ORIGIN, size, merkle.root(leaves[:size]))
    signed = sign_checkpoint(cp, [LOG])
    lines = "".join(w.cosign(cp, at) for w in WITNESSES[:witnesses]).encode()
    return note.append_signatures(signed, lines)


def test_happy_path_updates() -> None:
    state = mirror.update(POLICY, None, _note(5), [], now=NOW)
    assert state.checkpoint.size == 5 and len(state.cosignatures) == 2
    for size in (5, 9, 32, 50):
        proof = merkle.tile_consistency_proof(STORE, state.checkpoint.size, size)
        if state.checkpoint.size == size:
            proof = []
        state = mirror.update(POLICY, state, _note(size, 3), proof, now=NOW)
        assert state.checkpoint.size == size


def test_quorum_and_freshness() -> None:
    with pytest.raises(QuorumNotMet):
        mirror.verify_checkpoint(POLICY, _note(5, witnesses=1), now=NOW)
    with pytest.raises(QuorumNotMet):
        mirror.verify_checkpoint(POLICY, _note(5, witnesses=0), now=NOW)
    fresh = mirror.LogPolicy(ORIGIN, POLICY.log_verifiers, POLICY.witnesses, 2, max_age=600)
    mirror.verify_checkpoint(fresh, _note(5, at=NOW - 600), now=NOW)
    with pytest.raises(QuorumNotMet):
        mirror.verify_checkpoint(fresh, _note(5, at=NOW - 601), now=NOW)
    with pytest.raises(QuorumNotMet):
        mirror.verify_checkpoint(fresh, _note(5, at=NOW + 61), now=NOW)
    # The same witness twice counts once.
    cp = Checkpoint(ORIGIN, 5, merkle.root(LEAVES[:5]))
    twice = note.append_signatures(
        sign_checkpoint(cp, [LOG]), (WITNESSES[0].cosign(cp, NOW) * 2).encode()
    )
    with pytest.raises(QuorumNotMet):
        mirror.verify_checkpoint(POLICY, twice, now=NOW)
    no_witness_policy = mirror.LogPolicy(ORIGIN, (LOG.verifier(),))
    mirror.verify_checkpoint(no_witness_policy, _note(5, witnesses=0), now=NOW)


def test_log_signature_and_origin_are_required() -> None:
    other = note.Ed25519Signer.from_seed(ORIGIN, hashlib.sha256(b"other").digest())
    cp = Checkpoint(ORIGIN, 5, merkle.root(LEAVES[:5]))
    with pytest.raises(NoteUnverified):
        mirror.verify_checkpoint(POLICY, sign_checkpoint(cp, [other]), now=NOW)
    wrong_origin = mirror.LogPolicy("example.com/other", (LOG.verifier(),))
    with pytest.raises(CheckpointInvalid):
        mirror.verify_checkpoint(wrong_origin, _note(5), now=NOW)


def test_rollback_is_detected_with_evidence() -> None:
    state = mirror.update(POLICY, None, _note(20), [], now=NOW)
    older = _note(10)
    with pytest.raises(RollbackDetected) as err:
        mirror.update(POLICY, state, older, [], now=NOW)
    assert err.value.evidence == (state.note, older)


def test_same_size_fork_is_proven() -> None:
    state = mirror.update(POLICY, None, _note(20), [], now=NOW)
    forked = _note(20, leaves=FORK)
    with pytest.raises(ForkDetected) as err:
        mirror.update(POLICY, state, forked, [], now=NOW)
    assert err.value.proven and err.value.evidence == (state.note, forked)


def test_inconsistent_growth_is_a_suspected_fork() -> None:
    state = mirror.update(POLICY, None, _note(20), [], now=NOW)
    fork_store = merkle.MemoryTileStore()
    fork_store.apply(merkle.integrate(fork_store, 0, FORK))
    forked = _note(30, leaves=FORK)
    with pytest.raises(ForkDetected) as err:
        mirror.update(
            POLICY, state, forked, merkle.tile_consistency_proof(fork_store, 20, 30), now=NOW
        )
    assert not err.value.proven and err.value.evidence == (state.note, forked)
    # The state value is untouched: the caller still holds the last good checkpoint.
    assert state.checkpoint.size == 20


def test_proof_edge_cases() -> None:
    state = mirror.update(POLICY, None, _note(20), [], now=NOW)
    with pytest.raises(ConsistencyProofInvalid):
        mirror.update(POLICY, state, _note(20), [LEAVES[0]], now=NOW)
    empty = sign_checkpoint(Checkpoint(ORIGIN, 0, merkle.EMPTY_ROOT), [LOG])
    policy = mirror.LogPolicy(ORIGIN, (LOG.verifier(),))
    start = mirror.update(policy, None, empty, [], now=NOW)
    assert mirror.update(policy, start, _note(3), [], now=NOW).checkpoint.size == 3
    with pytest.raises(ConsistencyProofInvalid):
        mirror.update(policy, start, _note(3), [LEAVES[0]], now=NOW)


def test_policy_validation() -> None:
    with pytest.raises(InvalidValue):
        mirror.LogPolicy(ORIGIN, ())
    with pytest.raises(InvalidValue):
        mirror.LogPolicy(ORIGIN, (LOG.verifier(),), (), 1)
