"""The OpenAPI 3.1 document, built from one list of operations.

Each endpoint appears once in ``OPERATIONS`` with its roles, schemas and a request example that
succeeds against a freshly started node (``tests/api/test_openapi.py`` runs every example and
checks that every Flask route is listed). A new endpoint is added here in the same change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api import schemas
from identity import did_webvh
from identity.keys import KeyType, PrivateKey
from node.mirror import MirrorConfig, mirror_id, sync
from registry.entries import EntryType, sign_entry

if TYPE_CHECKING:
    from flask import Flask

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
    request_media_type: str = "application/json"
    # For requests that only make sense with the node's own state (a signature by its key, its
    # DID): prepares the node and returns {"path": {...}, "body": ...} overriding the static
    # example. The test runs it against a fresh node; the document shows the static example.
    live_example: Callable[[Flask], dict[str, Any]] | None = None

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



def _signed_entry_example(app: Flask) -> dict[str, Any]:
    node = app.extensions["kyc"]
    did = node.institution.did
    entry = sign_entry(
        log=node.registry.origin, entry_type=EntryType.STATUS_PUBLISH,
        subject="https://broker.example/status/1", prev=None, time=node.now(),
        nonce=bytes(16), payload={"list_uri": "https://broker.example/status/1", "version": 1,
                                  "token_sha256": "0" * 64, "purpose": "revocation"},
        writer=did, keys=[node.keyring.private_key("registry-writer")],
    )
    return {"body": entry.to_json()}


def _witness_own_log(app: Flask) -> dict[str, Any]:
    node = app.extensions["kyc"]
    with node.store.transaction():
        node.store.add_witnessed_log(node.registry.origin, node.registry.log_vkey, node.now())
    _size, _note, body = node.registry.request_for(0)
    return {"body": body}


_HASH_EXAMPLE = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
_TEXT = "text/plain; charset=utf-8"

OPERATIONS += [
    Operation(
        "GET", "/registry/checkpoint", "The latest checkpoint (C2SP signed note, cosigned)",
        "registry", {200: Response("Signed checkpoint note", None, _TEXT)}, 200,
    ),
    Operation(
        "GET", "/registry/tile/{tile}",
        "C2SP tlog-tiles: a Merkle tile <L>/<N>[.p/<W>] or an entry bundle entries/<N>[.p/<W>]",
        "registry",
        {200: Response("Tile bytes", None, "application/octet-stream"),
         400: Response("Malformed tile path", schemas.ERROR),
         404: Response("Beyond the tree", schemas.ERROR)}, 200,
        path_parameters={"tile": ({"type": "string", "maxLength": 64}, "0/000.p/1")},
    ),
    Operation(
        "GET", "/registry/entries/{index}", "One entry, with its leaf hash", "registry",
        {200: Response("Entry", schemas.REGISTRY_ENTRY_VIEW),
         404: Response("No such entry", schemas.ERROR)}, 200,
        path_parameters={"index": ({"type": "integer", "minimum": 0}, "0")},
    ),
    Operation(
        "POST", "/registry/entries",
        "Append a signed entry (an authorised writer's; governance entries need the quorum)",
        "registry",
        {201: Response("Integrated, in a signed checkpoint", schemas.REGISTRY_APPENDED),
         400: Response("Malformed entry", schemas.ERROR),
         403: Response("Writer not authorised", schemas.ERROR),
         409: Response("Subject chain conflict or replay", schemas.ERROR)}, 201,
        request_schema=schemas.REGISTRY_ENTRY,
        request_example={
            "v": 1, "log": "broker.example/registry", "type": "status.publish",
            "subject": "https://broker.example/status/1", "prev": None,
            "time": "2026-11-24T12:00:00Z", "nonce": "AAAAAAAAAAAAAAAAAAAAAA",
            "payload": {"list_uri": "https://broker.example/status/1", "version": 1,
                        "token_sha256": "0" * 64, "purpose": "revocation"},
            "writer": EXAMPLE_DID,
            "sigs": [{"kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "sig": "A" * 86}],
        },
        live_example=_signed_entry_example,
    ),
    Operation(
        "GET", "/registry/proof/inclusion", "RFC 9162 inclusion proof", "registry",
        {200: Response("Proof", schemas.INCLUSION_PROOF),
         400: Response("Bad index or size", schemas.ERROR)}, 200,
        query_parameters={
            "index": ({"type": "integer", "minimum": 0}, "0", True),
            "size": ({"type": "integer", "minimum": 1}, "1", False),
        },
    ),
    Operation(
        "GET", "/registry/proof/consistency", "RFC 9162 consistency proof", "registry",
        {200: Response("Proof", schemas.CONSISTENCY_PROOF),
         400: Response("Bad sizes", schemas.ERROR)}, 200,
        query_parameters={
            "old": ({"type": "integer", "minimum": 1}, "1", True),
            "new": ({"type": "integer", "minimum": 1}, "1", True),
        },
    ),
    Operation(
        "GET", "/registry/subjects/{subject}", "A subject's hash chain of entries", "registry",
        {200: Response("Chain", schemas.SUBJECT_CHAIN),
         404: Response("Unknown subject", schemas.ERROR)}, 200,
        path_parameters={"subject": ({"type": "string", "maxLength": 2048}, EXAMPLE_DID)},
        live_example=lambda app: {"path": {"subject": app.extensions["kyc"].institution.did}},
    ),
    Operation(
        "GET", "/registry/policy", "The log's origin, keys, governance policy and witnesses",
        "registry", {200: Response("Policy", schemas.REGISTRY_POLICY)}, 200,
    ),
    Operation(
        "POST", "/witness/add-checkpoint",
        "C2SP tlog-witness add-checkpoint: cosign a consistent checkpoint of a witnessed log",
        "witness",
        {200: Response("Cosignature lines", None, _TEXT),
         400: Response("Malformed request", schemas.ERROR),
         403: Response("Not signed by the log's key", schemas.ERROR),
         404: Response("Unknown log", schemas.ERROR),
         409: Response("Old size mismatch: body is the last cosigned size", None,
                       "text/x.tlog.size"),
         422: Response("Inconsistent checkpoint", schemas.ERROR)}, 200,
        request_schema={"type": "string"}, request_media_type="text/plain",
        request_example="old 0\n\nbroker.example/registry\n1\n" + _HASH_EXAMPLE + "\n\n",
        live_example=_witness_own_log,
    ),
]


def _client_did_log(app: Flask) -> dict[str, Any]:
    """A wallet's did:webvh log: its own update key, keys and services only."""
    node = app.extensions["kyc"]
    key = PrivateKey.generate(KeyType.ED25519)
    did, genesis = did_webvh.create("wallet.example", None, key, now=node.clock())
    return {"body": {"did": did, "did_log": did_webvh.entry_line(genesis) + "\n"}}


