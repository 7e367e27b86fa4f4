"""Encryption at rest for secrets and personal data (AES-256-GCM under the node's master key).

A sealed value is ``b"v1" || nonce(12) || ciphertext+tag``. The associated data names what the
value is (for example ``b"private_key:issuing-ed25519"``), so a sealed blob copied into another
row or column fails to open instead of being read as something else.

The master key comes from configuration (``KYC_MASTER_KEY``, 32 bytes base64url) or, on first
run, is generated into ``<data dir>/master.key`` with mode 0600. It is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from errors import InvalidValue, SealedDataError

__all__ = ["Sealer", "load_or_create_master_key", "parse_master_key"]

_VERSION = b"v1"
_KDF_SALT = b"kyc-node derived keys v1"
_NONCE_BYTES = 12
MASTER_KEY_FILE = "master.key"


class Sealer:
    """Seals and opens byte strings under one 256-bit master key."""

    __slots__ = ("_aead", "_prk", "_random")

    def __init__(self, master_key: bytes, random: Callable[[int], bytes] = os.urandom) -> None:
        if len(master_key) != 32:
            raise InvalidValue("the master key must be 32 bytes")
        self._aead = AESGCM(master_key)
        # RFC 5869 extract step, once: keys for other purposes are expanded from it, so the
        # master key itself only ever seals.
        self._prk = hmac.new(_KDF_SALT, master_key, hashlib.sha256).digest()
        self._random = random

    def derive_key(self, purpose: bytes) -> bytes:
        """A 256-bit key for ``purpose`` (HKDF-SHA256, RFC 5869, expand step), independent of
        the sealing key and of every other purpose's key."""
        if not purpose:
            raise InvalidValue("a derived key needs a purpose")
        return HKDFExpand(hashes.SHA256(), 32, purpose).derive(self._prk)

    def __repr__(self) -> str:  # never show key material, even by accident
        return "Sealer(<master key hidden>)"

    def seal(self, plaintext: bytes, purpose: bytes) -> bytes:
        nonce = self._random(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, purpose)

    def open(self, sealed: bytes, purpose: bytes) -> bytes:
        if len(sealed) < len(_VERSION) + _NONCE_BYTES + 16 or not sealed.startswith(_VERSION):
            raise SealedDataError("sealed value is malformed")
        nonce = sealed[len(_VERSION) : len(_VERSION) + _NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[len(_VERSION) + _NONCE_BYTES :], purpose)
        except InvalidTag as exc:
            raise SealedDataError(
                "sealed value cannot be opened: wrong master key or tampered data"
            ) from exc


def parse_master_key(text: str) -> bytes:
    """Decode a master key given as base64url (padding optional) of exactly 32 bytes."""
    cleaned = text.strip()
    try:
        raw = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except ValueError as exc:
        raise InvalidValue("KYC_MASTER_KEY is not valid base64url") from exc
    if len(raw) != 32:
        raise InvalidValue("KYC_MASTER_KEY must encode exactly 32 bytes")
    return raw


def load_or_create_master_key(data_dir: Path, configured: str | None) -> bytes:
    """Return the master key from configuration, else from (or newly into) the data directory."""
    if configured:
        return parse_master_key(configured)
    path = data_dir / MASTER_KEY_FILE
    if path.exists():
        return parse_master_key(path.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # O_EXCL: two processes starting at once must not both write a key; 0600 from creation on,
    # so the key is never readable by others even for an instant.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_master_key(path.read_text())
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode().rstrip("=") + "\n")
    return key
