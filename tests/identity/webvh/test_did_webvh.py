"""did:webvh: tampered logs, the spec's rules, create → update → deactivate, the resolver
factory and key_valid_at."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from errors import DidDeactivated, DidNotFound, Error, InvalidDid, InvalidValue
from identity.did_webvh import (
    KeyNotValidAt,
    WebvhLogInvalid,
    WebvhUnauthorizedKey,
    WebvhWitnessInsufficient,
    create,
    deactivate,
    entry_line,
    key_hash,
    key_valid_at,
    make_webvh_resolver,
    parse_webvh_did,
    resolve_log,
    sign_entry,
    update,
    verify_log,
    witness_proof,
)
from identity.keys import KeyType, PrivateKey
from identity.multikey import multikey_from_public_key
from identity.resolver import Resolver

VECTORS = Path(__file__).parent.parent.parent / "vectors" / "didwebvh"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
LATER = T0 + timedelta(days=30)


def _key(n: int) -> PrivateKey:
    return PrivateKey.from_private_bytes(KeyType.ED25519, bytes([n]) * 32)


def _scenario_key(n: int) -> PrivateKey:
    """key-<n> of the test-suite scripts: the seed is n + 1 as a 32-byte big-endian number."""
    return PrivateKey.from_private_bytes(KeyType.ED25519, (n + 1).to_bytes(32, "big"))


def _text(entries: list[dict[str, Any]]) -> str:
    return "".join(entry_line(e) + "\n" for e in entries)


def _vector_lines(scenario: str, impl: str = "python") -> list[str]:
    return (VECTORS / scenario / impl / "did.jsonl").read_text().splitlines()


def _did_of(lines: list[str]) -> str:
    return json.loads(lines[0])["state"]["id"]


def _forge(
    previous: dict[str, Any],
    signer: PrivateKey,
    *,
    parameters: dict[str, Any] | None = None,
    when: datetime | None = None,
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A correctly hashed and signed next entry that may break the rules."""
    number = int(previous["versionId"].split("-")[0]) + 1
    moment = when or datetime.fromisoformat(previous["versionTime"]) + timedelta(days=1)
    return sign_entry(
        previous_version_id=previous["versionId"],
        number=number,
        version_time=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        parameters=parameters or {},
        state=state or previous["state"],
        key=signer,
    )


# --- tampered vector logs ------------------------------------------------------------------------


def _assert_refused(
    lines: Any, did: str, error: type[Error] = WebvhLogInvalid, match: str | None = None
) -> None:
    with pytest.raises(error, match=match):
        resolve_log(lines, did, now=LATER)


@pytest.mark.parametrize("impl", ["python", "ts"])
def test_changed_byte_in_an_entry_fails(impl: str) -> None:
    lines = _vector_lines("multi-update", impl)
    lines[1] = lines[1].replace("did:web:example.com", "did:web:example.net")
    _assert_refused(lines, _did_of(lines), match="entry 2: the entry hash does not match")
    # Earlier versions stay resolvable (§"Read (Resolve)" step 11), later ones do not.
    ok = resolve_log(lines, _did_of(lines), version_number=1, now=LATER)
    assert ok.document_metadata["versionNumber"] == 1
    _assert_refused(lines, _did_of(lines), match="entry 2")


@pytest.mark.parametrize("impl", ["python", "ts"])
def test_reordered_entries_fail(impl: str) -> None:
    lines = _vector_lines("multi-update", impl)
    lines[1], lines[2] = lines[2], lines[1]
    _assert_refused(lines, _did_of(lines), match="versionId number must be 2")


def test_dropped_middle_entry_fails() -> None:
    lines = _vector_lines("multi-update")
    del lines[1]
    _assert_refused(lines, _did_of(lines), match="versionId number must be 2")


def test_wrong_scid_fails() -> None:
    lines = _vector_lines("basic-update")
    did = _did_of(lines)
    scid = parse_webvh_did(did).scid
    fake = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"  # another valid SHA-256 multihash
    forged = [line.replace(scid, fake) for line in lines]
    _assert_refused(forged, did.replace(scid, fake), match="SCID does not match")
    # The DID asked for must carry the log's SCID.
    _assert_refused(lines, did.replace(scid, fake), match="is for SCID")


