"""DCQL (OpenID4VP 1.0 §6-7): strict parsing, claim paths, value constraints, sets."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from credentials import dcql
from credentials.dcql import InvalidDcqlQuery, match_credential, parse_query, select_claim
from tests.conftest import vector

VCT = "https://broker.example/credential-types/kyc/v1"


def _query(**credential: Any) -> dict[str, Any]:
    base = {"id": "kyc", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}}
    return {"credentials": [{**base, **credential}]}


def test_doctests() -> None:
    failures, tried = doctest.testmod(dcql)
    assert tried and not failures


@pytest.mark.parametrize(
    "name", ["dcql_simple", "dcql_claims_alternatives", "dcql_credentials_alternatives"]
)
def test_the_spec_examples_parse_and_round_trip(name: str) -> None:
    example = vector("openid4vc-messages.json")["oid4vp"][name]
    example = {k: v for k, v in example.items() if not k.startswith("_")}
    assert parse_query(example).to_json() == example


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "dcql_query.credentials"),
        ({"credentials": []}, "dcql_query.credentials"),
        ({"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {}}]}, "id"),
        (_query(format="mso_mdoc"), "format"),
        ({"credentials": [{"id": "k", "format": "dc+sd-jwt"}]}, "meta"),
        (_query(meta={"vct_values": "x"}), "meta"),
        (_query(meta={"doctype_value": "x"}), "meta"),
        (_query(claims=[]), "claims"),
        (_query(claims=[{"path": []}]), "path"),
        (_query(claims=[{"path": ["a", -1]}]), "path"),
        (_query(claims=[{"path": ["a", True]}]), "path"),
        (_query(claims=[{"path": ["a"], "values": [{"x": 1}]}]), "claims"),
        (_query(claims=[{"path": ["a"], "extra": 1}]), "claims"),
        (_query(claims=[{"id": "a", "path": ["a"]}], claim_sets=[["b"]]), "claim_sets"),
        (_query(multiple="yes"), "multiple"),
        (_query(trusted_authorities=[{"type": "aki", "values": ["x"]}]), "trusted_authorities"),
        ({"credentials": [_query()["credentials"][0]] * 2}, "credentials"),
        ({**_query(), "credential_sets": [{"options": [["nope"]]}]}, "credential_sets"),
        ({**_query(), "extra": 1}, "dcql_query"),
    ],
)
def test_malformed_queries_are_refused(query: Any, field: str) -> None:
    with pytest.raises(InvalidDcqlQuery) as raised:
        parse_query(query)
    assert field in (raised.value.field or raised.value.message)


def test_round_trip() -> None:
    body = _query(
        claims=[
            {"id": "lvl", "path": ["kyc_level"], "values": [2, 3]},
            {"id": "age", "path": ["age_over_18"]},
        ],
        claim_sets=[["lvl", "age"], ["lvl"]],
    )
    assert parse_query(body).to_json() == body


def test_claim_paths() -> None:
    claims = {"a": {"b": [1, {"c": 2}, {"c": 3}]}, "n": None}
    assert select_claim(claims, ["a", "b", 0]) == [1]
    assert select_claim(claims, ["a", "b", None, "c"]) == [2, 3]
    assert select_claim(claims, ["a", "x"]) == []
    assert select_claim(claims, ["a", "b", 9]) == []
    assert select_claim(claims, ["n"]) == [None]


def test_value_constraints_are_type_strict() -> None:
    query = parse_query(
        _query(
            claims=[
                {"path": ["age_over_18"], "values": [True]},
                {"path": ["kyc_level"], "values": [2, 3]},
            ]
        )
    )
    good = {"age_over_18": True, "kyc_level": 2}
    assert (
        match_credential(
            query.credentials[0], credential_format="dc+sd-jwt", types=[VCT], claims=good
        )
        == []
    )
    bad = {"age_over_18": 1, "kyc_level": "2"}
    problems = match_credential(
        query.credentials[0], credential_format="dc+sd-jwt", types=[VCT], claims=bad
    )
    assert len(problems) == 2


def test_minimum_level() -> None:
    assert dcql.minimum_level_values(2, 3) == [2, 3]
    with pytest.raises(InvalidDcqlQuery):
        dcql.minimum_level_values(4, 3)


def test_wrong_type_and_format() -> None:
    query = parse_query(_query()).credentials[0]
    assert match_credential(query, credential_format="jwt_vc_json", types=[VCT], claims={})
    assert match_credential(query, credential_format="dc+sd-jwt", types=["urn:x"], claims={})


def test_claim_sets_need_one_satisfied_option() -> None:
    query = parse_query(
        _query(
            claims=[{"id": "a", "path": ["a"]}, {"id": "b", "path": ["b"]}],
            claim_sets=[["a", "b"], ["b"]],
        )
    ).credentials[0]
    assert (
        match_credential(query, credential_format="dc+sd-jwt", types=[VCT], claims={"b": 1}) == []
    )
    assert match_credential(query, credential_format="dc+sd-jwt", types=[VCT], claims={"a": 1}) == [
        "no claim set of the query is satisfied"
    ]


def test_w3c_type_values() -> None:
    query = parse_query(
        {
            "credentials": [
                {
                    "id": "vc",
                    "format": "jwt_vc_json",
                    "meta": {"type_values": [["VerifiableCredential", "KycCredential"]]},
                    "claims": [{"path": ["credentialSubject", "kyc_level"]}],
                }
            ]
        }
    ).credentials[0]
    vc = {"credentialSubject": {"kyc_level": 2}}
    assert (
        match_credential(
            query,
            credential_format="jwt_vc_json",
            types=["VerifiableCredential", "KycCredential"],
            claims=vc,
        )
        == []
    )
    assert match_credential(
        query, credential_format="jwt_vc_json", types=["VerifiableCredential"], claims=vc
    )


def test_credential_sets() -> None:
    query = parse_query(
        {
            "credentials": [_query()["credentials"][0], {**_query()["credentials"][0], "id": "b"}],
            "credential_sets": [
                {"options": [["kyc"], ["b"]]},
                {"options": [["b"]], "required": False},
            ],
        }
    )
    assert dcql.unsatisfied_sets(query, {"kyc"}) == []
    assert dcql.unsatisfied_sets(query, set()) == ["required credential set 0 is not satisfied"]
    plain = parse_query(_query())
    assert dcql.unsatisfied_sets(plain, set()) == ["credential query 'kyc' is not satisfied"]
