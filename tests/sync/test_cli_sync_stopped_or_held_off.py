"""A ``context-service sync`` stopped by Ctrl-C, or held off by another process's long write,
ends as a failed run the next one resumes, in words an operator reads.

Ctrl-C used to print a traceback (from the page prefetching thread's queue) and record the run's
error as a bare ``KeyboardInterrupt:``; now it is one line and exit 130, as for ``import``. A
writer holding the store past its 30 s busy timeout (a ``resolve --all``, an erase's VACUUM)
used to end the sync with exit 2 and "cannot be used ... check the file's permissions", with no
report; now it is a failed run: the report line, exit 1 and the hint that a rerun resumes.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli_process import ROOT, cli_env, command, run_cli, wait_for_committed_page
from tests.integrations.stripe.fake import API_KEY, FakeStripe
from tests.loopback import serving


@pytest.fixture
def slow_stripe() -> Iterator[str]:
    """Stripe with 600 customers (several pages) answering each request in 0.2 s."""
    fake = FakeStripe()
    fake.add_customers(600)

    def slowly(request: httpx.Request) -> httpx.Response:
        time.sleep(0.2)
        return fake.handler(request)

    with serving(slowly) as base_url:
        yield base_url


def _start_sync(db: Path, base_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command("sync", "stripe"),
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
    slow_stripe: str, tmp_path: Path
) -> None:
    db = tmp_path / "busy.db"
    sync = _start_sync(db, slow_stripe)
    wait_for_committed_page(db, sync)
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's long write transaction
        time.sleep(33)  # past the store's 30 s busy timeout
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