def test_proof_by_a_key_not_in_update_keys_fails() -> None:
    lines = _vector_lines("basic-create")
    first = json.loads(lines[0])
    forged = _forge(first, _key(9), parameters={"updateKeys": first["parameters"]["updateKeys"]})
    _assert_refused(
        [*lines, entry_line(forged)], _did_of(lines), WebvhUnauthorizedKey, "not an active"
    )


def test_rotated_out_key_cannot_sign_the_next_entry() -> None:
    """key-rotation: version 2 hands control to key-1; key-0 may no longer sign."""
    lines = _vector_lines("key-rotation")
    second = json.loads(lines[1])
    forged = _forge(second, _scenario_key(0))
    _assert_refused([*lines, entry_line(forged)], _did_of(lines), WebvhUnauthorizedKey)


def test_pre_rotation_violation_fails() -> None:
    """pre-rotation: entry 1 commits to key-1; new updateKeys must hash into that list."""
    lines = _vector_lines("pre-rotation")
    first = json.loads(lines[0])
    intruder = _key(9)
    forged = _forge(
        first,
        intruder,
        parameters={
            "updateKeys": [multikey_from_public_key(intruder.public_key)],
            "nextKeyHashes": [],
        },
    )
    _assert_refused(
        [*lines, entry_line(forged)], _did_of(lines), WebvhUnauthorizedKey, "not committed"
    )


def test_pre_rotation_cannot_be_bypassed_by_omitting_update_keys() -> None:
    lines = _vector_lines("pre-rotation")
    first = json.loads(lines[0])
    forged = _forge(first, _scenario_key(0))  # signing under the old keys, no updateKeys
    _assert_refused(
        [*lines, entry_line(forged)], _did_of(lines), WebvhUnauthorizedKey, "pre-rotation"
    )


def test_pre_rotation_old_key_cannot_sign_even_with_committed_keys() -> None:
    lines = _vector_lines("pre-rotation")
    first = json.loads(lines[0])
    committed = _scenario_key(1)  # whose hash entry 1 committed to
    forged = _forge(
        first,
        _scenario_key(0),
        parameters={
            "updateKeys": [multikey_from_public_key(committed.public_key)],
            "nextKeyHashes": [],
        },
    )
    _assert_refused(
        [*lines, entry_line(forged)], _did_of(lines), WebvhUnauthorizedKey, "not an active"
    )


def test_version_time_in_the_future_fails() -> None:
    lines = _vector_lines("basic-update")
    did = _did_of(lines)
    with pytest.raises(WebvhLogInvalid, match="entry 2: versionTime is in the future"):
        resolve_log(lines, did, now=datetime(2000, 1, 1, 12, tzinfo=UTC))
    with pytest.raises(WebvhLogInvalid, match="entry 1: versionTime is in the future"):
        resolve_log(lines, did, now=datetime(1999, 12, 31, tzinfo=UTC))


def test_version_time_going_backwards_fails() -> None:
    lines = _vector_lines("basic-create")
    first = json.loads(lines[0])
    forged = _forge(first, _scenario_key(0), when=datetime(1999, 1, 1, tzinfo=UTC))
    _assert_refused([*lines, entry_line(forged)], _did_of(lines), match="later than the previous")
    same = _forge(first, _scenario_key(0), when=datetime(2000, 1, 1, tzinfo=UTC))
    _assert_refused([*lines, entry_line(same)], _did_of(lines), match="later than the previous")


