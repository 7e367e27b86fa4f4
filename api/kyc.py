"""KYC onboarding over HTTP: brokers submit applications, officers resolve reviews.

A broker sees only its own applications (another broker's id answers 404, like an unknown id).
Officers see all of them. Personal data is returned only to those two roles and never logged.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

import errors
from api.auth import Role, current_key, require_role
from api.context import node
from api.inputs import json_body
from api.openapi import OPERATIONS, Operation
from api.openapi import Response as Doc
from kyc.application import APPLICATION_SCHEMA

__all__ = ["blueprint"]

blueprint = Blueprint("kyc", __name__, url_prefix="/kyc")

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,200}")

RESOLVE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["decision", "reason"],
    "properties": {
        "decision": {"enum": ["approve", "reject"]},
        "reason": {"type": "string", "minLength": 1, "maxLength": 1000},
    },
}


def _broker_scope() -> int | None:
    """Brokers are scoped to their own applications; officers see every application."""
    key = current_key()
    return key.id if key.role == Role.BROKER else None


def _summary(row: Any) -> dict[str, Any]:
    return {"id": row.id, "status": row.status, "kyc_level": row.kyc_level,
            "decision": row.decision, "created_at": row.created_at}


@blueprint.post("/applications")
@require_role(Role.BROKER)
def submit() -> tuple[Response, int]:
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise errors.InvalidValue("Idempotency-Key must be 1 to 200 of [A-Za-z0-9_.:-]",
                                  field="Idempotency-Key")
    body = json_body(APPLICATION_SCHEMA)
    key = current_key()
    row, created = node().kyc.submit(body, key.id, key.name, idempotency_key)
    return jsonify(_summary(row)), 201 if created else 200


@blueprint.get("/applications/<application_id>")
@require_role(Role.BROKER, Role.OFFICER)
def get_application(application_id: str) -> Response:
    here = node()
    row = here.kyc.get(application_id, broker_key_id=_broker_scope())
    view = here.kyc.view(row)
    issuance = getattr(here, "issuance", None)
    view["credentials"] = issuance.credentials_for(row.id) if issuance is not None else []
    return jsonify(view)


@blueprint.get("/reviews")
@require_role(Role.OFFICER)
def review_queue() -> Response:
    return jsonify({"applications": [_summary(row) for row in node().kyc.review_queue()]})


@blueprint.post("/applications/<application_id>/resolve")
@require_role(Role.OFFICER)
def resolve(application_id: str) -> Response:
    body = json_body(RESOLVE_SCHEMA)
    row = node().kyc.resolve(application_id, body["decision"] == "approve", body["reason"],
                             current_key().name)
    return jsonify(_summary(row))


@blueprint.post("/applications/<application_id>/end-relationship")
@require_role(Role.BROKER, Role.OFFICER)
def end_relationship(application_id: str) -> Response:
    row = node().kyc.end_relationship(application_id, _broker_scope(), current_key().name)
    return jsonify(_summary(row))


@blueprint.post("/applications/<application_id>/erasure-request")
@require_role(Role.BROKER, Role.OFFICER)
def erasure_request(application_id: str) -> Response:
    return jsonify(node().kyc.request_erasure(application_id, _broker_scope(),
                                              current_key().name))


# --- OpenAPI ----------------------------------------------------------------------------------

EXAMPLE_APPLICATION: dict[str, Any] = {
    "given_names": "Anna Maria", "family_names": "Eriksson", "birthdate": "1974-08-12",
    "nationality": "SE", "residence_country": "SE",
    "address": {"street": "Storgatan 1", "city": "Stockholm", "postal_code": "111 22",
                "country": "SE"},
    "document": {"type": "passport", "number": "L898902C3", "issuing_country": "SE",
                 "expiry_date": "2036-04-15"},
    "holder_did": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00Z"},
}

_ERROR = {"type": "object", "required": ["error", "message"]}
_SUMMARY = {"type": "object", "required": ["id", "status", "kyc_level", "decision"]}
_VIEW = {"type": "object", "required": ["id", "status", "holder_did", "decision", "credentials"]}
_APP_ID = {"application_id": ({"type": "string", "maxLength": 64}, "app_example")}
_AUTH_ERRORS = {400: Doc("Invalid input", _ERROR), 401: Doc("No valid API key", _ERROR),
                403: Doc("Wrong role", _ERROR), 404: Doc("No such application", _ERROR)}


def _submitted(app: Any, *, review: bool = False) -> dict[str, Any]:
    """A fresh application on the example node (optionally one that needs review)."""
    here = app.extensions["kyc"]
    body = dict(EXAMPLE_APPLICATION)
    if review:  # a grey-listed residence sends the application to an officer
        body = {**body, "residence_country": "BG",
                "address": {**body["address"], "country": "BG"}}
    key_id = 1  # the example's API key is the first key of a fresh node
    row, _ = here.kyc.submit(body, key_id, "openapi example", None)
    return {"path": {"application_id": row.id}}


OPERATIONS += [
    Operation(
        "POST", "/kyc/applications",
        "Submit a KYC application: validated, checked, screened and decided at once "
        "(Idempotency-Key header makes retries safe)", "kyc",
        {201: Doc("Decided (approved, rejected or manual_review)", _SUMMARY),
         200: Doc("A retry of an earlier request with the same Idempotency-Key", _SUMMARY),
         409: Doc("Idempotency-Key reused with another body", _ERROR), **_AUTH_ERRORS}, 201,
        roles=("broker",), request_schema=APPLICATION_SCHEMA,
        request_example=EXAMPLE_APPLICATION,
    ),
    Operation(
        "GET", "/kyc/applications/{application_id}",
        "An application with its decision, checks, personal data and issued credentials",
        "kyc", {200: Doc("Application", _VIEW), **_AUTH_ERRORS}, 200,
        roles=("broker", "officer"), path_parameters=_APP_ID, live_example=_submitted,
    ),
    Operation(
        "GET", "/kyc/reviews", "The manual review queue", "kyc",
        {200: Doc("Applications awaiting an officer", {"type": "object",
                                                      "required": ["applications"]}),
         **_AUTH_ERRORS}, 200, roles=("officer",),
    ),
    Operation(
        "POST", "/kyc/applications/{application_id}/resolve",
        "An officer approves or rejects an application in review (or a suspended client)",
        "kyc", {200: Doc("Resolved", _SUMMARY), 409: Doc("Nothing to resolve", _ERROR),
                **_AUTH_ERRORS}, 200,
        roles=("officer",), path_parameters=_APP_ID, request_schema=RESOLVE_SCHEMA,
        request_example={"decision": "approve", "reason": "PEP match is a namesake"},
        live_example=lambda app: _submitted(app, review=True),
    ),
    Operation(
        "POST", "/kyc/applications/{application_id}/end-relationship",
        "Record the end of the business relationship (starts the retention period)", "kyc",
        {200: Doc("Ended", _SUMMARY), **_AUTH_ERRORS}, 200,
        roles=("broker", "officer"), path_parameters=_APP_ID, live_example=_submitted,
    ),
    Operation(
        "POST", "/kyc/applications/{application_id}/erasure-request",
        "A client's erasure request: crypto-shredding after the retention period, restricted "
        "processing before it", "kyc",
        {200: Doc("Restricted, or erased with a signed receipt",
                  {"type": "object", "required": ["action"]}), **_AUTH_ERRORS}, 200,
        roles=("broker", "officer"), path_parameters=_APP_ID, live_example=_submitted,
    ),
]
