"""Every single-character corruption of a check-digit-covered field is detected, where the
ICAO 9303 scheme can detect it at all.

The 7-3-1 weights are prime to 10, so a substitution is caught by the field's check digit unless
the two characters' values differ by a multiple of 10 (``0``/``A``/``K``/``U``, ``<``/``0``):
those are invisible to every check digit by design. Dates are checked to be digits as well, so
in date fields every substitution is caught.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyc.mrz import _value, parse_mrz

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "icao9303.json").read_text())
SPECIMENS = {v["id"]: v["lines"] for v in VECTORS["vectors"]}
ALPHABET = string.ascii_uppercase + string.digits + "<"

# (line, start, end, is_date) of each field a check digit covers, and the check digits.
TD3_FIELDS = [(1, 0, 9, False), (1, 13, 19, True), (1, 21, 27, True), (1, 28, 42, False)]
TD3_DIGITS = [(1, 9), (1, 19), (1, 27), (1, 42), (1, 43)]
TD2_FIELDS = [(1, 0, 9, False), (1, 13, 19, True), (1, 21, 27, True), (1, 28, 35, False)]
TD2_DIGITS = [(1, 9), (1, 19), (1, 27), (1, 35)]
TD1_FIELDS = [(0, 5, 14, False), (0, 15, 30, False), (1, 0, 6, True), (1, 8, 14, True)]
TD1_FIELDS += [(1, 18, 29, False)]
TD1_DIGITS = [(0, 14), (1, 6), (1, 14), (1, 29)]

LAYOUTS = {
    "td3-part4-specimen": (TD3_FIELDS, TD3_DIGITS),
    "td3-part11-bac-example": (TD3_FIELDS, TD3_DIGITS),
    "td2-part6-specimen": (TD2_FIELDS, TD2_DIGITS),
    "td1-part5-specimen": (TD1_FIELDS, TD1_DIGITS),
}


def _corrupt(lines: list[str], line: int, position: int, char: str) -> list[str]:
    out = list(lines)
    out[line] = out[line][:position] + char + out[line][position + 1 :]
    return out


def _detectable(old: str, new: str, is_date: bool) -> bool:
    if is_date and (new not in string.digits) != (old not in string.digits):
        return True
    return (_value(old) - _value(new)) % 10 != 0


@pytest.mark.parametrize("specimen", sorted(LAYOUTS))
def test_every_single_substitution_in_covered_fields(specimen: str) -> None:
    """Exhaustive: every position of every covered field, every other character."""
    lines = SPECIMENS[specimen]
    fields, _ = LAYOUTS[specimen]
    undetectable = 0
    for line, start, end, is_date in fields:
        for position in range(start, end):
            old = lines[line][position]
            for new in ALPHABET.replace(old, ""):
                mrz = parse_mrz(_corrupt(lines, line, position, new))
                if _detectable(old, new, is_date):
                    assert not mrz.valid, (specimen, line, position, old, new)
                else:
                    undetectable += 1
                    assert not is_date or not mrz.valid
    assert undetectable > 0  # the scheme's known blind spot exists and is measured, not hidden


@pytest.mark.parametrize("specimen", sorted(LAYOUTS))
def test_every_check_digit_change_is_detected(specimen: str) -> None:
    lines = SPECIMENS[specimen]
    _, digits = LAYOUTS[specimen]
    for line, position in digits:
        old = lines[line][position]
        for new in ALPHABET.replace(old, ""):
            if old == "<" or (new == "<" and set(lines[line][28:42]) == {"<"}):
                continue
            assert not parse_mrz(_corrupt(lines, line, position, new)).valid, (position, new)


@settings(max_examples=300, deadline=None)
@given(
    specimen=st.sampled_from(sorted(LAYOUTS)),
    data=st.data(),
)
def test_random_corruptions_of_dates_always_detected(specimen: str, data: st.DataObject) -> None:
    lines = SPECIMENS[specimen]
    fields, _ = LAYOUTS[specimen]
    line, start, end, _ = data.draw(st.sampled_from([f for f in fields if f[3]]))
    position = data.draw(st.integers(start, end - 1))
    new = data.draw(st.sampled_from(ALPHABET.replace(lines[line][position], "")))
    assert not parse_mrz(_corrupt(lines, line, position, new)).valid


@settings(max_examples=300, deadline=None)
@given(specimen=st.sampled_from(sorted(LAYOUTS)), data=st.data())
def test_random_double_corruptions_never_crash(specimen: str, data: st.DataObject) -> None:
    lines = list(SPECIMENS[specimen])
    for _ in range(2):
        line = data.draw(st.integers(0, len(lines) - 1))
        position = data.draw(st.integers(0, len(lines[line]) - 1))
        lines = _corrupt(lines, line, position, data.draw(st.sampled_from(ALPHABET)))
    mrz = parse_mrz(lines)
    assert isinstance(mrz.valid, bool)
