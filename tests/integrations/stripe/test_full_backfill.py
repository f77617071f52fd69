"""A full Stripe backfill after a pause longer than Stripe's 30 days of events: objects deleted
in the meantime (their deletion events expired) are retired, the rest stay."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from context_service.errors import RetriableError
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext
from context_service.sync.runner import SyncOutcome, run_sync
from context_service.wiring import ingest_context
from tests.conftest import make_settings
from tests.integrations.stripe.fake import FakeStripe

DAY = 86_400


@pytest.fixture
def ctx(store: Store) -> IngestContext:
    return ingest_context(make_settings(store.path))


def _next_second() -> None:
    """Records are stamped to the second: start the next run in a later one."""
    time.sleep(1.01 - time.time() % 1)


def _deleted(store: Store, kind: str, external_id: str) -> bool:
    record = get_record(store.conn, RecordKey("stripe", kind, external_id))
    assert record is not None
    return record.deleted


def _fetches(fake: FakeStripe, since: int) -> list[str]:
    lists = ("/v1/customers", "/v1/subscriptions", "/v1/invoices", "/v1/charges", "/v1/disputes")
    return [
        r.url.path
        for r in fake.requests[since:]
        if r.url.path.count("/") == 3
        and not r.url.path.startswith("/v1/events")
        and r.url.path not in lists
    ]


def _pause_past_the_event_window(
    store: Store, fake: FakeStripe, ctx: IngestContext, change: str
) -> tuple[SyncOutcome, int]:
    """Sync, then let 40 days pass with ``change`` made in Stripe on day 10; sync again."""
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    fake.advance(10 * DAY)
    if change:
        customer = fake.get("customer", change)
        assert customer is not None
        fake.emit_event("customer.deleted", customer)
    fake.advance(30 * DAY)
    _next_second()
    before = len(fake.requests)
    return run_sync(store, fake.connector(), ctx), before


def test_a_customer_deleted_during_a_long_pause_is_retired(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeStripe()
    kept, gone = fake.add_customers(2)
    outcome, before = _pause_past_the_event_window(store, fake, ctx, gone)
    assert (outcome.status, outcome.mode) == ("ok", "full")
    assert _deleted(store, "customer", gone)
    assert not _deleted(store, "customer", kept)
    assert _fetches(fake, before) == [f"/v1/customers/{gone}"]  # only the one not listed
    assert any("customers: 1 no longer in stripe" in note for note in outcome.notes)


def test_an_invoice_stripe_no_longer_has_is_retired(store: Store, ctx: IngestContext) -> None:
    fake = FakeStripe()
    fake.add_customers(1)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    draft = fake.objects["invoice"][-1]
    fake.remove("invoice", draft["id"])  # a draft invoice deleted in Stripe: GET is 404
    fake.advance(40 * DAY)
    _next_second()
    outcome = run_sync(store, fake.connector(), ctx)
    assert (outcome.status, outcome.mode) == ("ok", "full")
    assert _deleted(store, "invoice", draft["id"])
    assert all(not _deleted(store, "invoice", o["id"]) for o in fake.objects["invoice"])


def test_a_full_backfill_with_nothing_deleted_asks_about_nothing(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeStripe()
    fake.add_customers(3)
    outcome, before = _pause_past_the_event_window(store, fake, ctx, "")
    assert (outcome.status, outcome.mode) == ("ok", "full")
    assert _fetches(fake, before) == []
    assert not any("no longer in" in note for note in outcome.notes)


def _synced_then_deleted_during_a_long_pause(
    store: Store, fake: FakeStripe, ctx: IngestContext, gone: str
) -> None:
    """Sync; on day 10 of a 40-day pause, ``gone`` is deleted in Stripe."""
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    fake.advance(10 * DAY)
    customer = fake.get("customer", gone)
    assert customer is not None
    fake.emit_event("customer.deleted", customer)
    fake.advance(30 * DAY)
    _next_second()


def test_a_retirement_cut_short_is_finished_by_the_next_run(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeStripe()
    kept, gone = fake.add_customers(2)
    _synced_then_deleted_during_a_long_pause(store, fake, ctx, gone)
    cut_short = fake.connector()

    def unavailable(kind: str, external_id: str) -> None:
        raise RetriableError("HTTP 503 on every look-up")

    cut_short.fetch_one = unavailable  # type: ignore[method-assign]
    first = run_sync(store, cut_short, ctx)
    assert (first.status, first.mode) == ("failed", "full")
    assert "503" in (first.error or "")  # after the listing reached its end
    second = run_sync(store, fake.connector(), ctx)
    assert (second.status, second.mode) == ("ok", "incremental")
    assert _deleted(store, "customer", gone)
    assert not _deleted(store, "customer", kept)
    third = run_sync(store, fake.connector(), ctx)  # done once: nothing is looked up again
    assert not any("no longer in" in note for note in third.notes)


def test_a_listing_resumed_after_a_crash_still_retires_what_it_did_not_bring(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeStripe()
    kept, gone, *_ = fake.add_customers(5)
    _synced_then_deleted_during_a_long_pause(store, fake, ctx, gone)
    crashed = fake.connector(page_size=2)
    real_list = crashed.list_pages

    def one_page_then_fail(*args: Any, **kwargs: Any) -> Iterator[Any]:
        yield next(real_list(*args, **kwargs))  # the full backfill's first page commits
        raise RetriableError("HTTP 503")

    crashed.list_pages = one_page_then_fail  # type: ignore[method-assign]
    assert run_sync(store, crashed, ctx).status == "failed"
    resumed = run_sync(store, fake.connector(page_size=2), ctx)
    assert resumed.status == "ok"
    assert _deleted(store, "customer", gone)
    assert not _deleted(store, "customer", kept)
