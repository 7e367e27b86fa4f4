"""The whole story through real processes: a broker node (issuer), a bank node (verifier, mirror
of the broker's registry) and the wallet CLI (``python -m wallet``) on loopback.

Onboarding with KYC -> offer with a transaction code -> the wallet receives (checking the issuer
through its DID log and registry evidence) -> the bank asks for two claims -> the wallet shows
and discloses only those -> valid verdict. A replayed presentation is refused, to the same request
and to a new one. The broker revokes; the bank's next verification fails on status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.api.test_issuance_helpers import APPLICATION
from tests.e2e.conftest import ROOT, NodeProcess
from wallet import client as wallet_client
from wallet.store import Wallet

pytestmark = pytest.mark.e2e

PASSPHRASE = "e2e wallet passphrase"


def _call(node: NodeProcess, key: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        node.url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _post_form(url: str, fields: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=urlencode(fields).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class WalletCli:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_")}
        env["KYC_WALLET_PASSPHRASE"] = PASSPHRASE
        return subprocess.run(
            [sys.executable, "-m", "wallet", "--wallet", str(self.path), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def ok(self, *args: str) -> Any:
        result = self("--json", *args)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def fails(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 1, result.stdout
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        return result.stderr


class RecordingHttp(wallet_client.Http):
    """The wallet's real HTTP client, keeping what it posted (to replay it afterwards)."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: list[tuple[str, dict[str, str]]] = []

    def post_form(self, url: str, fields: Any, headers: Any = None) -> wallet_client.Response:
        self.posted.append((url, dict(fields)))
        return super().post_form(url, fields, headers)


def _sync_mirror(bank: NodeProcess, broker: NodeProcess) -> None:
    vkey = broker.cli("registry", "vkey").stdout.strip()
    governance = json.loads(broker.get("/registry/policy")[1])["governance"]["keys"][0]
    bank.cli("registry", "mirror", broker.url, "--log-key", vkey, "--governance-key", governance)


