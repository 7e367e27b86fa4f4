"""C2SP tlog-cosignature ``cosignature/v1``: timestamped Ed25519 witness cosignatures.

* Key ID ("Format"): ``SHA-256(name || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4]``; vkeys
  use signature type 0x04 with the same key material.
* Signature line content: ``key ID (4) || timestamp (uint64 big-endian, 8) || Ed25519 sig (64)``.
* Signed message ("Signed message"): ``cosignature/v1\\n`` + ``time <unix seconds>\\n`` + the whole
  checkpoint note text (including its final newline and any extension lines, no signatures).
  The ``time`` value is decimal without leading zeros and MUST equal the struct's timestamp.

A cosignature means: "as of ``time``, this is the largest consistent tree I have seen for this
origin". It does not commit to the witness's name, hence one key per witness. Time is always a
parameter: nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from errors import InvalidValue, UnsupportedKeyType
from registry.checkpoint import Checkpoint
from registry.note import (
    _ed25519_verify,
    check_ed25519_public_key,
    check_key_name,
    format_signature_line,
    format_vkey,
    key_id,
    open_note_detailed,
    parse_vkey,
)

__all__ = [
    "SIG_COSIGNATURE_V1",
    "Cosignature",
    "CosignatureVerifier",
    "Cosigner",
    "TimedCosigner",
    "cosignature_message",
    "verify_cosignatures",
]

SIG_COSIGNATURE_V1 = 0x04
_MAX_TIMESTAMP = (1 << 64) - 1


def _check_timestamp(timestamp: object) -> int:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise InvalidValue("timestamp must be an integer", field="timestamp")
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise InvalidValue("timestamp out of uint64 range", field="timestamp")
    return timestamp


def cosignature_message(checkpoint_text: bytes | str, timestamp: int) -> bytes:
    """The exact bytes a ``cosignature/v1`` signs for ``checkpoint_text`` at ``timestamp``."""
    _check_timestamp(timestamp)
    body = checkpoint_text.encode() if isinstance(checkpoint_text, str) else checkpoint_text
    return b"cosignature/v1\ntime %d\n" % timestamp + body


@dataclass(frozen=True, slots=True)
class CosignatureVerifier:
    """A witness key (type 0x04). Usable as a ``registry.note.Verifier``."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        check_ed25519_public_key(self.public_key)
        object.__setattr__(self, "key_id", key_id(self.name, SIG_COSIGNATURE_V1, self.public_key))

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, SIG_COSIGNATURE_V1, self.public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        parsed = parse_vkey(vkey)
        if parsed.sig_type != SIG_COSIGNATURE_V1:
            raise UnsupportedKeyType(f"vkey type 0x{parsed.sig_type:02x} is not cosignature/v1")
        return cls(parsed.name, parsed.key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 72:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        return _ed25519_verify(
            self.public_key, cosignature_message(message, timestamp), signature[8:]
        )


@dataclass(frozen=True, slots=True)
class Cosigner:
    """A witness signing key (type 0x04). ``at(t)`` gives a note ``Signer`` for time ``t``."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    public_key: bytes = field(init=False)
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        pub = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        object.__setattr__(self, "public_key", pub)
        object.__setattr__(self, "key_id", key_id(self.name, SIG_COSIGNATURE_V1, pub))

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Cosigner:
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise InvalidValue("Ed25519 seed must be 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    def at(self, timestamp: int) -> TimedCosigner:
        return TimedCosigner(self, _check_timestamp(timestamp))

    def cosign(self, checkpoint: Checkpoint, timestamp: int) -> str:
        """The signature line ``— <name> base64(key ID || timestamp || signature)\\n``."""
        signer = self.at(timestamp)
        return format_signature_line(
            self.name, self.key_id, signer.sign(checkpoint.to_text().encode())
        )

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)


@dataclass(frozen=True, slots=True)
class TimedCosigner:
    """A ``Cosigner`` bound to one timestamp, usable as a ``registry.note.Signer``."""

    cosigner: Cosigner
    timestamp: int

    @property
    def name(self) -> str:
        return self.cosigner.name

    @property
    def key_id(self) -> int:
        return self.cosigner.key_id

    def sign(self, message: bytes) -> bytes:
        signature = self.cosigner.private_key.sign(cosignature_message(message, self.timestamp))
        return self.timestamp.to_bytes(8, "big") + signature


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified cosignature: which witness key, and the time it vouched for."""

    name: str
    key_id: int
    timestamp: int


def verify_cosignatures(
    note: bytes, verifiers: Sequence[CosignatureVerifier]
) -> tuple[Checkpoint, tuple[Cosignature, ...]]:
    """Verify the cosignatures from ``verifiers`` on a checkpoint note.

    Raises like ``open_note`` (no known cosignature, or a known one failing). Log signatures and
    unknown witnesses are ignored; check the log signature separately with the log's key.
    """
    opened = open_note_detailed(note, verifiers)
    checkpoint = Checkpoint.parse(opened.text)
    cosignatures = tuple(
        Cosignature(s.name, s.key_id, int.from_bytes(s.signature[:8], "big"))
        for s in opened.verified
    )
    return checkpoint, cosignatures
