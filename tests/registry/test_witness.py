"""C2SP tlog-witness add-checkpoint state machine: every outcome, request format, race."""

from __future__ import annotations

import base64
import hashlib

import pytest

from errors import all_error_classes
from registry import merkle, note, witness
from registry.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from registry.cosignature import Cosigner, verify_cosignatures
from registry.errors import (
    InconsistentCheckpoint,
    NoteMalformed,
    OldSizeMismatch,
    OldSizeTooLarge,
    UnknownLog,
    UntrustedCheckpoint,
    WitnessRequestMalformed,
)

ORIGIN = "example.com/log"
LOG = note.Ed25519Signer.from_seed(ORIGIN, hashlib.sha256(b"log").digest())
ROGUE = note.Ed25519Signer.from_seed(ORIGIN, hashlib.sha256(b"rogue").digest())
W1 = Cosigner.from_seed("witness.example/w1", hashlib.sha256(b"w1").digest())
W2 = Cosigner.from_seed("witness.example/w2", hashlib.sha256(b"w2").digest())

LEAVES = [merkle.leaf_hash(b"entry %d" % i) for i in range(40)]
STORE = merkle.MemoryTileStore()
STORE.apply(merkle.integrate(STORE, 0, LEAVES))
FORK = [merkle.leaf_hash(b"fork %d" % i) for i in range(40)]


def _checkpoint(size: int, leaves: list[bytes] = LEAVES, signer: note.Signer = LOG) -> bytes:
    return sign_checkpoint(Checkpoint(ORIGIN, size, merkle.root(leaves[:size])), [signer])


def _request(old: int, size: int, **kw: object) -> witness.AddCheckpointRequest:
    proof = merkle.tile_consistency_proof(STORE, old, size) if 0 < old < size else []
    return witness.AddCheckpointRequest(old, tuple(proof), _checkpoint(size, **kw))  # type: ignore[arg-type]


def _witness() -> witness.Witness:
    logs = {ORIGIN: witness.LogConfig(ORIGIN, (LOG.verifier(),))}
    return witness.Witness(logs, witness.MemoryWitnessStore(), (W1, W2))


def test_first_checkpoint_then_extensions() -> None:
    w = _witness()
    out = w.add_checkpoint(_request(0, 5).to_bytes(), timestamp=1000)
    assert out.previous is None
    assert (out.record.size, out.record.timestamp) == (5, 1000)
    # The response body is cosignature lines that verify on the submitted checkpoint.
    cosigned = note.append_signatures(out.record.note, out.body)
    cp, cosigs = verify_cosignatures(cosigned, [W1.verifier(), W2.verifier()])
    assert cp.size == 5 and [(c.name, c.timestamp) for c in cosigs] == [
        ("witness.example/w1", 1000),
        ("witness.example/w2", 1000),
    ]
    assert open_checkpoint(cosigned, [LOG.verifier()]).checkpoint == cp
    for old, new in [(5, 6), (6, 16), (16, 16), (16, 40)]:
        out = w.add_checkpoint(_request(old, new).to_bytes(), timestamp=2000 + new)
        assert out.record.size == new and out.previous is not None
    assert w.store.latest(ORIGIN).size == 40  # type: ignore[union-attr]


def test_unknown_log_is_404() -> None:
    w = _witness()
    body = witness.AddCheckpointRequest(
        0, (), sign_checkpoint(Checkpoint("other.example/log", 1, LEAVES[0]), [LOG])
    ).to_bytes()
    with pytest.raises(UnknownLog) as err:
        w.add_checkpoint(body, timestamp=1)
    assert witness.ADD_CHECKPOINT_STATUS[err.value.code] == 404


def test_untrusted_signature_is_403() -> None:
    w = _witness()
    with pytest.raises(UntrustedCheckpoint) as err:
        w.add_checkpoint(_request(0, 5, signer=ROGUE).to_bytes(), timestamp=1)
    assert witness.ADD_CHECKPOINT_STATUS[err.value.code] == 403
    # A signature line claiming the trusted key but not verifying.
    good = _checkpoint(5)
    text, sigs = good.split(b"\n\n")
    blob = bytearray(base64.b64decode(sigs.split(b" ")[2]))
    blob[-1] ^= 1
    forged = text + b"\n\n\xe2\x80\x94 " + ORIGIN.encode() + b" " + base64.b64encode(blob) + b"\n"
    with pytest.raises(UntrustedCheckpoint):
        w.add_checkpoint(witness.AddCheckpointRequest(0, (), forged).to_bytes(), timestamp=1)
    assert w.store.latest(ORIGIN) is None


