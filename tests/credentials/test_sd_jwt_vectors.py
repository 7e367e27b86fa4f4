"""SD-JWT against published data: RFC 9901 §4.2 disclosures and digests, §5.1 and App. A.1-A.4
SD-JWTs (two with KB-JWT) verified with the App. A.5 key, the 17 sd-jwt-python end-to-end cases,
the OpenID4VCI/VP SD-JWT VC examples, and the Token Status List referenced SD-JWT."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credentials import jose, sd_jwt
from credentials.errors import KeyBindingInvalid, SdHashMismatch, UnreferencedDisclosure
from credentials.sd_jwt import SD
from identity.keys import KeyType, PrivateKey, PublicKey

VECTORS = Path(__file__).parents[1] / "vectors"
SDJWT = json.loads((VECTORS / "sdjwt-examples.json").read_text())
PYCASES = json.loads((VECTORS / "sdjwt-python-testcases.json").read_text())
OID4VC = json.loads((VECTORS / "openid4vc-messages.json").read_text())
TSL = json.loads((VECTORS / "tokenstatus-examples.json").read_text())

ISSUER_PUBLIC = PublicKey.from_jwk(SDJWT["issuer_public_key_rfc9901_A5"])
ISSUER_PRIVATE = PrivateKey.from_jwk(
    {
        **SDJWT["issuer_public_key_rfc9901_A5"],
        "d": SDJWT["issuer_private_key_d_for_regeneration"]["d"],
    }
)
HOLDER = PrivateKey.from_jwk({k: v for k, v in SDJWT["holder_key"].items() if k != "_source"})
KB = SDJWT["kb_params"]
EXAMPLES = SDJWT["rfc9901_examples"]
S42 = SDJWT["section_4_2_disclosures"]


def _resolver(header: dict[str, Any], claims: dict[str, Any]) -> PublicKey:
    return ISSUER_PUBLIC


def _typ(compact: str) -> str:
    return jose.decode_unverified(sd_jwt.parse(compact).issuer_jwt)[0]["typ"]


def _payload(compact: str) -> dict[str, Any]:
    return json.loads(jose.decode_unverified(sd_jwt.parse(compact).issuer_jwt)[1])


# --- §4.2 ----------------------------------------------------------------------------------------


def test_4_2_1_object_property_disclosure_and_digest() -> None:
    case = S42["object_property"]
    disclosure = sd_jwt.Disclosure.create(*case["array"])
    assert disclosure.encoded == case["disclosure"]
    assert disclosure.digest() == case["sha256_digest"]
    parsed = sd_jwt.Disclosure.parse(case["disclosure"])
    assert (parsed.salt, parsed.name, parsed.value) == tuple(case["array"])


def test_4_2_2_array_element_disclosure() -> None:
    case = S42["array_element"]
    salt, value = case["array"]
    assert sd_jwt.Disclosure.create(salt, None, value).encoded == case["disclosure"]
    parsed = sd_jwt.Disclosure.parse(case["disclosure"])
    assert (parsed.salt, parsed.name, parsed.value) == (salt, None, value)


def test_4_2_3_equivalent_encodings_decode_alike_but_digest_differently() -> None:
    case = S42["equivalent_encodings_of_same_claim"]
    encodings = [case[k] for k in ("unicode_escape", "no_whitespace", "newlines")]
    encodings.append(S42["object_property"]["disclosure"])
    parsed = [sd_jwt.Disclosure.parse(e) for e in encodings]
    assert {(p.salt, p.name, p.value) for p in parsed} == {tuple(S42["object_property"]["array"])}
    assert len({p.digest() for p in parsed}) == 4


def test_4_2_4_embedded_digest_is_resolved() -> None:
    payload = S42["embedding_example_payload"]
    token = jose.sign_compact({"typ": "example+sd-jwt"}, payload, ISSUER_PRIVATE)
    presentation = f"{token}~{S42['object_property']['disclosure']}~"
    result = sd_jwt.verify(
        presentation, _resolver, expected_typ="example+sd-jwt", now=0, require_kb=False
    )
    assert result.claims == {"given_name": "Alice", "family_name": "Möbius"}
    assert result.disclosed_paths == (("family_name",),)


def test_the_example_private_keys_match_their_public_keys() -> None:
    assert ISSUER_PRIVATE.public_key == ISSUER_PUBLIC
    cnf = _payload(EXAMPLES["5.1_issuance"]["compact"])["cnf"]["jwk"]
    assert PublicKey.from_jwk(cnf) == HOLDER.public_key


# --- §5.1, App. A --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rfc9901_example_verifies_to_the_expected_processed_payload(name: str) -> None:
    example = EXAMPLES[name]
    compact = example["compact"]
    has_kb = sd_jwt.parse(compact).kb_jwt is not None
    result = sd_jwt.verify(
        compact,
        _resolver,
        expected_typ=_typ(compact),
        now=KB["iat"] + 10,
        require_kb=has_kb,
        expected_nonce=KB["nonce"] if has_kb else None,
        expected_aud=KB["aud"] if has_kb else None,
    )
    assert result.claims == example["expected_processed_payload"]
    if "expected_issuer_jwt_payload" in example:
        assert _payload(compact) == example["expected_issuer_jwt_payload"]
    if has_kb:
        assert result.key_binding == example["expected_kb_jwt_payload"]


def test_a3_is_a_valid_sd_jwt_vc() -> None:
    example = EXAMPLES["A.3_sd_jwt_vc_pid_presentation_with_kb"]
    result = sd_jwt.verify_sd_jwt_vc(
        example["compact"],
        _resolver,
        now=KB["iat"],
        expected_nonce=KB["nonce"],
        expected_aud=KB["aud"],
    )
    assert result.claims["vct"] == "urn:eudi:pid:de:1"
    kb_header = jose.decode_unverified(sd_jwt.parse(example["compact"]).kb_jwt or "")[0]
    assert kb_header == example["expected_kb_jwt_header"]


@pytest.mark.parametrize(
    "name", ["A.3_sd_jwt_vc_pid_presentation_with_kb", "A.4_w3c_vcdm_presentation_with_kb"]
)
def test_rfc9901_kb_examples_break_when_disclosures_are_reordered(name: str) -> None:
    parsed = sd_jwt.parse(EXAMPLES[name]["compact"])
    reordered = "~".join((parsed.issuer_jwt, *reversed(parsed.disclosures), parsed.kb_jwt or ""))
    with pytest.raises(SdHashMismatch):
        sd_jwt.verify(
            reordered,
            _resolver,
            expected_typ=_typ(reordered),
            now=KB["iat"],
            expected_nonce=KB["nonce"],
            expected_aud=KB["aud"],
        )


def test_rfc9901_kb_example_is_stale_a_day_later() -> None:
    compact = EXAMPLES["A.3_sd_jwt_vc_pid_presentation_with_kb"]["compact"]
    with pytest.raises(KeyBindingInvalid):
        sd_jwt.verify(
            compact,
            _resolver,
            expected_typ="dc+sd-jwt",
            now=KB["iat"] + 86400,
            expected_nonce=KB["nonce"],
            expected_aud=KB["aud"],
        )


def test_5_1_issuance_is_reproduced_from_its_salts() -> None:
    example = EXAMPLES["5.1_issuance"]
    published = _payload(example["compact"])
    decoded = example["expected_disclosures_decoded"]
    claims: dict[Any, Any] = {k: published[k] for k in ("iss", "iat", "exp", "sub")}
    for salt_name_value in decoded:
        if len(salt_name_value) == 3:
            claims[SD(salt_name_value[1])] = salt_name_value[2]
    claims["nationalities"] = [SD(d[1]) for d in decoded if len(d) == 2]
    salts = iter(d[0] for d in decoded)
    issued = sd_jwt.issue(
        claims,
        ISSUER_PRIVATE,
        header={"typ": "example+sd-jwt"},
        holder_key=HOLDER.public_key,
        salt_source=lambda: next(salts),
    )
    ours = _payload(issued)
    assert ours == published
    assert sd_jwt.parse(issued).disclosures == sd_jwt.parse(example["compact"]).disclosures


def test_5_1_holder_presents_a_subset_with_the_rfc_holder_key() -> None:
    compact = EXAMPLES["5.1_issuance"]["compact"]
    shown = sd_jwt.present(
        compact, disclose=[("given_name",), ("nationalities", 1)], kb_key=HOLDER, **KB
    )
    result = sd_jwt.verify(
        shown,
        _resolver,
        expected_typ="example+sd-jwt",
        now=KB["iat"],
        expected_nonce=KB["nonce"],
        expected_aud=KB["aud"],
    )
    assert result.claims["given_name"] == "John"
    assert result.claims["nationalities"] == ["DE"]
    assert "family_name" not in result.claims


# --- OpenID4VC and Token Status List examples ----------------------------------------------------


def test_oid4vp_sd_jwt_vc_disclosure_digests() -> None:
    payload = OID4VC["oid4vp"]["sd_jwt_vc_example_payload"]
    for item in OID4VC["oid4vp"]["sd_jwt_vc_example_disclosures"]:
        disclosure = sd_jwt.Disclosure.parse(item["disclosure"])
        assert disclosure.name == item["claim"]
        assert disclosure.digest() == item["digest"]
        assert item["digest"] in payload["_sd"]


def test_oid4vci_credential_response_sd_jwt_vc_verifies() -> None:
    credential = OID4VC["oid4vci"]["credential_response_sd_jwt_vc"]["body"]["credentials"][0]
    result = sd_jwt.verify_sd_jwt_vc(
        credential["credential"], _resolver, now=1_700_000_000, require_kb=False
    )
    assert result.header["kid"] == "doc-signer-05-25-2022"
    assert isinstance(result.claims["vct"], str)


def test_oid4vci_proof_jwt_verifies_with_its_header_jwk() -> None:
    proof = OID4VC["oid4vci"]["proof_jwt_example"]
    header, claims = jose.verify_compact(
        proof["compact"], None, expected_typ="openid4vci-proof+jwt", trust_header_jwk=True
    )
    assert header == proof["decoded_header"]
    assert claims == proof["decoded_payload"]


def test_token_status_list_referenced_sd_jwt_verifies() -> None:
    case = TSL["referenced_token_sd_jwt"]
    result = sd_jwt.verify(
        case["compact"],
        _resolver,
        expected_typ=_typ(case["compact"]),
        now=1_700_000_000,
        require_kb=False,
    )
    assert result.claims["status"] == case["expected_status"]


def test_a1_presentation_without_its_decoys_still_refuses_a_foreign_disclosure() -> None:
    compact = EXAMPLES["A.1_simple_structured_with_decoys"]["compact"]
    foreign = S42["object_property"]["disclosure"]
    tampered = compact[:-1] + "~" + foreign + "~" if compact.endswith("~") else compact
    with pytest.raises(UnreferencedDisclosure):
        sd_jwt.verify(tampered, _resolver, expected_typ=_typ(compact), now=0, require_kb=False)


# --- sd-jwt-python end-to-end cases --------------------------------------------------------------


def _to_markers(node: Any) -> Any:
    """The cases' YAML convention: key '!sd NAME' and element {'!sd': X} mark disclosable."""
    if isinstance(node, dict):
        if len(node) == 1 and "!sd" in node:
            raise AssertionError("'!sd' element outside an array")
        out: dict[Any, Any] = {}
        for key, value in node.items():
            if key.startswith("!sd "):
                out[SD(key[4:])] = _to_markers(value)
            else:
                out[key] = _to_markers(value)
        return out
    if isinstance(node, list):
        return [
            SD(_to_markers(item["!sd"]))
            if isinstance(item, dict) and list(item) == ["!sd"]
            else _to_markers(item)
            for item in node
        ]
    return node


