"""An operator can tell a dead sync from a live one, and re-apply failed webhook deliveries.

A sync killed by SIGKILL (or the out-of-memory killer) records nothing on its way out: its run
stays ``running``. ``status`` and ``GET /v1/sync`` show such a run as ``interrupted`` (with when
it was last seen) once its process is gone or its heartbeat is old, and the next run still
resumes from the committed cursors.

A delivery marked ``failed`` (a mapping bug fixed in a later release) keeps its dedup ids, so
the vendor's retries are acknowledged as duplicates: ``context-service webhooks retry`` applies
it again, except one an erasure blanked, and ``status`` counts the failed ones.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from context_service.cli import main
from context_service.settings import load_settings
from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.sync import apply_pending, receive, run_sync
from context_service.sync import webhooks as sync_webhooks
from context_service.sync.status import sync_status
from context_service.trust.erasure import BLANKED_BY_ERASURE
from context_service.wiring import ingest_context
from tests.integrations.stripe.fake import API_KEY, WEBHOOK_SECRET, FakeStripe
from tests.loopback import serving

URL = "https://context.example.com/v1/webhooks/stripe"
ROOT = Path(__file__).resolve().parents[2]


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _stripe_env(monkeypatch: pytest.MonkeyPatch, db: Path, base_url: str) -> dict[str, str]:
    env = {
        "CONTEXT_SERVICE_DB": str(db),
        "CONTEXT_SERVICE_STRIPE_API_KEY": API_KEY,
        "CONTEXT_SERVICE_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CONTEXT_SERVICE_STRIPE_BASE_URL": base_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


# --- 1. a sync killed without a word ------------------------------------------------------------


class _Gate:
    """A Stripe fake that answers the customer listing and holds every other request until
    ``open`` (so the sync is stuck after committing its customer pages, like a live run)."""

    def __init__(self, fake: FakeStripe) -> None:
        self.fake = fake
        self.opened = threading.Event()

    def handler(self, request: httpx.Request) -> httpx.Response:
        if "/v1/customers" not in request.url.path:
            self.opened.wait(timeout=120)
        return self.fake.handler(request)


def _committed_pages(db: Path, proc: subprocess.Popen[bytes]) -> int:
    """Wait until the sync in ``proc`` has committed a page; return how many it has."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    row = conn.execute("SELECT max(pages) FROM sync_runs").fetchone()
                except sqlite3.OperationalError:  # not migrated yet
                    row = None
            if row and row[0]:
                return int(row[0])
        time.sleep(0.05)
    pytest.fail(f"the sync committed no page (exit status {proc.poll()})")


