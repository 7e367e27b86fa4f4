"""Registry entries: canonical form, strict schemas (no personal data), signatures, governance."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import errors
from identity.did_key import did_from_public_key
from identity.keys import KeyType, PrivateKey
from registry.entries import MAX_ENTRY_BYTES, EntryType, canonical, parse_entry, sign_entry
from registry.governance import GovernancePolicy, UnauthorizedWriter, WriterSet

LOG = "registry.example/log"
TIME = "2026-11-24T12:00:00Z"


def _key() -> PrivateKey:
    return PrivateKey.generate(KeyType.ED25519)


def _writer_add(
    governance: PrivateKey,
    did: str,
    registry_key: PrivateKey,
    prev=None,
    roles=("issuer", "writer"),
):
    return sign_entry(
        log=LOG,
        entry_type=EntryType.WRITER_ADD,
        subject=did,
        prev=prev,
        time=TIME,
        nonce=b"\x01" * 16,
        payload={
            "did": did,
            "registry_key": registry_key.public_key.to_jwk(),
            "roles": list(roles),
        },
        writer="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        keys=[governance],
    )


def _status(writer_did: str, key: PrivateKey, prev=None, **payload):
    body = {
        "list_uri": "https://broker.example/status/1",
        "version": 1,
        "token_sha256": "ab" * 32,
        "purpose": "revocation",
        **payload,
    }
    return sign_entry(
        log=LOG,
        entry_type=EntryType.STATUS_PUBLISH,
        subject=body["list_uri"],
        prev=prev,
        time=TIME,
        nonce=b"\x02" * 16,
        payload=body,
        writer=writer_did,
        keys=[key],
    )


def test_sign_then_parse_round_trips_byte_exactly() -> None:
    key = _key()
    did = did_from_public_key(key.public_key)
    entry = _status(did, key)
    again = parse_entry(entry.data, expected_log=LOG)
    assert again == entry
    assert canonical(again.to_json()) == entry.data
    entry.verify_signature(key.public_key)
    with pytest.raises(errors.InvalidSignature):
        entry.verify_signature(_key().public_key)


def _mutate(entry_data: bytes, change) -> bytes:
    value = json.loads(entry_data)
    change(value)
    return canonical(value)


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("unknown top-level field", lambda v: v.update(name="Alice Example")),
        ("personal data in payload", lambda v: v["payload"].update(given_name="Alice")),
        ("unknown type", lambda v: v.update(type="kyc.record")),
        ("negative prev", lambda v: v.update(prev=-1)),
        ("bool prev", lambda v: v.update(prev=True)),
        ("bad time", lambda v: v.update(time="yesterday")),
        ("short nonce", lambda v: v.update(nonce="AAAA")),
        ("bad writer", lambda v: v.update(writer="not-a-did")),
        ("version 2", lambda v: v.update(v=2)),
        ("bad hash", lambda v: v["payload"].update(token_sha256="XYZ")),
        ("bad purpose", lambda v: v["payload"].update(purpose="other")),
        ("subject mismatch", lambda v: v.update(subject="https://elsewhere.example/x")),
        ("no signatures", lambda v: v.update(sigs=[])),
        ("duplicate signer", lambda v: v.update(sigs=v["sigs"] * 2)),
        ("missing field", lambda v: v.pop("nonce")),
    ],
)
def test_malformed_entries_are_refused(case: str, change) -> None:
    key = _key()
    entry = _status(did_from_public_key(key.public_key), key)
    with pytest.raises(errors.InvalidInput):
        parse_entry(_mutate(entry.data, change))


def test_non_canonical_bytes_are_refused() -> None:
    key = _key()
    entry = _status(did_from_public_key(key.public_key), key)
    spaced = json.dumps(json.loads(entry.data), indent=1).encode()
    with pytest.raises(errors.InvalidValue, match="canonical"):
        parse_entry(spaced)


def test_oversized_entries_are_refused() -> None:
    with pytest.raises(errors.InvalidValue, match="larger"):
        parse_entry(b"{" + b" " * MAX_ENTRY_BYTES + b"}")


def test_wrong_log_is_refused() -> None:
    key = _key()
    entry = _status(did_from_public_key(key.public_key), key)
    with pytest.raises(errors.InvalidValue, match="log"):
        parse_entry(entry.data, expected_log="other.example/log")


def test_weak_registry_key_is_refused() -> None:
    governance = _key()
    entry = _writer_add(
        governance, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", _key()
    )
    small_order = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }
    data = _mutate(entry.data, lambda v: v["payload"].update(registry_key=small_order))
    with pytest.raises(errors.WeakKey):
        parse_entry(data)


def test_governance_quorum_and_writer_authorisation() -> None:
    g1, g2, g3 = _key(), _key(), _key()
    policy = GovernancePolicy((g1.public_key, g2.public_key, g3.public_key), threshold=2)
    writers = WriterSet(policy)
    registry_key = _key()
    did = did_from_public_key(_key().public_key)

    one_sig = _writer_add(g1, did, registry_key)
    with pytest.raises(UnauthorizedWriter, match="2 governance signatures"):
        writers.authorize(one_sig)

    two_sigs = sign_entry(
        log=LOG,
        entry_type=EntryType.WRITER_ADD,
        subject=did,
        prev=None,
        time=TIME,
        nonce=b"\x03" * 16,
        payload={"did": did, "registry_key": registry_key.public_key.to_jwk(), "roles": ["writer"]},
        writer=did,
        keys=[g1, g3],
    )
    writers.authorize(two_sigs)

    publication = _status(did, registry_key)
    with pytest.raises(UnauthorizedWriter):  # not yet added
        writers.authorize(publication)
    writers.apply(two_sigs, 0)
    writers.authorize(publication)
    with pytest.raises(UnauthorizedWriter):  # right DID, wrong key
        writers.authorize(_status(did, _key()))

    removal = sign_entry(
        log=LOG,
        entry_type=EntryType.WRITER_REMOVE,
        subject=did,
        prev=0,
        time=TIME,
        nonce=b"\x04" * 16,
        payload={"did": did},
        writer=did,
        keys=[g2, g3],
    )
    writers.authorize(removal)
    writers.apply(removal, 1)
    with pytest.raises(UnauthorizedWriter):
        writers.authorize(publication)


def test_policy_validation() -> None:
    key = _key().public_key
    with pytest.raises(errors.InvalidValue):
        GovernancePolicy((key,), threshold=2)
    with pytest.raises(errors.InvalidValue):
        GovernancePolicy((key, key), threshold=1)
    with pytest.raises(errors.InvalidValue):
        GovernancePolicy((PrivateKey.generate(KeyType.P256).public_key,), threshold=1)
    policy = GovernancePolicy((key,), 1)
    assert GovernancePolicy.from_json(policy.to_json()) == policy


def _did_entry(log_entry: dict) -> bytes:
    key = _key()
    entry = sign_entry(
        log=LOG, entry_type=EntryType.DID_ENTRY, subject="did:webvh:QmX:example.com", prev=None,
        time=TIME, nonce=b"\x05" * 16, payload={"log_entry": log_entry},
        writer=did_from_public_key(key.public_key), keys=[key],
    )
    return entry.data


GOOD_LOG_ENTRY = {
    "versionId": "1-QmX", "versionTime": TIME, "parameters": {"method": "did:webvh:1.0"},
    "state": {"@context": ["https://www.w3.org/ns/did/v1"], "id": "did:webvh:QmX:example.com",
              "verificationMethod": [{"id": "did:webvh:QmX:example.com#k", "type": "Multikey",
                                      "controller": "did:webvh:QmX:example.com",
                                      "publicKeyMultibase": "z6Mk"}],
              "service": [{"id": "#n", "type": "KycIdentityNode",
                           "serviceEndpoint": "https://example.com"}]},
    "proof": [],
}


def test_did_entries_carry_keys_and_services_only() -> None:
    parse_entry(_did_entry(GOOD_LOG_ENTRY))
    for change in (
        lambda e: e["state"].update(name="Alice Example"),
        lambda e: e["state"].update(birthDate="1990-01-01"),
        lambda e: e["state"]["verificationMethod"][0].update(email="a@example.com"),
        lambda e: e["state"]["service"][0].update(serviceEndpoint="mailto:alice@example.com"),
        lambda e: e["state"].update(alsoKnownAs=["https://social.example/@alice"]),
        lambda e: e["parameters"].update(note="Alice's phone"),
        lambda e: e.update(extra=1),
    ):
        changed = json.loads(json.dumps(GOOD_LOG_ENTRY))
        change(changed)
        with pytest.raises(errors.InvalidInput):
            parse_entry(_did_entry(changed))


_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text(max_size=8) | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_canonical_fast_path_equals_rfc8785(value) -> None:
    import rfc8785

    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(errors.InvalidValue):
            canonical(value)
        return
    assert canonical(value) == expected
