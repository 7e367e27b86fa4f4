"""VCDM 2.0 credentials secured with JOSE (vc+jwt) and vp+jwt presentations: the published
shapes, round trips, and refusals (typ confusion, issuer mismatch, vc claim, validity, holder
binding, inner credentials checked fully)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from credentials import jose, vc_jwt
from credentials.errors import (
    AudienceMismatch,
    HolderMismatch,
    InvalidCredential,
    InvalidStatusList,
    IssuerMismatch,
    KeyBindingInvalid,
    NonceMismatch,
    TokenExpired,
    TokenNotYetValid,
    WrongTokenType,
)
from errors import InvalidSignature, NotFound, UnsupportedAlgorithm
from identity.encoding import b64url_encode
from identity.keys import KeyType, PrivateKey, PublicKey

VECTORS = Path(__file__).parents[1] / "vectors"
EXAMPLES = json.loads((VECTORS / "vc-jwt-examples.json").read_text())
W3C_STATUS = json.loads((VECTORS / "bitstring-status.json").read_text())
JOSE_COSE = EXAMPLES["vc_jose_cose_v2"]

ISSUER = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x0b")
HOLDER = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(32)))
MALLORY = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(9, 41)))
ISSUER_DID, HOLDER_DID = "did:web:issuer.example", "did:key:z6MkHolder"
NOW = 1_750_000_000
NONCE, AUD = "n-0S6_WzA2Mj", "decentralized_identifier:did:web:bank.example"

CREDENTIAL = {
    "@context": [vc_jwt.V2_CONTEXT, "https://w3id.org/kyc/v1"],
    "id": "urn:uuid:7d3f4a32-0001",
    "type": ["VerifiableCredential", "KycCredential"],
    "issuer": ISSUER_DID,
    "validFrom": "2025-01-01T00:00:00Z",
    "validUntil": "2030-01-01T00:00:00Z",
    "credentialSubject": {"id": HOLDER_DID, "kycLevel": 2},
    "credentialStatus": {
        "id": "https://issuer.example/status/1#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://issuer.example/status/1",
    },
}


def _issuer_keys(header: dict[str, Any], claims: dict[str, Any]) -> PublicKey:
    issuer = claims.get("issuer")
    if issuer != ISSUER_DID or header.get("kid") != f"{ISSUER_DID}#k1":
        raise NotFound(f"unknown issuer {issuer!r}")
    return ISSUER.public_key


def _holder_keys(header: dict[str, Any], claims: dict[str, Any]) -> PublicKey:
    return {HOLDER_DID: HOLDER.public_key, "did:key:z6MkMallory": MALLORY.public_key}[
        claims["holder"]
    ]


def _vc(credential: dict[str, Any] | None = None, **kwargs: Any) -> str:
    return vc_jwt.build_vc_jwt(credential or CREDENTIAL, ISSUER, kid=f"{ISSUER_DID}#k1", **kwargs)


def _verify(token: str, **kwargs: Any) -> vc_jwt.VerifiedCredential:
    return vc_jwt.verify_vc_jwt(token, _issuer_keys, now=kwargs.pop("now", NOW), **kwargs)


def _signed(payload: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    return jose.sign_compact(
        header or {"typ": "vc+jwt", "kid": f"{ISSUER_DID}#k1"}, payload, ISSUER
    )


# --- published shapes ----------------------------------------------------------------------------


def test_vc_jose_cose_example_decodes_to_its_published_header_and_payload() -> None:
    header, payload, _, _ = jose.decode_unverified(JOSE_COSE["example_compact"])
    assert header == JOSE_COSE["example_decoded_header"]
    assert json.loads(payload) == JOSE_COSE["example_decoded_payload"]


def test_vc_jose_cose_example_es384_is_outside_the_allow_list() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        vc_jwt.verify_vc_jwt(JOSE_COSE["example_compact"], lambda h, c: ISSUER.public_key, now=NOW)


def test_vc_jose_cose_example_payload_round_trips_with_our_key() -> None:
    payload = JOSE_COSE["example_decoded_payload"]
    token = vc_jwt.build_vc_jwt(payload, ISSUER)
    verified = vc_jwt.verify_vc_jwt(token, lambda h, c: ISSUER.public_key, now=NOW)
    assert verified.credential == payload
    assert verified.issuer == payload["issuer"]


def test_vcdm_1_1_vc_claim_is_refused() -> None:
    payload = EXAMPLES["vcdm_1_1_vc_jwt"]["example_payload"]
    with pytest.raises(InvalidCredential):
        vc_jwt.build_vc_jwt(payload, ISSUER)
    with pytest.raises(InvalidCredential):
        _verify(_signed({**CREDENTIAL, "vc": payload["vc"]}))


def test_bitstring_spec_credential_with_two_status_entries() -> None:
    credential = W3C_STATUS["spec_examples"]["status_entry_credential"]
    token = vc_jwt.build_vc_jwt(credential, ISSUER)
    verified = vc_jwt.verify_vc_jwt(token, lambda h, c: ISSUER.public_key, now=NOW)
    assert [s.purpose for s in verified.status] == [
        e["statusPurpose"] for e in credential["credentialStatus"]
    ]


# --- vc+jwt --------------------------------------------------------------------------------------


def test_vc_round_trip() -> None:
    verified = _verify(_vc(iat=NOW, exp=NOW + 3600))
    assert verified.header == {"alg": "ES256", "typ": "vc+jwt", "kid": f"{ISSUER_DID}#k1"}
    assert verified.credential["credentialSubject"]["kycLevel"] == 2
    assert verified.status[0].index == 94567


@pytest.mark.parametrize("typ", ["kb+jwt", "statuslist+jwt", "vp+jwt", "JWT", "dc+sd-jwt"])
def test_vc_typ_confusion_refused(typ: str) -> None:
    with pytest.raises(WrongTokenType):
        _verify(_signed(CREDENTIAL, {"typ": typ, "kid": f"{ISSUER_DID}#k1"}))


def test_vc_alg_none_refused() -> None:
    head = b64url_encode(
        json.dumps({"alg": "none", "typ": "vc+jwt", "kid": f"{ISSUER_DID}#k1"}).encode()
    )
    body = b64url_encode(json.dumps(CREDENTIAL).encode())
    with pytest.raises(UnsupportedAlgorithm):
        _verify(f"{head}.{body}.")


def test_vc_embedded_jwk_refused() -> None:
    forged = jose.sign_compact(
        {"typ": "vc+jwt", "kid": f"{ISSUER_DID}#k1", "jwk": MALLORY.public_key.to_jwk()},
        CREDENTIAL,
        MALLORY,
    )
    with pytest.raises(UnsupportedAlgorithm):  # EdDSA cannot be the issuer's P-256 key
        _verify(forged)


def test_vc_kid_of_another_did_refused() -> None:
    with pytest.raises(NotFound):
        _verify(_signed(CREDENTIAL, {"typ": "vc+jwt", "kid": "did:web:mallory.example#k1"}))


@pytest.mark.parametrize(
    "iss", ["did:web:issuеr.example", "did:web:mallory.example"], ids=["lookalike", "other"]
)
def test_vc_iss_differs_from_issuer_refused(iss: str) -> None:
    with pytest.raises(IssuerMismatch):
        _verify(_signed({**CREDENTIAL, "iss": iss}))


def test_vc_matching_iss_sub_jti_accepted() -> None:
    claims = {**CREDENTIAL, "iss": ISSUER_DID, "sub": HOLDER_DID, "jti": CREDENTIAL["id"]}
    _verify(_signed(claims))


@pytest.mark.parametrize(
    "change",
    [
        {"@context": ["https://www.w3.org/2018/credentials/v1"]},
        {"@context": ["https://w3id.org/kyc/v1", vc_jwt.V2_CONTEXT]},
        {"@context": vc_jwt.V2_CONTEXT},
        {"type": ["KycCredential"]},
        {"type": []},
        {"issuer": {"name": "no id"}},
        {"issuer": 7},
        {"credentialSubject": []},
        {"credentialSubject": "did:key:x"},
        {"validFrom": "2025-01-01T00:00:00"},
        {"validUntil": "tomorrow"},
        {"sub": "did:key:someone-else"},
        {"jti": "urn:uuid:other"},
        {"credentialStatus": {"type": "StatusList2021Entry"}},
    ],
    ids=[
        "v1_context",
        "v2_not_first",
        "context_string",
        "no_vc_type",
        "empty_type",
        "issuer_without_id",
        "issuer_number",
        "no_subject",
        "subject_string",
        "valid_from_without_tz",
        "valid_until_not_a_date",
        "sub_mismatch",
        "jti_mismatch",
        "unknown_status_type",
    ],
)
def test_vc_malformed_credential_refused(change: dict[str, Any]) -> None:
    token = _signed({**CREDENTIAL, **change})
    with pytest.raises((InvalidCredential, InvalidStatusList)):
        vc_jwt.verify_vc_jwt(token, lambda header, claims: ISSUER.public_key, now=NOW)


def test_vc_status_index_parser_differential_refused() -> None:
    credential = copy.deepcopy(CREDENTIAL)
    credential["credentialStatus"]["statusListIndex"] = "٩٤٥٦٧"
    with pytest.raises(InvalidStatusList):
        _verify(_signed(credential))


def test_vc_validity_window() -> None:
    token = _vc()
    with pytest.raises(TokenNotYetValid):
        _verify(token, now=1_735_689_600 - 61)
    _verify(token, now=1_735_689_600 - 59)
    with pytest.raises(TokenExpired):
        _verify(token, now=1_893_456_000 + 61)


def test_vc_jwt_exp_enforced() -> None:
    with pytest.raises(TokenExpired):
        _verify(_vc(exp=NOW - 120))


def test_vc_signature_by_another_key_refused() -> None:
    other = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x0c")
    forged = jose.sign_compact({"typ": "vc+jwt", "kid": f"{ISSUER_DID}#k1"}, CREDENTIAL, other)
    with pytest.raises(InvalidSignature):
        _verify(forged)


# --- vp+jwt --------------------------------------------------------------------------------------


def _vp(credentials: list[str] | None = None, key: PrivateKey = HOLDER, **kwargs: Any) -> str:
    options: dict[str, Any] = {"holder": HOLDER_DID, "nonce": NONCE, "aud": AUD, "iat": NOW}
    options.update(kwargs)
    return vc_jwt.build_vp_jwt(credentials or [_vc()], key, **options)


def _verify_vp(token: str, **kwargs: Any) -> vc_jwt.VerifiedPresentation:
    options: dict[str, Any] = {"expected_nonce": NONCE, "expected_aud": AUD, "now": NOW}
    options.update(kwargs)
    return vc_jwt.verify_vp_jwt(token, _holder_keys, _issuer_keys, **options)


def test_vp_round_trip_with_two_credentials() -> None:
    second = {**CREDENTIAL, "id": "urn:uuid:7d3f4a32-0002"}
    verified = _verify_vp(_vp([_vc(), _vc(second)]))
    assert [c.credential["id"] for c in verified.credentials] == [
        "urn:uuid:7d3f4a32-0001",
        "urn:uuid:7d3f4a32-0002",
    ]
    envelope = verified.presentation["verifiableCredential"][0]
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    assert envelope["id"].startswith("data:application/vc+jwt,")


@pytest.mark.parametrize("nonce", ["other", None])
def test_vp_wrong_nonce_refused(nonce: Any) -> None:
    token = _signed_vp({"nonce": nonce})
    with pytest.raises(NonceMismatch):
        _verify_vp(token)


@pytest.mark.parametrize("aud", ["https://other.example", [AUD]], ids=["other", "array"])
def test_vp_wrong_aud_refused(aud: Any) -> None:
    with pytest.raises(AudienceMismatch):
        _verify_vp(_signed_vp({"aud": aud}))


@pytest.mark.parametrize("iat", [NOW - 400, NOW + 120, True], ids=["stale", "future", "bool"])
def test_vp_iat_outside_window_refused(iat: Any) -> None:
    with pytest.raises(KeyBindingInvalid):
        _verify_vp(_signed_vp({"iat": iat}))


def _signed_vp(changes: dict[str, Any], key: PrivateKey = HOLDER) -> str:
    payload = {
        "@context": [vc_jwt.V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER_DID,
        "verifiableCredential": [vc_jwt.enveloped_credential(_vc())],
        "nonce": NONCE,
        "aud": AUD,
        "iat": NOW,
    }
    payload.update(changes)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jose.sign_compact({"typ": "vp+jwt"}, payload, key)


def test_vp_inner_credential_with_a_broken_signature_refused() -> None:
    inner = _vc()
    head, _body, sig = inner.split(".")
    tampered_body = json.loads(jose.decode_unverified(inner)[1])
    tampered_body["credentialSubject"]["kycLevel"] = 3
    tampered = f"{head}.{b64url_encode(json.dumps(tampered_body).encode())}.{sig}"
    with pytest.raises(InvalidSignature):
        _verify_vp(_vp([tampered]))


def test_vp_inner_credential_from_an_unknown_issuer_refused() -> None:
    rogue = jose.sign_compact(
        {"typ": "vc+jwt", "kid": "did:web:mallory.example#k1"},
        {**CREDENTIAL, "issuer": "did:web:mallory.example"},
        MALLORY,
    )
    with pytest.raises(NotFound):
        _verify_vp(_vp([rogue]))


def test_vp_expired_inner_credential_refused() -> None:
    with pytest.raises(TokenExpired):
        _verify_vp(_vp([_vc(exp=NOW - 120)]))


def test_vp_unsecured_embedded_credential_refused() -> None:
    with pytest.raises(InvalidCredential):
        _verify_vp(_signed_vp({"verifiableCredential": [CREDENTIAL]}))


@pytest.mark.parametrize(
    "envelope_id", ["data:application/vp+jwt,x.y.z", "https://issuer.example/vc/1", 7]
)
def test_vp_malformed_envelope_refused(envelope_id: Any) -> None:
    envelope = {
        "@context": [vc_jwt.V2_CONTEXT],
        "type": "EnvelopedVerifiableCredential",
        "id": envelope_id,
    }
    with pytest.raises(InvalidCredential):
        _verify_vp(_signed_vp({"verifiableCredential": [envelope]}))


def test_vp_of_someone_elses_credential_refused() -> None:
    token = _vp(key=MALLORY, holder="did:key:z6MkMallory")
    with pytest.raises(HolderMismatch):
        _verify_vp(token)
    _verify_vp(token, require_holder_binding=False)


def test_vp_credential_bound_by_cnf() -> None:
    credential = {
        **CREDENTIAL,
        "credentialSubject": {"kycLevel": 2},
        "cnf": {"jwk": HOLDER.public_key.to_jwk()},
    }
    _verify_vp(_vp([_vc(credential)]))
    mallory_vp = _vp([_vc(credential)], key=MALLORY, holder="did:key:z6MkMallory")
    with pytest.raises(HolderMismatch):
        _verify_vp(mallory_vp)


def test_vp_signed_by_a_key_other_than_the_holders_refused() -> None:
    with pytest.raises(InvalidSignature):
        _verify_vp(_signed_vp({}, key=PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32))))


def test_vp_typ_vc_jwt_refused() -> None:
    token = jose.sign_compact(
        {"typ": "vc+jwt"}, json.loads(jose.decode_unverified(_vp())[1]), HOLDER
    )
    with pytest.raises(WrongTokenType):
        _verify_vp(token)


def test_vp_iss_differs_from_holder_refused() -> None:
    with pytest.raises(IssuerMismatch):
        _verify_vp(_signed_vp({"iss": "did:key:z6MkMallory"}))
