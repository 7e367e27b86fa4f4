"""KYC onboarding over HTTP: intake, decisions, reviews, re-screening, personal data at rest."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from credentials.jose import verify_compact
from node.dids import resolve_key
from node.events import Event

APPLICANT = {
    "given_names": "Ingrid Sofia", "family_names": "Lindqvist-Åberg", "birthdate": "1987-05-19",
    "nationality": "SE", "residence_country": "SE",
    "address": {"street": "Kungsgatan 12", "city": "Uppsala", "postal_code": "753 21",
                "country": "SE"},
    "document": {"type": "passport", "number": "QX7718204", "issuing_country": "SE",
                 "expiry_date": "2034-02-11"},
    "holder_did": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00Z"},
}
PERSONAL = ["Ingrid", "Lindqvist", "Lindqvist-\u00c5berg", "1987-05-19", "QX7718204",
            "Kungsgatan", "Uppsala"]


def _raw_database(app: Flask) -> bytes:
    data_dir = app.extensions["kyc"].config.data_dir
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("kyc.sqlite3*")))


def _submit(client: FlaskClient, headers: dict, body: dict | None = None, **extra):
    return client.post("/kyc/applications", json=body or APPLICANT,
                       headers={**headers, **extra})


def test_onboarding_approves_and_keeps_no_personal_data_in_clear(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    broker = auth("broker")
    response = _submit(client, broker)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "approved"
    assert body["kyc_level"] == 1  # no MRZ given: basic identity, screened clean
    assert {c["name"]: c["outcome"] for c in body["decision"]["checks"]}["screening"] == "pass"

    view = client.get(f"/kyc/applications/{body['id']}", headers=broker).json
    assert view["applicant"]["family_names"] == "Lindqvist-\u00c5berg"
    assert view["credentials"] == []

    raw = _raw_database(app)
    for value in PERSONAL:
        assert value.encode() not in raw, value
        assert value.encode("utf-16-le") not in raw, value
    # ... nor in the audit trail's records
    audit = app.extensions["kyc"].store.events_for(body["id"])
    assert [e.action for e in audit] == ["kyc.submitted"]
    assert not any(v in json.dumps(e.detail) for e in audit for v in PERSONAL)


def test_erasure_restricts_during_retention_then_crypto_shreds(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    node = app.extensions["kyc"]
    broker = auth("broker")
    application_id = _submit(client, broker).json["id"]
    wrapped = node.store.get_data_key(application_id)

    restricted = client.post(f"/kyc/applications/{application_id}/erasure-request",
                             headers=broker)
    assert restricted.status_code == 200 and restricted.json["action"] == "restricted"
    assert client.get(f"/kyc/applications/{application_id}",
                      headers=broker).json["restricted"] is True

    client.post(f"/kyc/applications/{application_id}/end-relationship", headers=broker)
    real_clock = node.clock
    node.clock = lambda: real_clock() + timedelta(days=6 * 365)
    erased = client.post(f"/kyc/applications/{application_id}/erasure-request", headers=broker)
    node.clock = real_clock
    assert erased.status_code == 200 and erased.json["action"] == "erased"

    receipt = erased.json["receipt"]
    header = json.loads(base64.urlsafe_b64decode(receipt.split(".")[0] + "=="))
    key = resolve_key(node, header["kid"], real_clock())
    _, claims = verify_compact(receipt, key, expected_typ="erasure-receipt+jwt")
    assert claims["application_id"] == application_id
    assert claims["method"] == "crypto-shredding"

    view = client.get(f"/kyc/applications/{application_id}", headers=broker).json
    assert view["erased"] is True and "applicant" not in view
    assert node.store.get_data_key(application_id) is None
    raw = _raw_database(app)
    assert wrapped not in raw  # no copy of the wrapped data key survives in the file
    for value in PERSONAL:
        assert value.encode() not in raw


@pytest.mark.parametrize(
    ("case", "change", "field"),
    [
        ("wrong type", lambda b: b.update(birthdate=19870519), "birthdate"),
        ("huge string", lambda b: b.update(given_names="A" * 100_000), "given_names"),
        ("invalid date", lambda b: b.update(birthdate="1987-02-30"), "birthdate"),
        ("future birthdate", lambda b: b.update(birthdate="2999-01-01"), "birthdate"),
        ("unknown country", lambda b: b.update(nationality="XX"), "nationality"),
        ("mass assignment", lambda b: b.update(status="approved"), "status"),
        ("mass assignment nested", lambda b: b["document"].update(verified=True),
         "document.verified"),
        ("kyc level", lambda b: b.update(kyc_level=3), "kyc_level"),
        ("bad DID", lambda b: b.update(holder_did="did:evil"), "holder_did"),
        ("zero-width name", lambda b: b.update(family_names="Lind\u200bqvist"), "family_names"),
        ("missing consent", lambda b: b.pop("consent"), "consent"),
        ("malformed MRZ", lambda b: b["document"].update(mrz=["P<SWE<<", "X" * 44]),
         "document.mrz"),
    ],
)
def test_hostile_intake_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]], case: str,
    change, field: str
) -> None:
    broker = auth("broker")
    store = app.extensions["kyc"].store
    before = store.row_counts()
    body = copy.deepcopy(APPLICANT)
    change(body)
    response = _submit(client, broker, body)
    assert 400 <= response.status_code < 500, response.json
    assert response.json["error"] and response.json["message"]
    where = response.json.get("field") or response.json["message"]
    assert field.split(".", maxsplit=1)[0] in where
    assert store.row_counts() == before


def test_brokers_see_only_their_own_applications(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    first, second, officer = auth("broker"), auth("broker"), auth("officer")
    application_id = _submit(client, first).json["id"]
    store = app.extensions["kyc"].store
    before = store.row_counts()
    for method, path in [("GET", ""), ("POST", "/end-relationship"),
                         ("POST", "/erasure-request")]:
        response = client.open(f"/kyc/applications/{application_id}{path}", method=method,
                               headers=second)
        assert response.status_code == 404, path
    assert store.row_counts() == before
    assert client.get(f"/kyc/applications/{application_id}", headers=officer).status_code == 200
    assert client.get(f"/kyc/applications/{application_id}",
                      headers=auth("verifier")).status_code == 403
    assert client.get("/kyc/applications/app_nope", headers=first).status_code == 404


def test_idempotency_key_makes_retries_safe(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    broker = auth("broker")
    first = _submit(client, broker, **{"Idempotency-Key": "req-42"})
    again = _submit(client, broker, **{"Idempotency-Key": "req-42"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    other = copy.deepcopy(APPLICANT)
    other["given_names"] = "Ingrid"
    clash = _submit(client, broker, other, **{"Idempotency-Key": "req-42"})
    assert clash.status_code == 409 and clash.json["error"] == "idempotency_conflict"
    assert _submit(client, broker, **{"Idempotency-Key": "bad key!"}).status_code == 400
    assert app.extensions["kyc"].store.row_counts()["kyc_applications"] == 1


def test_review_queue_and_officer_resolution(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    broker, officer = auth("broker"), auth("officer")
    grey = copy.deepcopy(APPLICANT)
    grey["residence_country"] = "BG"  # on FATF's increased-monitoring list
    grey["address"]["country"] = "BG"
    submitted = _submit(client, broker, grey).json
    assert submitted["status"] == "manual_review"
    queue = client.get("/kyc/reviews", headers=officer).json["applications"]
    assert [a["id"] for a in queue] == [submitted["id"]]
    assert client.get("/kyc/reviews", headers=broker).status_code == 403

    resolved = client.post(f"/kyc/applications/{submitted['id']}/resolve", headers=officer,
                           json={"decision": "approve", "reason": "documented source of funds"})
    assert resolved.status_code == 200 and resolved.json["status"] == "approved"
    assert client.get("/kyc/reviews", headers=officer).json["applications"] == []
    twice = client.post(f"/kyc/applications/{submitted['id']}/resolve", headers=officer,
                        json={"decision": "reject", "reason": "changed my mind"})
    assert twice.status_code == 409
    actions = [e.action for e in app.extensions["kyc"].store.events_for(submitted["id"])]
    assert actions == ["kyc.submitted", "kyc.approved"]


def test_rescreening_suspends_a_client_who_is_now_listed(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner,
    auth: Callable[[str], dict[str, str]], tmp_path: Path,
) -> None:
    node = app.extensions["kyc"]
    suspended: list[str] = []
    def record(application_id: str) -> None:
        suspended.append(application_id)

    node.events.subscribe(Event.CLIENT_SUSPENDED, record)
    broker = auth("broker")
    application_id = _submit(client, broker).json["id"]

    listing = tmp_path / "targets.simple.csv"
    listing.write_text(
        '"id","schema","name","aliases","birth_date","countries","sanctions","dataset"\n'
        '"t-1","Person","Ingrid Sofia Lindqvist Aberg","","1987-05-19","se",'
        '"Synthetic regime","Synthetic list"\n', encoding="utf-8")
    result = runner.invoke(args=["kyc", "import-watchlist", str(listing), "--format",
                                 "opensanctions", "--version", "2026-11-24"])
    assert result.exit_code == 0, result.output
    assert "1 client(s) suspended" in result.output
    assert suspended == [application_id]
    view = client.get(f"/kyc/applications/{application_id}", headers=broker).json
    assert view["status"] == "suspended"
    assert view["decision"]["matches"] == ["t-1"]
    assert node.store.verify_audit_chain()[1] is None


def test_screening_hit_at_intake_is_rejected_and_a_namesake_is_not(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner,
    auth: Callable[[str], dict[str, str]], tmp_path: Path,
) -> None:
    listing = tmp_path / "targets.simple.csv"
    listing.write_text(
        '"id","schema","name","aliases","birth_date","countries","sanctions","dataset"\n'
        '"t-9","Person","\u0418\u043d\u0433\u0440\u0438\u0434 \u041b\u0438\u043d'
        '\u0434\u043a\u0432\u0438\u0441\u0442","Ingrid Lindqvist Aberg","1987-05-19",'
        '"se","Synthetic regime","Synthetic list"\n', encoding="utf-8")
    result = runner.invoke(args=["kyc", "import-watchlist", str(listing), "--format",
                                 "opensanctions", "--version", "v1"])
    assert result.exit_code == 0, result.output
    broker = auth("broker")
    hit = _submit(client, broker).json
    assert hit["status"] == "rejected"
    checks = {c["name"]: c for c in hit["decision"]["checks"]}
    assert checks["screening"]["outcome"] == "fail"

    namesake = copy.deepcopy(APPLICANT)
    namesake["birthdate"] = "1962-01-30"
    namesake["nationality"] = "NO"
    namesake["residence_country"] = "NO"
    namesake["address"]["country"] = "NO"
    namesake["document"]["issuing_country"] = "NO"
    outcome = _submit(client, broker, namesake).json
    assert outcome["status"] != "rejected"  # same name, other person: review at most
