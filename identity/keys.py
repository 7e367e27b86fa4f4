"""Public and private signing keys (Ed25519, P-256) and their JWK form.

Specs: JWK RFC 7517 §4; EC JWK RFC 7518 §6.2; OKP/Ed25519 JWK and EdDSA RFC 8037 §2-3; the
fully-specified ``Ed25519`` algorithm name RFC 9864; ES256 signatures as raw R||S RFC 7518 §3.4;
thumbprints RFC 7638 §3; Ed25519 point decoding and S < L RFC 8032 §5.1.3, §5.1.7; P-256 points
SEC 1 v2 §2.3.3-2.3.4.

Every key that enters the service passes through ``PublicKey.__post_init__``, which refuses
malformed keys (``InvalidKey``), curves and types we do not support (``UnsupportedKeyType``) and
Ed25519 keys that would let anyone forge signatures (``WeakKey``: small-order, mixed-order and
non-canonical encodings, see ``identity/_ed25519.py``).

    >>> key = PrivateKey.from_private_bytes(KeyType.ED25519, bytes(32))
    >>> key.public_key.verify(key.sign(b"hi"), b"hi")
"""

from __future__ import annotations

import binascii
import enum
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from errors import (
    InvalidEncoding,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
    UnsupportedKeyType,
    WeakKey,
)
from identity import _ed25519
from identity.encoding import b64url_decode, b64url_encode

__all__ = [
    "Algorithm",
    "KeyType",
    "PrivateKey",
    "PublicKey",
    "ed25519_is_weak",
    "jwk_thumbprint",
]


class KeyType(enum.StrEnum):
    """The key types this service accepts; the values are the JWK ``crv`` names."""

    ED25519 = "Ed25519"
    P256 = "P-256"


class Algorithm(enum.StrEnum):
    """The JOSE ``alg`` allow-list. Anything not listed here is refused, ``none`` and HS* above
    all (security.md G1)."""

    EDDSA = "EdDSA"  # RFC 8037; deprecated by RFC 9864 but still what most wallets send
    ED25519 = "Ed25519"  # RFC 9864 fully-specified name
    ES256 = "ES256"  # RFC 7518 §3.4


_ALGORITHMS: dict[KeyType, tuple[Algorithm, ...]] = {
    KeyType.ED25519: (Algorithm.EDDSA, Algorithm.ED25519),
    KeyType.P256: (Algorithm.ES256,),
}

# SEC 2 v2 §2.4.2 (secp256r1): field prime, curve coefficient b (a = -3), group order n.
_P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

# JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4;
# RFC 8037 §2). A public key input carrying any of them is a leaked or confused key.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

# RFC 7638 §3.2: the required members of each key type, the only ones a thumbprint hashes.
_THUMBPRINT_MEMBERS: dict[str, tuple[str, ...]] = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}

_WEAK_CHECKS = frozenset(
    {
        _ed25519.PointCheck.NON_CANONICAL,
        _ed25519.PointCheck.SMALL_ORDER,
        _ed25519.PointCheck.MIXED_ORDER,
    }
)


