"""Verification on a node: each hostile presentation is refused with the right check failing,
the happy paths are valid, and independent checks all report. Credentials are issued by the
node itself (``node.issuance``) or crafted with its issuing keys."""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from credentials import dcql
from credentials.jose import decode_unverified, sign_compact
from credentials.sd_jwt import ALL, SD, Disclosure, issue_sd_jwt_vc, parse, present, sd_hash
from credentials.status_list import StatusList, build_status_list_token
from credentials.vc_jwt import build_vp_jwt
from credentials.verifier import Verdict, claims_digest, verify_receipt
from identity.did_webvh import KeyNotValidAt
from identity.encoding import b64url_encode
from identity.keys import KeyType, PrivateKey
from identity.multikey import Multicodec, encode_multikey, multikey_from_public_key
from node.dids import rotate_issuing_keys
from node.peers import HttpReply
from registry.entries import EntryType
from tests.api.test_issuance_helpers import approved_application

NONCE = "n-0S6_WzA2Mj-verifier"


@pytest.fixture
def node(app):
    return app.extensions["kyc"]


@pytest.fixture
def holder() -> PrivateKey:
    return PrivateKey.generate(KeyType.ED25519)


@pytest.fixture
def issued(node, holder):
    """A real SD-JWT VC (Ed25519) from the node's issuance, for an approved application."""
    application = approved_application(node)
    return node.issuance.issue(application, "KycCredentialEd25519", holder.public_key, actor="t")


def _aud(node) -> str:
    return node.verification.client_id


def _verify(node, presentation: str, *, nonce: str = NONCE, query: Any = None) -> Verdict:
    service = node.verification
    return service.verify(presentation, service.policy(nonce, _aud(node), query))


def _kb(node, sd_jwt: str, holder: PrivateKey) -> str:
    """A KB-JWT over exactly ``sd_jwt`` (for presentations ``present`` would refuse to make)."""
    claims = {
        "iat": node.unix_now(),
        "aud": _aud(node),
        "nonce": NONCE,
        "sd_hash": sd_hash(sd_jwt, "sha-256"),
    }
    return sd_jwt + sign_compact({"typ": "kb+jwt"}, claims, holder)


def _show(node, credential: str, holder: PrivateKey, **kb: Any) -> str:
    args = {"nonce": NONCE, "aud": _aud(node), "iat": node.unix_now(), **kb}
    return present(credential, disclose=ALL, kb_key=holder, **args)


def _failed(verdict: Verdict) -> dict[str, str]:
    return {c.name: c.code for c in verdict.checks if not c.ok}


def _signing(node, role: str = "issuing-ed25519") -> tuple[PrivateKey, str]:
    key = node.keyring.private_key(node.keyring.current(role))
    return key, f"{node.institution.did}#{multikey_from_public_key(key.public_key)}"


def _status_of(credential: str) -> dict[str, Any]:
    _, payload, _, _ = decode_unverified(parse(credential).issuer_jwt)
    return json.loads(payload)["status"]


def _craft(
    node,
    holder: PrivateKey | None,
    status: dict[str, Any],
    *,
    claims: dict[Any, Any] | None = None,
    header: dict[str, Any] | None = None,
    key: PrivateKey | None = None,
    kid: str | None = None,
) -> str:
    """An SD-JWT VC signed with the node's current Ed25519 issuing key (or ``key``)."""
    signing, signing_kid = _signing(node)
    now = node.unix_now()
    body: dict[Any, Any] = {
        "iss": node.institution.did,
        "iat": now,
        "exp": now + 3600,
        "vct": node.issuance.vct,
        "status": status,
        SD("kyc_level"): 3,
        SD("age_over_18"): True,
        **(claims or {}),
    }
    fields = {"kid": kid or signing_kid, **(header or {})}
    return issue_sd_jwt_vc(
        body,
        key or signing,
        header=fields,
        holder_key=None if holder is None else holder.public_key,
    )


