"""OpenID4VP over HTTP: request -> request object -> direct_post -> result; direct verification;
receipts; hostile input answered 4xx with no state change."""

from __future__ import annotations

import json
from typing import Any

import pytest

from credentials.jose import decode_unverified, verify_compact
from credentials.sd_jwt import present
from identity.keys import KeyType, PrivateKey
from tests.api.test_issuance_helpers import approved_application, key_id_of

QUERY: dict[str, Any] = {
    "credentials": [
        {
            "id": "kyc",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["http://127.0.0.1:5999/credential-types/kyc/v1"]},
            "claims": [{"path": ["kyc_level"], "values": [1, 2, 3]}, {"path": ["age_over_18"]}],
        }
    ]
}
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def node(app):
    return app.extensions["kyc"]


@pytest.fixture
def verifier(auth):
    return auth("verifier")


@pytest.fixture
def holder() -> PrivateKey:
    return PrivateKey.generate(KeyType.ED25519)


@pytest.fixture
def credential(node, holder) -> str:
    application = approved_application(node)
    issued = node.issuance.issue(application, "KycCredentialEd25519", holder.public_key, actor="t")
    return issued.credential


def _create(client, headers, query: Any = None) -> dict[str, Any]:
    response = client.post(
        "/verifier/requests", json={"dcql_query": query or QUERY}, headers=headers
    )
    assert response.status_code == 201, response.json
    return response.json


def _wallet_answer(client, node, created, credential, holder, **kb: Any) -> tuple[str, str]:
    """What a wallet does: fetch the request object, check it, present with KB."""
    request_uri = created["request_uri"].removeprefix("http://127.0.0.1:5999")
    response = client.get(request_uri)
    assert response.status_code == 200
    assert response.mimetype == "application/oauth-authz-req+jwt"
    token = response.get_data(as_text=True)
    header = decode_unverified(token)[0]
    key = node.verification.key_at(header["kid"], node.unix_now()).key
    _, request = verify_compact(token, key, expected_typ="oauth-authz-req+jwt")
    assert request["client_id"] == created["client_id"]
    assert request["response_mode"] == "direct_post"
    args = {"nonce": request["nonce"], "aud": request["client_id"], "iat": node.unix_now(), **kb}
    shown = present(credential, disclose=[("kyc_level",), ("age_over_18",)], kb_key=holder, **args)
    return json.dumps({"kyc": [shown]}), request["state"]


def _post(client, created, vp_token: str, state: str):
    path = created["response_uri"].removeprefix("http://127.0.0.1:5999")
    return client.post(path, data={"vp_token": vp_token, "state": state}, content_type=FORM)


def test_the_openid4vp_flow(client, node, verifier, credential, holder) -> None:
    created = _create(client, verifier)
    assert created["client_id"] == "decentralized_identifier:" + node.institution.did
    assert created["response_type"] == "vp_token" and created["response_mode"] == "direct_post"
    assert created["openid4vp_uri"].startswith("openid4vp://?client_id=decentralized_identifier")
    assert created["status"] == "pending"
    vp_token, state = _wallet_answer(client, node, created, credential, holder)
    answer = _post(client, created, vp_token, state)
    assert answer.status_code == 200, answer.json
    assert answer.json == {"status": "accepted"}

    result = client.get(f"/verifier/requests/{created['id']}", headers=verifier).json
    assert result["status"] == "completed"
    assert result["verdict"]["valid"] is True
    assert result["verdict"]["claims"]["age_over_18"] is True
    # At rest the disclosed claims are sealed; only the API view opens them.
    stored = node.store.get_verifier_request(created["id"]).verdict
    assert stored["claims"] is None and stored["claims_sealed"]
    assert "age_over_18" not in json.dumps(stored)
    checked = client.post("/verifier/receipts/verify", json={"receipt": result["receipt"]})
    assert checked.status_code == 200
    assert checked.json["receipt"]["valid"] is True

    # The same answer again: the request is done, and its nonce is spent everywhere.
    assert _post(client, created, vp_token, state).status_code == 409
    shown = json.loads(vp_token)["kyc"][0]
    direct = client.post(
        "/verifier/verify",
        headers=verifier,
        json={"presentation": shown, "nonce": created["nonce"], "audience": created["client_id"]},
    )
    assert direct.status_code == 422
    assert {c["name"]: c["code"] for c in direct.json["verdict"]["checks"] if not c["ok"]} == {
        "replay": "nonce_replayed"
    }


