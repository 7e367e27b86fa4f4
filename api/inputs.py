"""Strict request-body parsing: the only way a blueprint reads JSON.

A body must be ``application/json``, at most the configured size, valid UTF-8, valid JSON with no
duplicate member names and no NaN/Infinity, and must match the endpoint's JSON Schema (the same
schema the OpenAPI document publishes, so the documentation cannot drift from the check). Unknown
fields are refused. Each failure raises an ``errors.InvalidInput`` subclass naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from flask import request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

import errors

__all__ = ["json_body", "query_int", "validate"]

_MAX_DEPTH = 32


def json_body(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Parse and validate the current request's JSON body against ``schema``."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not re.fullmatch(r"application/[\w.+-]+\+json", mimetype):
        raise errors.UnsupportedMediaType("the body must be application/json")
    raw = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.MalformedJson(f"the body is not valid UTF-8 (byte {exc.start})") from exc
    value = parse_json(text)
    validate(value, schema)
    return value


def parse_json(text: str) -> Any:
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise errors.MalformedJson(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise errors.MalformedJson("the body is nested too deeply") from exc
    if _depth(value) > _MAX_DEPTH:
        raise errors.MalformedJson(f"the body is nested deeper than {_MAX_DEPTH} levels")
    _check_unicode(value)
    return value


# Validators by schema: building one costs more than validating a typical body. The schemas are
# module constants; the entry keeps its schema, so an id is never reused while cached.
_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}


def validate(value: Any, schema: Mapping[str, Any]) -> None:
    """Check ``value`` against a JSON Schema (2020-12); raise a field-level InvalidInput."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = (schema, Draft202012Validator(schema))
        if len(_VALIDATORS) < 512:
            _VALIDATORS[id(schema)] = cached
    error = best_match(cached[1].iter_errors(value))
    if error is None:
        return
    raise _as_input_error(error)


def query_int(name: str, *, minimum: int = 0, maximum: int = 2**63 - 1) -> int:
    raw = request.args.get(name)
    if raw is None:
        raise errors.MissingField(f"query parameter {name!r} is required", field=name)
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", raw):
        raise errors.WrongType(f"query parameter {name!r} must be a decimal integer", field=name)
    number = int(raw)
    if not minimum <= number <= maximum:
        raise errors.InvalidValue(
            f"query parameter {name!r} must be between {minimum} and {maximum}", field=name
        )
    return number


def raw_path_tail(decoded: str) -> str:
    """The last path parameter exactly as the client sent it, not percent-decoded.

    DIDs may contain percent-encoded characters (a did:webvh port is ``%3A``); the router decodes
    them, which would turn ``host%3A5000`` into ``host:5000``, another DID. A DID sent fully
    URL-encoded (``did%3Awebvh%3A...``) is decoded once.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        return decoded
    raw_path = raw.split("?", 1)[0]
    # absolute-form request target (RFC 9112 §3.2.2); an origin-form path starts with "/" and
    # may itself hold "://" (a subject that is a URL)
    if not raw_path.startswith("/") and "://" in raw_path:
        raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
    prefix = request.path[: len(request.path) - len(decoded)]
    if not request.path.endswith(decoded):
        return decoded
    count = prefix.count("/")
    parts = raw_path.split("/", count)
    tail = parts[count] if len(parts) > count else decoded
    if tail[:6].lower() == "did%3a":
        tail = unquote(tail)
    return tail


def _as_input_error(error: ValidationError) -> errors.InvalidInput:
    path = ".".join(str(p) for p in error.absolute_path)
    where = f"field {path!r}" if path else "the body"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        name = ".".join(filter(None, [path, str(extra[0]) if extra else ""]))
        return errors.UnknownField(f"unknown field {name!r}", field=name)
    if error.validator == "required":
        missing = [r for r in error.validator_value if r not in error.instance]
        name = ".".join(filter(None, [path, missing[0] if missing else ""]))
        return errors.MissingField(f"field {name!r} is required", field=name)
    if error.validator == "type":
        expected = error.validator_value
        return errors.WrongType(f"{where} must be of type {expected}", field=path or None)
    return errors.InvalidValue(f"{where}: {error.message[:300]}", field=path or None)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise errors.MalformedJson(f"duplicate member name {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise errors.MalformedJson(f"{name} is not valid JSON")


def _check_unicode(value: Any) -> None:
    """JSON may escape lone surrogates (\\ud800); they are not Unicode text, so refuse them."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise errors.MalformedJson("the body contains a lone surrogate escape") from exc
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest
