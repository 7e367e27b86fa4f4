"""The OpenAPI 3.1 document, built from one list of operations.

Each endpoint appears once in ``OPERATIONS`` with its roles, schemas and a request example that
succeeds against a freshly started node (``tests/api/test_openapi.py`` runs every example and
checks that every Flask route is listed). A new endpoint is added here in the same change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api import schemas

__all__ = ["OPERATIONS", "Operation", "Response", "openapi_document"]


@dataclass(frozen=True, slots=True)
class Response:
    description: str
    schema: dict[str, Any] | None = None
    media_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    responses: dict[int, Response]
    example_status: int
    roles: tuple[str, ...] = ()
    request_schema: dict[str, Any] | None = None
    request_example: Any = None
    path_parameters: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    query_parameters: dict[str, tuple[dict[str, Any], str, bool]] = field(default_factory=dict)

    @property
    def operation_id(self) -> str:
        words = [w.strip("{}") for w in self.path.strip("/").replace(".", "_").split("/")]
        return self.method.lower() + "_" + "_".join(w.replace("-", "_") for w in words if w)


_ERRORS = {
    400: Response("Invalid input", schemas.ERROR),
    401: Response("Missing or invalid API key", schemas.ERROR),
    403: Response("The API key lacks the role", schemas.ERROR),
}

EXAMPLE_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

OPERATIONS: list[Operation] = [
    Operation(
        "GET",
        "/health",
        "Liveness and schema version",
        "system",
        {200: Response("The node is up", schemas.HEALTH)},
        200,
    ),
    Operation(
        "GET",
        "/institution",
        "The institution this node runs as, with its public keys",
        "system",
        {200: Response("Institution", schemas.INSTITUTION)},
        200,
    ),
    Operation(
        "GET",
        "/openapi.json",
        "This document",
        "system",
        {200: Response("OpenAPI 3.1 document", schemas.OPENAPI_DOCUMENT)},
        200,
    ),
    Operation(
        "GET",
        "/1.0/identifiers/{did}",
        "Resolve a DID (DIF Universal Resolver binding)",
        "dids",
        {
            200: Response(
                "DID resolution result (or the DID document alone when the Accept header asks "
                "for application/did+ld+json)",
                schemas.RESOLUTION_RESULT,
                'application/ld+json;profile="https://w3id.org/did-resolution"',
            ),
            400: Response("invalidDid and other input errors", schemas.RESOLUTION_RESULT),
            404: Response("notFound", schemas.RESOLUTION_RESULT),
            410: Response("deactivated", schemas.RESOLUTION_RESULT),
            501: Response("methodNotSupported", schemas.RESOLUTION_RESULT),
        },
        200,
        path_parameters={"did": ({"type": "string", "maxLength": 4096}, EXAMPLE_DID)},
    ),
    Operation(
        "POST",
        "/admin/api-keys",
        "Create an API key (the key is shown once)",
        "admin",
        {201: Response("Created", schemas.API_KEY_CREATED), **_ERRORS},
        201,
        roles=("admin",),
        request_schema=schemas.API_KEY_CREATE,
        request_example={"name": "front desk", "role": "broker"},
    ),
    Operation(
        "GET",
        "/admin/api-keys",
        "List API keys (never the keys themselves)",
        "admin",
        {200: Response("API keys", schemas.API_KEY_LIST), **_ERRORS},
        200,
        roles=("admin",),
    ),
    Operation(
        "POST",
        "/admin/api-keys/{key_id}/revoke",
        "Revoke an API key",
        "admin",
        {
            200: Response("Revoked", schemas.API_KEY_REVOKED),
            404: Response("No such key", schemas.ERROR),
            **_ERRORS,
        },
        200,
        roles=("admin",),
        path_parameters={"key_id": ({"type": "integer", "minimum": 1}, "1")},
    ),
]


def openapi_document(server_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "responses": {
                str(status): _response(response) for status, response in op.responses.items()
            },
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": schema, "example": example}
            for name, (schema, example) in op.path_parameters.items()
        ] + [
            {
                "name": name,
                "in": "query",
                "required": required,
                "schema": schema,
                "example": example,
            }
            for name, (schema, example, required) in op.query_parameters.items()
        ]
        if parameters:
            entry["parameters"] = parameters
        if op.roles:
            entry["security"] = [{"apiKey": []}]
            entry["x-roles"] = list(op.roles)
            entry["description"] = f"Requires an API key with role: {', '.join(op.roles)}."
        if op.request_schema is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": op.request_schema, "example": op.request_example}
                },
            }
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "KYC identity service",
            "version": "0.1.0",
            "description": "Broker onboarding, credential issuance, verification and the "
            'registry. Errors are {"error": code, "message": text}.',
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key"}
            }
        },
    }


def _response(response: Response) -> dict[str, Any]:
    body: dict[str, Any] = {"description": response.description}
    if response.schema is not None:
        body["content"] = {response.media_type: {"schema": response.schema}}
    return body