@pytest.mark.parametrize("cut", [1, 10, 200])
def test_truncated_line_fails(cut: int) -> None:
    lines = _vector_lines("basic-update")
    lines[-1] = lines[-1][:-cut]
    _assert_refused(lines, _did_of(lines), match="entry 2: line 2 is not a JSON object")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda e: e["parameters"].update(method="did:webvh:0.5"), "method must be"),
        (lambda e: e["parameters"].update(scid=SCID), "only the first"),
        (lambda e: e["parameters"].update(portable=True), "portable can only"),
        (lambda e: e["parameters"].update(ttl=-1), "ttl"),
        (lambda e: e["parameters"].update(ttl=True), "ttl"),
        (lambda e: e["parameters"].update(watchers=None), "must not be null"),
        (lambda e: e["parameters"].update(extra=1), "unknown parameters"),
        (lambda e: e["parameters"].update(witness={"threshold": 0, "witnesses": []}), "witness"),
        (lambda e: e["parameters"].update(updateKeys=["z6Mk"]), "updateKeys"),
        (lambda e: e.update(extra=1), "entry members"),
        (lambda e: e["state"].update(id="did:webvh:x:example.com"), "state.id"),
        (lambda e: e["state"].update(id=e["state"]["id"] + ":moved"), "not portable"),
    ],
)
def test_parameter_and_state_rules(mutate: Callable[[dict[str, Any]], None], match: str) -> None:
    lines = _vector_lines("basic-update")
    second = json.loads(lines[1])
    unsigned = {k: v for k, v in second.items() if k not in ("proof", "versionId")}
    mutate(unsigned)
    if "extra" in unsigned:
        forged = _forge(json.loads(lines[0]), _scenario_key(0), state=unsigned["state"])
        forged["extra"] = 1
    else:
        forged = _forge(
            json.loads(lines[0]),
            _scenario_key(0),
            parameters=unsigned["parameters"],
            state=unsigned["state"],
        )
    _assert_refused([lines[0], entry_line(forged)], _did_of(lines), WebvhLogInvalid, match)


def test_nothing_after_deactivation() -> None:
    lines = _vector_lines("deactivate")
    second = json.loads(lines[1])
    forged = _forge(second, _scenario_key(0))
    _assert_refused([*lines, entry_line(forged)], _did_of(lines), match="deactivated")


def test_duplicate_members_and_constants_are_refused() -> None:
    lines = _vector_lines("basic-create")
    doubled = lines[0][:-1] + ', "proof": []}'
    _assert_refused([doubled], _did_of(lines), match="duplicate member")
    _assert_refused(["NaN"], _did_of(lines), match="not JSON")
    _assert_refused([lines[0], ""], _did_of(lines), match="empty")
    with pytest.raises(DidNotFound):
        resolve_log([], _did_of(lines), now=LATER)


def test_the_did_must_be_one_the_log_used() -> None:
    lines = _vector_lines("basic-create")
    _assert_refused(lines, _did_of(lines) + ":other", match="not the id of any")


# --- create, update, deactivate ------------------------------------------------------------------


def test_round_trip_create_rotate_move_deactivate() -> None:
    k0, k1, k2 = (_key(n) for n in (11, 12, 13))
    did, first = create(
        "example.com",
        "dids/issuer",
        k0,
        services=[{"id": "#msg", "type": "DIDCommMessaging", "serviceEndpoint": "https://x.y/m"}],
        portable=True,
        now=T0,
    )
    assert did.startswith("did:webvh:Qm") and did.endswith(":example.com:dids:issuer")
    log = [first]
    log.append(update(log, k0, new_update_keys=[k1.public_key], now=T0 + timedelta(days=1)))
    with pytest.raises(WebvhUnauthorizedKey):
        update(log, k0, now=T0 + timedelta(days=2))
    log.append(
        update(log, k1, keys=[k2.public_key], domain="example.org", now=T0 + timedelta(days=2))
    )
    log.extend(deactivate(log, k1, now=T0 + timedelta(days=3)))
    text = _text(log)
    result = resolve_log(text, did, now=LATER)
    moved = result.did_document["id"]
    assert moved == did.replace("example.com:dids:issuer", "example.org")
    assert result.did_document["alsoKnownAs"] == [did]
    assert result.document_metadata["deactivated"] is True
    assert result.document_metadata["portable"] is True
    assert result.document_metadata["versionNumber"] == 4
    services = {s["id"].split("#")[1]: s["serviceEndpoint"] for s in result.did_document["service"]}
    assert services == {
        "msg": "https://x.y/m",
        "files": "https://example.org/",
        "whois": "https://example.org/whois.vp",
    }
    assert resolve_log(text, moved, now=LATER).did_document == result.did_document
    v1 = resolve_log(text, did, version_number=1, now=LATER)
    assert v1.did_document["service"][1]["serviceEndpoint"] == "https://example.com/dids/issuer/"
    with pytest.raises(DidDeactivated):
        update(log, k1, now=LATER)
    assert verify_log(text, now=LATER).error is None


