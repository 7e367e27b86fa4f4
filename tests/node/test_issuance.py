"""Issuance on a node: SD-JWT VC (ES256 and Ed25519) and VCDM 2.0 for an approved application,
verified with the institution's key resolved from its DID; status lists and their anchors."""

from __future__ import annotations

import json

import pytest

from credentials.jose import decode_unverified
from credentials.sd_jwt import parse, present
from credentials.status_list import MIN_BITSTRING_ENTRIES
from identity.keys import KeyType, PrivateKey
from node.issuance import CONFIGURATIONS, ClientNotInGoodStanding, CredentialStatusConflict
from tests.api.test_issuance_helpers import (
    APPLICATION,
    approved_application,
    check_anchor,
    served_status,
    verify_sd_jwt,
    verify_vcdm,
)

PERSONAL = {
    "sub",
    "kyc_level",
    "verified_at",
    "given_name",
    "family_name",
    "birthdate",
    "age_over_18",
    "age_over_21",
    "nationality",
    "residence_country",
    "document_type",
}


@pytest.fixture
def node(app):
    return app.extensions["kyc"]


@pytest.mark.parametrize(
    ("configuration", "alg"), [("KycCredential", "ES256"), ("KycCredentialEd25519", "EdDSA")]
)
def test_sd_jwt_vc_for_an_approved_application(node, configuration, alg) -> None:
    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.ED25519)
    issued = node.issuance.issue(application_id, configuration, holder.public_key, actor="t")
    parsed = parse(issued.credential)
    verified = verify_sd_jwt(node, issued.credential)
    assert verified.header["typ"] == "dc+sd-jwt" and verified.header["alg"] == alg
    assert verified.header["kid"].startswith(node.institution.did + "#")
    claims = verified.claims
    assert claims["iss"] == node.institution.did
    assert claims["vct"] == node.config.public_url + "/credential-types/kyc/v1"
    assert claims["cnf"] == {"jwk": holder.public_key.to_jwk()}
    assert claims["given_name"] == "Anna Maria" and claims["family_name"] == "Eriksson"
    assert claims["birthdate"] == "1974-08-12" and claims["age_over_18"] is True
    assert claims["age_over_21"] is True and claims["nationality"] == "SE"
    assert claims["residence_country"] == "SE" and claims["document_type"] == "passport"
    assert claims["kyc_level"] >= 1 and claims["sub"] == APPLICATION["holder_did"]
    assert claims["exp"] - claims["iat"] == 365 * 86400
    # Every personal claim is a disclosure, and there are decoys besides.
    assert {path[0] for path in verified.disclosed_paths} == PERSONAL
    assert len(parsed.disclosures) == len(PERSONAL)
    # The always-visible part names none of them.
    hidden = verify_sd_jwt(node, present(issued.credential, disclose=[])).claims
    assert not PERSONAL & set(hidden)
    assert set(hidden) >= {"iss", "iat", "exp", "vct", "vct#integrity", "cnf", "status"}
    reference = claims["status"]["status_list"]
    assert reference["uri"].startswith(node.config.public_url + "/status/ietf/")
    assert 0 <= reference["idx"] < 131_072


def test_decoys_hide_the_number_of_claims(node) -> None:
    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.P256).public_key
    issued = node.issuance.issue(application_id, "KycCredential", holder, actor="t")
    payload = json.loads(decode_unverified(parse(issued.credential).issuer_jwt)[1])
    assert len(payload["_sd"]) > len(PERSONAL)


def test_vcdm2_credential_with_bitstring_entries(node, client) -> None:
    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.P256).public_key
    issued = node.issuance.issue(application_id, "KycCredentialVcdm2", holder, actor="t")
    verified = verify_vcdm(node, issued.credential)
    assert verified.header["typ"] == "vc+jwt"
    credential = verified.credential
    assert credential["issuer"] == node.institution.did
    assert credential["credentialSubject"]["given_name"] == "Anna Maria"
    assert credential["cnf"] == {"jwk": holder.to_jwk()}
    assert {s.purpose for s in verified.status} == {"revocation", "suspension"}
    assert len({s.index for s in verified.status}) == 1
    for entry in verified.status:
        assert served_status(node, client, entry.list_credential, entry.index) == 0


