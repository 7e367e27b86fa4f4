"""SD-JWT refusal rules (RFC 9901 §7.1, §7.3; SD-JWT VC) and the attacks of security.md §3 rows
7, 11, 12 and 20, each a named test; plus issuance and presentation edge cases."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import pytest

from credentials import jose, sd_jwt
from credentials.errors import (
    AudienceMismatch,
    DuplicateDigest,
    InvalidCredential,
    InvalidDisclosure,
    KeyBindingInvalid,
    KeyBindingMissing,
    MalformedToken,
    NonceMismatch,
    SdHashMismatch,
    TokenExpired,
    TokenNotYetValid,
    UnreferencedDisclosure,
    WrongTokenType,
)
from credentials.sd_jwt import SD, Disclosure
from errors import InvalidInput, InvalidSignature, UnsupportedAlgorithm, WeakKey
from identity.encoding import b64url_decode, b64url_encode
from identity.keys import KeyType, PrivateKey, PublicKey

ISSUER = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\x05")
HOLDER = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(32)))
MALLORY = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(range(5, 37)))
NOW = 1_750_000_000
NONCE, AUD = "n-0S6_WzA2Mj", "x509_san_dns:client.example.org"
TYP = "example+sd-jwt"
SMALL_ORDER_JWK = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(b"\x01" + bytes(31))}

CLAIMS = {
    "iss": "https://issuer.example",
    "iat": NOW - 100,
    "exp": NOW + 3600,
    SD("given_name"): "Erika",
    SD("family_name"): "Mustermann",
    SD("address"): {SD("locality"): "Berlin", "country": "DE"},
    "nationalities": [SD("DE"), SD("FR"), "IT"],
}


def _resolver(header: dict[str, Any], claims: dict[str, Any]) -> PublicKey:
    return ISSUER.public_key


def _issue(claims: Any = None, **kwargs: Any) -> str:
    kwargs.setdefault("holder_key", HOLDER.public_key)
    return sd_jwt.issue(claims or CLAIMS, ISSUER, header={"typ": TYP}, **kwargs)


def _verify(presentation: str, **kwargs: Any) -> sd_jwt.VerifiedSdJwt:
    options: dict[str, Any] = {
        "expected_typ": TYP,
        "now": NOW,
        "expected_nonce": NONCE,
        "expected_aud": AUD,
    }
    options.update(kwargs)
    return sd_jwt.verify(presentation, _resolver, **options)


def _present(issued: str, disclose: Any = sd_jwt.ALL, **kwargs: Any) -> str:
    options: dict[str, Any] = {"kb_key": HOLDER, "nonce": NONCE, "aud": AUD, "iat": NOW}
    options.update(kwargs)
    return sd_jwt.present(issued, disclose=disclose, **options)


def _raw(payload: dict[str, Any], disclosures: list[str], header: Any = None) -> str:
    """An issuer-signed SD-JWT built by hand (what a malicious or buggy issuer could send)."""
    token = jose.sign_compact(header or {"typ": TYP}, payload, ISSUER)
    return "~".join([token, *disclosures]) + "~"


def _d(name: str | None, value: Any, salt: str = "c2FsdHNhbHRzYWx0") -> Disclosure:
    return Disclosure.create(salt, name, value)


def _encoded(array: Any) -> str:
    return b64url_encode(json.dumps(array).encode())


def _kb(presented: str, claims: dict[str, Any], header: Any = None, key: Any = None) -> str:
    header = {"typ": "kb+jwt"} if header is None else header
    return presented + jose.sign_compact(header, claims, key or HOLDER)


def _kb_claims(presented: str, **changes: Any) -> dict[str, Any]:
    claims = {"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sd_jwt.sd_hash(presented)}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


# --- happy paths ---------------------------------------------------------------------------------


def test_full_disclosure_round_trip() -> None:
    result = _verify(_present(_issue()))
    assert result.claims == {
        "iss": "https://issuer.example",
        "iat": NOW - 100,
        "exp": NOW + 3600,
        "given_name": "Erika",
        "family_name": "Mustermann",
        "address": {"locality": "Berlin", "country": "DE"},
        "nationalities": ["DE", "FR", "IT"],
        "cnf": {"jwk": HOLDER.public_key.to_jwk()},
    }
    assert result.key_binding is not None and result.key_binding["nonce"] == NONCE


def test_partial_disclosure_by_path_keeps_parents_and_drops_the_rest() -> None:
    shown = _present(_issue(), [("address", "locality"), ("nationalities", 1)])
    claims = _verify(shown).claims
    assert claims["address"] == {"locality": "Berlin", "country": "DE"}
    assert claims["nationalities"] == ["FR", "IT"]
    assert "given_name" not in claims and "family_name" not in claims


def test_without_key_binding_when_policy_allows() -> None:
    shown = sd_jwt.present(_issue(holder_key=None), disclose=[("given_name",)])
    assert shown.endswith("~")
    claims = _verify(shown, require_kb=False, expected_nonce=None, expected_aud=None).claims
    assert claims["given_name"] == "Erika"


def test_sd_paths_mark_the_same_claims_as_markers() -> None:
    plain = {"iss": "x", "a": 1, "b": {"c": 2}, "l": [1, 2]}
    issued = sd_jwt.issue(
        plain, ISSUER, header={"typ": TYP}, sd_paths=[("a",), ("b", "c"), ("l", None)]
    )
    assert len(sd_jwt.parse(issued).disclosures) == 4
    shown = sd_jwt.present(issued, disclose=[("b", "c"), ("l", 0)])
    claims = _verify(shown, require_kb=False, expected_nonce=None, expected_aud=None).claims
    assert claims == {"iss": "x", "b": {"c": 2}, "l": [1]}


def test_sd_path_naming_nothing_is_refused() -> None:
    with pytest.raises(InvalidInput):
        sd_jwt.issue({"a": 1}, ISSUER, sd_paths=[("typo",)])


def test_decoys_hide_the_number_of_claims_and_are_ignored() -> None:
    issued = _issue(decoys=(3, 3))
    payload = json.loads(jose.decode_unverified(sd_jwt.parse(issued).issuer_jwt)[1])
    assert len(payload["_sd"]) == 3 + 3  # given_name, family_name, address + 3 decoys
    assert len(payload["nationalities"]) == 3 + 3
    assert len({len(d) for d in payload["_sd"]}) == 1
    assert _verify(_present(issued)).claims["nationalities"] == ["DE", "FR", "IT"]


def test_salts_are_128_bit_and_fresh() -> None:
    disclosures = [Disclosure.parse(d) for d in sd_jwt.parse(_issue()).disclosures]
    salts = [d.salt for d in disclosures]
    assert len(set(salts)) == len(salts)
    assert all(len(s) == 22 for s in salts)


def test_issue_refuses_reserved_names_and_clashes() -> None:
    for bad in ({SD("_sd"): 1}, {SD("..."): 1}, {"_sd": []}, {SD("a"): 1, "a": 2}):
        with pytest.raises(InvalidInput):
            sd_jwt.issue(bad, ISSUER)
    with pytest.raises(InvalidInput):
        sd_jwt.issue({"a": SD(1)}, ISSUER)  # SD() around a property value


def test_present_refuses_an_sd_jwt_that_already_has_a_kb_jwt() -> None:
    with pytest.raises(InvalidInput):
        _present(_present(_issue()))


def test_present_refuses_a_kb_key_other_than_cnf() -> None:
    with pytest.raises(InvalidInput):
        _present(_issue(), kb_key=MALLORY)


# --- issuer-signed JWT ---------------------------------------------------------------------------


def test_sdjwt_issuer_alg_none_refused() -> None:
    issued = _issue()
    parsed = sd_jwt.parse(issued)
    _, payload, _, _ = jose.decode_unverified(parsed.issuer_jwt)
    head = b64url_encode(json.dumps({"alg": "none", "typ": TYP}).encode())
    forged = f"{head}.{b64url_encode(payload)}.~" + "~".join(parsed.disclosures) + "~"
    with pytest.raises(UnsupportedAlgorithm):
        _verify(forged, require_kb=False, expected_nonce=None, expected_aud=None)


def test_sdjwt_typ_jwt_refused() -> None:
    issued = sd_jwt.issue({"a": 1}, ISSUER, header={"typ": "JWT"})
    with pytest.raises(WrongTokenType):
        _verify(issued, require_kb=False)


def test_sdjwt_signed_by_another_key_refused() -> None:
    issued = sd_jwt.issue({"a": 1}, MALLORY, header={"typ": TYP})
    with pytest.raises(UnsupportedAlgorithm):  # EdDSA header, P-256 issuer key
        _verify(issued, require_kb=False)


def test_sdjwt_small_order_issuer_key_refused() -> None:
    def weak_resolver(header: dict[str, Any], claims: dict[str, Any]) -> PublicKey:
        return PublicKey.from_jwk(SMALL_ORDER_JWK)

    forged = _raw({"a": 1}, [])
    with pytest.raises(WeakKey):
        sd_jwt.verify(forged, weak_resolver, expected_typ=TYP, now=NOW, require_kb=False)


@pytest.mark.parametrize("alg", ["md5", "sha-256-32", "SHA-256", "sha-1", 256])
def test_sdjwt_sd_alg_unsupported_refused(alg: Any) -> None:
    disclosure = _d("a", 1)
    forged = _raw({"_sd": [disclosure.digest()], "_sd_alg": alg}, [disclosure.encoded])
    with pytest.raises(UnsupportedAlgorithm):
        _verify(forged, require_kb=False)


# --- disclosures ---------------------------------------------------------------------------------


def test_sdjwt_tampered_disclosure_refused() -> None:
    issued = _issue(holder_key=None)
    parsed = sd_jwt.parse(issued)
    original = Disclosure.parse(parsed.disclosures[0])
    tampered = Disclosure.create(original.salt, original.name, "Mallory").encoded
    forged = "~".join((parsed.issuer_jwt, tampered, *parsed.disclosures[1:])) + "~"
    with pytest.raises(UnreferencedDisclosure):
        _verify(forged, require_kb=False)


def test_sdjwt_unreferenced_disclosure_refused() -> None:
    extra = _d("is_admin", True).encoded
    with pytest.raises(UnreferencedDisclosure):
        _verify(_issue(holder_key=None) + extra + "~", require_kb=False)


def test_sdjwt_duplicate_disclosure_refused() -> None:
    issued = _issue(holder_key=None)
    first = sd_jwt.parse(issued).disclosures[0]
    with pytest.raises(DuplicateDigest):
        _verify(issued + first + "~", require_kb=False)


def test_sdjwt_dup_digest_in_payload_refused() -> None:
    d = _d("a", 1)
    with pytest.raises(DuplicateDigest):
        _verify(_raw({"_sd": [d.digest(), d.digest()]}, [d.encoded]), require_kb=False)


def test_sdjwt_dup_digest_undisclosed_refused() -> None:
    # The rule holds whether or not the digest's disclosure is presented.
    digest = _d("a", 1).digest()
    with pytest.raises(DuplicateDigest):
        _verify(_raw({"_sd": [digest], "o": {"_sd": [digest]}}, []), require_kb=False)


def test_sdjwt_dup_digest_nested_refused() -> None:
    inner = _d("a", 1)
    outer = _d("o", {"_sd": [inner.digest()]}, salt="b3V0ZXJzYWx0")
    payload = {"_sd": [outer.digest(), inner.digest()]}
    with pytest.raises(DuplicateDigest):
        _verify(_raw(payload, [outer.encoded, inner.encoded]), require_kb=False)


def test_sdjwt_dup_digest_in_object_and_array_refused() -> None:
    d = _d(None, 1)
    with pytest.raises(DuplicateDigest):
        _verify(
            _raw({"l": [{"...": d.digest()}, {"...": d.digest()}]}, [d.encoded]), require_kb=False
        )


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_sdjwt_claim_name_reserved_refused(name: str) -> None:
    encoded = _encoded(["c2FsdA", name, 1])
    payload = {"_sd": [_sha(encoded)]}
    with pytest.raises(InvalidDisclosure):
        _verify(_raw(payload, [encoded]), require_kb=False)


def _sha(encoded: str) -> str:
    return b64url_encode(hashlib.sha256(encoded.encode()).digest())


def test_sdjwt_claim_name_overrides_iss_refused() -> None:
    d = _d("iss", "https://mallory.example")
    payload = {"iss": "https://issuer.example", "_sd": [d.digest()]}
    with pytest.raises(InvalidDisclosure):
        _verify(_raw(payload, [d.encoded]), require_kb=False)


def test_sdjwt_two_disclosures_with_one_name_refused() -> None:
    a, b = _d("x", 1), _d("x", 2, salt="b3RoZXJzYWx0")
    with pytest.raises(InvalidDisclosure):
        _verify(_raw({"_sd": [a.digest(), b.digest()]}, [a.encoded, b.encoded]), require_kb=False)


def test_sdjwt_array_disclosure_in_object_refused() -> None:
    d = _d(None, "FR")
    with pytest.raises(InvalidDisclosure):
        _verify(_raw({"_sd": [d.digest()]}, [d.encoded]), require_kb=False)


def test_sdjwt_object_disclosure_in_array_refused() -> None:
    d = _d("country", "FR")
    with pytest.raises(InvalidDisclosure):
        _verify(_raw({"l": [{"...": d.digest()}]}, [d.encoded]), require_kb=False)


@pytest.mark.parametrize(
    "array",
    [["salt"], ["salt", "a", 1, 2], {"salt": "a"}, [1, "a", 1], ["salt", 7, 1], "salt", None],
    ids=["one_element", "four_elements", "object", "salt_number", "name_number", "string", "null"],
)
def test_sdjwt_malformed_disclosure_refused(array: Any) -> None:
    encoded = _encoded(array)
    with pytest.raises(InvalidDisclosure):
        _verify(_raw({"_sd": [_sha(encoded)]}, [encoded]), require_kb=False)


@pytest.mark.parametrize(
    "encoded",
    [
        _encoded(["s", "a", 1]) + "=",
        _encoded(["s", "a", 1]).replace("W", "W\n", 1),
        b64url_encode(b'["s", "a", 1, "a"'),
        b64url_encode(b'["s", "a", {"x": 1, "x": 2}]'),
        b64url_encode(b'["s", "a", NaN]'),
        b64url_encode(b'["s", "a", "\xff"]'),
    ],
    ids=["padding", "newline", "truncated_json", "duplicate_member", "nan", "not_utf8"],
)
def test_sdjwt_undecodable_disclosure_refused(encoded: str) -> None:
    with pytest.raises(InvalidDisclosure):
        _verify(_raw({"_sd": [_sha(encoded)]}, [encoded]), require_kb=False)


@pytest.mark.parametrize(
    "payload",
    [
        {"_sd": "abc"},
        {"_sd": [1]},
        {"l": [{"...": "abc", "x": 1}]},
        {"o": {"...": "abc"}},
        {"o": {"_sd_alg": "sha-256"}},
    ],
    ids=[
        "sd_not_array",
        "digest_not_string",
        "ellipsis_with_other_keys",
        "ellipsis_in_object",
        "sd_alg_nested",
    ],
)
def test_sdjwt_malformed_digest_structures_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidDisclosure):
        _verify(_raw(payload, []), require_kb=False)


def test_sdjwt_sd_alg_inside_a_disclosure_refused() -> None:
    d = _d("o", {"_sd_alg": "sha-256"})
    with pytest.raises(InvalidDisclosure):
        _verify(_raw({"_sd": [d.digest()]}, [d.encoded]), require_kb=False)


def test_sdjwt_empty_component_refused() -> None:
    issued = _issue(holder_key=None)
    with pytest.raises(MalformedToken):
        _verify(issued.replace("~", "~~", 1), require_kb=False)


def test_sdjwt_without_trailing_tilde_is_not_an_sd_jwt() -> None:
    # "<jwt>~<d1>" would make d1 the KB-JWT: the last component must be empty without KB.
    issued = _issue(holder_key=None)
    with pytest.raises(KeyBindingInvalid):
        sd_jwt.verify(issued[:-1], _resolver, expected_typ=TYP, now=NOW, require_kb=False)


def test_sdjwt_many_disclosures_refused() -> None:
    with pytest.raises(MalformedToken):
        sd_jwt.parse("a.b.c" + "~x" * (sd_jwt.MAX_DISCLOSURES + 1) + "~")


# --- validity claims -----------------------------------------------------------------------------


def test_sdjwt_expired_refused_and_leeway_applies() -> None:
    issued = _issue(holder_key=None)
    _verify(issued, require_kb=False, now=NOW + 3600 + 59)
    with pytest.raises(TokenExpired):
        _verify(issued, require_kb=False, now=NOW + 3600 + 61)


def test_sdjwt_not_yet_valid_refused() -> None:
    issued = _issue({"nbf": NOW + 120, "a": 1}, holder_key=None)
    with pytest.raises(TokenNotYetValid):
        _verify(issued, require_kb=False)
    _verify(issued, require_kb=False, now=NOW + 61)


def test_sdjwt_exp_as_string_refused() -> None:
    with pytest.raises(MalformedToken):
        _verify(_raw({"exp": str(NOW + 10)}, []), require_kb=False)


def test_sdjwt_exp_hidden_and_withheld_refused_when_required() -> None:
    issued = _issue({SD("exp"): NOW - 100, "a": 1}, holder_key=None)
    withheld = sd_jwt.present(issued, disclose=[])
    with pytest.raises(InvalidCredential):
        _verify(withheld, require_kb=False, required_claims=("exp",))
    with pytest.raises(TokenExpired):  # disclosed: checked after processing
        _verify(issued, require_kb=False, required_claims=("exp",))


# --- key binding ---------------------------------------------------------------------------------


BARE = sd_jwt.present(_issue(), disclose=[("given_name",)])


def _bare() -> str:
    return BARE


def test_sdjwt_kb_missing_refused() -> None:
    with pytest.raises(KeyBindingMissing):
        _verify(_bare())


def test_sdjwt_kb_present_without_expected_nonce_refused() -> None:
    with pytest.raises(KeyBindingInvalid):
        _verify(_present(_issue()), require_kb=False, expected_nonce=None)


@pytest.mark.parametrize("nonce", ["other", 1234, None, ["n-0S6_WzA2Mj"]])
def test_sdjwt_kb_wrong_nonce_refused(nonce: Any) -> None:
    with pytest.raises(NonceMismatch):
        _verify(_kb(_bare(), _kb_claims(_bare(), nonce=nonce)))


@pytest.mark.parametrize("aud", ["https://other.example", [AUD], [AUD, "x"], None])
def test_sdjwt_kb_wrong_aud_refused(aud: Any) -> None:
    with pytest.raises(AudienceMismatch):
        _verify(_kb(_bare(), _kb_claims(_bare(), aud=aud)))


@pytest.mark.parametrize(
    "iat",
    [NOW - 301 - 60, NOW + 61, True, "1750000000", None],
    ids=["stale", "future", "bool", "string", "missing"],
)
def test_sdjwt_kb_bad_iat_refused(iat: Any) -> None:
    with pytest.raises(KeyBindingInvalid):
        _verify(_kb(_bare(), _kb_claims(_bare(), iat=iat)))


def test_sdjwt_kb_iat_window_edges() -> None:
    bare = _bare()
    _verify(_kb(bare, _kb_claims(bare, iat=NOW - 300)))
    _verify(_kb(bare, _kb_claims(bare, iat=NOW + 59)))


def test_sdjwt_kb_missing_sd_hash_refused() -> None:
    claims = _kb_claims(_bare())
    del claims["sd_hash"]
    with pytest.raises(KeyBindingInvalid):
        _verify(_kb(_bare(), claims))


def test_sdjwt_kb_sd_hash_mismatch_refused() -> None:
    shown = _present(_issue())
    parsed = sd_jwt.parse(shown)
    dropped = "~".join((parsed.issuer_jwt, *parsed.disclosures[1:])) + "~" + (parsed.kb_jwt or "")
    with pytest.raises(SdHashMismatch):
        _verify(dropped)


def test_sdjwt_kb_wrong_key_refused() -> None:
    with pytest.raises(InvalidSignature):
        _verify(_kb(_bare(), _kb_claims(_bare()), key=MALLORY))


def test_sdjwt_kb_typ_jwt_refused() -> None:
    with pytest.raises(WrongTokenType):
        _verify(_kb(_bare(), _kb_claims(_bare()), header={"typ": "JWT"}))


def test_sdjwt_kb_alg_none_refused() -> None:
    head = b64url_encode(json.dumps({"alg": "none", "typ": "kb+jwt"}).encode())
    body = b64url_encode(json.dumps(_kb_claims(_bare())).encode())
    with pytest.raises(UnsupportedAlgorithm):
        _verify(f"{_bare()}{head}.{body}.")


def test_sdjwt_kb_hs256_keyed_with_cnf_x_refused() -> None:
    head = b64url_encode(json.dumps({"alg": "HS256", "typ": "kb+jwt"}).encode())
    body = b64url_encode(json.dumps(_kb_claims(_bare())).encode())
    mac = hmac.new(HOLDER.public_key.raw, f"{head}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(UnsupportedAlgorithm):
        _verify(f"{_bare()}{head}.{body}.{b64url_encode(mac)}")


def test_sdjwt_kb_small_order_cnf_refused() -> None:
    # The identity key accepts R = identity, S = 0 for every message: refuse the key itself.
    presented = _raw({"cnf": {"jwk": SMALL_ORDER_JWK}}, [])
    head = b64url_encode(json.dumps({"alg": "EdDSA", "typ": "kb+jwt"}).encode())
    body = b64url_encode(json.dumps(_kb_claims(presented)).encode())
    signature = b64url_encode(b"\x01" + bytes(63))
    forged = f"{presented}{head}.{body}.{signature}"
    with pytest.raises(WeakKey):
        _verify(forged)


def test_sdjwt_kb_without_cnf_refused() -> None:
    issued = _issue(holder_key=None)
    with pytest.raises(KeyBindingInvalid):
        _verify(_kb(issued, _kb_claims(issued)))


def test_sdjwt_kb_expired_refused() -> None:
    with pytest.raises(TokenExpired):
        _verify(_kb(_bare(), _kb_claims(_bare(), exp=NOW - 120)))


def test_sdjwt_kb_replayed_to_another_verifier_refused() -> None:
    shown = _present(_issue())
    with pytest.raises(AudienceMismatch):
        _verify(shown, expected_aud="redirect_uri:https://other.example/cb")


# --- SD-JWT VC -----------------------------------------------------------------------------------

VC_CLAIMS = {"iss": "did:web:issuer.example", "vct": "https://issuer.example/kyc", SD("level"): 2}


def _verify_vc(presentation: str, **kwargs: Any) -> sd_jwt.VerifiedSdJwt:
    return sd_jwt.verify_sd_jwt_vc(
        presentation, _resolver, now=NOW, expected_nonce=NONCE, expected_aud=AUD, **kwargs
    )


def test_sd_jwt_vc_round_trip() -> None:
    issued = sd_jwt.issue_sd_jwt_vc(VC_CLAIMS, ISSUER, holder_key=HOLDER.public_key)
    assert jose.decode_unverified(issued.split("~")[0])[0]["typ"] == "dc+sd-jwt"
    assert _verify_vc(_present(issued)).claims["level"] == 2


@pytest.mark.parametrize("name", sorted(sd_jwt.NEVER_DISCLOSABLE_VC_CLAIMS))
def test_sd_jwt_vc_issue_refuses_disclosable_protected_claims(name: str) -> None:
    claims: dict[Any, Any] = {k: v for k, v in VC_CLAIMS.items() if k != name}
    claims[SD(name)] = "x"
    with pytest.raises(InvalidCredential):
        sd_jwt.issue_sd_jwt_vc(claims, ISSUER)


def test_sd_jwt_vc_issue_refuses_disclosable_claims_below_status() -> None:
    claims = {**VC_CLAIMS, "status": {"status_list": {SD("idx"): 1, "uri": "https://x"}}}
    with pytest.raises(InvalidCredential):
        sd_jwt.issue_sd_jwt_vc(claims, ISSUER)


@pytest.mark.parametrize("name", sorted(sd_jwt.NEVER_DISCLOSABLE_VC_CLAIMS))
@pytest.mark.parametrize(
    "value",
    [
        {"a": {SD("b"): 1}},
        [1, SD(2)],
        ({"a": [SD("x")]},),
        SD("bare"),  # not even a legal place for a marker: still the never-disclosable error
        {"a": [{"b": {SD("c"): {SD("d"): 1}}}]},
    ],
)
def test_sd_jwt_vc_issue_refuses_any_marker_below_protected_claims(name: str, value: Any) -> None:
    claims = {**VC_CLAIMS, name: value}
    with pytest.raises(InvalidCredential, match=f"{name!r} must not be selectively disclosable"):
        sd_jwt.issue_sd_jwt_vc(claims, ISSUER, holder_key=None, decoys=(1, 3))


def test_sd_jwt_vc_marker_below_protected_claim_is_reported_before_other_faults() -> None:
    # The scan for markers under never-disclosable claims only runs once something is refused,
    # and then first, so the error is the one it has always been.
    below = {"status_list": {SD("idx"): 1}}
    for faulty in (
        {"iss": "i", "status": below},  # no vct
        {**VC_CLAIMS, SD("_sd"): 1, "status": below},  # a reserved name, earlier in order
        {**VC_CLAIMS, "x": float("nan"), "status": below},  # a value that is not JSON
        {**VC_CLAIMS, "cnf": {"jwk": {}}, "status": below},  # cnf given twice, found later
    ):
        with pytest.raises(InvalidCredential, match="'status' must not be selectively"):
            sd_jwt.issue_sd_jwt_vc(faulty, ISSUER, holder_key=HOLDER.public_key)
    with pytest.raises(InvalidCredential, match="'status' must not be selectively"):
        sd_jwt.issue_sd_jwt_vc({**VC_CLAIMS, "status": below}, ISSUER, header={"typ": "x"})


def test_sd_jwt_vc_markers_beside_protected_claims_are_fine() -> None:
    claims = {**VC_CLAIMS, "status": {"status_list": {"idx": 1, "uri": "https://x"}}}
    claims["address"] = {SD("street"): "s", "list": [SD(1)]}
    issued = sd_jwt.issue_sd_jwt_vc(claims, ISSUER, holder_key=HOLDER.public_key, decoys=(1, 2))
    result = _verify_vc(_present(issued, disclose=sd_jwt.ALL))
    assert result.claims["address"] == {"street": "s", "list": [1]}


@pytest.mark.parametrize("top", [True, False])
def test_hidden_and_plain_claim_of_one_name_refused_in_either_order(top: bool) -> None:
    for pair in ([("a", 1), (SD("a"), 2)], [(SD("a"), 2), ("a", 1)]):
        claims: dict[Any, Any] = dict(pair) if top else {"o": dict(pair)}
        with pytest.raises(InvalidInput, match="'a' appears twice"):
            sd_jwt.issue(claims, ISSUER)


class _StrName(str):
    __slots__ = ()


def test_claim_names_of_a_str_subclass_are_checked_like_str() -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        sd_jwt.issue({"o": {SD(_StrName("_sd_alg")): 1}}, ISSUER)
    with pytest.raises(InvalidInput, match="appears twice"):
        sd_jwt.issue({_StrName("a"): 1, SD("a"): 2}, ISSUER)
    with pytest.raises(InvalidCredential, match="'status' must not"):
        sd_jwt.issue_sd_jwt_vc({**VC_CLAIMS, _StrName("status"): {SD("a"): 1}}, ISSUER)
    with pytest.raises(InvalidCredential, match="'iss' must not"):
        sd_jwt.issue_sd_jwt_vc({"vct": "t", "iss": "i", SD(_StrName("iss")): 1}, ISSUER)


@pytest.mark.parametrize("name", ["exp", "cnf", "status", "iss", "vct"])
def test_sd_jwt_vc_verify_refuses_disclosed_protected_claims(name: str) -> None:
    value: Any = {"jwk": HOLDER.public_key.to_jwk()} if name == "cnf" else NOW + 10
    value = {"status_list": {"idx": 0, "uri": "https://x"}} if name == "status" else value
    value = "https://issuer.example/kyc" if name in ("vct", "iss") else value
    d = _d(name, value)
    payload = {"iss": "did:web:issuer.example", "vct": "t", "_sd": [d.digest()]}
    payload.pop(name, None)
    forged = _raw(payload, [d.encoded], header={"typ": "dc+sd-jwt"})
    with pytest.raises(InvalidCredential):
        _verify_vc(forged, require_kb=False)


def test_sd_jwt_vc_missing_vct_refused() -> None:
    forged = _raw({"iss": "did:web:issuer.example"}, [], header={"typ": "dc+sd-jwt"})
    with pytest.raises(InvalidCredential):
        _verify_vc(forged, require_kb=False)


def test_sd_jwt_vc_legacy_typ_refused() -> None:
    forged = _raw({"iss": "i", "vct": "t"}, [], header={"typ": "vc+sd-jwt"})
    with pytest.raises(WrongTokenType):
        _verify_vc(forged, require_kb=False)


# --- the memo of parsed disclosures ---------------------------------------------------------------


def test_kept_disclosures_are_still_checked_in_every_presentation() -> None:
    issued = _issue(holder_key=None)
    parsed = sd_jwt.parse(issued)
    for _ in range(2):  # the second time every disclosure comes from the memo
        result = _verify(issued, require_kb=False)
        assert result.claims["address"] == {"locality": "Berlin", "country": "DE"}
    # Processed values are new objects: changing one changes nothing kept.
    result.claims["address"]["locality"] = "Mallory"
    result.claims["nationalities"].append("XX")
    assert _verify(issued, require_kb=False).claims["address"]["locality"] == "Berlin"
    assert _verify(issued, require_kb=False).claims["nationalities"] == ["DE", "FR", "IT"]
    # A kept disclosure presented twice is a duplicate; one another credential's payload does not
    # reference is unreferenced; a kept one under a payload that names it twice is refused too.
    first = parsed.disclosures[0]
    with pytest.raises(DuplicateDigest):
        _verify(issued + first + "~", require_kb=False)
    with pytest.raises(UnreferencedDisclosure):
        _verify(_raw({"iss": "x"}, [first]), require_kb=False)
    digest = Disclosure.parse(first).digest()
    with pytest.raises(DuplicateDigest):
        _verify(_raw({"_sd": [digest, digest]}, [first]), require_kb=False)


@pytest.mark.parametrize("encoded", ["WyJzYWx0IiwgIm4iLCAxLCAyXQ", "WyJzYWx0IiwgIl9zZCIsIDFd"])
def test_refused_disclosures_are_refused_every_time(encoded: str) -> None:
    for _ in range(3):
        with pytest.raises(InvalidDisclosure):
            _verify(_raw({"_sd": []}, [encoded]), require_kb=False)


def test_payload_faults_are_reported_after_key_and_header_faults() -> None:
    # issue() writes the payload JSON itself, before signing; a fault in the key or header is
    # still the one reported, as when the signer serialised the payload.
    claims = {"x": float("nan"), SD("a"): 1}
    with pytest.raises(UnsupportedAlgorithm):
        sd_jwt.issue(claims, ISSUER, header={"alg": "EdDSA"})
    with pytest.raises(MalformedToken, match="JWS payload"):
        sd_jwt.issue(claims, ISSUER)


@pytest.mark.parametrize("holder", [True, False])
@pytest.mark.parametrize("claims", [{}, {SD("a"): 1}, {"a": {SD("b"): [SD(2)]}, SD("c"): "é"}])
def test_payload_is_what_the_json_encoder_writes(holder: bool, claims: dict[Any, Any]) -> None:
    issued = sd_jwt.issue(
        claims, ISSUER, holder_key=HOLDER.public_key if holder else None, decoys=(0, 3)
    )
    body = b64url_decode(issued.split("~")[0].split(".")[1])
    parsed = json.loads(body)
    assert list(parsed)[-1] == "_sd_alg"
    assert body == json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode()


class _PairsMapping(Mapping[Any, Any]):
    """A Mapping whose items() yields the given pairs as they are, repeats included."""

    def __init__(self, pairs: list[tuple[Any, Any]]) -> None:
        self.pairs = pairs

    def __getitem__(self, key: Any) -> Any:
        return next(v for k, v in self.pairs if k == key)

    def __iter__(self) -> Any:
        return iter([k for k, _ in self.pairs])

    def __len__(self) -> int:
        return len(self.pairs)

    def items(self) -> Any:
        return list(self.pairs)


@pytest.mark.parametrize(
    "pairs",
    [
        [("a", 1), ("a", 2)],
        [(SD("a"), 1), (SD("a"), 2)],
        [(SD("a"), 1), ("a", 2)],
        [("a", 1), (SD("a"), 2)],
        [(SD(_StrName("a")), 1), (SD("a"), 2)],
    ],
)
def test_a_name_twice_in_any_mapping_is_refused(pairs: list[tuple[Any, Any]]) -> None:
    for claims in (_PairsMapping(pairs), {"o": _PairsMapping(pairs)}):
        with pytest.raises(InvalidInput, match="appears twice"):
            sd_jwt.issue(claims, ISSUER)
