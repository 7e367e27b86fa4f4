"""Resolver: result shape, error codes, method registration, verification-method dereferencing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

import errors
from identity import did_jwk, did_key
from identity.keys import KeyType, PrivateKey
from identity.resolver import ResolutionResult, Resolver, resolve_verification_method

ED = PrivateKey.from_private_bytes(KeyType.ED25519, b"\x33" * 32)
EC = PrivateKey.from_private_bytes(KeyType.P256, b"\x33" * 32)
ED_DID = did_key.did_from_public_key(ED.public_key)
EC_DID = did_key.did_from_public_key(EC.public_key)
JWK_DID = did_jwk.did_from_public_key(EC.public_key)


def test_success_shape() -> None:
    result = Resolver().resolve(ED_DID)
    assert result.error is None
    assert result.to_dict() == {
        "didDocument": did_key.resolve(ED_DID),
        "didDocumentMetadata": {},
        "didResolutionMetadata": {"contentType": "application/did+ld+json"},
    }


def test_to_dict_is_a_copy() -> None:
    result = Resolver().resolve(ED_DID)
    result.to_dict()["didDocument"]["id"] = "changed"
    assert result.did_document is not None and result.did_document["id"] == ED_DID


@pytest.mark.parametrize(
    ("did", "code"),
    [
        ("", "invalidDid"),
        ("not a did", "invalidDid"),
        (ED_DID + "#frag", "invalidDid"),
        ("did:example:123", "methodNotSupported"),
        ("did:webvh:abc:example.com", "methodNotSupported"),
        ("did:key:zTjsVPtY", "invalidPublicKeyLength"),
        ("did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc", "unsupportedPublicKeyType"),
        ("did:key:z1111111111111111111111111111111111", "unsupportedPublicKeyType"),
        ("did:jwk:e30", "invalidPublicKey"),  # {}: no kty
        ("did:jwk:bnVsbA", "invalidDid"),  # null
        (None, "invalidDid"),
    ],
)
def test_failures_are_results(did: Any, code: str) -> None:
    result = Resolver().resolve(did)
    assert result.error == code
    assert result.did_document is None
    body = result.to_dict()
    assert body["didDocument"] is None
    assert body["didResolutionMetadata"]["error"] == code
    assert isinstance(body["didResolutionMetadata"]["errorMessage"], str)


def test_did_key_options() -> None:
    resolver = Resolver()
    jwk = resolver.resolve(ED_DID, {"publicKeyFormat": "JsonWebKey"})
    assert jwk.did_document is not None
    assert jwk.did_document["verificationMethod"][0]["type"] == "JsonWebKey"
    plain = resolver.resolve(ED_DID, {"enableEncryptionKeyDerivation": "false"})
    assert plain.did_document is not None and "keyAgreement" not in plain.did_document
    assert resolver.resolve(ED_DID, {"enableEncryptionKeyDerivation": "yes"}).error == (
        "invalidOptions"
    )
    assert resolver.resolve(ED_DID, {"publicKeyFormat": "X"}).error == "unsupportedPublicKeyType"


def test_did_jwk_resolves() -> None:
    result = Resolver().resolve(JWK_DID)
    assert result.did_document == did_jwk.resolve(JWK_DID)


def test_register_a_method() -> None:
    calls: list[tuple[str, Mapping[str, str]]] = []

    def fake_webvh(did: str, options: Mapping[str, str]) -> ResolutionResult:
        calls.append((did, options))
        if did.endswith("gone"):
            raise errors.DidNotFound("no such log")
        if did.endswith("broken"):
            raise errors.ServiceUnavailable("registry down")
        if did.endswith("weak"):
            raise errors.WeakKey("small order")
        return ResolutionResult.success({"id": did}, {"versionId": "1"})

    resolver = Resolver()
    resolver.register("webvh", fake_webvh)
    assert resolver.methods == ("jwk", "key", "webvh")
    ok = resolver.resolve("did:webvh:scid:example.com", {"versionId": "1"})
    assert ok.to_dict()["didDocumentMetadata"] == {"versionId": "1"}
    assert calls == [("did:webvh:scid:example.com", {"versionId": "1"})]
    assert resolver.resolve("did:webvh:scid:gone").error == "notFound"
    assert resolver.resolve("did:webvh:scid:broken").error == "internalError"
    assert resolver.resolve("did:webvh:scid:weak").error == "invalidPublicKey"


def test_bugs_in_methods_propagate() -> None:
    def buggy(did: str, options: Mapping[str, str]) -> ResolutionResult:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        Resolver({"bug": buggy}).resolve("did:bug:1")


@pytest.mark.parametrize("name", ["", "Web", "we-b", "did:web", 1])
def test_register_rejects_bad_method_names(name: Any) -> None:
    with pytest.raises(ValueError):
        Resolver().register(name, lambda did, options: ResolutionResult.failure("notFound"))


# --- dereferencing ---------------------------------------------------------------------------


def test_dereference_did_key() -> None:
    fragment = ED_DID.removeprefix("did:key:")
    for relationship in (None, "assertionMethod", "authentication"):
        key = resolve_verification_method(f"{ED_DID}#{fragment}", relationship=relationship)
        assert key == ED.public_key
    assert resolve_verification_method(f"{EC_DID}#{EC_DID[8:]}") == EC.public_key


def test_dereference_did_jwk() -> None:
    assert resolve_verification_method(JWK_DID + "#0", relationship="assertionMethod") == (
        EC.public_key
    )
    with pytest.raises(errors.DidNotFound):
        resolve_verification_method(JWK_DID + "#1")


def test_dereference_jsonwebkey_form() -> None:
    resolver = Resolver()
    key = resolver.resolve_verification_method(
        f"{EC_DID}#{EC_DID[8:]}", options={"publicKeyFormat": "JsonWebKey"}
    )
    assert key == EC.public_key


def test_dereference_x25519_key_agreement_is_unsupported() -> None:
    document = did_key.resolve(ED_DID)
    x25519_id = document["keyAgreement"][0]["id"]
    with pytest.raises(errors.UnsupportedPublicKeyType):
        resolve_verification_method(x25519_id)
    with pytest.raises(errors.DidNotFound):
        resolve_verification_method(f"{ED_DID}#{ED_DID[8:]}", relationship="keyAgreement")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (ED_DID, errors.InvalidDidUrl),
        (ED_DID + "#", errors.InvalidDidUrl),
        (ED_DID + "/path#x", errors.InvalidDidUrl),
        (ED_DID + "?service=x#x", errors.InvalidDidUrl),
        ("not-a-did#x", errors.InvalidDidUrl),
        (ED_DID + "#nope", errors.DidNotFound),
        ("did:example:1#key", errors.MethodNotSupported),
        ("did:key:zTjsVPtY#zTjsVPtY", errors.InvalidPublicKeyLength),
        ("did:key:6Mk#6Mk", errors.InvalidDid),
    ],
)
def test_dereference_errors(url: str, error: type[errors.Error]) -> None:
    with pytest.raises(error):
        resolve_verification_method(url)


def _resolver_with(document: dict[str, Any], metadata: dict[str, Any] | None = None) -> Resolver:
    def fixed(did: str, options: Mapping[str, str]) -> ResolutionResult:
        return ResolutionResult.success(document, metadata)

    return Resolver({"test": fixed})


TEST_DID = "did:test:abc"


def test_dereference_relative_ids_and_embedded_methods() -> None:
    multibase = ED_DID.removeprefix("did:key:")
    document = {
        "id": TEST_DID,
        "verificationMethod": [
            {
                "id": "#k1",
                "type": "Multikey",
                "controller": TEST_DID,
                "publicKeyMultibase": multibase,
            },
        ],
        "assertionMethod": ["#k1"],
        "authentication": [
            {
                "id": f"{TEST_DID}#k2",
                "type": "JsonWebKey",
                "controller": TEST_DID,
                "publicKeyJwk": EC.public_key.to_jwk(),
            },
        ],
    }
    resolver = _resolver_with(document)
    assert (
        resolver.resolve_verification_method(f"{TEST_DID}#k1", relationship="assertionMethod")
        == ED.public_key
    )
    assert (
        resolver.resolve_verification_method(f"{TEST_DID}#k2", relationship="authentication")
        == EC.public_key
    )
    with pytest.raises(errors.DidNotFound):
        resolver.resolve_verification_method(f"{TEST_DID}#k2", relationship="assertionMethod")


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ({"id": "#k"}, errors.InvalidPublicKey),
        ({"id": "#k", "publicKeyMultibase": 5}, errors.InvalidPublicKey),
        ({"id": "#k", "publicKeyMultibase": "z6Mk", "publicKeyJwk": {}}, errors.InvalidPublicKey),
        (
            {
                "id": "#k",
                "publicKeyJwk": {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                },
            },
            errors.InvalidPublicKey,
        ),  # the identity point: weak
        (
            {"id": "#k", "publicKeyJwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
            errors.UnsupportedPublicKeyType,
        ),
        ({"id": "#k", "publicKeyJwk": [1]}, errors.InvalidPublicKey),
        ({"id": "#k", "publicKeyJwk": {**EC.to_jwk()}}, errors.InvalidPublicKey),  # has d
    ],
)
def test_dereference_bad_methods(method: dict[str, Any], error: type[errors.Error]) -> None:
    resolver = _resolver_with({"id": TEST_DID, "verificationMethod": [method]})
    with pytest.raises(error):
        resolver.resolve_verification_method(f"{TEST_DID}#k")


def test_dereference_deactivated() -> None:
    resolver = _resolver_with({"id": TEST_DID}, {"deactivated": True})
    with pytest.raises(errors.DidDeactivated):
        resolver.resolve_verification_method(f"{TEST_DID}#k")


def test_dereference_failure_result_from_method() -> None:
    def gone(did: str, options: Mapping[str, str]) -> ResolutionResult:
        return ResolutionResult.failure("notFound", "no log")

    with pytest.raises(errors.DidNotFound):
        Resolver({"test": gone}).resolve_verification_method(f"{TEST_DID}#k")