def ed25519_is_weak(raw: bytes) -> bool:
    """True if ``raw`` encodes an Ed25519 point that must never be trusted as a public key: one of
    the 8 small-order points, a point with a small-order component, or a non-canonical encoding
    (``y >= p`` or a negative zero ``x``).

    Byte strings that are not points at all are *invalid*, not weak (False here; ``from_raw``
    refuses them with ``InvalidKey``).
    """
    return _ed25519.check_point(bytes(raw)) in _WEAK_CHECKS


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint with SHA-256, base64url-encoded, for any RSA/EC/OKP/oct JWK.

    Only the required members of the key type are hashed (§3.2), so ``kid``, ``alg`` and private
    members never change the thumbprint.
    """
    if not isinstance(jwk, Mapping):
        raise InvalidKey("JWK must be a JSON object")
    kty = jwk.get("kty")
    if not isinstance(kty, str):
        raise InvalidKey("JWK member 'kty' is missing or not a string", field="kty")
    members = _THUMBPRINT_MEMBERS.get(kty)
    if members is None:
        raise UnsupportedKeyType(f"no thumbprint rule for kty {kty!r}", field="kty")
    required: dict[str, str] = {}
    for name in members:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise InvalidKey(f"JWK member {name!r} is missing or not a string", field=name)
        required[name] = value
    # §3.3: lexicographic member order, no whitespace, UTF-8.
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        encoded = canonical.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate smuggled in through JSON escapes
        raise InvalidKey("JWK members are not valid Unicode") from exc
    return b64url_encode(hashlib.sha256(encoded).digest())


def _coerce_key_type(key_type: object) -> KeyType:
    try:
        return KeyType(key_type)
    except ValueError:
        raise UnsupportedKeyType(f"unsupported key type {key_type!r}") from None


def _jwk_bytes(jwk: Mapping[str, Any], name: str, length: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKey(f"JWK member {name!r} is missing or not a string", field=name)
    try:
        data = b64url_decode(value)
    except InvalidEncoding as exc:
        raise InvalidKey(f"JWK member {name!r} is not strict base64url", field=name) from exc
    if len(data) != length:
        raise InvalidKey(f"JWK member {name!r} must be {length} bytes", field=name)
    return data


def _jwk_key_type(jwk: Mapping[str, Any]) -> KeyType:
    if not isinstance(jwk, Mapping):
        raise InvalidKey("JWK must be a JSON object")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if not isinstance(kty, str):
        raise InvalidKey("JWK member 'kty' is missing or not a string", field="kty")
    if kty not in ("OKP", "EC"):
        raise UnsupportedKeyType(f"unsupported JWK kty {kty!r}", field="kty")
    if not isinstance(crv, str):
        raise InvalidKey("JWK member 'crv' is missing or not a string", field="crv")
    if kty == "OKP" and crv == "Ed25519":
        return KeyType.ED25519
    if kty == "EC" and crv == "P-256":
        return KeyType.P256
    raise UnsupportedKeyType(f"unsupported JWK curve {kty}/{crv}", field="crv")


def _check_p256_coordinates(x: int, y: int) -> None:
    # Checked here as well as by OpenSSL so that the rule (coordinates reduced, point on the
    # curve) does not depend on how a library version treats x >= p.
    if x >= _P256_P or y >= _P256_P:
        raise InvalidKey("P-256 coordinate is not reduced modulo p")
    if (y * y - (x * x * x - 3 * x + _P256_B)) % _P256_P:
        raise InvalidKey("P-256 point is not on the curve")


def _check_ed25519(raw: bytes) -> None:
    verdict = _ed25519.check_point(raw)
    if verdict is _ed25519.PointCheck.OK:
        return
    if verdict in _WEAK_CHECKS:
        raise WeakKey(f"Ed25519 public key refused: {verdict.value.replace('_', '-')} point")
    raise InvalidKey(f"Ed25519 public key refused: {verdict.value.replace('_', ' ')}")


_b2a: Final = binascii.b2a_base64
_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")

# PublicKey.from_jwk keeps the keys it built from string-only JWKs (a holder's cnf key comes back
# with every presentation; decoding and checking a P-256 point costs more than a signature check
# of the rest of the token). Only keys that passed every check are kept; PublicKey is immutable.
_FROM_JWK: dict[tuple[tuple[str, str], ...], PublicKey] = {}
_FROM_JWK_KEPT = 1024
_FROM_JWK_LOCK = threading.Lock()

# The signature algorithm object for ES256 verification and the curve, built once (they hold no
# state).
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_SECP256R1 = ec.SECP256R1()


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A validated public key. ``raw`` is the 32-byte Ed25519 encoding or the 65-byte
    uncompressed SEC1 P-256 point (``04 || X || Y``); construction refuses anything else."""

    key_type: KeyType
    raw: bytes
    _crypto: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey = field(
        init=False, repr=False, compare=False
    )
    # ``to_jwk_json()``, written on first use (public data of an immutable key): an issuer writes
    # it into the ``cnf`` of every credential for this key.
    _jwk_json: str | None = field(default=None, init=False, repr=False, compare=False)
    _thumbprint: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key_type = _coerce_key_type(self.key_type)
        raw = self.raw
        if not isinstance(raw, bytes):
            raise InvalidKey("public key bytes must be bytes")
        crypto: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
        if key_type is KeyType.ED25519:
            if len(raw) != 32:
                raise InvalidKey("Ed25519 public key must be 32 bytes")
            _check_ed25519(raw)
            crypto = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        else:
            if len(raw) != 65 or raw[0] != 0x04:
                raise InvalidKey("P-256 public key must be a 65-byte uncompressed SEC1 point")
            x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
            _check_p256_coordinates(x, y)
            try:
                # The SEC1 point as it is (what the numbers would be turned back into), checked
                # again by OpenSSL.
                crypto = ec.EllipticCurvePublicKey.from_encoded_point(_SECP256R1, raw)
            except ValueError as exc:  # pragma: no cover - excluded by the check above
                raise InvalidKey("P-256 point is not on the curve") from exc
        object.__setattr__(self, "key_type", key_type)
        object.__setattr__(self, "_crypto", crypto)

    @classmethod
    def from_raw(cls, key_type: KeyType | str, raw: bytes) -> PublicKey:
        """Build from raw bytes: Ed25519 32 bytes; P-256 33-byte compressed or 65-byte
        uncompressed SEC1 (normalised to uncompressed)."""
        key_type = _coerce_key_type(key_type)
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise InvalidKey("public key bytes must be bytes")
        raw = bytes(raw)
        if key_type is KeyType.P256 and len(raw) == 33:
            if raw[0] not in (0x02, 0x03):
                raise InvalidKey("compressed P-256 point must start with 02 or 03")
            if int.from_bytes(raw[1:], "big") >= _P256_P:
                raise InvalidKey("P-256 coordinate is not reduced modulo p")
            try:
                point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
            except ValueError as exc:
                raise InvalidKey("compressed P-256 point is not on the curve") from exc
            raw = point.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return cls(key_type, raw)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """Build from a public JWK (RFC 7517/7518/8037), strictly.

        ``kty``/``crv`` must name a supported key; coordinates must be strict base64url of exactly
        32 bytes; private members (``d`` ...) are refused; an ``alg`` member, if present, must be
        one this key may use. Other members (``kid``, ``use`` ...) are ignored (RFC 7517 §4).
        """
        # A JWK whose members are all strings is looked up by all of its (name, value) pairs:
        # only a JWK accepted before, member for member, finds the key built from it then.
        members = tuple(jwk.items()) if type(jwk) is dict else None
        if members is not None and all(type(value) is str for _, value in members):
            found = _FROM_JWK.get(members)
            if found is not None:
                return found
            key = cls._from_jwk(jwk)
            with _FROM_JWK_LOCK:
                if len(_FROM_JWK) >= _FROM_JWK_KEPT:
                    del _FROM_JWK[next(iter(_FROM_JWK))]  # the oldest entry
                _FROM_JWK[members] = key
            return key
        return cls._from_jwk(jwk)

    @classmethod
    def _from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        key_type = _jwk_key_type(jwk)
        leaked = _PRIVATE_MEMBERS.intersection(jwk)
        if leaked:
            raise InvalidKey(f"public JWK carries private members {sorted(leaked)}")
        if key_type is KeyType.ED25519:
            if "y" in jwk:
                raise InvalidKey("OKP JWK must not have a 'y' member", field="y")
            key = cls(key_type, _jwk_bytes(jwk, "x", 32))
        else:
            x, y = _jwk_bytes(jwk, "x", 32), _jwk_bytes(jwk, "y", 32)
            key = cls(key_type, b"\x04" + x + y)
        if "alg" in jwk and jwk["alg"] not in key.algorithms:
            raise UnsupportedAlgorithm(f"JWK alg {jwk['alg']!r} does not fit {key_type}")
        return key

    def to_jwk(self) -> dict[str, str]:
        """The public JWK with only kty/crv/x(/y)."""
        if self.key_type is KeyType.ED25519:
            return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.raw)}
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(self.raw[1:33]),
            "y": b64url_encode(self.raw[33:]),
        }

    def to_jwk_json(self) -> str:
        """``to_jwk()`` as compact JSON text: what ``json.dumps(key.to_jwk(), separators=(",",
        ":"))`` writes (the same members in the same order; base64url needs no escaping)."""
        text = self._jwk_json
        if text is None:
            text = self._jwk_text(lexicographic=False)
            object.__setattr__(self, "_jwk_json", text)
        return text

    def _jwk_text(self, *, lexicographic: bool) -> str:
        """The public JWK as compact JSON, its members in ``to_jwk()``'s order or in
        lexicographic order (RFC 7638 §3.3); base64url values need no escaping."""
        raw = self.raw
        if self.key_type is KeyType.ED25519:
            kty, crv = '"kty":"OKP"', '"crv":"Ed25519"'
            coordinates = f'"x":"{b64url_encode(raw)}"'
        else:
            kty, crv = '"kty":"EC"', '"crv":"P-256"'
            # x and y in one encoder call: each 32-byte coordinate and a zero byte make a
            # 33-byte group (44 characters), whose first 43 are the coordinate's base64url.
            both = _b2a(raw[1:33] + b"\x00" + raw[33:] + b"\x00").translate(_URLSAFE)
            coordinates = f'"x":"{both[:43].decode("ascii")}","y":"{both[44:87].decode("ascii")}"'
        first, second = (crv, kty) if lexicographic else (kty, crv)
        return f"{{{first},{second},{coordinates}}}"

    def thumbprint(self) -> str:
        """RFC 7638 SHA-256 thumbprint of ``to_jwk()``, base64url (kept, like ``to_jwk_json``).

        The hashed text is written here: the required members in lexicographic order, no
        whitespace (§3.2-3.3), which is what ``jwk_thumbprint(self.to_jwk())`` serialises
        (base64url values need no escaping)."""
        text = self._thumbprint
        if text is None:
            canonical = self._jwk_text(lexicographic=True).encode("ascii")
            text = b64url_encode(hashlib.sha256(canonical).digest())
            object.__setattr__(self, "_thumbprint", text)
        return text

    def compressed(self) -> bytes:
        """The 33-byte compressed SEC1 point (P-256 only; it is what did:key and Multikey use)."""
        if self.key_type is not KeyType.P256:
            raise UnsupportedKeyType("only P-256 keys have a compressed SEC1 form")
        prefix = 0x02 | (self.raw[-1] & 1)
        return bytes([prefix]) + self.raw[1:33]

    @property
    def algorithms(self) -> tuple[Algorithm, ...]:
        """The JOSE algorithms this key may be used with."""
        return _ALGORITHMS[self.key_type]

    def verify(
        self, signature: bytes, message: bytes, *, algorithm: Algorithm | str | None = None
    ) -> None:
        """Verify ``signature`` over ``message`` or raise ``InvalidSignature``.

        Ed25519 signatures are 64 bytes with S < L (RFC 8032 §5.1.7, checked here so that
        malleated signatures are refused whatever OpenSSL does); ES256 signatures are the JOSE
        64-byte R||S with 1 <= r, s < n (RFC 7518 §3.4). If ``algorithm`` is given (a JWS
        ``alg``), it must be one of ``self.algorithms`` (``UnsupportedAlgorithm`` otherwise).
        """
        if algorithm is not None and algorithm not in self.algorithms:
            raise UnsupportedAlgorithm(
                f"algorithm {algorithm!r} cannot be used with a {self.key_type} key"
            )
        if not isinstance(signature, bytes | bytearray) or len(signature) != 64:
            raise InvalidSignature("signature must be 64 bytes")
        signature, message = bytes(signature), bytes(message)
        try:
            if isinstance(self._crypto, ed25519.Ed25519PublicKey):
                if int.from_bytes(signature[32:], "little") >= _ed25519.L:
                    raise InvalidSignature("Ed25519 signature is not canonical (S >= L)")
                self._crypto.verify(signature, message)
            else:
                r = int.from_bytes(signature[:32], "big")
                s = int.from_bytes(signature[32:], "big")
                if not (0 < r < _P256_N and 0 < s < _P256_N):
                    raise InvalidSignature("ES256 signature component out of range")
                self._crypto.verify(encode_dss_signature(r, s), message, _ECDSA_SHA256)
        except _CryptoInvalidSignature:
            raise InvalidSignature("signature does not verify") from None


