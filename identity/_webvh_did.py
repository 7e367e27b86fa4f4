"""did:webvh identifier syntax (did:webvh v1.0 §"Method-Specific Identifier", §"The DID to HTTPS
Transformation") for ``identity.did_webvh``.

    webvh-did = "did:webvh:" scid ":" domain-segment 1+( "." domain-segment )
                [ percent-encoded-port ] *( ":" path-segment )
    scid = 46(base58-alphabet)
    percent-encoded-port = "%3A" ( "1" | ... | "9" ) 1*4( DIGIT )

Choices where the spec leaves room (each refuses input rather than guessing):

* the host is ASCII only, lowercase LDH labels (international names must be given in their
  ``xn--`` form): one spelling per host, so one DID per web location;
* IP addresses are refused (the spec forbids them); an all-digit top-level label is taken as an
  IPv4 address;
* the port is written ``%3A`` (upper case, as RFC 3986 §2.1 recommends) and is 10..65535;
* path segments are DID Core idchars; after percent-decoding a segment must be valid UTF-8 and
  must not be ``.``/``..`` or contain ``/``, ``\\``, ``?``, ``#`` or control characters, so a DID
  can never name a location outside its own path (path traversal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from errors import InvalidDid, InvalidEncoding
from identity.did import parse_did
from identity.encoding import b58_decode

SCID_LENGTH = 46
MULTIHASH_SHA256 = b"\x12\x20"

_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT_RE = re.compile(r"%3A([1-9][0-9]{1,4})")
_SEGMENT_RE = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
_FORBIDDEN_DECODED = re.compile(r"[/\\?#\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class WebvhDid:
    """A parsed did:webvh DID."""

    scid: str
    host: str
    port: int | None
    path: tuple[str, ...]  # percent-encoded segments, as written in the DID

    def __str__(self) -> str:
        port = f"%3A{self.port}" if self.port is not None else ""
        return ":".join([f"did:webvh:{self.scid}", self.host + port, *self.path])

    @property
    def base_url(self) -> str:
        """The HTTPS location of the DID's files, ending in ``/`` (``.well-known`` excluded)."""
        authority = self.host if self.port is None else f"{self.host}:{self.port}"
        path = "".join(segment + "/" for segment in self.path)
        return f"https://{authority}/{path}"


def check_scid(scid: object) -> str:
    """Refuse anything but a 46-character base58btc SHA-256 multihash."""
    if not isinstance(scid, str) or len(scid) != SCID_LENGTH:
        raise InvalidDid(f"the SCID must be {SCID_LENGTH} base58btc characters")
    try:
        raw = b58_decode(scid)
    except InvalidEncoding as exc:
        raise InvalidDid("the SCID is not base58btc") from exc
    if len(raw) != 34 or raw[:2] != MULTIHASH_SHA256:
        raise InvalidDid("the SCID is not a SHA-256 multihash")
    return scid


def check_host(host: str) -> str:
    if len(host) > 253:
        raise InvalidDid("the domain name is longer than 253 characters")
    labels = host.split(".")
    if len(labels) < 2:
        raise InvalidDid("the domain must be a fully qualified name (at least two labels)")
    for label in labels:
        if _LABEL_RE.fullmatch(label) is None:
            raise InvalidDid(f"domain label {label!r} is not a lowercase LDH label")
    if labels[-1].isdigit():
        raise InvalidDid("IP addresses are not allowed as did:webvh domains")
    return host


def check_segment(segment: str) -> str:
    if _SEGMENT_RE.fullmatch(segment) is None:
        raise InvalidDid(f"path segment {segment!r} has characters outside DID Core idchar")
    try:
        decoded = unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidDid(f"path segment {segment!r} is not percent-encoded UTF-8") from exc
    if decoded in (".", "..") or _FORBIDDEN_DECODED.search(decoded):
        raise InvalidDid(f"path segment {segment!r} would leave the DID's path")
    return segment


def parse_webvh_did(did: object) -> WebvhDid:
    """Parse and check a did:webvh DID, raising ``InvalidDid``."""
    parsed = parse_did(did)  # type: ignore[arg-type]  # parse_did refuses non-strings
    if parsed.method != "webvh":
        raise InvalidDid("not a did:webvh DID")
    parts = parsed.method_specific_id.split(":")
    if len(parts) < 2:
        raise InvalidDid("a did:webvh DID is did:webvh:<scid>:<domain>[:<path>...]")
    scid = check_scid(parts[0])
    authority = parts[1]
    port: int | None = None
    marker = authority.find("%3A")
    if marker != -1:
        match = _PORT_RE.fullmatch(authority[marker:])
        if match is None or int(match.group(1)) > 65535:
            raise InvalidDid("the port must be written %3A followed by 10..65535")
        port = int(match.group(1))
        authority = authority[:marker]
    if "%" in authority:
        raise InvalidDid("the domain must not be percent-encoded (except the %3A port)")
    host = check_host(authority)
    path = tuple(check_segment(segment) for segment in parts[2:])
    return WebvhDid(scid, host, port, path)


def build_webvh_did(scid: str, domain: str, path: object = None, port: int | None = None) -> str:
    """The did:webvh DID for ``domain``/``path``/``port`` (checked), with ``scid`` (which may be
    the ``{SCID}`` placeholder while creating)."""
    if not isinstance(domain, str):
        raise InvalidDid("domain must be a string")
    check_host(domain)
    if path is None:
        segments: tuple[str, ...] = ()
    elif isinstance(path, str):
        segments = tuple(path.strip("/").split("/")) if path.strip("/") else ()
    elif isinstance(path, list | tuple):
        segments = tuple(path)
    else:
        raise InvalidDid("path must be a string or a sequence of segments")
    for segment in segments:
        if not isinstance(segment, str):
            raise InvalidDid("path segments must be strings")
        check_segment(segment)
    if port is not None and (
        not isinstance(port, int) or isinstance(port, bool) or not 10 <= port <= 65535
    ):
        raise InvalidDid("port must be an integer in 10..65535")
    return str(WebvhDid(scid, domain, port, segments))
