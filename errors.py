"""The one error hierarchy of the service.

Every error raised on purpose is an ``Error`` with a stable snake_case ``code``. The categories
(``InvalidInput``, ``Unauthorized``, ...) decide the HTTP status; that mapping lives in
``api/errors.py`` alone, so domain code never thinks about HTTP.

Expected outcomes (a KYC rejection, an invalid presentation) are values with reasons, not errors.

DID resolution errors carry the DID Resolution spec's own codes (``invalidDid``,
``methodNotSupported``, ``notFound``) as ``resolution_error`` so the resolver endpoint can answer
with them verbatim.
"""

from __future__ import annotations


class Error(Exception):
    """Base of every error this service raises on purpose."""

    code = "error"

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.field = field


# --- categories (each maps to one HTTP status in api/errors.py) ---------------------------------


class InvalidInput(Error):
    code = "invalid_input"


class Unauthorized(Error):
    code = "unauthorized"


class Forbidden(Error):
    code = "forbidden"


class NotFound(Error):
    code = "not_found"


class Conflict(Error):
    code = "conflict"


class VerificationFailed(Error):
    code = "verification_failed"


class ServiceUnavailable(Error):
    code = "service_unavailable"


# --- request bodies ------------------------------------------------------------------------------


class MalformedJson(InvalidInput):
    code = "malformed_json"


class UnknownField(InvalidInput):
    code = "unknown_field"


class MissingField(InvalidInput):
    code = "missing_field"


class WrongType(InvalidInput):
    code = "wrong_type"


class InvalidValue(InvalidInput):
    code = "invalid_value"


class BodyTooLarge(InvalidInput):
    code = "body_too_large"


class UnsupportedMediaType(InvalidInput):
    code = "unsupported_media_type"


# --- encodings -----------------------------------------------------------------------------------


class InvalidEncoding(InvalidInput):
    code = "invalid_encoding"


# --- keys ----------------------------------------------------------------------------------------


class InvalidKey(InvalidInput):
    """A key that is malformed: wrong length, off the curve, bad JWK members."""

    code = "invalid_key"


class WeakKey(InvalidKey):
    """A well-formed key that must never be trusted (small-order Ed25519 points)."""

    code = "weak_key"


class UnsupportedKeyType(InvalidInput):
    code = "unsupported_key_type"


class UnsupportedAlgorithm(InvalidInput):
    code = "unsupported_algorithm"


class InvalidSignature(VerificationFailed):
    code = "invalid_signature"


# --- DIDs ----------------------------------------------------------------------------------------


class DidError(InvalidInput):
    """Base of DID parsing and resolution errors; ``resolution_error`` is the spec's code."""

    code = "did_error"
    resolution_error = "invalidDid"


class InvalidDid(DidError):
    code = "invalid_did"
    resolution_error = "invalidDid"


class InvalidDidUrl(DidError):
    code = "invalid_did_url"
    resolution_error = "invalidDidUrl"


class MethodNotSupported(DidError):
    code = "method_not_supported"
    resolution_error = "methodNotSupported"


class InvalidPublicKeyLength(DidError):
    code = "invalid_public_key_length"
    resolution_error = "invalidPublicKeyLength"


class InvalidPublicKey(DidError):
    code = "invalid_public_key"
    resolution_error = "invalidPublicKey"


class UnsupportedPublicKeyType(DidError):
    code = "unsupported_public_key_type"
    resolution_error = "unsupportedPublicKeyType"


class DidNotFound(NotFound):
    code = "did_not_found"
    resolution_error = "notFound"


class DidDeactivated(Error):
    code = "did_deactivated"
    resolution_error = "deactivated"


# --- auth ----------------------------------------------------------------------------------------


class MissingCredentials(Unauthorized):
    code = "missing_api_key"


class InvalidApiKey(Unauthorized):
    code = "invalid_api_key"


class InsufficientRole(Forbidden):
    code = "insufficient_role"


# --- storage -------------------------------------------------------------------------------------


class StorageError(Error):
    code = "storage_error"


class SealedDataError(StorageError):
    """Data encrypted at rest could not be opened: wrong master key or tampered bytes."""

    code = "sealed_data_error"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


def all_error_classes() -> list[type[Error]]:
    """Every error class defined here, for docs and the uniqueness test."""
    seen: list[type[Error]] = []
    stack: list[type[Error]] = [Error]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen
