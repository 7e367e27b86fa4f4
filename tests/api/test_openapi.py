"""The OpenAPI document is valid, lists every route, and every request example works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from api.openapi import OPERATIONS, Operation
from app import create_app


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_document_is_valid_openapi_3_1(client) -> None:
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented_and_nothing_else(app) -> None:
    routes = {
        (method, _openapi_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(op.method, op.path) for op in OPERATIONS}
    assert routes == documented


def test_documented_roles_match_the_views(app) -> None:
    for op in OPERATIONS:
        adapter = app.url_map.bind("localhost")
        path = op.path
        for name, (_, example) in op.path_parameters.items():
            path = path.replace("{" + name + "}", example)
        endpoint, _ = adapter.match(path, method=op.method)
        required = getattr(app.view_functions[endpoint], "required_roles", frozenset())
        assert set(op.roles) == set(required), op.path


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_example_succeeds_on_a_fresh_node(tmp_path: Path, op: Operation) -> None:
    app = create_app({"data_dir": tmp_path / "fresh", "public_url": "http://127.0.0.1:5999"})
    try:
        headers = {}
        if op.roles:
            result = app.test_cli_runner().invoke(
                args=["apikey", "create", "--role", op.roles[0], "--name", "openapi example"]
            )
            headers["Authorization"] = "Bearer " + result.output.strip().splitlines()[-1]
        live = op.live_example(app) if op.live_example else {}
        headers.update(live.get("headers", {}))  # e.g. an OAuth access token the example made
        path = op.path
        for name, (_, example) in op.path_parameters.items():
            path = path.replace("{" + name + "}", live.get("path", {}).get(name, example))
        query = {name: example for name, (_, example, _) in op.query_parameters.items()}
        kwargs = {}
        if op.request_schema is not None:
            body = live.get("body", op.request_example)
            if op.request_media_type == "application/json":
                kwargs["json"] = body
            else:
                kwargs["data"] = body
                kwargs["content_type"] = op.request_media_type
        response = app.test_client().open(
            path, method=op.method, headers=headers, query_string=query, **kwargs
        )
        assert response.status_code == op.example_status, response.get_data(as_text=True)
        schema = op.responses[op.example_status].schema
        if schema is not None:
            Draft202012Validator(schema).validate(response.get_json(force=True))
        if op.request_schema is not None:
            Draft202012Validator(op.request_schema).validate(op.request_example)
            if "body" in live and op.request_media_type == "application/json":
                Draft202012Validator(op.request_schema).validate(live["body"])
    finally:
        app.extensions["kyc"].close()
