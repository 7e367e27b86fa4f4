"""The demo runs as a new user would run it, and tells the whole story in under a minute."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.e2e


def test_demo_runs_the_whole_story() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_")}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "app.py", "demo"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "-> approved, KYC level" in out
    assert "a listed person applying is rejected: watchlist_hit" in out
    assert "-> valid: True" in out
    assert "shared {'age_over_18': True, 'nationality': 'SE'}" in out
    assert "refused:" in out and "credential_revoked" in out
    assert "/witness " in out  # the bank's cosignature on the broker's checkpoint
    assert "Traceback" not in out + result.stderr
    assert elapsed < 60
