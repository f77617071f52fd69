"""A rig for webhook end-to-end tests: a real ``context-service serve`` process on a fresh SQLite
file, vendor fakes behind real loopback HTTP servers, and bounded polls of ``GET /v1/context``.

Nothing here asserts on elapsed time: polls wait up to a generous deadline for a state change
and fail with the server's log when it never comes.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.conftest import TEST_KEY
from tests.loopback import Handler
from tests.widget.live import free_port

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
START_DEADLINE_SECONDS = 30.0
APPLY_DEADLINE_SECONDS = 20.0
T = TypeVar("T")


@dataclass(frozen=True)
class LiveServer:
    """A running ``serve`` process: its base URL, database file and log file."""

    base: str
    db: Path
    log: Path

    def webhook_url(self, source: str) -> str:
        """The URL a vendor calls (and HubSpot signs) for ``source``."""
        return f"{self.base}/v1/webhooks/{source}"

    def post_webhook(self, source: str, headers: dict[str, str], body: bytes) -> httpx.Response:
        """Deliver a signed body as the vendor does: one POST with the raw bytes."""
        return httpx.post(self.webhook_url(source), content=body, headers=headers, timeout=10)

    def context(self, email: str) -> dict[str, Any] | None:
        """``GET /v1/context`` for ``email``; ``None`` while no profile holds it (404)."""
        response = httpx.get(
            f"{self.base}/v1/context", params={"email": email}, headers=AUTH, timeout=10
        )
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return dict(response.json())

    def log_text(self) -> str:
        """What the server wrote so far (for failure messages)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def inbox(self) -> list[dict[str, Any]]:
        """The webhook inbox rows as stored (status, attempts, error), read from the file."""
        conn = sqlite3.connect(self.db, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            rows = conn.execute(
                "SELECT id, source, topic, status, attempts, next_attempt_at, error "
                "FROM webhook_inbox ORDER BY id"
            ).fetchall()
        finally:
            conn.close()
        return [dict(row) for row in rows]


@contextmanager
def live_context_server(tmp_path: Path, **settings: str) -> Iterator[LiveServer]:
    """``context-service serve`` on a fresh database in ``tmp_path`` with ``settings``
    (``CONTEXT_SERVICE_*`` names); stopped (and killed if need be) afterwards."""
    port = free_port()
    db, log = tmp_path / "context.db", tmp_path / "serve.log"
    environ = {
        **os.environ,
        "CONTEXT_SERVICE_DB": str(db),
        "CONTEXT_SERVICE_API_KEYS": TEST_KEY,
        "CONTEXT_SERVICE_PORT": str(port),
        "CONTEXT_SERVICE_LOG_LEVEL": "WARNING",
        **settings,
    }
    server = LiveServer(f"http://127.0.0.1:{port}", db, log)
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "context_service.cli", "serve", "--host", "127.0.0.1"],
            env=environ,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=str(tmp_path),
        )
        try:
            _wait_healthy(server, proc)
            yield server
        finally:
            _stop(proc)


def _wait_healthy(server: LiveServer, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"serve did not become healthy:\n{server.log_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def poll_until(
    read: Callable[[], T],
    done: Callable[[T], bool],
    what: str,
    server: LiveServer,
    deadline_seconds: float = APPLY_DEADLINE_SECONDS,
) -> T:
    """``read()`` again and again until ``done`` holds for its value (returned); fail naming
    ``what``, with the last value and the server's log, once the deadline passes."""
    deadline = time.monotonic() + deadline_seconds
    value = read()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what}: not seen within {deadline_seconds:g} s; last value {value!r}\n"
                f"inbox: {server.inbox()!r}\nserver log:\n{server.log_text()}"
            )
        time.sleep(0.1)
        value = read()
    return value


class Outage:
    """A vendor handler that answers 503 (``Retry-After: 0``, so the client's own retries do
    not sleep) while ``down`` is set, and forwards to the fake otherwise."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._lock = threading.Lock()
        self.down = False
        self.refused = 0
        self.served = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if self.down:
                self.refused += 1
                body = {"errors": "Service Unavailable"}
                return httpx.Response(503, headers={"Retry-After": "0"}, json=body)
            self.served += 1
        return self._handler(request)
