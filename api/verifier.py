"""Verification over HTTP: OpenID4VP 1.0 requests (role ``verifier``), the wallet-facing request
and response endpoints (public, as the protocol needs), direct verification, receipt checks.

A verdict that fails is answered ``422 presentation_rejected`` with the verdict in the body (every
failed check named); malformed input is a plain 4xx error. Neither changes any state.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

import errors
from api.auth import Role, current_key, require_role
from api.context import node
from api.inputs import json_body, parse_json
from api.openapi import OPERATIONS, Operation
from api.openapi import Response as Doc
from credentials.sd_jwt import present
from credentials.verifier import verify_receipt
from identity.keys import KeyType, PrivateKey
from node.verification import PresentationRejected

__all__ = ["blueprint", "wallet_blueprint"]

blueprint = Blueprint("verifier", __name__, url_prefix="/verifier")
wallet_blueprint = Blueprint("oid4vp", __name__, url_prefix="/oid4vp")

_FORM = "application/x-www-form-urlencoded"
_RESPONSE_FIELDS = frozenset({"vp_token", "state", "error", "error_description"})

CREATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["dcql_query"],
    "properties": {
        "dcql_query": {"type": "object"},
        "expires_in": {"type": "integer", "minimum": 60, "maximum": 3600},
    },
}
VERIFY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["presentation", "nonce", "audience"],
    "properties": {
        "presentation": {"type": "string", "minLength": 1, "maxLength": 200_000},
        "nonce": {"type": "string", "minLength": 8, "maxLength": 256},
        "audience": {"type": "string", "minLength": 1, "maxLength": 2048},
    },
}
RECEIPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["receipt"],
    "properties": {"receipt": {"type": "string", "minLength": 1, "maxLength": 100_000}},
}
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "vp_token": {"type": "string", "description": "JSON object: query id -> [presentation]"},
        "state": {"type": "string"},
        "error": {"type": "string"},
        "error_description": {"type": "string"},
    },
}


def _rejected(verdict: dict[str, Any], **extra: Any) -> tuple[Response, int]:
    failed = [c["name"] for c in verdict["checks"] if not c["ok"]]
    body = {
        "error": PresentationRejected.code,
        "message": "the presentation failed: " + ", ".join(failed),
        "verdict": verdict,
        **extra,
    }
    return jsonify(body), 422


# --- the verifier's API -------------------------------------------------------------------------


@blueprint.post("/requests")
@require_role(Role.VERIFIER)
def create_request() -> tuple[Response, int]:
    body = json_body(CREATE_SCHEMA)
    service = node().verification
    row = service.create_request(body["dcql_query"], current_key().id, body.get("expires_in"))
    return jsonify(service.request_view(row)), 201


@blueprint.get("/requests/<request_id>")
@require_role(Role.VERIFIER)
def get_request(request_id: str) -> Response:
    service = node().verification
    return jsonify(service.request_view(service.get_request(request_id, current_key().id)))


def _qr(request_id: str, kind: str, mimetype: str) -> Response:
    service = node().verification
    row = service.get_request(request_id, current_key().id)
    response = Response(service.qr_code(row, kind), mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/requests/<request_id>/qr.svg")
@require_role(Role.VERIFIER)
def qr_svg(request_id: str) -> Response:
    return _qr(request_id, "svg", "image/svg+xml")


@blueprint.get("/requests/<request_id>/qr.png")
@require_role(Role.VERIFIER)
def qr_png(request_id: str) -> Response:
    return _qr(request_id, "png", "image/png")


@blueprint.post("/verify")
@require_role(Role.VERIFIER)
def verify() -> tuple[Response, int]:
    body = json_body(VERIFY_SCHEMA)
    outcome = node().verification.verify_direct(
        body["presentation"], body["nonce"], body["audience"], current_key().id
    )
    if not outcome.verdict.valid:
        return _rejected(outcome.verdict.to_json(), receipt=outcome.receipt)
    return jsonify(outcome.to_json()), 200


@blueprint.post("/receipts/verify")
def check_receipt() -> Response:
    """Anyone may check a receipt: its signer's key is resolved from the registry."""
    body = json_body(RECEIPT_SCHEMA)
    claims = verify_receipt(body["receipt"], node().verification.key_at)
    return jsonify({"valid_signature": True, "receipt": claims})


# --- the wallet's side (OpenID4VP) ----------------------------------------------------------------


@wallet_blueprint.get("/requests/<request_id>")
def request_object(request_id: str) -> Response:
    service = node().verification
    token = service.request_object(service.get_request(request_id))
    response = Response(token, mimetype="application/oauth-authz-req+jwt")
    response.headers["Cache-Control"] = "no-store"
    return response


