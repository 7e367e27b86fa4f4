"""Registry entries: the typed, signed, canonical JSON records that become the log's leaves.

An entry is RFC 8785 (JCS) canonical JSON, at most ``MAX_ENTRY_BYTES``::

    {"v": 1, "log": <origin>, "type": <EntryType>, "subject": <str>, "prev": <index | null>,
     "time": "<UTC, seconds, Z>", "nonce": <b64url 16 bytes>, "payload": {...},
     "writer": <writer DID>, "sigs": [{"kid": <RFC 7638 thumbprint>, "sig": <b64url Ed25519>}]}

Every subject (a DID, a status list URI, an institution for governance) is a hash chain inside
the one tree: ``prev`` is the index of the subject's previous entry (``null`` for its first), and
the log refuses a second entry with the same ``(subject, prev)``, so a replayed or forked chain
cannot be appended.

Signatures are Ed25519 over ``b"kyc-registry/entry/v1\\n" || JCS(entry without "sigs")``: the
domain prefix keeps a registry signature from being valid anywhere else, and the signed bytes bind
the log origin, subject and ``prev`` so an entry cannot be replayed into another log or chain.

No personal data can enter: each type's payload has a strict schema and unknown fields are
refused. The payloads hold DIDs, public keys, URLs and hashes only.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

from errors import InvalidSignature, InvalidValue, WrongType
from identity.did import parse_did
from identity.encoding import b64url_decode, b64url_encode
from identity.keys import KeyType, PrivateKey, PublicKey

__all__ = [
    "DOMAIN",
    "MAX_ENTRY_BYTES",
    "Entry",
    "EntryType",
    "Signature",
    "canonical",
    "parse_entry",
    "sign_entry",
]

DOMAIN = b"kyc-registry/entry/v1\n"
MAX_ENTRY_BYTES = 65_535  # the tlog-tiles entry bundle length prefix is 16 bits
MAX_SIGNATURES = 16
ROLES = ("issuer", "writer")
STATUS_PURPOSES = ("revocation", "suspension", "status")

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?")


class EntryType(enum.StrEnum):
    DID_ENTRY = "did.entry"
    STATUS_PUBLISH = "status.publish"
    WRITER_ADD = "writer.add"
    WRITER_REMOVE = "writer.remove"

    @property
    def is_governance(self) -> bool:
        return self in (EntryType.WRITER_ADD, EntryType.WRITER_REMOVE)


@dataclass(frozen=True, slots=True)
class Signature:
    kid: str
    sig: bytes


@dataclass(frozen=True, slots=True)
class Entry:
    """A parsed, schema-checked entry. ``data`` is its exact canonical bytes (the leaf)."""

    log: str
    type: EntryType
    subject: str
    prev: int | None
    time: str
    nonce: str
    payload: Mapping[str, Any]
    writer: str
    signatures: tuple[Signature, ...]
    data: bytes
    message: bytes  # what the signatures cover: DOMAIN || JCS(entry without "sigs")

    def signed_bytes(self) -> bytes:
        return self.message

    def verify_signature(self, key: PublicKey, kid: str | None = None) -> None:
        """Check that ``key`` (whose thumbprint is ``kid``, computed if not given) made one of
        the signatures; raise InvalidSignature otherwise."""
        kid = kid or key.thumbprint()
        for signature in self.signatures:
            if signature.kid == kid:
                key.verify(signature.sig, self.message)
                return
        raise InvalidSignature(f"entry is not signed by key {kid}")

    def to_json(self) -> dict[str, Any]:
        body = _unsigned_dict(self)
        body["sigs"] = [{"kid": s.kid, "sig": b64url_encode(s.sig)} for s in self.signatures]
        return body


def canonical(value: Any, *, plain: bool | None = None) -> bytes:
    """RFC 8785 (JCS) bytes of ``value``.

    Fast path: for JSON made only of strings with ASCII member names, integers within
    ±(2**53 - 1), booleans, null, lists and objects, sorted compact ``json.dumps`` output is
    byte-identical to JCS (no floats to format; member order by code point equals UTF-16 order
    for ASCII names). Anything else goes through the ``rfc8785`` library. ``plain`` skips the
    check when the caller already knows.
    """
    if plain if plain is not None else _plain(value):
        try:
            return json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let the library refuse it with its own message
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidValue(f"entry cannot be canonicalised: {exc}") from exc


_MAX_SAFE = 2**53 - 1


def _plain(value: Any) -> bool:
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if -_MAX_SAFE <= item <= _MAX_SAFE:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            extend(item.values())
        elif kind is list:
            extend(item)
        else:
            return False
    return True


def sign_entry(
    *,
    log: str,
    entry_type: EntryType,
    subject: str,
    prev: int | None,
    time: str,
    nonce: bytes,
    payload: Mapping[str, Any],
    writer: str,
    keys: Sequence[PrivateKey],
) -> Entry:
    """Build and sign an entry with each of ``keys`` (Ed25519); return it parsed and checked."""
    unsigned = {
        "v": 1,
        "log": log,
        "type": str(entry_type),
        "subject": subject,
        "prev": prev,
        "time": time,
        "nonce": b64url_encode(nonce),
        "payload": dict(payload),
        "writer": writer,
    }
    message = DOMAIN + canonical(unsigned)
    sigs = []
    for key in keys:
        if key.public_key.key_type is not KeyType.ED25519:
            raise InvalidValue("registry entries are signed with Ed25519 keys")
        sigs.append({"kid": key.public_key.thumbprint(), "sig": b64url_encode(key.sign(message))})
    return parse_entry(canonical({**unsigned, "sigs": sigs}))


def parse_entry(data: bytes, *, expected_log: str | None = None) -> Entry:
    """Parse entry bytes strictly: canonical JCS, known type, strict payload schema.

    Signatures are parsed here but checked against the writer set by the caller (the log), since
    who may sign depends on the log's governance state at that index.
    """
    if len(data) > MAX_ENTRY_BYTES:
        raise InvalidValue(f"entry is larger than {MAX_ENTRY_BYTES} bytes")
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidValue("entry is not valid UTF-8 JSON") from exc
    if not isinstance(value, dict):
        raise WrongType("entry must be a JSON object")
    plain = _plain(value)
    if canonical(value, plain=plain) != data:
        raise InvalidValue("entry is not in RFC 8785 canonical form")
    _exact_keys(
        value,
        {"v", "log", "type", "subject", "prev", "time", "nonce", "payload", "writer", "sigs"},
        "entry",
    )
    if value["v"] != 1 or isinstance(value["v"], bool):
        raise InvalidValue("entry version must be 1")
    log = _string(value, "log", 1, 200)
    if expected_log is not None and log != expected_log:
        raise InvalidValue(f"entry is for log {log!r}, not {expected_log!r}")
    try:
        entry_type = EntryType(value["type"])
    except (ValueError, TypeError) as exc:
        raise InvalidValue(f"unknown entry type {value['type']!r}") from exc
    subject = _string(value, "subject", 1, 2048)
    prev = value["prev"]
    if prev is not None and (not isinstance(prev, int) or isinstance(prev, bool) or prev < 0):
        raise InvalidValue("prev must be null or a non-negative integer")
    time = _string(value, "time", 20, 20)
    if not _TIME.fullmatch(time):
        raise InvalidValue("time must be UTC as YYYY-MM-DDTHH:MM:SSZ")
    nonce = _string(value, "nonce", 22, 22)
    if len(b64url_decode(nonce)) != 16:
        raise InvalidValue("nonce must be 16 bytes")
    writer = _string(value, "writer", 8, 2048)
    parse_did(writer)
    payload = value["payload"]
    if not isinstance(payload, dict):
        raise WrongType("payload must be an object")
    _check_payload(entry_type, subject, payload)
    signatures = _signatures(value["sigs"])
    unsigned = {k: v for k, v in value.items() if k != "sigs"}
    message = DOMAIN + canonical(unsigned, plain=plain)
    return Entry(
        log, entry_type, subject, prev, time, nonce, payload, writer, signatures, data, message
    )


# --- payload schemas, one per type --------------------------------------------------------------


def _check_payload(entry_type: EntryType, subject: str, payload: Mapping[str, Any]) -> None:
    if entry_type is EntryType.WRITER_ADD:
        _exact_keys(payload, {"did", "registry_key", "roles"}, "payload")
        _did_subject(payload, subject)
        key = payload["registry_key"]
        if not isinstance(key, dict):
            raise WrongType("payload.registry_key must be a JWK object")
        public = PublicKey.from_jwk(key)  # refuses weak, malformed and private keys
        if public.key_type is not KeyType.ED25519:
            raise InvalidValue("payload.registry_key must be an Ed25519 key")
        roles = payload["roles"]
        if (
            not isinstance(roles, list)
            or not roles
            or len(set(roles)) != len(roles)
            or any(r not in ROLES for r in roles)
        ):
            raise InvalidValue(f"payload.roles must be a non-empty set of {list(ROLES)}")
    elif entry_type is EntryType.WRITER_REMOVE:
        _exact_keys(payload, {"did"}, "payload")
        _did_subject(payload, subject)
    elif entry_type is EntryType.STATUS_PUBLISH:
        _exact_keys(payload, {"list_uri", "version", "token_sha256", "purpose"}, "payload")
        uri = _string(payload, "list_uri", 8, 2048)
        if not _URL.fullmatch(uri) or uri != subject:
            raise InvalidValue("payload.list_uri must be an http(s) URL equal to the subject")
        version = payload["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidValue("payload.version must be a positive integer")
        if not isinstance(payload["token_sha256"], str) or not _HEX64.fullmatch(
            payload["token_sha256"]
        ):
            raise InvalidValue("payload.token_sha256 must be 64 lowercase hex digits")
        if payload["purpose"] not in STATUS_PURPOSES:
            raise InvalidValue(f"payload.purpose must be one of {list(STATUS_PURPOSES)}")
    elif entry_type is EntryType.DID_ENTRY:
        _exact_keys(payload, {"log_entry"}, "payload")
        parse_did(subject)
        _check_did_log_entry(payload["log_entry"])


# did:webvh v1.0 log entry members and parameters; DID documents may hold keys and services only.
_LOG_ENTRY_KEYS = {"versionId", "versionTime", "parameters", "state", "proof"}
_PARAMETER_KEYS = {"method", "scid", "updateKeys", "nextKeyHashes", "portable", "deactivated",
                   "witness", "watchers", "ttl"}
_DOCUMENT_KEYS = {"@context", "id", "controller", "alsoKnownAs", "verificationMethod",
                  "authentication", "assertionMethod", "keyAgreement", "capabilityInvocation",
                  "capabilityDelegation", "service"}
_METHOD_KEYS = {"id", "type", "controller", "publicKeyMultibase", "publicKeyJwk"}
_SERVICE_KEYS = {"id", "type", "serviceEndpoint"}
_ENDPOINT = re.compile(r"(https?://|did:)[^\s]{1,2040}")


def _check_did_log_entry(entry: Any) -> None:
    """The shape of a did:webvh log entry whose document carries nothing but keys and services.

    The did:webvh rules themselves (SCID, hash chain, proofs) are checked by whoever anchors or
    resolves the log; this check keeps personal data out of the registry.
    """
    if not isinstance(entry, dict):
        raise WrongType("payload.log_entry must be a did:webvh log entry object")
    _subset(entry, _LOG_ENTRY_KEYS, "log_entry")
    parameters = entry.get("parameters", {})
    if not isinstance(parameters, dict):
        raise WrongType("log_entry.parameters must be an object")
    _subset(parameters, _PARAMETER_KEYS, "log_entry.parameters")
    document = entry.get("state", {})
    if not isinstance(document, dict):
        raise WrongType("log_entry.state must be a DID document")
    _subset(document, _DOCUMENT_KEYS, "DID document")
    for did in document.get("alsoKnownAs", []):
        if not isinstance(did, str) or not did.startswith("did:"):
            raise InvalidValue("alsoKnownAs may only name DIDs")
    for method in document.get("verificationMethod", []):
        if not isinstance(method, dict):
            raise WrongType("verification methods must be objects")
        _subset(method, _METHOD_KEYS, "verification method")
    for relationship in ("authentication", "assertionMethod", "keyAgreement",
                         "capabilityInvocation", "capabilityDelegation"):
        for item in document.get(relationship, []):
            if isinstance(item, dict):
                _subset(item, _METHOD_KEYS, relationship)
            elif not isinstance(item, str):
                raise WrongType(f"{relationship} items must be references or methods")
    for service in document.get("service", []):
        if not isinstance(service, dict):
            raise WrongType("services must be objects")
        _subset(service, _SERVICE_KEYS, "service")
        endpoint = service.get("serviceEndpoint")
        if not isinstance(endpoint, str) or not _ENDPOINT.fullmatch(endpoint):
            raise InvalidValue("a service endpoint must be one http(s) URL or DID")


def _subset(value: Mapping[str, Any], allowed: set[str], what: str) -> None:
    extra = set(value) - allowed
    if extra:
        raise InvalidValue(f"{what} has fields that may not enter the registry: {sorted(extra)}")


def _did_subject(payload: Mapping[str, Any], subject: str) -> None:
    did = _string(payload, "did", 8, 2048)
    parse_did(did)
    if did != subject:
        raise InvalidValue("payload.did must equal the entry subject")


def _signatures(raw: Any) -> tuple[Signature, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_SIGNATURES:
        raise InvalidValue(f"sigs must be a list of 1 to {MAX_SIGNATURES} signatures")
    result = []
    for item in raw:
        if not isinstance(item, dict):
            raise WrongType("each signature must be an object")
        _exact_keys(item, {"kid", "sig"}, "signature")
        kid = _string(item, "kid", 43, 43)
        b64url_decode(kid)
        sig = b64url_decode(_string(item, "sig", 86, 86))
        result.append(Signature(kid, sig))
    if len({s.kid for s in result}) != len(result):
        raise InvalidValue("each key may sign an entry once")
    return tuple(result)


def _unsigned_dict(entry: Entry) -> dict[str, Any]:
    return {
        "v": 1,
        "log": entry.log,
        "type": str(entry.type),
        "subject": entry.subject,
        "prev": entry.prev,
        "time": entry.time,
        "nonce": entry.nonce,
        "payload": dict(entry.payload),
        "writer": entry.writer,
    }


def _exact_keys(value: Mapping[str, Any], expected: set[str], what: str) -> None:
    keys = set(value)
    if keys - expected:
        raise InvalidValue(f"{what} has unknown fields {sorted(keys - expected)}")
    if expected - keys:
        raise InvalidValue(f"{what} is missing fields {sorted(expected - keys)}")


def _string(value: Mapping[str, Any], name: str, shortest: int, longest: int) -> str:
    item = value[name]
    if not isinstance(item, str):
        raise WrongType(f"{name} must be a string")
    if not shortest <= len(item) <= longest:
        raise InvalidValue(f"{name} must be {shortest} to {longest} characters")
    return item


def _no_constant(name: str) -> Any:
    raise InvalidValue(f"{name} is not valid JSON")
