"""Helpers for the issuance and OpenID4VCI tests: approved applications, holder keys, proofs,
and verification of what the node issues with the institution's key resolved from its DID."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from credentials.jose import sign_compact
from credentials.sd_jwt import VerifiedSdJwt, verify_sd_jwt_vc
from credentials.status_list import BitOrder, StatusList, decode_bitstring
from credentials.status_list import verify_status_list_token as _verify_tsl
from credentials.vc_jwt import VerifiedCredential, verify_vc_jwt
from identity.keys import PrivateKey
from node.dids import resolve_key
from registry.entries import parse_entry

APPLICATION: dict[str, Any] = {
    "given_names": "Anna Maria", "family_names": "Eriksson", "birthdate": "1974-08-12",
    "nationality": "SE", "residence_country": "SE",
    "address": {"street": "Storgatan 1", "city": "Stockholm", "postal_code": "111 22",
                "country": "SE"},
    "document": {"type": "passport", "number": "L898902C3", "issuing_country": "SE",
                 "expiry_date": "2036-04-15"},
    "holder_did": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00Z"},
}  # fmt: skip


def approved_application(node: Any, broker_key_id: int = 1, **overrides: Any) -> str:
    row, _ = node.kyc.submit({**APPLICATION, **overrides}, broker_key_id, "test", None)
    assert row.status == "approved", row.decision
    return str(row.id)


def key_id_of(node: Any, headers: dict[str, str]) -> int:
    from api.auth import hash_api_key

    token = headers["Authorization"].split(" ", 1)[1]
    record = node.store.find_api_key(hash_api_key(token))
    assert record is not None
    return int(record.id)


def issuer_resolver(node: Any) -> Any:
    def resolve(header: dict[str, Any], claims: dict[str, Any]) -> Any:
        # iat is whole seconds; the DID's versionTime may have a fraction of the same second.
        at = datetime.fromtimestamp(claims.get("iat", node.unix_now()) + 1, UTC)
        return resolve_key(node, header["kid"], at)

    return resolve


def verify_sd_jwt(node: Any, credential: str) -> VerifiedSdJwt:
    return verify_sd_jwt_vc(
        credential, issuer_resolver(node), now=node.unix_now(), require_kb=False
    )


def verify_vcdm(node: Any, credential: str) -> VerifiedCredential:
    return verify_vc_jwt(credential, issuer_resolver(node), now=node.unix_now())


def proof_jwt(
    key: PrivateKey,
    *,
    aud: str,
    nonce: str | None,
    iat: int,
    typ: str = "openid4vci-proof+jwt",
    header: dict[str, Any] | None = None,
) -> str:
    fields = {"typ": typ, "jwk": key.public_key.to_jwk(), **(header or {})}
    claims: dict[str, Any] = {"aud": aud, "iat": iat}
    if nonce is not None:
        claims["nonce"] = nonce
    return sign_compact(fields, claims, key)


def served_status(node: Any, client: Any, uri: str, idx: int) -> int:
    """The status at ``idx`` in the list served at ``uri``, after checking the token's signature
    and that the registry anchors exactly the served bytes."""
    return served_list(node, client, uri).get(idx)


def served_list(node: Any, client: Any, uri: str) -> StatusList:
    """The list served at ``uri``, its signature and registry anchor checked."""
    path = uri[len(node.config.public_url) :]
    response = client.get(path)
    assert response.status_code == 200
    token = response.get_data(as_text=True)
    check_anchor(node, uri, token)
    if "/status/ietf/" in uri:
        header = _header(token)
        key = resolve_key(node, header["kid"], datetime.now(UTC))
        verified = _verify_tsl(token, key, expected_sub=uri, now=node.unix_now())
        return verified.status_list
    credential = verify_vcdm(node, token).credential
    status_list: StatusList = decode_bitstring(credential["credentialSubject"]["encodedList"])
    assert status_list.order is BitOrder.MSB
    return status_list


def check_anchor(node: Any, uri: str, token: str) -> dict[str, Any]:
    head = node.store.registry_subject_head(uri)
    assert head is not None, "status list publication not anchored"
    [data] = node.store.registry_entries(head, head + 1)
    entry = parse_entry(data)
    assert entry.payload["list_uri"] == uri
    assert entry.payload["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    return dict(entry.payload)


def _header(token: str) -> dict[str, Any]:
    from credentials.jose import decode_unverified

    return decode_unverified(token)[0]
