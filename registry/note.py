"""C2SP signed-note v1.0.0: signing and opening notes, Ed25519 (type 0x01) keys and vkeys.

Format (signed-note "Format"): a UTF-8 text of one or more lines each ending in U+000A, a blank
line, then one or more lines ``— <key name> base64(uint32 key ID || signature)``. No ASCII control
characters other than newline anywhere. The text is everything up to and including the newline
before the *last* blank line. Key names are non-empty and contain no Unicode space and no ``+``.

Key ID (signed-note "Signatures"): ``SHA-256(name || 0x0A || type || public key)[:4]``, big-endian.
A verifier key ("vkey") is ``<name>+<8 hex digit key ID>+base64(type || public key)``.

Verification rules implemented: signatures from unknown (name, key ID) pairs are ignored (and
returned as unverified); a signature from a known key MUST verify, and if it does not the whole
note is refused; a note with no verified signature is refused; at most ``max_signatures`` lines
are parsed (the spec requires accepting at least 16). Ed25519 public keys are refused when
non-canonical, off the curve, or one of the 8 small-order points (with such keys a forged
signature can verify for many messages).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from errors import InvalidKey, InvalidValue, UnsupportedKeyType
from identity.keys import KeyType, PublicKey
from registry.errors import NoteMalformed, NoteSignatureInvalid, NoteUnverified

__all__ = [
    "DEFAULT_MAX_NOTE_BYTES",
    "DEFAULT_MAX_SIGNATURES",
    "SIG_ED25519",
    "Ed25519Signer",
    "Ed25519Verifier",
    "NoteSignature",
    "OpenedNote",
    "Signer",
    "VKey",
    "Verifier",
    "append_signatures",
    "check_ed25519_public_key",
    "check_key_name",
    "format_signature_line",
    "format_vkey",
    "key_id",
    "open_note",
    "open_note_detailed",
    "parse_vkey",
    "sign_note",
    "strict_b64decode",
]

SIG_ED25519 = 0x01
DEFAULT_MAX_SIGNATURES = 100  # the spec's floor is 16; ML-DSA cosignatures are ~3.3 kB each
DEFAULT_MAX_NOTE_BYTES = 1 << 20
_DASH = "\u2014 "  # EM DASH + space opens every signature line


# --- names, key IDs, base64 -----------------------------------------------------------------------


def check_key_name(name: object) -> str:
    """A key name: non-empty, no Unicode space, no ``+``, no control character."""
    if not isinstance(name, str) or not name:
        raise NoteMalformed("key name must be a non-empty string")
    if "+" in name or any(c.isspace() or c < " " for c in name):
        raise NoteMalformed("key name contains a space, '+' or a control character")
    return name


def key_id(name: str, sig_type: int, public_key: bytes) -> int:
    """``SHA-256(name || 0x0A || type || public key)[:4]`` as a big-endian uint32."""
    check_key_name(name)
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def strict_b64decode(text: str) -> bytes:
    """Standard base64 with padding (RFC 4648 §4), canonical only: no whitespace, no URL-safe
    alphabet, no non-zero trailing bits (so one value has exactly one accepted spelling)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteMalformed("invalid base64") from exc
    if base64.b64encode(raw).decode() != text:
        raise NoteMalformed("non-canonical base64")
    return raw


# --- Ed25519 public-key screening -----------------------------------------------------------------


def check_ed25519_public_key(public_key: bytes) -> bytes:
    """Refuse encodings OpenSSL would accept but no honest key has (RFC 8032 §5.1.3 decoding):
    non-canonical, off-curve, small-order or mixed-order points (``InvalidKey`` / ``WeakKey``).
    The one implementation of this check is ``identity.keys``."""
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise InvalidKey("Ed25519 public key must be 32 bytes")
    PublicKey.from_raw(KeyType.ED25519, public_key)
    return public_key


# --- signers and verifiers ------------------------------------------------------------------------


class Signer(Protocol):
    """Produces the signature bytes (without key ID) of one note key over the note text."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, message: bytes) -> bytes: ...


class Verifier(Protocol):
    """Checks the signature bytes (without key ID) of one note key over the note text."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class VKey:
    """A parsed verifier key string: its name, declared key ID, type byte and key material."""

    name: str
    key_id: int
    sig_type: int
    key: bytes


def format_vkey(name: str, sig_type: int, public_key: bytes) -> str:
    """``<name>+<hex key ID>+base64(type || public key)``."""
    kid = key_id(name, sig_type, public_key)
    return f"{name}+{kid:08x}+{base64.b64encode(bytes([sig_type]) + public_key).decode()}"


