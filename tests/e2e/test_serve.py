"""End to end: `context-service serve` as a real process on loopback, called over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_KEY

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(demo_db: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "CONTEXT_SERVICE_DB": str(demo_db),
        "CONTEXT_SERVICE_API_KEYS": f"other-key,{TEST_KEY}",
        "CONTEXT_SERVICE_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "context_service.cli", "serve", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_until_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"server exited early:\n{output}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not become healthy in 30 s")


def test_served_context_over_real_http(server: str) -> None:
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    maya = httpx.get(
        f"{server}/v1/context", params={"email": "MAYA.PATEL@example.com"}, headers=auth
    )
    assert maya.status_code == 200
    by_phone = httpx.get(f"{server}/v1/context", params={"phone": "+14155550134"}, headers=auth)
    assert by_phone.json()["profile_id"] == maya.json()["profile_id"]
    assert (
        httpx.get(
            f"{server}/v1/context", params={"email": "x@example.com"}, headers=auth
        ).status_code
        == 404
    )
    assert (
        httpx.get(f"{server}/v1/context", params={"email": "maya.patel@example.com"}).status_code
        == 401
    )
    assert (
        httpx.get(
            f"{server}/v1/context", params={"email": "not-an-email"}, headers=auth
        ).status_code
        == 400
    )
