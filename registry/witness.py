"""C2SP tlog-witness ``add-checkpoint``: the witness decision as a pure state machine.

Request body ("add-checkpoint"): an old size line ``old <decimal, no leading zeros>\\n``, zero to
63 lines of one base64 consistency-proof hash each, an empty line, then the signed checkpoint
note. On success the response body is one cosignature line per witness key.

State: per log origin, the verifier key(s) trusted for it (``LogConfig``) and the latest
checkpoint this witness cosigned (``CosignedCheckpoint``). Checks, in the spec's order, and the
error each raises (``code`` → the HTTP status the spec mandates; ``ADD_CHECKPOINT_STATUS``):

======================================================  ===============================  ======
situation                                               error (``code``)                 status
======================================================  ===============================  ======
body is not the format above                            ``witness_request_malformed``    400
note or checkpoint text malformed                       ``note_malformed`` /             400
                                                        ``checkpoint_invalid``
origin not configured                                   ``unknown_log``                  404
no trusted log signature verifies (or a known one       ``untrusted_checkpoint``         403
fails)
old size > checkpoint size                              ``old_size_too_large``           400
old size != size last cosigned (0 if none)              ``old_size_mismatch``            409
                                                        (body ``"<stored size>\\n"``,
                                                        ``Content-Type: text/x.tlog.size``)
size 0 without the empty-tree root; old 0 with a        ``inconsistent_checkpoint``      422
proof; same size, different root; proof fails
success                                                 (returns cosignature lines)      200
======================================================  ===============================  ======

(Older drafts of the spec answered "same size, different root" with 409; the current text and
transparency-dev/witness use 422, as here.)

Atomicity: the spec requires checking the old size and persisting the new checkpoint atomically,
or two racing requests can roll the witness back. ``Witness`` does this with the store's
compare-and-swap and answers a lost race with 409 and the size that won.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from errors import InvalidValue
from registry.checkpoint import open_checkpoint
from registry.cosignature import Cosigner
from registry.errors import (
    ConsistencyProofInvalid,
    InconsistentCheckpoint,
    NoteMalformed,
    NoteSignatureInvalid,
    NoteUnverified,
    OldSizeMismatch,
    OldSizeTooLarge,
    UnknownLog,
    UntrustedCheckpoint,
    WitnessRequestMalformed,
)
from registry.merkle import EMPTY_ROOT, HASH_SIZE, MAX_TREE_SIZE, verify_consistency
from registry.note import Verifier, strict_b64decode

__all__ = [
    "ADD_CHECKPOINT_STATUS",
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointOutcome",
    "AddCheckpointRequest",
    "CosignedCheckpoint",
    "LogConfig",
    "MemoryWitnessStore",
    "Witness",
    "WitnessState",
    "WitnessStore",
    "add_checkpoint",
    "evaluate_add_checkpoint",
    "format_size_body",
]

MAX_PROOF_LINES = 63
DEFAULT_MAX_BODY = 1 << 20
SIZE_CONTENT_TYPE = "text/x.tlog.size"

# The statuses tlog-witness mandates, by error code; api/errors.py should prefer these over its
# category defaults on the add-checkpoint route.
ADD_CHECKPOINT_STATUS: Mapping[str, int] = {
    "witness_request_malformed": 400,
    "note_malformed": 400,
    "checkpoint_invalid": 400,
    "old_size_too_large": 400,
    "unknown_log": 404,
    "untrusted_checkpoint": 403,
    "old_size_mismatch": 409,
    "inconsistent_checkpoint": 422,
}

_OLD_RE = re.compile(rb"old (0|[1-9][0-9]{0,19})")


def format_size_body(size: int) -> bytes:
    """The 409 response body: the stored size in decimal and a newline."""
    return b"%d\n" % size


# --- request --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddCheckpointRequest:
    """An add-checkpoint request: old size, consistency proof, signed checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.old_size, int) or not 0 <= self.old_size <= MAX_TREE_SIZE:
            raise InvalidValue("old size out of range", field="old_size")
        if len(self.proof) > MAX_PROOF_LINES:
            raise WitnessRequestMalformed("at most 63 consistency proof lines")
        if any(not isinstance(h, bytes) or len(h) != HASH_SIZE for h in self.proof):
            raise WitnessRequestMalformed("proof hashes must be 32 bytes")
        if not isinstance(self.checkpoint, bytes) or not self.checkpoint:
            raise WitnessRequestMalformed("missing checkpoint")

    def to_bytes(self) -> bytes:
        lines = [b"old %d\n" % self.old_size]
        lines += [base64.b64encode(h) + b"\n" for h in self.proof]
        return b"".join(lines) + b"\n" + self.checkpoint

    @classmethod
    def parse(cls, body: bytes, *, max_bytes: int = DEFAULT_MAX_BODY) -> AddCheckpointRequest:
        """Parse a request body strictly (every line newline-terminated, canonical base64)."""
        if not isinstance(body, bytes) or len(body) > max_bytes:
            raise WitnessRequestMalformed("body missing or too large")
        first, sep, rest = body.partition(b"\n")
        match = _OLD_RE.fullmatch(first)
        if not sep or match is None:
            raise WitnessRequestMalformed("first line must be 'old <size>'")
        old_size = int(match.group(1))
        if old_size > MAX_TREE_SIZE:
            raise WitnessRequestMalformed("old size out of range")
        proof: list[bytes] = []
        while True:
            line, sep, rest = rest.partition(b"\n")
            if not sep:
                raise WitnessRequestMalformed("no empty line before the checkpoint")
            if not line:
                break
            if len(proof) == MAX_PROOF_LINES:
                raise WitnessRequestMalformed("at most 63 consistency proof lines")
            try:
                digest = strict_b64decode(line.decode("ascii"))
            except (NoteMalformed, UnicodeDecodeError) as exc:
                raise WitnessRequestMalformed("proof line is not canonical base64") from exc
            if len(digest) != HASH_SIZE:
                raise WitnessRequestMalformed("proof hash must be 32 bytes")
            proof.append(digest)
        return cls(old_size, tuple(proof), rest)

    def origin(self) -> str:
        """The checkpoint's first line, read *before* verification only to pick the log's keys."""
        first, sep, _ = self.checkpoint.partition(b"\n")
        try:
            origin = first.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteMalformed("checkpoint is not UTF-8") from exc
        if not sep or not origin:
            raise NoteMalformed("checkpoint has no origin line")
        return origin


