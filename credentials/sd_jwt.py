"""Selective Disclosure for JWTs (SD-JWT, RFC 9901) and the SD-JWT VC profile.

Specs: RFC 9901 §4 (format: ``<issuer-JWT>~<D1>~...~<Dn>~[<KB-JWT>]``), §4.1.1 (``_sd_alg``),
§4.2 (disclosures, digests, ``_sd``, ``{"...": digest}``, decoys), §4.3 (KB-JWT), §5 (issuance),
§6 (presentation), §7.1 and §7.3 (verification, in order), §9.7 (validity claims);
draft-ietf-oauth-sd-jwt-vc-18 (``typ: dc+sd-jwt``, ``vct``, claims that are never disclosable).

Three roles, three functions; time and randomness are parameters:

* ``issue(claims, issuer_key, ...)`` - claims mark what is selectively disclosable with ``SD``
  (a key wrapper for object properties, a value wrapper for array elements) or with ``sd_paths``;
* ``present(sd_jwt, disclose=..., kb_key=..., nonce=..., aud=..., iat=...)`` - the holder keeps
  the disclosures on the chosen claim paths and signs a KB-JWT over the exact string;
* ``verify(presentation, resolver, ...)`` - RFC 9901 §7 step by step, returning the processed
  payload in a ``VerifiedSdJwt``.

    >>> from identity.keys import KeyType, PrivateKey
    >>> issuer = PrivateKey.from_private_bytes(KeyType.P256, bytes(31) + b"\\x01")
    >>> holder = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32))
    >>> sd_jwt = issue({"iss": "https://issuer.example", SD("given_name"): "Erika",
    ...                 SD("family_name"): "Mustermann"}, issuer,
    ...                header={"typ": "example+sd-jwt"}, holder_key=holder.public_key)
    >>> shown = present(sd_jwt, disclose=[("given_name",)], kb_key=holder,
    ...                 nonce="n-0S6", aud="https://verifier.example", iat=1_700_000_000)
    >>> result = verify(shown, lambda header, claims: issuer.public_key,
    ...                 expected_typ="example+sd-jwt", expected_nonce="n-0S6",
    ...                 expected_aud="https://verifier.example", now=1_700_000_010)
    >>> sorted(result.claims)
    ['cnf', 'given_name', 'iss']
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import secrets
import struct
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from credentials import _json, jose
from credentials.errors import (
    AudienceMismatch,
    DuplicateDigest,
    InvalidCredential,
    InvalidDisclosure,
    KeyBindingInvalid,
    KeyBindingMissing,
    MalformedToken,
    NonceMismatch,
    SdHashMismatch,
    TokenExpired,
    TokenNotYetValid,
    UnreferencedDisclosure,
)
from errors import InvalidEncoding, InvalidInput, UnsupportedAlgorithm
from identity.encoding import b64url_decode, b64url_encode
from identity.keys import Algorithm, PrivateKey, PublicKey

__all__ = [
    "ALL",
    "KB_JWT_TYP",
    "NEVER_DISCLOSABLE_VC_CLAIMS",
    "SD",
    "SD_JWT_VC_TYP",
    "Disclosure",
    "IssuerKeyResolver",
    "ParsedSdJwt",
    "VerifiedSdJwt",
    "issue",
    "issue_sd_jwt_vc",
    "mark_paths",
    "parse",
    "present",
    "sd_hash",
    "verify",
    "verify_sd_jwt_vc",
]

KB_JWT_TYP: Final = "kb+jwt"
SD_JWT_VC_TYP: Final = "dc+sd-jwt"
DEFAULT_HASH: Final = "sha-256"

# SD-JWT VC §3.2.2: claims (with everything under them) that MUST NOT be selectively disclosable.
NEVER_DISCLOSABLE_VC_CLAIMS: Final = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "aka_vcts", "status"}
)

# Only SHA-256 (the default that RFC 9901 §4.1.1 requires everyone to support). Truncated hashes
# (sha-256-32 ...) and anything weaker are refused (security considerations, preimage resistance).
_HASHES: Final[dict[str, Callable[[bytes], Any]]] = {"sha-256": hashlib.sha256}
_RESERVED_NAMES: Final = frozenset({"_sd", "..."})

MAX_PRESENTATION_LENGTH: Final = 1024 * 1024
MAX_DISCLOSURES: Final = 1024
MAX_DISCLOSURE_LENGTH: Final = 64 * 1024
SALT_BYTES: Final = 16  # 128 bits (RFC 9901 §9.3)
# Issuance draws randomness in blocks of this size (enough for a dozen salts and the decoys
# beside them), every byte used once, so that one credential costs one system call, not twenty.
_RANDOM_BLOCK: Final = 512
DEFAULT_LEEWAY: Final = 60
DEFAULT_KB_MAX_AGE: Final = 300


class _All:
    def __repr__(self) -> str:
        return "ALL"


ALL: Final = _All()
"""``present(..., disclose=ALL)``: disclose everything."""

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SD:
    """Marks something selectively disclosable in the claims given to ``issue``.

    As an object key, ``{SD("name"): value}`` hides the property; as an array element,
    ``[SD(value)]`` hides the element. Markers nest: the value may contain more markers.
    """

    value: Any


def _hash(alg: str, data: str) -> str:
    return b64url_encode(_HASHES[alg](data.encode("ascii")).digest())


# --- writing disclosures (issuance) ---------------------------------------------------------------
# Each disclosure is serialised once, base64url-encoded once and hashed once (over the base64url
# bytes, which are its ASCII text). The JSON is what ``json.dumps(array, ensure_ascii=False,
# allow_nan=False)`` writes - RFC 9901 §4.2.1's ", " between items, non-ASCII kept - with the
# common scalars written directly instead of through a fresh ``json.JSONEncoder`` per call.

_quote: Final = json.encoder.encode_basestring  # a JSON string, non-ASCII kept (as json.dumps)
_DISCLOSURE_JSON: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_DIGESTS_JOIN: Final = b'","'.join
_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")
_PAD_NEWLINE: Final = b"=\n"  # deleted by the same translate
_SCALARS: Final = frozenset({str, int, bool, float, type(None)})
_sha256: Final = hashlib.sha256


def _b64(data: bytes) -> bytes:
    """``b64url_encode`` as ASCII bytes (see there: two replaces, not a translate)."""
    return _b2a(data, newline=False).replace(b"+", b"-").replace(b"/", b"_").rstrip(b"=")


_b2a: Final = binascii.b2a_base64
_ZERO: Final = b"\x00"
_SALT_BATCH: Final = 16  # salts made at once (256 bytes: half a _RANDOM_BLOCK)
# The draws, split; the draws each followed by two zero bytes; the base64url of that, split into
# the salts (22 characters of every 24, and the newline at the end).
_SALT_DRAWS: Final = struct.Struct(f"{SALT_BYTES}s" * _SALT_BATCH)
_SALT_GROUPS: Final = struct.Struct(f"{SALT_BYTES}s2x" * _SALT_BATCH)
_SALT_TEXTS: Final = struct.Struct("22s2x" * _SALT_BATCH + "x")


def _digests_b64(digests: list[bytes]) -> list[str]:
    """The base64url of each of these 32-byte digests (see ``_digest_texts``)."""
    return list(map(_ascii, _digest_texts(digests)))  # no Python-level loop


def _digest_texts(digests: list[bytes]) -> list[bytes]:
    """The base64url of each of these 32-byte digests as ASCII bytes, in one encoder call: each
    digest and one zero byte make a 33-byte group, which encodes to 44 characters; the first 43
    are exactly the digest's own base64url (its last 4 bits are followed by zero bits, as with
    padding). Bytes, because the top-level ``_sd`` is sorted and joined without ever needing
    one ``str`` per digest (ASCII bytes sort as their text does)."""
    count = len(digests)
    if not count:
        return []
    layout = _DIGEST_LAYOUTS.get(count)
    if layout is None:
        layout = struct.Struct("43sx" * count + "x")  # and the newline at the end
        if len(_DIGEST_LAYOUTS) < 128:
            _DIGEST_LAYOUTS[count] = layout
    text = _b2a(_ZERO.join(digests) + _ZERO).replace(b"+", b"-").replace(b"/", b"_")
    return list(layout.unpack(text))


# The struct layouts splitting n decoy draws of 32 bytes, by n (0 to 64, the most decoys allowed):
# made once rather than from a format string for every object that has decoys.
_DECOY_DRAWS: Final = tuple(struct.Struct("32s" * count) for count in range(65))

# struct layouts splitting the encoding of n digests, by n (an object's _sd holds its hidden
# claims and its decoys, so a few sizes recur); at most 128 are kept.
_DIGEST_LAYOUTS: dict[int, struct.Struct] = {}
_ascii: Final = bytes.decode  # UTF-8, which base64url text is
# The hash objects' own digest method, called through map: a methodcaller looks the name up on
# every call and costs about as much again as the digest itself.
_digest: Final = type(_sha256()).digest


def _json_value(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)  # what json.dumps writes (ValueError past the digit limit)
    if value is None:
        return "null"
    return _DISCLOSURE_JSON(value)  # floats (NaN refused), objects, arrays, anything else


def _disclosure_b64(salt_json: str, name: str | None, value: Any) -> bytes:
    """base64url(UTF-8(JSON array)) of a disclosure whose salt is already JSON (``salt_json``)."""
    try:
        if name is None:
            text = f"[{salt_json}, {_json_value(value)}]"
        else:
            text = f"[{salt_json}, {_quote(name)}, {_json_value(value)}]"
        return _b64(text.encode("utf-8"))  # refuses lone surrogates
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"disclosure cannot be serialised as JSON: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One disclosure: ``encoded`` is the base64url string exactly as issued (RFC 9901 §4.2.3:
    digests are over this string, never over a re-serialisation)."""

    encoded: str
    salt: str
    name: str | None  # None for an array element (2-element form)
    value: Any

    @classmethod
    def create(cls, salt: str, name: str | None, value: Any) -> Disclosure:
        """Build a disclosure the way RFC 9901 §4.2.1 prints them (JSON with ``", "`` separators,
        non-ASCII kept), so the RFC's salts reproduce its published digests."""
        if name is not None and (not isinstance(name, str) or name in _RESERVED_NAMES):
            raise InvalidDisclosure(f"claim name {name!r} cannot be selectively disclosable")
        try:
            salt_json = _json_value(salt)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidInput(f"disclosure cannot be serialised as JSON: {exc}") from exc
        return cls(_disclosure_b64(salt_json, name, value).decode("ascii"), salt, name, value)

    @classmethod
    def parse(cls, encoded: str) -> Disclosure:
        """Decode one disclosure strictly (RFC 9901 §7.1 step 3.2.2.1-2)."""
        if not isinstance(encoded, str) or not encoded:
            raise InvalidDisclosure("a disclosure must be a non-empty string")
        if len(encoded) > MAX_DISCLOSURE_LENGTH:
            raise InvalidDisclosure("disclosure is over the size limit")
        try:
            raw = b64url_decode(encoded)
        except InvalidEncoding as exc:
            raise InvalidDisclosure("disclosure is not canonical base64url") from exc
        array = _json.loads(raw, error=InvalidDisclosure, what="disclosure")
        if not isinstance(array, list) or len(array) not in (2, 3):
            raise InvalidDisclosure("a disclosure must be a JSON array of 2 or 3 elements")
        if not isinstance(array[0], str):
            raise InvalidDisclosure("a disclosure's salt must be a string")
        if len(array) == 2:
            return cls(encoded, array[0], None, array[1])
        name = array[1]
        if not isinstance(name, str):
            raise InvalidDisclosure("a disclosure's claim name must be a string")
        if name in _RESERVED_NAMES:
            raise InvalidDisclosure(f"a disclosure must not use the reserved name {name!r}")
        return cls(encoded, array[0], name, array[2])

    def digest(self, alg: str = DEFAULT_HASH) -> str:
        """base64url(HASH(ASCII(encoded))) (RFC 9901 §4.2.3)."""
        if alg not in _HASHES:
            raise UnsupportedAlgorithm(f"_sd_alg {alg!r} is not supported")
        return _hash(alg, self.encoded)


