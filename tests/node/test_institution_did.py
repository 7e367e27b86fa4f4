"""The institution's did:webvh DID: its did.jsonl checked independently, rotation, deactivation,
resolution from the registry with inclusion evidence."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import base58
import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

import errors
from identity import did_webvh
from identity.did_webvh import KeyNotValidAt
from identity.keys import KeyType, PrivateKey
from node.dids import resolve_key
from registry import merkle
from registry.checkpoint import open_checkpoint
from registry.note import Ed25519Verifier


def _multihash_b58(data: bytes) -> str:
    return base58.b58encode(b"\x12\x20" + hashlib.sha256(data).digest()).decode()


def _verify_line_by_line(text: str) -> list[dict]:
    """did:webvh v1.0 verification written from the spec, sharing no code with identity/.

    Checks the SCID of the first entry, every entry hash and versionId, and every
    eddsa-jcs-2022 proof against the update keys in force (no pre-rotation in these logs).
    """
    entries = [json.loads(line) for line in text.splitlines()]
    scid = entries[0]["parameters"]["scid"]
    first = {k: v for k, v in entries[0].items() if k != "proof"}
    first["versionId"] = "{SCID}"
    placeholder = json.loads(json.dumps(first).replace(scid, "{SCID}"))
    assert _multihash_b58(rfc8785.dumps(placeholder)) == scid
    previous_id, update_keys = scid, []
    for number, entry in enumerate(entries, start=1):
        update_keys = entry["parameters"].get("updateKeys", update_keys)
        body = {k: v for k, v in entry.items() if k != "proof"}
        version_id = body["versionId"]
        body["versionId"] = previous_id
        assert version_id == f"{number}-{_multihash_b58(rfc8785.dumps(body))}"
        [proof] = entry["proof"]
        assert proof["type"] == "DataIntegrityProof"
        assert proof["cryptosuite"] == "eddsa-jcs-2022"
        assert proof["proofPurpose"] == "assertionMethod"
        signer = proof["verificationMethod"].split("#", 1)[1]
        assert proof["verificationMethod"] == f"did:key:{signer}#{signer}"
        assert signer in update_keys
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        unsigned = {k: v for k, v in entry.items() if k != "proof"}
        signed = (hashlib.sha256(rfc8785.dumps(options)).digest()
                  + hashlib.sha256(rfc8785.dumps(unsigned)).digest())
        raw = base58.b58decode(signer[1:])
        assert raw[:2] == b"\xed\x01"
        Ed25519PublicKey.from_public_bytes(raw[2:]).verify(
            base58.b58decode(proof["proofValue"][1:]), signed
        )
        previous_id = version_id
    return entries


def test_did_jsonl_verifies_line_by_line_independently(app: Flask, client: FlaskClient) -> None:
    response = client.get("/.well-known/did.jsonl")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/jsonl")
    [genesis] = _verify_line_by_line(response.get_data(as_text=True))
    document = genesis["state"]
    node = app.extensions["kyc"]
    assert document["id"] == node.institution.did
    assert document["service"] == [{"id": node.institution.did + "#kyc-node",
                                    "type": "KycIdentityNode",
                                    "serviceEndpoint": "http://127.0.0.1:5999"}]
    issuing = client.get("/institution").json["keys"]
    assert len(document["verificationMethod"]) == len(issuing) == 2


def test_rotation_keeps_old_signatures_valid_before_and_refuses_them_after(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    node = app.extensions["kyc"]
    did = node.institution.did
    old_doc = node.resolver.resolve(did).did_document
    old_kid = old_doc["assertionMethod"][0]
    signed_before = datetime.now(UTC)
    assert resolve_key(node, old_kid, signed_before).raw

    result = runner.invoke(args=["did", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "DID version 2-" in result.output
    after = datetime.now(UTC) + timedelta(seconds=2)
    new_doc = node.resolver.resolve(did).did_document
    new_kid = new_doc["assertionMethod"][0]
    assert new_kid != old_kid and old_kid not in json.dumps(new_doc)

    assert resolve_key(node, old_kid, signed_before) == resolve_key(node, old_kid, signed_before)
    with pytest.raises(KeyNotValidAt) as rotated:
        resolve_key(node, old_kid, after)
    assert rotated.value.reason == "rotated_out"
    assert resolve_key(node, new_kid, after).raw
    _verify_line_by_line(client.get("/.well-known/did.jsonl").get_data(as_text=True))

    assert runner.invoke(args=["did", "deactivate", "--yes"]).exit_code == 0
    resolved = node.resolver.resolve(did)
    assert resolved.document_metadata["deactivated"] is True
    with pytest.raises(errors.DidDeactivated):
        resolve_key(node, new_kid, datetime.now(UTC) + timedelta(seconds=5))


def test_http_resolution_carries_registry_inclusion_evidence(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    node = app.extensions["kyc"]
    did = node.institution.did
    assert "%3A5999" in did
    runner.invoke(args=["did", "rotate-keys"])
    body = client.get(f"/1.0/identifiers/{did}").get_json(force=True)
    assert body["didDocument"]["id"] == did
    meta = body["didDocumentMetadata"]
    assert meta["versionId"].startswith("2-")
    evidence = meta["registry"]
    vkey = runner.invoke(args=["registry", "vkey"]).output.strip()
    checkpoint = open_checkpoint(evidence["checkpoint"].encode(),
                                 [Ed25519Verifier.from_vkey(vkey)]).checkpoint
    assert checkpoint.size == evidence["tree_size"]
    leaf = base64.b64decode(evidence["leaf_hash"])
    merkle.verify_inclusion(leaf, evidence["index"], checkpoint.size,
                            [base64.b64decode(h) for h in evidence["inclusion_proof"]],
                            checkpoint.root_hash)
    entry = client.get(f"/registry/entries/{evidence['index']}").json["entry"]
    assert entry["payload"]["log_entry"]["versionId"] == meta["versionId"]

    first = client.get(f"/1.0/identifiers/{did}?versionNumber=1").get_json(force=True)
    assert first["didDocumentMetadata"]["versionId"].startswith("1-")
    assert first["didDocumentMetadata"]["registry"]["index"] < evidence["index"]
    stranger, _ = did_webvh.create("wallet.example", None, PrivateKey.generate(KeyType.ED25519),
                                   now=datetime.now(UTC))
    unknown = client.get(f"/1.0/identifiers/{stranger}")
    assert unknown.status_code == 404
    assert unknown.get_json(force=True)["didResolutionMetadata"]["error"] == "notFound"


def test_peer_fetches_do_not_follow_redirects() -> None:
    import http.server
    import threading

    from node.peers import fetch

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        reply = fetch(f"http://127.0.0.1:{server.server_port}/status/1", timeout=2)
    finally:
        server.shutdown()
        server.server_close()
    assert reply.status == 302  # handed back, never followed
