"""Import rules from docs/architecture.md, checked by scanning the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOMAIN_PACKAGES = ["identity", "credentials", "registry", "kyc"]
FORBIDDEN_IN_DOMAIN = {
    "flask",
    "werkzeug",
    "sqlite3",
    "sqlite_utils",
    "storage",
    "api",
    "app",
    "node",
    "requests",
    "urllib.request",
    "http.client",
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _forbidden(imported: set[str], banned: set[str]) -> set[str]:
    return {name for name in imported if any(name == b or name.startswith(b + ".") for b in banned)}


@pytest.mark.parametrize(
    "path",
    [p for pkg in DOMAIN_PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_domain_modules_import_neither_flask_nor_sql(path: Path) -> None:
    assert _forbidden(_imports(path), FORBIDDEN_IN_DOMAIN) == set()


@pytest.mark.parametrize(
    "path", sorted((ROOT / "storage").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_storage_does_not_import_the_http_layer(path: Path) -> None:
    assert _forbidden(_imports(path), {"flask", "werkzeug", "api", "app"}) == set()


def test_only_storage_speaks_sql() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "storage", "tests", "benchmarks"}:
            continue
        if _forbidden(_imports(path), {"sqlite3", "sqlite_utils"}):
            offenders.append(str(rel))
    assert offenders == []


WALLET_FORBIDDEN = {
    "flask",
    "werkzeug",
    "sqlite3",
    "sqlite_utils",
    "storage",
    "api",
    "app",
    "node",
    "requests",
}


@pytest.mark.parametrize(
    "path", sorted((ROOT / "wallet").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_wallet_imports_neither_storage_nor_api_nor_flask(path: Path) -> None:
    assert _forbidden(_imports(path), WALLET_FORBIDDEN) == set()
    # Only the wallet's client touches the network.
    if path.name != "client.py":
        assert _forbidden(_imports(path), {"urllib.request", "http.client", "socket"}) == set()
