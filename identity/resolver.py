"""DID resolution and verification-method dereferencing.

Specs: W3C DID Resolution (the ``resolve(did, options)`` abstract function and the resolution
result ``didDocument`` / ``didDocumentMetadata`` / ``didResolutionMetadata``; error codes
``invalidDid``, ``methodNotSupported``, ``notFound``, ``invalidOptions``, ``internalError`` plus
the did:key spec's key codes); DID Core 1.0 §5.2 "Verification Methods", §5.3 "Verification
Relationships" for dereferencing ``did:...#fragment`` to a key.

Methods are plain callables ``(did, options) -> ResolutionResult`` registered by method name;
did:key and did:jwk are built in, others (did:webvh through the registry) are registered by the
composition root. ``Resolver.resolve`` never raises for a bad DID: the failure is a result.

    >>> Resolver().resolve("did:example:123").resolution_metadata["error"]
    'methodNotSupported'
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from errors import (
    DidDeactivated,
    DidError,
    DidNotFound,
    Error,
    InvalidDid,
    InvalidDidUrl,
    InvalidInput,
    InvalidKey,
    InvalidPublicKey,
    InvalidPublicKeyLength,
    MethodNotSupported,
    NotFound,
    ServiceUnavailable,
    UnsupportedKeyType,
    UnsupportedPublicKeyType,
)
from identity import did_jwk, did_key
from identity.did import parse_did, parse_did_url
from identity.keys import PublicKey
from identity.multikey import public_key_from_multikey

__all__ = [
    "DID_CONTENT_TYPE",
    "MethodResolver",
    "ResolutionResult",
    "Resolver",
    "resolve_verification_method",
]

DID_CONTENT_TYPE = "application/did+ld+json"

_METHOD_NAME_RE = re.compile(r"[a-z0-9]+")
_TRUE_FALSE = {"true": True, "false": False}

# Resolution error code -> the errors.py class raised when a caller needs an exception.
_ERROR_FOR_CODE: dict[str, type[Error]] = {
    "invalidDid": InvalidDid,
    "invalidDidUrl": InvalidDidUrl,
    "methodNotSupported": MethodNotSupported,
    "invalidPublicKey": InvalidPublicKey,
    "invalidPublicKeyLength": InvalidPublicKeyLength,
    "unsupportedPublicKeyType": UnsupportedPublicKeyType,
    "notFound": DidNotFound,
    "deactivated": DidDeactivated,
    "internalError": ServiceUnavailable,
}


@dataclass(frozen=True, slots=True)
class ResolutionResult:
    """The DID Resolution result. On failure ``did_document`` is None and
    ``resolution_metadata["error"]`` holds the spec's code (``errorMessage`` a human hint)."""

    did_document: dict[str, Any] | None
    document_metadata: dict[str, Any] = field(default_factory=dict)
    resolution_metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def success(
        cls, document: dict[str, Any], document_metadata: Mapping[str, Any] | None = None
    ) -> ResolutionResult:
        return cls(document, dict(document_metadata or {}), {"contentType": DID_CONTENT_TYPE})

    @classmethod
    def failure(cls, error: str, message: str = "") -> ResolutionResult:
        metadata = {"error": error}
        if message:
            metadata["errorMessage"] = message
        return cls(None, {}, metadata)

    @property
    def error(self) -> str | None:
        """The error code, or None on success."""
        error = self.resolution_metadata.get("error")
        return error if isinstance(error, str) else None

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (a deep copy: callers may change it freely)."""
        return {
            "didDocument": copy.deepcopy(self.did_document),
            "didDocumentMetadata": copy.deepcopy(self.document_metadata),
            "didResolutionMetadata": copy.deepcopy(self.resolution_metadata),
        }


MethodResolver = Callable[[str, Mapping[str, str]], ResolutionResult]


def _error_code(exc: Error) -> str:
    code = getattr(exc, "resolution_error", None)
    if isinstance(code, str):
        return code
    if isinstance(exc, InvalidKey):
        return "invalidPublicKey"
    if isinstance(exc, UnsupportedKeyType):
        return "unsupportedPublicKeyType"
    if isinstance(exc, NotFound):
        return "notFound"
    if isinstance(exc, InvalidInput):
        return "invalidDid"
    return "internalError"


def _raise_for(result: ResolutionResult) -> NoReturn:
    code = result.error or "internalError"
    message = result.resolution_metadata.get("errorMessage") or code
    raise _ERROR_FOR_CODE.get(code, DidError)(f"{code}: {message}")


def _resolve_did_key(did: str, options: Mapping[str, str]) -> ResolutionResult:
    derivation = _TRUE_FALSE.get(options.get("enableEncryptionKeyDerivation", "true"))
    if derivation is None:
        return ResolutionResult.failure(
            "invalidOptions", "enableEncryptionKeyDerivation must be 'true' or 'false'"
        )
    document = did_key.resolve(
        did,
        vm_type=options.get("publicKeyFormat", did_key.VmType.MULTIKEY),
        enable_encryption_key_derivation=derivation,
    )
    return ResolutionResult.success(document)


def _resolve_did_jwk(did: str, options: Mapping[str, str]) -> ResolutionResult:
    return ResolutionResult.success(did_jwk.resolve(did))


def _embedded_or_referenced(document: Mapping[str, Any], name: str) -> Iterator[Any]:
    entries = document.get(name)
    if isinstance(entries, list):
        yield from entries


def _find_method(document: Mapping[str, Any], did: str, fragment: str) -> dict[str, Any]:
    wanted = f"{did}#{fragment}"
    candidates = list(_embedded_or_referenced(document, "verificationMethod"))
    # Embedded methods inside relationships are methods too (DID Core §5.3, e.g. did:key's
    # embedded X25519 keyAgreement).
    for name, value in document.items():
        if name != "verificationMethod" and isinstance(value, list):
            candidates.extend(entry for entry in value if isinstance(entry, dict))
    for method in candidates:
        if isinstance(method, dict) and _absolute(method.get("id"), did) == wanted:
            return method
    raise DidNotFound(f"no verification method #{fragment} in {did}")


def _absolute(reference: object, did: str) -> object:
    # DID Core §5.3: relationship entries may be relative DID URLs ("#key-1").
    if isinstance(reference, str) and reference.startswith("#"):
        return did + reference
    return reference


def _in_relationship(document: Mapping[str, Any], name: str, method_id: str, did: str) -> bool:
    wanted = _absolute(method_id, did)
    for entry in _embedded_or_referenced(document, name):
        reference = entry.get("id") if isinstance(entry, dict) else entry
        if _absolute(reference, did) == wanted:
            return True
    return False


def _key_of(method: Mapping[str, Any]) -> PublicKey:
    has_multibase, has_jwk = "publicKeyMultibase" in method, "publicKeyJwk" in method
    if has_multibase == has_jwk:
        raise InvalidPublicKey(
            "a verification method needs exactly one of publicKeyMultibase and publicKeyJwk"
        )
    if has_multibase:
        value = method["publicKeyMultibase"]
        if not isinstance(value, str):
            raise InvalidPublicKey("publicKeyMultibase must be a string")
        return public_key_from_multikey(value)
    jwk = method["publicKeyJwk"]
    try:
        return PublicKey.from_jwk(jwk)
    except UnsupportedKeyType as exc:
        raise UnsupportedPublicKeyType(exc.message) from exc
    except InvalidInput as exc:  # InvalidKey, WeakKey, UnsupportedAlgorithm
        raise InvalidPublicKey(exc.message) from exc


class Resolver:
    """Dispatches DIDs to method resolvers; did:key and did:jwk are registered by default."""

    def __init__(self, methods: Mapping[str, MethodResolver] | None = None) -> None:
        self._methods: dict[str, MethodResolver] = {
            "key": _resolve_did_key,
            "jwk": _resolve_did_jwk,
        }
        for name, resolver in (methods or {}).items():
            self.register(name, resolver)

    @property
    def methods(self) -> tuple[str, ...]:
        """The registered method names."""
        return tuple(sorted(self._methods))

    def register(self, method: str, resolver: MethodResolver) -> None:
        """Register (or replace) the resolver for ``did:<method>:``."""
        if not isinstance(method, str) or _METHOD_NAME_RE.fullmatch(method) is None:
            raise ValueError(f"invalid DID method name {method!r}")
        self._methods[method] = resolver

    def resolve(self, did: str, options: Mapping[str, str] | None = None) -> ResolutionResult:
        """Resolve ``did``; failures come back as results with an ``error`` code, never raised.

        Exceptions that are not ``errors.Error`` are bugs, not bad input, and propagate.
        """
        try:
            parsed = parse_did(did)
        except InvalidDid as exc:
            return ResolutionResult.failure("invalidDid", exc.message)
        resolver = self._methods.get(parsed.method)
        if resolver is None:
            return ResolutionResult.failure(
                "methodNotSupported", f"DID method {parsed.method!r} is not supported"
            )
        try:
            return resolver(did, dict(options or {}))
        except Error as exc:
            return ResolutionResult.failure(_error_code(exc), exc.message)

    def resolve_verification_method(
        self,
        did_url: str,
        *,
        relationship: str | None = None,
        options: Mapping[str, str] | None = None,
    ) -> PublicKey:
        """Dereference ``did:...#fragment`` to the public key of that verification method.

        If ``relationship`` (e.g. ``"assertionMethod"``) is given, the method must be listed
        under it, by reference or embedded. Raises ``InvalidDidUrl`` for a URL without a
        fragment or with a path/query, the resolution error's class if the DID does not resolve,
        ``DidDeactivated``, ``DidNotFound`` if no such method (in that relationship) exists, and
        ``InvalidPublicKey`` / ``UnsupportedPublicKeyType`` for a key we cannot use.
        """
        url = parse_did_url(did_url)
        if not url.fragment or url.path or url.query is not None:
            raise InvalidDidUrl("expected a DID URL of the form did:...#fragment")
        did = str(url.did)
        result = self.resolve(did, options)
        document = result.did_document
        if result.error is not None or document is None:
            _raise_for(result)
        if result.document_metadata.get("deactivated") is True:
            raise DidDeactivated(f"{did} is deactivated")
        method = _find_method(document, did, url.fragment)
        if relationship is not None and not _in_relationship(
            document, relationship, method["id"], did
        ):
            raise DidNotFound(f"#{url.fragment} is not a {relationship} method of {did}")
        return _key_of(method)


_DEFAULT_RESOLVER = Resolver()


def resolve_verification_method(
    did_url: str, *, relationship: str | None = None, resolver: Resolver | None = None
) -> PublicKey:
    """``Resolver.resolve_verification_method`` on ``resolver`` (default: did:key and did:jwk)."""
    return (resolver or _DEFAULT_RESOLVER).resolve_verification_method(
        did_url, relationship=relationship
    )
