"""Concurrency: 8 threads x 500 issuances through the OpenID4VCI endpoints, with revocations
mixed in. Every status index is distinct, every list publication is anchored (versions 1..n with
no gap, the served token's SHA-256 is the last anchor), and nothing answers 5xx."""

from __future__ import annotations

import os
import threading
from collections import Counter

import pytest

from identity.keys import KeyType, PrivateKey
from registry.entries import parse_entry
from tests.api.test_issuance_helpers import APPLICATION, check_anchor, proof_jwt, served_list

GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
THREADS = 8
PER_THREAD = int(os.environ.get("KYC_TEST_ISSUANCES_PER_THREAD", "500"))


@pytest.mark.slow
def test_parallel_issuance_and_revocation(app, auth) -> None:
    node = app.extensions["kyc"]
    broker = auth("broker")
    setup = app.test_client()
    application_id = setup.post("/kyc/applications", json=APPLICATION, headers=broker).json["id"]
    holder = PrivateKey.generate(KeyType.P256)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    revoked: list[str] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        client = app.test_client()
        for i in range(PER_THREAD):
            steps = []
            offer = client.post(
                f"/kyc/applications/{application_id}/offers", json={"qr": False}, headers=broker
            )
            steps.append(offer)
            if offer.status_code != 201:
                break
            code = offer.json["credential_offer"]["grants"][GRANT]["pre-authorized_code"]
            token = client.post(
                "/oid4vci/token",
                content_type="application/x-www-form-urlencoded",
                data={"grant_type": GRANT, "pre-authorized_code": code},
            )
            nonce = client.post("/oid4vci/nonce")
            steps += [token, nonce]
            if token.status_code != 200 or nonce.status_code != 200:
                break
            proof = proof_jwt(
                holder, aud=node.config.public_url, nonce=nonce.json["c_nonce"], iat=node.unix_now()
            )
            answer = client.post(
                "/oid4vci/credential",
                json={"credential_configuration_id": "KycCredential", "proofs": {"jwt": [proof]}},
                headers={"Authorization": "Bearer " + token.json["access_token"]},
            )
            steps.append(answer)
            if i % 25 == number % 25:
                credentials = node.store.credentials_of_application(application_id)
                mine = [c.id for c in credentials if c.status == "valid"][-1:]
                for credential_id in mine:
                    response = client.post(
                        f"/credentials/{credential_id}/revoke",
                        json={"reason": "test"},
                        headers=broker,
                    )
                    if response.status_code == 200:
                        with lock:
                            revoked.append(credential_id)
                    steps.append(response)
            with lock:
                for response in steps:
                    statuses[response.status_code] += 1
                    if response.status_code >= 500:
                        failures.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert not [s for s in statuses if s >= 500], statuses
    credentials = node.store.credentials_of_application(application_id)
    assert len(credentials) == THREADS * PER_THREAD
    places = {(c.group_id, c.status_idx) for c in credentials}
    assert len(places) == len(credentials)  # every status index distinct
    assert {c.id for c in credentials if c.status == "revoked"} == set(revoked)
    # Every publication of every list is anchored: versions 1..n without a gap, and the
    # served token is the last anchored one; every revocation shows.
    node.issuance.status.publish_pending()
    client = app.test_client()
    for group in {c.group_id for c in credentials}:
        for status_list in node.store.status_lists_of_group(group):
            chain = node.store.registry_subject_chain(status_list.uri)
            versions = [parse_entry(data).payload["version"] for _index, data in chain]
            assert versions == list(range(1, len(versions) + 1))
            token = client.get(status_list.uri[len(node.config.public_url) :])
            check_anchor(node, status_list.uri, token.get_data(as_text=True))
    lists = {}
    for credential in credentials:
        if credential.status == "revoked":
            uri = node.issuance.view(credential)["status_reference"]["status_list"]["uri"]
            if uri not in lists:
                lists[uri] = served_list(node, client, uri)
            assert lists[uri].get(credential.status_idx) == 1
