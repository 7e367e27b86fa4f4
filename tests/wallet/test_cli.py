"""``python -m wallet`` through a real subprocess, passphrase from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from wallet.holder import PRE_AUTHORIZED_GRANT, CredentialRecord
from wallet.store import KdfParams, Wallet

ROOT = Path(__file__).parent.parent.parent
PASSPHRASE = "a long enough passphrase"


def run(
    *args: str, wallet: Path, passphrase: str | None = PASSPHRASE, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_")}
    if passphrase is not None:
        env["KYC_WALLET_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "wallet", "--wallet", str(wallet), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
        check=False,
    )


def _record(record_id: str) -> CredentialRecord:
    return CredentialRecord(
        id=record_id,
        format="dc+sd-jwt",
        credential="e30.e30.c2ln~",
        issuer="did:webvh:QmX:broker.example",
        vct="https://broker.example/vct/kyc",
        received_at=1_800_000_000,
        issuer_url="https://broker.example",
        holder_key_id="k",
        claims={"iss": "did:webvh:QmX:broker.example", "given_name": "Erika", "age_over_18": True},
        disclosable=(("given_name",), ("age_over_18",)),
        expires_at=1_900_000_000,
    )


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    path = tmp_path / "wallet"
    wallet = Wallet.create(path, PASSPHRASE, kdf=KdfParams(8192, 1, 1), now=0)
    wallet.add_credential(_record("aaaa1111bbbb2222"))
    wallet.add_credential(_record("cccc3333dddd4444"))
    wallet.save()
    return path


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_init_then_list(tmp_path: Path) -> None:
    path = tmp_path / "w"
    result = run("--json", "init", "--key-type", "p-256", wallet=path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["holder_key"]["crv"] == "P-256"
    assert path.stat().st_mode & 0o777 == 0o600
    listed = run("--json", "list", wallet=path)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert "No credentials." in run("list", wallet=path).stdout


def test_init_refuses_to_overwrite(filled: Path) -> None:
    before = filled.read_bytes()
    result = run("init", wallet=filled)
    assert result.returncode == 1
    assert "already exists" in result.stderr
    _no_traceback(result)
    assert filled.read_bytes() == before


def test_wrong_passphrase_is_one_line(filled: Path) -> None:
    result = run("list", wallet=filled, passphrase="not the passphrase")
    assert result.returncode == 1
    assert result.stderr == "error: wrong passphrase\n"
    assert result.stdout == ""


def test_no_passphrase_without_a_terminal(filled: Path) -> None:
    result = run("list", wallet=filled, passphrase=None, stdin="")
    assert result.returncode == 1
    assert "KYC_WALLET_PASSPHRASE" in result.stderr
    _no_traceback(result)


def test_missing_wallet(tmp_path: Path) -> None:
    result = run("list", wallet=tmp_path / "none")
    assert result.returncode == 1
    assert "no wallet at" in result.stderr
    _no_traceback(result)


def test_tampered_wallet(filled: Path) -> None:
    document = json.loads(filled.read_text())
    document["ciphertext"] = document["ciphertext"][:-4] + "AAAA"
    filled.write_text(json.dumps(document))
    result = run("list", wallet=filled)
    assert result.returncode == 1
    assert "altered or damaged" in result.stderr
    _no_traceback(result)


def test_list_show_delete(filled: Path) -> None:
    listed = run("--json", "list", wallet=filled)
    assert [c["id"] for c in json.loads(listed.stdout)] == ["aaaa1111bbbb2222", "cccc3333dddd4444"]
    shown = run("--json", "show", "aaaa", wallet=filled)
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["claims"] == {"given_name": "Erika", "age_over_18": True}  # no iss: technical
    human = run("show", "cccc3333dddd4444", wallet=filled).stdout
    assert 'given_name: "Erika"' in human
    assert "https://broker.example/vct/kyc" in human
    refused = run("delete", "aaaa", wallet=filled, stdin="y\n")  # no terminal: must use --yes
    assert refused.returncode == 1
    deleted = run("delete", "aaaa", "--yes", wallet=filled)
    assert deleted.returncode == 0, deleted.stderr
    assert "Deleted aaaa1111bbbb2222" in deleted.stdout
    listed = run("--json", "list", wallet=filled)
    assert [c["id"] for c in json.loads(listed.stdout)] == ["cccc3333dddd4444"]
    missing = run("show", "aaaa", wallet=filled)
    assert missing.returncode == 1
    assert "not in the wallet" in missing.stderr


def _offer(issuer: str) -> str:
    offer = {
        "credential_issuer": issuer,
        "credential_configuration_ids": ["KycCredential"],
        "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "x"}},
    }
    return "openid-credential-offer://?credential_offer=" + quote(json.dumps(offer))


def test_unreachable_issuer(filled: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port is closed again now: nothing listens there.
    result = run("receive", _offer(f"http://127.0.0.1:{port}"), wallet=filled)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot reach 127.0.0.1:{port}")
    _no_traceback(result)


@pytest.mark.parametrize(
    ("offer", "message"),
    [
        (_offer("http://broker.example"), "https only"),
        ("https://not-an-offer.example", "openid-credential-offer"),
        ("openid-credential-offer://?credential_offer=%7B", "not JSON"),
    ],
    ids=["plain-http", "not-an-offer-uri", "broken-json"],
)
def test_bad_offers(filled: Path, offer: str, message: str) -> None:
    result = run("receive", offer, wallet=filled)
    assert result.returncode == 1
    assert message in result.stderr
    _no_traceback(result)


def test_bad_request_uri(filled: Path) -> None:
    result = run("present", "openid4vp://?request_uri=https%3A%2F%2Fbank.example", wallet=filled)
    assert result.returncode == 1
    assert "client_id" in result.stderr
    _no_traceback(result)


def test_usage_error_exit_status(filled: Path) -> None:
    assert run("frobnicate", wallet=filled).returncode == 2