# --- state ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogConfig:
    """A log this witness serves: its origin and the key(s) its checkpoints must be signed by."""

    origin: str
    verifiers: tuple[Verifier, ...]

    def __post_init__(self) -> None:
        if not self.origin or not self.verifiers:
            raise InvalidValue("a log needs an origin and at least one verifier key")


@dataclass(frozen=True, slots=True)
class CosignedCheckpoint:
    """The witness's record for one log: the latest checkpoint it cosigned, and when.

    ``note`` is the log-signed checkpoint exactly as submitted; ``cosignatures`` are the lines
    this witness returned (``note + cosignatures`` is what a monitoring endpoint would serve).
    """

    origin: str
    size: int
    root_hash: bytes
    timestamp: int
    note: bytes
    cosignatures: bytes


@dataclass(frozen=True, slots=True)
class AddCheckpointOutcome:
    """A successful add-checkpoint: the new record, and the response body (cosignature lines)."""

    record: CosignedCheckpoint
    previous: CosignedCheckpoint | None

    @property
    def body(self) -> bytes:
        return self.record.cosignatures


def evaluate_add_checkpoint(
    request: AddCheckpointRequest,
    *,
    log: LogConfig | None,
    latest: CosignedCheckpoint | None,
    cosigners: Sequence[Cosigner],
    timestamp: int,
) -> AddCheckpointOutcome:
    """Decide one request against one log's config and latest record. Pure: raises or returns.

    ``log`` is the config for ``request.origin()`` (None if unknown); ``latest`` its record.
    """
    if not cosigners:
        raise InvalidValue("the witness has no cosigning key")
    if log is None:
        raise UnknownLog("unknown log origin")
    try:
        signed = open_checkpoint(request.checkpoint, log.verifiers, origin=log.origin)
    except (NoteUnverified, NoteSignatureInvalid) as exc:
        raise UntrustedCheckpoint("no trusted log signature verifies") from exc
    cp = signed.checkpoint
    if request.old_size > cp.size:
        raise OldSizeTooLarge("old size is larger than the checkpoint size", field="old_size")
    stored = latest.size if latest is not None else 0
    if request.old_size != stored:
        raise OldSizeMismatch(f"last cosigned size is {stored}", stored_size=stored)

    evidence = (latest.note if latest is not None else None, bytes(request.checkpoint))
    if cp.size == 0 and cp.root_hash != EMPTY_ROOT:
        raise InconsistentCheckpoint("size 0 needs the empty tree root", evidence=evidence)
    if request.old_size == 0:
        # Every tree extends the empty one; a proof here means the client is confused.
        if request.proof:
            raise InconsistentCheckpoint("proof must be empty from size 0", evidence=evidence)
    elif latest is not None:  # always true here: old size == stored size > 0
        try:
            verify_consistency(latest.size, cp.size, request.proof, latest.root_hash, cp.root_hash)
        except ConsistencyProofInvalid as exc:
            raise InconsistentCheckpoint(str(exc), evidence=evidence) from exc

    lines = "".join(c.cosign(cp, timestamp) for c in cosigners).encode()
    record = CosignedCheckpoint(
        cp.origin, cp.size, cp.root_hash, timestamp, bytes(request.checkpoint), lines
    )
    return AddCheckpointOutcome(record, latest)


