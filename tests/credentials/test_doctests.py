"""The usage examples in the credentials module docstrings stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "credentials",
    "credentials.jose",
    "credentials.sd_jwt",
    "credentials.status_list",
    "credentials.vc_jwt",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, verbose=False)
    assert tried > 0, f"{name} has no examples"
    assert failures == 0