@dataclass(frozen=True, slots=True)
class PrivateKey:
    """A signing key. Build it with ``generate``, ``from_private_bytes`` or ``from_jwk``.

    The secret lives only inside the ``cryptography`` object and never appears in ``repr``.
    """

    key_type: KeyType
    public_key: PublicKey
    _crypto: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey = field(
        repr=False, compare=False
    )

    @classmethod
    def generate(
        cls, key_type: KeyType | str, *, randbytes: Callable[[int], bytes] = secrets.token_bytes
    ) -> PrivateKey:
        """A new key from ``randbytes`` (a CSPRNG in production; deterministic in tests)."""
        key_type = _coerce_key_type(key_type)
        while True:
            candidate = randbytes(32)
            if key_type is KeyType.ED25519:
                return cls.from_private_bytes(key_type, candidate)
            # Rejection sampling keeps the P-256 scalar uniform in [1, n).
            if 0 < int.from_bytes(candidate, "big") < _P256_N:
                return cls.from_private_bytes(key_type, candidate)

    @classmethod
    def from_private_bytes(cls, key_type: KeyType | str, secret: bytes) -> PrivateKey:
        """From the 32-byte Ed25519 seed (RFC 8032 §5.1.5) or the 32-byte big-endian P-256
        scalar (the JWK ``d``)."""
        key_type = _coerce_key_type(key_type)
        if not isinstance(secret, bytes) or len(secret) != 32:
            raise InvalidKey("private key must be 32 bytes")
        crypto: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
        if key_type is KeyType.ED25519:
            crypto = ed25519.Ed25519PrivateKey.from_private_bytes(secret)
            raw = crypto.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        else:
            scalar = int.from_bytes(secret, "big")
            if not 0 < scalar < _P256_N:
                raise InvalidKey("P-256 private scalar out of range")
            crypto = ec.derive_private_key(scalar, ec.SECP256R1())
            raw = crypto.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return cls(key_type, PublicKey(key_type, raw), crypto)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PrivateKey:
        """From a private JWK; the public members must match the key derived from ``d``."""
        key_type = _jwk_key_type(jwk)
        extra = (_PRIVATE_MEMBERS - {"d"}).intersection(jwk)
        if extra:
            raise InvalidKey(f"JWK has members not valid for {key_type}: {sorted(extra)}")
        secret = _jwk_bytes(jwk, "d", 32)
        claimed = PublicKey.from_jwk({k: v for k, v in jwk.items() if k != "d"})
        key = cls.from_private_bytes(key_type, secret)
        if not hmac.compare_digest(key.public_key.raw, claimed.raw):
            raise InvalidKey("JWK 'd' does not match its public members", field="d")
        return key

    def private_bytes(self) -> bytes:
        """The 32-byte secret accepted by ``from_private_bytes``."""
        if isinstance(self._crypto, ed25519.Ed25519PrivateKey):
            return self._crypto.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        return self._crypto.private_numbers().private_value.to_bytes(32, "big")

    def to_jwk(self, include_private: bool = True) -> dict[str, str]:
        """The JWK; with ``include_private=False`` the same as ``public_key.to_jwk()``."""
        jwk = self.public_key.to_jwk()
        if include_private:
            jwk["d"] = b64url_encode(self.private_bytes())
        return jwk

    @property
    def algorithms(self) -> tuple[Algorithm, ...]:
        return self.public_key.algorithms

    def sign(self, message: bytes) -> bytes:
        """Sign ``message``: 64-byte Ed25519 signature, or ES256 as JOSE raw R||S (64 bytes)."""
        crypto = self._crypto
        if type(message) is not bytes:
            message = bytes(message)
        if self.key_type is KeyType.ED25519:
            return crypto.sign(message)  # type: ignore[call-arg]
        return _jose_es256(crypto.sign(message, _ECDSA_SHA256))  # type: ignore[call-arg]