def test_a_sync_killed_by_sigkill_shows_as_interrupted_and_the_next_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeStripe()
    fake.add_customers(150)  # two pages of customers
    gate = _Gate(fake)
    db = tmp_path / "killed.db"
    with serving(gate.handler) as base_url:
        env = {**os.environ, **_stripe_env(monkeypatch, db, base_url)}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        proc = subprocess.Popen(
            [sys.executable, "-m", "context_service.cli", "sync", "stripe"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _committed_pages(db, proc)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            gate.opened.set()

        assert main(["status", "--json"]) == 0
        run = json.loads(capsys.readouterr().out)["stripe"]["last_run"]
        assert run["status"] == "interrupted"
        assert run["last_seen_at"] >= run["started_at"]
        assert str(proc.pid) in run["error"]
        assert main(["status"]) == 0
        text = capsys.readouterr().out
        assert "interrupted" in text
        assert run["last_seen_at"] in text

        # The next run resumes from the committed cursors: the first page is not fetched again.
        first_pages = _first_customer_pages(fake)
        assert main(["sync", "stripe"]) == 0
        out = capsys.readouterr().out
    assert "incremental sync ok" in out
    assert _first_customer_pages(fake) == first_pages == 1
    store = Store(str(db))
    try:
        customers = store.conn.execute(
            "SELECT count(*) FROM records WHERE source = 'stripe' AND kind = 'customer'"
        ).fetchone()[0]
        last = cursor_store.last_runs(store.conn)["stripe"]
    finally:
        store.close()
    assert customers == 150
    assert last.status == "ok"


def _first_customer_pages(fake: FakeStripe) -> int:
    return sum(
        r.url.path == "/v1/customers" and "starting_after" not in r.url.params
        for r in fake.requests
    )


def _add_run(store: Store, *, host: str, pid: int, heartbeat: datetime) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO sync_runs (source, mode, started_at, status, pid, host, heartbeat_at) "
            "VALUES ('zendesk', 'incremental', ?, 'running', ?, ?, ?)",
            (_iso(heartbeat - timedelta(minutes=5)), pid, host, _iso(heartbeat)),
        )


@pytest.mark.parametrize(
    ("host", "age", "expected"),
    [
        ("another-host.example", timedelta(hours=6), "interrupted"),
        ("another-host.example", timedelta(minutes=2), "running"),
        (None, timedelta(hours=6), "interrupted"),  # this host, this (live) pid: stuck
        (None, timedelta(minutes=2), "running"),  # this host, this live pid
    ],
    ids=["other-host-silent", "other-host-fresh", "this-host-silent", "this-host-live"],
)
def test_a_running_run_is_judged_by_its_process_and_heartbeat(
    tmp_path: Path, host: str | None, age: timedelta, expected: str
) -> None:
    store = Store(str(tmp_path / "runs.db"))
    now = datetime.now(UTC)
    _add_run(store, host=host or socket.gethostname(), pid=os.getpid(), heartbeat=now - age)
    run = sync_status(store, ["zendesk"])["zendesk"]["last_run"]
    store.close()
    assert run["status"] == expected
    assert ("last_seen_at" in run) == (expected == "interrupted")
    if expected == "interrupted":
        assert run["last_seen_at"] == _iso(now - age)


def test_a_run_whose_process_is_gone_on_this_host_is_interrupted(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid names no process now
    store = Store(str(tmp_path / "gone.db"))
    heartbeat = datetime.now(UTC) - timedelta(seconds=30)
    _add_run(store, host=socket.gethostname(), pid=gone.pid, heartbeat=heartbeat)
    run = sync_status(store, [])["zendesk"]["last_run"]
    store.close()
    assert run["status"] == "interrupted"
    assert run["last_seen_at"] == _iso(heartbeat)


def test_runs_record_their_process_and_refresh_the_heartbeat_as_pages_commit(
    tmp_path: Path,
) -> None:
    fake = FakeStripe()
    fake.add_customers(3)
    store = Store(str(tmp_path / "beat.db"))
    seen: list[tuple[Any, ...]] = []

    def watch(stream: str, n: int) -> None:
        seen.append(
            store.conn.execute(
                "SELECT pid, host, heartbeat_at, status FROM sync_runs ORDER BY id DESC LIMIT 1"
            ).fetchone()
        )

    run_sync(store, fake.connector(), ingest_context(load_settings()), progress=watch)
    status = sync_status(store, [])["stripe"]["last_run"]
    store.close()
    assert seen
    assert all(row[:2] == (os.getpid(), socket.gethostname()) for row in seen)
    assert all(row[2] and row[3] == "running" for row in seen)
    assert status["status"] == "ok"
    assert "last_seen_at" not in status


# --- 2. failed webhook deliveries -----------------------------------------------------------------


@pytest.fixture
def failed_delivery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, FakeStripe, dict[str, str], bytes]]:
    """A store with one Stripe delivery that failed to apply (a mapping bug, since fixed)."""
    fake = FakeStripe()
    [customer_id] = fake.add_customers(1)
    customer = fake.get("customer", customer_id)
    assert customer is not None
    headers, body = fake.signed(fake.emit_event("customer.updated", customer))
    db = tmp_path / "hooks.db"
    store = Store(str(db))
    connector = fake.connector()
    ctx = ingest_context(load_settings())
    assert receive(store, connector, headers, body, URL, fake.now()).status == "accepted"

    def mapping_bug(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("address_line_3")

    with monkeypatch.context() as patched:
        patched.setattr(sync_webhooks, "from_vendor", mapping_bug)
        assert apply_pending(store, {"stripe": connector}, ctx) == 0
    [(status,)] = store.conn.execute("SELECT status FROM webhook_inbox").fetchall()
    assert status == "failed"
    # The vendor's retry is acknowledged as a duplicate: it is never applied on its own.
    assert receive(store, connector, headers, body, URL, fake.now()).status == "duplicate"
    store.close()
    with serving(fake.handler) as base_url:
        _stripe_env(monkeypatch, db, base_url)
        yield db, fake, headers, body


def _stripe_customers(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM records WHERE source = 'stripe' AND kind = 'customer'"
            ).fetchone()[0]
        )


def _status_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    found: dict[str, Any] = json.loads(capsys.readouterr().out)["stripe"]
    return found


