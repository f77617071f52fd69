"""``serve`` and ``demo`` (so ``make demo``) on an address they cannot listen on: one
``error:`` line naming the port and what to change, exit 2, instead of granian's Python and Rust
stack trace; ``demo`` says so before it spends minutes loading its data."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_process import run_cli

KEY = "serve-key-0123456789"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield int(holder.getsockname()[1])
    holder.close()


@pytest.mark.parametrize("command", [["serve"], ["demo", "--customers", "5"]])
def test_a_taken_port_is_one_error_line(
    command: list[str], taken_port: int, tmp_path: Path
) -> None:
    db = tmp_path / "demo.db"
    done = run_cli(
        *command, "--port", str(taken_port), db=db, timeout=90, CONTEXT_SERVICE_API_KEYS=KEY
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: port {taken_port} on 127.0.0.1 is in use;")
    assert "--port" in line
    assert not db.exists()  # demo loaded nothing


def test_a_host_of_another_machine_is_one_error_line(tmp_path: Path) -> None:
    done = run_cli(
        "serve",
        "--host",
        "192.0.2.1",  # TEST-NET-1: never an address of this machine
        db=tmp_path / "x.db",
        timeout=90,
        CONTEXT_SERVICE_API_KEYS=KEY,
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "192.0.2.1" in line
    assert "CONTEXT_SERVICE_HOST" in line
