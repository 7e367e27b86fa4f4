"""Errors specific to the transparency-log domain (Merkle proofs, notes, checkpoints, witnesses).

Every class here subclasses one category of the service-wide hierarchy in ``errors.py`` so the HTTP
layer can map it without knowing about transparency logs; the stable snake_case ``code`` tells
callers *which* check failed. The witness ``add-checkpoint`` status mapping that C2SP tlog-witness
mandates is documented (and exported as data) in ``registry/witness.py``.
"""

from __future__ import annotations

from errors import (
    Conflict,
    Forbidden,
    InvalidEncoding,
    InvalidSignature,
    InvalidValue,
    NotFound,
    StorageError,
    VerificationFailed,
)

__all__ = [
    "CheckpointInvalid",
    "ConsistencyProofInvalid",
    "ForkDetected",
    "InclusionProofInvalid",
    "InconsistentCheckpoint",
    "MissingTile",
    "NoteMalformed",
    "NoteSignatureInvalid",
    "NoteUnverified",
    "OldSizeMismatch",
    "OldSizeTooLarge",
    "QuorumNotMet",
    "RollbackDetected",
    "TilePathInvalid",
    "UnknownLog",
    "UntrustedCheckpoint",
    "WitnessRequestMalformed",
]


# --- Merkle tree (RFC 9162 §2.1) ------------------------------------------------------------------


class InclusionProofInvalid(VerificationFailed):
    """An inclusion proof does not prove the leaf at that index in a tree with that root/size."""

    code = "inclusion_proof_invalid"


class ConsistencyProofInvalid(VerificationFailed):
    """A consistency proof does not prove that tree 1 is a prefix of tree 2."""

    code = "consistency_proof_invalid"


class TilePathInvalid(InvalidValue):
    """A tlog-tiles resource path that is not in the one canonical form the spec allows."""

    code = "tile_path_invalid"


class MissingTile(StorageError):
    """The tile store lacks a tile (or enough of one) that a tree of the given size must have."""

    code = "missing_tile"


# --- signed notes and checkpoints (C2SP signed-note, tlog-checkpoint) -----------------------------


class NoteMalformed(InvalidEncoding):
    """A signed note, signature line, key name or vkey that breaks the signed-note format."""

    code = "note_malformed"


class NoteSignatureInvalid(InvalidSignature):
    """A signature by a *known* key (name and key ID match) failed to verify."""

    code = "note_signature_invalid"


class NoteUnverified(InvalidSignature):
    """No signature from any known key is present on the note."""

    code = "note_unverified"


class CheckpointInvalid(InvalidValue):
    """The note text is not a well-formed tlog-checkpoint body."""

    code = "checkpoint_invalid"


# --- witness (C2SP tlog-witness add-checkpoint) ---------------------------------------------------


class WitnessRequestMalformed(InvalidEncoding):
    """An add-checkpoint body that is not ``old <size>``, proof lines, a blank line, a note."""

    code = "witness_request_malformed"


class UnknownLog(NotFound):
    """The checkpoint origin is not a log this witness is configured for (spec: 404)."""

    code = "unknown_log"


class UntrustedCheckpoint(Forbidden):
    """No trusted log signature verifies on the submitted checkpoint (spec: 403)."""

    code = "untrusted_checkpoint"


class OldSizeTooLarge(InvalidValue):
    """The request's old size is larger than the checkpoint size (spec: 400)."""

    code = "old_size_too_large"


class OldSizeMismatch(Conflict):
    """The request's old size is not the size the witness last cosigned (spec: 409).

    ``stored_size`` is what the response body must carry (``"<size>\\n"``, ``text/x.tlog.size``).
    """

    code = "old_size_mismatch"

    def __init__(self, message: str = "", *, stored_size: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.stored_size = stored_size


class InconsistentCheckpoint(ConsistencyProofInvalid):
    """A correctly log-signed checkpoint the witness must not cosign (spec: 422).

    The consistency proof fails, the old size is 0 but a proof was sent, the size is 0 but the
    root is not the empty tree's, or the size equals the stored one but the root differs.
    ``evidence`` = (stored note or None, submitted note): the spec allows logging it as
    possible proof of log misbehaviour.
    """

    code = "inconsistent_checkpoint"

    def __init__(
        self, message: str = "", *, evidence: tuple[bytes | None, bytes], field: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.evidence = evidence


# --- mirror / verifier state ----------------------------------------------------------------------


class QuorumNotMet(VerificationFailed):
    """Too few trusted witness cosignatures verified on a checkpoint."""

    code = "witness_quorum_not_met"


class ForkDetected(VerificationFailed):
    """Two log-signed checkpoints for one origin that cannot both be true (split view).

    ``evidence`` holds both signed notes, exactly as received, so they can be published.
    ``proven`` is True when the notes alone prove it (one size, two roots); otherwise the log
    can still clear itself by producing a valid consistency proof between them.
    """

    code = "fork_detected"

    def __init__(
        self,
        message: str = "",
        *,
        evidence: tuple[bytes, bytes],
        proven: bool = False,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.evidence = evidence
        self.proven = proven


class RollbackDetected(VerificationFailed):
    """A validly signed checkpoint smaller than one already verified (stale or rolled-back view).

    ``evidence`` holds (previously verified note, offered note).
    """

    code = "rollback_detected"

    def __init__(
        self, message: str = "", *, evidence: tuple[bytes, bytes], field: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.evidence = evidence