def test_round_trip_with_pre_rotation() -> None:
    k0, k1, k2 = _key(21), _key(22), _key(23)
    did, first = create("example.com", None, k0, next_key_hashes=[key_hash(k1.public_key)], now=T0)
    log = [first]
    with pytest.raises(InvalidValue, match="next_key_hashes"):
        update(log, k1, now=T0 + timedelta(days=1))
    with pytest.raises(WebvhUnauthorizedKey, match="not committed"):
        update(log, k2, next_key_hashes=[], now=T0 + timedelta(days=1))
    log.append(
        update(log, k1, next_key_hashes=[key_hash(k2.public_key)], now=T0 + timedelta(days=1))
    )
    added = deactivate(log, k2, now=T0 + timedelta(days=2))
    assert len(added) == 2  # first ends pre-rotation, then deactivates
    assert added[0]["parameters"] == {
        "updateKeys": [multikey_from_public_key(k2.public_key)],
        "nextKeyHashes": [],
    }
    assert added[1]["parameters"] == {"updateKeys": [], "deactivated": True}
    result = resolve_log(_text(log + added), did, now=LATER)
    assert result.document_metadata["deactivated"] is True


def test_create_refuses_bad_input() -> None:
    with pytest.raises(InvalidDid):
        create("localhost", None, _scenario_key(0), now=T0)
    with pytest.raises(InvalidDid):
        create("10.0.0.1", None, _scenario_key(0), now=T0)
    with pytest.raises(InvalidDid):
        create("example.com", "a/../b", _scenario_key(0), now=T0)
    with pytest.raises(InvalidValue):
        create("example.com", None, _scenario_key(0), services=[{"id": "x"}], now=T0)
    with pytest.raises(InvalidValue):
        create("example.com", None, _scenario_key(0), now=datetime(2025, 1, 1))
    with pytest.raises(InvalidValue):
        create(
            "example.com",
            None,
            _scenario_key(0),
            services=[{"id": "#a", "type": "T", "serviceEndpoint": "https://{SCID}.example"}],
            now=T0,
        )


def test_create_with_port_and_ttl() -> None:
    did, first = create("example.com", ["a", "b"], _scenario_key(0), port=8443, ttl=60, now=T0)
    assert did.endswith(":example.com%3A8443:a:b")
    result = resolve_log([first], did, now=T0)
    assert result.document_metadata["ttl"] == "60"
    files = result.did_document["service"][0]
    assert files["serviceEndpoint"] == "https://example.com:8443/a/b/"


def test_update_refuses_time_that_does_not_advance() -> None:
    _, first = create("example.com", None, _scenario_key(0), now=T0)
    with pytest.raises(InvalidValue, match="later than"):
        update([first], _scenario_key(0), now=T0)


def test_non_portable_did_cannot_move() -> None:
    _, first = create("example.com", None, _scenario_key(0), now=T0)
    with pytest.raises(InvalidValue, match="not portable"):
        update([first], _scenario_key(0), domain="example.org", now=T0 + timedelta(days=1))


# --- witnesses -----------------------------------------------------------------------------------


