"""Personal data at rest: sealed per applicant under a data key, itself wrapped by the master key.

Each application gets its own random AES-256-GCM data key. The personal data is encrypted with
it (associated data: the application id); the data key is stored wrapped by the master key.
Erasure destroys the wrapped data key (crypto-shredding): the ciphertext may stay, and without the
key it is noise, even to someone holding the master key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from errors import NotFound, SealedDataError
from storage.sealing import Sealer
from storage.sqlite import SqliteStore

__all__ = ["PersonalDataErased", "PiiVault"]

_NONCE = 12


class PersonalDataErased(NotFound):
    code = "personal_data_erased"


class PiiVault:
    __slots__ = ("_random", "_sealer", "_store")

    def __init__(self, store: SqliteStore, sealer: Sealer,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        self._store = store
        self._sealer = sealer
        self._random = random

    def __repr__(self) -> str:
        return "PiiVault(<sealed>)"

    def seal_new(self, application_id: str, data: dict[str, Any]) -> tuple[bytes, bytes]:
        """A new data key for the applicant: ``(wrapped key, data sealed with it)``. The caller
        stores the application, then the key (``store_key``), in one transaction."""
        key = self._random(32)
        wrapped = self._sealer.seal(key, b"data_key:" + application_id.encode())
        return wrapped, self._encrypt(key, application_id, data)

    def store_key(self, application_id: str, wrapped: bytes) -> None:
        self._store.put_data_key(application_id, wrapped)

    def reseal(self, application_id: str, data: dict[str, Any]) -> bytes:
        return self._encrypt(self._key(application_id), application_id, data)

    def open(self, application_id: str, sealed: bytes) -> dict[str, Any]:
        key = self._key(application_id)
        nonce, body = sealed[:_NONCE], sealed[_NONCE:]
        try:
            plain = AESGCM(key).decrypt(nonce, body, b"pii:" + application_id.encode())
        except InvalidTag as exc:
            raise SealedDataError("personal data cannot be opened: tampered") from exc
        value: dict[str, Any] = json.loads(plain)
        return value

    def erase(self, application_id: str) -> bool:
        """Destroy the data key; the sealed personal data can never be opened again."""
        return self._store.destroy_data_key(application_id)

    def _key(self, application_id: str) -> bytes:
        wrapped = self._store.get_data_key(application_id)
        if wrapped is None:
            raise PersonalDataErased(f"the personal data of {application_id} has been erased")
        return self._sealer.open(wrapped, b"data_key:" + application_id.encode())

    def _encrypt(self, key: bytes, application_id: str, data: dict[str, Any]) -> bytes:
        nonce = self._random(_NONCE)
        plain = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return nonce + AESGCM(key).encrypt(nonce, plain, b"pii:" + application_id.encode())