# --- parsing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedSdJwt:
    """The components of an SD-JWT or SD-JWT+KB (RFC 9901 §4), undecoded and unverified."""

    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None

    @property
    def sd_jwt(self) -> str:
        """The SD-JWT without KB: ``<issuer-JWT>~<D1>~...~<Dn>~``, the ``sd_hash`` input."""
        return "~".join((self.issuer_jwt, *self.disclosures)) + "~"


def parse(text: str, *, max_length: int = MAX_PRESENTATION_LENGTH) -> ParsedSdJwt:
    """Split an SD-JWT (last component empty) or SD-JWT+KB into its components."""
    if not isinstance(text, str):
        raise MalformedToken("an SD-JWT must be a string")
    if len(text) > max_length:
        raise MalformedToken("SD-JWT is over the size limit")
    parts = text.split("~")
    if len(parts) < 2:
        raise MalformedToken("an SD-JWT ends with '~' (RFC 9901 §4)")
    if len(parts) - 2 > MAX_DISCLOSURES:
        raise MalformedToken("too many disclosures")
    issuer_jwt, *disclosures, last = parts
    if not issuer_jwt or any(not d for d in disclosures):
        raise MalformedToken("an SD-JWT has no empty component before the last '~'")
    return ParsedSdJwt(issuer_jwt, tuple(disclosures), last or None)