def parse_vkey(vkey: str) -> VKey:
    """Parse and check a vkey: valid name, 8 lowercase hex digits matching the computed key ID.

    Split with ``split('+', 2)``: the name has no ``+`` but the base64 part may.
    """
    if not isinstance(vkey, str):
        raise NoteMalformed("vkey must be a string")
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise NoteMalformed("vkey must be name+keyid+key")
    name, hex_id, b64 = parts
    check_key_name(name)
    if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
        raise NoteMalformed("vkey key ID must be 8 lowercase hex digits")
    raw = strict_b64decode(b64)
    if len(raw) < 2:
        raise NoteMalformed("vkey key material is empty")
    declared = int(hex_id, 16)
    if key_id(name, raw[0], raw[1:]) != declared:
        raise NoteMalformed("vkey key ID does not match its name and key")
    return VKey(name, declared, raw[0], raw[1:])


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    """Verifier for signature type 0x01: Ed25519 over the note text."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        check_ed25519_public_key(self.public_key)
        object.__setattr__(self, "key_id", key_id(self.name, SIG_ED25519, self.public_key))

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, SIG_ED25519, self.public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> Ed25519Verifier:
        parsed = parse_vkey(vkey)
        if parsed.sig_type != SIG_ED25519:
            raise UnsupportedKeyType(f"vkey type 0x{parsed.sig_type:02x} is not Ed25519 (0x01)")
        return cls(parsed.name, parsed.key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        return _ed25519_verify(self.public_key, message, signature)


def _ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    if len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except _CryptoInvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Ed25519Signer:
    """Signer for signature type 0x01. Holds the private key; never printed."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    public_key: bytes = field(init=False)
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        pub = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        object.__setattr__(self, "public_key", pub)
        object.__setattr__(self, "key_id", key_id(self.name, SIG_ED25519, pub))

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Ed25519Signer:
        """Signer from a 32-byte RFC 8032 private key seed (deterministic, for tests and config)."""
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise InvalidValue("Ed25519 seed must be 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.public_key)


# --- notes ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, key ID, and the signature bytes after the key ID."""

    name: str
    key_id: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note whose ``verified`` signatures checked out; ``unverified`` are from unknown keys."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]

    @property
    def verified_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.name for s in self.verified))


def _check_text(text: object) -> str:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteMalformed("note text must be a string ending in a newline")
    if any(c < " " and c != "\n" for c in text):
        raise NoteMalformed("note text contains a control character")
    return text


def format_signature_line(name: str, kid: int, signature: bytes) -> str:
    """``— <name> base64(key ID || signature)\\n``."""
    check_key_name(name)
    blob = kid.to_bytes(4, "big") + signature
    return f"{_DASH}{name} {base64.b64encode(blob).decode()}\n"


def sign_note(text: str, signers: Sequence[Signer]) -> bytes:
    """Sign ``text`` (ending in a newline, no control characters) with every signer, in order."""
    _check_text(text)
    if not signers:
        raise InvalidValue("at least one signer is required")
    message = text.encode()
    lines = [format_signature_line(s.name, s.key_id, s.sign(message)) for s in signers]
    return (text + "\n" + "".join(lines)).encode()


def _parse(note: bytes, max_signatures: int, max_bytes: int) -> tuple[str, list[NoteSignature]]:
    if not isinstance(note, bytes | bytearray):
        raise NoteMalformed("note must be bytes")
    if len(note) > max_bytes:
        raise NoteMalformed("note too large")
    try:
        s = bytes(note).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteMalformed("note is not UTF-8") from exc
    if any(c < " " and c != "\n" for c in s):
        raise NoteMalformed("note contains a control character")
    split = s.rfind("\n\n")
    if split < 0:
        raise NoteMalformed("note has no blank line before its signatures")
    text, block = s[: split + 1], s[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteMalformed("note has no signature lines")
    signatures: list[NoteSignature] = []
    for line in block[:-1].split("\n"):
        if len(signatures) >= max_signatures:
            raise NoteMalformed("too many signatures")
        if not line.startswith(_DASH):
            raise NoteMalformed("signature line must start with an em dash and a space")
        name, sep, b64 = line[len(_DASH) :].partition(" ")
        if not sep:
            raise NoteMalformed("signature line has no signature")
        check_key_name(name)
        blob = strict_b64decode(b64)
        if len(blob) < 5:
            raise NoteMalformed("signature too short")
        signatures.append(NoteSignature(name, int.from_bytes(blob[:4], "big"), blob[4:]))
    return text, signatures


def open_note_detailed(
    note: bytes,
    verifiers: Sequence[Verifier],
    *,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
    max_bytes: int = DEFAULT_MAX_NOTE_BYTES,
) -> OpenedNote:
    """Parse ``note`` and verify it against ``verifiers`` (see the module docstring for rules)."""
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        slot = (v.name, v.key_id)
        if slot in known and known[slot] != v:
            # Two configured keys with one (name, ID): which one signed is undecidable.
            raise InvalidValue(f"two verifiers share the name and key ID of {v.name}")
        known[slot] = v
    text, signatures = _parse(note, max_signatures, max_bytes)
    message = text.encode()
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.append(sig)
            continue
        if (sig.name, sig.key_id) in seen:
            continue  # a repeated line from a key already checked adds nothing
        seen.add((sig.name, sig.key_id))
        if not verifier.verify(message, sig.signature):
            raise NoteSignatureInvalid(f"signature by {sig.name} does not verify")
        verified.append(sig)
    if not verified:
        raise NoteUnverified("no signature from a known key")
    return OpenedNote(text, tuple(verified), tuple(unverified))


def open_note(
    note: bytes,
    verifiers: Sequence[Verifier],
    *,
    max_signatures: int = DEFAULT_MAX_SIGNATURES,
    max_bytes: int = DEFAULT_MAX_NOTE_BYTES,
) -> tuple[str, tuple[str, ...]]:
    """Verify ``note``; return its text and the names of the keys whose signatures verified."""
    opened = open_note_detailed(note, verifiers, max_signatures=max_signatures, max_bytes=max_bytes)
    return opened.text, opened.verified_names


def append_signatures(note: bytes, lines: bytes) -> bytes:
    """Append signature lines (e.g. a witness response) to a signed note, checking their form.

    Nothing is verified here: open the result with the keys you trust.
    """
    if not lines:
        return bytes(note)
    combined = bytes(note) + bytes(lines)
    text, _ = _parse(bytes(note), 1 << 16, 1 << 24)
    combined_text, _ = _parse(combined, 1 << 16, 1 << 24)
    # A blank line inside `lines` would silently move the text/signature boundary.
    if combined_text != text:
        raise NoteMalformed("appended lines are not signature lines")
    return combined
