"""DID and DID URL syntax (W3C DID Core 1.0 §3.1 "DID Syntax", §3.2 "DID URL Syntax").

::

    did                = "did:" method-name ":" method-specific-id
    method-name        = 1*method-char
    method-char        = %x61-7A / DIGIT
    method-specific-id = *( *idchar ":" ) 1*idchar
    idchar             = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
    did-url            = did path-abempty [ "?" query ] [ "#" fragment ]   (RFC 3986 rules)

Parsing is syntax only; whether a method exists or an identifier decodes is the method's job.

    >>> parse_did_url("did:key:z6Mk#z6Mk").fragment
    'z6Mk'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from errors import InvalidDid, InvalidDidUrl

__all__ = ["MAX_DID_LENGTH", "Did", "DidUrl", "parse_did", "parse_did_url"]

# Far above any DID we handle (a did:jwk with a P-256 key and a kid is ~300 characters), far
# below what would make the parsers or base58 decoding slow.
MAX_DID_LENGTH = 4096

_METHOD_RE = re.compile(r"[a-z0-9]+")
_IDCHARS_RE = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})*")
# RFC 3986 §3.3 pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
_PCHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
_PATH_RE = re.compile(rf"(?:/{_PCHAR}*)*")
_QUERY_RE = re.compile(rf"(?:{_PCHAR}|[/?])*")  # §3.4; fragment (§3.5) has the same grammar


@dataclass(frozen=True, slots=True)
class Did:
    """A syntactically valid DID: ``did:<method>:<method_specific_id>``."""

    method: str
    method_specific_id: str

    def __str__(self) -> str:
        return f"did:{self.method}:{self.method_specific_id}"


@dataclass(frozen=True, slots=True)
class DidUrl:
    """A DID URL. ``path`` is ``""`` or starts with ``/``; ``query``/``fragment`` are ``None``
    when absent (``""`` when present but empty, as RFC 3986 §5.3 distinguishes)."""

    did: Did
    path: str = ""
    query: str | None = None
    fragment: str | None = None

    def __str__(self) -> str:
        out = str(self.did) + self.path
        if self.query is not None:
            out += "?" + self.query
        if self.fragment is not None:
            out += "#" + self.fragment
        return out


def _split_did(text: str, error: type[InvalidDid] | type[InvalidDidUrl]) -> tuple[Did, str]:
    """Parse the DID at the start of ``text``; return it and the rest (path, query, fragment)."""
    if not isinstance(text, str):
        raise error("a DID must be a string")
    if len(text) > MAX_DID_LENGTH:
        raise error(f"longer than {MAX_DID_LENGTH} characters")
    if not text.startswith("did:"):
        raise error("must start with 'did:'")
    method, sep, rest = text[4:].partition(":")
    if not sep:
        raise error("missing ':' after the method name")
    if _METHOD_RE.fullmatch(method) is None:
        raise error("method name must be one or more of [a-z0-9]")
    end = len(rest)
    for delimiter in "/?#":
        position = rest.find(delimiter)
        if position != -1:
            end = min(end, position)
    msid, tail = rest[:end], rest[end:]
    segments = msid.split(":")
    if not segments[-1]:
        raise error("method-specific-id must not be empty or end with ':'")
    for segment in segments:
        if _IDCHARS_RE.fullmatch(segment) is None:
            raise error("method-specific-id has characters outside DID Core §3.1 idchar")
    return Did(method, msid), tail


def parse_did(text: str) -> Did:
    """Parse a bare DID (no path, query or fragment), raising ``InvalidDid``."""
    did, tail = _split_did(text, InvalidDid)
    if tail:
        raise InvalidDid("a DID must not have a path, query or fragment")
    return did


def parse_did_url(text: str) -> DidUrl:
    """Parse a DID URL (DID Core §3.2), raising ``InvalidDidUrl``."""
    did, tail = _split_did(text, InvalidDidUrl)
    rest, hash_sign, fragment = tail.partition("#")
    path, question_mark, query = rest.partition("?")
    if _PATH_RE.fullmatch(path) is None:
        raise InvalidDidUrl("DID URL path has characters outside RFC 3986 pchar")
    if question_mark and _QUERY_RE.fullmatch(query) is None:
        raise InvalidDidUrl("DID URL query has characters outside RFC 3986 §3.4")
    if hash_sign and _QUERY_RE.fullmatch(fragment) is None:
        raise InvalidDidUrl("DID URL fragment has characters outside RFC 3986 §3.5")
    return DidUrl(
        did,
        path,
        query if question_mark else None,
        fragment if hash_sign else None,
    )
