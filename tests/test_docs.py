"""docs/api.md is kept in step with the OpenAPI document: every path is listed there."""

from __future__ import annotations

import re
from pathlib import Path

import app  # noqa: F401 - importing the app registers every blueprint's operations
from api.openapi import OPERATIONS

DOCS = (Path(__file__).parent.parent / "docs" / "api.md").read_text()


def _documented(path: str) -> bool:
    # A row may group paths ("/registry/proof/inclusion`, `/registry/proof/consistency")
    # or abbreviate a family ("/mirrors/{mirror}/registry/...").
    if f"`{path}`" in DOCS or f"`{path}" in DOCS:
        return True
    stem = re.sub(r"/\{[a-z_]+\}.*$", "", path)
    return f"`{stem}" in DOCS and path.startswith("/mirrors/")


def test_every_openapi_path_is_in_docs_api() -> None:
    missing = sorted({op.path for op in OPERATIONS if not _documented(op.path)})
    assert missing == []