@dataclass(frozen=True, slots=True)
class WitnessState:
    """Whole witness state as a value: configured logs and the latest record per origin."""

    logs: Mapping[str, LogConfig]
    latest: Mapping[str, CosignedCheckpoint] = field(default_factory=dict)


def add_checkpoint(
    state: WitnessState,
    request: AddCheckpointRequest,
    *,
    cosigners: Sequence[Cosigner],
    timestamp: int,
) -> tuple[WitnessState, AddCheckpointOutcome]:
    """The state transition: the new state (only on success) and the outcome."""
    origin = request.origin()
    outcome = evaluate_add_checkpoint(
        request,
        log=state.logs.get(origin),
        latest=state.latest.get(origin),
        cosigners=cosigners,
        timestamp=timestamp,
    )
    return replace(state, latest={**state.latest, origin: outcome.record}), outcome


# --- persistence ----------------------------------------------------------------------------------


class WitnessStore(Protocol):
    """Durable per-origin witness records (what the storage layer implements)."""

    def latest(self, origin: str) -> CosignedCheckpoint | None: ...

    def compare_and_swap(
        self, origin: str, expected_size: int | None, record: CosignedCheckpoint
    ) -> bool:
        """Store ``record`` iff the stored size is still ``expected_size`` (None: no record),
        atomically (one transaction / conditional UPDATE); return whether it was stored."""
        ...


@dataclass(slots=True)
class MemoryWitnessStore:
    """In-memory ``WitnessStore`` for tests (single-threaded)."""

    records: dict[str, CosignedCheckpoint] = field(default_factory=dict)

    def latest(self, origin: str) -> CosignedCheckpoint | None:
        return self.records.get(origin)

    def compare_and_swap(
        self, origin: str, expected_size: int | None, record: CosignedCheckpoint
    ) -> bool:
        current = self.records.get(origin)
        if (current.size if current is not None else None) != expected_size:
            return False
        self.records[origin] = record
        return True


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness over an injected store: parse, decide, compare-and-swap."""

    logs: Mapping[str, LogConfig]
    store: WitnessStore
    cosigners: tuple[Cosigner, ...]

    def add_checkpoint(self, body: bytes, *, timestamp: int) -> AddCheckpointOutcome:
        """Handle one add-checkpoint body; ``outcome.body`` is the 200 response body."""
        request = AddCheckpointRequest.parse(body)
        origin = request.origin()
        latest = self.store.latest(origin)
        outcome = evaluate_add_checkpoint(
            request,
            log=self.logs.get(origin),
            latest=latest,
            cosigners=self.cosigners,
            timestamp=timestamp,
        )
        expected = latest.size if latest is not None else None
        if not self.store.compare_and_swap(origin, expected, outcome.record):
            # Another request won the race; answer as if it had come first (spec's race rule).
            winner = self.store.latest(origin)
            stored = winner.size if winner is not None else 0
            raise OldSizeMismatch(f"last cosigned size is {stored}", stored_size=stored)
        return outcome
