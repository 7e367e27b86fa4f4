"""Status lists: the IETF Token Status List and the W3C Bitstring Status List.

Specs: draft-ietf-oauth-status-list-20 §4 (bits 1/2/4/8, least-significant bit first, DEFLATE in
the ZLIB format, ``lst`` base64url), §5 (Status List Token JWT, ``typ: statuslist+jwt``, ``sub``,
``iat``, ``exp``, ``ttl``), §6 (``status.status_list`` in a referenced token), §8 (verification);
W3C Bitstring Status List v1.0 §2 (``BitstringStatusListEntry``, ``statusListIndex`` as a
base-10 string), §3 (index 0 is the most significant bit of byte 0; GZIP; ``u`` multibase
base64url; at least 131,072 entries; STATUS_LIST_LENGTH_ERROR, RANGE_ERROR).

The two formats order bits oppositely inside a byte (security.md §1.6: get it wrong and a revoked
credential reads as valid), so a ``StatusList`` carries its ``BitOrder`` and the codecs refuse the
other one. Decompression is bounded (ASVS 5.2.3, security.md G5): a compression bomb is refused
after at most ``max_bytes + 1`` bytes of output.

    >>> tsl = StatusList(16, bits=1)
    >>> tsl.set(0, 1); tsl.set(3, 1)
    >>> decode_token_status_list(encode_token_status_list(tsl)).get(3)
    1
    >>> w3c = StatusList(MIN_BITSTRING_ENTRIES, order=BitOrder.MSB)
    >>> w3c.set(50007, 1)
    >>> decode_bitstring(encode_bitstring(w3c)).get(50007)
    1
"""

from __future__ import annotations

import enum
import re
import secrets
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from credentials import jose
from credentials.errors import (
    InvalidCredential,
    InvalidStatusList,
    StatusIndexOutOfRange,
    StatusListFull,
    StatusListTooLarge,
    StatusListTooShort,
    TokenExpired,
    WrongTokenType,
)
from errors import InvalidEncoding, InvalidInput
from identity.encoding import b64url_decode, b64url_encode
from identity.keys import PrivateKey, PublicKey

__all__ = [
    "MAX_STATUS_LIST_BYTES",
    "MIN_BITSTRING_ENTRIES",
    "STATUS_LIST_TYP",
    "BitOrder",
    "StatusEntry",
    "StatusList",
    "StatusListToken",
    "TokenStatus",
    "allocate_index",
    "bitstring_status_list_credential",
    "build_status_list_token",
    "check_status_list_token_time",
    "decode_bitstring",
    "decode_token_status_list",
    "encode_bitstring",
    "encode_token_status_list",
    "parse_bitstring_status_list_credential",
    "parse_status_entry",
    "status_entry",
    "status_reference",
    "verify_status_list_token",
]

STATUS_LIST_TYP: Final = "statuslist+jwt"
MIN_BITSTRING_ENTRIES: Final = 131_072  # W3C §3: 16 KiB uncompressed, for herd privacy
MAX_STATUS_LIST_BYTES: Final = 16 * 1024 * 1024  # security.md G5
MAX_COMPRESSED_BYTES: Final = 4 * 1024 * 1024
_BITS: Final = (1, 2, 4, 8)
_INDEX_RE: Final = re.compile(r"0|[1-9][0-9]{0,15}")
_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"


class BitOrder(enum.StrEnum):
    """Where index 0 lives in byte 0."""

    LSB = "lsb"  # IETF Token Status List
    MSB = "msb"  # W3C Bitstring Status List


class TokenStatus(enum.IntEnum):
    """IETF Token Status List status types (§7.1); 0x03 and 0x0C-0x0F are application-specific."""

    VALID = 0x00
    INVALID = 0x01
    SUSPENDED = 0x02


