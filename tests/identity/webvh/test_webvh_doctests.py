"""The usage examples in the did:webvh and Data Integrity module docstrings stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["identity.data_integrity", "identity.did_webvh"])
def test_docstring_examples(name: str) -> None:
    failures, tried = doctest.testmod(importlib.import_module(name), verbose=False)
    assert tried > 0
    assert failures == 0
