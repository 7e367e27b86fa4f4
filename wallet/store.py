"""The wallet file: holder keys and credentials, encrypted under a passphrase.

Format (version 1), one JSON object::

    {"format": "kyc-wallet", "version": 1,
     "kdf": {"name": "argon2id", "memory_cost": 65536, "iterations": 3, "lanes": 4,
             "salt": "<b64url 16 bytes>"},
     "check": "<b64url 32 bytes>",
     "cipher": {"name": "A256GCM", "nonce": "<b64url 12 bytes>"},
     "ciphertext": "<b64url>"}

* Argon2id (RFC 9106) turns the passphrase and salt into 64 bytes: the first 32 are the AES-256
  key, the last 32 key ``check`` = HMAC-SHA256(k, "kyc-wallet passphrase check"), which tells a
  wrong passphrase from a damaged file (it says nothing the ciphertext does not already let an
  attacker test). Defaults: RFC 9106 §4 second recommended option (64 MiB, t=3, p=4). Parameters
  read from a file are bounded, so an altered header cannot make opening cost gigabytes.
* AES-256-GCM with a fresh 96-bit nonce per save; the associated data is the JCS-style canonical
  JSON of every member except ``ciphertext``, so changing any header byte or any ciphertext byte
  makes opening fail (``WalletTampered``; an altered salt or KDF parameter reads as
  ``WrongPassphrase``, since the key then differs).
* Only the header is in clear. Writes go to a 0600 temporary file in the same directory, are
  fsynced, then renamed over the wallet (``os.replace``), so a crash leaves the old or the new
  wallet, never half of one. The plaintext is padded to a multiple of 1 KiB.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w"
    >>> wallet = Wallet.create(path, "correct horse", kdf=KdfParams(8192, 1, 1), now=0)
    >>> Wallet.open(path, "correct horse").holder_key().public_key == wallet.holder_key().public_key
    True
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from errors import Error, InvalidEncoding
from identity.encoding import b64url_decode, b64url_encode
from identity.keys import KeyType, PrivateKey
from wallet.errors import (
    UnsupportedWalletVersion,
    WalletError,
    WalletExists,
    WalletNotFound,
    WalletTampered,
    WrongPassphrase,
)
from wallet.holder import CredentialRecord

__all__ = ["FORMAT", "VERSION", "KdfParams", "Wallet", "default_wallet_path"]

FORMAT: Final = "kyc-wallet"
VERSION: Final = 1
_CHECK_LABEL: Final = b"kyc-wallet passphrase check"
_MAX_FILE_BYTES: Final = 64 * 1024 * 1024
_PAD: Final = 1024
# Bounds for parameters read from a file (RFC 9106 §3.1 minimums; an upper bound on cost).
_MEMORY_RANGE: Final = (8 * 1024, 1024 * 1024)  # KiB: 8 MiB .. 1 GiB
_ITERATIONS_RANGE: Final = (1, 16)
_LANES_RANGE: Final = (1, 16)


def default_wallet_path() -> Path:
    return Path.home() / ".kyc-wallet"


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost: memory in KiB, passes, lanes (RFC 9106 §3.1)."""

    memory_cost: int = 65536
    iterations: int = 3
    lanes: int = 4

    def __post_init__(self) -> None:
        for name, value, (low, high) in (
            ("memory_cost", self.memory_cost, _MEMORY_RANGE),
            ("iterations", self.iterations, _ITERATIONS_RANGE),
            ("lanes", self.lanes, _LANES_RANGE),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise UnsupportedWalletVersion(f"KDF {name} {value!r} is outside {low}..{high}")
        if self.memory_cost < 8 * self.lanes:
            raise UnsupportedWalletVersion("KDF memory_cost must be at least 8 KiB per lane")


def _derive(passphrase: str, salt: bytes, params: KdfParams) -> tuple[bytes, bytes]:
    if not isinstance(passphrase, str) or not passphrase:
        raise WrongPassphrase("the passphrase must not be empty")
    material = Argon2id(
        salt=salt,
        length=64,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_cost,
    ).derive(passphrase.encode("utf-8"))
    check = hmac.new(material[32:], _CHECK_LABEL, hashlib.sha256).digest()
    return material[:32], check


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _b64(header: dict[str, Any], *names: str, length: int | None = None) -> bytes:
    value: Any = header
    for name in names:
        value = value.get(name) if isinstance(value, dict) else None
    if not isinstance(value, str):
        raise WalletTampered(f"wallet header member {'.'.join(names)} is missing")
    try:
        data = b64url_decode(value)
    except InvalidEncoding as exc:
        raise WalletTampered(f"wallet header member {'.'.join(names)} is not base64url") from exc
    if length is not None and len(data) != length:
        raise WalletTampered(f"wallet header member {'.'.join(names)} has the wrong length")
    return data


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise WalletTampered(f"duplicate member {key!r} in the wallet file")
        result[key] = value
    return result


@dataclass(frozen=True, slots=True)
class HolderKey:
    """A holder key and when it was made; ``id`` is its RFC 7638 thumbprint."""

    key: PrivateKey
    created_at: int

    @property
    def id(self) -> str:
        return self.key.public_key.thumbprint()

    def to_dict(self) -> dict[str, Any]:
        return {"jwk": self.key.to_jwk(), "created_at": self.created_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HolderKey:
        return cls(PrivateKey.from_jwk(data["jwk"]), int(data["created_at"]))


@dataclass(slots=True)
class Wallet:
    """An open wallet. Change it with the methods below, then ``save()``."""

    path: Path
    keys: list[HolderKey]
    credentials: list[CredentialRecord]
    trusted_logs: dict[str, str] = field(default_factory=dict)
    _key: bytes = field(default=b"", repr=False)
    _header: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- opening and saving ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: Path | str,
        passphrase: str,
        *,
        key_type: KeyType | str = KeyType.ED25519,
        kdf: KdfParams | None = None,
        now: int,
    ) -> Wallet:
        """A new wallet holding one fresh holder key; refuses to overwrite an existing file."""
        path = Path(path)
        if path.exists():
            raise WalletExists(f"{path} already exists")
        params = kdf or KdfParams()
        salt = secrets.token_bytes(16)
        key, check = _derive(passphrase, salt, params)
        header = {
            "format": FORMAT,
            "version": VERSION,
            "kdf": {
                "name": "argon2id",
                "memory_cost": params.memory_cost,
                "iterations": params.iterations,
                "lanes": params.lanes,
                "salt": b64url_encode(salt),
            },
            "check": b64url_encode(check),
        }
        holder = HolderKey(PrivateKey.generate(KeyType(key_type)), int(now))
        wallet = cls(path, [holder], [], {}, key, header)
        wallet.save(create=True)
        return wallet

    @classmethod
    def open(cls, path: Path | str, passphrase: str) -> Wallet:
        """Open and decrypt a wallet (``WrongPassphrase``, ``WalletTampered``,
        ``UnsupportedWalletVersion``, ``WalletNotFound``)."""
        path = Path(path)
        try:
            with path.open("rb") as handle:
                raw = handle.read(_MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            raise WalletNotFound(f"no wallet at {path} (create one with 'init')") from None
        except OSError as exc:
            raise WalletNotFound(f"cannot read {path}: {exc.strerror}") from None
        if len(raw) > _MAX_FILE_BYTES:
            raise WalletTampered(f"{path} is larger than a wallet can be")
        try:
            document = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
        except (UnicodeDecodeError, ValueError):
            raise WalletTampered(f"{path} is not a wallet file (not JSON)") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise WalletTampered(f"{path} is not a wallet file")
        version = document.get("version")
        if version != VERSION:
            raise UnsupportedWalletVersion(
                f"wallet file version {version!r} is not supported (this wallet reads {VERSION})"
            )
        header = {k: v for k, v in document.items() if k != "ciphertext"}
        expected = {"format", "version", "kdf", "check", "cipher"}
        if set(header) != expected:
            raise WalletTampered("the wallet header has unexpected or missing members")
        kdf = header["kdf"]
        if not isinstance(kdf, dict) or kdf.get("name") != "argon2id":
            raise UnsupportedWalletVersion("the wallet's key derivation is not argon2id")
        if set(kdf) != {"name", "memory_cost", "iterations", "lanes", "salt"}:
            raise WalletTampered("the wallet's KDF header has unexpected or missing members")
        params = KdfParams(kdf["memory_cost"], kdf["iterations"], kdf["lanes"])
        cipher = header["cipher"]
        if not isinstance(cipher, dict) or set(cipher) != {"name", "nonce"}:
            raise WalletTampered("the wallet's cipher header has unexpected or missing members")
        if cipher["name"] != "A256GCM":
            raise UnsupportedWalletVersion("the wallet's cipher is not A256GCM")
        salt = _b64(header, "kdf", "salt", length=16)
        stored_check = _b64(header, "check", length=32)
        nonce = _b64(header, "cipher", "nonce", length=12)
        ciphertext = _b64(document, "ciphertext")

        key, check = _derive(passphrase, salt, params)
        if not hmac.compare_digest(check, stored_check):
            raise WrongPassphrase("wrong passphrase")
        try:
            plaintext = AESGCM(key).decrypt(nonce, ciphertext, _canonical(header))
        except InvalidTag:
            raise WalletTampered(f"{path} has been altered or damaged") from None
        try:
            content = json.loads(plaintext.decode("utf-8"))
            keys = [HolderKey.from_dict(k) for k in content["keys"]]
            credentials = [CredentialRecord.from_dict(c) for c in content["credentials"]]
            trusted = dict(content.get("trusted_logs", {}))
        except (KeyError, TypeError, ValueError, Error) as exc:
            # Authenticated but unreadable: written by a buggy or newer wallet, not an attacker.
            raise UnsupportedWalletVersion(f"the wallet's contents cannot be read: {exc}") from None
        if not keys:
            raise UnsupportedWalletVersion("the wallet holds no key")
        header_copy = {k: v for k, v in header.items() if k != "cipher"}
        return cls(path, keys, credentials, trusted, key, header_copy)

    def save(self, *, create: bool = False) -> None:
        """Encrypt under a fresh nonce and replace the file atomically (mode 0600)."""
        nonce = secrets.token_bytes(12)
        header = {**self._header, "cipher": {"name": "A256GCM", "nonce": b64url_encode(nonce)}}
        content = {
            "keys": [k.to_dict() for k in self.keys],
            "credentials": [c.to_dict() for c in self.credentials],
            "trusted_logs": dict(sorted(self.trusted_logs.items())),
        }
        plaintext = _canonical(content)
        # Pad to a multiple of 1 KiB (JSON ignores trailing spaces) so the file size says little
        # about how many credentials the wallet holds.
        plaintext += b" " * (-len(plaintext) % _PAD)
        ciphertext = AESGCM(self._key).encrypt(nonce, plaintext, _canonical(header))
        data = json.dumps({**header, "ciphertext": b64url_encode(ciphertext)}, indent=1)
        _atomic_write(self.path, (data + "\n").encode("ascii"), create=create)

    # --- contents -------------------------------------------------------------------------------

    def holder_key(self, key_id: str | None = None) -> PrivateKey:
        """The holder key with thumbprint ``key_id``, or the first (default) key."""
        if key_id is None:
            return self.keys[0].key
        for holder in self.keys:
            if holder.id == key_id:
                return holder.key
        raise WalletError(f"the wallet has no holder key {key_id}")

    def add_credential(self, record: CredentialRecord) -> None:
        if any(c.id == record.id for c in self.credentials):
            raise WalletError(f"credential {record.id} is already in the wallet")
        self.credentials.append(record)

    def credential(self, credential_id: str) -> CredentialRecord:
        """A credential by id, or by a unique prefix of at least 4 characters."""
        exact = [c for c in self.credentials if c.id == credential_id]
        found = exact or (
            [c for c in self.credentials if c.id.startswith(credential_id)]
            if len(credential_id) >= 4
            else []
        )
        if len(found) != 1:
            what = "is ambiguous" if found else "is not in the wallet"
            raise WalletError(f"credential {credential_id!r} {what}")
        return found[0]

    def delete_credential(self, credential_id: str) -> CredentialRecord:
        record = self.credential(credential_id)
        self.credentials.remove(record)
        return record


def _atomic_write(path: Path, data: bytes, *, create: bool) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if create:
            # link() fails if the wallet appeared meanwhile: never overwrite on create.
            try:
                os.link(temp, path)
            except FileExistsError:
                raise WalletExists(f"{path} already exists") from None
            os.unlink(temp)
        else:
            os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
