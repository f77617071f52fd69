"""Concurrency of the webhook retry timer, run liveness, ``webhooks retry``, the posted-notes
claim and HubSpot's 429 pacing. Real SQLite files and real threads; no wall-clock assertions
(events, and the fake ``now`` the functions take)."""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from context_service import cli_runs
from context_service.api import webhooks as api_webhooks
from context_service.api.webhooks import RetryWaker
from context_service.store import Store
from context_service.store import inbox as inbox_store
from context_service.store import notes as notes_store
from context_service.sync.status import sync_status
from context_service.trust.erasure import BLANKED_BY_ERASURE
from integrations.hubspot._limits import Pacer

PATIENCE = 10.0  # seconds an event may take on a loaded machine; never asserted on


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _pending_delivery(store: Store, received: datetime) -> int:
    with store.transaction() as conn:
        return inbox_store.add_delivery(
            conn, "stripe", "customer.updated", b"{}", {}, [f"evt_{received}"], _iso(received)
        )


@pytest.fixture
def quick_wakes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_webhooks, "RETRY_WAKE_MIN_SECONDS", 0.01)
    monkeypatch.setattr(api_webhooks, "RETRY_AFTER_FAILURE_SECONDS", 0.01, raising=False)


def _counting_run(fail_first: int) -> tuple[Callable[[], None], threading.Event, list[int]]:
    """A pass that raises ``fail_first`` times, then sets the event."""
    done, calls = threading.Event(), [0]

    def run() -> None:
        calls[0] += 1
        if calls[0] <= fail_first:
            raise sqlite3.OperationalError("database is locked")
        done.set()

    return run, done, calls


# --- (a) RetryWaker -------------------------------------------------------------------------


@pytest.mark.usefixtures("quick_wakes")
def test_a_pass_that_raises_is_tried_again_without_waiting_for_a_delivery(tmp_path: Path) -> None:
    store = Store(tmp_path / "inbox.db")
    _pending_delivery(store, datetime.now(UTC))
    waker = RetryWaker()
    run, done, calls = _counting_run(fail_first=1)
    waker.start(run)
    try:
        assert waker.plan(store, time.time()) is not None
        assert done.wait(PATIENCE), f"the pass ran {calls[0]} time(s) and was never tried again"
    finally:
        waker.stop(run)
        store.close()


def test_a_pass_that_finds_the_store_closed_is_not_planned_again(tmp_path: Path) -> None:
    waker = RetryWaker()
    store = Store(tmp_path / "closed.db")
    store.close()

    def closed_pass() -> None:
        store.conn.execute("SELECT 1")  # sqlite3.ProgrammingError: closed database

    waker.start(closed_pass)
    waker._fire()  # the timer thread's body, run here to look at what it left
    assert waker.planned_at is None
    waker.stop(closed_pass)


@pytest.mark.usefixtures("quick_wakes")
def test_one_app_closing_does_not_stop_the_retries_of_another_on_the_same_store(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "shared.db")
    _pending_delivery(store, datetime.now(UTC))
    waker = api_webhooks.waker_of(store)
    run_a, _, calls_a = _counting_run(fail_first=0)
    run_b, done_b, _ = _counting_run(fail_first=0)
    waker.start(run_b)  # app B serves the store
    waker.start(run_a)  # app A starts serving it too
    try:
        assert waker.plan(store, time.time()) is not None  # planned while A serves...
        waker.stop(run_a)  # ...which closes before the timer fires
        assert done_b.wait(PATIENCE)  # the pass runs with the app still serving
        assert calls_a == [0]  # never with the closed app's clients
    finally:
        waker.stop(run_b)
        store.close()


def test_planning_after_stop_on_a_closed_store_does_not_raise(tmp_path: Path) -> None:
    store = Store(tmp_path / "late.db")
    _pending_delivery(store, datetime.now(UTC))
    waker, app_pass = RetryWaker(), lambda: None
    waker.start(app_pass)
    waker.stop(app_pass)
    store.close()  # the app closed it; a webhook's background task ends after this
    assert waker.plan(store, time.time()) is None


@pytest.mark.usefixtures("quick_wakes")
def test_stop_waits_for_a_running_pass_and_none_starts_after(tmp_path: Path) -> None:
    store = Store(tmp_path / "stop.db")
    _pending_delivery(store, datetime.now(UTC))
    waker = RetryWaker()
    inside, release, after_stop = threading.Event(), threading.Event(), []

    def slow_pass() -> None:
        inside.set()
        release.wait(PATIENCE)
        after_stop.append(waker.plan(store, time.time()))

    waker.start(slow_pass)
    waker.plan(store, time.time())
    assert inside.wait(PATIENCE)
    stopper = threading.Thread(target=waker.stop, args=(slow_pass,))
    stopper.start()
    release.set()
    stopper.join(PATIENCE)
    assert not stopper.is_alive()
    assert after_stop == [None]  # the pass finished, and planned nothing on a closing store
    store.close()


# --- (b) run liveness -----------------------------------------------------------------------


