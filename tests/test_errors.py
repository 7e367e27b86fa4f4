"""Error codes are stable, unique, snake_case, mapped to a 4xx/5xx status, and documented."""

from __future__ import annotations

import re
from pathlib import Path

import errors
import registry.errors
import registry.governance
import registry.log  # noqa: F401
from api.errors import status_for

DOCS = (Path(__file__).parent.parent / "docs" / "api.md").read_text()


def test_codes_are_unique_snake_case() -> None:
    codes = [cls.code for cls in errors.all_error_classes()]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    for code in codes:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code


def test_every_code_is_documented() -> None:
    missing = [c.code for c in errors.all_error_classes() if f"`{c.code}`" not in DOCS]
    assert missing == []


def test_every_concrete_error_maps_to_a_client_or_server_status() -> None:
    for cls in errors.all_error_classes():
        if cls is errors.Error or issubclass(cls, errors.StorageError):
            continue
        assert 400 <= status_for(cls.__new__(cls)) < 600, cls
        assert status_for(cls.__new__(cls)) != 500, cls