def test_witness_threshold_round_trip() -> None:
    controller, w1, w2, w3 = _key(31), _key(32), _key(33), _key(34)
    ids = [{"id": "did:key:" + multikey_from_public_key(w.public_key)} for w in (w1, w2, w3)]
    did, first = create(
        "example.com", None, controller, witness={"threshold": 2, "witnesses": ids}, now=T0
    )
    vid = first["versionId"]
    file = [{"versionId": vid, "proof": [witness_proof(vid, w1, now=T0)]}]
    with pytest.raises(WebvhWitnessInsufficient):
        resolve_log([first], did, now=T0, witness=file)
    # The same witness twice still counts once.
    file[0]["proof"].append(witness_proof(vid, w1, now=T0 + timedelta(seconds=1)))
    with pytest.raises(WebvhWitnessInsufficient):
        resolve_log([first], did, now=T0, witness=file)
    # A proof from a key that is not a listed witness does not count.
    file[0]["proof"].append(witness_proof(vid, _key(35), now=T0))
    with pytest.raises(WebvhWitnessInsufficient):
        resolve_log([first], did, now=T0, witness=file)
    file[0]["proof"].append(witness_proof(vid, w3, now=T0))
    ok = resolve_log([first], did, now=T0, witness=json.dumps(file))
    assert ok.document_metadata["witness"]["threshold"] == 2
    # A later entry's proofs approve the earlier ones too.
    second = update([first], controller, now=T0 + timedelta(days=1))
    vid2 = second["versionId"]
    later = [{"versionId": vid2, "proof": [witness_proof(vid2, w, now=T0) for w in (w2, w3)]}]
    assert (
        resolve_log([first, second], did, now=LATER, witness=later).document_metadata[
            "versionNumber"
        ]
        == 2
    )


# --- the resolver factory ------------------------------------------------------------------------


def test_resolver_factory_options_and_errors() -> None:
    lines = _vector_lines("multi-update")
    did = _did_of(lines)
    calls: list[str] = []

    def lookup(asked: str) -> list[str] | None:
        calls.append(asked)
        return lines if asked == did else None

    resolver = Resolver()
    resolver.register("webvh", make_webvh_resolver(lookup, lambda: LATER))
    assert resolver.resolve(did).document_metadata["versionNumber"] == 3
    second = resolver.resolve(did, {"versionTime": "2000-01-02T12:00:00+00:00"})
    assert second.document_metadata["versionNumber"] == 2
    assert resolver.resolve(did, {"versionTime": "1999-01-01T00:00:00Z"}).error == "notFound"
    assert resolver.resolve(did, {"versionNumber": "9"}).error == "notFound"
    assert resolver.resolve(did, {"versionId": "1-Qmnope"}).error == "notFound"
    mixed = resolver.resolve(
        did, {"versionNumber": "1", "versionId": second.document_metadata["versionId"]}
    )
    assert mixed.error == "notFound"
    for bad in ({"versionNumber": "0"}, {"versionNumber": "x"}, {"versionTime": "noon"}):
        assert resolver.resolve(did, bad).error == "invalidOptions"
    assert resolver.resolve(did.replace("example.com", "example.net")).error == "notFound"
    assert resolver.resolve("did:webvh:abc:example.com").error == "invalidDid"
    assert resolver.resolve(f"{did}:a:..").error == "invalidDid"
    assert calls[:7] == [did] * 6 + [did.replace("example.com", "example.net")]
    assert (
        resolver.resolve_verification_method(
            json.loads(lines[0])["state"]["authentication"][0], relationship="authentication"
        )
        is not None
    )


# --- key_valid_at --------------------------------------------------------------------------------