def _resign(
    token: str,
    key: PrivateKey,
    *,
    header: dict[str, Any] | None = None,
    payload: bytes | None = None,
) -> str:
    """Re-sign a compact JWS with changed header/payload bytes (bypassing our own encoder)."""
    old_header, old_payload, _, _ = decode_unverified(token)
    head = b64url_encode(json.dumps({**old_header, **(header or {})}).encode())
    body = b64url_encode(payload if payload is not None else old_payload)
    signature = key.sign(f"{head}.{body}".encode())
    return f"{head}.{body}.{b64url_encode(signature)}"


# --- the happy paths ------------------------------------------------------------------------------


def test_a_fresh_sd_jwt_vc_presentation_is_valid_with_every_check_named(node, issued, holder):
    shown = present(
        issued.credential,
        disclose=[("kyc_level",), ("age_over_18",)],
        kb_key=holder,
        nonce=NONCE,
        aud=_aud(node),
        iat=node.unix_now(),
    )
    verdict = _verify(node, shown)
    assert verdict.valid, _failed(verdict)
    names = [c.name for c in verdict.checks]
    for name in (
        "parse",
        "typ",
        "algorithm",
        "key_reference",
        "issuer_key",
        "registry_inclusion",
        "issuer_trusted",
        "signature",
        "disclosures",
        "validity",
        "key_binding",
        "nonce",
        "audience",
        "kb_freshness",
        "sd_hash",
        "status_anchor",
        "status_list",
        "status",
    ):
        assert name in names
    assert verdict.claims is not None
    assert verdict.claims["kyc_level"] in (1, 2, 3) and verdict.claims["age_over_18"] is True
    assert "given_name" not in verdict.claims  # only what was disclosed
    assert verdict.issuer == node.institution.did
    assert verdict.credential_type == node.issuance.vct


def test_an_es256_credential_verifies(node, holder):
    application = approved_application(node)
    issued = node.issuance.issue(application, "KycCredential", holder.public_key, actor="t")
    verdict = _verify(node, _show(node, issued.credential, holder))
    assert verdict.valid, _failed(verdict)


def test_a_vp_jwt_with_a_vcdm2_credential_is_checked_inside(node, holder):
    application = approved_application(node)
    issued = node.issuance.issue(application, "KycCredentialVcdm2", holder.public_key, actor="t")
    holder_did = "did:key:" + multikey_from_public_key(holder.public_key)
    vp = build_vp_jwt(
        [issued.credential],
        holder,
        holder=holder_did,
        nonce=NONCE,
        aud=_aud(node),
        iat=node.unix_now(),
        kid=f"{holder_did}#{holder_did.removeprefix('did:key:')}",
    )
    verdict = _verify(node, vp)
    assert verdict.valid, _failed(verdict)
    names = {c.name for c in verdict.checks}
    assert {
        "credential.signature",
        "credential.issuer_trusted",
        "credential.holder_binding",
        "credential.status_revocation",
        "credential.status_suspension",
    } <= names
    assert verdict.credential_type == "KycCredential"

    node.issuance.revoke(issued.row.id, reason="fraud", broker_key_id=None, actor="t")
    again = build_vp_jwt(
        [issued.credential],
        holder,
        holder=holder_did,
        nonce=NONCE,
        aud=_aud(node),
        iat=node.unix_now(),
        kid=f"{holder_did}#{holder_did.removeprefix('did:key:')}",
    )
    revoked = _verify(node, again)
    assert _failed(revoked) == {"credential.status_revocation": "credential_revoked"}


def test_a_vp_jwt_whose_inner_credential_is_tampered_fails_the_inner_signature(node, holder):
    application = approved_application(node)
    issued = node.issuance.issue(application, "KycCredentialVcdm2", holder.public_key, actor="t")
    head, _payload, signature = issued.credential.split(".")
    claims = json.loads(decode_unverified(issued.credential)[1])
    claims["credentialSubject"]["kyc_level"] = 3
    forged = f"{head}.{b64url_encode(json.dumps(claims).encode())}.{signature}"
    holder_did = "did:key:" + multikey_from_public_key(holder.public_key)
    vp = build_vp_jwt(
        [forged],
        holder,
        holder=holder_did,
        nonce=NONCE,
        aud=_aud(node),
        iat=node.unix_now(),
        kid=f"{holder_did}#{holder_did.removeprefix('did:key:')}",
    )
    verdict = _verify(node, vp)
    assert _failed(verdict) == {"credential.signature": "invalid_signature"}
    assert verdict.claims is None