def sd_hash(sd_jwt: str, alg: str = DEFAULT_HASH) -> str:
    """The KB-JWT ``sd_hash`` over the exact presented SD-JWT string (RFC 9901 §4.3.1)."""
    if alg not in _HASHES:
        raise UnsupportedAlgorithm(f"_sd_alg {alg!r} is not supported")
    return _hash(alg, sd_jwt)


# --- issuance ------------------------------------------------------------------------------------


def mark_paths(claims: Mapping[str, Any], sd_paths: Iterable[Sequence[str | int | None]]) -> Any:
    """Return a copy of ``claims`` with ``SD`` markers at ``sd_paths``.

    A path is a sequence of object keys (str) and array indexes (int); ``None`` stands for every
    element of an array. ``("address", "street_address")`` hides one property of ``address``,
    ``("nationalities", None)`` every nationality. A path may go through a hidden claim (nested
    disclosures). A path that names nothing is an error, so typos do not leak claims.
    """
    paths = [tuple(p) for p in sd_paths]
    for path in paths:
        if not path:
            raise InvalidInput("an sd path must not be empty")

    def walk(node: Any, prefix: tuple[Any, ...]) -> tuple[Any, set[tuple[Any, ...]]]:
        hit: set[tuple[Any, ...]] = set()
        relevant = [p for p in paths if len(p) > len(prefix) and _prefix_matches(p, prefix)]
        if isinstance(node, Mapping):
            out: dict[Any, Any] = {}
            for key, value in node.items():
                if isinstance(key, SD):
                    raise InvalidInput("use either SD markers or sd_paths, not both")
                child, child_hit = walk(value, (*prefix, key))
                hit |= child_hit
                marked = [p for p in relevant if len(p) == len(prefix) + 1 and p[-1] == key]
                hit.update(marked)
                out[SD(key) if marked else key] = child
            return out, hit
        if isinstance(node, list):
            items: list[Any] = []
            for index, value in enumerate(node):
                if isinstance(value, SD):
                    raise InvalidInput("use either SD markers or sd_paths, not both")
                child, child_hit = walk(value, (*prefix, index))
                hit |= child_hit
                marked = [
                    p
                    for p in relevant
                    if len(p) == len(prefix) + 1 and (p[-1] is None or p[-1] == index)
                ]
                hit.update(marked)
                items.append(SD(child) if marked else child)
            return items, hit
        return node, hit

    result, hit = walk(claims, ())
    missing = [p for p in paths if p not in hit]
    if missing:
        raise InvalidInput(f"sd paths name no claim: {missing}")
    return result


def _prefix_matches(path: tuple[Any, ...], prefix: tuple[Any, ...]) -> bool:
    pairs = zip(path[: len(prefix)], prefix, strict=True)
    return all((p is None and isinstance(q, int)) or p == q for p, q in pairs)


# Names refused as plain or hidden claim names inside nested objects (at the top level, a
# disclosed ``_sd_alg`` stays legal, as before: only a plain one is refused, by ``_issue``).
_NESTED_RESERVED: Final = _RESERVED_NAMES | {"_sd_alg"}
_NOTHING: Final[frozenset[str]] = frozenset()
_VC_TOP_BLOCKED: Final = _RESERVED_NAMES | NEVER_DISCLOSABLE_VC_CLAIMS


