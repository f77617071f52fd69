"""The webhook path under load and after a crash (a crash-safety review, session 27):

- one pass over the pending inbox at a time: passes side by side each refetched the same
  objects from the vendor (seven refetches of one customer in a burst);
- a restarted server answers while it applies what the crashed one left behind (it answered
  nothing for 31 s while 29 deliveries were refetched);
- a delivery that meets another process's long write lock gets 503 with ``Retry-After``,
  before the vendor's own timeout, not a 500 after 30 s with nothing stored.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.api import webhooks as api_webhooks
from context_service.store import Store
from context_service.sync import intake_lock
from context_service.sync import webhooks as sync_webhooks
from context_service.sync.one_pass import OnePass
from tests.conftest import make_settings
from tests.payloads import stripe_customer, stripe_event, stripe_signed

SECRET = "whsec_test_0123456789"


def test_a_pass_asked_for_while_one_runs_is_run_by_it_once_more() -> None:
    one = OnePass()
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def first_pass() -> int:
        calls.append("pass")
        if len(calls) == 1:
            started.set()
            release.wait(5)
        return 1

    results: list[int] = []
    runner = threading.Thread(target=lambda: results.append(one.run(first_pass)))
    runner.start()
    assert started.wait(5)
    assert one.run(first_pass) == 0  # another pass runs: it goes round once more for us
    assert one.run(first_pass) == 0  # asked twice meanwhile: still once more
    release.set()
    runner.join(5)
    assert calls == ["pass", "pass"]
    assert results == [2]
    assert one.run(first_pass) == 1  # nothing running: runs at once


def test_a_pass_that_fails_lets_the_next_one_run() -> None:
    one = OnePass()

    def failing() -> int:
        raise RuntimeError("vendor down")

    with pytest.raises(RuntimeError):
        one.run(failing)
    assert one.run(lambda: 3) == 3


def test_apply_pending_runs_one_pass_per_gate_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    passes: list[Store] = []

    def slow_pass(the_store: Store, *_: Any) -> int:
        passes.append(the_store)
        if len(passes) == 1:
            started.set()
            release.wait(5)
        return 0

    monkeypatch.setattr(sync_webhooks, "_apply_due", slow_pass)
    gate = OnePass()  # a server's
    runner = threading.Thread(
        target=sync_webhooks.apply_pending, args=(store, {}, None), kwargs={"gate": gate}
    )
    runner.start()
    assert started.wait(5)
    assert sync_webhooks.apply_pending(store, {}, None, gate=gate) == 0  # type: ignore[arg-type]
    release.set()
    runner.join(5)
    assert passes == [store, store]


def _signed_customer(customer_id: str) -> tuple[dict[str, str], bytes]:
    customer = stripe_customer(customer_id, f"{customer_id}@example.com", "Ada Lovelace")[2]
    event = stripe_event(f"evt_{customer_id}", "customer.updated", customer, int(time.time()))
    return stripe_signed(event, SECRET, int(time.time()))


def test_a_delivery_meeting_a_long_write_lock_is_503_and_stored_once_sent_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake_lock, "LOCK_WAIT_S", 0.2)
    said: list[str] = []
    heard = _Heard(said)
    intake_lock.log.addHandler(heard)
    settings = make_settings(store.path, stripe_webhook_secret=SECRET)
    headers, body = _signed_customer("cus_locked")
    other = sqlite3.connect(store.path, isolation_level=None)  # another process's writer
    try:
        with TestClient(app=create_app(settings, store=store)) as client:
            other.execute("BEGIN IMMEDIATE")
            refused = client.post("/v1/webhooks/stripe", content=body, headers=headers)
            other.execute("ROLLBACK")
            count = "SELECT count(*) FROM webhook_inbox"
            held = store.conn.execute(count).fetchone()[0]
            again = client.post("/v1/webhooks/stripe", content=body, headers=headers)
            kept = store.conn.execute(count).fetchone()[0]
    finally:
        other.close()
        intake_lock.log.removeHandler(heard)
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == str(intake_lock.RETRY_AFTER_S)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert held == 0
    assert again.json()["status"] == "accepted"  # not a duplicate: nothing was stored before
    assert kept == 1
    # The log says which delivery the vendor will send again (a review saw "a webhook delivery").
    refusals = [line for line in said if "refused with 503" in line]
    assert any("stripe customer.updated delivery evt_cus_locked" in m for m in refusals), said


class _Heard(logging.Handler):
    """Keeps the messages logged to it."""

    def __init__(self, said: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.said = said

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record.getMessage())


def test_a_restarted_server_answers_while_it_applies_what_was_left_behind(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(store.path, stripe_webhook_secret=SECRET)
    headers, body = _signed_customer("cus_left")
    with TestClient(app=create_app(settings, store=store)) as client:
        monkeypatch.setattr(sync_webhooks, "_apply_due", lambda *_: 0)  # the crash: not applied
        assert client.post("/v1/webhooks/stripe", content=body, headers=headers).status_code == 200
    monkeypatch.undo()
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    real = sync_webhooks._apply_due

    def slow_refetches(*args: Any) -> int:
        started.set()
        release.wait(5)
        finished.set()
        return real(*args)

    monkeypatch.setattr(sync_webhooks, "_apply_due", slow_refetches)
    try:
        with TestClient(app=create_app(settings, store=store)) as client:
            assert started.wait(5)  # the drain is under way...
            assert client.get("/health").status_code == 200  # ...and the server answers
            assert not finished.is_set()  # before the drain is done, not after it
            release.set()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _pending(store):
                time.sleep(0.05)
    finally:
        release.set()
    assert _pending(store) == 0


def _pending(store: Store) -> int:
    query = "SELECT count(*) FROM webhook_inbox WHERE status = 'pending'"
    return int(store.conn.execute(query).fetchone()[0])


def test_a_stopped_gate_runs_no_pass() -> None:
    one = OnePass()
    one.stop()
    assert one.run(lambda: 1) == 0


def test_one_app_closing_leaves_another_on_the_same_store_applying(store: Store) -> None:
    """Each app has its own gate: closing one (a test's client, an embedding's old app) once
    stopped every pass on the store, and the other app's deliveries stayed pending."""
    settings = make_settings(store.path, stripe_webhook_secret=SECRET)
    with TestClient(app=create_app(settings, store=store)) as serving:
        with TestClient(app=create_app(settings, store=store)):
            pass  # opened and closed while the first goes on
        headers, body = _signed_customer("cus_after")
        assert serving.post("/v1/webhooks/stripe", content=body, headers=headers).status_code
        assert _pending(store) == 0


