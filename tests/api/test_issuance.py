"""The lifecycle API over HTTP: owner broker only, reasons required, hostile input changes
nothing; status lists served with caching headers and anchored; the vct document."""

from __future__ import annotations

import base64
import hashlib

import pytest

from identity.keys import KeyType, PrivateKey
from tests.api.test_issuance_helpers import (
    APPLICATION,
    check_anchor,
    key_id_of,
    served_status,
    verify_sd_jwt,
)


@pytest.fixture
def node(app):
    return app.extensions["kyc"]


@pytest.fixture
def broker(auth):
    return auth("broker")


def _issue(node, client, broker, configuration="KycCredential"):
    response = client.post("/kyc/applications", json=APPLICATION, headers=broker)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "approved"
    holder = PrivateKey.generate(KeyType.P256).public_key
    return node.issuance.issue(response.json["id"], configuration, holder, actor="t")


def test_revoke_shows_in_the_served_list_and_its_anchor(node, client, broker) -> None:
    issued = _issue(node, client, broker)
    ref = node.issuance.view(issued.row)["status_reference"]["status_list"]
    assert served_status(node, client, ref["uri"], ref["idx"]) == 0
    response = client.post(
        f"/credentials/{issued.id}/revoke", json={"reason": "lost wallet"}, headers=broker
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "revoked"
    assert response.json["status_reason"] == "lost wallet"
    assert served_status(node, client, ref["uri"], ref["idx"]) == 1
    # The application lists its credentials with their ids and statuses.
    view = client.get(f"/kyc/applications/{issued.row.application_id}", headers=broker).json
    assert [(c["id"], c["status"]) for c in view["credentials"]] == [(issued.id, "revoked")]


def test_suspend_and_reinstate(node, client, broker) -> None:
    issued = _issue(node, client, broker)
    ref = node.issuance.view(issued.row)["status_reference"]["status_list"]
    path = f"/credentials/{issued.id}"
    assert client.post(path + "/suspend", json={"reason": "r"}, headers=broker).status_code == 200
    assert served_status(node, client, ref["uri"], ref["idx"]) == 2
    again = client.post(path + "/suspend", json={"reason": "r"}, headers=broker)
    assert again.status_code == 409 and again.json["error"] == "credential_status_conflict"
    assert client.post(path + "/reinstate", json={"reason": "r"}, headers=broker).status_code == 200
    assert served_status(node, client, ref["uri"], ref["idx"]) == 0
    assert client.get(path, headers=broker).json["status"] == "valid"


def test_status_list_caching_headers(node, client, broker) -> None:
    issued = _issue(node, client, broker)
    uri = node.issuance.view(issued.row)["status_reference"]["status_list"]["uri"]
    path = uri[len(node.config.public_url) :]
    first = client.get(path)
    assert first.headers["Content-Type"] == "application/statuslist+jwt"
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    anchor = check_anchor(node, uri, first.get_data(as_text=True))
    assert etag == f'"{anchor["token_sha256"]}"'
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    client.post(f"/credentials/{issued.id}/suspend", json={"reason": "r"}, headers=broker)
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert int(changed.headers["X-Status-List-Version"]) == anchor["version"] + 1
    assert client.get("/status/ietf/nosuchlist").status_code == 404
    assert client.get("/status/w3c/nosuchlist/revocation").status_code == 404


def test_only_the_owner_broker_may_change_a_credential(node, client, broker, auth) -> None:
    issued = _issue(node, client, broker)
    other, officer_key = auth("broker"), auth("officer")
    before = node.store.row_counts()
    for action in ("revoke", "suspend", "reinstate"):
        response = client.post(
            f"/credentials/{issued.id}/{action}", json={"reason": "x"}, headers=other
        )
        assert response.status_code == 404 and response.json["error"] == "credential_not_found"
    assert client.get(f"/credentials/{issued.id}", headers=other).status_code == 404
    officer = client.post(
        f"/credentials/{issued.id}/revoke", json={"reason": "x"}, headers=officer_key
    )
    assert officer.status_code == 403
    anonymous = client.post(f"/credentials/{issued.id}/revoke", json={"reason": "x"})
    assert anonymous.status_code == 401
    assert node.store.row_counts() == before
    assert node.store.get_credential(issued.id).status == "valid"
    assert key_id_of(node, broker) == issued.row.broker_key_id


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": ""},
        {"reason": "x", "extra": 1},
        {"reason": 5},
        {"reason": "a\u0000b"},
        [],
        "reason",
    ],
)
def test_a_reason_is_required(node, client, broker, body) -> None:
    issued = _issue(node, client, broker)
    before = node.store.row_counts()
    response = client.post(f"/credentials/{issued.id}/revoke", json=body, headers=broker)
    assert response.status_code == 400
    assert node.store.row_counts() == before
    assert node.store.get_credential(issued.id).status == "valid"


def test_revoked_is_final(node, client, broker) -> None:
    issued = _issue(node, client, broker, "KycCredentialVcdm2")
    path = f"/credentials/{issued.id}"
    assert client.post(path + "/revoke", json={"reason": "r"}, headers=broker).status_code == 200
    for action in ("revoke", "suspend", "reinstate"):
        response = client.post(f"{path}/{action}", json={"reason": "r"}, headers=broker)
        assert response.status_code == 409


def test_type_metadata_is_served_at_the_vct(node, client, broker) -> None:
    issued = _issue(node, client, broker)
    claims = verify_sd_jwt(node, issued.credential).claims
    response = client.get(claims["vct"][len(node.config.public_url) :])
    assert response.status_code == 200
    document = response.json
    assert document["vct"] == claims["vct"]
    assert {c["path"][0] for c in document["claims"]} >= {"given_name", "age_over_18"}
    integrity = "sha256-" + base64.b64encode(hashlib.sha256(response.data).digest()).decode()
    assert claims["vct#integrity"] == integrity
