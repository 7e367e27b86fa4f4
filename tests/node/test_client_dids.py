"""Clients' did:webvh DIDs: the wallet signs its DID log, the broker anchors it in the registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from identity import did_webvh
from identity.keys import KeyType, PrivateKey
from identity.multikey import multikey_from_public_key


def _lines(*entries: dict) -> str:
    return "".join(did_webvh.entry_line(e) + "\n" for e in entries)


@pytest.fixture
def wallet() -> dict:
    update_key = PrivateKey.generate(KeyType.ED25519)
    holder_key = PrivateKey.generate(KeyType.P256)
    now = datetime.now(UTC) - timedelta(minutes=5)
    did, genesis = did_webvh.create("wallet.example", ["alice-phone"], update_key,
                                    keys=[holder_key.public_key], now=now)
    return {"did": did, "update_key": update_key, "entries": [genesis], "now": now}


def test_broker_anchors_then_updates_a_client_did(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]], wallet: dict
) -> None:
    broker = auth("broker")
    body = {"did": wallet["did"], "did_log": _lines(*wallet["entries"])}
    first = client.post("/registry/dids", json=body, headers=broker)
    assert first.status_code == 201, first.json
    assert len(first.json["anchored"]) == 1
    again = client.post("/registry/dids", json=body, headers=broker)
    assert again.status_code == 201 and again.json["anchored"] == []  # nothing new

    # A lost phone: the wallet rotates to a new holder key and signs the new entry itself.
    new_holder = PrivateKey.generate(KeyType.ED25519)
    update = did_webvh.update(wallet["entries"], wallet["update_key"],
                              keys=[new_holder.public_key],
                              now=wallet["now"] + timedelta(minutes=1))
    body = {"did": wallet["did"], "did_log": _lines(*wallet["entries"], update)}
    second = client.post("/registry/dids", json=body, headers=broker)
    assert second.status_code == 201 and len(second.json["anchored"]) == 1

    log = client.get(f"/registry/dids/{wallet['did']}")
    assert log.status_code == 200
    served = log.get_data(as_text=True).splitlines()
    assert [json.loads(line) for line in served] == [
        json.loads(line) for line in body["did_log"].splitlines()
    ]
    assert all(line.startswith('{"versionId":') for line in served)
    resolved = client.get(f"/1.0/identifiers/{wallet['did']}").get_json(force=True)
    assert resolved["didDocumentMetadata"]["versionId"] == update["versionId"]
    methods = resolved["didDocument"]["verificationMethod"]
    assert [m["publicKeyMultibase"] for m in methods] == [
        multikey_from_public_key(new_holder.public_key)
    ]


def test_anchoring_refuses_bad_logs_without_state_change(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]], wallet: dict
) -> None:
    broker = auth("broker")
    store = app.extensions["kyc"].store
    genesis = wallet["entries"][0]

    def refused(body: dict, status: int, headers: dict | None = None) -> dict:
        before = store.row_counts()
        response = client.post("/registry/dids", json=body,
                               headers=broker if headers is None else headers)
        assert response.status_code == status, response.json
        assert store.row_counts() == before
        return response.json

    tampered = json.loads(json.dumps(genesis))
    tampered["versionTime"] = "2020-01-01T00:00:00Z"
    refused({"did": wallet["did"], "did_log": _lines(tampered)}, 422)
    refused({"did": wallet["did"], "did_log": "not json\n"}, 422)
    refused({"did": "did:webvh:QmOther:wallet.example", "did_log": _lines(genesis)}, 400)
    refused({"did": wallet["did"], "did_log": _lines(genesis), "name": "Alice"}, 400)
    assert refused({"did": wallet["did"], "did_log": _lines(genesis)}, 403,
                   auth("verifier"))["error"] == "insufficient_role"
    refused({"did": wallet["did"], "did_log": _lines(genesis)}, 401, {})

    # Personal data in the document is refused even though the wallet signed it.
    leaky_did, leaky = did_webvh.create(
        "wallet.example", None, wallet["update_key"],
        services=[{"id": "#me", "type": "Email", "serviceEndpoint": "mailto:alice@example.com"}],
        now=wallet["now"],
    )
    leak = refused({"did": leaky_did, "did_log": _lines(leaky)}, 400)
    assert leak["error"] == "invalid_value" and "service endpoint" in leak["message"]

    # History cannot be rewritten: after anchoring, a different second entry is refused.
    assert client.post("/registry/dids", json={"did": wallet["did"],
                                               "did_log": _lines(genesis)},
                       headers=broker).status_code == 201
    one = did_webvh.update(wallet["entries"], wallet["update_key"],
                           keys=[PrivateKey.generate(KeyType.ED25519).public_key],
                           now=wallet["now"] + timedelta(minutes=1))
    client.post("/registry/dids", json={"did": wallet["did"], "did_log": _lines(genesis, one)},
                headers=broker)
    other = did_webvh.update(wallet["entries"], wallet["update_key"],
                             keys=[PrivateKey.generate(KeyType.ED25519).public_key],
                             now=wallet["now"] + timedelta(minutes=2))
    assert refused({"did": wallet["did"], "did_log": _lines(genesis, other)},
                   409)["error"] == "conflict"
