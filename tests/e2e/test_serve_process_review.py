"""`context-service serve` as a process: it keeps answering while another process holds the
write lock, stops on SIGTERM even while a client stalls its body, and its workers stop when it
is killed."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.cli_process import command_patched
from tests.conftest import TEST_KEY
from tests.trust.helpers import MAYA, copy_demo, make_key
from tests.widget.live import free_port

pytestmark = pytest.mark.e2e
BOOT = {"Authorization": f"Bearer {TEST_KEY}"}


@contextmanager
def serving(
    db: Path, cwd: Path, workers: int = 1, worker_stop_seconds: int | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``serve`` on ``db``; the process and its base URL once ``/health`` answers. Whatever is
    left of it is stopped afterwards. ``worker_stop_seconds`` replaces the 15 s a stopping
    worker is given before it is killed (``cli.WORKER_STOP_SECONDS``)."""
    port = free_port()
    env = {
        **os.environ,
        "CONTEXT_SERVICE_DB": str(db),
        "CONTEXT_SERVICE_API_KEYS": TEST_KEY,
        "CONTEXT_SERVICE_PORT": str(port),
        "CONTEXT_SERVICE_WORKERS": str(workers),
        "CONTEXT_SERVICE_LOG_LEVEL": "WARNING",
    }
    args = ("serve", "--host", "127.0.0.1")
    stop = (
        {}
        if worker_stop_seconds is None
        else {"context_service.cli.WORKER_STOP_SECONDS": worker_stop_seconds}
    )
    proc = subprocess.Popen(
        command_patched(stop, *args),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=str(cwd),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not become healthy in 30 s")


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(pid)], check=False, capture_output=True, text=True
    ).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_health_answers_while_another_process_holds_the_write_lock(
    demo_db: Path, tmp_path: Path
) -> None:
    """A scoped key's first use records ``last_used_at``; done on the event loop, it waited up
    to the 30 s busy timeout behind an import's write lock, and /health with it."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "bot", ["context:read"])
    with serving(db, tmp_path) as (_, base):
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        answers: dict[str, object] = {}

        def read() -> None:
            auth = {"Authorization": f"Bearer {key}"}
            url = f"{base}/v1/context"
            answers["read"] = httpx.get(url, params={"email": MAYA}, headers=auth, timeout=40)

        reader = threading.Thread(target=read)
        try:
            reader.start()
            time.sleep(0.3)  # the read is in the worker
            try:
                answers["health"] = httpx.get(f"{base}/health", timeout=5).status_code
            except httpx.TimeoutException:
                answers["health"] = "timed out"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
            reader.join(timeout=40)
    assert answers["health"] == 200
    read_answer = answers["read"]
    assert isinstance(read_answer, httpx.Response)
    assert read_answer.status_code == 200


def test_serve_stops_on_sigterm_while_a_client_stalls_its_body(
    demo_db: Path, tmp_path: Path
) -> None:
    """Granian waits for every request before a worker stops; a client that sent half a body
    kept ``serve`` from ever exiting. The worker is killed after 15 s (here 2 s)."""
    db = copy_demo(demo_db, tmp_path)
    with serving(db, tmp_path, worker_stop_seconds=2) as (proc, base):
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(
                b"POST /v1/context/lookup HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {TEST_KEY}\r\n".encode()
                + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            time.sleep(0.3)  # the worker is reading the body
            proc.terminate()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                pytest.fail("serve still running 40 s after SIGTERM: a client stalled its body")


def test_workers_stop_when_serve_is_killed(demo_db: Path, tmp_path: Path) -> None:
    """SIGKILLed (the OOM killer, a supervisor's stop timeout), ``serve`` cannot stop its
    workers: they used to keep answering on the port with the old settings."""
    db = copy_demo(demo_db, tmp_path)
    with serving(db, tmp_path, workers=2) as (proc, base):
        workers = _children(proc.pid)
        assert workers
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 15
        try:
            while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
                time.sleep(0.1)
            left = [pid for pid in workers if _alive(pid)]
            assert not left, f"workers {left} outlived the killed serve"
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{base}/v1/context", params={"email": MAYA}, headers=BOOT, timeout=3)
        finally:
            for pid in workers:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
