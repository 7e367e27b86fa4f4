"""Public node information: health, the institution and its keys, the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.context import node
from api.openapi import openapi_document
from node import ISSUING_KEYS

__all__ = ["blueprint"]

blueprint = Blueprint("system", __name__)


@blueprint.get("/health")
def health() -> Response:
    return jsonify({"status": "ok", "schema_version": node().store.schema_version()})


@blueprint.get("/institution")
def institution() -> Response:
    here = node()
    record = here.institution
    keys = []
    for name in ISSUING_KEYS:
        public = here.keyring.public_key(name)
        keys.append({"name": name, "kid": public.thumbprint(), "jwk": public.to_jwk()})
    return jsonify(
        {"name": record.name, "public_url": record.public_url, "did": record.did, "keys": keys}
    )


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(node().config.public_url))
