"""Real node processes on 127.0.0.1 for end-to-end tests: `python app.py` and the Flask CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NodeProcess:
    """One node: its data directory, port, server process, and CLI."""

    def __init__(self, name: str, data_dir: Path, *, workers: int = 1) -> None:
        self.name = name
        self.workers = workers
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self._log_file: IO[str] | None = None
        self.log_path = data_dir.parent / f"{name}.log"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_")}
        env.update(KYC_DATA_DIR=str(self.data_dir), KYC_PUBLIC_URL=self.url,
                   KYC_INSTITUTION_NAME=self.name, PYTHONUNBUFFERED="1")
        return env

    def start(self) -> None:
        self._log_file = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(self.port), "--workers", str(self.workers)],
            cwd=ROOT, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{args} failed: {result.stdout}\n{result.stderr}")
        return result

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post_json(self, path: str, body: object) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


@pytest.fixture
def make_node(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    """Make (not start) a node with its own data directory; every node is stopped at the end."""
    made: list[NodeProcess] = []

    def make(name: str, workers: int = 1) -> NodeProcess:
        node = NodeProcess(name, tmp_path / name, workers=workers)
        made.append(node)
        return node

    yield make
    for node in made:
        node.stop()
