"""The wallet file: encryption, tamper detection, nothing in clear, atomic writes."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from identity.encoding import b64url_decode, b64url_encode
from identity.keys import KeyType
from wallet import store as store_module
from wallet.errors import (
    UnsupportedWalletVersion,
    WalletExists,
    WalletNotFound,
    WalletTampered,
    WrongPassphrase,
)
from wallet.holder import CredentialRecord
from wallet.store import KdfParams, Wallet

FAST = KdfParams(memory_cost=8192, iterations=1, lanes=1)
PASSPHRASE = "correct horse battery staple"
SECRET_NAME = "Zacharias-Unmistakable"
CREDENTIAL = "eyJhbGciOiJFZERTQSJ9.eyJzZWNyZXQiOiJub3QtaW4tY2xlYXIifQ.c2ln~WyJzYWx0Il0~"


def _record(record_id: str = "c0ffee00c0ffee00", received_at: int = 1) -> CredentialRecord:
    return CredentialRecord(
        id=record_id,
        format="dc+sd-jwt",
        credential=CREDENTIAL,
        issuer="did:webvh:QmExample:issuer.example",
        vct="https://issuer.example/vct/kyc",
        received_at=received_at,
        issuer_url="https://issuer.example",
        holder_key_id="thumb",
        claims={"given_name": SECRET_NAME, "age_over_18": True},
        disclosable=(("given_name",), ("age_over_18",)),
        expires_at=None,
    )


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    made = Wallet.create(tmp_path / "wallet", PASSPHRASE, kdf=FAST, now=1_700_000_000)
    made.add_credential(_record())
    made.save()
    return made


def _document(path: Path) -> dict:
    return json.loads(path.read_text())


def _write(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document))


@pytest.mark.parametrize("key_type", [KeyType.ED25519, KeyType.P256])
def test_round_trip(tmp_path: Path, key_type: KeyType) -> None:
    made = Wallet.create(tmp_path / "w", PASSPHRASE, key_type=key_type, kdf=FAST, now=5)
    made.add_credential(_record())
    made.trusted_logs["log.example"] = "log.example+01234567+AQ"
    made.save()
    opened = Wallet.open(tmp_path / "w", PASSPHRASE)
    assert opened.holder_key().key_type is key_type
    assert opened.holder_key().private_bytes() == made.holder_key().private_bytes()
    assert opened.credentials == [_record()]
    assert opened.trusted_logs == {"log.example": "log.example+01234567+AQ"}
    assert opened.keys[0].created_at == 5


def test_header_records_the_kdf_and_its_parameters(wallet: Wallet) -> None:
    document = _document(wallet.path)
    assert document["format"] == "kyc-wallet"
    assert document["version"] == 1
    assert document["kdf"] | {"salt": None} == {
        "name": "argon2id",
        "memory_cost": 8192,
        "iterations": 1,
        "lanes": 1,
        "salt": None,
    }
    assert len(b64url_decode(document["kdf"]["salt"])) == 16
    assert document["cipher"]["name"] == "A256GCM"
    assert set(document) == {"format", "version", "kdf", "check", "cipher", "ciphertext"}


def test_default_kdf_is_rfc_9106_second_recommendation() -> None:
    assert KdfParams() == KdfParams(memory_cost=65536, iterations=3, lanes=4)


def test_wrong_passphrase_is_refused(wallet: Wallet) -> None:
    with pytest.raises(WrongPassphrase):
        Wallet.open(wallet.path, "not the passphrase")
    with pytest.raises(WrongPassphrase):
        Wallet.open(wallet.path, "")


def test_nothing_in_clear_on_disk(wallet: Wallet) -> None:
    raw = wallet.path.read_bytes()
    key = wallet.holder_key()
    secrets_ = [
        SECRET_NAME.encode(),
        CREDENTIAL.encode(),
        CREDENTIAL.split(".")[1].encode(),
        b"dc+sd-jwt",
        b"issuer.example",
        key.private_bytes(),
        b64url_encode(key.private_bytes()).encode(),
        base64.b64encode(key.private_bytes()),
        key.public_key.raw,
        b64url_encode(key.public_key.raw).encode(),
        key.public_key.thumbprint().encode(),
    ]
    for secret in secrets_:
        assert secret not in raw, secret
    # Nor in base64url form of any 3-byte-aligned slice: decode the ciphertext and look there too.
    ciphertext = b64url_decode(_document(wallet.path)["ciphertext"])
    for secret in secrets_:
        assert secret not in ciphertext


def test_padding_hides_the_number_of_credentials(tmp_path: Path) -> None:
    made = Wallet.create(tmp_path / "w", PASSPHRASE, kdf=FAST, now=0)
    empty = len(_document(made.path)["ciphertext"])
    made.add_credential(_record())
    made.save()
    assert len(_document(made.path)["ciphertext"]) == empty


@pytest.mark.parametrize(
    "member",
    [("cipher", "nonce"), ("ciphertext",), ("check",)],
    ids=["nonce", "ciphertext", "check"],
)
def test_flipped_bits_are_detected(wallet: Wallet, member: tuple[str, ...]) -> None:
    document = _document(wallet.path)
    parent = document
    for name in member[:-1]:
        parent = parent[name]
    data = bytearray(b64url_decode(parent[member[-1]]))
    data[len(data) // 2] ^= 0x01
    parent[member[-1]] = b64url_encode(bytes(data))
    _write(wallet.path, document)
    expected = WrongPassphrase if member == ("check",) else WalletTampered
    with pytest.raises(expected):
        Wallet.open(wallet.path, PASSPHRASE)


def test_truncated_ciphertext_is_detected(wallet: Wallet) -> None:
    document = _document(wallet.path)
    document["ciphertext"] = document["ciphertext"][:-8]
    _write(wallet.path, document)
    with pytest.raises(WalletTampered):
        Wallet.open(wallet.path, PASSPHRASE)


def test_header_is_authenticated(wallet: Wallet) -> None:
    # A header member that does not feed the KDF: the passphrase check passes, then AES-GCM's
    # associated data (the header) no longer matches.
    document = _document(wallet.path)
    document["cipher"]["nonce"] = b64url_encode(bytes(12))
    _write(wallet.path, document)
    with pytest.raises(WalletTampered):
        Wallet.open(wallet.path, PASSPHRASE)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["kdf"].update(salt=b64url_encode(bytes(16))), WrongPassphrase),
        (lambda d: d["kdf"].update(iterations=2), WrongPassphrase),
        (lambda d: d["kdf"].update(memory_cost=2**40), UnsupportedWalletVersion),
        (lambda d: d["kdf"].update(name="pbkdf2"), UnsupportedWalletVersion),
        (lambda d: d["cipher"].update(name="A128GCM"), UnsupportedWalletVersion),
        (lambda d: d.update(version=2), UnsupportedWalletVersion),
        (lambda d: d.update(extra="x"), WalletTampered),
        (lambda d: d.update(format="other"), WalletTampered),
        (lambda d: d["kdf"].pop("salt"), WalletTampered),
        (lambda d: d["cipher"].update(nonce="!!"), WalletTampered),
    ],
    ids=[
        "salt",
        "iterations",
        "huge-memory",
        "kdf-name",
        "cipher-name",
        "version",
        "extra-member",
        "format",
        "no-salt",
        "bad-nonce",
    ],
)
def test_tampered_header_is_refused(wallet: Wallet, change, expected) -> None:
    document = _document(wallet.path)
    change(document)
    _write(wallet.path, document)
    with pytest.raises(expected):
        Wallet.open(wallet.path, PASSPHRASE)


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'{"format": "kyc-wallet"'])
def test_not_a_wallet(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "w"
    path.write_bytes(content)
    with pytest.raises(WalletTampered):
        Wallet.open(path, PASSPHRASE)


def test_duplicate_members_are_refused(wallet: Wallet) -> None:
    text = wallet.path.read_text()
    wallet.path.write_text(text.replace('"version": 1,', '"version": 1, "version": 1,', 1))
    with pytest.raises(WalletTampered):
        Wallet.open(wallet.path, PASSPHRASE)


def test_missing_wallet(tmp_path: Path) -> None:
    with pytest.raises(WalletNotFound):
        Wallet.open(tmp_path / "nothing", PASSPHRASE)


def test_create_never_overwrites(wallet: Wallet) -> None:
    before = wallet.path.read_bytes()
    with pytest.raises(WalletExists):
        Wallet.create(wallet.path, "another passphrase", kdf=FAST, now=0)
    assert wallet.path.read_bytes() == before


def test_file_mode_is_0600(wallet: Wallet) -> None:
    assert stat.S_IMODE(wallet.path.stat().st_mode) == 0o600
    wallet.save()
    assert stat.S_IMODE(wallet.path.stat().st_mode) == 0o600


def test_each_save_uses_a_fresh_nonce(wallet: Wallet) -> None:
    first = _document(wallet.path)["cipher"]["nonce"]
    wallet.save()
    assert _document(wallet.path)["cipher"]["nonce"] != first
    assert Wallet.open(wallet.path, PASSPHRASE).credentials == [_record()]


def test_atomic_write_keeps_the_old_wallet_when_writing_fails(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = wallet.path.read_bytes()

    def fail_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module.os, "fsync", fail_fsync)
    wallet.add_credential(_record("another0another0", 2))
    with pytest.raises(OSError, match="No space"):
        wallet.save()
    monkeypatch.undo()
    assert wallet.path.read_bytes() == before
    assert [p.name for p in wallet.path.parent.iterdir()] == ["wallet"]  # no temp file left
    assert Wallet.open(wallet.path, PASSPHRASE).credentials == [_record()]


def test_save_replaces_by_rename(wallet: Wallet) -> None:
    # The old inode is replaced, never written in place: a reader holding the old file still
    # reads a complete old wallet.
    with wallet.path.open("rb") as old:
        inode = os.fstat(old.fileno()).st_ino
        wallet.add_credential(_record("another0another0", 2))
        wallet.save()
        assert os.stat(wallet.path).st_ino != inode
        assert json.loads(old.read())["format"] == "kyc-wallet"


def test_credentials_by_id_and_prefix(wallet: Wallet) -> None:
    assert wallet.credential("c0ffee00").id == "c0ffee00c0ffee00"
    wallet.add_credential(_record("c0ffee00deadbeef", 2))
    with pytest.raises(Exception, match="ambiguous"):
        wallet.credential("c0ffee00")
    with pytest.raises(Exception, match="not in the wallet"):
        wallet.credential("abc")
    assert wallet.delete_credential("c0ffee00deadbeef").received_at == 2
    assert [c.id for c in wallet.credentials] == ["c0ffee00c0ffee00"]
