"""POST /v1/webhooks: a pass that raises after a delivery was stored (the store
locked past its busy timeout by a long erasure or sync) still plans the next pass, so the
delivery does not wait for the next one to arrive, which on a quiet night is hours."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.api import webhooks as api_webhooks
from context_service.store import Store
from context_service.sync import apply_pending
from tests.conftest import make_settings
from tests.payloads import stripe_customer, stripe_event, stripe_signed

SECRET = "whsec_test_0123456789"


@pytest.fixture
def client(store: Store) -> Iterator[TestClient[Any]]:
    settings = make_settings(store.path, stripe_webhook_secret=SECRET)
    app = create_app(settings, store=store)
    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


def _deliver(client: TestClient[Any], event_id: str) -> None:
    customer = stripe_customer("cus_7", "ada@example.com", "Ada Byron")[2]
    event = stripe_event(event_id, "customer.updated", customer, int(time.time()))
    headers, body = stripe_signed(event, SECRET, int(time.time()))
    # No status asserted: a real server has answered 200 before the pass runs; the test
    # client, which runs the pass inside the request, would answer 500 if it raised.
    client.post("/v1/webhooks/stripe", content=body, headers=headers)


def test_a_pass_that_raises_plans_the_next_one(
    client: TestClient[Any], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = apply_pending  # the function api/webhooks.py imports
    calls: list[int] = []

    def locked_once(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(api_webhooks, "apply_pending", locked_once)
    _deliver(client, "evt_locked")
    assert calls, "the background pass ran"
    [(status,)] = store.conn.execute("SELECT status FROM webhook_inbox").fetchall()
    assert status == "pending"
    assert api_webhooks.waker_of(store).planned_at is not None
