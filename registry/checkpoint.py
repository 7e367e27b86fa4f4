"""C2SP tlog-checkpoint v1.0.0: the note text of a log's signed tree head.

Note text ("Note text"): at least three non-empty lines, each ending in U+000A:

1. the **origin**, a non-empty unique identity of the log;
2. the **tree size**, ASCII decimal without leading zeros (``0`` for the empty tree);
3. the **root hash**, standard base64 (RFC 4648 §4) of the 32-byte RFC 6962 root;
4. optional, opaque, non-empty **extension lines** (NOT RECOMMENDED: monitors cannot audit them).

``Checkpoint.parse(c.to_text()) == c`` and ``Checkpoint.parse(t).to_text() == t`` for every
accepted ``t``: only the one canonical spelling of each value is accepted, so a checkpoint's bytes
are a function of its content (which is what witnesses and cosignatures sign). Signing and
verification go through ``registry.note``; the log key name SHOULD equal the origin.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from registry.errors import CheckpointInvalid, NoteMalformed
from registry.merkle import HASH_SIZE, MAX_TREE_SIZE
from registry.note import Signer, Verifier, open_note_detailed, sign_note, strict_b64decode

__all__ = ["Checkpoint", "SignedCheckpoint", "open_checkpoint", "sign_checkpoint"]

_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}", re.ASCII)


def _check_line(line: object, what: str) -> str:
    if not isinstance(line, str) or not line:
        raise CheckpointInvalid(f"{what} must be a non-empty line", field=what)
    if any(c < " " for c in line):
        raise CheckpointInvalid(f"{what} contains a newline or control character", field=what)
    return line


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: origin, tree size, RFC 6962 root hash, and extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if not isinstance(self.size, int) or isinstance(self.size, bool):
            raise CheckpointInvalid("tree size must be an integer", field="size")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointInvalid("tree size out of uint64 range", field="size")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise CheckpointInvalid("root hash must be 32 bytes", field="root_hash")
        if not isinstance(self.extensions, tuple):
            raise CheckpointInvalid("extensions must be a tuple of lines", field="extensions")
        for line in self.extensions:
            _check_line(line, "extensions")

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text strictly (see the module docstring)."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise CheckpointInvalid("checkpoint text must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointInvalid("checkpoint needs origin, size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE_RE.fullmatch(size_text):
            raise CheckpointInvalid("tree size must be decimal without leading zeros")
        try:
            root_hash = strict_b64decode(root_text)
        except NoteMalformed as exc:
            raise CheckpointInvalid("root hash must be canonical standard base64") from exc
        return cls(origin, int(size_text), root_hash, tuple(extensions))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint opened from a note: the exact note bytes and the keys that verified."""

    checkpoint: Checkpoint
    note: bytes
    signed_by: tuple[str, ...]


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer]) -> bytes:
    """The signed note for ``checkpoint`` (the log's key name SHOULD be the origin)."""
    return sign_note(checkpoint.to_text(), signers)


def open_checkpoint(
    note: bytes, verifiers: Sequence[Verifier], *, origin: str | None = None
) -> SignedCheckpoint:
    """Verify a checkpoint note and parse its text; if ``origin`` is given it must match.

    The origin check matters: a valid signature by the right key over another log's checkpoint
    (same key serving two logs) must not be mistaken for this log's tree head.
    """
    opened = open_note_detailed(note, verifiers)
    checkpoint = Checkpoint.parse(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointInvalid("checkpoint is for another origin", field="origin")
    return SignedCheckpoint(checkpoint, bytes(note), opened.verified_names)