def _form() -> dict[str, str]:
    if request.mimetype != _FORM:
        raise errors.UnsupportedMediaType(f"the response must be {_FORM} (direct_post)")
    form = request.form
    fields: dict[str, str] = {}
    for name in form:
        if name not in _RESPONSE_FIELDS:
            raise errors.UnknownField(f"unknown field {name!r}", field=name)
        values = form.getlist(name)
        if len(values) != 1:
            raise errors.InvalidValue(f"field {name!r} appears more than once", field=name)
        if len(values[0]) > 200_000:
            raise errors.InvalidValue(f"field {name!r} is too long", field=name)
        fields[name] = values[0]
    return fields


@wallet_blueprint.post("/responses/<request_id>")
def response_endpoint(request_id: str) -> tuple[Response, int]:
    fields = _form()
    service = node().verification
    if "error" in fields:
        # The wallet declined (OpenID4VP §8.5); nothing changes, the request stays open.
        service.get_request(request_id)
        return jsonify({"status": "acknowledged"}), 200
    for name in ("vp_token", "state"):
        if name not in fields:
            raise errors.MissingField(f"field {name!r} is required", field=name)
    vp_token = parse_json(fields["vp_token"])
    verdict, accepted = service.respond(request_id, vp_token, fields["state"])
    if not accepted:
        return _rejected(verdict.to_json())
    return jsonify({"status": "accepted"}), 200


# --- OpenAPI ----------------------------------------------------------------------------------

_ERROR = {"type": "object", "required": ["error", "message"]}
_REJECTED = {"type": "object", "required": ["error", "message", "verdict"]}
_CHECK = {"type": "object", "required": ["name", "ok", "code", "detail"]}
_VERDICT = {
    "type": "object",
    "required": ["valid", "checks", "claims", "issuer", "credential_type"],
    "properties": {"valid": {"type": "boolean"}, "checks": {"type": "array", "items": _CHECK}},
}
_OUTCOME = {**_VERDICT, "required": [*_VERDICT["required"], "receipt", "receipt_id"]}
_REQUEST_VIEW = {
    "type": "object",
    "required": [
        "id",
        "status",
        "client_id",
        "response_type",
        "response_mode",
        "response_uri",
        "nonce",
        "state",
        "dcql_query",
        "request_uri",
        "openid4vp_uri",
        "expires_at",
    ],
}
_REQ_ID = {"request_id": ({"type": "string", "maxLength": 64}, "vpreq_example")}
_AUTH = {
    400: Doc("Invalid input", _ERROR),
    401: Doc("No valid API key", _ERROR),
    403: Doc("Wrong role", _ERROR),
}
_NOT_FOUND = {404: Doc("No such request (or another key's), or it expired", _ERROR)}

EXAMPLE_QUERY: dict[str, Any] = {
    "credentials": [
        {
            "id": "kyc",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["http://127.0.0.1:5999/credential-types/kyc/v1"]},
            "claims": [{"path": ["kyc_level"], "values": [1, 2, 3]}, {"path": ["age_over_18"]}],
        }
    ],
}


def _example_request(app: Any) -> dict[str, Any]:
    here = app.extensions["kyc"]
    row = here.verification.create_request(EXAMPLE_QUERY, 1)
    return {"path": {"request_id": row.id}}


def _example_presentation(app: Any, *, for_request: bool = False) -> dict[str, Any]:
    """Issue a credential on the example node and present it (the wallet's part)."""
    here = app.extensions["kyc"]
    holder = PrivateKey.generate(KeyType.ED25519)
    row, _ = here.kyc.submit(_EXAMPLE_APPLICATION, 1, "openapi example", None)
    issued = here.issuance.issue(
        row.id, "KycCredentialEd25519", holder.public_key, actor="openapi example"
    )
    if for_request:
        request_row = here.verification.create_request(EXAMPLE_QUERY, 1)
        nonce, aud = request_row.nonce, request_row.client_id
    else:
        nonce, aud = "n-0S6_WzA2Mj", here.verification.client_id
    shown = present(
        issued.credential,
        disclose=[("kyc_level",), ("age_over_18",)],
        kb_key=holder,
        nonce=nonce,
        aud=aud,
        iat=here.unix_now(),
    )
    if for_request:
        return {
            "path": {"request_id": request_row.id},
            "body": {"vp_token": json.dumps({"kyc": [shown]}), "state": request_row.state},
        }
    return {"body": {"presentation": shown, "nonce": nonce, "audience": aud}}


def _example_receipt(app: Any) -> dict[str, Any]:
    here = app.extensions["kyc"]
    example = _example_presentation(app)["body"]
    outcome = here.verification.verify_direct(
        example["presentation"], example["nonce"], example["audience"], None
    )
    return {"body": {"receipt": outcome.receipt}}