class _Issuer:
    """One issuance: walks the claims once, checking names and writing each disclosure (JSON,
    base64url, digest) exactly once. Salts, decoys and decoy positions come from blocks of
    ``randbytes`` output that no other issuance sees; no byte is used twice.

    The checks cost next to nothing on the common path: a claim name is checked with one set
    lookup (``_RESERVED_NAMES``, or those plus the protected names for a hidden top-level claim),
    and a name that appears both hidden and plain is caught by one lookup in the other kind's
    names. Keys that are not exactly ``str`` or ``SD`` go through ``_check_key``, the general
    path."""

    __slots__ = (
        "block",
        "decoys",
        "disclosures",
        "protected",
        "protected_marked",
        "randbytes",
        "salt_source",
        "salts",
        "top_blocked",
        "top_digests",
        "top_hidden",
        "used",
    )

    def __init__(
        self,
        randbytes: Callable[[int], bytes],
        decoys: tuple[int, int],
        salt_source: Callable[[], str] | None,
        protected: frozenset[str] = frozenset(),
    ) -> None:
        low, high = decoys
        if not 0 <= low <= high <= 64:
            raise InvalidInput("decoys must be a range (low, high) with 0 <= low <= high <= 64")
        self.randbytes = randbytes
        self.decoys = decoys
        self.salt_source = salt_source
        self.protected = protected  # top-level claims that must not be selectively disclosable
        # Hidden top-level names that need a closer look (reserved or protected).
        self.top_blocked = (
            _VC_TOP_BLOCKED
            if protected is NEVER_DISCLOSABLE_VC_CLAIMS
            else _RESERVED_NAMES | protected
        )
        self.disclosures: list[bytes] = []  # base64url, in the order they were made
        self.top_hidden: set[str] = set()  # names of the selectively disclosable top-level claims
        # The top-level _sd array, decoys included, sorted: base64url as ASCII bytes.
        self.top_digests: list[bytes] = []
        # Whether a disclosure was made inside one of the ``protected`` top-level claims (the
        # caller refuses the credential; see ``issue_sd_jwt_vc``).
        self.protected_marked = False
        self.block = b""
        self.used = 0
        self.salts: list[str] = []  # made ahead (``more_salts``), each used once

    def random(self, n: int) -> bytes:
        start = self.used
        end = start + n
        if end > len(self.block):
            size = max(n, _RANDOM_BLOCK)
            block = self.randbytes(size)
            if not isinstance(block, bytes) or len(block) != size:
                raise InvalidInput(f"randbytes must return the {size} bytes asked for")
            self.block, start, end = block, 0, n
        self.used = end
        return self.block[start:end]

    def randbelow(self, n: int) -> int:
        # Rejection sampling over 32-bit draws keeps the choice uniform.
        limit = (1 << 32) - (1 << 32) % n
        while True:
            value = int.from_bytes(self.random(4), "big")
            if value < limit:
                return value % n

    def more_salts(self) -> None:
        """Refill ``self.salts`` (in place: callers hold it) with salts (``str``). Each is
        the base64url of 16 fresh bytes (128 bits, RFC 9901 §9.3), needing no escapes. They are
        encoded together, in one call, as 18-byte groups of the 16 bytes and two zeros: a
        group's first 22 characters are exactly the base64url of its 16 bytes (whose last 4 bits
        are followed by zero bits, as with padding)."""
        groups = _SALT_GROUPS.pack(*_SALT_DRAWS.unpack(self.random(SALT_BYTES * _SALT_BATCH)))
        # Decoded to str here, through map: one C-level pass instead of a call per salt.
        text = _b2a(groups).replace(b"+", b"-").replace(b"/", b"_")
        self.salts.extend(map(_ascii, _SALT_TEXTS.unpack(text)))

    def given_salt(self) -> str:
        """The next salt from ``salt_source``, as a JSON string."""
        given = self.salt_source() if self.salt_source is not None else None
        if not isinstance(given, str) or not given:
            raise InvalidInput("salt_source must return non-empty strings")
        return _quote(given)

    def decoy_digests(self) -> list[bytes]:
        low, high = self.decoys
        count = low + (self.randbelow(high - low + 1) if high > low else 0)
        # RFC 9901 §4.2.5: a decoy is the digest of a random value, indistinguishable from a real
        # one (SHA-256 over 32 fresh random bytes).
        draws = _DECOY_DRAWS[count].unpack(self.random(32 * count))
        return list(map(_digest, map(_sha256, draws)))  # no Python-level loop

    def flush(self, texts: list[bytes], digests: list[bytes]) -> None:
        """Encode and hash the inline disclosures written so far (``texts``, their UTF-8 JSON),
        appending them to ``self.disclosures`` and their digests to ``digests``; empties
        ``texts``. A few C-level passes over all of them instead of five calls for each: their
        standard base64 (each ending in its padding and a newline) is joined, turned into
        base64url with the padding deleted (replaces: see ``b64url_encode``), and split at the
        newlines."""
        blob = b"".join(map(_b2a, texts)).replace(b"+", b"-").replace(b"/", b"_")
        made = blob.replace(b"=", b"").split(b"\n")
        made.pop()  # the nothing after the last newline
        self.disclosures += made
        digests += map(_digest, map(_sha256, made))  # RFC 9901 §4.2.3, over the base64url
        texts.clear()

    def disclose(self, name: str | None, value: Any) -> bytes:
        """Write one disclosure; returns its SHA-256 digest (RFC 9901 §4.2.3), not yet encoded."""
        # The salt is drawn before the value's own disclosures (the order salt_source sees).
        if self.salt_source is not None:
            salt = self.given_salt()
        else:
            salts = self.salts
            if not salts:
                self.more_salts()
            salt = f'"{salts.pop()}"'
        if type(value) is str:
            value_json = _quote(value)
        else:
            if type(value) not in _SCALARS:
                value = self.encode(value)
            value_json = None
        try:
            if value_json is None:
                value_json = _json_value(value)
            if name is None:
                text = f"[{salt}, {value_json}]"
            else:
                text = f"[{salt}, {_quote(name)}, {value_json}]"
            # The same as _b64 (inline: this runs for every disclosure).
            encoded = _b2a(text.encode("utf-8")).translate(_URLSAFE, _PAD_NEWLINE)
        except (TypeError, ValueError, RecursionError) as exc:  # lone surrogates, NaN ...
            raise InvalidInput(f"disclosure cannot be serialised as JSON: {exc}") from exc
        self.disclosures.append(encoded)
        return _sha256(encoded).digest()

    def encode(self, node: Any, top: bool = False) -> Any:
        kind = type(node)
        if kind in _SCALARS:
            return node
        if kind is dict:
            return self.encode_object(node, top)
        if kind is list:
            return self.encode_array(node)
        if isinstance(node, SD):
            raise InvalidInput("SD() wraps object keys or array elements only")
        if isinstance(node, Mapping):
            return self.encode_object(node, top)
        if isinstance(node, list | tuple):
            return self.encode_array(node)
        return node

    def _check_key(self, key: Any, top: bool) -> tuple[str, bool]:
        """``(name, hidden)`` of a key that is not exactly ``str`` or ``SD`` of a ``str`` (a
        subclass, or a name that is no string), with every check on it but duplicates."""
        is_sd = isinstance(key, SD)
        name = key.value if is_sd else key
        if not isinstance(name, str):
            raise InvalidInput(f"claim names must be strings, not {name!r}")
        if is_sd and top and name in self.protected:
            raise InvalidCredential(f"SD-JWT VC claim {name!r} must not be selectively disclosable")
        if name in _RESERVED_NAMES or (name == "_sd_alg" and not top):
            raise InvalidInput(f"{name!r} is a reserved claim name")
        return name, is_sd

    def encode_object(self, node: Mapping[Any, Any], top: bool) -> dict[str, Any]:
        plain: dict[str, Any] = {}
        digests: list[Any] = []  # raw digests, then their base64url
        hidden: set[str] = set()
        # Inline disclosures written (UTF-8 JSON) but not yet encoded and hashed: ``flush`` does
        # that for all of them at once, before anything else can make a disclosure (so the
        # disclosures keep the order they were made in) and at the end.
        texts: list[bytes] = []
        plain_blocked = _RESERVED_NAMES if top else _NESTED_RESERVED
        hidden_blocked = self.top_blocked if top else _NESTED_RESERVED
        protected = self.protected if top else _NOTHING
        # A dict cannot hold one str name twice, nor two SD keys of one str name; any other
        # Mapping is checked for both.
        plain_twice = type(node) is not dict
        disclosures = self.disclosures
        salts = self.salts
        make_salts = self.salt_source is None
        for key, value in node.items():
            kind = type(key)
            if kind is str:
                if key in plain_blocked:
                    raise InvalidInput(f"{key!r} is a reserved claim name")
                if key in hidden or (plain_twice and key in plain):
                    raise InvalidInput(f"claim {key!r} appears twice")
                if type(value) in _SCALARS:
                    plain[key] = value
                elif key in protected:
                    # Nothing under a protected claim may be hidden. Every marker under it
                    # makes a disclosure (or raises), so the count of disclosures tells.
                    if texts:
                        self.flush(texts, digests)
                    made = len(disclosures)
                    plain[key] = self.encode(value)
                    if len(disclosures) != made:
                        self.protected_marked = True
                else:
                    if texts:
                        self.flush(texts, digests)
                    plain[key] = self.encode(value)
                continue
            if kind is SD and type(key.value) is str:
                name = key.value
                if name in hidden_blocked:
                    self._check_key(key, top)  # raises the error the general path raises
            else:
                name, is_sd = self._check_key(key, top)
                plain_twice = True  # an unusual key (a str subclass ...): check both from here
                if not is_sd:
                    if name in plain or name in hidden:
                        raise InvalidInput(f"claim {name!r} appears twice")
                    if texts:
                        self.flush(texts, digests)
                    made = len(disclosures)
                    plain[name] = self.encode(value)
                    if name in protected and len(disclosures) != made:
                        self.protected_marked = True
                    continue
            if name in plain or (plain_twice and name in hidden):
                raise InvalidInput(f"claim {name!r} appears twice")
            hidden.add(name)
            if not salts and make_salts:
                self.more_salts()
            kind = type(value)
            if salts and (kind is str or kind is bool or kind is int or value is None):
                # disclose(), inline for its commonest cases: a string, boolean, integer or null
                # value (written as _json_value writes it) and a salt made ahead (salts stays
                # empty when salt_source is given).
                try:
                    if kind is str:
                        value_json = _quote(value)
                    elif kind is bool:
                        value_json = "true" if value else "false"
                    elif kind is int:
                        value_json = int.__repr__(value)  # ValueError past the digit limit
                    else:
                        value_json = "null"
                    text = f'["{salts.pop()}", {_quote(name)}, {value_json}]'
                    texts.append(text.encode("utf-8"))  # refuses lone surrogates
                except ValueError as exc:
                    raise InvalidInput(f"disclosure cannot be serialised as JSON: {exc}") from exc
            else:
                if texts:
                    self.flush(texts, digests)
                digests.append(self.disclose(name, value))
        if texts:
            self.flush(texts, digests)
        if digests:
            digests += self.decoy_digests()
            digests = _digest_texts(digests)
            # RFC 9901 §4.2.4.1: hide the original order, here by sorting (ASCII bytes sort as
            # their text does).
            digests.sort()
            if not top:
                plain["_sd"] = list(map(_ascii, digests))
        if top:
            # The top-level _sd is written into the payload JSON by _issue, after the claims.
            self.top_hidden = hidden
            self.top_digests = digests
        return plain

    def encode_array(self, node: list[Any] | tuple[Any, ...]) -> list[Any]:
        items: list[Any] = []
        hidden = False
        for item in node:
            if isinstance(item, SD):
                hidden = True
                digest = _b64(self.disclose(None, item.value)).decode("ascii")
                items.append({"...": digest})
            else:
                items.append(self.encode(item))
        if hidden:
            for decoy in _digests_b64(self.decoy_digests()):
                items.insert(self.randbelow(len(items) + 1), {"...": decoy})
        return items


