"""The registry over HTTP: checkpoints, tiles, proofs, appends, the witness, and hostile input."""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
from pathlib import Path

import pytest
from flask import Flask, request
from flask.testing import FlaskClient, FlaskCliRunner

import errors
from app import create_app
from identity.did_key import did_from_public_key
from identity.keys import KeyType, PrivateKey
from registry import merkle
from registry.checkpoint import open_checkpoint
from registry.cosignature import CosignatureVerifier, verify_cosignatures
from registry.entries import EntryType, canonical, sign_entry
from registry.note import Ed25519Verifier


def _node(app: Flask):
    return app.extensions["kyc"]


def _verifier(runner: FlaskCliRunner) -> Ed25519Verifier:
    result = runner.invoke(args=["registry", "vkey"])
    assert result.exit_code == 0, result.output
    return Ed25519Verifier.from_vkey(result.output.strip())


def _checkpoint(client: FlaskClient, runner: FlaskCliRunner):
    response = client.get("/registry/checkpoint")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return open_checkpoint(response.data, [_verifier(runner)]).checkpoint


def _publication(app: Flask, *, key: PrivateKey | None = None, prev=None, writer=None,
                 uri="https://broker.example/status/1", version=1):
    node = _node(app)
    return sign_entry(
        log=node.registry.origin, entry_type=EntryType.STATUS_PUBLISH, subject=uri, prev=prev,
        time=node.now(), nonce=secrets.token_bytes(16),
        payload={"list_uri": uri, "version": version, "token_sha256": "ab" * 32,
                 "purpose": "revocation"},
        writer=writer or node.institution.did,
        keys=[key or node.keyring.private_key("registry-writer")],
    )


