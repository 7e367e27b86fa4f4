"""Strict JSON for tokens, disclosures and status lists (security.md G3; RFC 7515 §4 and
RFC 7519 §4 on duplicate member names; RFC 8725 §3.7 UTF-8 only).

One accepted reading per input: duplicate member names, ``NaN``/``Infinity``, invalid UTF-8, lone
surrogates and nesting deeper than ``MAX_DEPTH`` are all refused with the caller's error class, so
that no two parsers in the project can see different claims in the same bytes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from errors import Error

MAX_DEPTH = 32


class _Refused(Exception):
    """Raised by the decoder's hooks; ``loads`` turns it into the caller's error class. The hooks
    are shared by one decoder built once, so they cannot know the caller's class or wording."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _Refused(f"has a duplicate member {name!r}")
            seen.add(name)
    return result


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"contains the non-JSON number {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("contains a number out of range")
    return value


# ``json.loads`` with hooks builds a new decoder (and scanner) on every call; this one is built
# once. A decoder keeps no state between calls, so sharing it across threads is safe.
_SCAN = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_refuse_constant, parse_float=_finite_float
).scan_once
_WHITESPACE = json.decoder.WHITESPACE.match


def _decode(text: str) -> Any:
    # What JSONDecoder.decode and raw_decode do (one value, surrounded by JSON whitespace only),
    # without their two Python-level calls around the scanner.
    try:
        value, end = _SCAN(text, _WHITESPACE(text, 0).end())
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    if _WHITESPACE(text, end).end() != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


# A lone surrogate can only come from a \uD800-\uDFFF escape (UTF-8 bytes cannot hold one) or,
# for text input, from a surrogate character in the text itself. A match here may be a false
# alarm (an escaped backslash before "ud8..", or a valid pair); it only sends the value through
# the exact check, never past it.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _depth_ok(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                return False
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return True


def loads(data: bytes | str, *, error: type[Error], what: str) -> Any:
    """Parse ``data`` (UTF-8 bytes or text) strictly; raise ``error`` on anything doubtful."""
    if isinstance(data, bytes | bytearray):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(f"{what} is not valid UTF-8") from exc
        may_hold_surrogates = False  # the UTF-8 codec refuses encoded surrogates
    else:
        text = data
        may_hold_surrogates = not text.isascii()
    try:
        value = _decode(text)
        if may_hold_surrogates or ("\\u" in text and _SURROGATE_ESCAPE.search(text)):
            # A lone surrogate written as a JSON escape parses; it cannot be re-encoded as UTF-8.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except _Refused as exc:
        raise error(f"{what} {exc.reason}") from None
    except (ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise error(f"{what} is not valid JSON") from exc
    # Every array or object in the text opens with a '[' or '{' character, so a text with at most
    # MAX_DEPTH of them (counting those inside strings too) cannot nest deeper: no walk needed.
    if text.count("{") + text.count("[") > MAX_DEPTH and not _depth_ok(value):
        raise error(f"{what} is nested deeper than {MAX_DEPTH} levels")
    return value


# ``json.dumps`` with non-default options builds a new encoder on every call; this one is built
# once (an encoder keeps no state between calls, so sharing it across threads is safe).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _compact_encoder() -> Callable[[Any], str]:
    """``_ENCODER.encode``, or the same C encoder called directly when there is one: ``encode``
    builds a new C encoder object on every call, about 170 bytecodes, twice per issued
    credential. Built without the circular-reference markers (a dict shared by every call, which
    a failed call would leave entries in); a circular value then fails by recursion depth
    instead, still a RecursionError or ValueError to the callers, who refuse both alike."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _ENCODER.encode
    try:
        encode = make(
            None,  # markers
            _ENCODER.default,  # raises TypeError, as json.dumps does
            json.encoder.encode_basestring,  # ensure_ascii=False
            None,  # indent
            ":",
            ",",
            False,  # sort_keys
            False,  # skipkeys
            False,  # allow_nan
        )
    except TypeError:  # another interpreter's signature
        return _ENCODER.encode

    def compact(value: Any) -> str:
        return "".join(encode(value, 0))

    return compact


compact: Callable[[Any], str] = _compact_encoder()
"""Compact JSON text (no whitespace, non-ASCII kept), what ``json.dumps(value,
separators=(",", ":"), ensure_ascii=False, allow_nan=False)`` writes. Raises ``TypeError``,
``ValueError`` (NaN) or ``RecursionError``; lone surrogates pass (they fail when encoded to UTF-8).
"""
_COMPACT = compact


def dumps(value: Any, *, error: type[Error], what: str) -> bytes:
    """Compact UTF-8 JSON (no whitespace, non-ASCII kept), refusing NaN and lone surrogates."""
    try:
        return _COMPACT(value).encode("utf-8")
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise error(f"{what} cannot be serialised as JSON: {exc}") from exc


def dumps_object(value: dict[str, Any], more: str, *, error: type[Error], what: str) -> bytes:
    """``dumps`` of the object ``value`` with more members after its own: ``more`` is their
    compact JSON text (``"a":1,"b":[2]``), which must be valid JSON members with names not in
    ``value``. The bytes are what ``dumps`` writes for the object holding both, in that order;
    the caller writes ``more`` itself when it knows its values need no escaping (a list of
    base64url digests costs the encoder about 15 times what a join does)."""
    try:
        text = _COMPACT(value)
        if more:
            text = f"{text[:-1]},{more}}}" if value else f"{{{more}}}"
        return text.encode("utf-8")
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise error(f"{what} cannot be serialised as JSON: {exc}") from exc
