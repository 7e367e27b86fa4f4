"""OpenID4VCI 1.0 pre-authorized code flow driven over HTTP: offer -> token -> nonce ->
credential with a real key proof; the SD-JWT VC verifies with the institution's key resolved
from its DID; revocation shows in the served, anchored status list. Then every refusal, each
with the spec's error and nothing changed."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from credentials.jose import sign_compact
from credentials.sd_jwt import present, verify_sd_jwt_vc
from identity import did_key
from identity.encoding import b64url_encode
from identity.keys import KeyType, PrivateKey
from node.issuance_oid4vci import BATCH_SIZE
from tests.api.test_issuance_helpers import (
    APPLICATION,
    issuer_resolver,
    proof_jwt,
    served_status,
    verify_sd_jwt,
    verify_vcdm,
)

GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def node(app):
    return app.extensions["kyc"]


@pytest.fixture
def broker(auth):
    return auth("broker")


@pytest.fixture
def application_id(client, broker):
    response = client.post("/kyc/applications", json=APPLICATION, headers=broker)
    assert response.status_code == 201 and response.json["status"] == "approved"
    return response.json["id"]


def offer(client, broker, application_id, **body):
    response = client.post(f"/kyc/applications/{application_id}/offers", json=body, headers=broker)
    assert response.status_code == 201, response.json
    return response.json


def code_of(offered):
    return offered["credential_offer"]["grants"][GRANT]["pre-authorized_code"]


def token(client, **form):
    return client.post("/oid4vci/token", data=form, content_type=FORM)


def access_token(client, broker, application_id, **body):
    offered = offer(client, broker, application_id, **body)
    form = {"grant_type": GRANT, "pre-authorized_code": code_of(offered)}
    if "tx_code" in offered:
        form["tx_code"] = offered["tx_code"]
    response = token(client, **form)
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def nonce(client):
    response = client.post("/oid4vci/nonce")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.json["c_nonce"]


def request_credential(client, access, proof, configuration="KycCredential", **extra):
    body = {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}, **extra}
    return client.post(
        "/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {access}"}
    )


def assert_oauth_error(response, status, error):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error"] == error, response.json
    assert set(response.json) == {"error", "error_description"}
    assert response.headers["Cache-Control"] == "no-store"


# --- the whole flow ---------------------------------------------------------------------------


def test_full_flow_over_http(node, client, broker, application_id) -> None:
    issuer = node.config.public_url
    metadata = client.get("/.well-known/openid-credential-issuer").json
    assert metadata["credential_issuer"] == issuer
    assert metadata["credential_endpoint"] == issuer + "/oid4vci/credential"
    assert metadata["nonce_endpoint"] == issuer + "/oid4vci/nonce"
    sd_config = metadata["credential_configurations_supported"]["KycCredential"]
    assert sd_config["format"] == "dc+sd-jwt"
    assert sd_config["vct"] == issuer + "/credential-types/kyc/v1"
    assert_server = client.get("/.well-known/oauth-authorization-server").json
    assert assert_server["issuer"] == issuer
    assert assert_server["token_endpoint"] == issuer + "/oid4vci/token"
    assert assert_server["pre-authorized_grant_anonymous_access_supported"] is True

    offered = offer(
        client, broker, application_id, tx_code={"length": 6, "description": "sent by SMS"}
    )
    assert offered["credential_offer"]["credential_issuer"] == issuer
    assert offered["credential_offer"]["grants"][GRANT]["tx_code"] == {
        "input_mode": "numeric",
        "length": 6,
        "description": "sent by SMS",
    }
    assert len(offered["tx_code"]) == 6 and offered["tx_code"].isdigit()
    uri = urlsplit(offered["credential_offer_uri"])
    assert uri.scheme == "openid-credential-offer"
    assert json.loads(parse_qs(uri.query)["credential_offer"][0]) == offered["credential_offer"]
    assert offered["qr"]["svg"].lstrip().startswith("<svg")
    png = base64.b64decode(offered["qr"]["png"].removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")

    response = token(
        client,
        grant_type=GRANT,
        **{"pre-authorized_code": code_of(offered), "tx_code": offered["tx_code"]},
    )
    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["token_type"] == "Bearer" and response.json["expires_in"] > 0

    holder = PrivateKey.generate(KeyType.P256)
    proof = proof_jwt(holder, aud=issuer, nonce=nonce(client), iat=node.unix_now())
    answer = request_credential(client, response.json["access_token"], proof)
    assert answer.status_code == 200, answer.json
    assert answer.headers["Cache-Control"] == "no-store"
    [item] = answer.json["credentials"]
    credential = item["credential"]

    verified = verify_sd_jwt(node, credential)
    assert verified.header["typ"] == "dc+sd-jwt"
    assert verified.claims["cnf"] == {"jwk": holder.public_key.to_jwk()}
    assert verified.claims["given_name"] == "Anna Maria"
    # The holder presents two claims with key binding; a verifier sees exactly those.
    shown = present(
        credential,
        disclose=[("age_over_18",), ("nationality",)],
        kb_key=holder,
        nonce="n-1",
        aud="https://bank.example",
        iat=node.unix_now(),
    )
    seen = verify_sd_jwt_vc(
        shown,
        issuer_resolver(node),
        now=node.unix_now(),
        expected_nonce="n-1",
        expected_aud="https://bank.example",
    )
    assert seen.claims["age_over_18"] is True and "given_name" not in seen.claims

    view = client.get(f"/kyc/applications/{application_id}", headers=broker).json
    [listed] = view["credentials"]
    ref = verified.claims["status"]["status_list"]
    assert listed["status_reference"]["status_list"] == ref
    assert served_status(node, client, ref["uri"], ref["idx"]) == 0
    revoked = client.post(
        f"/credentials/{listed['id']}/revoke", json={"reason": "lost"}, headers=broker
    )
    assert revoked.status_code == 200
    assert served_status(node, client, ref["uri"], ref["idx"]) == 1


@pytest.mark.parametrize(
    ("configuration", "key_type"),
    [
        ("KycCredentialEd25519", KeyType.ED25519),
        ("KycCredentialVcdm2", KeyType.ED25519),
        ("KycCredential", KeyType.ED25519),
    ],
)
def test_each_configuration_and_holder_key(
    node, client, broker, application_id, configuration, key_type
) -> None:
    access = access_token(
        client, broker, application_id, credential_configuration_ids=[configuration]
    )
    holder = PrivateKey.generate(key_type)
    proof = proof_jwt(holder, aud=node.config.public_url, nonce=nonce(client), iat=node.unix_now())
    response = request_credential(client, access, proof, configuration)
    assert response.status_code == 200, response.json
    credential = response.json["credentials"][0]["credential"]
    if configuration == "KycCredentialVcdm2":
        verified = verify_vcdm(node, credential)
        assert verified.credential["cnf"] == {"jwk": holder.public_key.to_jwk()}
    else:
        claims = verify_sd_jwt(node, credential).claims
        assert claims["cnf"] == {"jwk": holder.public_key.to_jwk()}


def test_a_did_key_kid_names_the_proof_key(node, client, broker, application_id) -> None:
    access = access_token(client, broker, application_id)
    holder = PrivateKey.generate(KeyType.ED25519)
    did = did_key.did_from_public_key(holder.public_key)
    proof = sign_compact(
        {"typ": "openid4vci-proof+jwt", "kid": f"{did}#{did.split(':')[-1]}"},
        {"aud": node.config.public_url, "iat": node.unix_now(), "nonce": nonce(client)},
        holder,
    )
    response = request_credential(client, access, proof)
    assert response.status_code == 200, response.json


def test_authorization_details_and_credential_identifier(
    node, client, broker, application_id
) -> None:
    offered = offer(client, broker, application_id)
    details = json.dumps(
        [{"type": "openid_credential", "credential_configuration_id": "KycCredential"}]
    )
    response = token(
        client,
        grant_type=GRANT,
        authorization_details=details,
        **{"pre-authorized_code": code_of(offered)},
    )
    assert response.status_code == 200, response.json
    [detail] = response.json["authorization_details"]
    assert detail["credential_identifiers"] == ["KycCredential"]
    holder = PrivateKey.generate(KeyType.P256)
    proof = proof_jwt(holder, aud=node.config.public_url, nonce=nonce(client), iat=node.unix_now())
    answer = client.post(
        "/oid4vci/credential",
        json={"credential_identifier": "KycCredential", "proofs": {"jwt": [proof]}},
        headers={"Authorization": "Bearer " + response.json["access_token"]},
    )
    assert answer.status_code == 200, answer.json


# --- token endpoint errors --------------------------------------------------------------------


def test_a_pre_authorized_code_is_single_use(client, broker, application_id) -> None:
    code = code_of(offer(client, broker, application_id))
    assert token(client, grant_type=GRANT, **{"pre-authorized_code": code}).status_code == 200
    again = token(client, grant_type=GRANT, **{"pre-authorized_code": code})
    assert_oauth_error(again, 400, "invalid_grant")


def test_an_expired_or_unknown_code(node, client, broker, application_id) -> None:
    node.issuance.settings.offer_lifetime = 0
    code = code_of(offer(client, broker, application_id))
    assert_oauth_error(
        token(client, grant_type=GRANT, **{"pre-authorized_code": code}), 400, "invalid_grant"
    )
    assert_oauth_error(
        token(client, grant_type=GRANT, **{"pre-authorized_code": "nope"}), 400, "invalid_grant"
    )


def test_tx_code_rules(node, client, broker, application_id) -> None:
    offered = offer(client, broker, application_id, tx_code={})
    code = code_of(offered)
    before = node.store.row_counts()
    missing = token(client, grant_type=GRANT, **{"pre-authorized_code": code})
    assert_oauth_error(missing, 400, "invalid_request")
    wrong = "000000" if offered["tx_code"] != "000000" else "111111"
    assert_oauth_error(
        token(client, grant_type=GRANT, tx_code=wrong, **{"pre-authorized_code": code}),
        400,
        "invalid_grant",
    )
    assert node.store.row_counts() == before
    right = token(
        client, grant_type=GRANT, tx_code=offered["tx_code"], **{"pre-authorized_code": code}
    )
    assert right.status_code == 200
    # An offer without tx_code refuses one.
    plain = code_of(offer(client, broker, application_id))
    assert_oauth_error(
        token(client, grant_type=GRANT, tx_code="123456", **{"pre-authorized_code": plain}),
        400,
        "invalid_request",
    )


def test_too_many_wrong_tx_codes_burn_the_offer(node, client, broker, application_id) -> None:
    offered = offer(client, broker, application_id, tx_code={"length": 4})
    code = code_of(offered)
    wrong = "0000" if offered["tx_code"] != "0000" else "1111"
    for _ in range(node.issuance.settings.max_tx_code_attempts):
        assert_oauth_error(
            token(client, grant_type=GRANT, tx_code=wrong, **{"pre-authorized_code": code}),
            400,
            "invalid_grant",
        )
    late = token(
        client, grant_type=GRANT, tx_code=offered["tx_code"], **{"pre-authorized_code": code}
    )
    assert_oauth_error(late, 400, "invalid_grant")


def test_token_request_shape(client, broker, application_id) -> None:
    code = code_of(offer(client, broker, application_id))
    assert_oauth_error(token(client, **{"pre-authorized_code": code}), 400, "invalid_request")
    assert_oauth_error(
        token(client, grant_type="authorization_code", code="x"), 400, "unsupported_grant_type"
    )
    assert_oauth_error(token(client, grant_type=GRANT), 400, "invalid_request")
    as_json = client.post("/oid4vci/token", json={"grant_type": GRANT, "pre-authorized_code": code})
    assert_oauth_error(as_json, 415, "invalid_request")
    repeated = client.post(
        "/oid4vci/token",
        content_type=FORM,
        data=f"grant_type={GRANT}&pre-authorized_code={code}&pre-authorized_code={code}",
    )
    assert_oauth_error(repeated, 400, "invalid_request")
    # None of these used the code up.
    assert token(client, grant_type=GRANT, **{"pre-authorized_code": code}).status_code == 200


# --- credential endpoint errors ---------------------------------------------------------------


@pytest.fixture
def ready(node, client, broker, application_id):
    """An access token, and a function that builds proofs with a fresh nonce."""
    access = access_token(client, broker, application_id)
    holder = PrivateKey.generate(KeyType.P256)

    def proof(**changes):
        fields = {
            "aud": node.config.public_url,
            "nonce": nonce(client),
            "iat": node.unix_now(),
            **changes,
        }
        return proof_jwt(holder, **fields)

    return access, proof


def _refused(node, client, access, proof, status, error, **extra):
    before = node.store.row_counts()
    response = request_credential(client, access, proof, **extra)
    assert_oauth_error(response, status, error)
    after = node.store.row_counts()
    assert after["issued_credentials"] == before["issued_credentials"]
    assert after["registry_entries"] == before["registry_entries"]


def test_a_nonce_is_used_once(node, client, broker, application_id, ready) -> None:
    access, _proof = ready
    holder = PrivateKey.generate(KeyType.P256)
    used = nonce(client)
    first = proof_jwt(holder, aud=node.config.public_url, nonce=used, iat=node.unix_now())
    assert request_credential(client, access, first).status_code == 200
    other = access_token(client, broker, application_id)
    replay = proof_jwt(holder, aud=node.config.public_url, nonce=used, iat=node.unix_now())
    _refused(node, client, other, replay, 400, "invalid_nonce")


def test_stale_and_unknown_nonces(node, client, ready) -> None:
    access, proof = ready
    _refused(node, client, access, proof(nonce="never-issued"), 400, "invalid_nonce")
    node.issuance.settings.nonce_lifetime = 0
    _refused(node, client, access, proof(), 400, "invalid_nonce")


def test_a_nonce_is_bound_to_this_issuer_and_cannot_be_altered(node, client, ready) -> None:
    """c_nonces are stateless (expiry, randomness, MAC): a changed byte, a longer expiry or a
    nonce made under another master key is refused; nothing is stored for a refused one."""
    from storage.sealing import Sealer

    access, proof = ready
    genuine = nonce(client)
    raw = bytearray(base64.urlsafe_b64decode(genuine + "=" * (-len(genuine) % 4)))
    later = bytearray(raw)
    later[0:8] = (node.unix_now() + 10**6).to_bytes(8, "big")
    flipped = bytearray(raw)
    flipped[-1] ^= 1
    service = node.issuance.oid4vci
    elsewhere = type(service)(node.issuance)
    elsewhere.__dict__["_nonce_key"] = Sealer(bytes(range(32))).derive_key(b"oid4vci c_nonce v1")
    for forged in (b64url_encode(bytes(later)), b64url_encode(bytes(flipped)),
                   elsewhere.nonce(), genuine[:-2], genuine + "AA"):
        before = node.store.row_counts()
        _refused(node, client, access, proof(nonce=forged), 400, "invalid_nonce")
        assert node.store.row_counts() == before
    assert request_credential(client, access, proof(nonce=genuine)).status_code == 200


@pytest.mark.parametrize(
    "case", ["wrong_aud", "no_nonce", "old_iat", "future_iat", "no_iat", "wrong_typ", "no_typ"]
)
def test_bad_proof_claims(node, client, ready, case) -> None:
    access, proof = ready
    holder = PrivateKey.generate(KeyType.P256)
    aud, now = node.config.public_url, node.unix_now()
    token_ = {
        "wrong_aud": lambda: proof(aud="https://other.example"),
        "no_nonce": lambda: proof_jwt(holder, aud=aud, nonce=None, iat=now),
        "old_iat": lambda: proof(iat=now - 3600),
        "future_iat": lambda: proof(iat=now + 3600),
        "no_iat": lambda: sign_compact(
            {"typ": "openid4vci-proof+jwt", "jwk": holder.public_key.to_jwk()},
            {"aud": aud, "nonce": nonce(client)},
            holder,
        ),
        "wrong_typ": lambda: proof_jwt(holder, aud=aud, nonce=nonce(client), iat=now, typ="JWT"),
        "no_typ": lambda: sign_compact(
            {"jwk": holder.public_key.to_jwk()},
            {"aud": aud, "iat": now, "nonce": nonce(client)},
            holder,
        ),
    }[case]()
    _refused(node, client, access, token_, 400, "invalid_proof")


SMALL_ORDER = b64url_encode(bytes([1]) + bytes(31))  # the identity point, order 1


@pytest.mark.parametrize(
    "case",
    [
        "small_order_key",
        "private_jwk",
        "other_signer",
        "alg_none",
        "x5c",
        "kid_and_jwk",
        "webvh_kid",
        "not_a_jwt",
        "hs256",
    ],
)
def test_bad_proof_keys_and_signatures(node, client, ready, case) -> None:
    access, _ = ready
    holder = PrivateKey.generate(KeyType.ED25519)
    claims = {"aud": node.config.public_url, "iat": node.unix_now(), "nonce": nonce(client)}
    typ = "openid4vci-proof+jwt"

    def unsigned(header):
        encode = lambda value: b64url_encode(json.dumps(value).encode())  # noqa: E731
        return f"{encode(header)}.{encode(claims)}.{b64url_encode(bytes(64))}"

    proof = {
        "small_order_key": lambda: sign_compact(
            {"typ": typ, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": SMALL_ORDER}}, claims, holder
        ),
        "private_jwk": lambda: sign_compact(
            {"typ": typ, "jwk": holder.to_jwk(include_private=True)}, claims, holder
        ),
        "other_signer": lambda: sign_compact(
            {"typ": typ, "jwk": PrivateKey.generate(KeyType.ED25519).public_key.to_jwk()},
            claims,
            holder,
        ),
        "alg_none": lambda: unsigned(
            {"alg": "none", "typ": typ, "jwk": holder.public_key.to_jwk()}
        ),
        "hs256": lambda: unsigned({"alg": "HS256", "typ": typ, "jwk": holder.public_key.to_jwk()}),
        "x5c": lambda: sign_compact({"typ": typ, "x5c": ["MIIB"]}, claims, holder),
        "kid_and_jwk": lambda: sign_compact(
            {"typ": typ, "jwk": holder.public_key.to_jwk(), "kid": "k"}, claims, holder
        ),
        "webvh_kid": lambda: sign_compact(
            {"typ": typ, "kid": node.institution.did + "#key"}, claims, holder
        ),
        "not_a_jwt": lambda: "not.a.jwt",
    }[case]()
    _refused(node, client, access, proof, 400, "invalid_proof")


def test_access_token_required(node, client, ready) -> None:
    _, proof = ready
    response = client.post(
        "/oid4vci/credential",
        json={"credential_configuration_id": "KycCredential", "proofs": {"jwt": [proof()]}},
    )
    assert_oauth_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    _refused(node, client, "not-a-token", proof(), 401, "invalid_token")


def test_credential_request_shape(node, client, ready) -> None:
    access, proof = ready
    _refused(
        node,
        client,
        access,
        proof(),
        400,
        "unknown_credential_configuration",
        configuration="KycCredentialVcdm2",
    )
    _refused(
        node,
        client,
        access,
        proof(),
        400,
        "invalid_credential_request",
        credential_identifier="KycCredential",
    )
    _refused(
        node,
        client,
        access,
        proof(),
        400,
        "invalid_credential_request",
        credential_response_encryption={},
    )
    both = client.post(
        "/oid4vci/credential",
        json={"proofs": {"jwt": [proof()]}},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert_oauth_error(both, 400, "invalid_credential_request")
    too_many = client.post(
        "/oid4vci/credential",
        json={
            "credential_configuration_id": "KycCredential",
            "proofs": {"jwt": [proof()] * (BATCH_SIZE + 1)},
        },
        headers={"Authorization": f"Bearer {access}"},
    )
    assert_oauth_error(too_many, 400, "invalid_credential_request")
    no_proof = client.post(
        "/oid4vci/credential",
        json={"credential_configuration_id": "KycCredential"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert_oauth_error(no_proof, 400, "invalid_proof")
    # The token still works once, and only once.
    assert request_credential(client, access, proof()).status_code == 200
    _refused(node, client, access, proof(), 400, "invalid_credential_request")


# --- batch issuance (§8.2, §12.2.4) -------------------------------------------------------------


def batch_proofs(node, client, holders, **changes):
    shared = nonce(client)
    fields = {"aud": node.config.public_url, "nonce": shared, "iat": node.unix_now(), **changes}
    return [proof_jwt(holder, **fields) for holder in holders]


def test_batch_issuance_one_credential_per_key(node, client, broker, application_id) -> None:
    metadata = client.get("/.well-known/openid-credential-issuer").json
    assert metadata["batch_credential_issuance"] == {"batch_size": BATCH_SIZE}
    access = access_token(client, broker, application_id)
    holders = [PrivateKey.generate(KeyType.P256) for _ in range(BATCH_SIZE)]
    before = node.store.row_counts()["issued_credentials"]
    response = client.post(
        "/oid4vci/credential",
        json={
            "credential_configuration_id": "KycCredential",
            "proofs": {"jwt": batch_proofs(node, client, holders)},
        },
        headers={"Authorization": f"Bearer {access}"},
    )
    assert response.status_code == 200, response.json
    credentials = [item["credential"] for item in response.json["credentials"]]
    assert len(credentials) == BATCH_SIZE
    assert node.store.row_counts()["issued_credentials"] == before + BATCH_SIZE
    indexes = set()
    for holder, credential in zip(holders, credentials, strict=True):
        verified = verify_sd_jwt(node, credential)
        assert verified.claims["cnf"]["jwk"] == holder.public_key.to_jwk()
        assert verified.claims["given_name"] == APPLICATION["given_names"]
        indexes.add(verified.claims["status"]["status_list"]["idx"])
    assert len(indexes) == BATCH_SIZE  # each its own random status index
    # The access token is spent: the same configuration is not issued twice.
    again = [PrivateKey.generate(KeyType.P256)]
    _refused(node, client, access, batch_proofs(node, client, again)[0], 400,
             "invalid_credential_request")


@pytest.mark.parametrize("case", ["mixed_nonces", "same_key_twice", "one_bad_proof"])
def test_a_bad_batch_issues_nothing(node, client, ready, case) -> None:
    access, _proof = ready
    holders = [PrivateKey.generate(KeyType.P256) for _ in range(3)]
    proofs = batch_proofs(node, client, holders)
    if case == "mixed_nonces":
        proofs[2] = batch_proofs(node, client, holders[2:])[0]
        expected = "invalid_nonce"
    elif case == "same_key_twice":
        proofs = batch_proofs(node, client, [holders[0], holders[1], holders[0]])
        expected = "invalid_proof"
    else:
        proofs[1] = proof_jwt(holders[1], aud="https://elsewhere.example",
                              nonce=_nonce_of(proofs[0]), iat=node.unix_now())
        expected = "invalid_proof"
    before = node.store.row_counts()
    response = client.post(
        "/oid4vci/credential",
        json={"credential_configuration_id": "KycCredential", "proofs": {"jwt": proofs}},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert_oauth_error(response, 400, expected)
    after = node.store.row_counts()
    assert after["issued_credentials"] == before["issued_credentials"]
    assert after["registry_entries"] == before["registry_entries"]


def _nonce_of(proof: str) -> str:
    payload = proof.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["nonce"]


def test_a_client_suspended_after_the_offer_gets_nothing(
    node, client, ready, application_id
) -> None:
    access, proof = ready
    with node.store.transaction():
        node.store.update_application(application_id, status="suspended")
    _refused(node, client, access, proof(), 400, "credential_request_denied")


# --- offers -----------------------------------------------------------------------------------


def test_offers_are_for_the_owner_broker_and_approved_applications(
    node, client, broker, application_id, auth
) -> None:
    other, officer = auth("broker"), auth("officer")
    before = node.store.row_counts()
    path = f"/kyc/applications/{application_id}/offers"
    assert client.post(path, json={}, headers=other).status_code == 404
    assert client.post(path, json={}, headers=officer).status_code == 403
    assert client.post(path, json={}).status_code == 401
    assert (
        client.post("/kyc/applications/app_nope/offers", json={}, headers=broker).status_code == 404
    )
    for body in (
        {"credential_configuration_ids": ["Nope"]},
        {"tx_code": {"length": 99}},
        {"extra": True},
        {"credential_configuration_ids": []},
    ):
        assert client.post(path, json=body, headers=broker).status_code == 400
    assert node.store.row_counts() == before
    rejected = client.post(
        "/kyc/applications", headers=broker, json={**APPLICATION, "birthdate": "2015-01-01"}
    ).json
    assert rejected["status"] != "approved"
    refused = client.post(f"/kyc/applications/{rejected['id']}/offers", json={}, headers=broker)
    assert refused.status_code == 409 and refused.json["error"] == "application_not_approved"
