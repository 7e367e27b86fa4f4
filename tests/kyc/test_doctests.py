"""The usage examples in the kyc module docstrings stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kyc.application",
    "kyc.countries",
    "kyc.mrz",
    "kyc.names",
    "kyc.screening",
    "kyc.watchlists",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    failures, tried = doctest.testmod(importlib.import_module(name), verbose=False)
    assert tried > 0, f"{name} has no examples"
    assert failures == 0
