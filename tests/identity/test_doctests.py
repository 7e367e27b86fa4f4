"""The usage examples in the identity module docstrings stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "identity",
    "identity.encoding",
    "identity.keys",
    "identity.did",
    "identity.multikey",
    "identity.did_key",
    "identity.did_jwk",
    "identity.resolver",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, verbose=False)
    assert tried > 0, f"{name} has no examples"
    assert failures == 0
