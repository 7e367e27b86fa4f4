"""Private keys at rest: sealed under the master key, opened only when a signature is needed.

The public JWK is stored in clear beside the sealed private JWK so that listing keys, building
DID documents and thumbprints never opens a secret.
"""

from __future__ import annotations

import json

from errors import NotFound, SealedDataError
from identity.keys import KeyType, PrivateKey, PublicKey
from storage.records import StoredKey
from storage.sealing import Sealer
from storage.sqlite import SqliteStore

__all__ = ["Keyring"]


class Keyring:
    __slots__ = ("_sealer", "_store")

    def __init__(self, store: SqliteStore, sealer: Sealer) -> None:
        self._store = store
        self._sealer = sealer

    def __repr__(self) -> str:
        return "Keyring(<sealed>)"

    @staticmethod
    def _purpose(name: str) -> bytes:
        return b"private_key:" + name.encode()

    def create(self, name: str, key_type: KeyType, now: str) -> PublicKey:
        """Generate and store a key; must run inside ``store.transaction()``."""
        private = PrivateKey.generate(key_type)
        private_jwk = json.dumps(private.to_jwk(include_private=True), sort_keys=True).encode()
        self._store.put_private_key(
            StoredKey(
                name=name,
                key_type=str(key_type),
                public_jwk=private.public_key.to_jwk(),
                sealed=self._sealer.seal(private_jwk, self._purpose(name)),
                created_at=now,
            )
        )
        return private.public_key

    def public_key(self, name: str) -> PublicKey:
        return PublicKey.from_jwk(self._stored(name).public_jwk)

    def private_key(self, name: str) -> PrivateKey:
        stored = self._stored(name)
        opened = self._sealer.open(stored.sealed, self._purpose(name))
        key = PrivateKey.from_jwk(json.loads(opened))
        if key.public_key.to_jwk() != stored.public_jwk:
            raise SealedDataError(f"key {name!r}: sealed key does not match its public key")
        return key

    def names(self) -> list[str]:
        return [k.name for k in self._store.list_private_keys()]

    def versions(self, role: str) -> list[StoredKey]:
        """Every key of ``role`` (named ``role`` or ``role.N``), oldest first."""
        def number(name: str) -> int | None:
            if name == role:
                return 1
            suffix = name[len(role) + 1 :] if name.startswith(role + ".") else ""
            return int(suffix) if suffix.isdigit() else None

        found = [k for k in self._store.list_private_keys() if number(k.name) is not None]
        return sorted(found, key=lambda k: number(k.name) or 0)

    def current(self, role: str) -> str:
        """The name of the key that signs for ``role`` now (the newest not retired)."""
        active = [k for k in self.versions(role) if k.retired_at is None]
        if not active:
            raise NotFound(f"no active key for {role!r}")
        return active[-1].name

    def rotate(self, role: str, key_type: KeyType, now: str) -> str:
        """Retire the current key of ``role`` and create its successor; inside a transaction."""
        old = self.current(role)
        number = len(self.versions(role)) + 1
        name = f"{role}.{number}"
        self._store.retire_private_key(old, now)
        self.create(name, key_type, now)
        return name

    def _stored(self, name: str) -> StoredKey:
        stored = self._store.get_private_key(name)
        if stored is None:
            raise NotFound(f"no key named {name!r}")
        return stored
