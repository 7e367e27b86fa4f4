"""Errors specific to credentials, each a subclass of one category in the root ``errors.py``.

The category decides the HTTP status (``api/errors.py``); the ``code`` is the stable snake_case
name a verdict or an API answer reports. Structural problems (a token that cannot be read) are
``InvalidInput``; a well-formed token that fails a check is ``VerificationFailed``.
"""

from __future__ import annotations

from errors import Conflict, InvalidInput, VerificationFailed

__all__ = [
    "AudienceMismatch",
    "DuplicateDigest",
    "HolderMismatch",
    "InvalidCredential",
    "InvalidDisclosure",
    "InvalidStatusList",
    "IssuerMismatch",
    "KeyBindingInvalid",
    "KeyBindingMissing",
    "MalformedToken",
    "NonceMismatch",
    "SdHashMismatch",
    "StatusIndexOutOfRange",
    "StatusListFull",
    "StatusListTooLarge",
    "StatusListTooShort",
    "TokenExpired",
    "TokenNotYetValid",
    "UnreferencedDisclosure",
    "UnsupportedCriticalHeader",
    "WrongTokenType",
]


# --- reading tokens ------------------------------------------------------------------------------


class MalformedToken(InvalidInput):
    """Not a well-formed compact JWS / SD-JWT: wrong segment count, non-canonical base64url,
    invalid or duplicate-member JSON, over the size limits."""

    code = "malformed_token"


class UnsupportedCriticalHeader(InvalidInput):
    """A ``crit`` header naming an extension we do not understand, or ``b64: false`` (RFC 7515
    §4.1.11, RFC 7797)."""

    code = "unsupported_critical_header"


class InvalidDisclosure(InvalidInput):
    """An SD-JWT disclosure that is malformed or misplaced (RFC 9901 §7.1): not a 2/3-element
    array, a reserved claim name (``_sd``, ``...``), a name that already exists at its level, an
    array-element disclosure referenced from ``_sd`` or the reverse, ``_sd_alg`` below the top."""

    code = "invalid_disclosure"


class InvalidCredential(InvalidInput):
    """A credential whose shape breaks its data model (VCDM 2.0, VC-JOSE-COSE, SD-JWT VC)."""

    code = "invalid_credential"


class InvalidStatusList(InvalidInput):
    """A status list or status reference that cannot be decoded."""

    code = "invalid_status_list"


class StatusListTooLarge(InvalidStatusList):
    """A compressed status list that inflates beyond the limit (a decompression bomb)."""

    code = "status_list_too_large"


class StatusListTooShort(InvalidStatusList):
    """A W3C Bitstring Status List below the minimum length (STATUS_LIST_LENGTH_ERROR)."""

    code = "status_list_too_short"


class StatusIndexOutOfRange(InvalidStatusList):
    """A status index beyond the list (W3C RANGE_ERROR; TSL: no statement, reject)."""

    code = "status_index_out_of_range"


class StatusListFull(Conflict):
    """No free index is left in the status list; the caller opens a new list."""

    code = "status_list_full"


# --- verification outcomes -----------------------------------------------------------------------


class WrongTokenType(VerificationFailed):
    """The JOSE ``typ`` header is not the one this kind of token must carry (RFC 8725 §3.11)."""

    code = "wrong_token_type"


class DuplicateDigest(VerificationFailed):
    """A digest (or a disclosure) that appears more than once (RFC 9901 §7.1)."""

    code = "duplicate_digest"


class UnreferencedDisclosure(VerificationFailed):
    """A disclosure no digest in the SD-JWT points to (RFC 9901 §7.1)."""

    code = "unreferenced_disclosure"


class KeyBindingMissing(VerificationFailed):
    """Key binding is required by policy but the presentation carries no KB-JWT."""

    code = "key_binding_missing"


class KeyBindingInvalid(VerificationFailed):
    """The KB-JWT is present but unusable: no ``cnf`` key, bad ``iat``, missing claims."""

    code = "key_binding_invalid"


class NonceMismatch(VerificationFailed):
    code = "nonce_mismatch"


class AudienceMismatch(VerificationFailed):
    code = "audience_mismatch"


class SdHashMismatch(VerificationFailed):
    code = "sd_hash_mismatch"


class TokenExpired(VerificationFailed):
    code = "token_expired"


class TokenNotYetValid(VerificationFailed):
    code = "token_not_yet_valid"


class IssuerMismatch(VerificationFailed):
    """Two statements of the issuer disagree (JWT ``iss`` vs VC ``issuer``)."""

    code = "issuer_mismatch"


class HolderMismatch(VerificationFailed):
    """A presented credential is not bound to the presenter (``cnf`` key or subject id)."""

    code = "holder_mismatch"