def test_lifecycle_is_published_and_anchored(node, client) -> None:
    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.P256).public_key
    sd = node.issuance.issue(application_id, "KycCredential", holder, actor="t")
    vc = node.issuance.issue(application_id, "KycCredentialVcdm2", holder, actor="t")
    ref = node.issuance.view(sd.row)["status_reference"]["status_list"]
    entries = {e["statusPurpose"]: e for e in node.issuance.view(vc.row)["status_reference"]}
    idx = int(entries["revocation"]["statusListIndex"])

    def state() -> tuple[int, int, int]:
        return (
            served_status(node, client, ref["uri"], ref["idx"]),
            served_status(node, client, entries["revocation"]["statusListCredential"], idx),
            served_status(node, client, entries["suspension"]["statusListCredential"], idx),
        )

    assert state() == (0, 0, 0)
    version = check_anchor(node, ref["uri"], client.get(ref["uri"][21:]).get_data(as_text=True))
    for credential in (sd, vc):
        node.issuance.suspend(credential.id, reason="r", broker_key_id=None, actor="t")
    assert state() == (2, 0, 1)
    for credential in (sd, vc):
        node.issuance.reinstate(credential.id, reason="r", broker_key_id=None, actor="t")
    assert state() == (0, 0, 0)
    for credential in (sd, vc):
        node.issuance.revoke(credential.id, reason="r", broker_key_id=None, actor="t")
    assert state() == (1, 1, 0)
    later = check_anchor(node, ref["uri"], client.get(ref["uri"][21:]).get_data(as_text=True))
    assert later["version"] == version["version"] + 3
    with pytest.raises(CredentialStatusConflict):
        node.issuance.reinstate(sd.id, reason="r", broker_key_id=None, actor="t")
    assert [c["status"] for c in node.issuance.credentials_for(application_id)] == [
        "revoked",
        "revoked",
    ]


def test_a_client_not_approved_cannot_be_reinstated(node) -> None:
    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.P256).public_key
    issued = node.issuance.issue(application_id, "KycCredential", holder, actor="t")
    node.issuance.suspend(issued.id, reason="r", broker_key_id=None, actor="t")
    with node.store.transaction():
        node.store.update_application(application_id, status="suspended")
    with pytest.raises(ClientNotInGoodStanding):
        node.issuance.reinstate(issued.id, reason="r", broker_key_id=None, actor="t")


def test_indexes_are_random_distinct_and_a_full_list_opens_a_new_one(node) -> None:
    node.issuance.settings.status_list_size = 8
    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.P256).public_key
    issued = [
        node.issuance.issue(application_id, "KycCredential", holder, actor="t") for _ in range(20)
    ]
    places = [(c.row.group_id, c.row.status_idx) for c in issued]
    assert len(set(places)) == 20
    groups = {group for group, _ in places}
    assert len(groups) == 3  # 8 + 8 + 4
    first = [idx for group, idx in places[:8]]
    assert sorted(first) == list(range(8)) and first != list(range(8))
    # A W3C list never goes below the spec's minimum, whatever the setting.
    vc = node.issuance.issue(application_id, "KycCredentialVcdm2", holder, actor="t")
    assert node.store.get_status_group(vc.row.group_id).size == MIN_BITSTRING_ENTRIES


def test_every_configuration_issues(node) -> None:
    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.ED25519).public_key
    for configuration in CONFIGURATIONS:
        issued = node.issuance.issue(application_id, configuration, holder, actor="t")
        assert issued.row.status == "valid"
    assert len(node.issuance.credentials_for(application_id)) == len(CONFIGURATIONS)