def test_first_start_authorises_the_institution_in_a_signed_checkpoint(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    checkpoint = _checkpoint(client, runner)
    assert checkpoint.origin == "127.0.0.1:5999/registry"
    assert checkpoint.size == 2
    did = _node(app).institution.did
    assert did.startswith("did:webvh:") and did.endswith(":node.localhost%3A5999")
    entry = client.get("/registry/entries/0").json
    assert entry["entry"]["type"] == "writer.add"
    assert entry["entry"]["subject"] == did
    assert base64.b64decode(entry["leaf_hash"]) == merkle.leaf_hash(canonical(entry["entry"]))
    genesis = client.get("/registry/entries/1").json["entry"]
    assert genesis["type"] == "did.entry" and genesis["subject"] == did
    assert genesis["payload"]["log_entry"]["versionId"].startswith("1-")


def test_append_then_prove_inclusion_and_consistency(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    first = _publication(app)
    response = client.post("/registry/entries", json=first.to_json())
    assert response.status_code == 201, response.json
    assert response.json["index"] == 2
    second = _publication(app, prev=2, version=2)
    assert client.post("/registry/entries", json=second.to_json()).json["index"] == 3

    checkpoint = _checkpoint(client, runner)
    assert checkpoint.size == 4
    for index, data in [(2, first.data), (3, second.data)]:
        proof = client.get(f"/registry/proof/inclusion?index={index}&size=4").json
        merkle.verify_inclusion(merkle.leaf_hash(data), index, 4,
                                [base64.b64decode(h) for h in proof["proof"]],
                                checkpoint.root_hash)
    consistency = client.get("/registry/proof/consistency?old=1&new=4").json
    old_root = base64.b64decode(consistency["old_root"])
    merkle.verify_consistency(1, 4, [base64.b64decode(h) for h in consistency["proof"]],
                              old_root, checkpoint.root_hash)

    tile = client.get("/registry/tile/0/000.p/4")
    assert tile.status_code == 200
    assert tile.headers["Cache-Control"].endswith("immutable")
    assert merkle.root([tile.data[i:i + 32] for i in range(0, 128, 32)]) == checkpoint.root_hash
    bundle = merkle.decode_bundle(client.get("/registry/tile/entries/000.p/4").data, width=4)
    assert bundle[2:] == [first.data, second.data]

    chain = client.get("/registry/subjects/https://broker.example/status/1").json
    assert [e["index"] for e in chain["entries"]] == [2, 3] and chain["head"] == 3
    # As a real server passes it: the raw request target, whose path holds "://".
    path = "/registry/subjects/https://broker.example/status/1"
    assert client.get(path, environ_overrides={"RAW_URI": path}).json == chain


@pytest.mark.parametrize(
    "subject", ["http://127.0.0.1:5000/status/ietf/Ab3", "did:webvh:Qm1:host%3A5000:a"]
)
def test_a_subject_holding_a_url_or_percent_escapes_is_read_raw(app: Flask, subject: str) -> None:
    from api.inputs import raw_path_tail

    path = "/registry/subjects/" + subject
    with app.test_request_context(path, environ_overrides={"RAW_URI": path}):
        assert raw_path_tail(request.view_args["subject"]) == subject


def _refused(app: Flask, client: FlaskClient, body, status: int, code: str) -> None:
    store = _node(app).store
    before = store.row_counts()
    if isinstance(body, bytes):
        response = client.post("/registry/entries", data=body, content_type="application/json")
    else:
        response = client.post("/registry/entries", json=body)
    assert response.status_code == status, response.json
    assert response.json["error"] == code
    assert store.row_counts() == before


def test_unauthorised_writer_is_refused(app: Flask, client: FlaskClient) -> None:
    stranger = PrivateKey.generate(KeyType.ED25519)
    entry = _publication(app, key=stranger, writer=did_from_public_key(stranger.public_key))
    _refused(app, client, entry.to_json(), 403, "unauthorized_writer")


def test_right_writer_wrong_key_is_refused(app: Flask, client: FlaskClient) -> None:
    entry = _publication(app, key=PrivateKey.generate(KeyType.ED25519))
    _refused(app, client, entry.to_json(), 403, "unauthorized_writer")


def test_tampered_signature_is_refused(app: Flask, client: FlaskClient) -> None:
    body = _publication(app).to_json()
    body["payload"]["version"] = 7  # signed over version 1
    _refused(app, client, body, 403, "unauthorized_writer")


def test_replay_and_fork_are_refused(app: Flask, client: FlaskClient) -> None:
    entry = _publication(app)
    assert client.post("/registry/entries", json=entry.to_json()).status_code == 201
    _refused(app, client, entry.to_json(), 409, "subject_chain_conflict")  # replay
    _refused(app, client, _publication(app, version=9).to_json(), 409,
             "subject_chain_conflict")  # a second chain from the same (subject, prev)
    _refused(app, client, _publication(app, prev=1).to_json(), 409, "subject_chain_conflict")


@pytest.mark.parametrize(
    ("case", "change", "code"),
    [
        ("personal data", lambda b: b["payload"].update(family_name="Doe"), "invalid_value"),
        ("unknown type", lambda b: b.update(type="kyc.application"), "invalid_value"),
        ("other log", lambda b: b.update(log="elsewhere.example/registry"), "invalid_value"),
        ("missing sigs", lambda b: b.pop("sigs"), "missing_field"),
        ("huge", lambda b: b["payload"].update(list_uri="https://x.example/" + "a" * 70_000),
         "invalid_value"),
    ],
)
def test_malformed_entries_are_refused(app: Flask, client: FlaskClient, case, change,
                                       code) -> None:
    body = _publication(app).to_json()
    change(body)
    _refused(app, client, body, 400, code)


def test_non_json_entry_is_refused(app: Flask, client: FlaskClient) -> None:
    _refused(app, client, b"\x00\x01 not json", 400, "malformed_json")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/registry/entries/2", 404),
        ("/registry/entries/99999999999999999999", 404),
        ("/registry/entries/-1", 404),
        ("/registry/proof/inclusion?index=0&size=3", 400),
        ("/registry/proof/inclusion?index=2&size=2", 400),
        ("/registry/proof/inclusion?index=abc", 400),
        ("/registry/proof/inclusion?index=0&size=0", 400),
        ("/registry/proof/inclusion", 400),
        ("/registry/proof/consistency?old=0&new=1", 400),
        ("/registry/proof/consistency?old=2&new=1", 400),
        ("/registry/proof/consistency?old=1&new=5", 400),
        ("/registry/proof/consistency?old=1&new=" + "9" * 30, 400),
        ("/registry/tile/0/001", 404),
        ("/registry/tile/0/000", 404),
        ("/registry/tile/0/000.p/3", 404),
        ("/registry/tile/0/0000", 400),
        ("/registry/tile/0/x000/000", 400),
        ("/registry/tile/0/000.p/256", 400),
        ("/registry/tile/99/000", 400),
        ("/registry/tile/entries/000.p/9", 404),
        ("/registry/tile/../../etc/passwd", 400),
        ("/registry/subjects/nobody", 404),
        ("/registry/subjects/" + "a" * 3000, 400),
    ],
)
def test_hostile_reads_are_4xx_json(client: FlaskClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    assert set(response.json) >= {"error", "message"}


def test_witness_add_checkpoint(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    node = _node(app)
    _size, _note, body = node.registry.request_for(0)
    unknown = client.post("/witness/add-checkpoint", data=body)
    assert unknown.status_code == 404 and unknown.json["error"] == "unknown_log"

    vkey = runner.invoke(args=["registry", "vkey"]).output.strip()
    result = runner.invoke(args=["witness", "add-log", node.registry.origin, vkey])
    assert result.exit_code == 0, result.output
    cosigned = client.post("/witness/add-checkpoint", data=body)
    assert cosigned.status_code == 200, cosigned.data
    witness = CosignatureVerifier.from_vkey(runner.invoke(args=["witness", "vkey"]).output.strip())
    note = body.split(b"\n\n", 1)[1]
    _cp, cosigs = verify_cosignatures(note + cosigned.data, [witness])
    assert len(cosigs) == 1

    again = client.post("/witness/add-checkpoint", data=body)  # old size 0 is stale now
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "text/x.tlog.size"
    assert again.data == b"2\n"

    garbage = client.post("/witness/add-checkpoint", data=b"old x\n\nnot a note")
    assert garbage.status_code == 400

    forged = body.replace(b"\n2\n", b"\n3\n", 1)  # signature no longer covers the text
    refused = client.post("/witness/add-checkpoint", data=forged.replace(b"old 0", b"old 2"))
    assert refused.status_code == 403


def test_cli_authorize_and_revoke(app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    bank_key = PrivateKey.generate(KeyType.ED25519)
    bank = did_from_public_key(bank_key.public_key)
    result = runner.invoke(args=["registry", "authorize", bank, "--roles", "writer"])
    assert result.exit_code == 0, result.output
    entry = _publication(app, key=bank_key, writer=bank)
    assert client.post("/registry/entries", json=entry.to_json()).status_code == 201
    assert runner.invoke(args=["registry", "revoke", bank]).exit_code == 0
    later = _publication(app, key=bank_key, writer=bank, prev=3, version=2)
    assert client.post("/registry/entries", json=later.to_json()).status_code == 403
    bad = runner.invoke(args=["registry", "authorize", "not-a-did"])
    assert bad.exit_code != 0 and "invalid_did" in bad.output


def test_policy_lists_keys(client: FlaskClient, runner: FlaskCliRunner) -> None:
    policy = client.get("/registry/policy").json
    assert policy["log_vkey"] == runner.invoke(args=["registry", "vkey"]).output.strip()
    assert policy["governance"]["threshold"] == 1
    assert policy["governance"]["keys"][0].startswith("did:key:z6Mk")


@pytest.mark.parametrize(("tiles", "message"), [(bytes(64), "does not match"),
                                               (bytes(32), "incomplete")])
def test_restart_refuses_a_tampered_tree(tmp_path: Path, tiles: bytes, message: str) -> None:
    config = {"data_dir": tmp_path / "node", "public_url": "http://127.0.0.1:5999"}
    first = create_app(config)
    first.extensions["kyc"].close()
    with sqlite3.connect(tmp_path / "node" / "kyc.sqlite3") as db:
        db.execute("UPDATE registry_tiles SET hashes = ? WHERE level = 0 AND idx = 0", (tiles,))
    with pytest.raises(errors.ServiceUnavailable, match=message):
        create_app(config)


def test_entry_json_view_round_trips(app: Flask, client: FlaskClient) -> None:
    entry = _publication(app)
    client.post("/registry/entries", json=entry.to_json())
    view = client.get("/registry/entries/2").json
    assert canonical(view["entry"]) == entry.data
    assert json.loads(entry.data) == view["entry"]


def test_a_mirror_serves_the_same_read_api(app: Flask, client: FlaskClient) -> None:
    from node.mirror import MirrorConfig, mirror_id, sync

    node = _node(app)
    for version in (1, 2, 3):
        entry = _publication(app, prev=None if version == 1 else version, version=version)
        assert client.post("/registry/entries", json=entry.to_json()).status_code == 201
    base = node.config.public_url
    config = MirrorConfig(base, node.registry.log_vkey, node.registry.policy)
    result = sync(config, node.config.data_dir, now=node.unix_now, now_text=node.now,
                  get=lambda url: client.get(url[len(base):]).data)
    assert (result.old_size, result.new_size) == (0, 5)
    prefix = f"/mirrors/{mirror_id(node.registry.origin)}"
    for path in ["/registry/checkpoint", "/registry/tile/0/000.p/5",
                 "/registry/tile/entries/000.p/5", "/registry/entries/2",
                 "/registry/proof/inclusion?index=1&size=5",
                 "/registry/proof/consistency?old=2&new=5",
                 f"/registry/subjects/{node.institution.did}",
                 "/registry/subjects/https://broker.example/status/1"]:
        own, mirrored = client.get(path), client.get(prefix + path)
        assert (own.status_code, own.data) == (mirrored.status_code, mirrored.data), path
    assert client.get("/mirrors").json["mirrors"][0]["size"] == 5
    assert client.post(prefix + "/registry/entries", json={}).status_code == 404  # read-only
    for bad in ["/mirrors/nope/registry/checkpoint", "/mirrors/..%2F..%2Fkyc/registry/checkpoint"]:
        response = client.get(bad)
        assert response.status_code == 404 and response.json["error"] == "not_found"