# Built once: an ECDSA object holds no state between signatures, and building it per call cost
# more than a microsecond of each ES256 signature.
_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())


def _jose_es256(der: bytes) -> bytes:
    """ES256 as JOSE raw R||S (RFC 7518 §3.4) from the DER ``SEQUENCE {INTEGER r, INTEGER s}``
    that OpenSSL writes. Read by slicing (a P-256 signature is at most 72 bytes, so every length
    is one byte) after checking the tags and lengths; anything else goes through the full DER
    decoder, which raises on malformed input."""
    size = len(der)
    r_len = der[3] if size > 8 else 0
    s_at = 4 + r_len
    if (
        0 < r_len <= 33
        and der[0] == 0x30
        and der[1] == size - 2
        and der[2] == 0x02
        and s_at + 2 < size
        and der[s_at] == 0x02
        and 0 < der[s_at + 1] <= 33
        and der[s_at + 1] == size - s_at - 2
        and (r_len < 33 or der[4] == 0)
        and (der[s_at + 1] < 33 or der[s_at + 2] == 0)
    ):
        # A minimal INTEGER is at most 33 bytes (a 00 before a set top bit); r and s < n.
        r, s = der[4:s_at], der[s_at + 2 :]
        return r[-32:].rjust(32, b"\x00") + s[-32:].rjust(32, b"\x00")
    r_int, s_int = decode_dss_signature(der)
    return r_int.to_bytes(32, "big") + s_int.to_bytes(32, "big")