def test_webhooks_retry_applies_a_failed_delivery(
    failed_delivery: tuple[Path, FakeStripe, dict[str, str], bytes],
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = failed_delivery[0]
    assert _stripe_customers(db) == 0
    assert _status_json(capsys)["webhooks_failed"] == 1
    assert main(["status"]) == 0
    text = capsys.readouterr().out
    assert "webhooks retry" in text  # the way out is named
    assert "webhooks failed 1" in text  # counts in words, not a Python dict
    assert "{" not in text

    assert main(["webhooks", "retry", "--all-failed"]) == 0
    out = capsys.readouterr().out
    assert "applied" in out
    assert "KeyError" in out
    assert _stripe_customers(db) == 1
    status = _status_json(capsys)
    assert status["webhooks_failed"] == 0
    assert status["webhooks"] == {"applied": 1}

    assert main(["webhooks", "retry", "--all-failed"]) == 0  # nothing left to retry
    assert "no failed" in capsys.readouterr().out


def test_webhooks_retry_by_id_and_source(
    failed_delivery: tuple[Path, FakeStripe, dict[str, str], bytes],
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = failed_delivery[0]
    with sqlite3.connect(db) as conn:
        [(inbox_id,)] = conn.execute("SELECT id FROM webhook_inbox").fetchall()
    assert main(["webhooks", "retry", "--source", "hubspot", "--all-failed"]) == 0
    assert _stripe_customers(db) == 0  # another source's deliveries are left alone
    capsys.readouterr()
    assert main(["webhooks", "retry", "--id", str(inbox_id + 1)]) == 1
    assert f"#{inbox_id + 1}" in capsys.readouterr().out
    assert main(["webhooks", "retry", "--id", str(inbox_id)]) == 0
    assert f"#{inbox_id}" in capsys.readouterr().out
    assert _stripe_customers(db) == 1
    assert main(["webhooks", "retry", "--id", str(inbox_id)]) == 1  # applied: not failed now
    assert "applied" in capsys.readouterr().out


def test_webhooks_retry_leaves_a_delivery_blanked_by_an_erasure_alone(
    failed_delivery: tuple[Path, FakeStripe, dict[str, str], bytes],
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = failed_delivery[0]
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE webhook_inbox SET body = X'', headers = '{}', error = ?", (BLANKED_BY_ERASURE,)
        )
        [(inbox_id,)] = conn.execute("SELECT id FROM webhook_inbox").fetchall()
    assert _status_json(capsys)["webhooks_failed"] == 0
    assert main(["webhooks", "retry", "--all-failed"]) == 0
    assert "no failed" in capsys.readouterr().out
    assert main(["webhooks", "retry", "--id", str(inbox_id)]) == 1
    assert "erasure" in capsys.readouterr().out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status, error FROM webhook_inbox").fetchall() == [
            ("failed", BLANKED_BY_ERASURE)
        ]
    assert _stripe_customers(db) == 0


def test_webhooks_retry_needs_ids_or_all_failed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["webhooks", "retry"])
    assert exited.value.code == 2
    assert "--all-failed" in capsys.readouterr().err


def test_webhooks_retry_refuses_to_fail_pending_deliveries_of_a_source_not_configured_here(
    failed_delivery: tuple[Path, FakeStripe, dict[str, str], bytes],
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = failed_delivery[0]
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO webhook_inbox (source, topic, received_at, body, headers, status) "
            "VALUES ('zendesk', 'ticket.updated', '2026-01-01T00:00:00Z', X'7B7D', '{}', "
            "'pending')"
        )
    assert main(["webhooks", "retry", "--all-failed"]) == 2
    assert "zendesk" in capsys.readouterr().err
    with sqlite3.connect(db) as conn:
        statuses = conn.execute("SELECT source, status FROM webhook_inbox ORDER BY id").fetchall()
    assert statuses == [("stripe", "failed"), ("zendesk", "pending")]


def test_webhooks_retry_names_a_misspelt_source_instead_of_finding_nothing(
    failed_delivery: tuple[Path, FakeStripe, dict[str, str], bytes],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--source strpe`` said "no failed webhook deliveries from strpe" and exited 0, so the
    operator believed nothing was left while a Stripe delivery still waited."""
    db = failed_delivery[0]
    assert main(["webhooks", "retry", "--source", "strpe", "--all-failed"]) == 2
    err = capsys.readouterr().err
    assert "strpe" in err
    assert "stripe" in err
    assert _stripe_customers(db) == 0  # nothing was applied
