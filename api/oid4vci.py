"""OpenID4VCI 1.0 over HTTP: issuer and authorization server metadata, the token, nonce and
credential endpoints (pre-authorized code flow).

These endpoints speak OAuth: errors are ``{"error", "error_description"}`` with the specs' names
(``invalid_request``, ``invalid_grant``, ``invalid_token``, ``invalid_proof``, ``invalid_nonce``,
``invalid_credential_request`` ...) and ``Cache-Control: no-store``, not the API's usual
``{"error", "message"}``. The broker's offer endpoint lives in ``api/issuance.py``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

import errors
from api.context import node
from api.errors import status_for
from api.inputs import json_body
from api.openapi import OPERATIONS, Operation
from api.openapi import Response as Doc
from node.issuance_oid4vci import BATCH_SIZE, PRE_AUTHORIZED_GRANT

__all__ = ["blueprint"]

log = logging.getLogger(__name__)

blueprint = Blueprint("oid4vci", __name__)

FORM = "application/x-www-form-urlencoded"

CREDENTIAL_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "credential_identifier": {"type": "string", "maxLength": 200},
        "credential_configuration_id": {"type": "string", "maxLength": 200},
        "proofs": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "jwt": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": BATCH_SIZE,
                    "items": {"type": "string", "maxLength": 16384},
                }
            },
        },
    },
}

OAUTH_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}

# What a generic input error is called on each endpoint.
_DEFAULT_ERROR = {
    "oid4vci.token": "invalid_request",
    "oid4vci.credential": "invalid_credential_request",
}


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _oauth_error(status: int, error: str, description: str) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return _no_store(response)


@blueprint.errorhandler(errors.Error)
def _domain_error(error: errors.Error) -> Response:
    status = status_for(error)
    if status == 500:
        log.error("unmapped error %s: %s", error.code, error.message)
        return _oauth_error(500, "server_error", "internal error")
    name = getattr(error, "oauth_error", None)
    if name is None:
        name = _DEFAULT_ERROR.get(request.endpoint or "", "invalid_request")
    return _oauth_error(status, name, error.message)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 400
    if status == 413:
        return _oauth_error(413, "invalid_request", "the request body is too large")
    return _oauth_error(status, "invalid_request", error.description or "bad request")


# --- metadata --------------------------------------------------------------------------------


def _metadata(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.get("/.well-known/openid-credential-issuer")
def issuer_metadata() -> Response:
    return _metadata(node().issuance.oid4vci.issuer_metadata())


@blueprint.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Response:
    return _metadata(node().issuance.oid4vci.authorization_server_metadata())


# --- endpoints -------------------------------------------------------------------------------


@blueprint.post("/oid4vci/token")
def token() -> Response:
    if request.mimetype != FORM:
        raise errors.UnsupportedMediaType(f"the token request must be {FORM}")
    form = {name: request.form.getlist(name) for name in request.form}
    return _no_store(jsonify(node().issuance.oid4vci.token(form)))


@blueprint.post("/oid4vci/nonce")
def nonce() -> Response:
    return _no_store(jsonify({"c_nonce": node().issuance.oid4vci.nonce()}))


@blueprint.post("/oid4vci/credential")
def credential() -> Response:
    service = node().issuance.oid4vci
    authorization = request.headers.get("Authorization")
    access = service.access(authorization)  # an invalid token is answered before the body
    body = json_body(CREDENTIAL_REQUEST)
    return _no_store(jsonify(service.credential(authorization, body, access=access)))


# --- OpenAPI ------------------------------------------------------------------------------------


def _offer_code(app: Any, *, tx_code: bool = False) -> dict[str, Any]:
    from api.issuance import example_application  # noqa: PLC0415 (avoids an import cycle)

    here = app.extensions["kyc"]
    application_id = example_application(app)
    row = here.store.get_application(application_id)
    return here.issuance.oid4vci.create_offer(
        application_id,
        broker_key_id=row.broker_key_id,
        actor="openapi example",
        tx_code={} if tx_code else None,
    )


def _token_example(app: Any) -> dict[str, Any]:
    offer = _offer_code(app)
    grant = offer["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]
    return {
        "body": {
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": grant["pre-authorized_code"],
        }
    }


def _credential_example(app: Any) -> dict[str, Any]:
    from credentials.jose import sign_compact  # noqa: PLC0415
    from identity.keys import KeyType, PrivateKey  # noqa: PLC0415

    here = app.extensions["kyc"]
    service = here.issuance.oid4vci
    offer = _offer_code(app)
    grant = offer["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]
    access = service.token(
        {
            "grant_type": [PRE_AUTHORIZED_GRANT],
            "pre-authorized_code": [grant["pre-authorized_code"]],
        }
    )
    holder = PrivateKey.generate(KeyType.P256)
    proof = sign_compact(
        {"typ": "openid4vci-proof+jwt", "jwk": holder.public_key.to_jwk()},
        {"aud": service.issuer, "iat": here.unix_now(), "nonce": service.nonce()},
        holder,
    )
    return {
        "headers": {"Authorization": "Bearer " + access["access_token"]},
        "body": {"credential_configuration_id": "KycCredential", "proofs": {"jwt": [proof]}},
    }


_OAUTH_ERRORS = {400: Doc("OAuth error (invalid_request, invalid_grant ...)", OAUTH_ERROR)}

OPERATIONS += [
    Operation(
        "GET",
        "/.well-known/openid-credential-issuer",
        "OpenID4VCI Credential Issuer Metadata",
        "oid4vci",
        {
            200: Doc(
                "Metadata",
                {
                    "type": "object",
                    "required": [
                        "credential_issuer",
                        "credential_endpoint",
                        "credential_configurations_supported",
                    ],
                },
            )
        },
        200,
    ),
    Operation(
        "GET",
        "/.well-known/oauth-authorization-server",
        "OAuth 2.0 Authorization Server Metadata (pre-authorized code grant)",
        "oid4vci",
        {200: Doc("Metadata", {"type": "object", "required": ["issuer", "token_endpoint"]})},
        200,
    ),
    Operation(
        "POST",
        "/oid4vci/token",
        "Token endpoint: exchange a pre-authorized code (and tx_code) for an access token",
        "oid4vci",
        {
            200: Doc(
                "Access token",
                {"type": "object", "required": ["access_token", "token_type", "expires_in"]},
            ),
            **_OAUTH_ERRORS,
        },
        200,
        request_schema={
            "type": "object",
            "required": ["grant_type", "pre-authorized_code"],
            "properties": {
                "grant_type": {"const": PRE_AUTHORIZED_GRANT},
                "pre-authorized_code": {"type": "string"},
                "tx_code": {"type": "string"},
                "authorization_details": {"type": "string"},
            },
        },
        request_media_type=FORM,
        request_example={
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": "SplxlOBeZQQYbYS6WxSbIA",
        },
        live_example=_token_example,
    ),
    Operation(
        "POST",
        "/oid4vci/nonce",
        "Nonce endpoint: a fresh c_nonce (Cache-Control: no-store)",
        "oid4vci",
        {200: Doc("Nonce", {"type": "object", "required": ["c_nonce"]})},
        200,
    ),
    Operation(
        "POST",
        "/oid4vci/credential",
        "Credential endpoint: the credential, bound to the key of the proof JWT (Bearer access "
        "token from the token endpoint)",
        "oid4vci",
        {
            200: Doc("Credential", {"type": "object", "required": ["credentials"]}),
            **_OAUTH_ERRORS,
            401: Doc("invalid_token", OAUTH_ERROR),
        },
        200,
        request_schema=CREDENTIAL_REQUEST,
        request_example={
            "credential_configuration_id": "KycCredential",
            "proofs": {"jwt": ["eyJ0eXAiOiJvcGVuaWQ0dmNpLXByb29mK2p3dCJ9..."]},
        },
        live_example=_credential_example,
    ),
]
