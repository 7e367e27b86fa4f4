"""The client's transport rules (the flows themselves run against real nodes in tests/e2e)."""

from __future__ import annotations

import pytest

from wallet.client import check_url, well_known_url
from wallet.errors import UnsafeUrl


@pytest.mark.parametrize(
    "url",
    [
        "https://broker.example",
        "https://broker.example:8443/path?q=1",
        "http://127.0.0.1:5000",
        "http://127.8.9.10/x",
        "http://[::1]:5000/",
        "http://localhost:5000",
        "http://node.localhost:5000",
    ],
)
def test_allowed_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://broker.example",
        "http://10.0.0.1",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost.evil.example",
        "file:///etc/passwd",
        "ftp://broker.example",
        "https://user:pass@broker.example",
        "https://broker.example/#fragment",
        "https:///no-host",
        "javascript:alert(1)",
        42,
    ],
)
def test_refused_urls(url: object) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url)


def test_well_known_goes_between_host_and_path() -> None:
    assert (
        well_known_url("https://issuer.example/tenant", "openid-credential-issuer")
        == "https://issuer.example/.well-known/openid-credential-issuer/tenant"
    )
    assert (
        well_known_url("https://issuer.example/", "oauth-authorization-server")
        == "https://issuer.example/.well-known/oauth-authorization-server"
    )
