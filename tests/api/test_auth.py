"""API keys: 401 without a valid key, 403 with the wrong role, keys stored hashed, revocation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

ROLES = ["admin", "broker", "officer", "verifier"]


def test_cli_prints_the_key_as_the_last_line(runner: FlaskCliRunner, app: Flask) -> None:
    result = runner.invoke(args=["apikey", "create", "--role", "broker", "--name", "desk"])
    assert result.exit_code == 0
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("kyc_") and len(key) == 47
    store = app.extensions["kyc"].store
    raw = b"".join(p.read_bytes() for p in store_files(app))
    assert key.encode() not in raw  # only the hash is kept
    [record] = store.list_api_keys()
    assert (record.role, record.name) == ("broker", "desk")


def store_files(app: Flask) -> list:
    data_dir = app.extensions["kyc"].config.data_dir
    return sorted(data_dir.glob("kyc.sqlite3*"))


def test_cli_refuses_an_unknown_role(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["apikey", "create", "--role", "root", "--name", "x"])
    assert result.exit_code != 0
    assert "root" in result.output


def test_missing_key_is_401(client: FlaskClient) -> None:
    response = client.get("/admin/api-keys")
    assert response.status_code == 401
    assert response.json["error"] == "missing_api_key"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic abc",
        "Bearer kyc_" + "A" * 43,
        "Bearer not-a-key",
        "bearer kyc_short",
        "Bearer " + "x" * 5000,
    ],
)
def test_invalid_keys_are_401(client: FlaskClient, header: str) -> None:
    response = client.get("/admin/api-keys", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"] in {"invalid_api_key", "missing_api_key"}


@pytest.mark.parametrize("role", ["broker", "officer", "verifier"])
def test_wrong_role_is_403(
    client: FlaskClient, auth: Callable[[str], dict[str, str]], role: str
) -> None:
    response = client.get("/admin/api-keys", headers=auth(role))
    assert response.status_code == 403
    assert response.json["error"] == "insufficient_role"


def test_right_role_passes_and_lists_without_secrets(
    client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    headers = auth("admin")
    response = client.get("/admin/api-keys", headers=headers)
    assert response.status_code == 200
    [listed] = response.json["api_keys"]
    assert listed["role"] == "admin"
    assert "key" not in listed and "key_hash" not in listed


def test_created_key_works_and_revoked_key_stops_working(
    client: FlaskClient, auth: Callable[[str], dict[str, str]]
) -> None:
    admin = auth("admin")
    created = client.post(
        "/admin/api-keys", json={"name": "bank desk", "role": "admin"}, headers=admin
    )
    assert created.status_code == 201
    new_headers = {"Authorization": f"Bearer {created.json['key']}"}
    assert client.get("/admin/api-keys", headers=new_headers).status_code == 200
    revoked = client.post(f"/admin/api-keys/{created.json['id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    after = client.get("/admin/api-keys", headers=new_headers)
    assert after.status_code == 401
    again = client.post(f"/admin/api-keys/{created.json['id']}/revoke", headers=admin)
    assert again.status_code == 404


def test_public_read_endpoints_need_no_key(client: FlaskClient) -> None:
    for path in [
        "/health",
        "/institution",
        "/openapi.json",
        "/1.0/identifiers/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    ]:
        assert client.get(path).status_code == 200, path