def test_old_size_larger_than_checkpoint_is_400() -> None:
    w = _witness()
    w.add_checkpoint(_request(0, 5).to_bytes(), timestamp=1)
    with pytest.raises(OldSizeTooLarge) as err:
        w.add_checkpoint(
            witness.AddCheckpointRequest(6, (), _checkpoint(5)).to_bytes(), timestamp=2
        )
    assert witness.ADD_CHECKPOINT_STATUS[err.value.code] == 400


def test_old_size_mismatch_is_409_with_stored_size() -> None:
    w = _witness()
    with pytest.raises(OldSizeMismatch) as err:
        w.add_checkpoint(_request(3, 5).to_bytes(), timestamp=1)
    assert err.value.stored_size == 0
    w.add_checkpoint(_request(0, 5).to_bytes(), timestamp=1)
    with pytest.raises(OldSizeMismatch) as err:
        w.add_checkpoint(_request(0, 8).to_bytes(), timestamp=2)  # log forgot what we hold
    assert err.value.stored_size == 5
    assert witness.ADD_CHECKPOINT_STATUS[err.value.code] == 409
    assert witness.format_size_body(err.value.stored_size) == b"5\n"
    assert witness.SIZE_CONTENT_TYPE == "text/x.tlog.size"


@pytest.mark.parametrize(
    "case", ["bad-proof", "fork", "proof-from-zero", "empty-root", "same-size"]
)
def test_inconsistent_checkpoints_are_422_with_evidence(case: str) -> None:
    w = _witness()
    if case not in {"proof-from-zero", "empty-root"}:
        w.add_checkpoint(_request(0, 10).to_bytes(), timestamp=1)
    if case == "bad-proof":
        req = _request(10, 20)
        req = witness.AddCheckpointRequest(10, (*req.proof[:-1], bytes(32)), req.checkpoint)
    elif case == "fork":
        # A valid proof, but for another history: it cannot link the witness's size-10 root.
        fork_store = merkle.MemoryTileStore()
        fork_store.apply(merkle.integrate(fork_store, 0, FORK))
        proof = merkle.tile_consistency_proof(fork_store, 10, 20)
        req = witness.AddCheckpointRequest(10, tuple(proof), _checkpoint(20, FORK))
    elif case == "proof-from-zero":
        req = witness.AddCheckpointRequest(0, (LEAVES[0],), _checkpoint(5))
    elif case == "empty-root":
        bad = sign_checkpoint(Checkpoint(ORIGIN, 0, LEAVES[0]), [LOG])
        req = witness.AddCheckpointRequest(0, (), bad)
    else:
        req = witness.AddCheckpointRequest(10, (), _checkpoint(10, FORK))
    before = w.store.latest(ORIGIN)
    with pytest.raises(InconsistentCheckpoint) as err:
        w.add_checkpoint(req.to_bytes(), timestamp=2)
    assert witness.ADD_CHECKPOINT_STATUS[err.value.code] == 422
    assert err.value.evidence == (before.note if before else None, req.checkpoint)
    assert w.store.latest(ORIGIN) == before  # nothing cosigned, nothing stored


def test_empty_tree_checkpoint_is_accepted() -> None:
    w = _witness()
    empty = sign_checkpoint(Checkpoint(ORIGIN, 0, merkle.EMPTY_ROOT), [LOG])
    out = w.add_checkpoint(witness.AddCheckpointRequest(0, (), empty).to_bytes(), timestamp=1)
    assert out.record.size == 0
    out = w.add_checkpoint(_request(0, 3).to_bytes(), timestamp=2)
    assert out.record.size == 3


def test_pure_transition_leaves_the_old_state_alone() -> None:
    state = witness.WitnessState({ORIGIN: witness.LogConfig(ORIGIN, (LOG.verifier(),))})
    new_state, outcome = witness.add_checkpoint(state, _request(0, 7), cosigners=[W1], timestamp=9)
    assert state.latest == {} and new_state.latest[ORIGIN] == outcome.record
    with pytest.raises(OldSizeMismatch):
        witness.add_checkpoint(new_state, _request(0, 8), cosigners=[W1], timestamp=10)
    assert new_state.latest[ORIGIN].size == 7


