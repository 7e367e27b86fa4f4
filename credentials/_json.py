"""Strict JSON for tokens, disclosures and status lists (security.md G3; RFC 7515 §4 and
RFC 7519 §4 on duplicate member names; RFC 8725 §3.7 UTF-8 only).

One accepted reading per input: duplicate member names, ``NaN``/``Infinity``, invalid UTF-8, lone
surrogates and nesting deeper than ``MAX_DEPTH`` are all refused with the caller's error class, so
that no two parsers in the project can see different claims in the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from errors import Error

MAX_DEPTH = 32


def _no_duplicates(
    error: type[Error], what: str
) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, value in pairs:
            if name in result:
                raise error(f"{what} has a duplicate member {name!r}")
            result[name] = value
        return result

    return hook


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
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not valid UTF-8") from exc

    def refuse_constant(name: str) -> Any:
        raise error(f"{what} contains the non-JSON number {name}")

    def finite_float(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise error(f"{what} contains a number out of range")
        return value

    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates(error, what),
            parse_constant=refuse_constant,
            parse_float=finite_float,
        )
        # A lone surrogate written as a JSON escape parses; it cannot be re-encoded as UTF-8.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except Error:
        raise
    except (ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise error(f"{what} is not valid JSON") from exc
    if not _depth_ok(value):
        raise error(f"{what} is nested deeper than {MAX_DEPTH} levels")
    return value


# ``json.dumps`` with non-default options builds a new encoder on every call; these are built
# once (an encoder keeps no state between calls, so sharing it across threads is safe).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


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
