"""A client suspended by KYC re-screening has its credentials suspended through the event bus;
the served status lists show it (anchored), and clearing the client by an officer reinstates
exactly the credentials KYC suspended."""

from __future__ import annotations

import pytest

from identity.keys import KeyType, PrivateKey
from tests.api.test_issuance_helpers import APPLICATION, served_status


@pytest.fixture
def node(app):
    return app.extensions["kyc"]


def _import_hit(runner, tmp_path) -> None:
    listing = tmp_path / "targets.simple.csv"
    listing.write_text(
        '"id","schema","name","aliases","birth_date","countries","sanctions","dataset"\n'
        '"t-1","Person","Anna Maria Eriksson","","1974-08-12","se",'
        '"Synthetic regime","Synthetic list"\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        args=[
            "kyc",
            "import-watchlist",
            str(listing),
            "--format",
            "opensanctions",
            "--version",
            "2026-11-24",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "1 client(s) suspended" in result.output


def test_rescreening_suspends_and_clearing_reinstates(node, client, runner, auth, tmp_path) -> None:
    broker, officer = auth("broker"), auth("officer")
    application_id = client.post("/kyc/applications", json=APPLICATION, headers=broker).json["id"]
    holder = PrivateKey.generate(KeyType.P256).public_key
    by_kyc = node.issuance.issue(application_id, "KycCredential", holder, actor="t")
    vcdm = node.issuance.issue(application_id, "KycCredentialVcdm2", holder, actor="t")
    by_broker = node.issuance.issue(application_id, "KycCredential", holder, actor="t")
    revoked = node.issuance.issue(application_id, "KycCredential", holder, actor="t")
    assert (
        client.post(
            f"/credentials/{by_broker.id}/suspend", json={"reason": "own"}, headers=broker
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/credentials/{revoked.id}/revoke", json={"reason": "lost"}, headers=broker
        ).status_code
        == 200
    )

    def statuses():
        return {
            c["id"]: (c["status"], c["suspended_by"])
            for c in client.get(f"/kyc/applications/{application_id}", headers=broker).json[
                "credentials"
            ]
        }

    def served(credential):
        view = node.issuance.view(credential.row)["status_reference"]
        if isinstance(view, dict):
            ref = view["status_list"]
            return served_status(node, client, ref["uri"], ref["idx"])
        return tuple(
            served_status(node, client, e["statusListCredential"], int(e["statusListIndex"]))
            for e in view
        )

    _import_hit(runner, tmp_path)
    assert statuses() == {
        by_kyc.id: ("suspended", "kyc"),
        vcdm.id: ("suspended", "kyc"),
        by_broker.id: ("suspended", "broker"),
        revoked.id: ("revoked", None),
    }
    # Served at once (the GET publishes what changed) and anchored (served_status checks it).
    assert served(by_kyc) == 2 and served(vcdm) == (0, 1) and served(revoked) == 1
    # While the client is suspended, the broker cannot reinstate.
    refused = client.post(
        f"/credentials/{by_kyc.id}/reinstate", json={"reason": "x"}, headers=broker
    )
    assert refused.status_code == 409 and refused.json["error"] == "client_not_in_good_standing"
    # No new credential either.
    offer = client.post(f"/kyc/applications/{application_id}/offers", json={}, headers=broker)
    assert offer.status_code == 409

    cleared = client.post(
        f"/kyc/applications/{application_id}/resolve",
        json={"decision": "approve", "reason": "namesake"},
        headers=officer,
    )
    assert cleared.status_code == 200, cleared.json
    assert statuses() == {
        by_kyc.id: ("valid", None),
        vcdm.id: ("valid", None),
        by_broker.id: ("suspended", "broker"),
        revoked.id: ("revoked", None),
    }
    assert served(by_kyc) == 0 and served(vcdm) == (0, 0) and served(by_broker) == 2
    assert node.store.verify_audit_chain()[1] is None


def test_ending_the_relationship_suspends_credentials(node, client, auth) -> None:
    broker = auth("broker")
    application_id = client.post("/kyc/applications", json=APPLICATION, headers=broker).json["id"]
    holder = PrivateKey.generate(KeyType.P256).public_key
    issued = node.issuance.issue(application_id, "KycCredential", holder, actor="t")
    response = client.post(f"/kyc/applications/{application_id}/end-relationship", headers=broker)
    assert response.status_code == 200, response.json
    assert node.store.get_credential(issued.id).status == "suspended"