def test_lost_race_answers_409_with_the_winning_size() -> None:
    w = _witness()
    w.add_checkpoint(_request(0, 10).to_bytes(), timestamp=1)

    class RacingStore(witness.MemoryWitnessStore):
        def compare_and_swap(
            self, origin: str, expected_size: int | None, record: witness.CosignedCheckpoint
        ) -> bool:
            # A concurrent request for size 30 commits between our read and our write.
            if record.size != 30:
                winner = witness.evaluate_add_checkpoint(
                    _request(10, 30),
                    log=w.logs[ORIGIN],
                    latest=self.records[ORIGIN],
                    cosigners=[W1],
                    timestamp=2,
                )
                super().compare_and_swap(origin, 10, winner.record)
            return super().compare_and_swap(origin, expected_size, record)

    racing = RacingStore(dict(w.store.records))  # type: ignore[attr-defined]
    w2 = witness.Witness(w.logs, racing, (W1,))
    with pytest.raises(OldSizeMismatch) as err:
        w2.add_checkpoint(_request(10, 20).to_bytes(), timestamp=3)
    assert err.value.stored_size == 30
    assert racing.latest(ORIGIN).size == 30  # type: ignore[union-attr]  # never rolled back


SPEC_EXAMPLE_BODY = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/"
    "V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
).encode()


def test_request_format_spec_example_and_round_trip() -> None:
    req = witness.AddCheckpointRequest.parse(SPEC_EXAMPLE_BODY)
    assert req.old_size == 20852014 and len(req.proof) == 4
    assert req.origin() == "example.com/behind-the-sofa"
    assert req.checkpoint.startswith(b"example.com/behind-the-sofa\n20852163\n")
    assert req.to_bytes() == SPEC_EXAMPLE_BODY
    zero = witness.AddCheckpointRequest(0, (), b"x\n")
    assert zero.to_bytes() == b"old 0\n\nx\n"
    assert witness.AddCheckpointRequest.parse(zero.to_bytes()) == zero
    full = witness.AddCheckpointRequest(1, tuple(LEAVES[:2] * 31 + LEAVES[:1]), b"x\n")
    assert witness.AddCheckpointRequest.parse(full.to_bytes()) == full


H = base64.b64encode(bytes(32))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 5",
        b"old 5\n",
        b"old 5\nx\n",
        b"old 05\n\nx\n",
        b"old -1\n\nx\n",
        b"old +1\n\nx\n",
        b"Old 5\n\nx\n",
        b"old  5\n\nx\n",
        b"old 5 \n\nx\n",
        b"old\t5\n\nx\n",
        b"old 18446744073709551616\n\nx\n",
        b"old 5\r\n\r\nx\n",
        b"old 5\n" + H + b"\nx\n",  # no empty line before the checkpoint
        b"old 5\n" + H[:-1] + b"\n\nx\n",  # unpadded
        b"old 5\n" + base64.b64encode(bytes(31)) + b"\n\nx\n",
        b"old 5\n" + H + b" \n\nx\n",
        b"old 5\n" + (H + b"\n") * 64 + b"\nx\n",  # 64 proof lines
        b"old 5\n\n",  # no checkpoint
        b"old 5\n\xff\n\nx\n",
    ],
)
def test_malformed_request_bodies_are_400(body: bytes) -> None:
    with pytest.raises(WitnessRequestMalformed) as err:
        witness.AddCheckpointRequest.parse(body)
    assert witness.ADD_CHECKPOINT_STATUS[err.value.code] == 400


def test_garbage_checkpoint_is_400() -> None:
    w = _witness()
    for checkpoint in [b"\n", b"\xff\xfe\n", b"no newline"]:
        with pytest.raises(NoteMalformed):
            w.add_checkpoint(
                witness.AddCheckpointRequest(0, (), checkpoint).to_bytes(), timestamp=1
            )
    with pytest.raises(NoteMalformed):
        w.add_checkpoint(b"old 0\n\n" + ORIGIN.encode() + b"\nno signatures\n", timestamp=1)


def test_status_table_names_real_error_codes() -> None:
    codes = {cls.code for cls in all_error_classes()}
    assert set(witness.ADD_CHECKPOINT_STATUS) <= codes