def test_two_processes_publishing_one_list_keep_the_latest_anchored(app, node, client) -> None:
    """Two worker processes (here: two nodes on one data directory, each with its own store,
    log and locks) publish the same list at once. The one that loses the registry race gives
    way instead of failing; what is recorded and served is what the registry anchored last."""
    from node import open_node

    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.P256).public_key
    issued = node.issuance.issue(application_id, "KycCredential", holder, actor="t")
    uri = node.issuance.view(issued.row)["status_reference"]["status_list"]["uri"]
    other = open_node(node.config)
    try:
        with node.store.transaction():
            node.issuance.status.set_status(issued.row.group_id, issued.row.status_idx, "revoked")
        # Both read the list and its anchor head before either appends: the second append
        # names a head that is no longer the head.
        fresh = other.store.registry_subject_head
        before = fresh(uri)
        reads: list[str] = []

        def head_as_read_before(subject: str) -> int | None:
            # The version and the entry's ``prev`` come from the head read before; the log's
            # own check, in its append transaction, reads the head as it is.
            reads.append(subject)
            return before if subject == uri and len(reads) <= 2 else fresh(subject)

        other.store.registry_subject_head = head_as_read_before
        assert node.issuance.status.publish_pending() == [uri]
        other.issuance.status._publish(uri)  # refused by the registry: gives way, no error
        del other.store.registry_subject_head
        row = node.store.get_status_list(uri)
        assert row is not None and not row.pending
        token = client.get(uri[len(node.config.public_url):]).get_data(as_text=True)
        assert check_anchor(node, uri, token)["version"] == row.version
        assert served_status(node, client, uri, issued.row.status_idx) == 1
    finally:
        other.close()


def test_a_change_made_while_publishing_is_published_too(app, node, client) -> None:
    """A list changed (by another process, say) between reading it and anchoring it is still
    pending after that publication: publish_pending goes round again."""
    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.P256).public_key
    first = node.issuance.issue(application_id, "KycCredential", holder, actor="t").row
    second = node.issuance.issue(application_id, "KycCredential", holder, actor="t").row
    uri = node.issuance.view(first)["status_reference"]["status_list"]["uri"]
    assert second.group_id == first.group_id
    with node.store.transaction():
        node.issuance.status.set_status(first.group_id, first.status_idx, "revoked")
    write = node.registry.write
    calls: list[str] = []

    def write_after_a_change(*args, **kwargs):
        if not calls:  # the list was read; now it changes before the anchor lands
            with node.store.transaction():
                node.issuance.status.set_status(second.group_id, second.status_idx, "suspended")
        calls.append(args[1])
        return write(*args, **kwargs)

    node.registry.write = write_after_a_change
    try:
        assert node.issuance.status.publish_pending() == [uri]
    finally:
        del node.registry.write
    assert calls == [uri, uri]
    row = node.store.get_status_list(uri)
    assert row is not None and not row.pending
    assert served_status(node, client, uri, first.status_idx) == 1
    assert served_status(node, client, uri, second.status_idx) == 2


def test_a_client_suspended_after_prepare_gets_nothing(node) -> None:
    """The claims are read before the writer lock is taken; the approval is checked again
    under it, so a suspension that lands in between is not missed."""
    from node.kyc import NotApproved

    application_id = approved_application(node)
    holder = PrivateKey.generate(KeyType.P256).public_key
    draft = node.issuance.prepare(application_id, "KycCredential", [holder])
    with node.store.transaction():
        node.store.update_application(application_id, status="suspended")
    before = node.store.row_counts()
    with pytest.raises(NotApproved), node.store.transaction():
        node.issuance.record(draft, actor="t")
    assert node.store.row_counts() == before
    assert node.issuance.credentials_for(application_id) == []


def test_a_batch_fills_a_list_and_goes_on_in_a_new_one(node) -> None:
    node.issuance.settings.status_list_size = 8
    application_id = approved_application(node)
    keys = [PrivateKey.generate(KeyType.P256).public_key for _ in range(10)]
    issued = [
        *node.issuance.issue_batch(application_id, "KycCredential", keys, actor="t"),
        *node.issuance.issue_batch(application_id, "KycCredential", keys, actor="t"),
    ]
    places = [(c.row.group_id, c.row.status_idx) for c in issued]
    assert len(set(places)) == 20
    by_group: dict[str, list[int]] = {}
    for group, idx in places:
        by_group.setdefault(group, []).append(idx)
    assert sorted(len(indexes) for indexes in by_group.values()) == [4, 8, 8]
    assert all(0 <= idx < 8 for _group, idx in places)
    full = [g for g, indexes in by_group.items() if len(indexes) == 8]
    assert all(node.store.get_status_group(g).full for g in full)