def issue(
    claims: Mapping[Any, Any],
    issuer_key: PrivateKey,
    *,
    header: Mapping[str, Any] | None = None,
    sd_paths: Iterable[Sequence[str | int | None]] | None = None,
    holder_key: PublicKey | None = None,
    randbytes: Callable[[int], bytes] = secrets.token_bytes,
    decoys: tuple[int, int] = (0, 0),
    salt_source: Callable[[], str] | None = None,
) -> str:
    """Issue an SD-JWT (RFC 9901 §5): ``<issuer-JWT>~<D1>~...~<Dn>~``.

    ``claims`` mark selectively disclosable parts with ``SD``, or ``sd_paths`` names them (see
    ``mark_paths``). ``holder_key`` adds ``cnf: {"jwk": ...}`` for key binding. Salts are 128 bits
    from ``randbytes`` (``salt_source``, if given, supplies the salt strings instead: for
    reproducing published examples, never in production); each object or array that has hidden
    parts gets a number of decoy digests drawn uniformly from the ``decoys`` range. ``_sd_alg``
    is ``sha-256``.
    """
    if not isinstance(claims, Mapping):
        raise InvalidInput("SD-JWT claims must be an object")
    if sd_paths is not None:
        claims = mark_paths(claims, sd_paths)
    return _issue(claims, issuer_key, header, holder_key, randbytes, decoys, salt_source)


def _issue(
    claims: Mapping[Any, Any],
    issuer_key: PrivateKey,
    header: Mapping[str, Any] | None,
    holder_key: PublicKey | None,
    randbytes: Callable[[int], bytes],
    decoys: tuple[int, int],
    salt_source: Callable[[], str] | None,
    protected: frozenset[str] = frozenset(),
) -> str:
    if not isinstance(claims, Mapping):
        raise InvalidInput("SD-JWT claims must be an object")
    issuer = _Issuer(randbytes, decoys, salt_source, protected)
    payload = issuer.encode(claims, top=True)
    if issuer.protected_marked:
        # issue_sd_jwt_vc reports which claim (``_refuse_hidden_under_protected``).
        raise InvalidCredential("SD-JWT VC claims in NEVER_DISCLOSABLE_VC_CLAIMS hide nothing")
    # The payload is the claims, then _sd, cnf and _sd_alg: these three are written here as JSON
    # members. _sd holds base64url digests only, so they are joined as they are (nothing to
    # escape); the encoder would cost about 15 times as much for them.
    digests = issuer.top_digests
    members = [f'"_sd":["{_DIGESTS_JOIN(digests).decode("ascii")}"]'] if digests else []
    if "cnf" in payload or "cnf" in issuer.top_hidden:
        if holder_key is not None:
            raise InvalidInput("give either a cnf claim or holder_key, not both")
    elif holder_key is not None:
        # Written by the key itself (once per key object): the same text as the encoder's.
        jwk = (
            holder_key.to_jwk_json()
            if type(holder_key) is PublicKey
            else _json.compact(holder_key.to_jwk())
        )
        members.append(f'"cnf":{{"jwk":{jwk}}}')
    if "_sd_alg" in payload:
        raise InvalidInput("_sd_alg is set by issue()")
    members.append(f'"_sd_alg":"{DEFAULT_HASH}"')
    more = ",".join(members)
    try:
        body = _json.dumps_object(payload, more, error=MalformedToken, what="JWS payload")
    except MalformedToken:
        # sign_compact checks the key and header before the payload: their faults come first,
        # as when it serialised the payload itself.
        jose.sign_compact(header or {}, b"", issuer_key)
        raise
    token = jose.sign_compact(header or {}, body, issuer_key)
    if not issuer.disclosures:
        return token + "~"
    return f"{token}~{b'~'.join(issuer.disclosures).decode('ascii')}~"


