"""DID resolution over HTTP at the DIF Universal Resolver path."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from identity.encoding import b64url_encode, multibase_encode

ED25519_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
P256_DID = "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"
RESULT_TYPE = 'application/ld+json;profile="https://w3id.org/did-resolution"'


def _did_key(raw: bytes) -> str:
    return "did:key:" + multibase_encode(b"\xed\x01" + raw)


@pytest.mark.parametrize("did", [ED25519_DID, P256_DID])
def test_resolves_did_key(client: FlaskClient, did: str) -> None:
    response = client.get(f"/1.0/identifiers/{did}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == RESULT_TYPE
    body = response.get_json(force=True)
    assert body["didDocument"]["id"] == did
    assert body["didResolutionMetadata"]["contentType"].startswith("application/did")
    [method] = body["didDocument"]["verificationMethod"][:1]
    assert method["controller"] == did


def test_accept_did_document_returns_the_document_alone(client: FlaskClient) -> None:
    response = client.get(f"/1.0/identifiers/{ED25519_DID}",
                          headers={"Accept": "application/did+ld+json"})
    assert response.status_code == 200
    assert response.mimetype == "application/did+ld+json"
    assert response.get_json(force=True)["id"] == ED25519_DID


def test_resolves_did_jwk(client: FlaskClient) -> None:
    jwk = '{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}'
    did = "did:jwk:" + b64url_encode(jwk.encode())
    body = client.get(f"/1.0/identifiers/{did}").get_json(force=True)
    assert body["didDocument"]["verificationMethod"][0]["publicKeyJwk"]["x"].startswith("11qY")


@pytest.mark.parametrize(
    ("did", "status", "error"),
    [
        ("not-a-did", 400, "invalidDid"),
        ("did:key:", 400, "invalidDid"),
        ("did:key:zTjsVPtY", 400, "invalidPublicKeyLength"),
        ("did:example:123", 501, "methodNotSupported"),
        ("did:web:example.com", 501, "methodNotSupported"),
        ("did:key:" + "z" * 5000, 400, "invalidDid"),
        # The small-order point 01 00..00: a forged signature verifies under it for any message.
        (_did_key(b"\x01" + bytes(31)), 400, "invalidPublicKey"),
        # The identity point with the sign bit set (a non-canonical encoding).
        (_did_key(b"\x01" + bytes(30) + b"\x80"), 400, "invalidPublicKey"),
        ("did:jwk:" + b64url_encode(b'{"kty":"OKP","crv":"Ed25519","x":"'
                                    + b64url_encode(b"\x01" + bytes(31)).encode() + b'"}'),
         400, "invalidPublicKey"),
    ],
)
def test_resolution_errors(client: FlaskClient, did: str, status: int, error: str) -> None:
    response = client.get(f"/1.0/identifiers/{did}")
    assert response.status_code == status
    body = response.get_json(force=True)
    assert body["didResolutionMetadata"]["error"] == error
    assert body["error"] == error and body["message"]
    assert body["didDocument"] is None