def test_key_valid_at() -> None:
    k0, k1 = _key(41), _key(42)
    did, first = create("example.com", None, k0, now=T0)
    second = update([first], k0, keys=[k1.public_key], now=T0 + timedelta(days=10))
    third = deactivate([first, second], k0, now=T0 + timedelta(days=20))
    text = _text([first, second, *third])
    old = f"{did}#{multikey_from_public_key(k0.public_key)}"
    new = f"{did}#{multikey_from_public_key(k1.public_key)}"
    day = timedelta(days=1)
    assert key_valid_at(text, old, T0 + day) == k0.public_key
    assert key_valid_at(text, old, T0 + day, relationship="assertionMethod") == k0.public_key
    assert key_valid_at(text, new, T0 + 11 * day) == k1.public_key
    with pytest.raises(KeyNotValidAt) as rotated:
        key_valid_at(text, old, T0 + 11 * day)
    assert rotated.value.reason == "rotated_out"
    with pytest.raises(KeyNotValidAt) as early:
        key_valid_at(text, new, T0 + day)
    assert early.value.reason == "not_yet_present"
    with pytest.raises(KeyNotValidAt) as before:
        key_valid_at(text, old, T0 - day)
    assert before.value.reason == "not_yet_present"
    with pytest.raises(DidDeactivated):
        key_valid_at(text, new, T0 + 21 * day)
    with pytest.raises(DidNotFound):
        key_valid_at(text, f"{did}#nope", T0 + day)
    with pytest.raises(DidNotFound):
        key_valid_at(text, old, T0 + day, relationship="keyAgreement")
    # With now given, the whole log up to now must verify.
    assert key_valid_at(text, old, T0 + day, now=LATER) == k0.public_key


def test_key_valid_at_ignores_a_broken_entry_after_the_time_asked() -> None:
    k0 = _key(51)
    did, first = create("example.com", None, k0, now=T0)
    bogus = _forge(first, _key(52), when=T0 + timedelta(days=5))
    lines = [entry_line(first), entry_line(bogus)]
    old = f"{did}#{multikey_from_public_key(k0.public_key)}"
    assert key_valid_at(lines, old, T0 + timedelta(days=1), now=LATER) == k0.public_key
    with pytest.raises(WebvhUnauthorizedKey):
        key_valid_at(lines, old, T0 + timedelta(days=6), now=LATER)


# --- DID syntax ----------------------------------------------------------------------------------

SCID = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"


@pytest.mark.parametrize(
    ("did", "url"),
    [
        (f"did:webvh:{SCID}:example.com", "https://example.com/"),
        (f"did:webvh:{SCID}:issuer.example.com", "https://issuer.example.com/"),
        (f"did:webvh:{SCID}:example.com:dids:issuer", "https://example.com/dids/issuer/"),
        (
            f"did:webvh:{SCID}:example.com%3A3000:dids:issuer",
            "https://example.com:3000/dids/issuer/",
        ),
        (
            f"did:webvh:{SCID}:xn--jp-cd2fp15c.xn--fsq.jp:%E7%94%A8",
            "https://xn--jp-cd2fp15c.xn--fsq.jp/%E7%94%A8/",
        ),
    ],
)
def test_did_to_https(did: str, url: str) -> None:
    assert parse_webvh_did(did).base_url == url
    assert str(parse_webvh_did(did)) == did


@pytest.mark.parametrize(
    "did",
    [
        "did:web:example.com",
        f"did:webvh:{SCID}",
        "did:webvh:Qm123:example.com",
        f"did:webvh:{SCID[:-1]}0:example.com",  # '0' is not base58
        f"did:webvh:{SCID}:localhost",
        f"did:webvh:{SCID}:Example.com",
        f"did:webvh:{SCID}:192.168.0.1",
        f"did:webvh:{SCID}:-bad.example.com",
        f"did:webvh:{SCID}:example.com%3A0",
        f"did:webvh:{SCID}:example.com%3A8",
        f"did:webvh:{SCID}:example.com%3A70000",
        f"did:webvh:{SCID}:example.com%3a3000",
        f"did:webvh:{SCID}:exa%6Dple.com",
        f"did:webvh:{SCID}:example.com:..",
        f"did:webvh:{SCID}:example.com:%2E%2E",
        f"did:webvh:{SCID}:example.com:a%2Fb",
        f"did:webvh:{SCID}:example.com:%FF",
        f"did:webvh:{SCID}:example.com::x",
    ],
)
def test_invalid_dids(did: str) -> None:
    with pytest.raises(InvalidDid):
        parse_webvh_did(did)
