"""A ``context-service sync`` stopped by Ctrl-C, or held off by another process's long write,
ends as a failed run the next one resumes, in words an operator reads.

Ctrl-C used to print a traceback (from the page prefetching thread's queue) and record the run's
error as a bare ``KeyboardInterrupt:``; now it is one line and exit 130, as for ``import``. A
writer holding the store past its 30 s busy timeout (a ``resolve --all``, an erase's VACUUM)
used to end the sync with exit 2 and "cannot be used ... check the file's permissions", with no
report; now it is a failed run: the report line, exit 1 and the hint that a rerun resumes. (The
held-off sync runs with a 3 s busy timeout, so that the test waits seconds rather than 30.)
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.cli_process import (
    ROOT,
    cli_env,
    command,
    command_patched,
    run_cli,
    wait_for_committed_page,
)
from tests.integrations.stripe.fake import API_KEY, FakeStripe
from tests.loopback import serving


class SlowStripe:
    """Stripe with ``customers`` customers (100 a page) answering each request in ``delay`` s."""

    def __init__(self, customers: int) -> None:
        self.fake = FakeStripe()
        self.fake.add_customers(customers)
        self.delay = 0.2
        self.base_url = ""

    def slowly(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.delay)
        return self.fake.handler(request)


@contextmanager
def slow_stripe_serving(customers: int) -> Iterator[SlowStripe]:
    stripe = SlowStripe(customers)
    with serving(stripe.slowly) as base_url:
        stripe.base_url = base_url
        yield stripe


@pytest.fixture
def slow_stripe() -> Iterator[str]:
    """Thirty pages: a sync still running when its first page is committed, however fast."""
    with slow_stripe_serving(3000) as stripe:
        yield stripe.base_url


@pytest.fixture
def slow_stripe_server() -> Iterator[SlowStripe]:
    """Six pages: the sync is held off after its first; the rerun need not list thirty."""
    with slow_stripe_serving(600) as stripe:
        yield stripe


def _start_sync(db: Path, base_url: str, busy_timeout_cut: bool = False) -> subprocess.Popen[str]:
    args = ("sync", "stripe")
    return subprocess.Popen(
        # the store's busy timeout cut to 3 s (its error message says 3 s too)
        command_patched({"context_service.store.db.BUSY_TIMEOUT_MS": 3000}, *args)
        if busy_timeout_cut
        else command(*args),
        cwd=ROOT,
        env=cli_env(
            db, CONTEXT_SERVICE_STRIPE_API_KEY=API_KEY, CONTEXT_SERVICE_STRIPE_BASE_URL=base_url
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _last_run(db: Path) -> dict[str, str]:
    done = run_cli("status", "--json", db=db)
    assert done.returncode == 0, done.stderr
    run: dict[str, str] = json.loads(done.stdout)["stripe"]["last_run"]
    return run


def test_ctrl_c_is_one_line_and_exit_130(slow_stripe: str, tmp_path: Path) -> None:
    db = tmp_path / "sync.db"
    sync = _start_sync(db, slow_stripe)
    wait_for_committed_page(db, sync)
    sync.send_signal(signal.SIGINT)
    _, err = sync.communicate(timeout=120)
    assert "Traceback" not in err, err
    assert sync.returncode == 128 + signal.SIGINT
    (line,) = err.strip().splitlines()
    assert line.startswith("error: stopped by Ctrl-C")
    assert "resumes" in line
    run = _last_run(db)
    assert run["status"] == "failed"
    assert run["error"] == "interrupted: stopped by Ctrl-C"


def test_a_sync_held_off_past_the_busy_timeout_fails_as_a_resumable_run(
    slow_stripe_server: SlowStripe, tmp_path: Path
) -> None:
    slow_stripe = slow_stripe_server.base_url
    db = tmp_path / "busy.db"
    sync = _start_sync(db, slow_stripe, busy_timeout_cut=True)
    wait_for_committed_page(db, sync)
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's long write transaction
        time.sleep(6)  # past the sync's 3 s busy timeout
        other.execute("ROLLBACK")
    finally:
        other.close()
    out, err = sync.communicate(timeout=300)
    assert sync.returncode == 1, err
    assert "stripe full sync failed" in out  # the report line
    (line,) = err.strip().splitlines()
    assert line.startswith("error: the database was busy")
    assert "resumes from the last committed page" in line
    assert "permissions" not in line
    assert "busy" in _last_run(db)["error"]
    slow_stripe_server.delay = 0  # the resumed run need not be slow
    again = run_cli(
        "sync",
        "stripe",
        db=db,
        timeout=300,
        CONTEXT_SERVICE_STRIPE_API_KEY=API_KEY,
        CONTEXT_SERVICE_STRIPE_BASE_URL=slow_stripe,
    )
    assert again.returncode == 0, again.stderr
    assert "incremental sync ok" in again.stdout