def test_receipt_is_signed_by_the_verifier_and_checkable_later(node, issued, holder):
    outcome = node.verification.verify_direct(
        _show(node, issued.credential, holder), NONCE, _aud(node), None
    )
    assert outcome.verdict.valid
    claims = verify_receipt(outcome.receipt, node.verification.key_at)
    assert claims["iss"] == node.institution.did and claims["valid"] is True
    assert claims["claims_sha256"] == claims_digest(outcome.verdict.claims)
    header = decode_unverified(outcome.receipt)[0]
    assert header["typ"] == "verification-receipt+jwt"
    assert header["kid"].startswith(node.institution.did + "#")


# --- hostile presentations, each refused by the right check -------------------------------------


def _case_tampered_signature(node, issued, holder):
    parsed = parse(issued.credential)
    head, payload, signature = parsed.issuer_jwt.split(".")
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBA")
    return _show(
        node, issued.credential.replace(parsed.issuer_jwt, f"{head}.{payload}.{flipped}"), holder
    )


def _case_alg(alg: str) -> Callable[..., str]:
    def make(node, issued, holder):
        parsed = parse(issued.credential)
        key, _ = _signing(node)
        token = _resign(parsed.issuer_jwt, key, header={"alg": alg})
        return _show(node, issued.credential.replace(parsed.issuer_jwt, token), holder)

    return make


def _case_hs256_with_public_key(node, issued, holder):
    import hmac

    parsed = parse(issued.credential)
    old_header, payload, _, _ = decode_unverified(parsed.issuer_jwt)
    head = b64url_encode(json.dumps({**old_header, "alg": "HS256"}).encode())
    body = b64url_encode(payload)
    secret = (
        _signing(node)[0].public_key.raw_bytes()
        if hasattr(_signing(node)[0].public_key, "raw_bytes")
        else b"public"
    )
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    token = f"{head}.{body}.{b64url_encode(mac)}"
    return _show(node, issued.credential.replace(parsed.issuer_jwt, token), holder)


def _case_header(extra: dict[str, Any]) -> Callable[..., str]:
    def make(node, issued, holder):
        parsed = parse(issued.credential)
        token = _resign(parsed.issuer_jwt, _signing(node)[0], header=extra)
        return _show(node, issued.credential.replace(parsed.issuer_jwt, token), holder)

    return make


def _case_kid_other_did(node, issued, holder):
    other = PrivateKey.generate(KeyType.ED25519)
    did = "did:key:" + multikey_from_public_key(other.public_key)
    return _case_header({"kid": f"{did}#{did.removeprefix('did:key:')}"})(node, issued, holder)


def _case_unknown_issuer(node, issued, holder):
    stranger = PrivateKey.generate(KeyType.ED25519)
    did = "did:webvh:QmUnknownScid000000000000000000000000000000000:nowhere.example"
    token = _craft(
        node,
        holder,
        _status_of(issued.credential),
        key=stranger,
        claims={"iss": did},
        kid=f"{did}#key-1",
    )
    return _show(node, token, holder)


def _case_untrusted_issuer(node, issued, holder):
    stranger = PrivateKey.generate(KeyType.ED25519)
    did = "did:key:" + multikey_from_public_key(stranger.public_key)
    token = _craft(
        node,
        holder,
        _status_of(issued.credential),
        key=stranger,
        claims={"iss": did},
        kid=f"{did}#{did.removeprefix('did:key:')}",
    )
    return _show(node, token, holder)


def _case_small_order_issuer(node, issued, holder):
    did = "did:key:" + encode_multikey(Multicodec.ED25519_PUB, bytes([1]) + bytes(31))
    token = _craft(
        node,
        holder,
        _status_of(issued.credential),
        claims={"iss": did},
        kid=f"{did}#{did.removeprefix('did:key:')}",
    )
    return _show(node, token, holder)


def _case_expired(node, issued, holder):
    token = _craft(
        node, holder, _status_of(issued.credential), claims={"exp": node.unix_now() - 120}
    )
    return _show(node, token, holder)