def issue_sd_jwt_vc(
    claims: Mapping[Any, Any],
    issuer_key: PrivateKey,
    *,
    header: Mapping[str, Any] | None = None,
    sd_paths: Iterable[Sequence[str | int | None]] | None = None,
    holder_key: PublicKey | None = None,
    randbytes: Callable[[int], bytes] = secrets.token_bytes,
    decoys: tuple[int, int] = (0, 0),
    salt_source: Callable[[], str] | None = None,
) -> str:
    """Issue an SD-JWT VC (``typ: dc+sd-jwt``): ``vct`` and ``iss`` are required strings and none
    of ``NEVER_DISCLOSABLE_VC_CLAIMS`` (nor anything under them) may be marked disclosable."""
    if sd_paths is not None:
        claims = mark_paths(claims, sd_paths)
    try:
        for required in ("vct", "iss"):
            if not isinstance(claims.get(required), str) or not claims[required]:
                raise InvalidCredential(f"SD-JWT VC requires a {required!r} string", field=required)
        fields = dict(header or {})
        if fields.setdefault("typ", SD_JWT_VC_TYP) != SD_JWT_VC_TYP:
            raise InvalidCredential(f"SD-JWT VC typ must be {SD_JWT_VC_TYP!r}")
        # The walk over the claims refuses the protected claims themselves when marked, and
        # notes any disclosure made under them (refused in _issue).
        return _issue(
            claims,
            issuer_key,
            fields,
            holder_key,
            randbytes,
            decoys,
            salt_source,
            NEVER_DISCLOSABLE_VC_CLAIMS,
        )
    except Exception:
        # Whatever was refused, a marker under a never-disclosable claim is reported first, as
        # it always has been: the scan over those claims costs a walk, so it is made only here,
        # once the input is known to be refused.
        _refuse_hidden_under_protected(claims)
        raise


def _refuse_hidden_under_protected(claims: Mapping[Any, Any]) -> None:
    # Nothing under these claims may be hidden (SD-JWT VC §3.2.2).
    for name in NEVER_DISCLOSABLE_VC_CLAIMS:
        if name in claims and _has_marker(claims[name]):
            raise InvalidCredential(f"SD-JWT VC claim {name!r} must not be selectively disclosable")


def _has_marker(node: Any) -> bool:
    if type(node) in _SCALARS:
        return False
    if isinstance(node, SD):
        return True
    if isinstance(node, Mapping):
        return any(isinstance(k, SD) or _has_marker(v) for k, v in node.items())
    if isinstance(node, list | tuple):
        return any(_has_marker(v) for v in node)
    return False


# --- processing (shared by holder and verifier) --------------------------------------------------


@dataclass
class _Processing:
    by_digest: dict[str, Disclosure]
    alg: str
    seen: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    # Where each used disclosure was found: the path of the claim it reveals.
    paths: dict[str, Path] = field(default_factory=dict)

    def reference(self, digest: Any) -> Disclosure | None:
        if not isinstance(digest, str):
            raise InvalidDisclosure("a digest must be a string")
        if digest in self.seen:
            raise DuplicateDigest("a digest appears more than once (RFC 9901 §7.1)")
        self.seen.add(digest)
        disclosure = self.by_digest.get(digest)
        if disclosure is not None:
            self.used.add(digest)
        return disclosure

    def process(self, node: Any, path: Path, depth: int = 0) -> Any:
        if depth > 2 * _json.MAX_DEPTH:
            raise InvalidDisclosure("disclosures are nested too deeply")
        if isinstance(node, dict):
            if "..." in node:
                raise InvalidDisclosure("'...' is only valid as the single key of an array element")
            out: dict[str, Any] = {}
            # Scalars are most of the values and come out unchanged: they are copied here rather
            # than through a call (unless at the depth limit, where the call would refuse them).
            inline = depth < 2 * _json.MAX_DEPTH
            for name, value in node.items():
                if name == "_sd":
                    continue
                if name == "_sd_alg":
                    if path:
                        raise InvalidDisclosure("_sd_alg is only allowed at the top level")
                    continue
                if inline and type(value) in _SCALARS:
                    out[name] = value
                else:
                    out[name] = self.process(value, (*path, name), depth + 1)
            digests = node.get("_sd", [])
            if not isinstance(digests, list):
                raise InvalidDisclosure("_sd must be an array of digests")
            for digest in digests:
                disclosure = self.reference(digest)
                if disclosure is None:
                    continue  # a decoy, or a claim the holder did not disclose
                if disclosure.name is None:
                    raise InvalidDisclosure("an array-element disclosure is referenced from _sd")
                if disclosure.name in out or disclosure.name in node:
                    raise InvalidDisclosure(
                        f"disclosed claim {disclosure.name!r} already exists at its level"
                    )
                child = (*path, disclosure.name)
                self.paths[digest] = child
                value = disclosure.value
                if inline and type(value) in _SCALARS:
                    out[disclosure.name] = value
                else:
                    out[disclosure.name] = self.process(value, child, depth + 1)
            return out
        if isinstance(node, list):
            items: list[Any] = []
            for element in node:
                if isinstance(element, dict) and "..." in element:
                    if len(element) != 1:
                        raise InvalidDisclosure("an array digest object has exactly one key '...'")
                    digest = element["..."]
                    disclosure = self.reference(digest)
                    if disclosure is None:
                        continue  # RFC 9901 §7.1 step 3.3.3: drop undisclosed elements
                    if disclosure.name is not None:
                        raise InvalidDisclosure("an object-property disclosure is in an array")
                    child = (*path, len(items))
                    self.paths[digest] = child
                    items.append(self.process(disclosure.value, child, depth + 1))
                elif depth < 2 * _json.MAX_DEPTH and type(element) in _SCALARS:
                    items.append(element)
                else:
                    items.append(self.process(element, (*path, len(items)), depth + 1))
            return items
        return node


def _sd_alg(payload: Mapping[str, Any]) -> str:
    alg = payload.get("_sd_alg", DEFAULT_HASH)
    if not isinstance(alg, str) or alg not in _HASHES:
        raise UnsupportedAlgorithm(f"_sd_alg {alg!r} is not supported", field="_sd_alg")
    return alg


# Disclosures parsed before, by their exact text and the hash algorithm: the parse and the digest
# are functions of these alone, and a holder presents the same disclosures again and again. Only
# disclosures that parsed are kept, short ones (the memo stays under ~10 MiB), and only here, where
# their values are read and never handed out (``_Processing`` builds new objects and arrays).
_DISCLOSURES: dict[tuple[str, str], tuple[Disclosure, str]] = {}
_DISCLOSURES_KEPT: Final = 4096
_KEPT_DISCLOSURE_LENGTH: Final = 1024
_DISCLOSURES_LOCK: Final = threading.Lock()


def _keep_disclosure(key: tuple[str, str], value: tuple[Disclosure, str]) -> None:
    with _DISCLOSURES_LOCK:
        if len(_DISCLOSURES) >= _DISCLOSURES_KEPT:
            _DISCLOSURES.pop(next(iter(_DISCLOSURES)), None)  # the oldest entry
        _DISCLOSURES[key] = value


