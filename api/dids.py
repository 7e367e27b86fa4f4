"""DID resolution at the DIF Universal Resolver path: ``GET /1.0/identifiers/<did>``.

The answer is a DID resolution result (``didDocument``, ``didDocumentMetadata``,
``didResolutionMetadata``). With ``Accept: application/did+ld+json`` (or ``application/did+json``)
only the DID document is returned. Errors keep the resolution-result shape, with the spec's error
code in ``didResolutionMetadata.error`` and, as everywhere in this API, in ``error``/``message``.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from api.context import node
from api.inputs import raw_path_tail

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
