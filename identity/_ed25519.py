"""Just enough edwards25519 arithmetic to judge a public key before OpenSSL sees it.

RFC 8032 §5.1.3 defines point decoding; OpenSSL follows it loosely (it accepts non-canonical
``y >= p`` encodings and "negative zero") and, like RFC 8032's cofactorless equation, it accepts
signatures under small-order keys: with A of order 8 and R = O, S = 0 verifies for a fraction of
all messages, for A = O it verifies for every message (security.md §3 row 7, §5). So keys are
classified here, in plain integers, and only ``PointCheck.OK`` keys are ever handed to OpenSSL.

Nothing here touches secrets, so plain (non-constant-time) Python arithmetic is fine.
"""

from __future__ import annotations

import enum
import functools

__all__ = ["L", "P", "PointCheck", "check_point", "x25519_from_ed25519"]

P = 2**255 - 19
# Order of the prime subgroup (RFC 8032 §5.1).
L = 2**252 + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, -1, P)) % P
_SQRT_M1 = pow(2, (P - 1) // 4, P)

# Extended twisted Edwards coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, xy = T/Z.
_Point = tuple[int, int, int, int]
_IDENTITY: _Point = (0, 1, 1, 0)


class PointCheck(enum.StrEnum):
    """Verdict on a 32-byte Ed25519 public key encoding."""

    OK = "ok"
    WRONG_LENGTH = "wrong_length"
    NON_CANONICAL = "non_canonical"  # y >= p, or x = 0 encoded with the sign bit set
    NOT_ON_CURVE = "not_on_curve"  # no x satisfies the curve equation for this y
    SMALL_ORDER = "small_order"  # 8·A = O: one of the 8 torsion points
    MIXED_ORDER = "mixed_order"  # L·A != O: has a torsion component; never an honest key


def _recover_x(y: int, sign: int) -> int | None:
    """x with the given parity such that (x, y) is on the curve (RFC 8032 §5.1.3 steps 2-4)."""
    u = (y * y - 1) % P
    v = (_D * y * y + 1) % P
    x = (u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P)) % P
    vxx = (v * x * x) % P
    if vxx == u:
        pass
    elif vxx == (-u) % P:
        x = (x * _SQRT_M1) % P
    else:
        return None
    if x & 1 != sign:
        x = (-x) % P
    return x


def _add(a: _Point, b: _Point) -> _Point:
    # RFC 8032 §5.1.4 addition formulas (complete for edwards25519, so doubling works too).
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = ((y1 - x1) * (y2 - x2)) % P
    bb = ((y1 + x1) * (y2 + x2)) % P
    cc = (2 * t1 * t2 * _D) % P
    dd = (2 * z1 * z2) % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f) % P, (g * h) % P, (f * g) % P, (e * h) % P


def _mul(k: int, point: _Point) -> _Point:
    result = _IDENTITY
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def _is_identity(point: _Point) -> bool:
    x, y, z, _ = point
    return x % P == 0 and (y - z) % P == 0


def _decode(raw: bytes) -> tuple[PointCheck, _Point | None]:
    if len(raw) != 32:
        return PointCheck.WRONG_LENGTH, None
    as_int = int.from_bytes(raw, "little")
    sign = as_int >> 255
    y = as_int & ((1 << 255) - 1)
    if y >= P:
        return PointCheck.NON_CANONICAL, None
    x = _recover_x(y, sign)
    if x is None:
        return PointCheck.NOT_ON_CURVE, None
    if x == 0 and sign == 1:
        # RFC 8032 §5.1.3 step 4: "negative zero" must be rejected.
        return PointCheck.NON_CANONICAL, None
    return PointCheck.OK, (x, y, 1, (x * y) % P)


def _encode(point: _Point) -> bytes:
    x, y, z, _ = point
    z_inv = pow(z, -1, P)
    x, y = (x * z_inv) % P, (y * z_inv) % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


# Two scalar multiplications cost ~2 ms in Python; the same few keys (issuers, wallets) recur.
@functools.lru_cache(maxsize=4096)
def check_point(raw: bytes) -> PointCheck:
    """Classify ``raw`` as an Ed25519 public key; only ``PointCheck.OK`` may be trusted."""
    verdict, point = _decode(raw)
    if point is None:
        return verdict
    if _is_identity(_mul(8, point)):
        return PointCheck.SMALL_ORDER
    if not _is_identity(_mul(L, point)):
        return PointCheck.MIXED_ORDER
    return PointCheck.OK


def x25519_from_ed25519(raw: bytes) -> bytes:
    """The X25519 public key u = (1 + y) / (1 - y) for an Ed25519 public key (RFC 7748 §4.1
    birational map; did:key v0.9 "Derive Encryption Key Algorithm").

    The caller must pass a key that ``check_point`` accepted (y = 1, the identity, has no image).
    """
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    u = ((1 + y) * pow(1 - y, -1, P)) % P
    return u.to_bytes(32, "little")