def test_a_failed_presentation_names_every_reason_and_leaves_the_request_open(
    client, node, verifier, credential, holder
) -> None:
    created = _create(client, verifier)
    vp_token, state = _wallet_answer(
        client, node, created, credential, holder, nonce="not-the-request-nonce"
    )
    answer = _post(client, created, vp_token, state)
    assert answer.status_code == 422
    assert answer.json["error"] == "presentation_rejected"
    failed = {c["name"] for c in answer.json["verdict"]["checks"] if not c["ok"]}
    assert "nonce" in failed
    assert (
        client.get(f"/verifier/requests/{created['id']}", headers=verifier).json["status"]
        == "pending"
    )
    # the honest answer still goes through
    vp_token, state = _wallet_answer(client, node, created, credential, holder)
    assert _post(client, created, vp_token, state).status_code == 200


def test_dcql_is_checked_again_on_the_verifier(client, node, verifier, credential, holder):
    query = {"credentials": [{**QUERY["credentials"][0], "claims": [{"path": ["nationality"]}]}]}
    created = _create(client, verifier, query)
    vp_token, state = _wallet_answer(client, node, created, credential, holder)
    answer = _post(client, created, vp_token, state)
    assert answer.status_code == 422
    codes = {c["name"]: c["code"] for c in answer.json["verdict"]["checks"] if not c["ok"]}
    assert codes["dcql"] == "dcql_not_satisfied"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ({"vp_token": "{}", "state": "x"}, "application/json", 415, "unsupported_media_type"),
        ({"vp_token": "{}", "state": "x", "admin": "1"}, FORM, 400, "unknown_field"),
        ({"state": "x"}, FORM, 400, "missing_field"),
        ({"vp_token": "{not json", "state": "STATE"}, FORM, 400, "malformed_json"),
        ({"vp_token": '{"a": 1, "a": 2}', "state": "STATE"}, FORM, 400, "malformed_json"),
        ({"vp_token": '["x"]', "state": "STATE"}, FORM, 400, "invalid_vp_token"),
        ({"vp_token": '{"other": ["x"]}', "state": "STATE"}, FORM, 400, "invalid_vp_token"),
        ({"vp_token": '{"kyc": "x"}', "state": "STATE"}, FORM, 400, "invalid_vp_token"),
        ({"vp_token": '{"kyc": ["a", "b"]}', "state": "STATE"}, FORM, 400, "invalid_vp_token"),
        ({"vp_token": '{"kyc": ["x~"]}', "state": "wrong"}, FORM, 400, "state_mismatch"),
        ({"vp_token": '{"kyc": ["x~"]}', "state": "STATE"}, FORM, 422, "presentation_rejected"),
    ],
)
def test_hostile_responses(client, node, verifier, body, content_type, status, code) -> None:
    created = _create(client, verifier)
    form = {k: v.replace("STATE", created["state"]) for k, v in body.items()}
    path = created["response_uri"].removeprefix("http://127.0.0.1:5999")
    if content_type == "application/json":
        response = client.post(path, json=form)
    else:
        response = client.post(path, data=form, content_type=content_type)
    assert response.status_code == status
    assert response.json["error"] == code
    after = client.get(f"/verifier/requests/{created['id']}", headers=verifier).json
    assert after["status"] == "pending" and "verdict" not in after


def test_a_duplicated_form_field_is_refused(client, verifier) -> None:
    created = _create(client, verifier)
    path = created["response_uri"].removeprefix("http://127.0.0.1:5999")
    response = client.post(path, data="vp_token=%7B%7D&vp_token=%7B%7D&state=x", content_type=FORM)
    assert response.status_code == 400


def test_a_wallet_refusal_is_acknowledged(client, verifier) -> None:
    created = _create(client, verifier)
    path = created["response_uri"].removeprefix("http://127.0.0.1:5999")
    response = client.post(
        path, data={"error": "access_denied", "state": created["state"]}, content_type=FORM
    )
    assert response.status_code == 200