def _process_payload(
    payload: dict[str, Any], disclosures: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Path]]:
    """RFC 9901 §7.1 steps 3-5 on a payload whose signature has been checked (or, for the
    holder, on its own credential). Returns the processed claims and the disclosed paths."""
    # (3.1) the hash algorithm
    alg = _sd_alg(payload)
    # (3.2) decode every disclosure and compute its digest over the string as presented
    by_digest: dict[str, Disclosure] = {}
    for encoded in disclosures:
        found = _DISCLOSURES.get((encoded, alg)) if type(encoded) is str else None
        if found is None:
            disclosure = Disclosure.parse(encoded)
            digest = disclosure.digest(alg)
            if len(encoded) <= _KEPT_DISCLOSURE_LENGTH:
                _keep_disclosure((encoded, alg), (disclosure, digest))
        else:
            disclosure, digest = found
        if digest in by_digest:
            raise DuplicateDigest("the same disclosure is presented twice")
        by_digest[digest] = disclosure
    # (3.3) replace digests by disclosed claims, recursively, refusing repeats and misplacements
    state = _Processing(by_digest, alg)
    claims = state.process(payload, ())
    # (3.4, 3.5) every disclosure must have been referenced
    if state.used != by_digest.keys():
        raise UnreferencedDisclosure("a disclosure is not referenced by any digest")
    return claims, state.paths


# --- presentation --------------------------------------------------------------------------------