def _selected_paths(selection: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """holder_disclosed_claims: true discloses the subtree; dicts and lists recurse."""
    if selection is True:
        yield prefix
    elif isinstance(selection, dict):
        for key, value in selection.items():
            yield from _selected_paths(value, (*prefix, key))
    elif isinstance(selection, list):
        for index, value in enumerate(selection):
            yield from _selected_paths(value, (*prefix, index))


@pytest.mark.parametrize("name", sorted(PYCASES["testcases"]))
def test_sd_jwt_python_case_round_trip(name: str) -> None:
    case = PYCASES["testcases"][name]
    settings = PYCASES["settings"]
    issuer_jwk = settings["key_settings"]["issuer_keys"][0]
    issuer = PrivateKey.from_jwk({k: v for k, v in issuer_jwk.items() if k != "kid"})
    holder = PrivateKey.from_jwk(settings["key_settings"]["holder_key"])
    key_binding = case.get("key_binding", False)
    claims = {"iss": settings["identifiers"]["issuer"], **_to_markers(case["user_claims"])}
    header = {"typ": "testcase+sd-jwt", **case.get("extra_header_parameters", {})}
    issued = sd_jwt.issue(
        claims,
        issuer,
        header=header,
        holder_key=holder.public_key if key_binding else None,
        decoys=(0, 3),
    )
    kb = (
        {
            "kb_key": holder,
            "nonce": settings["key_binding_nonce"],
            "aud": settings["identifiers"]["verifier"],
            "iat": settings["iat"],
        }
        if key_binding
        else {}
    )
    shown = sd_jwt.present(
        issued, disclose=list(_selected_paths(case["holder_disclosed_claims"])), **kb
    )
    result = sd_jwt.verify(
        shown,
        lambda header, claims: issuer.public_key,
        expected_typ="testcase+sd-jwt",
        now=settings["iat"],
        require_kb=key_binding,
        expected_nonce=kb.get("nonce"),
        expected_aud=kb.get("aud"),
    )
    expected = {"iss": settings["identifiers"]["issuer"], **case["expect_verified_user_claims"]}
    if key_binding:
        expected["cnf"] = {"jwk": holder.public_key.to_jwk()}
    assert result.claims == expected


def test_sd_jwt_python_cases_are_all_present() -> None:
    assert len(PYCASES["testcases"]) == 17
    assert sorted(PYCASES["testcases"]) == sorted(
        SDJWT["sd_jwt_python_testcases_location"]["names"]
    )


def test_ed25519_issuer_and_holder_round_trip() -> None:
    issuer = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(32)))
    holder = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(1, 33)))
    issued = sd_jwt.issue({SD("a"): 1}, issuer, header={"typ": "t"}, holder_key=holder.public_key)
    shown = sd_jwt.present(issued, disclose=sd_jwt.ALL, kb_key=holder, nonce="n", aud="a", iat=5)
    result = sd_jwt.verify(
        shown,
        lambda h, c: issuer.public_key,
        expected_typ="t",
        now=5,
        expected_nonce="n",
        expected_aud="a",
    )
    assert result.claims["a"] == 1
