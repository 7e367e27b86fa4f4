"""Issued credentials over HTTP: status lists, the credential type metadata, and the broker's
lifecycle API (revoke, suspend, reinstate).

Status lists are public, served at their URIs with caching headers (``Cache-Control`` with the
list's ``ttl``, a strong ``ETag`` that is the SHA-256 anchored in the registry, conditional GET).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from api import schemas
from api.auth import Role, current_key, require_role
from api.context import node
from api.inputs import json_body
from api.openapi import OPERATIONS, Operation
from api.openapi import Response as Doc
from identity.keys import KeyType, PrivateKey
from node.issuance import CONFIGURATIONS, VCT_PATH, type_metadata_bytes

__all__ = ["CREDENTIAL_VIEW", "blueprint"]

blueprint = Blueprint("issuance", __name__)

REASON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reason"],
    "properties": {
        "reason": {
            "type": "string",
            "minLength": 1,
            "maxLength": 500,
            "pattern": r"^[^\x00-\x1f\x7f]+$",
        }
    },
}

CREDENTIAL_VIEW: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "application_id",
        "format",
        "configuration_id",
        "status",
        "issued_at",
        "expires_at",
        "status_reference",
    ],
    "properties": {
        "id": {"type": "string"},
        "application_id": {"type": "string"},
        "format": {"enum": ["dc+sd-jwt", "vc+jwt"]},
        "configuration_id": {"type": "string"},
        "status": {"enum": ["valid", "revoked", "suspended"]},
        "status_reason": {"type": ["string", "null"]},
        "suspended_by": {"enum": ["broker", "kyc", None]},
        "issued_at": {"type": "string"},
        "expires_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "issuer_kid": {"type": "string"},
        "holder_key_thumbprint": {"type": "string"},
        "status_reference": {"type": ["object", "array"]},
    },
}

_LIST_ID = r"[A-Za-z0-9_-]{1,64}"


def _serve_list(uri: str) -> Response:
    here = node()
    row = here.issuance.status.current(uri)
    response = Response(row.token, mimetype=here.issuance.status.media_type(row))
    response.set_etag(row.token_sha256 or "")
    ttl = here.issuance.settings.status_ttl
    response.headers["Cache-Control"] = f"public, max-age={ttl}"
    response.headers["X-Status-List-Version"] = str(row.version)
    if row.registry_index is not None:
        response.headers["X-Registry-Index"] = str(row.registry_index)
    return response.make_conditional(request)


@blueprint.get("/status/ietf/<list_id>")
def token_status_list(list_id: str) -> Response:
    return _serve_list(f"{node().config.public_url}/status/ietf/{list_id}")


@blueprint.get("/status/w3c/<list_id>/<purpose>")
def bitstring_status_list(list_id: str, purpose: str) -> Response:
    return _serve_list(f"{node().config.public_url}/status/w3c/{list_id}/{purpose}")


@blueprint.get(VCT_PATH)
def credential_type() -> Response:
    here = node()
    body = type_metadata_bytes(here.issuance.vct)
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _lifecycle(credential_id: str, action: str) -> Response:
    body = json_body(REASON_SCHEMA)
    key = current_key()
    service = node().issuance
    change = getattr(service, action)
    view = change(credential_id, reason=body["reason"], broker_key_id=key.id, actor=key.name)
    return jsonify(view)


@blueprint.post("/credentials/<credential_id>/revoke")
@require_role(Role.BROKER)
def revoke(credential_id: str) -> Response:
    return _lifecycle(credential_id, "revoke")


@blueprint.post("/credentials/<credential_id>/suspend")
@require_role(Role.BROKER)
def suspend(credential_id: str) -> Response:
    return _lifecycle(credential_id, "suspend")


@blueprint.post("/credentials/<credential_id>/reinstate")
@require_role(Role.BROKER)
def reinstate(credential_id: str) -> Response:
    return _lifecycle(credential_id, "reinstate")


OFFER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "credential_configuration_ids": {
            "type": "array",
            "minItems": 1,
            "maxItems": len(CONFIGURATIONS),
            "uniqueItems": True,
            "items": {"enum": list(CONFIGURATIONS)},
        },
        "qr": {"type": "boolean"},
        "tx_code": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "length": {"type": "integer", "minimum": 4, "maximum": 8},
                "input_mode": {"enum": ["numeric", "text"]},
                "description": {
                    "type": "string",
                    "maxLength": 300,
                    "pattern": r"^[^\x00-\x1f\x7f]*$",
                },
            },
        },
    },
}

OFFER_VIEW: dict[str, Any] = {
    "type": "object",
    "required": [
        "offer_id",
        "application_id",
        "credential_offer",
        "credential_offer_uri",
        "expires_at",
    ],
    "properties": {
        "offer_id": {"type": "string"},
        "application_id": {"type": "string"},
        "credential_offer": {
            "type": "object",
            "required": ["credential_issuer", "credential_configuration_ids", "grants"],
        },
        "credential_offer_uri": {"type": "string", "pattern": "^openid-credential-offer://"},
        "qr": {
            "type": "object",
            "required": ["svg", "png"],
            "properties": {"svg": {"type": "string"}, "png": {"type": "string"}},
        },
        "tx_code": {"type": "string"},
        "expires_at": {"type": "string"},
    },
}


@blueprint.post("/kyc/applications/<application_id>/offers")
@require_role(Role.BROKER)
def create_offer(application_id: str) -> tuple[Response, int]:
    body = json_body(OFFER_SCHEMA)
    key = current_key()
    offer = node().issuance.oid4vci.create_offer(
        application_id,
        broker_key_id=key.id,
        actor=key.name,
        configuration_ids=body.get("credential_configuration_ids"),
        tx_code=body.get("tx_code"),
        qr=body.get("qr", True),
    )
    response = jsonify(offer)
    response.headers["Cache-Control"] = "no-store"
    return response, 201


@blueprint.get("/credentials/<credential_id>")
@require_role(Role.BROKER)
def get_credential(credential_id: str) -> Response:
    service = node().issuance
    return jsonify(service.view(service.get(credential_id, broker_key_id=current_key().id)))


# --- OpenAPI ------------------------------------------------------------------------------------


EXAMPLE_APPLICATION: dict[str, Any] = {
    "given_names": "Anna Maria", "family_names": "Eriksson", "birthdate": "1974-08-12",
    "nationality": "SE", "residence_country": "SE",
    "address": {"street": "Storgatan 1", "city": "Stockholm", "postal_code": "111 22",
                "country": "SE"},
    "document": {"type": "passport", "number": "L898902C3", "issuing_country": "SE",
                 "expiry_date": "2036-04-15"},
    "holder_did": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00Z"},
}  # fmt: skip


def example_application(app: Any) -> str:
    """An approved application owned by the example's API key (the newest key of the fresh
    node: the OpenAPI test creates it just before running the example)."""
    here = app.extensions["kyc"]
    keys = here.store.list_api_keys()
    key_id = keys[-1].id if keys else 1
    row, _ = here.kyc.submit(dict(EXAMPLE_APPLICATION), key_id, "openapi example", None)
    return str(row.id)


def _issued_credential(app: Any, *, suspended: bool = False) -> dict[str, Any]:
    """An approved application of the example's broker key, with one credential issued."""
    here = app.extensions["kyc"]
    application_id = example_application(app)
    holder = PrivateKey.generate(KeyType.P256).public_key
    issued = here.issuance.issue(application_id, "KycCredential", holder, actor="example")
    vcdm = here.issuance.issue(application_id, "KycCredentialVcdm2", holder, actor="example")
    if suspended:
        here.issuance.suspend(issued.id, reason="example", broker_key_id=None, actor="example")
    w3c = here.store.status_lists_of_group(vcdm.row.group_id)[0].uri
    return {"id": issued.id, "ietf_list": issued.row.group_id, "w3c_list": w3c.rsplit("/", 2)[-2]}


