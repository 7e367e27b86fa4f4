"""The holder's pure decisions: offers, key proofs, DCQL matching, minimal disclosure, KB-JWT."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from credentials import SD, decode_unverified, issue_sd_jwt_vc, verify_compact, verify_sd_jwt_vc
from credentials.errors import HolderMismatch, InvalidCredential, TokenExpired
from errors import InvalidSignature
from identity.keys import KeyType, PrivateKey
from wallet import holder
from wallet.errors import NoMatchingCredential, ProtocolError
from wallet.holder import CredentialRecord

NOW = 1_800_000_000
ISSUER = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x07")
HOLDER = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(32)))
OTHER = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(1, 33)))
OTHER_ISSUER = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x08")
ISS = "did:webvh:QmIssuer:broker.example"
VCT = "https://broker.example/vct/kyc"
CLIENT_ID = "redirect_uri:https://bank.example/verifier/response/abc"

PERSON = {
    "given_name": "Erika",
    "family_name": "Mustermann",
    "birthdate": "1990-01-02",
    "age_over_18": True,
    "age_over_21": True,
    "nationality": "DE",
    "kyc_level": 2,
    "nationalities": ["DE", "FR"],
}


def _issue(
    *,
    holder_key: PrivateKey = HOLDER,
    vct: str = VCT,
    exp: int = NOW + 3600,
    issuer_key: PrivateKey = ISSUER,
) -> str:
    claims: dict[Any, Any] = {"iss": ISS, "vct": vct, "iat": NOW - 10, "exp": exp}
    for name, value in PERSON.items():
        if name == "nationalities":
            claims[SD(name)] = [SD(v) for v in value]
        else:
            claims[SD(name)] = value
    return issue_sd_jwt_vc(
        claims,
        issuer_key,
        header={"kid": ISS + "#key-1"},
        holder_key=holder_key.public_key,
        decoys=(1, 3),
    )


def _resolver(header: dict[str, Any], claims: dict[str, Any]):
    return ISSUER.public_key


def _record(credential: str | None = None, **kwargs: Any) -> CredentialRecord:
    return holder.accept_credential(
        credential or _issue(),
        _resolver,
        holder_key=HOLDER.public_key,
        expected_vct=VCT,
        issuer_url="https://broker.example",
        holder_key_id=HOLDER.public_key.thumbprint(),
        now=NOW,
        **kwargs,
    )


def _query(*credentials: dict[str, Any], **extra: Any) -> holder.DcqlQuery:
    return holder.parse_dcql({"credentials": list(credentials), **extra})


def _kyc_query(claims: list[dict[str, Any]] | None, **extra: Any) -> dict[str, Any]:
    query: dict[str, Any] = {"id": "kyc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}}
    if claims is not None:
        query["claims"] = claims
    return query | extra


def _request(query: dict[str, Any], nonce: str = "n-0S6_WzA2Mj") -> holder.PresentationRequest:
    return holder.parse_presentation_request(
        {
            "client_id": CLIENT_ID,
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": CLIENT_ID.removeprefix("redirect_uri:"),
            "nonce": nonce,
            "state": "st-1",
            "dcql_query": query,
        },
        expected_client_id=CLIENT_ID,
    )


def _shown(request: holder.PresentationRequest, records: list[CredentialRecord]) -> dict:
    matches = holder.match_dcql(request.dcql, records, now=NOW)
    token = holder.build_vp_token(request, matches, lambda _kid: HOLDER, now=NOW)
    return {
        query_id: verify_sd_jwt_vc(
            presentations[0],
            _resolver,
            now=NOW,
            expected_nonce=request.nonce,
            expected_aud=request.client_id,
        )
        for query_id, presentations in token.items()
    }


ALWAYS = {"iss", "vct", "iat", "exp", "cnf"}


# --- receiving -----------------------------------------------------------------------------------


def test_accept_credential_records_what_was_verified() -> None:
    record = _record()
    assert record.issuer == ISS
    assert record.vct == VCT
    assert record.personal_claims == PERSON
    assert record.expires_at == NOW + 3600
    assert ("given_name",) in record.disclosable
    assert record.holder_key_id == HOLDER.public_key.thumbprint()


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        (lambda: _issue(holder_key=OTHER), HolderMismatch),
        (lambda: _issue(vct="https://other.example/vct"), InvalidCredential),
        (lambda: _issue(exp=NOW - 3600), TokenExpired),
        (lambda: _issue(issuer_key=OTHER_ISSUER), InvalidSignature),
        (lambda: _issue() + "eyJ0eXAiOiJrYitqd3QifQ.e30.c2ln", InvalidCredential),
    ],
    ids=["other-holder-key", "other-vct", "expired", "wrong-issuer-key", "carries-kb-jwt"],
)
def test_accept_credential_refuses(credential, expected) -> None:
    with pytest.raises(expected):
        _record(credential())


def test_accept_credential_refuses_a_tampered_disclosure() -> None:
    issued = _issue()
    parts = issued.split("~")
    parts[1] = parts[1][:-2] + ("AA" if parts[1][-2:] != "AA" else "AB")
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the kind depends on the byte
        _record("~".join(parts))


def test_offer_by_value_and_by_reference() -> None:
    offer = {
        "credential_issuer": "https://broker.example",
        "credential_configuration_ids": ["kyc_sd_jwt"],
        "grants": {
            holder.PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": "code-1",
                "tx_code": {"input_mode": "numeric", "length": 6},
            }
        },
    }
    parsed = holder.parse_offer_uri(
        "openid-credential-offer://?credential_offer=" + quote(json.dumps(offer))
    )
    assert isinstance(parsed, holder.CredentialOffer)
    assert parsed.needs_tx_code
    assert parsed.pre_authorized_code == "code-1"
    url = "https://broker.example/oid4vci/offers/1"
    assert (
        holder.parse_offer_uri("openid-credential-offer://?credential_offer_uri=" + quote(url))
        == url
    )
    del offer["grants"][holder.PRE_AUTHORIZED_GRANT]["tx_code"]
    assert not holder.parse_credential_offer(offer).needs_tx_code


@pytest.mark.parametrize(
    "uri",
    [
        "https://broker.example/?credential_offer_uri=x",
        "openid-credential-offer://?credential_offer=x&credential_offer_uri=y",
        "openid-credential-offer://",
        "openid-credential-offer://?credential_offer=%7B%7D",
        "openid-credential-offer://?credential_offer_uri=a&credential_offer_uri=b",
    ],
)
def test_bad_offer_uris(uri: str) -> None:
    with pytest.raises(ProtocolError):
        holder.parse_offer_uri(uri)


def test_offer_without_pre_authorized_grant() -> None:
    with pytest.raises(ProtocolError, match="pre-authorized"):
        holder.parse_credential_offer(
            {"credential_issuer": "https://b", "credential_configuration_ids": ["x"], "grants": {}}
        )


@pytest.mark.parametrize(
    "key", [HOLDER, PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x09")]
)
def test_proof_jwt_fields(key: PrivateKey) -> None:
    proof = holder.build_proof_jwt(
        key, credential_issuer="https://broker.example", c_nonce="c-nonce-1", now=NOW
    )
    header, claims = verify_compact(
        proof, None, expected_typ="openid4vci-proof+jwt", trust_header_jwk=True
    )
    assert header["typ"] == "openid4vci-proof+jwt"
    assert header["jwk"] == key.public_key.to_jwk()  # public only: no "d"
    assert "kid" not in header and "x5c" not in header
    assert claims == {"aud": "https://broker.example", "iat": NOW, "nonce": "c-nonce-1"}


def test_proof_jwt_without_nonce_endpoint() -> None:
    proof = holder.build_proof_jwt(HOLDER, credential_issuer="https://b", c_nonce=None, now=NOW)
    assert "nonce" not in json.loads(decode_unverified(proof)[1])


# --- presenting: minimal disclosure --------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "disclosed"),
    [
        ([{"path": ["age_over_18"]}], {"age_over_18": True}),
        (
            [{"path": ["given_name"]}, {"path": ["family_name"]}],
            {"given_name": "Erika", "family_name": "Mustermann"},
        ),
        ([{"path": ["kyc_level"], "values": [1, 2, 3]}], {"kyc_level": 2}),
        ([{"path": ["nationalities", None]}], {"nationalities": ["DE", "FR"]}),
        ([{"path": ["nationalities", 1]}], {"nationalities": ["FR"]}),
        ([{"path": ["nationalities", None], "values": ["FR"]}], {"nationalities": ["FR"]}),
        (None, {}),
    ],
    ids=["one", "two", "value-range", "array-all", "array-index", "array-value", "no-claims"],
)
def test_discloses_exactly_what_the_query_needs(claims, disclosed) -> None:
    verified = _shown(_request({"credentials": [_kyc_query(claims)]}), [_record()])["kyc"]
    assert {k: v for k, v in verified.claims.items() if k not in ALWAYS} == disclosed
    assert set(verified.claims) - set(disclosed) == ALWAYS


def test_claim_sets_use_the_first_option_the_wallet_can_satisfy() -> None:
    query = _kyc_query(
        [
            {"id": "a", "path": ["age_over_65"]},
            {"id": "b", "path": ["age_over_18"]},
            {"id": "c", "path": ["birthdate"]},
        ],
        claim_sets=[["a"], ["b"], ["c"]],
    )
    verified = _shown(_request({"credentials": [query]}), [_record()])["kyc"]
    assert "age_over_18" in verified.claims
    assert "birthdate" not in verified.claims


def test_value_constraint_not_met_means_no_match() -> None:
    request = _request({"credentials": [_kyc_query([{"path": ["kyc_level"], "values": [3]}])]})
    with pytest.raises(NoMatchingCredential):
        holder.match_dcql(request.dcql, [_record()], now=NOW)


def test_values_compare_types_strictly() -> None:
    # True == 1 in Python; DCQL values are JSON values, and true is not 1.
    request = _request({"credentials": [_kyc_query([{"path": ["age_over_18"], "values": [1]}])]})
    with pytest.raises(NoMatchingCredential):
        holder.match_dcql(request.dcql, [_record()], now=NOW)


@pytest.mark.parametrize(
    "query",
    [
        _kyc_query([{"path": ["no_such_claim"]}]),
        {"id": "kyc", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://other/vct"]}},
        {"id": "kyc", "format": "jwt_vc_json", "meta": {}},
    ],
    ids=["missing-claim", "other-vct", "other-format"],
)
def test_no_matching_credential(query: dict[str, Any]) -> None:
    with pytest.raises(NoMatchingCredential):
        holder.match_dcql(_request({"credentials": [query]}).dcql, [_record()], now=NOW)


def test_expired_credentials_are_not_offered() -> None:
    request = _request({"credentials": [_kyc_query([{"path": ["age_over_18"]}])]})
    with pytest.raises(NoMatchingCredential):
        holder.match_dcql(request.dcql, [_record()], now=NOW + 7200)


def test_newest_matching_credential_is_chosen() -> None:
    older = _record(new_id=lambda: "older")
    newer = CredentialRecord.from_dict(
        _record(new_id=lambda: "newer").to_dict() | {"received_at": NOW + 5}
    )
    request = _request({"credentials": [_kyc_query([{"path": ["age_over_18"]}])]})
    assert holder.match_dcql(request.dcql, [older, newer], now=NOW)[0].record.id == "newer"


def test_credential_sets() -> None:
    query = {
        "credentials": [
            _kyc_query([{"path": ["age_over_18"]}]),
            {"id": "other", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://x/vct"]}},
        ],
        "credential_sets": [
            {"options": [["other"], ["kyc"]]},
            {"options": [["other"]], "required": False},
        ],
    }
    matches = holder.match_dcql(_request(query).dcql, [_record()], now=NOW)
    assert [m.query_id for m in matches] == ["kyc"]


def test_describe_matches_lists_exactly_the_disclosed_claims() -> None:
    request = _request(
        {"credentials": [_kyc_query([{"path": ["age_over_18"]}, {"path": ["nationalities", 0]}])]}
    )
    matches = holder.match_dcql(request.dcql, [_record()], now=NOW)
    [described] = holder.describe_matches(matches)
    assert described["claims"] == {"age_over_18": True, "nationalities[0]": "DE"}
    assert described["issuer"] == ISS


# --- presenting: key binding ---------------------------------------------------------------------


def test_kb_jwt_binds_nonce_full_client_id_and_now() -> None:
    request = _request(
        {"credentials": [_kyc_query([{"path": ["age_over_18"]}])]}, nonce="abcdefgh12"
    )
    matches = holder.match_dcql(request.dcql, [_record()], now=NOW)
    token = holder.build_vp_token(request, matches, lambda _kid: HOLDER, now=NOW + 1)
    presentation = token["kyc"][0]
    kb_jwt = presentation.rsplit("~", 1)[1]
    header, claims = verify_compact(kb_jwt, HOLDER.public_key, expected_typ="kb+jwt")
    assert header["typ"] == "kb+jwt"
    assert claims["nonce"] == "abcdefgh12"
    assert claims["aud"] == CLIENT_ID  # with its redirect_uri: prefix (OpenID4VP App. B.3)
    assert claims["iat"] == NOW + 1
    assert set(claims) == {"nonce", "aud", "iat", "sd_hash"}
    verified = verify_sd_jwt_vc(
        presentation, _resolver, now=NOW, expected_nonce="abcdefgh12", expected_aud=CLIENT_ID
    )
    assert verified.key_binding is not None


# --- requests ------------------------------------------------------------------------------------


def _raw_request(**changes: Any) -> dict[str, Any]:
    request = {
        "client_id": CLIENT_ID,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": CLIENT_ID.removeprefix("redirect_uri:"),
        "nonce": "nonce-1234",
        "dcql_query": {"credentials": [_kyc_query(None)]},
    }
    request.update(changes)
    return {k: v for k, v in request.items() if v is not None}


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": "redirect_uri:https://evil.example/r"},
        {"response_uri": "https://evil.example/collect"},
        {"response_mode": "fragment"},
        {"response_type": "code"},
        {"nonce": None},
        {"nonce": "short"},
        {"nonce": "has spaces in it"},
        {"dcql_query": None},
        {"redirect_uri": "https://bank.example/x"},
        {"dcql_query": {"credentials": []}},
        {"dcql_query": {"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {}}]}},
        {"dcql_query": {"credentials": [{"id": "a", "format": "dc+sd-jwt"}]}},
        {"dcql_query": {"credentials": [_kyc_query([{"path": []}])]}},
        {"dcql_query": {"credentials": [_kyc_query([{"path": ["a", True]}])]}},
    ],
    ids=[
        "client-id-differs",
        "response-uri-not-client-id",
        "response-mode",
        "response-type",
        "no-nonce",
        "short-nonce",
        "nonce-not-url-safe",
        "no-dcql",
        "redirect-uri",
        "no-credential-queries",
        "bad-query-id",
        "no-meta",
        "empty-path",
        "bool-in-path",
    ],
)
def test_bad_requests_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        holder.parse_presentation_request(_raw_request(**changes), expected_client_id=CLIENT_ID)


def test_vp_uri_parameters() -> None:
    params = holder.parse_vp_uri(
        "openid4vp://?client_id=" + quote(CLIENT_ID) + "&request_uri=" + quote("https://b/r/1")
    )
    assert params == {"client_id": CLIENT_ID, "request_uri": "https://b/r/1"}
    with pytest.raises(ProtocolError):
        holder.parse_vp_uri("openid4vp://?request_uri=x")
    with pytest.raises(ProtocolError):
        holder.parse_vp_uri("openid4vp://?client_id=a&client_id=b")


def test_format_path() -> None:
    assert holder.format_path(("address", "street")) == "address.street"
    assert holder.format_path(("nationalities", None)) == "nationalities[*]"
    assert holder.format_path(("a", 0, "b")) == "a[0].b"
