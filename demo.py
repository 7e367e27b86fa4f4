"""The end-to-end demo: ``python app.py demo``.

Starts two real nodes on loopback, each with its own data directory: a broker (issuer, registry
log) and a bank (verifier, witness and mirror of the broker's registry). Then walks the story,
printing each step: onboarding with KYC checks and screening, an offer, a wallet that receives
and checks the credential, a bank that asks for two claims and verifies them, a revocation that
makes the bank's next verification fail, and the bank's mirror proving the registry consistent.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from identity.did_key import did_from_public_key
from wallet import client as wallet_client
from wallet.errors import WalletError
from wallet.store import Wallet

ROOT = Path(__file__).parent
SAMPLES = ROOT / "kyc" / "data" / "samples"
CLIENT = {
    "given_names": "Anna Maria", "family_names": "Eriksson", "birthdate": "1974-08-12",
    "nationality": "SE", "residence_country": "SE",
    "address": {"street": "Storgatan 1", "city": "Stockholm", "postal_code": "111 22",
                "country": "SE"},
    "document": {"type": "passport", "number": "L898902C3", "issuing_country": "SE",
                 "expiry_date": "2036-04-15"},
    "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00Z"},
}  # fmt: skip
# A made-up person on the bundled synthetic UN list: screening rejects them.
LISTED = {**CLIENT, "given_names": "Jean-Baptiste", "family_names": "Nkurunziza-Mbeki",
          "birthdate": "1971-05-05", "nationality": "CD"}


def _say(step: str, text: str = "") -> None:
    print(f"\n== {step}", flush=True)
    if text:
        print(textwrap.indent(text.rstrip(), "   "), flush=True)


class _Node:
    def __init__(self, name: str, base: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.name = name
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_")}
        self.env.update(KYC_DATA_DIR=str(base / name), KYC_PUBLIC_URL=self.url,
                        KYC_INSTITUTION_NAME=name.title(), PYTHONUNBUFFERED="1")
        self.log = (base / f"{name}.log").open("w")
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "app.py", "--port", str(self.port)], cwd=ROOT, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.call("GET", "/health")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start; see {self.log.name}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()

    def cli(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=120, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{self.name}: flask {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout.strip()

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(  # noqa: S310 - loopback URL we built
            self.url + path, method=method, headers=headers,
            data=None if body is None else json.dumps(body).encode(),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                data = response.read()
        except urllib.error.HTTPError as error:
            data = error.read()
        try:
            return json.loads(data)
        except ValueError:
            return data.decode()


def run() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kyc-demo-") as tmp:
        base = Path(tmp)
        broker, bank = _Node("broker", base), _Node("bank", base)
        try:
            _story(broker, bank, base)
        finally:
            broker.stop()
            bank.stop()
    print(f"\nDone in {time.monotonic() - started:.1f} s.")


def _story(broker: _Node, bank: _Node, base: Path) -> None:
    _say("1. Two institutions start on loopback, each with its own SQLite file")
    broker.start()
    bank.start()
    broker_did = broker.call("GET", "/institution")["did"]
    bank_did = bank.call("GET", "/institution")["did"]
    print(f"   broker {broker.url}  {broker_did}\n   bank   {bank.url}  {bank_did}")
    desk = broker.cli("apikey", "create", "--role", "broker", "--name", "desk").splitlines()[-1]
    verifier = bank.cli("apikey", "create", "--role", "verifier",
                        "--name", "onboarding").splitlines()[-1]
    log_vkey = broker.cli("registry", "vkey")
    origin = log_vkey.split("+", 1)[0]
    bank.cli("witness", "add-log", origin, log_vkey)
    broker.cli("registry", "add-witness", "bank", bank.cli("witness", "vkey"),
               bank.url + "/witness")
    print(f"   the bank witnesses the broker's registry log {origin}")

    _say("2. The broker loads a sanctions list (synthetic sample, UN XML format)")
    print("   " + broker.cli("kyc", "import-watchlist", str(SAMPLES / "un-consolidated.xml"),
                            "--format", "un"))

    _say("3. A client makes a wallet (holder key, encrypted with a passphrase)")
    wallet = Wallet.create(base / "client.wallet", "demo passphrase", now=int(time.time()))
    holder_did = did_from_public_key(wallet.holder_key().public_key)
    print(f"   holder DID {holder_did}")

    _say("4. The broker onboards the client: validation, document expiry, age, FATF "
         "country risk, screening")
    application = broker.call("POST", "/kyc/applications", {**CLIENT, "holder_did": holder_did},
                              key=desk)
    for check in application["decision"]["checks"]:
        print(f"   {check['name']:<16} {check['outcome']:<6} {check['reason']}")
    print(f"   -> {application['status']}, KYC level {application['kyc_level']}")
    listed = broker.call("POST", "/kyc/applications", {**LISTED, "holder_did": holder_did},
                         key=desk)
    print(f"   a listed person applying is {listed['status']}: "
          f"{', '.join(listed['decision']['reasons'])}")

    _say("5. The broker makes a credential offer with a transaction code")
    offer = broker.call("POST", f"/kyc/applications/{application['id']}/offers",
                        {"tx_code": {}}, key=desk)
    print(f"   {offer['credential_offer_uri'][:100]}...\n   tx_code {offer['tx_code']} "
          "(told to the client on another channel)")

    _say("6. The wallet receives it: OpenID4VCI pre-authorized flow; it checks the issuer's "
         "signature through its DID log and the registry's inclusion proof")
    record = wallet_client.receive(offer["credential_offer_uri"], wallet, offer["tx_code"])
    print(f"   stored {record.vct} from {record.issuer}")

    _say("7. The bank mirrors the broker's registry (verifies every entry and the tree)")
    governance = broker.call("GET", "/registry/policy")["governance"]["keys"][0]
    mirror = ["registry", "mirror", broker.url, "--log-key", log_vkey,
              "--governance-key", governance]
    print("   " + bank.cli(*mirror))

    _say("8. The bank asks for two claims; the wallet discloses only those")
    query = {"credentials": [{
        "id": "kyc", "format": "dc+sd-jwt", "meta": {"vct_values": [record.vct]},
        "claims": [{"path": ["age_over_18"], "values": [True]}, {"path": ["nationality"]}],
    }]}
    request = bank.call("POST", "/verifier/requests", {"dcql_query": query}, key=verifier)
    answer = wallet_client.present(request["openid4vp_uri"], wallet,
                                   consent=lambda summary: True)
    print(f"   shared {answer['shared'][0]['claims']}")
    outcome = bank.call("GET", f"/verifier/requests/{request['id']}", key=verifier)
    verdict = outcome["verdict"]
    for check in verdict["checks"]:
        print(f"   {'ok ' if check['ok'] else 'NO '} {check['name']}")
    print(f"   -> valid: {verdict['valid']}, claims {verdict['claims']}")
    if outcome.get("receipt"):
        print(f"   signed receipt {outcome['receipt'][:60]}...")

    _say("9. The broker revokes the credential; the status list is re-published and anchored")
    view = broker.call("GET", f"/kyc/applications/{application['id']}", key=desk)
    for issued in view["credentials"]:
        broker.call("POST", f"/credentials/{issued['id']}/revoke",
                    {"reason": "demo: the client closed the account"}, key=desk)
    print(f"   revoked {len(view['credentials'])} credential(s)")

    _say("10. The bank's next verification fails on status")
    deadline = time.monotonic() + 20
    while True:
        bank.cli(*mirror)
        request = bank.call("POST", "/verifier/requests", {"dcql_query": query}, key=verifier)
        try:
            wallet_client.present(request["openid4vp_uri"], wallet,
                                  consent=lambda summary: True)
        except WalletError as exc:  # the wallet reports the verifier's refusal
            print(f"   refused: {exc}")
            break
        if time.monotonic() > deadline:
            raise RuntimeError("the revocation did not reach the bank")
        time.sleep(0.5)

    _say("11. The bank's mirror proves the registry append-only and consistent")
    print("   " + bank.cli(*mirror))
    broker.cli("registry", "cosign")
    checkpoint = broker.call("GET", "/registry/checkpoint")
    print(textwrap.indent(checkpoint.rstrip(), "   "))
    print("   (the last line is the bank's cosignature: it has checked the consistency proof)")
