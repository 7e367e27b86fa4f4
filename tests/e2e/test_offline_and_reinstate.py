"""Real processes: the bank verifies offline from its mirror while the broker is down, and a
suspended credential is refused, then valid again once the broker reinstates it."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from credentials.status_list import status_reference
from tests.api.test_issuance_helpers import APPLICATION
from tests.e2e.conftest import NodeProcess
from tests.e2e.test_wallet_flow import PASSPHRASE, WalletCli, _call, _sync_mirror
from wallet.holder import build_presentation
from wallet.store import Wallet

pytestmark = pytest.mark.e2e


def _payload(sd_jwt: str) -> dict:
    body = sd_jwt.split("~", 1)[0].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_offline_verification_and_reinstatement(
    make_node: Callable[[str], NodeProcess], tmp_path: Path
) -> None:
    broker, bank = make_node("broker"), make_node("bank")
    broker.start()
    bank.start()
    desk = broker.cli("apikey", "create", "--role", "broker", "--name", "d").stdout
    desk = desk.strip().splitlines()[-1]
    verifier = bank.cli("apikey", "create", "--role", "verifier", "--name", "v").stdout
    verifier = verifier.strip().splitlines()[-1]
    wallet = WalletCli(tmp_path / "client.wallet")
    holder_did = wallet.ok("init")["holder_did"]
    _, application = _call(broker, desk, "POST", "/kyc/applications",
                           {**APPLICATION, "holder_did": holder_did})
    _, offer = _call(broker, desk, "POST", f"/kyc/applications/{application['id']}/offers", {})
    received = wallet.ok("receive", offer["credential_offer_uri"])
    _sync_mirror(bank, broker)

    # A presentation for an integration without OpenID4VP, and the status list saved earlier.
    opened = Wallet.open(wallet.path, PASSPHRASE)
    record = opened.credential(received["id"])
    nonce, audience = secrets.token_urlsafe(16), "https://bank.example/onboarding"
    presentation = build_presentation(record, opened.holder_key(), [("age_over_18",)],
                                      nonce=nonce, client_id=audience, now=time.time())
    (tmp_path / "presentation.txt").write_text(presentation)
    uri, _idx = status_reference(_payload(record.credential))
    status, token = broker.get(uri[len(broker.url):])
    assert status == 200
    (tmp_path / "status.jwt").write_bytes(token)

    broker.stop()  # from here on the issuer cannot be asked anything
    args = ["verify", str(tmp_path / "presentation.txt"), "--nonce", nonce,
            "--audience", audience]
    offline = bank.cli(*args, "--status-list", f"{uri}={tmp_path / 'status.jwt'}", check=False)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    verdict = json.loads(offline.stdout)
    assert verdict["valid"] is True and verdict["claims"]["age_over_18"] is True
    assert any(c["name"] == "status_anchor" and c["ok"] for c in verdict["checks"])
    unknown_status = bank.cli(*args, check=False)
    assert unknown_status.returncode == 1  # no saved list and no network: fails closed
    assert not json.loads(unknown_status.stdout)["valid"]

    # Suspend, then reinstate: the bank's verdict follows.
    broker.start()
    _, view = _call(broker, desk, "GET", f"/kyc/applications/{application['id']}")
    [credential] = view["credentials"]

    def bank_verdict() -> dict:
        _sync_mirror(bank, broker)
        _, request = _call(bank, verifier, "POST", "/verifier/requests", {"dcql_query": {
            "credentials": [{"id": "kyc", "format": "dc+sd-jwt",
                             "meta": {"vct_values": [received["vct"]]},
                             "claims": [{"path": ["age_over_18"]}]}]}})
        wallet("--json", "present", request["openid4vp_uri"], "--yes")
        _, outcome = _call(bank, verifier, "GET", f"/verifier/requests/{request['id']}")
        return outcome

    def wait_for(valid: bool) -> dict:
        deadline = time.monotonic() + 30
        while True:
            outcome = bank_verdict()
            if (outcome.get("status") == "completed") == valid:
                return outcome
            assert time.monotonic() < deadline, outcome
            time.sleep(0.5)

    status, body = _call(broker, desk, "POST", f"/credentials/{credential['id']}/suspend",
                         {"reason": "e2e: document check"})
    assert status == 200, body
    wait_for(valid=False)
    status, body = _call(broker, desk, "POST", f"/credentials/{credential['id']}/reinstate",
                         {"reason": "e2e: document checked"})
    assert status == 200, body
    outcome = wait_for(valid=True)
    assert outcome["verdict"]["valid"] is True