def test_an_expired_request_is_refused(client, node, verifier, credential, holder) -> None:
    created = _create(client, verifier)
    vp_token, state = _wallet_answer(client, node, created, credential, holder)
    real = node.clock
    node.clock = lambda: real().replace(year=real().year + 1)
    try:
        assert _post(client, created, vp_token, state).status_code == 404
        assert (
            client.get(created["request_uri"].removeprefix("http://127.0.0.1:5999")).status_code
            == 404
        )
        view = client.get(f"/verifier/requests/{created['id']}", headers=verifier).json
        assert view["status"] == "expired"
    finally:
        node.clock = real


def test_requests_are_private_to_the_key_that_made_them(client, auth, verifier) -> None:
    created = _create(client, verifier)
    other = auth("verifier")
    for path in ("", "/qr.svg", "/qr.png"):
        assert (
            client.get(f"/verifier/requests/{created['id']}{path}", headers=other).status_code
            == 404
        )
    assert (
        client.get(f"/verifier/requests/{created['id']}", headers=auth("broker")).status_code == 403
    )
    assert client.post("/verifier/requests", json={"dcql_query": QUERY}).status_code == 401


def test_qr_codes(client, verifier) -> None:
    created = _create(client, verifier)
    svg = client.get(f"/verifier/requests/{created['id']}/qr.svg", headers=verifier)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data
    png = client.get(f"/verifier/requests/{created['id']}/qr.png", headers=verifier)
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"dcql_query": {"credentials": []}}, "invalid_dcql_query"),
        (
            {"dcql_query": {"credentials": [{"id": "x", "format": "mso_mdoc", "meta": {}}]}},
            "invalid_dcql_query",
        ),
        ({"dcql_query": QUERY, "expires_in": 5}, "invalid_value"),
        ({"dcql_query": QUERY, "admin": True}, "unknown_field"),
        ({}, "missing_field"),
    ],
)
def test_hostile_requests(client, node, verifier, body, code) -> None:
    response = client.post("/verifier/requests", json=body, headers=verifier)
    assert response.status_code == 400 and response.json["error"] == code
    assert node.store.db.execute("SELECT COUNT(*) FROM verifier_requests").fetchone()[0] == 0


def test_direct_verification(client, node, verifier, credential, holder) -> None:
    aud = node.verification.client_id
    shown = present(
        credential,
        disclose=[("kyc_level",)],
        kb_key=holder,
        nonce="direct-nonce-1",
        aud=aud,
        iat=node.unix_now(),
    )
    answer = client.post(
        "/verifier/verify",
        headers=verifier,
        json={"presentation": shown, "nonce": "direct-nonce-1", "audience": aud},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["valid"] is True and answer.json["receipt"]
    assert answer.json["claims"]["kyc_level"] in (1, 2, 3)
    again = client.post(
        "/verifier/verify",
        headers=verifier,
        json={"presentation": shown, "nonce": "direct-nonce-1", "audience": aud},
    )
    assert again.status_code == 422
    key_id = key_id_of(node, verifier)
    assert (
        node.store.db.execute(
            "SELECT COUNT(*) FROM verification_receipts WHERE api_key_id = ?", [key_id]
        ).fetchone()[0]
        == 1
    )


@pytest.mark.parametrize(
    "presentation",
    ["x", "a.b.c", "~~~", "eyJhbGciOiJub25lIn0.e30.~", "a" * 1000 + "~", "\u00e9~"],
)
def test_direct_verification_of_garbage_is_a_422_verdict(
    client, node, verifier, presentation
) -> None:
    answer = client.post(
        "/verifier/verify",
        headers=verifier,
        json={"presentation": presentation, "nonce": "nonce-1234", "audience": "aud"},
    )
    assert answer.status_code == 422
    assert answer.json["verdict"]["valid"] is False
    assert node.store.db.execute("SELECT COUNT(*) FROM verifier_nonces").fetchone()[0] == 0


def test_a_forged_receipt_is_refused(client, node, verifier, credential, holder) -> None:
    aud = node.verification.client_id
    shown = present(
        credential,
        disclose=[("kyc_level",)],
        kb_key=holder,
        nonce="direct-nonce-2",
        aud=aud,
        iat=node.unix_now(),
    )
    receipt = client.post(
        "/verifier/verify",
        headers=verifier,
        json={"presentation": shown, "nonce": "direct-nonce-2", "audience": aud},
    ).json["receipt"]
    head, payload, signature = receipt.split(".")
    forged = f"{head}.{payload[:-4]}AAAA.{signature}"
    response = client.post("/verifier/receipts/verify", json={"receipt": forged})
    assert 400 <= response.status_code < 500