_EXAMPLE_APPLICATION: dict[str, Any] = {
    "given_names": "Anna Maria", "family_names": "Eriksson", "birthdate": "1974-08-12",
    "nationality": "SE", "residence_country": "SE",
    "address": {"street": "Storgatan 1", "city": "Stockholm", "postal_code": "111 22",
                "country": "SE"},
    "document": {"type": "passport", "number": "L898902C3", "issuing_country": "SE",
                 "expiry_date": "2036-04-15"},
    "holder_did": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00Z"},
}  # fmt: skip

OPERATIONS += [
    Operation(
        "POST",
        "/verifier/requests",
        "Create an OpenID4VP request (DCQL query; client_id decentralized_identifier:<DID>, "
        "direct_post) with its openid4vp:// URI",
        "verifier",
        {201: Doc("Request", _REQUEST_VIEW), **_AUTH},
        201,
        roles=("verifier",),
        request_schema=CREATE_SCHEMA,
        request_example={"dcql_query": EXAMPLE_QUERY, "expires_in": 600},
    ),
    Operation(
        "GET",
        "/verifier/requests/{request_id}",
        "A request: pending, expired, or completed with its verdict and receipt",
        "verifier",
        {200: Doc("Request", _REQUEST_VIEW), **_AUTH, **_NOT_FOUND},
        200,
        roles=("verifier",),
        path_parameters=_REQ_ID,
        live_example=_example_request,
    ),
    Operation(
        "GET",
        "/verifier/requests/{request_id}/qr.svg",
        "The request's QR code (SVG)",
        "verifier",
        {200: Doc("QR code", None, "image/svg+xml"), **_AUTH, **_NOT_FOUND},
        200,
        roles=("verifier",),
        path_parameters=_REQ_ID,
        live_example=_example_request,
    ),
    Operation(
        "GET",
        "/verifier/requests/{request_id}/qr.png",
        "The request's QR code (PNG)",
        "verifier",
        {200: Doc("QR code", None, "image/png"), **_AUTH, **_NOT_FOUND},
        200,
        roles=("verifier",),
        path_parameters=_REQ_ID,
        live_example=_example_request,
    ),
    Operation(
        "POST",
        "/verifier/verify",
        "Verify a presentation directly (SD-JWT VC with KB-JWT, or vp+jwt): the verdict with "
        "every check, and a signed receipt",
        "verifier",
        {
            200: Doc("Valid: verdict and receipt", _OUTCOME),
            422: Doc("presentation_rejected: the verdict names every failed check", _REJECTED),
            **_AUTH,
        },
        200,
        roles=("verifier",),
        request_schema=VERIFY_SCHEMA,
        request_example={
            "presentation": "<issuer-jwt>~<disclosure>~<kb-jwt>",
            "nonce": "n-0S6_WzA2Mj",
            "audience": "decentralized_identifier:did:...",
        },
        live_example=_example_presentation,
    ),
    Operation(
        "POST",
        "/verifier/receipts/verify",
        "Check a verification receipt's signature (its signer's key from the registry)",
        "verifier",
        {
            200: Doc("The receipt's claims", {"type": "object", "required": ["receipt"]}),
            400: Doc("Malformed receipt", _ERROR),
            422: Doc("Bad signature or unknown key", _ERROR),
        },
        200,
        request_schema=RECEIPT_SCHEMA,
        request_example={"receipt": "<jwt>"},
        live_example=_example_receipt,
    ),
    Operation(
        "GET",
        "/oid4vp/requests/{request_id}",
        "The signed request object (request_uri; typ oauth-authz-req+jwt)",
        "verifier",
        {200: Doc("Request object", None, "application/oauth-authz-req+jwt"), **_NOT_FOUND},
        200,
        path_parameters=_REQ_ID,
        live_example=_example_request,
    ),
    Operation(
        "POST",
        "/oid4vp/responses/{request_id}",
        "The wallet's direct_post response (vp_token, state; or error)",
        "verifier",
        {
            200: Doc("Accepted", {"type": "object", "required": ["status"]}),
            400: Doc("Malformed response", _ERROR),
            409: Doc("Already answered", _ERROR),
            415: Doc("Not form-encoded", _ERROR),
            422: Doc("presentation_rejected: the verdict names every failed check", _REJECTED),
            **_NOT_FOUND,
        },
        200,
        path_parameters=_REQ_ID,
        request_schema=RESPONSE_SCHEMA,
        request_media_type=_FORM,
        request_example={"vp_token": '{"kyc": ["<sd-jwt+kb>"]}', "state": "<state>"},
        live_example=lambda app: _example_presentation(app, for_request=True),
    ),
]