_CRED = {"credential_id": ({"type": "string", "maxLength": 64}, "cred_AAAAAAAAAAAAAAAA")}
_ERRS = {
    400: Doc("Invalid input", schemas.ERROR),
    401: Doc("Missing or invalid API key", schemas.ERROR),
    403: Doc("The API key lacks the role", schemas.ERROR),
    404: Doc("No such credential (or not this broker's)", schemas.ERROR),
}

OPERATIONS += [
    Operation(
        "POST",
        "/kyc/applications/{application_id}/offers",
        "Create an OpenID4VCI credential offer (pre-authorized code, optional tx_code) for an "
        "approved application: offer JSON, openid-credential-offer:// URI and QR code (SVG, PNG)",
        "credentials",
        {
            201: Doc("Offer (the codes are shown once)", OFFER_VIEW),
            **{**_ERRS, 404: Doc("No such application (or not this broker's)", schemas.ERROR)},
            409: Doc("The application is not approved, or processing is restricted", schemas.ERROR),
        },
        201,
        roles=("broker",),
        path_parameters={"application_id": ({"type": "string", "maxLength": 64}, "app_example")},
        request_schema=OFFER_SCHEMA,
        request_example={
            "credential_configuration_ids": ["KycCredential"],
            "tx_code": {
                "length": 6,
                "input_mode": "numeric",
                "description": "The code we sent you by SMS",
            },
        },
        live_example=lambda app: {"path": {"application_id": example_application(app)}},
    ),
    Operation(
        "GET",
        "/status/ietf/{list_id}",
        "An IETF Token Status List (statuslist+jwt, 2 bits: valid/revoked/suspended)",
        "credentials",
        {
            200: Doc("Status List Token", None, "application/statuslist+jwt"),
            304: Doc("Not modified (If-None-Match)"),
            404: Doc("No such list", schemas.ERROR),
        },
        200,
        path_parameters={
            "list_id": ({"type": "string", "pattern": f"^{_LIST_ID}$"}, "AAAAAAAAAAAAAAAA")
        },
        live_example=lambda app: {"path": {"list_id": _issued_credential(app)["ietf_list"]}},
    ),
    Operation(
        "GET",
        "/status/w3c/{list_id}/{purpose}",
        "A W3C Bitstring Status List credential (vc+jwt), purpose revocation or suspension",
        "credentials",
        {
            200: Doc("BitstringStatusListCredential as vc+jwt", None, "application/vc+jwt"),
            304: Doc("Not modified (If-None-Match)"),
            404: Doc("No such list", schemas.ERROR),
        },
        200,
        path_parameters={
            "list_id": ({"type": "string", "pattern": f"^{_LIST_ID}$"}, "AAAAAAAAAAAAAAAA"),
            "purpose": ({"enum": ["revocation", "suspension"]}, "revocation"),
        },
        live_example=lambda app: {"path": {"list_id": _issued_credential(app)["w3c_list"]}},
    ),
    Operation(
        "GET",
        VCT_PATH,
        "SD-JWT VC type metadata of the KYC credential (its vct)",
        "credentials",
        {200: Doc("Type metadata", {"type": "object", "required": ["vct"]})},
        200,
    ),
    Operation(
        "GET",
        "/credentials/{credential_id}",
        "An issued credential's status and status-list references (never its content)",
        "credentials",
        {200: Doc("Credential", CREDENTIAL_VIEW), **_ERRS},
        200,
        roles=("broker",),
        path_parameters=_CRED,
        live_example=lambda app: {"path": {"credential_id": _issued_credential(app)["id"]}},
    ),
    Operation(
        "POST",
        "/credentials/{credential_id}/revoke",
        "Revoke a credential for good (published in the status lists, anchored)",
        "credentials",
        {200: Doc("Revoked", CREDENTIAL_VIEW), **_ERRS, 409: Doc("Already revoked", schemas.ERROR)},
        200,
        roles=("broker",),
        path_parameters=_CRED,
        request_schema=REASON_SCHEMA,
        request_example={"reason": "client reported the wallet lost"},
        live_example=lambda app: {"path": {"credential_id": _issued_credential(app)["id"]}},
    ),
    Operation(
        "POST",
        "/credentials/{credential_id}/suspend",
        "Suspend a credential",
        "credentials",
        {
            200: Doc("Suspended", CREDENTIAL_VIEW),
            **_ERRS,
            409: Doc("Revoked or already suspended", schemas.ERROR),
        },
        200,
        roles=("broker",),
        path_parameters=_CRED,
        request_schema=REASON_SCHEMA,
        request_example={"reason": "document under review"},
        live_example=lambda app: {"path": {"credential_id": _issued_credential(app)["id"]}},
    ),
    Operation(
        "POST",
        "/credentials/{credential_id}/reinstate",
        "Reinstate a suspended credential (its client must be approved)",
        "credentials",
        {
            200: Doc("Valid again", CREDENTIAL_VIEW),
            **_ERRS,
            409: Doc("Revoked, not suspended, or client not approved", schemas.ERROR),
        },
        200,
        roles=("broker",),
        path_parameters=_CRED,
        request_schema=REASON_SCHEMA,
        request_example={"reason": "review cleared"},
        live_example=lambda app: {
            "path": {"credential_id": _issued_credential(app, suspended=True)["id"]}
        },
    ),
]
