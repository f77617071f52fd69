"""A Stripe backfill that failed part way resumes, even when the object its cursor names has
been deleted since: every customer still in Stripe is stored once, the deleted one is not
listed, and later runs go on to the events stream."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from context_service.store import Store
from context_service.sync.runner import run_sync
from context_service.wiring import ingest_context
from integrations._http import RetryPolicy
from tests.conftest import make_settings
from tests.integrations.stripe.fake import FakeStripe


def _customer_cursor(store: Store) -> dict[str, object]:
    (cursor,) = store.conn.execute(
        "SELECT cursor FROM sync_cursors WHERE source = 'stripe' AND stream = 'customers'"
    ).fetchone()
    return dict(json.loads(cursor))


def test_a_backfill_resumes_after_its_cursor_object_was_deleted(tmp_path: Path) -> None:
    store = Store(tmp_path / "stripe.db")
    ctx = ingest_context(make_settings(store.path))
    fake = FakeStripe()
    fake.add_customers(5)
    calls = 0

    def second_request_fails(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503) if calls == 2 else fake.handler(request)

    flaky = fake.connector(
        client=httpx.Client(transport=httpx.MockTransport(second_request_fails)),
        page_size=2,
        policy=RetryPolicy(max_attempts=1),
    )
    first = run_sync(store, flaky, ctx)
    assert (first.status, first.pages) == ("failed", 1)
    boundary = str(_customer_cursor(store)["starting_after"])
    customer = fake.get("customer", boundary)
    assert customer is not None
    fake.advance(3600)
    fake.emit_event("customer.deleted", customer)
    fake.advance(120)  # past the events stream's settling time

    second = run_sync(store, fake.connector(page_size=2), ctx)
    assert second.status == "ok", second.error
    assert _customer_cursor(store)["done"] is True
    stored = store.conn.execute(
        "SELECT external_id, count(*), max(deleted) FROM records "
        "WHERE source = 'stripe' AND kind = 'customer' GROUP BY external_id"
    ).fetchall()
    assert sorted(ext for ext, _, _ in stored) == sorted(o["id"] for o in fake.objects["customer"])
    assert all(count == 1 for _, count, _ in stored)
    assert {ext for ext, _, deleted in stored if deleted} == {boundary}  # via the events stream
    assert run_sync(store, fake.connector(page_size=2), ctx).status == "ok"