def test_wallet_receives_presents_and_is_refused_after_revocation(
    make_node: Callable[[str], NodeProcess], tmp_path: Path
) -> None:
    broker, bank = make_node("broker"), make_node("bank")
    broker.start()
    bank.start()
    broker_key = broker.cli("apikey", "create", "--role", "broker", "--name", "desk")
    broker_key = broker_key.stdout.strip().splitlines()[-1]
    verifier_key = bank.cli("apikey", "create", "--role", "verifier", "--name", "onboarding")
    verifier_key = verifier_key.stdout.strip().splitlines()[-1]
    wallet = WalletCli(tmp_path / "client.wallet")

    # 1. The client makes a wallet; the broker onboards the client (KYC checks and screening).
    holder_did = wallet.ok("init")["holder_did"]
    status, application = _call(
        broker, broker_key, "POST", "/kyc/applications", {**APPLICATION, "holder_did": holder_did}
    )
    assert status == 201, application
    assert application["status"] == "approved", application

    # 2. An offer with a transaction code; the wallet needs the code and checks the issuer.
    status, offer = _call(
        broker, broker_key, "POST", f"/kyc/applications/{application['id']}/offers", {"tx_code": {}}
    )
    assert status == 201, offer
    offer_uri = offer["credential_offer_uri"]
    assert "needs a transaction code" in wallet.fails("receive", offer_uri)
    received = wallet.ok("receive", offer_uri, "--tx-code", offer["tx_code"])
    assert received["claims"]["family_name"] == "Eriksson"
    assert received["issuer"] == json.loads(broker.get("/institution")[1])["did"]
    # The pre-authorized code is single-use.
    assert "expired or was used already" in wallet.fails(
        "receive", offer_uri, "--tx-code", offer["tx_code"]
    )
    [listed] = wallet.ok("list")
    assert listed["id"] == received["id"]
    assert wallet.ok("show", received["id"])["claims"]["age_over_18"] is True

    # 3. The bank mirrors the broker's registry and asks for two claims only.
    _sync_mirror(bank, broker)
    vct = received["vct"]
    query = {
        "credentials": [
            {
                "id": "kyc",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [vct]},
                "claims": [{"path": ["age_over_18"], "values": [True]}, {"path": ["nationality"]}],
            }
        ]
    }

    def new_request() -> dict[str, Any]:
        status, request = _call(
            bank, verifier_key, "POST", "/verifier/requests", {"dcql_query": query}
        )
        assert status == 201, request
        return request

    request = new_request()
    presented = wallet.ok("present", request["openid4vp_uri"], "--yes")
    assert presented["response"]["status"] == "accepted"
    assert presented["shared"][0]["claims"] == {"age_over_18": True, "nationality": "SE"}
    status, outcome = _call(bank, verifier_key, "GET", f"/verifier/requests/{request['id']}")
    assert status == 200, outcome
    verdict = outcome["verdict"]
    assert verdict["valid"] is True, verdict
    assert verdict["claims"]["age_over_18"] is True
    assert verdict["claims"]["nationality"] == "SE"
    for hidden in ("given_name", "family_name", "birthdate", "sub"):
        assert hidden not in verdict["claims"]  # minimal disclosure, as the verifier saw it

    # Without consent nothing is shared (no terminal and no --yes: the wallet cannot ask).
    refused = new_request()
    assert "without a terminal" in wallet.fails("present", refused["openid4vp_uri"])

    # 4. Replay: a presentation posted once is refused when posted again, to the same request
    #    and to a new one (its nonce and audience bind it to the first request).
    http = RecordingHttp()
    opened = Wallet.open(wallet.path, PASSPHRASE)
    request = new_request()
    answer = wallet_client.present(
        request["openid4vp_uri"], opened, consent=lambda summary: True, http=http
    )
    assert answer["response"]["status"] == "accepted"
    [(response_uri, form)] = [(u, f) for u, f in http.posted if "vp_token" in f]
    status, replayed = _post_form(response_uri, form)
    assert (status, replayed["error"]) == (409, "verifier_request_answered"), replayed
    other = new_request()
    status, replayed = _post_form(other["response_uri"], {**form, "state": other["state"]})
    assert status == 422, replayed
    assert replayed["verdict"]["valid"] is False
    failed = {c["code"] for c in replayed["verdict"]["checks"] if not c["ok"]}
    assert "nonce_mismatch" in failed, replayed["verdict"]["checks"]

    # 5. The broker revokes; once the new status list is anchored and mirrored, the bank's next
    #    verification fails on status.
    status, view = _call(broker, broker_key, "GET", f"/kyc/applications/{application['id']}")
    assert status == 200, view
    for issued in view["credentials"]:
        status, body = _call(
            broker,
            broker_key,
            "POST",
            f"/credentials/{issued['id']}/revoke",
            {"reason": "e2e: relationship ended"},
        )
        assert status == 200, body
    deadline = time.monotonic() + 30
    while True:
        _sync_mirror(bank, broker)
        request = new_request()
        result = wallet("--json", "present", request["openid4vp_uri"], "--yes")
        if result.returncode != 0:
            break
        assert time.monotonic() < deadline, "the revocation never reached the bank"
        time.sleep(0.5)
    assert "Traceback" not in result.stderr
    assert "presentation_rejected" in result.stderr, result.stderr
    assert "credential_revoked" in result.stderr, result.stderr  # the failed check, named
    status, outcome = _call(bank, verifier_key, "GET", f"/verifier/requests/{request['id']}")
    assert status == 200, outcome
    assert outcome["status"] != "completed"


def test_wallet_refuses_an_issuer_whose_registry_key_changed(
    make_node: Callable[[str], NodeProcess], tmp_path: Path
) -> None:
    """The registry log key is pinned on first use: a checkpoint signed by any other key (here:
    a pin for another node's log under the broker's origin) makes the wallet refuse the
    credential and store nothing."""
    broker, other = make_node("broker"), make_node("other")
    broker.start()
    other.start()
    broker_key = broker.cli("apikey", "create", "--role", "broker", "--name", "desk")
    broker_key = broker_key.stdout.strip().splitlines()[-1]
    wallet = WalletCli(tmp_path / "client.wallet")
    holder_did = wallet.ok("init")["holder_did"]
    status, application = _call(
        broker, broker_key, "POST", "/kyc/applications", {**APPLICATION, "holder_did": holder_did}
    )
    assert status == 201, application

    origin = json.loads(broker.get("/registry/policy")[1])["origin"]
    wrong = json.loads(other.get("/registry/policy")[1])["log_vkey"]
    opened = Wallet.open(wallet.path, PASSPHRASE)
    opened.trusted_logs[origin] = wrong
    opened.save()

    status, offer = _call(
        broker, broker_key, "POST", f"/kyc/applications/{application['id']}/offers", {}
    )
    assert status == 201, offer
    message = wallet.fails("receive", offer["credential_offer_uri"])
    assert "not signed by the pinned log key" in message, message
    assert wallet.ok("list") == []