def _case_not_yet_valid(node, issued, holder):
    token = _craft(
        node, holder, _status_of(issued.credential), claims={"nbf": node.unix_now() + 3600}
    )
    return _show(node, token, holder)


def _case_revoked(node, issued, holder):
    node.issuance.revoke(issued.row.id, reason="fraud", broker_key_id=None, actor="t")
    return _show(node, issued.credential, holder)


def _case_suspended(node, issued, holder):
    node.issuance.suspend(issued.row.id, reason="review", broker_key_id=None, actor="t")
    return _show(node, issued.credential, holder)


def _case_status_uri_elsewhere(node, issued, holder):
    status = {"status_list": {"idx": 7, "uri": "http://127.0.0.1:6000/status/ietf/x"}}
    return _show(node, _craft(node, holder, status), holder)


def _case_status_uri_lookalike(node, issued, holder):
    status = {"status_list": {"idx": 7, "uri": "http://127.0.0.1:59990/status/ietf/x"}}
    return _show(node, _craft(node, holder, status), holder)


def _case_tampered_disclosure(node, issued, holder):
    parsed = parse(issued.credential)
    victim = parsed.disclosures[0]
    forged = Disclosure.create("c2FsdHNhbHRzYWx0", "kyc_level", 3).encoded
    return _kb(node, issued.credential.replace(victim, forged), holder)


def _case_duplicate_disclosure(node, issued, holder):
    parsed = parse(issued.credential)
    doubled = "~".join((parsed.issuer_jwt, *parsed.disclosures, parsed.disclosures[0])) + "~"
    return _kb(node, doubled, holder)


def _case_unreferenced_disclosure(node, issued, holder):
    parsed = parse(issued.credential)
    extra = Disclosure.create("dW5yZWZlcmVuY2Vk", "kyc_level", 3).encoded
    return _kb(node, "~".join((parsed.issuer_jwt, *parsed.disclosures, extra)) + "~", holder)


def _case_reserved_name(name: str) -> Callable[..., str]:
    def make(node, issued, holder):
        raw = json.dumps(["c2FsdHNhbHRzYWx0", name, 1]).encode()
        encoded = b64url_encode(raw)
        digest = b64url_encode(hashlib.sha256(encoded.encode()).digest())
        key, kid = _signing(node)
        now = node.unix_now()
        payload = {
            "iss": node.institution.did,
            "iat": now,
            "vct": node.issuance.vct,
            "status": _status_of(issued.credential),
            "_sd": [digest],
            "_sd_alg": "sha-256",
            "cnf": {"jwk": holder.public_key.to_jwk()},
        }
        token = sign_compact({"typ": "dc+sd-jwt", "kid": kid}, payload, key)
        return _kb(node, f"{token}~{encoded}~", holder)

    return make


def _case_duplicate_json_keys(node, issued, holder):
    key, kid = _signing(node)
    now = node.unix_now()
    payload = (
        f'{{"iss": "{node.institution.did}", "iat": {now}, "vct": "{node.issuance.vct}",'
        f' "vct": "urn:other", "cnf": {json.dumps({"jwk": holder.public_key.to_jwk()})}}}'
    )
    head = b64url_encode(json.dumps({"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": kid}).encode())
    body = b64url_encode(payload.encode())
    token = f"{head}.{body}.{b64url_encode(key.sign(f'{head}.{body}'.encode()))}"
    return _kb(node, token + "~", holder)


def _case_stripped_kb(node, issued, holder):
    return present(issued.credential, disclose=ALL)


def _case_wrong_nonce(node, issued, holder):
    return _show(node, issued.credential, holder, nonce="another-nonce-value")


def _case_wrong_aud(node, issued, holder):
    return _show(node, issued.credential, holder, aud="decentralized_identifier:did:example:x")


def _case_aud_array(node, issued, holder):
    shown = _show(node, issued.credential, holder)
    parsed = parse(shown)
    claims = json.loads(decode_unverified(parsed.kb_jwt)[1])
    claims["aud"] = [_aud(node)]
    kb = sign_compact({"typ": "kb+jwt"}, claims, holder)
    return parsed.sd_jwt + kb