def present(
    sd_jwt: str,
    *,
    disclose: Iterable[Sequence[str | int]] | _All,
    kb_key: PrivateKey | None = None,
    nonce: str | None = None,
    aud: str | None = None,
    iat: int | None = None,
    kb_header: Mapping[str, Any] | None = None,
) -> str:
    """Build a presentation (RFC 9901 §6): the issued SD-JWT with only the disclosures on the
    chosen claim paths, then a KB-JWT if ``kb_key`` is given (§4.3: ``typ: kb+jwt``, ``iat``,
    ``aud``, ``nonce``, ``sd_hash``).

    A path selects the claim there and everything below it; the disclosures needed to reach it
    (hidden parents) come along. Array indexes count the elements of the fully disclosed array.
    The holder does not verify the issuer's signature here (it has no resolver), but refuses a
    malformed credential and an SD-JWT that already carries a KB-JWT (§7.2).
    """
    parsed = parse(sd_jwt)
    if parsed.kb_jwt is not None:
        raise InvalidInput("the issued SD-JWT already carries a KB-JWT (RFC 9901 §7.2)")
    _header, payload_bytes, _, _ = jose.decode_unverified(parsed.issuer_jwt)
    payload = _json.loads(payload_bytes, error=MalformedToken, what="SD-JWT claims")
    if not isinstance(payload, dict):
        raise MalformedToken("SD-JWT claims must be a JSON object")
    alg = _sd_alg(payload)
    _, paths = _process_payload(payload, parsed.disclosures)
    if isinstance(disclose, _All):
        chosen = list(parsed.disclosures)
    else:
        wanted = [tuple(p) for p in disclose]
        chosen = [
            encoded
            for encoded in parsed.disclosures
            if any(
                _is_prefix(paths[_hash(alg, encoded)], w)
                or _is_prefix(w, paths[_hash(alg, encoded)])
                for w in wanted
            )
        ]
    presented = "~".join((parsed.issuer_jwt, *chosen)) + "~"
    if kb_key is None:
        if nonce is not None or aud is not None:
            raise InvalidInput("nonce and aud need a kb_key")
        return presented
    if not isinstance(nonce, str) or not isinstance(aud, str):
        raise InvalidInput("key binding needs a string nonce and a string aud")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise InvalidInput("key binding needs an integer iat")
    cnf = payload.get("cnf")
    if (
        isinstance(cnf, dict)
        and isinstance(cnf.get("jwk"), dict)
        and PublicKey.from_jwk(cnf["jwk"]) != kb_key.public_key
    ):
        raise InvalidInput("kb_key is not the key in the credential's cnf")
    header = {**dict(kb_header or {}), "typ": KB_JWT_TYP}
    claims = {"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sd_hash(presented, alg)}
    return presented + jose.sign_compact(header, claims, kb_key)


def _is_prefix(prefix: Sequence[Any], path: Sequence[Any]) -> bool:
    return len(prefix) <= len(path) and tuple(path[: len(prefix)]) == tuple(prefix)


# --- verification --------------------------------------------------------------------------------

IssuerKeyResolver = Callable[[dict[str, Any], dict[str, Any]], PublicKey]
"""Given the unverified issuer-JWT header and payload (for ``kid``/``iss``), return the key that
issuer is known to use, or raise. The values are untrusted: use them only as lookup keys."""


@dataclass(frozen=True, slots=True)
class VerifiedSdJwt:
    """A verified presentation: the processed claims (RFC 9901 §7.1 output), the issuer-JWT
    header, the paths of the claims revealed by disclosures, and the KB-JWT claims if any."""

    claims: dict[str, Any]
    header: dict[str, Any]
    disclosed_paths: tuple[Path, ...]
    key_binding: dict[str, Any] | None


def _numeric_date(claims: Mapping[str, Any], name: str, error: type[Exception]) -> float | None:
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(f"{name!r} must be a NumericDate")
    return float(value)


def _check_validity(
    claims: Mapping[str, Any], now: float, leeway: float, error: type[Exception]
) -> None:
    exp = _numeric_date(claims, "exp", error)
    if exp is not None and now - leeway >= exp:
        raise TokenExpired("the token has expired", field="exp")
    nbf = _numeric_date(claims, "nbf", error)
    if nbf is not None and now + leeway < nbf:
        raise TokenNotYetValid("the token is not valid yet", field="nbf")
    _numeric_date(claims, "iat", error)


def verify(
    presentation: str,
    issuer_key_resolver: IssuerKeyResolver,
    *,
    expected_typ: str | None,
    now: float,
    require_kb: bool = True,
    expected_aud: str | None = None,
    expected_nonce: str | None = None,
    leeway: float = DEFAULT_LEEWAY,
    kb_max_age: float = DEFAULT_KB_MAX_AGE,
    required_claims: Collection[str] = (),
    allowed_algs: Collection[Algorithm | str] = jose.ALL_ALGORITHMS,
) -> VerifiedSdJwt:
    """Verify an SD-JWT or SD-JWT+KB (RFC 9901 §7.1, §7.3) and return the processed payload.

    Whether key binding is required is the caller's policy (``require_kb``), never inferred from
    the input. A KB-JWT that is present is always checked, so ``expected_nonce``/``expected_aud``
    are needed whenever one may be present. ``now`` is seconds since the epoch.
    """
    if not 0 <= leeway <= 300:
        raise InvalidInput("leeway must be between 0 and 300 seconds")
    # (7.3.1) separate the presentation; the policy decides on KB before looking at it
    parsed = parse(presentation)
    if require_kb and parsed.kb_jwt is None:
        raise KeyBindingMissing("key binding is required but no KB-JWT was presented")
    if parsed.kb_jwt is not None and (expected_nonce is None or expected_aud is None):
        raise KeyBindingInvalid("a KB-JWT was presented but no nonce/audience is expected")

    # (7.1.2) the issuer-signed JWT: algorithm allow-list, typ, the issuer's key, the signature
    # The token is decoded once: the header and claims read to find the key are the ones the
    # signature is then checked over (the same bytes), so they are not decoded a second time.
    decoded = jose.decode_unverified(parsed.issuer_jwt)
    payload = _json.loads(decoded[1], error=MalformedToken, what="SD-JWT claims")
    if not isinstance(payload, dict):
        raise MalformedToken("SD-JWT claims must be a JSON object")
    # The resolver sees copies, so that nothing it does to them reaches the checks below.
    key = issuer_key_resolver(dict(decoded[0]), dict(payload))
    header, _ = jose.verify_decoded(
        decoded, key, allowed_algs=allowed_algs, expected_typ=expected_typ
    )

    # (7.1.3) disclosures: digests, references, names, duplicates, unreferenced
    claims, paths = _process_payload(payload, parsed.disclosures)

    # (7.1.5) validity claims after processing
    _check_validity(claims, now, leeway, MalformedToken)
    missing = [name for name in required_claims if name not in claims]
    if missing:
        raise InvalidCredential(f"required claims are missing: {missing}")

    # (7.3.5) the KB-JWT
    kb_claims = None
    if parsed.kb_jwt is not None:
        kb_claims = _verify_kb_jwt(
            parsed.kb_jwt,
            parsed.sd_jwt,
            claims,
            alg=_sd_alg(payload),
            expected_aud=expected_aud,
            expected_nonce=expected_nonce,
            now=now,
            leeway=leeway,
            max_age=kb_max_age,
            allowed_algs=allowed_algs,
        )
    return VerifiedSdJwt(claims, header, tuple(paths.values()), kb_claims)


def _verify_kb_jwt(
    kb_jwt: str,
    presented: str,
    claims: Mapping[str, Any],
    *,
    alg: str,
    expected_aud: str | None,
    expected_nonce: str | None,
    now: float,
    leeway: float,
    max_age: float,
    allowed_algs: Collection[Algorithm | str],
) -> dict[str, Any]:
    # (1) the holder's key: cnf.jwk of the credential (RFC 7800); weak keys refused by from_jwk
    cnf = claims.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise KeyBindingInvalid("the credential has no cnf.jwk to check key binding with")
    holder_key = PublicKey.from_jwk(cnf["jwk"])
    # (2) typ kb+jwt, algorithm, signature by the holder key
    _, kb = jose.verify_compact(
        kb_jwt, holder_key, allowed_algs=allowed_algs, expected_typ=KB_JWT_TYP
    )
    # (3) iat within the window
    iat = kb.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise KeyBindingInvalid("KB-JWT iat must be a NumericDate", field="iat")
    if iat > now + leeway:
        raise KeyBindingInvalid("KB-JWT iat is in the future", field="iat")
    if iat < now - max_age - leeway:
        raise KeyBindingInvalid("KB-JWT iat is too old", field="iat")
    _check_validity(kb, now, leeway, KeyBindingInvalid)
    # (4) nonce and aud: single strings, exact matches
    nonce, aud = kb.get("nonce"), kb.get("aud")
    if not isinstance(nonce, str) or not hmac.compare_digest(
        nonce.encode(), str(expected_nonce).encode()
    ):
        raise NonceMismatch("KB-JWT nonce does not match", field="nonce")
    if not isinstance(aud, str) or aud != expected_aud:
        raise AudienceMismatch("KB-JWT aud must be exactly the expected audience", field="aud")
    # (5) sd_hash over the exact presented SD-JWT
    presented_hash = kb.get("sd_hash")
    if not isinstance(presented_hash, str):
        raise KeyBindingInvalid("KB-JWT has no sd_hash", field="sd_hash")
    if not hmac.compare_digest(presented_hash.encode(), sd_hash(presented, alg).encode()):
        raise SdHashMismatch("KB-JWT sd_hash does not match the presented SD-JWT")
    return kb


def verify_sd_jwt_vc(
    presentation: str,
    issuer_key_resolver: IssuerKeyResolver,
    *,
    now: float,
    require_kb: bool = True,
    expected_aud: str | None = None,
    expected_nonce: str | None = None,
    leeway: float = DEFAULT_LEEWAY,
    kb_max_age: float = DEFAULT_KB_MAX_AGE,
    required_claims: Collection[str] = (),
    allowed_algs: Collection[Algorithm | str] = jose.ALL_ALGORITHMS,
) -> VerifiedSdJwt:
    """``verify`` with the SD-JWT VC rules: ``typ: dc+sd-jwt``; ``vct`` and ``iss`` strings;
    ``cnf`` and ``status`` objects when present; and none of ``NEVER_DISCLOSABLE_VC_CLAIMS`` (or
    anything below them) revealed by a disclosure."""
    result = verify(
        presentation,
        issuer_key_resolver,
        expected_typ=SD_JWT_VC_TYP,
        now=now,
        require_kb=require_kb,
        expected_aud=expected_aud,
        expected_nonce=expected_nonce,
        leeway=leeway,
        kb_max_age=kb_max_age,
        required_claims=required_claims,
        allowed_algs=allowed_algs,
    )
    for path in result.disclosed_paths:
        if path[0] in NEVER_DISCLOSABLE_VC_CLAIMS:
            raise InvalidCredential(f"SD-JWT VC claim {path[0]!r} must not be disclosable")
    claims = result.claims
    for name in ("vct", "iss"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise InvalidCredential(f"SD-JWT VC requires a {name!r} string", field=name)
    for name in ("cnf", "status"):
        if name in claims and not isinstance(claims[name], dict):
            raise InvalidCredential(f"SD-JWT VC {name!r} must be an object", field=name)
    if "vct#integrity" in claims and not isinstance(claims["vct#integrity"], str):
        raise InvalidCredential("vct#integrity must be a string", field="vct#integrity")
    return result
