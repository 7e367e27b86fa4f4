"""The one place where errors become HTTP statuses and JSON bodies.

Every answer that is not a success is ``{"error": code, "message": ...}`` (plus ``field`` where
one input field is at fault). Unexpected exceptions are logged with their traceback on the server
and answered with a generic 500 body: no stack trace or internal detail ever reaches the client.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

import errors

__all__ = ["STATUS_BY_CATEGORY", "error_response", "register_error_handlers", "status_for"]

log = logging.getLogger(__name__)

# Order matters: the first matching category wins (subclasses before their bases).
STATUS_BY_CATEGORY: list[tuple[type[errors.Error], int]] = [
    (errors.BodyTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.InvalidInput, 400),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.VerificationFailed, 422),
    (errors.DidDeactivated, 410),
    (errors.ServiceUnavailable, 503),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    411: "length_required",
    413: "body_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    429: "too_many_requests",
    431: "request_headers_too_large",
}


def status_for(error: errors.Error) -> int:
    for category, status in STATUS_BY_CATEGORY:
        if isinstance(error, category):
            return status
    return 500


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    body: dict[str, str] = {"error": code, "message": message}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.Error)
    def _domain_error(error: errors.Error) -> Response:
        status = status_for(error)
        if status == 500:
            log.error("unmapped error %s: %s", error.code, error.message)
            return error_response(500, "internal_error", "internal error")
        response = error_response(status, error.code, error.message, error.field)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="kyc"'
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = error.description or code
        if status == 413:
            message = "request body is larger than this node accepts"
        response = error_response(status, code, message)
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Logged server-side with the traceback; the client learns nothing about internals.
        log.exception("unhandled exception")
        return error_response(500, "internal_error", "internal error")
