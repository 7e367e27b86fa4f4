"""Client / mirror view of a log: accept a checkpoint only if it is safe to move to.

Modelled on TUF's TrustedMetadataSet: a small immutable state (the last verified checkpoint)
and one update function that either returns the next state or raises, never half-updating.
A new checkpoint is accepted iff (C2SP tlog-checkpoint, tlog-cosignature, tlog-witness):

1. it is signed by a trusted log key and its origin is the configured one;
2. at least ``quorum`` distinct configured witnesses cosigned it (``cosignature/v1``), optionally
   with cosignature timestamps no older than ``max_age`` seconds before ``now`` and not more than
   ``max_skew`` seconds after it (witness time is the only time a checkpoint carries);
3. it is consistent with the last verified checkpoint: same size ⇒ same root, larger size ⇒ a
   valid RFC 9162 consistency proof, smaller size ⇒ rollback.

Failures that involve two log-signed checkpoints return *evidence* (both notes verbatim):
``ForkDetected`` (``proven`` when the sizes are equal and the roots differ, which needs no proof;
otherwise the log can clear itself only by producing a valid consistency proof) and
``RollbackDetected``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from errors import InvalidValue
from registry.checkpoint import Checkpoint, open_checkpoint
from registry.cosignature import Cosignature, CosignatureVerifier, verify_cosignatures
from registry.errors import (
    ConsistencyProofInvalid,
    ForkDetected,
    NoteUnverified,
    QuorumNotMet,
    RollbackDetected,
)
from registry.merkle import verify_consistency
from registry.note import Verifier

__all__ = ["LogPolicy", "VerifiedCheckpoint", "update", "verify_checkpoint"]


@dataclass(frozen=True, slots=True)
class LogPolicy:
    """What this client trusts for one log: its origin, keys, witnesses and quorum."""

    origin: str
    log_verifiers: tuple[Verifier, ...]
    witnesses: tuple[CosignatureVerifier, ...] = ()
    quorum: int = 0
    max_age: int | None = None
    max_skew: int = 60

    def __post_init__(self) -> None:
        if not self.origin or not self.log_verifiers:
            raise InvalidValue("a log policy needs an origin and at least one log key")
        if not 0 <= self.quorum <= len(self.witnesses):
            raise InvalidValue("quorum must be between 0 and the number of witnesses")


@dataclass(frozen=True, slots=True)
class VerifiedCheckpoint:
    """A checkpoint that passed ``verify_checkpoint``: the value, its note, its cosignatures."""

    checkpoint: Checkpoint
    note: bytes
    cosignatures: tuple[Cosignature, ...]


def verify_checkpoint(policy: LogPolicy, note: bytes, *, now: int) -> VerifiedCheckpoint:
    """Steps 1 and 2: log signature, origin, witness quorum (and freshness, if configured)."""
    signed = open_checkpoint(note, policy.log_verifiers, origin=policy.origin)
    cosignatures: tuple[Cosignature, ...] = ()
    if policy.witnesses:
        try:
            _, cosignatures = verify_cosignatures(note, policy.witnesses)
        except NoteUnverified:
            cosignatures = ()
    fresh = {
        (c.name, c.key_id)
        for c in cosignatures
        if c.timestamp <= now + policy.max_skew
        and (policy.max_age is None or c.timestamp >= now - policy.max_age)
    }
    if len(fresh) < policy.quorum:
        raise QuorumNotMet(f"{len(fresh)} of {policy.quorum} required witness cosignatures")
    return VerifiedCheckpoint(signed.checkpoint, bytes(note), cosignatures)


def update(
    policy: LogPolicy,
    trusted: VerifiedCheckpoint | None,
    note: bytes,
    proof: Sequence[bytes],
    *,
    now: int,
) -> VerifiedCheckpoint:
    """Move from ``trusted`` (None: first contact, trust on first use) to the checkpoint in
    ``note``, given a consistency proof from ``trusted``'s size. Returns the new trusted state."""
    new = verify_checkpoint(policy, note, now=now)
    if trusted is None:
        return new
    old, cp = trusted.checkpoint, new.checkpoint
    evidence = (trusted.note, new.note)
    if cp.size < old.size:
        raise RollbackDetected(
            f"offered size {cp.size} is older than verified size {old.size}", evidence=evidence
        )
    if cp.size == old.size:
        if cp.root_hash != old.root_hash:
            raise ForkDetected("two roots for one tree size", evidence=evidence, proven=True)
        if proof:
            raise ConsistencyProofInvalid("proof between equal sizes must be empty")
        return new
    if old.size == 0:
        if proof:
            raise ConsistencyProofInvalid("proof from the empty tree must be empty")
        return new
    try:
        verify_consistency(old.size, cp.size, proof, old.root_hash, cp.root_hash)
    except ConsistencyProofInvalid as exc:
        raise ForkDetected(f"not shown consistent: {exc}", evidence=evidence) from exc
    return new