class StatusList:
    """A fixed-size array of ``bits``-wide statuses packed into bytes in ``order``."""

    __slots__ = ("_data", "bits", "order", "size")

    def __init__(self, size: int, bits: int = 1, order: BitOrder = BitOrder.LSB) -> None:
        if bits not in _BITS or isinstance(bits, bool):
            raise InvalidInput(f"status width must be one of {_BITS} bits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise InvalidInput("a status list has at least one entry")
        if size * bits > 8 * MAX_STATUS_LIST_BYTES:
            raise InvalidInput("status list is too large")
        self.size = size
        self.bits = bits
        self.order = BitOrder(order)
        self._data = bytearray((size * bits + 7) // 8)

    @classmethod
    def from_bytes(cls, data: bytes, bits: int = 1, order: BitOrder = BitOrder.LSB) -> StatusList:
        """Every bit of ``data`` is a status bit: ``len(data) * 8 // bits`` entries."""
        if not data:
            raise InvalidStatusList("a status list is never empty")
        status_list = cls(len(data) * 8 // bits, bits, order)
        status_list._data[:] = data
        return status_list

    def __len__(self) -> int:
        return self.size

    def _locate(self, index: int) -> tuple[int, int]:
        if not isinstance(index, int) or isinstance(index, bool):
            raise InvalidStatusList("a status index is an integer")
        if not 0 <= index < self.size:
            raise StatusIndexOutOfRange(f"status index {index} is outside 0..{self.size - 1}")
        position = index * self.bits
        offset = position % 8
        shift = offset if self.order is BitOrder.LSB else 8 - self.bits - offset
        return position // 8, shift

    def get(self, index: int) -> int:
        byte, shift = self._locate(index)
        return (self._data[byte] >> shift) & ((1 << self.bits) - 1)

    def set(self, index: int, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << self.bits:
            raise InvalidInput(f"a {self.bits}-bit status is between 0 and {(1 << self.bits) - 1}")
        byte, shift = self._locate(index)
        mask = ((1 << self.bits) - 1) << shift
        self._data[byte] = (self._data[byte] & ~mask) | (value << shift)

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    def nonzero(self) -> Iterator[tuple[int, int]]:
        """``(index, status)`` for every status that is not 0, in index order."""
        per_byte = 8 // self.bits
        for byte_index, byte in enumerate(self._data):
            if byte:
                for index in range(
                    byte_index * per_byte, min(self.size, (byte_index + 1) * per_byte)
                ):
                    value = self.get(index)
                    if value:
                        yield index, value


# --- bounded decompression -----------------------------------------------------------------------


def _inflate(data: bytes, *, wbits: int, max_bytes: int, what: str) -> bytes:
    """Inflate ``data`` into at most ``max_bytes``; refuse more output, truncated streams and
    trailing data (a second gzip member included)."""
    decompressor = zlib.decompressobj(wbits=wbits)
    try:
        out = decompressor.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise InvalidStatusList(f"{what} is not valid compressed data") from exc
    if len(out) > max_bytes or decompressor.unconsumed_tail:
        raise StatusListTooLarge(f"{what} inflates beyond {max_bytes} bytes")
    if not decompressor.eof:
        raise InvalidStatusList(f"{what} is truncated")
    if decompressor.unused_data:
        raise InvalidStatusList(f"{what} has data after the compressed stream")
    return out


def _compressed(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidStatusList(f"{what} must be a string")
    if len(text) > 4 * MAX_COMPRESSED_BYTES // 3 + 4:
        raise StatusListTooLarge(f"{what} is over the size limit")
    try:
        return b64url_decode(text)
    except InvalidEncoding as exc:
        raise InvalidStatusList(f"{what} is not canonical base64url") from exc


# --- IETF Token Status List ----------------------------------------------------------------------


def encode_token_status_list(
    status_list: StatusList, *, aggregation_uri: str | None = None
) -> dict[str, Any]:
    """The ``status_list`` claim: ``{"bits": n, "lst": base64url(zlib(bytes))}`` (§4.2)."""
    if status_list.order is not BitOrder.LSB:
        raise InvalidInput("a Token Status List packs statuses least-significant bit first")
    result: dict[str, Any] = {
        "bits": status_list.bits,
        "lst": b64url_encode(zlib.compress(status_list.to_bytes(), 9)),
    }
    if aggregation_uri is not None:
        result["aggregation_uri"] = aggregation_uri
    return result


def decode_token_status_list(
    claim: Mapping[str, Any], *, max_bytes: int = MAX_STATUS_LIST_BYTES
) -> StatusList:
    """Read a ``status_list`` claim (§4.2), inflating at most ``max_bytes``."""
    if not isinstance(claim, Mapping):
        raise InvalidStatusList("status_list must be an object")
    bits = claim.get("bits")
    if isinstance(bits, bool) or bits not in _BITS:
        raise InvalidStatusList(f"status_list bits must be one of {_BITS}", field="bits")
    raw = _inflate(
        _compressed(claim.get("lst"), "lst"), wbits=15, max_bytes=max_bytes, what="status list"
    )
    return StatusList.from_bytes(raw, bits, BitOrder.LSB)


@dataclass(frozen=True, slots=True)
class StatusListToken:
    """A verified Status List Token: its header, claims and decoded list."""

    header: dict[str, Any]
    claims: dict[str, Any]
    status_list: StatusList


def build_status_list_token(
    status_list: StatusList,
    key: PrivateKey,
    *,
    sub: str,
    iat: int,
    exp: int | None = None,
    ttl: int | None = None,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """Sign a Status List Token JWT (§5.1): ``typ: statuslist+jwt``; ``sub`` (the list's URI),
    ``iat``, ``exp`` and ``ttl`` (RECOMMENDED), ``status_list``; extra ``claims`` such as
    ``iss``."""
    body: dict[str, Any] = dict(claims or {})
    body.update({"sub": sub, "iat": iat, "status_list": encode_token_status_list(status_list)})
    if exp is not None:
        body["exp"] = exp
    if ttl is not None:
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl <= 0:
            raise InvalidInput("ttl must be a positive number of seconds")
        body["ttl"] = ttl
    return jose.sign_compact({**dict(header or {}), "typ": STATUS_LIST_TYP}, body, key)


def _int_claim(claims: Mapping[str, Any], name: str, *, required: bool) -> int | None:
    value = claims.get(name)
    if value is None and not required and name not in claims:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidStatusList(f"Status List Token {name!r} must be a non-negative integer")
    return value


def verify_status_list_token(
    token: str,
    key: PublicKey,
    *,
    expected_sub: str,
    now: float,
    leeway: float = 60,
    max_bytes: int = MAX_STATUS_LIST_BYTES,
) -> StatusListToken:
    """Verify a Status List Token (§8.3): signature, ``typ``, ``sub`` equal to the referenced
    token's ``uri``, ``iat`` present, ``exp`` not passed, ``ttl`` well formed; then decode the
    list with bounded decompression."""
    header, claims = jose.verify_compact(token, key, expected_typ=STATUS_LIST_TYP)
    if claims.get("sub") != expected_sub:
        raise WrongTokenType("Status List Token sub is not the referenced list URI", field="sub")
    _int_claim(claims, "iat", required=True)
    check_status_list_token_time(claims, now=now, leeway=leeway)
    ttl = _int_claim(claims, "ttl", required=False)
    if ttl == 0:
        raise InvalidStatusList("Status List Token ttl must be positive", field="ttl")
    status_list = decode_token_status_list(claims.get("status_list"), max_bytes=max_bytes)
    return StatusListToken(header, claims, status_list)


def check_status_list_token_time(claims: Mapping[str, Any], *, now: float, leeway: float) -> None:
    """The one check of ``verify_status_list_token`` that depends on the time: ``exp`` not passed.
    A verifier that keeps a token it verified before runs it again on every use."""
    exp = _int_claim(claims, "exp", required=False)
    if exp is not None and now - leeway >= exp:
        raise TokenExpired("Status List Token has expired", field="exp")


def status_reference(claims: Mapping[str, Any]) -> tuple[str, int]:
    """``(uri, idx)`` from a referenced token's ``status.status_list`` (§6.1)."""
    status = claims.get("status")
    reference = status.get("status_list") if isinstance(status, Mapping) else None
    if not isinstance(reference, Mapping):
        raise InvalidStatusList("the token has no status.status_list reference")
    uri, idx = reference.get("uri"), reference.get("idx")
    if not isinstance(uri, str) or not uri:
        raise InvalidStatusList("status_list uri must be a string", field="uri")
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise InvalidStatusList("status_list idx must be a non-negative integer", field="idx")
    return uri, idx


# --- W3C Bitstring Status List -------------------------------------------------------------------


def encode_bitstring(status_list: StatusList) -> str:
    """``encodedList``: ``"u"`` + base64url(GZIP(bitstring)) (W3C §3.2). The gzip header carries
    no timestamp, so the output depends on the bits alone."""
    if status_list.order is not BitOrder.MSB:
        raise InvalidInput("a Bitstring Status List packs statuses most-significant bit first")
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    gz = compressor.compress(status_list.to_bytes()) + compressor.flush()
    return "u" + b64url_encode(gz)


def decode_bitstring(
    encoded: str,
    *,
    status_size: int = 1,
    min_entries: int = MIN_BITSTRING_ENTRIES,
    max_bytes: int = MAX_STATUS_LIST_BYTES,
) -> StatusList:
    """Read ``encodedList`` (W3C §3.2), inflating at most ``max_bytes`` (GZIP only, one member);
    fewer than ``min_entries`` statuses is STATUS_LIST_LENGTH_ERROR."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise InvalidStatusList("encodedList must be multibase base64url ('u' prefix)")
    raw = _inflate(
        _compressed(encoded[1:], "encodedList"), wbits=31, max_bytes=max_bytes, what="encodedList"
    )
    status_list = StatusList.from_bytes(raw, status_size, BitOrder.MSB)
    if len(status_list) < min_entries:
        raise StatusListTooShort(
            f"status list has {len(status_list)} entries, fewer than {min_entries}"
        )
    return status_list


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """A parsed ``BitstringStatusListEntry`` (W3C §2.1)."""

    purpose: str
    index: int
    list_credential: str
    status_size: int = 1
    id: str | None = None


def status_entry(
    *, purpose: str, index: int, list_credential: str, id: str | None = None
) -> dict[str, Any]:
    """A ``credentialStatus`` entry; ``statusListIndex`` is written as a base-10 string."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise InvalidInput("a status list index is a non-negative integer")
    entry: dict[str, Any] = {} if id is None else {"id": id}
    entry.update(
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(index),
            "statusListCredential": list_credential,
        }
    )
    return entry


def parse_status_entry(entry: Mapping[str, Any]) -> StatusEntry:
    """Read a ``BitstringStatusListEntry`` strictly. ``statusListIndex`` must be ASCII digits
    without leading zeros: Python's ``int()`` also reads ``'4_2'``, ``' 42'``, ``'+42'`` and
    non-ASCII digits, which would let an issuer show different statuses to different verifiers
    (security.md #18)."""
    if not isinstance(entry, Mapping) or entry.get("type") != "BitstringStatusListEntry":
        raise InvalidStatusList("credentialStatus is not a BitstringStatusListEntry")
    purpose, index, credential = (
        entry.get("statusPurpose"),
        entry.get("statusListIndex"),
        entry.get("statusListCredential"),
    )
    if not isinstance(purpose, str) or not purpose:
        raise InvalidStatusList("statusPurpose must be a string", field="statusPurpose")
    if not isinstance(index, str) or _INDEX_RE.fullmatch(index) is None:
        raise InvalidStatusList(
            "statusListIndex must be a base-10 string of ASCII digits", field="statusListIndex"
        )
    if not isinstance(credential, str) or not credential:
        raise InvalidStatusList("statusListCredential must be a URL", field="statusListCredential")
    size = entry.get("statusSize", 1)
    if isinstance(size, bool) or size not in _BITS:
        raise InvalidStatusList(f"statusSize must be one of {_BITS}", field="statusSize")
    if size > 1 and not isinstance(entry.get("statusMessage"), list):
        raise InvalidStatusList("statusSize > 1 requires statusMessage", field="statusMessage")
    entry_id = entry.get("id")
    if entry_id is not None and not isinstance(entry_id, str):
        raise InvalidStatusList("credentialStatus id must be a string", field="id")
    return StatusEntry(purpose, int(index), credential, size, entry_id)


def bitstring_status_list_credential(
    *,
    id: str,
    issuer: str,
    purpose: str,
    status_list: StatusList,
    valid_from: str | None = None,
    valid_until: str | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """An unsecured ``BitstringStatusListCredential`` (W3C §2.2); secure it with ``vc_jwt``."""
    if len(status_list) < MIN_BITSTRING_ENTRIES:
        raise InvalidInput(f"a Bitstring Status List has at least {MIN_BITSTRING_ENTRIES} entries")
    subject: dict[str, Any] = {
        "id": f"{id}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": encode_bitstring(status_list),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [_V2_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
    }
    if valid_from is not None:
        credential["validFrom"] = valid_from
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = subject
    return credential


def parse_bitstring_status_list_credential(
    credential: Mapping[str, Any],
    *,
    expected_purpose: str,
    status_size: int = 1,
    min_entries: int = MIN_BITSTRING_ENTRIES,
    max_bytes: int = MAX_STATUS_LIST_BYTES,
) -> StatusList:
    """The status list of a (verified) ``BitstringStatusListCredential`` whose purpose matches
    the entry's (STATUS_VERIFICATION_ERROR otherwise)."""
    types = credential.get("type") if isinstance(credential, Mapping) else None
    if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
        raise InvalidCredential("not a BitstringStatusListCredential")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise InvalidCredential("credentialSubject is not a BitstringStatusList")
    purposes = subject.get("statusPurpose")
    purposes = [purposes] if isinstance(purposes, str) else purposes
    if not isinstance(purposes, list) or expected_purpose not in purposes:
        raise InvalidStatusList(f"the status list is not for {expected_purpose!r}")
    return decode_bitstring(
        subject.get("encodedList"),
        status_size=status_size,
        min_entries=min_entries,
        max_bytes=max_bytes,
    )


# --- index allocation ----------------------------------------------------------------------------


def allocate_index(
    size: int,
    used: Collection[int],
    *,
    randbelow: Callable[[int], int] = secrets.randbelow,
    attempts: int = 64,
) -> int:
    """A uniformly random index in ``range(size)`` that is not in ``used`` (W3C §3: assign
    indexes at random, so neither issue order nor group size can be read from them).

    Rejection sampling first; when the list is nearly full, the ``k``-th free index for a
    uniform ``k``. ``StatusListFull`` when nothing is free. ``used`` is never modified: the
    caller records the result (under its uniqueness constraint).
    """
    free = size - len(used)
    if free <= 0:
        raise StatusListFull("every index of the status list is in use")
    for _ in range(attempts):
        candidate = randbelow(size)
        if candidate not in used:
            return candidate
    target = randbelow(free)
    for taken in sorted(i for i in used if 0 <= i < size):
        if taken <= target:
            target += 1
        else:
            break
    return target
