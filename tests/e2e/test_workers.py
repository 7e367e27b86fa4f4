"""``python app.py --workers 2``: two server processes on one port and one data directory.

Concurrent onboarding, batch issuance over OpenID4VCI and revocations, spread by the kernel over
both processes: no 5xx, every credential stored once with its own status index, the audit chain
intact, and every status list served is the one anchored last in the registry, with the revoked
entries set, whichever process answers.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from credentials.jose import decode_unverified, sign_compact
from credentials.status_list import decode_token_status_list
from identity.keys import KeyType, PrivateKey
from tests.api.test_issuance_helpers import APPLICATION
from tests.e2e.conftest import ROOT, NodeProcess

pytestmark = pytest.mark.e2e

GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
THREADS = 6
KEYS_PER_REQUEST = 3


def _request(
    node: NodeProcess, method: str, path: str, *, body: Any = None, form: Any = None,
    token: str | None = None,
) -> tuple[int, Any]:
    headers = {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(node.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _onboard_and_revoke(node: NodeProcess, broker: str, answers: list[int]) -> list[dict[str, Any]]:
    """One client: application -> offer -> token -> nonce -> batch credential request -> the
    first credential revoked. Returns the application's credential views."""

    def call(method: str, path: str, **kwargs: Any) -> Any:
        status, body = _request(node, method, path, **kwargs)
        answers.append(status)
        assert status in (200, 201), (path, status, body)
        return body

    application = call("POST", "/kyc/applications", body=APPLICATION, token=broker)
    offer = call("POST", f"/kyc/applications/{application['id']}/offers", body={}, token=broker)
    code = offer["credential_offer"]["grants"][GRANT]["pre-authorized_code"]
    access = call("POST", "/oid4vci/token", form={"grant_type": GRANT, "pre-authorized_code": code})
    nonce = call("POST", "/oid4vci/nonce")["c_nonce"]
    holders = [PrivateKey.generate(KeyType.P256) for _ in range(KEYS_PER_REQUEST)]
    proofs = [
        sign_compact(
            {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": holder.public_key.to_jwk()},
            {"aud": node.url, "iat": int(time.time()), "nonce": nonce},
            holder,
        )
        for holder in holders
    ]
    issued = call(
        "POST", "/oid4vci/credential",
        body={"credential_configuration_id": "KycCredential", "proofs": {"jwt": proofs}},
        token=access["access_token"],
    )
    assert len(issued["credentials"]) == KEYS_PER_REQUEST
    views = call("GET", f"/kyc/applications/{application['id']}", token=broker)["credentials"]
    assert len(views) == KEYS_PER_REQUEST
    call("POST", f"/credentials/{views[0]['id']}/revoke", body={"reason": "e2e"}, token=broker)
    return list(views)


def test_two_worker_processes_share_one_data_directory(
    make_node: Callable[..., NodeProcess],
) -> None:
    node = make_node("broker", workers=2)
    node.start()
    broker = node.cli("apikey", "create", "--role", "broker", "--name", "e2e").stdout
    broker = broker.strip().splitlines()[-1]
    answers: list[int] = []
    results: list[list[dict[str, Any]]] = []
    failures: list[BaseException] = []

    def client() -> None:
        try:
            results.append(_onboard_and_revoke(node, broker, answers))
        except BaseException as exc:  # reported below, with the others
            failures.append(exc)

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures[0]
    assert all(status < 500 for status in answers)

    views = [view for group in results for view in group]
    assert len({view["id"] for view in views}) == THREADS * KEYS_PER_REQUEST
    references = [view["status_reference"]["status_list"] for view in views]
    slots = {(ref["uri"], ref["idx"]) for ref in references}
    assert len(slots) == len(views)  # every credential its own status index
    revoked = {(group[0]["status_reference"]["status_list"]["uri"],
                group[0]["status_reference"]["status_list"]["idx"]) for group in results}

    # Each list as served (ask several times: either process may answer) is the token whose
    # SHA-256 the registry anchored last for it, and shows exactly the revocations.
    for uri in {uri for uri, _ in slots}:
        path = uri.removeprefix(node.url)
        for _ in range(4):
            with urllib.request.urlopen(node.url + path, timeout=30) as response:
                token = response.read().decode()
            status, chain = _request(node, "GET", "/registry/subjects/" + uri)
            assert status == 200
            anchored = chain["entries"][-1]["entry"]["payload"]["token_sha256"]
            assert hashlib.sha256(token.encode()).hexdigest() == anchored
            claims = json.loads(decode_unverified(token)[1])
            statuses = decode_token_status_list(claims["status_list"])
            for slot_uri, index in slots:
                if slot_uri == uri:
                    assert statuses.get(index) == (1 if (uri, index) in revoked else 0)

    node.stop()
    assert node.cli("audit-verify").returncode == 0
    database = sqlite3.connect(node.data_dir / "kyc.sqlite3")
    try:
        count = database.execute("SELECT COUNT(*) FROM issued_credentials").fetchone()[0]
    finally:
        database.close()
    assert count == THREADS * KEYS_PER_REQUEST


def _workers_of(data_dir: Path) -> list[int]:
    """Worker processes serving ``data_dir`` (found by their command line and environment)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"--worker-socket" in command and f"KYC_DATA_DIR={data_dir}".encode() in environment:
            found.append(int(entry.name))
    return found


def test_stopping_while_the_workers_start_leaves_none_behind(
    make_node: Callable[..., NodeProcess],
) -> None:
    node = make_node("broker", workers=2)
    node.start()  # prepares the data directory: the restart below is the quick one
    node.stop()
    with node.log_path.open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(node.port), "--workers", "2"],
            cwd=ROOT, env=node.env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not _workers_of(node.data_dir) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _workers_of(node.data_dir), "no worker started"
        process.terminate()  # the workers are still importing and opening the node
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 15
    while _workers_of(node.data_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _workers_of(node.data_dir) == []
    assert "Traceback" not in node.log_path.read_text()