_JSONL = "text/jsonl; charset=utf-8"

OPERATIONS += [
    Operation(
        "GET", "/.well-known/did.jsonl", "The institution's did:webvh log (did.jsonl)", "dids",
        {200: Response("did.jsonl", None, _JSONL)}, 200,
    ),
    Operation(
        "GET", "/registry/dids/{did}", "A DID's did:webvh log as anchored in the registry",
        "dids",
        {200: Response("did.jsonl", None, _JSONL),
         404: Response("Not anchored here", schemas.ERROR)}, 200,
        path_parameters={"did": ({"type": "string", "maxLength": 2048},
                                 "did:webvh:QmExample:wallet.example")},
        live_example=lambda app: {"path": {"did": app.extensions["kyc"].institution.did}},
    ),
    Operation(
        "POST", "/registry/dids",
        "Anchor a client's did:webvh log (new entries only; history cannot be rewritten)", "dids",
        {201: Response("Anchored", schemas.DID_ANCHORED), **_ERRORS,
         409: Response("Does not extend the anchored history", schemas.ERROR),
         422: Response("The log does not verify", schemas.ERROR)}, 201,
        roles=("broker",), request_schema=schemas.DID_ANCHOR,
        request_example={"did": "did:webvh:QmExample:wallet.example",
                         "did_log": '{"versionId": "1-Qm...", "...": "..."}\n'},
        live_example=_client_did_log,
    ),
]


def _mirror_own_log(app: Flask) -> dict[str, Any]:
    """Mirror the node's own log through its own read API (the test client as transport)."""
    node = app.extensions["kyc"]
    client = app.test_client()
    base = node.config.public_url
    config = MirrorConfig(base, node.registry.log_vkey, node.registry.policy)
    sync(config, node.config.data_dir, now=node.unix_now, now_text=node.now,
         get=lambda url: client.get(url[len(base):]).data)
    return {"path": {"mirror": mirror_id(node.registry.origin),
                     "subject": node.institution.did}}


_MIRROR = {"mirror": ({"type": "string", "maxLength": 120}, "broker.example_registry-0123456789ab")}
_MIRROR_LIST: dict[str, Any] = {
    "type": "object", "required": ["mirrors"],
    "properties": {"mirrors": {"type": "array", "items": {
        "type": "object", "required": ["id", "origin", "source_url", "size"]}}},
}

OPERATIONS.append(Operation(
    "GET", "/mirrors", "Verified mirrors of other logs kept by this node", "mirrors",
    {200: Response("Mirrors", _MIRROR_LIST)}, 200,
))
# Every read of the registry API, over a verified mirror (same answers as the source's).
for _op in [op for op in OPERATIONS if op.tag == "registry" and op.method == "GET"
            and op.path != "/registry/policy"]:
    OPERATIONS.append(Operation(
        "GET", "/mirrors/{mirror}" + _op.path, _op.summary + " (from a verified mirror)",
        "mirrors", {**_op.responses, 404: Response("Unknown mirror or item", schemas.ERROR)},
        _op.example_status, path_parameters={**_MIRROR, **_op.path_parameters},
        query_parameters=_op.query_parameters, live_example=_mirror_own_log,
    ))


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
