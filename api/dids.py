"""DID resolution at the DIF Universal Resolver path: ``GET /1.0/identifiers/<did>``.

The answer is a DID resolution result (``didDocument``, ``didDocumentMetadata``,
``didResolutionMetadata``). With ``Accept: application/did+ld+json`` (or ``application/did+json``)
only the DID document is returned. Errors keep the resolution-result shape, with the spec's error
code in ``didResolutionMetadata.error`` and, as everywhere in this API, in ``error``/``message``.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

import errors
from api import schemas
from api.auth import Role, current_key, require_role
from api.context import node
from api.inputs import json_body, raw_path_tail
from identity.did import parse_did
from node.dids import anchor_did_log, did_log_lines, lookup_did_log
from storage import AuditEvent

__all__ = ["RESOLUTION_STATUS", "blueprint"]

blueprint = Blueprint("dids", __name__)

RESULT_MEDIA_TYPE = 'application/ld+json;profile="https://w3id.org/did-resolution"'
DOCUMENT_MEDIA_TYPES = ("application/did+ld+json", "application/did+json")

# DIF Universal Resolver / DID Resolution HTTP(S) binding statuses.
RESOLUTION_STATUS: dict[str, int] = {
    "invalidDid": 400,
    "invalidDidUrl": 400,
    "invalidPublicKey": 400,
    "invalidPublicKeyLength": 400,
    "invalidPublicKeyType": 400,
    "unsupportedPublicKeyType": 400,
    "invalidOptions": 400,
    "notFound": 404,
    "representationNotSupported": 406,
    "deactivated": 410,
    "methodNotSupported": 501,
}


@blueprint.get("/1.0/identifiers/<path:did>")
def resolve(did: str) -> Response:
    options = {key: value for key, value in request.args.items()}
    result = node().resolver.resolve(raw_path_tail(did), options)
    body = result.to_dict()
    error = result.resolution_metadata.get("error")
    if error:
        body["error"] = error
        body["message"] = result.resolution_metadata.get("errorMessage", error)
        response = jsonify(body)
        response.status_code = RESOLUTION_STATUS.get(error, 400)
        return response
    wanted = request.accept_mimetypes.best_match(
        [RESULT_MEDIA_TYPE, "application/ld+json", "application/json", *DOCUMENT_MEDIA_TYPES],
        default=RESULT_MEDIA_TYPE,
    )
    if wanted in DOCUMENT_MEDIA_TYPES:
        response = jsonify(result.did_document)
        response.mimetype = wanted
        return response
    response = jsonify(body)
    response.headers["Content-Type"] = RESULT_MEDIA_TYPE
    return response


# --- did:webvh logs ------------------------------------------------------------------------------

JSONL = "text/jsonl; charset=utf-8"


def _jsonl(lines: list[str]) -> Response:
    response = Response("".join(line + "\n" for line in lines))
    response.headers["Content-Type"] = JSONL
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/.well-known/did.jsonl")
def institution_did_log() -> Response:
    """The institution's did.jsonl where did:webvh resolution looks for a domain-level DID."""
    here = node()
    return _jsonl(did_log_lines(here.registry.log, here.institution.did))


@blueprint.get("/registry/dids/<path:did>")
def anchored_did_log(did: str) -> Response:
    """A DID's log as anchored in this node's registry (or a verified mirror)."""
    did = raw_path_tail(did)
    parse_did(did)
    lines = lookup_did_log(node(), did)
    if not lines:
        raise errors.DidNotFound(f"no DID log for {did} in the registry")
    return _jsonl(lines)


@blueprint.post("/registry/dids")
@require_role(Role.BROKER)
def anchor_did() -> tuple[Response, int]:
    """Anchor a client's did:webvh log (signed by the client's update key) in the registry."""
    body = json_body(schemas.DID_ANCHOR)
    here = node()
    lines = [line for line in body["did_log"].splitlines() if line.strip()]
    if not lines:
        raise errors.InvalidValue("did_log has no entries", field="did_log")
    with here.store.transaction():
        indexes = anchor_did_log(here, body["did"], lines)
        here.store.record_event(AuditEvent(
            here.now(), current_key().name, "did.anchor", body["did"], {"indexes": indexes}
        ))
    return jsonify({"did": body["did"], "anchored": indexes,
                    "entries": len(lines)}), 201
