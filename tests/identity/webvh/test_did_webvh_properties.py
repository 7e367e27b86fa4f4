"""Properties: a mutated did:webvh log never verifies unless it still says the same thing, and
nothing but ``errors.Error`` ever comes out of the verifier."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errors import Error
from identity.did_webvh import make_webvh_resolver, resolve_log, verify_log

VECTORS = Path(__file__).parent.parent.parent / "vectors" / "didwebvh"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
LOGS = [
    (VECTORS / scenario / impl / "did.jsonl").read_text()
    for scenario in ("multi-update", "pre-rotation-consume", "services", "deactivate")
    for impl in ("python", "ts")
]


def _same_content(original: str, mutated: str) -> bool:
    """True if the mutated text parses to the same entries (e.g. a space became a tab)."""
    try:
        before = [json.loads(line) for line in original.splitlines()]
        after = [json.loads(line) for line in mutated.rstrip("\n").split("\n")]
    except (ValueError, RecursionError):
        return False
    return before == after and all(type(a) is type(b) for a, b in zip(before, after, strict=True))


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str]:
    text = draw(st.sampled_from(LOGS))
    data = bytearray(text.encode("utf-8"))
    kind = draw(st.sampled_from(["flip", "set", "delete", "insert", "truncate", "swap", "dup"]))
    if kind in ("swap", "dup"):
        lines = text.splitlines()
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines.insert(j, lines[i])
        return text, "\n".join(lines) + "\n"
    position = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        data[position] ^= 1 << draw(st.integers(0, 7))
    elif kind == "set":
        data[position] = draw(st.integers(0, 255))
    elif kind == "delete":
        del data[position : position + draw(st.integers(1, 40))]
    elif kind == "insert":
        data[position:position] = draw(st.binary(min_size=1, max_size=8))
    else:
        del data[position:]
    return text, data.decode("utf-8", errors="replace") if draw(st.booleans()) else data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_mutated_logs_never_verify(case: tuple[str, Any]) -> None:
    original, mutated = case
    text = mutated.decode("utf-8", errors="replace") if isinstance(mutated, bytes) else mutated
    did = json.loads(original.splitlines()[0])["state"]["id"]
    try:
        resolve_log(mutated, did, now=NOW)
    except Error:
        return
    # Only a mutation that left every entry's content unchanged may still resolve.
    assert _same_content(original, text), text


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300), st.lists(st.text(max_size=80))))
def test_garbage_raises_only_service_errors(garbage: Any) -> None:
    with contextlib.suppress(Error):
        verify_log(garbage, now=NOW)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["versionId", "versionNumber", "versionTime", "other"]),
        st.text(max_size=40),
    ),
    st.sampled_from(LOGS),
)
def test_resolver_never_raises(options: dict[str, str], log: str) -> None:
    did = json.loads(log.splitlines()[0])["state"]["id"]
    resolver = make_webvh_resolver(lambda _: log, lambda: NOW)
    result = resolver(did, options)
    assert (result.did_document is None) == (result.error is not None)