def _add_run(store: Store, *, pid: int, started: datetime, heartbeat: datetime) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO sync_runs (source, mode, started_at, status, pid, host, heartbeat_at) "
            "VALUES ('sheets', 'import', ?, 'running', ?, ?, ?)",
            (_iso(started), pid, socket.gethostname(), _iso(heartbeat)),
        )


def test_a_live_local_run_silent_for_hours_in_a_long_build_is_still_running(
    tmp_path: Path,
) -> None:
    """An import (which records no page before its end) or a snapshot build of hours: its
    process, started before the run, is alive on this host."""
    store = Store(tmp_path / "runs.db")
    started = datetime.now(UTC)
    _add_run(store, pid=os.getpid(), started=started, heartbeat=started)
    later = started + timedelta(hours=3)
    run = sync_status(store, [], now=later)["sheets"]["last_run"]
    store.close()
    assert run["status"] == "running", run.get("error")


# --- (c) webhooks retry ---------------------------------------------------------------------


def _failed_blanked(store: Store) -> int:
    with store.transaction() as conn:
        inbox_id = inbox_store.add_delivery(
            conn, "stripe", "customer.updated", b"", {}, ["evt_b"], "2020-01-01T00:00:00Z"
        )
        conn.execute(
            "UPDATE webhook_inbox SET status = 'failed', error = ? WHERE id = ?",
            (BLANKED_BY_ERASURE, inbox_id),
        )
    return inbox_id


def test_retry_all_failed_survives_a_blanked_delivery_purged_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A serve worker's inbox pruner deletes a blanked failed delivery between the listing of
    failed deliveries and the look at each."""
    store = Store(tmp_path / "retry.db")
    _failed_blanked(store)
    real_outcomes = inbox_store.outcomes

    def purged_meanwhile(conn: sqlite3.Connection, ids: list[int]) -> dict[int, object]:
        with store.transaction() as writer:
            inbox_store.purge(writer, "2999-01-01T00:00:00Z")
        return real_outcomes(conn, ids)  # type: ignore[return-value]

    monkeypatch.setattr(inbox_store, "outcomes", purged_meanwhile)
    args = argparse.Namespace(ids=None, all_failed=True, source=None)
    try:
        status = cli_runs._retry(store, {}, None, args)  # type: ignore[arg-type]
    finally:
        store.close()
    assert status == 0
    assert "no failed webhook deliveries" in capsys.readouterr().out


# --- (d) posted-notes claims ----------------------------------------------------------------


def test_a_claim_made_while_another_thread_holds_a_transaction_on_the_connection_holds(
    tmp_path: Path,
) -> None:
    """The tools share ``store.conn``; a read transaction another thread has open on it (and
    rolls back) must not take the claim with it, or a retried escalation posts twice."""
    store = Store(tmp_path / "notes.db")
    conn, digest, now = store.conn, notes_store.note_digest("T-1", "handoff"), datetime.now(UTC)
    opened, claimed = threading.Event(), threading.Event()

    def reader() -> None:
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM posted_notes").fetchone()
        opened.set()
        claimed.wait(PATIENCE)
        conn.execute("ROLLBACK")

    other = threading.Thread(target=reader)
    other.start()
    assert opened.wait(PATIENCE)
    first = notes_store.claim(conn, digest, now)
    claimed.set()
    other.join(PATIENCE)
    again = notes_store.claim(conn, digest, now)
    store.close()
    assert (first, again) == ("new", "pending")


def test_two_threads_racing_for_one_claim_one_wins(tmp_path: Path) -> None:
    store = Store(tmp_path / "race.db")
    digest, now = notes_store.note_digest("T-2", "handoff"), datetime.now(UTC)
    barrier, wins = threading.Barrier(4), []

    def race() -> None:
        barrier.wait(PATIENCE)
        wins.append(notes_store.claim(store.conn, digest, now))

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE)
    store.close()
    assert sorted(wins) == ["new", "pending", "pending", "pending"]


# --- (e) HubSpot's daily limit --------------------------------------------------------------


def test_a_429_whose_headers_say_the_daily_limit_is_spent_is_not_retried() -> None:
    """The daily limit is known by ``X-HubSpot-RateLimit-Daily-Remaining: 0`` as well as by
    the body's ``policyName``; a body that names no policy (a proxy's, an empty one) must not
    send the run into a window's pauses and retries against a limit that resets at midnight."""
    slept: list[float] = []
    pacer = Pacer(slept.append, lambda: 0.0)
    response = httpx.Response(
        429,
        headers={"X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "0"},
        content=b"",
    )
    assert pacer.observe(response) is False
    pacer.acquire()
    assert slept == []  # no pause either: the run stops here


def test_a_window_429_with_daily_requests_left_is_still_paused_and_retried() -> None:
    slept: list[float] = []
    pacer = Pacer(slept.append, lambda: 0.0)
    response = httpx.Response(
        429,
        headers={"X-HubSpot-RateLimit-Daily-Remaining": "1200"},
        content=b'{"policyName":"TEN_SECONDLY_ROLLING"}',
    )
    assert pacer.observe(response) is None
    pacer.acquire()
    assert slept == [10.0]
