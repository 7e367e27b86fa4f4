"""ICAO Doc 9303 specimens (tests/vectors/icao9303.json) parse and verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kyc.mrz import check_digit, parse_mrz

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "icao9303.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["id"])
def test_specimen_parses_and_every_check_digit_verifies(vector: dict) -> None:
    mrz = parse_mrz(vector["lines"])
    assert mrz.valid, (mrz.failed_checks, mrz.problems)
    assert all(check.ok for check in mrz.checks)
    assert "composite" in {check.field for check in mrz.checks}
    for name, value in vector["expected"].items():
        assert str(getattr(mrz, name)) == value, name


@pytest.mark.parametrize("data,digit", VECTORS["check_digit_examples"]["cases"])
def test_check_digit_examples(data: str, digit: str) -> None:
    assert check_digit(data) == digit


def test_all_three_formats_are_covered() -> None:
    formats = {parse_mrz(v["lines"]).format.value for v in VECTORS["vectors"]}
    assert formats == {"TD1", "TD2", "TD3"}
