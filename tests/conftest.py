"""Shared fixtures: a fresh node per test (its own data directory), its client and CLI runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from app import create_app

VECTORS = Path(__file__).parent / "vectors"


def vector(name: str) -> Any:
    """Load a published test vector file from tests/vectors/."""
    return json.loads((VECTORS / name).read_text())


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    application = create_app(
        {
            "data_dir": tmp_path / "node",
            "public_url": "http://127.0.0.1:5999",
            "institution_name": "Test Broker",
        }
    )
    application.config["TESTING"] = True
    yield application
    application.extensions["kyc"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def api_key(runner: FlaskCliRunner) -> Callable[[str], str]:
    """Create an API key with the given role through the real CLI command; return the key."""

    def make(role: str, name: str = "test") -> str:
        result = runner.invoke(args=["apikey", "create", "--role", role, "--name", name])
        assert result.exit_code == 0, result.output
        return result.output.strip().splitlines()[-1]

    return make


@pytest.fixture
def auth(api_key: Callable[[str], str]) -> Callable[[str], dict[str, str]]:
    """Authorization headers for a fresh key with the given role."""

    def headers(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key(role)}"}

    return headers
