"""Error codes are stable, unique, snake_case, mapped to a 4xx/5xx status, and documented."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import errors
from api.errors import status_for

ROOT = Path(__file__).parent.parent
DOCS = (ROOT / "docs" / "api.md").read_text()

# Import every module of the project so that every error class defined anywhere is registered.
for package in [
    "api", "credentials", "identity", "kyc", "node", "registry", "storage", "wallet"
]:
    if (ROOT / package / "__init__.py").exists():
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            importlib.import_module(info.name)


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