def _case_kb_iat(offset: int) -> Callable[..., str]:
    def make(node, issued, holder):
        return _show(node, issued.credential, holder, iat=node.unix_now() + offset)

    return make


def _case_wrong_sd_hash(node, issued, holder):
    shown = _show(node, issued.credential, holder)
    parsed = parse(shown)
    claims = json.loads(decode_unverified(parsed.kb_jwt)[1])
    claims["sd_hash"] = sd_hash(parsed.issuer_jwt + "~", "sha-256")
    return parsed.sd_jwt + sign_compact({"typ": "kb+jwt"}, claims, holder)


def _case_kb_wrong_key(node, issued, holder):
    shown = _show(node, issued.credential, holder)
    parsed = parse(shown)
    claims = json.loads(decode_unverified(parsed.kb_jwt)[1])
    other = PrivateKey.generate(KeyType.ED25519)
    return parsed.sd_jwt + sign_compact({"typ": "kb+jwt"}, claims, other)


def _case_kb_typ_jwt(node, issued, holder):
    shown = _show(node, issued.credential, holder)
    parsed = parse(shown)
    claims = json.loads(decode_unverified(parsed.kb_jwt)[1])
    return parsed.sd_jwt + sign_compact({"typ": "JWT"}, claims, holder)


def _case_weak_cnf(node, issued, holder):
    small = b64url_encode(bytes([1]) + bytes(31))
    token = _craft(
        node,
        None,
        _status_of(issued.credential),
        claims={"cnf": {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": small}}},
    )
    kb_claims = {
        "iat": node.unix_now(),
        "aud": _aud(node),
        "nonce": NONCE,
        "sd_hash": sd_hash(token, "sha-256"),
    }
    return token + sign_compact({"typ": "kb+jwt"}, kb_claims, holder)


def _case_es256_signature(signature: bytes) -> Callable[..., str]:
    def make(node, issued, holder):
        key, kid = _signing(node, "issuing-p256")
        token = _craft(node, holder, _status_of(issued.credential), key=key, kid=kid)
        parsed = parse(token)
        head, payload, _ = parsed.issuer_jwt.split(".")
        forged = f"{head}.{payload}.{b64url_encode(signature)}"
        return _show(node, token.replace(parsed.issuer_jwt, forged), holder)

    return make


_P256_N = bytes.fromhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")

HOSTILE: list[tuple[str, Callable[..., str], str, str]] = [
    # (case, presentation builder, check that fails, its code)
    ("tampered signature", _case_tampered_signature, "signature", "invalid_signature"),
    ("alg none", _case_alg("none"), "algorithm", "unsupported_algorithm"),
    ("alg NoNe", _case_alg("NoNe"), "algorithm", "unsupported_algorithm"),
    (
        "HS256 keyed with the issuer's public key",
        _case_hs256_with_public_key,
        "algorithm",
        "unsupported_algorithm",
    ),
    (
        "embedded jwk",
        _case_header({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA"}}),
        "key_reference",
        "key_reference_invalid",
    ),
    (
        "jku",
        _case_header({"jku": "http://169.254.169.254/keys"}),
        "key_reference",
        "key_reference_invalid",
    ),
    ("x5c", _case_header({"x5c": ["MIIB"]}), "key_reference", "key_reference_invalid"),
    ("kid naming another DID", _case_kid_other_did, "key_reference", "key_reference_invalid"),
    ("unknown issuer", _case_unknown_issuer, "issuer_key", "did_not_found"),
    (
        "issuer not authorised in the registry",
        _case_untrusted_issuer,
        "issuer_trusted",
        "untrusted_issuer",
    ),
    (
        "small-order Ed25519 issuer key",
        _case_small_order_issuer,
        "issuer_key",
        "invalid_public_key",
    ),
    (
        "ES256 all-zero signature",
        _case_es256_signature(bytes(64)),
        "signature",
        "invalid_signature",
    ),
    ("ES256 r = s = n", _case_es256_signature(_P256_N + _P256_N), "signature", "invalid_signature"),
    ("expired", _case_expired, "validity", "token_expired"),
    ("not yet valid", _case_not_yet_valid, "validity", "token_not_yet_valid"),
    ("revoked", _case_revoked, "status", "credential_revoked"),
    ("suspended", _case_suspended, "status", "credential_suspended"),
    (
        "status URI not at the issuer's endpoint",
        _case_status_uri_elsewhere,
        "status_fetch",
        "status_uri_not_allowed",
    ),
    (
        "status URI on a look-alike port",
        _case_status_uri_lookalike,
        "status_fetch",
        "status_uri_not_allowed",
    ),
    ("tampered disclosure", _case_tampered_disclosure, "disclosures", "unreferenced_disclosure"),
    ("duplicated disclosure", _case_duplicate_disclosure, "disclosures", "duplicate_digest"),
    (
        "unreferenced disclosure",
        _case_unreferenced_disclosure,
        "disclosures",
        "unreferenced_disclosure",
    ),
    ("_sd as a claim name", _case_reserved_name("_sd"), "disclosures", "invalid_disclosure"),
    ("... as a claim name", _case_reserved_name("..."), "disclosures", "invalid_disclosure"),
    ("duplicate JSON keys", _case_duplicate_json_keys, "parse", "malformed_token"),
    ("stripped KB-JWT", _case_stripped_kb, "key_binding", "key_binding_missing"),
    ("KB-JWT wrong nonce", _case_wrong_nonce, "nonce", "nonce_mismatch"),
    ("KB-JWT wrong audience", _case_wrong_aud, "audience", "audience_mismatch"),
    ("KB-JWT audience array", _case_aud_array, "audience", "audience_mismatch"),
    ("KB-JWT stale iat", _case_kb_iat(-3600), "kb_freshness", "key_binding_invalid"),
    ("KB-JWT future iat", _case_kb_iat(3600), "kb_freshness", "key_binding_invalid"),
    ("KB-JWT wrong sd_hash", _case_wrong_sd_hash, "sd_hash", "sd_hash_mismatch"),
    ("KB-JWT signed by another key", _case_kb_wrong_key, "key_binding", "invalid_signature"),
    ("KB-JWT typ JWT", _case_kb_typ_jwt, "key_binding", "wrong_token_type"),
    ("small-order cnf key", _case_weak_cnf, "key_binding", "weak_key"),
]


@pytest.mark.parametrize(("case", "build", "check", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_presentation_is_refused_by_the_right_check(
    node, issued, holder, case, build, check, code
) -> None:
    verdict = _verify(node, build(node, issued, holder))
    assert not verdict.valid
    assert _failed(verdict).get(check) == code, _failed(verdict)
    assert verdict.claims is None


def test_independent_checks_all_report(node, issued, holder):
    """After a good signature, every failing check is reported, not only the first."""
    node.issuance.revoke(issued.row.id, reason="fraud", broker_key_id=None, actor="t")
    shown = _show(
        node,
        issued.credential,
        holder,
        nonce="wrong-nonce-value",
        aud="decentralized_identifier:did:example:x",
        iat=node.unix_now() - 3600,
    )
    failed = _failed(_verify(node, shown))
    assert failed == {
        "nonce": "nonce_mismatch",
        "audience": "audience_mismatch",
        "kb_freshness": "key_binding_invalid",
        "status": "credential_revoked",
    }


def test_a_key_rotated_out_before_iat_is_refused_and_older_credentials_still_verify(
    node, issued, holder
) -> None:
    old_key, old_kid = _signing(node)
    time.sleep(1.1)  # iat has whole seconds: rotate in a later second than the issuance
    rotate_issuing_keys(node)
    time.sleep(1.1)  # iat has whole seconds: sign in a second that begins after the rotation
    late = _craft(node, holder, _status_of(issued.credential), key=old_key, kid=old_kid)
    verdict = _verify(node, _show(node, late, holder))
    assert _failed(verdict)["issuer_key"] == "key_not_valid_at"
    before = _verify(node, _show(node, issued.credential, holder))
    assert before.valid, [c for c in before.checks if not c.ok]


def _serve(node, tokens: dict[str, str]) -> None:
    node.verification.read_own_status_locally = False
    node.verification.fetch = lambda url, **_: HttpReply(
        200, tokens[url].encode(), "application/statuslist+jwt"
    )


def test_a_status_list_that_differs_from_the_registry_anchor_is_a_split_view(
    node, issued, holder
) -> None:
    uri = _status_of(issued.credential)["status_list"]["uri"]
    key, kid = _signing(node, "issuing-p256")
    other = build_status_list_token(
        StatusList(131_072, bits=2),
        key,
        sub=uri,
        iat=node.unix_now(),
        header={"kid": kid},
        claims={"iss": node.institution.did},
    )
    _serve(node, {uri: other})
    failed = _failed(_verify(node, _show(node, issued.credential, holder)))
    assert failed["status_anchor"] == "status_list_split_view"
    assert "status" in failed  # never reported valid


def test_the_served_status_list_over_http_is_accepted(node, issued, holder):
    uri = _status_of(issued.credential)["status_list"]["uri"]
    row = node.issuance.status.current(uri)
    _serve(node, {uri: row.token})
    verdict = _verify(node, _show(node, issued.credential, holder))
    assert verdict.valid, _failed(verdict)


def test_a_compression_bomb_status_list_is_refused_quickly(node, issued, holder):
    uri = _status_of(issued.credential)["status_list"]["uri"]
    key, kid = _signing(node, "issuing-p256")
    bomb = b64url_encode(zlib.compress(bytes(17 * 1024 * 1024), 9))
    claims = {
        "sub": uri,
        "iat": node.unix_now(),
        "iss": node.institution.did,
        "status_list": {"bits": 2, "lst": bomb},
    }
    token = sign_compact({"typ": "statuslist+jwt", "kid": kid}, claims, key)
    # The issuer anchors the bomb itself: the anchor check passes, decompression must not.
    latest = node.store.registry_subject_head(uri)
    assert latest is not None
    node.registry.write(
        EntryType.STATUS_PUBLISH,
        uri,
        {
            "list_uri": uri,
            "version": 999,
            "purpose": "status",
            "token_sha256": hashlib.sha256(token.encode()).hexdigest(),
        },
    )
    _serve(node, {uri: token})
    started = time.monotonic()
    failed = _failed(_verify(node, _show(node, issued.credential, holder)))
    assert time.monotonic() - started < 2
    assert failed["status_list"] == "status_list_too_large"


def test_an_unreachable_status_list_fails_closed(node, issued, holder):
    node.verification.read_own_status_locally = False
    node.verification.fetch = lambda url, **_: HttpReply(503, b"", "text/plain")
    failed = _failed(_verify(node, _show(node, issued.credential, holder)))
    assert failed["status_fetch"] == "status_unavailable"


def test_dcql_not_satisfied(node, issued, holder):
    query = dcql.parse_query(
        {
            "credentials": [
                {
                    "id": "kyc",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [node.issuance.vct]},
                    "claims": [{"path": ["kyc_level"], "values": [99]}, {"path": ["nationality"]}],
                }
            ]
        }
    )
    shown = present(
        issued.credential,
        disclose=[("kyc_level",)],
        kb_key=holder,
        nonce=NONCE,
        aud=_aud(node),
        iat=node.unix_now(),
    )
    verdict = _verify(node, shown, query=query.credentials[0])
    assert _failed(verdict) == {"dcql": "dcql_not_satisfied"}
    detail = next(c.detail for c in verdict.checks if c.name == "dcql")
    assert "kyc_level" in detail and "nationality" in detail


def test_a_replayed_presentation_is_refused_also_after_a_restart(app, node, issued, holder):
    from app import create_app

    shown = _show(node, issued.credential, holder)
    first = node.verification.verify_direct(shown, NONCE, _aud(node), None)
    assert first.verdict.valid
    second = node.verification.verify_direct(shown, NONCE, _aud(node), None)
    assert _failed(second.verdict) == {"replay": "nonce_replayed"}
    data_dir = node.config.data_dir
    node.close()
    restarted = create_app(
        {
            "data_dir": data_dir,
            "public_url": "http://127.0.0.1:5999",
            "institution_name": "Test Broker",
        }
    )
    try:
        again = restarted.extensions["kyc"].verification.verify_direct(
            shown, NONCE, _aud(node), None
        )
        assert _failed(again.verdict) == {"replay": "nonce_replayed"}
    finally:
        restarted.extensions["kyc"].close()
    app.extensions["kyc"] = restarted.extensions["kyc"]  # the fixture closes it again: harmless


def test_garbage_is_a_failed_parse_never_an_exception(node):
    for garbage in ["", "~", "a.b.c~", "x" * 10, "~~~~", "eyJ.eyJ.x~", 5, None, ["a"]]:
        verdict = node.verification.verify(garbage, node.verification.policy(NONCE, "aud"))
        assert not verdict.valid
        assert verdict.checks[0].name == "parse" and not verdict.checks[0].ok


def test_registry_evidence_must_prove_inclusion(node, issued, holder, monkeypatch):
    from dataclasses import replace

    real = node.verification._evidence
    monkeypatch.setattr(
        node.verification, "_evidence", lambda did, at: replace(real(did, at), root=bytes(32))
    )
    failed = _failed(_verify(node, _show(node, issued.credential, holder)))
    assert failed == {"registry_inclusion": "inclusion_proof_invalid"}
    monkeypatch.setattr(node.verification, "_evidence", lambda did, at: None)
    node.verification.clear_caches()  # the bad evidence above was remembered with its key
    failed = _failed(_verify(node, _show(node, issued.credential, holder)))
    assert failed == {"registry_inclusion": "registry_evidence_missing"}


# --- what the verifier keeps between presentations never turns a failure into a pass -------------


def test_a_kept_status_list_is_checked_again_for_time_anchor_and_key(node, issued, holder):
    from dataclasses import replace

    uri = _status_of(issued.credential)["status_list"]["uri"]
    row = node.issuance.status.current(uri)
    _serve(node, {uri: row.token})
    shown = _show(node, issued.credential, holder)
    service = node.verification
    assert _verify(node, shown).valid  # the list is verified and kept
    assert _verify(node, shown).valid  # and served from what was kept

    # exp is checked on every use, against this presentation's time.
    _, payload, _, _ = decode_unverified(row.token)
    exp = json.loads(payload)["exp"]
    later = replace(service.policy(NONCE, _aud(node)), now=exp + 3600)
    assert _failed(service.verify(shown, later))["status_list"] == "token_expired"

    # The registry anchor is compared on every use: a list served beside the anchored one is a
    # split view even though the anchored one was kept.
    key, kid = _signing(node, "issuing-p256")
    other = build_status_list_token(
        StatusList(131_072, bits=2),
        key,
        sub=uri,
        iat=node.unix_now(),
        header={"kid": kid},
        claims={"iss": node.institution.did},
    )
    _serve(node, {uri: other})
    assert _failed(_verify(node, shown))["status_anchor"] == "status_list_split_view"

    # The key is asked for on every use: a refused key fails the list even when it was kept.
    _serve(node, {uri: row.token})
    real_key_at = service.verifier.key_at

    def key_at(kid: str, at: float):
        if kid.endswith(multikey_from_public_key(key.public_key)):
            raise KeyNotValidAt("refused for the test")
        return real_key_at(kid, at)

    checking = replace(service.verifier, key_at=key_at)
    verdict = checking.verify_sd_jwt_vc(shown, service.policy(NONCE, _aud(node)))
    assert _failed(verdict) == {"status_list": "key_not_valid_at", "status": "not_checked"}
    assert _verify(node, shown).valid


def test_kept_inclusion_evidence_vouches_for_no_other(node, issued, holder, monkeypatch):
    from dataclasses import replace

    shown = _show(node, issued.credential, holder)
    assert _verify(node, shown).valid  # the inclusion proof is checked and kept
    real = node.verification._evidence
    for change in (
        {"root": bytes(32)},
        {"index": 0},
        {"proof": ()},
        {"entry": b"{}"},
    ):
        monkeypatch.setattr(
            node.verification, "_evidence", lambda did, at, c=change: replace(real(did, at), **c)
        )
        node.verification.clear_caches()  # the node's key cache holds the evidence with the key
        failed = _failed(_verify(node, shown))
        assert set(failed) == {"registry_inclusion"}, (change, failed)
    monkeypatch.setattr(node.verification, "_evidence", real)
    node.verification.clear_caches()
    assert _verify(node, shown).valid
