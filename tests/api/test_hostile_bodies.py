"""Malformed and hostile requests get a 4xx JSON error and change no state."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

GOOD = b'{"name": "desk", "role": "broker"}'

HOSTILE: list[tuple[str, bytes, str, int, str]] = [
    # (case, body, content type, status, error code)
    ("not json", b"{name: desk}", "application/json", 400, "malformed_json"),
    ("truncated", b'{"name": "desk"', "application/json", 400, "malformed_json"),
    ("empty", b"", "application/json", 400, "malformed_json"),
    (
        "invalid utf-8",
        b'{"name": "\xff\xfe", "role": "broker"}',
        "application/json",
        400,
        "malformed_json",
    ),
    (
        "lone surrogate",
        b'{"name": "\\ud800", "role": "broker"}',
        "application/json",
        400,
        "malformed_json",
    ),
    (
        "duplicate member",
        b'{"name": "a", "name": "b", "role": "broker"}',
        "application/json",
        400,
        "malformed_json",
    ),
    ("NaN", b'{"name": NaN, "role": "broker"}', "application/json", 400, "malformed_json"),
    ("array", b'["name", "role"]', "application/json", 400, "wrong_type"),
    ("null", b"null", "application/json", 400, "wrong_type"),
    ("wrong type", b'{"name": 5, "role": "broker"}', "application/json", 400, "wrong_type"),
    (
        "unknown field",
        b'{"name": "d", "role": "broker", "admin": true}',
        "application/json",
        400,
        "unknown_field",
    ),
    ("missing field", b'{"name": "d"}', "application/json", 400, "missing_field"),
    ("bad enum", b'{"name": "d", "role": "root"}', "application/json", 400, "invalid_value"),
    ("empty name", b'{"name": "", "role": "broker"}', "application/json", 400, "invalid_value"),
    (
        "control chars",
        b'{"name": "a\\u0000b", "role": "broker"}',
        "application/json",
        400,
        "invalid_value",
    ),
    (
        "overlong name",
        b'{"name": "' + b"a" * 201 + b'", "role": "broker"}',
        "application/json",
        400,
        "invalid_value",
    ),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, "application/json", 400, "malformed_json"),
    (
        "moderately deep",
        b'{"name": ' + b"[" * 40 + b"]" * 40 + b', "role": "broker"}',
        "application/json",
        400,
        "malformed_json",
    ),
    (
        "form encoded",
        b"name=desk&role=broker",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
    ("no content type", GOOD, "", 415, "unsupported_media_type"),
    ("text plain", GOOD, "text/plain", 415, "unsupported_media_type"),
    (
        "oversized",
        b'{"name": "' + b"a" * 300_000 + b'", "role": "broker"}',
        "application/json",
        413,
        "body_too_large",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "ctype", "status", "code"), HOSTILE, ids=[h[0] for h in HOSTILE]
)
def test_hostile_body_is_refused_without_state_change(
    app: Flask,
    client: FlaskClient,
    auth: Callable[[str], dict[str, str]],
    case: str,
    body: bytes,
    ctype: str,
    status: int,
    code: str,
) -> None:
    headers = auth("admin")
    store = app.extensions["kyc"].store
    before = store.row_counts()
    if ctype:
        headers["Content-Type"] = ctype
    response = client.post("/admin/api-keys", data=body, headers=headers)
    assert response.status_code == status, response.json
    assert response.is_json
    assert response.json["error"] == code
    assert isinstance(response.json["message"], str) and response.json["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert store.row_counts() == before


def test_the_good_body_does_change_state(
    app: Flask, client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = {**auth("admin"), "Content-Type": "application/json"}
    store = app.extensions["kyc"].store
    before = store.row_counts()["api_keys"]
    assert client.post("/admin/api-keys", data=GOOD, headers=headers).status_code == 201
    assert store.row_counts()["api_keys"] == before + 1


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/route", 404),
        ("DELETE", "/health", 405),
        ("PUT", "/admin/api-keys", 405),
        ("POST", "/admin/api-keys/abc/revoke", 404),
        ("GET", "/" + "a" * 10_000, 404),
    ],
)
def test_routing_errors_are_json(client: FlaskClient, method: str, path: str, status: int) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert set(response.json) >= {"error", "message"}


def test_unexpected_exceptions_become_a_generic_500(app: Flask) -> None:
    app.config["TESTING"] = False  # let the handler answer instead of propagating

    @app.get("/boom")
    def boom() -> None:
        raise ValueError("secret internal detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.json == {"error": "internal_error", "message": "internal error"}
