"""Webhook intake and the sync runner: a delivery waiting for the store or its vendor stalls
nothing else and is still applied, and a repeated header is read as it was verified.

Real SQLite files, real HTTP through litestar's test client, vendor fakes behind
``httpx.MockTransport``. Nothing here asserts a duration: a wait is only ever a bound on how
long a test lets the service take before it counts as stuck.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from litestar.datastructures import Headers
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive
from tests.api.webhook_deliveries import (
    BASE,
    inbox_rows,
    iso_at,
    valid_delivery,
    vendor_fake,
    webhook_client,
)
from tests.conftest import make_settings

STUCK_AFTER = 10.0  # seconds after which a service that should have moved counts as stuck


def _in_thread(work: Any, results: dict[str, Any], name: str) -> threading.Thread:
    thread = threading.Thread(target=lambda: results.setdefault(name, work()), daemon=True)
    thread.start()
    return thread


@contextmanager
def writer_held(store: Store) -> Iterator[threading.Event]:
    """Another writer (a sync run, a long apply) holds the store's write lock until the
    yielded event is set."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.transaction():
            held.set()
            release.wait(STUCK_AFTER * 2)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    held.wait()
    try:
        yield release
    finally:
        release.set()
        holder.join()


def test_a_webhook_waiting_for_the_store_does_not_stall_every_other_request(
    store: Store,
) -> None:
    """While a delivery waits for the write lock, /health (and every context lookup) is
    still answered: the intake's SQLite work must not block the server's event loop."""
    fake = vendor_fake("stripe")
    headers, body = valid_delivery("stripe", fake, time.time())
    results: dict[str, Any] = {}
    with webhook_client(store, "stripe", fake) as client, writer_held(store) as release:
        post = _in_thread(
            lambda: client.post("/v1/webhooks/stripe", content=body, headers=headers),
            results,
            "post",
        )
        time.sleep(1.0)  # let the delivery reach the store and wait there (ordering only)
        health = _in_thread(lambda: client.get("/health"), results, "health")
        health.join(STUCK_AFTER)
        answered_while_held = not health.is_alive()
        release.set()
        post.join()
        health.join()
    assert answered_while_held, "GET /health waited for a webhook's write lock"
    assert results["health"].status_code == 200
    assert results["post"].status_code == 200
    assert inbox_rows(store) == [("customer.updated", "applied")]


def _wait_for(check: Any) -> bool:
    deadline = time.monotonic() + STUCK_AFTER
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


def test_a_delivery_waiting_for_its_vendor_is_applied_without_another_delivery(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Zendesk answers 503 while a delivery is applied, then recovers; no other delivery
    arrives (a quiet night). The waiting delivery is applied once its retry is due, not
    whenever the next delivery happens to come in."""
    monkeypatch.setattr("context_service.sync.webhooks.RETRY_FIRST_SECONDS", 0.0)
    fake = vendor_fake("zendesk")
    down = {"now": True}

    def handler(request: httpx.Request) -> httpx.Response:
        if down["now"]:
            return httpx.Response(503, text="maintenance")
        answer: httpx.Response = fake.handler(request)
        return answer

    connector = fake.connector(client=httpx.Client(transport=httpx.MockTransport(handler)))
    app = create_app(make_settings(store.path), store=store, connectors={"zendesk": connector})
    headers, body = valid_delivery("zendesk", fake, time.time())
    with TestClient(app=app, base_url=BASE) as client:
        response = client.post("/v1/webhooks/zendesk", content=body, headers=headers)
        assert response.status_code == 200
        assert inbox_rows(store) == [("zen:event-type:user.created", "pending")]
        down["now"] = False
        applied = _wait_for(lambda: inbox_rows(store)[0][1] == "applied")
    assert applied, f"still {inbox_rows(store)} with the vendor back and the retry due"


def test_a_delivery_left_waiting_by_a_stopped_server_is_applied_when_due_after_restart(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server stopped while a delivery waited for its vendor; the restarted server's
    start-up drain finds it not due yet, and applies it once due, with no other delivery."""
    monkeypatch.setattr("context_service.sync.webhooks.RETRY_FIRST_SECONDS", 2.0)
    fake = vendor_fake("zendesk")
    down = {"now": True}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503) if down["now"] else fake.handler(request)

    connector = fake.connector(client=httpx.Client(transport=httpx.MockTransport(handler)))
    headers, body = valid_delivery("zendesk", fake, time.time())
    receive(store, connector, headers, body, f"{BASE}/v1/webhooks/zendesk", time.time())
    assert apply_pending(store, {"zendesk": connector}, ctx) == 0  # the first server's pass
    down["now"] = False
    app = create_app(make_settings(store.path), store=store, connectors={"zendesk": connector})
    with TestClient(app=app, base_url=BASE):
        applied = _wait_for(lambda: inbox_rows(store)[0][1] == "applied")
    assert applied, f"still {inbox_rows(store)} after the restart, with its retry due"


def test_a_repeated_header_is_applied_with_the_value_that_was_verified(
    store: Store, ctx: IngestContext
) -> None:
    """Shopify's X-Shopify-Triggered-At is checked for freshness, then dates a deletion. Sent
    twice (an ASGI server passes both on; ``Headers`` is what the route hands to the intake),
    the first value passed the check; the delivery must not be applied with the second (a date
    decades ahead would make the deletion outrank every later copy of the customer)."""
    fake = vendor_fake("shopify")
    now = time.time()
    signed, body = fake.signed("customers/delete", {"id": 7001}, triggered_at=now)
    raw = [(k.lower().encode(), v.encode()) for k, v in signed.items()]
    headers = Headers([*raw, (b"x-shopify-triggered-at", b"2099-01-01T00:00:00Z")])
    connector = fake.connector()
    receipt = receive(store, connector, headers, body, f"{BASE}/v1/webhooks/shopify", now)
    assert receipt.status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx) == 1
    dated = store.conn.execute(
        "SELECT updated_at FROM records WHERE source = 'shopify' AND external_id = '7001'"
    ).fetchone()
    assert dated is not None
    assert dated[0] == iso_at(now)  # the verified value, to the second
