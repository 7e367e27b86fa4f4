"""Public node information: health, the institution and its keys, the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.context import node
from api.openapi import openapi_document
from node import issuing_keys

__all__ = ["blueprint"]

blueprint = Blueprint("system", __name__)


@blueprint.get("/health")
def health() -> Response:
    return jsonify({"status": "ok", "schema_version": node().store.schema_version()})


@blueprint.get("/institution")
def institution() -> Response:
    here = node()
    record = here.institution
    keys = [
        {"name": role, "kid": public.thumbprint(), "jwk": public.to_jwk()}
        for role, public in issuing_keys(here).items()
    ]
    return jsonify(
        {"name": record.name, "public_url": record.public_url, "did": record.did, "keys": keys}
    )


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(node().config.public_url))