def test_a_retry_planned_by_an_app_that_closed_is_run_by_one_still_serving(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's retry timer used to keep the pass of the app that planned it: once that app
    closed, its stopped gate made the pass a no-op that planned itself again, and a delivery
    waiting for its retry stayed pending until the other app got a delivery of its own."""
    monkeypatch.setattr(api_webhooks, "RETRY_WAKE_MIN_SECONDS", 0.2)
    settings = make_settings(store.path, stripe_webhook_secret=SECRET)
    with TestClient(app=create_app(settings, store=store)):  # app B, which goes on serving
        with monkeypatch.context() as unreachable:  # the vendor cannot be reached yet
            unreachable.setattr(sync_webhooks, "_apply_due", lambda *_: 0)
            with TestClient(app=create_app(settings, store=store)) as closing:  # app A
                headers, body = _signed_customer("cus_waiting")
                assert closing.post("/v1/webhooks/stripe", content=body, headers=headers)
                assert api_webhooks.waker_of(store).planned_at is not None  # planned by A
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _pending(store):
            time.sleep(0.05)  # B receives nothing meanwhile
        assert _pending(store) == 0


def test_shutting_down_ends_the_startup_drain_and_leaves_the_rest_pending(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drain's thread used to outlive the app: its refetches then ran on closed vendor
    clients and marked the deliveries failed for good (45 of 180 in a review)."""
    settings = make_settings(store.path, stripe_webhook_secret=SECRET)
    with TestClient(app=create_app(settings, store=store)) as client:
        monkeypatch.setattr(sync_webhooks, "_apply_due", lambda *_: 0)  # the crash: not applied
        for n in range(4):
            headers, body = _signed_customer(f"cus_left{n}")
            assert client.post("/v1/webhooks/stripe", content=body, headers=headers).status_code
    monkeypatch.undo()
    started = threading.Event()
    real = sync_webhooks._apply_one

    def slow_one(*args: Any) -> int:
        started.set()
        time.sleep(0.3)
        return real(*args)

    monkeypatch.setattr(sync_webhooks, "_apply_one", slow_one)
    with TestClient(app=create_app(settings, store=store)):
        assert started.wait(5)
    assert not [t for t in threading.enumerate() if t.name == "inbox-drain"]
    statuses = [row[0] for row in store.conn.execute("SELECT status FROM webhook_inbox")]
    assert "failed" not in statuses
    assert statuses.count("pending") >= 2  # ended after the delivery in hand
