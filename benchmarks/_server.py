"""Shared by the benchmarks: an approved KYC application, and a node server process for the
HTTP parts (``python app.py --port P``) with its own data directory, its Flask CLI, and its CPU
time and open files read from ``/proc``."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# A KYC application that the node's checks approve (the same person as the API tests').
APPLICATION: dict[str, Any] = {
    "given_names": "Anna Maria",
    "family_names": "Eriksson",
    "birthdate": "1974-08-12",
    "nationality": "SE",
    "residence_country": "SE",
    "address": {
        "street": "Storgatan 1",
        "city": "Stockholm",
        "postal_code": "111 22",
        "country": "SE",
    },
    "document": {
        "type": "passport",
        "number": "L898902C3",
        "issuing_country": "SE",
        "expiry_date": "2036-04-15",
    },
    "holder_did": "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
    "consent": {"text_version": "2026-01", "given_at": "2026-09-01T10:00:00Z"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``python app.py --port P`` with its own data directory."""

    def __init__(
        self, data_dir: Path, institution: str = "Bench Broker", *, workers: int = 1
    ) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KYC_")}
        env.update(
            KYC_DATA_DIR=str(data_dir),
            KYC_PUBLIC_URL=self.url,
            KYC_INSTITUTION_NAME=institution,
            PYTHONUNBUFFERED="1",
        )
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603 (our interpreter, our arguments)
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"flask {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout

    def start(self) -> None:
        log = self.log_path.open("ab")
        log_start = log.tell()
        self.process = subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
            [sys.executable, "app.py", "--port", str(self.port), "--workers", str(self.workers)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited: {self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/health")
                # Served, and every worker ready: "listening" comes after the last one.
                served = conn.getresponse().status == 200
                conn.close()
                if served and self._says_listening(log_start):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("the server did not start")

    def _says_listening(self, since: int) -> bool:
        with self.log_path.open("rb") as log:
            log.seek(since)
            return b"listening on " in log.read()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _pids(self) -> list[int]:
        """The server process and its worker processes (``--workers``)."""
        if self.process is None:
            return []
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def open_files(self) -> int:
        """File descriptors the server's processes hold (Linux ``/proc``)."""
        total = 0
        for pid in self._pids():
            try:
                total += len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:
                return -1
        return total

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes so far (Linux ``/proc``)."""
        total = 0.0
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return float("nan")
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None
