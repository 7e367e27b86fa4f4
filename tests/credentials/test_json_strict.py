"""credentials/_json.py: the strict parser refuses what it always refused (duplicate members,
NaN/Infinity, invalid UTF-8, lone surrogates, nesting deeper than 32), and its fast paths (no
re-encoding without a surrogate escape, no depth walk for texts with few brackets) agree with the
previous implementation, kept here as the reference, on random and hostile inputs."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import _json
from credentials.errors import MalformedToken
from errors import Error


def _reference_loads(data: bytes | str, *, error: type[Error], what: str) -> Any:
    """The former ``_json.loads``: a decoder per call, every value re-encoded, every value
    walked for its depth."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not valid UTF-8") from exc

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, value in pairs:
            if name in result:
                raise error(f"{what} has a duplicate member {name!r}")
            result[name] = value
        return result

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
            object_pairs_hook=pairs_hook,
            parse_constant=refuse_constant,
            parse_float=finite_float,
        )
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except Error:
        raise
    except (ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise error(f"{what} is not valid JSON") from exc
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > _json.MAX_DEPTH:
                raise error(f"{what} is nested deeper than {_json.MAX_DEPTH} levels")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return value


def _outcome(parse: Any, data: bytes | str) -> tuple[str, Any]:
    try:
        return "ok", parse(data, error=MalformedToken, what="thing")
    except MalformedToken as exc:
        return "refused", exc.message


def _agree(data: bytes | str) -> None:
    fast = _outcome(_json.loads, data)
    slow = _outcome(_reference_loads, data)
    assert fast == slow
    if isinstance(data, str):  # the same text as UTF-8 bytes (when it has such a form)
        try:
            encoded = data.encode("utf-8")
        except UnicodeEncodeError:
            return
        assert _outcome(_json.loads, encoded) == _outcome(_reference_loads, encoded)


def _nested(depth: int, inner: str = "1") -> str:
    text = inner
    for level in range(depth):
        text = f'{{"a":{text}}}' if level % 2 else f"[{text}]"
    return text


HOSTILE = [
    '{"a":1,"a":2}',
    '{"a":{"b":1,"b":1}}',
    '[{"x":1},{"x":1,"y":2,"x":3}]',
    "NaN",
    "[Infinity]",
    '{"a":-Infinity}',
    "[1e400]",
    "[-1e999]",
    '"\\ud800"',
    '"\\uDFFF"',
    '{"\\udc00":1}',
    '"\\ud83d\\ude00"',  # a valid pair
    '"\\ud83d"',
    '"\\\\ud800"',  # an escaped backslash, then the letters u d 8 0 0: no surrogate
    '"\\u00e9\\u0041"',
    '"\ud800"',  # a surrogate character in the text itself
    '{"k":"\udfff"}',
    "\ufeff{}",
    "{} x",
    "",
    " ",
    "[1,]",
    '{"a":1,}',
    "'a'",
    '"\x00"',
    "[" * 40 + "]" * 40,
    _nested(32),
    _nested(33),
    _nested(31, '"{{{{[[[["'),
    _nested(33, "{}"),
    '["' + "[" * 40 + '"]',  # many brackets, all inside a string: shallow
    "[" * 5000 + "]" * 5000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_inputs_agree_with_reference(text: str) -> None:
    _agree(text)


@pytest.mark.parametrize(
    "data",
    [b"\xff", b'"\xed\xa0\x80"', b"\xef\xbb\xbf{}", b'{"a":"\xc3"}', bytearray(b'{"a":1}')],
)
def test_invalid_utf8_agrees_with_reference(data: bytes) -> None:
    _agree(data)


def test_refusals_keep_their_wording() -> None:
    assert _outcome(_json.loads, '{"a":1,"a":2}') == ("refused", "thing has a duplicate member 'a'")
    assert _outcome(_json.loads, "[NaN]") == ("refused", "thing contains the non-JSON number NaN")
    assert _outcome(_json.loads, "[1e400]") == ("refused", "thing contains a number out of range")
    assert _outcome(_json.loads, '"\\ud800"') == ("refused", "thing is not valid JSON")
    assert _outcome(_json.loads, _nested(33)) == (
        "refused",
        "thing is nested deeper than 32 levels",
    )


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=40,
)

# Fragments from which syntactically odd, hostile or deep texts are assembled.
FRAGMENTS = [
    "{", "}", "[", "]", ",", ":", '"a"', '"b"', "1", "-0", "1e999", "NaN", "Infinity",
    "-Infinity", "true", "null", '"\\ud800"', '"\\udc00"', '"\\ud83d\\ude00"', '"\\\\ud800"',
    '"\\u00e9"', '"\ud800"', "\\u", " ", "\n", '"[{"', "é",
]  # fmt: skip


@settings(max_examples=300)
@given(json_values)
def test_serialised_values_agree_with_reference(value: Any) -> None:
    _agree(json.dumps(value))
    _agree(json.dumps(value, ensure_ascii=False))


@settings(max_examples=500)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_assembled_texts_agree_with_reference(text: str) -> None:
    _agree(text)


@settings(max_examples=200)
@given(
    st.integers(min_value=0, max_value=40),
    st.lists(st.sampled_from(["[", '{"k":']), min_size=40, max_size=40),
    st.sampled_from(["1", '"\\ud800"', '"x"', "{}", "[]", '{"a":1,"a":1}']),
)
def test_nesting_around_the_limit_agrees_with_reference(
    depth: int, openers: list[str], inner: str
) -> None:
    chosen = openers[:depth]
    closers = "".join("]" if o == "[" else "}" for o in reversed(chosen))
    _agree("".join(chosen) + inner + closers)


@given(st.text(max_size=30))
def test_arbitrary_text_agrees_with_reference(text: str) -> None:
    _agree(text)
    _agree(json.dumps(text))
    _agree(json.dumps([text], ensure_ascii=False))
