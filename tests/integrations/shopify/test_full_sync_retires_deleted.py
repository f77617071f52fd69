"""A ``--full`` Shopify sync retires the customers, and the recent orders, Shopify no longer has.

Shopify drops a webhook subscription after 48 hours of failed deliveries, so a deletion can be
missed for good; the sync pages by ``updated_at`` and a deleted object is never listed. Once a
full listing reached its end, the runner looks up, one by one, each stored record the listing
did not bring and retires those Shopify no longer has. Without ``read_all_orders`` Shopify shows
only the last 60 days of orders, so only orders created in the last 55 are looked up.

Payload shapes: the Shopify Admin GraphQL ``customers`` / ``orders`` connections and the
``customer(id:)`` / ``order(id:)`` node queries as ``FakeShopify`` serves them (nodes, pageInfo,
``ACCESS_DENIED`` field errors located by ``path``); see the Shopify section of
``shared/refdata/NOTES.md`` for where those shapes come from.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from context_service.errors import ProfileNotFound
from context_service.models import RecordKey, Snapshot
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext, run_sync
from context_service.sync.runner import SyncOutcome
from tests.integrations.shopify.fake import FakeShopify, iso

PAGE = 2  # several pages per listing


def _next_second() -> None:
    """Records are stamped to the second: start the next run in a later one."""
    time.sleep(1.01 - time.time() % 1)


def _deleted(store: Store, kind: str, external_id: int) -> bool:
    record = get_record(store.conn, RecordKey("shopify", kind, str(external_id)))
    assert record is not None
    return record.deleted


def _lookups(fake: FakeShopify, since: int) -> list[str]:
    """The gids asked for one by one (``customer(id:)`` / ``order(id:)``) since request
    ``since``."""
    bodies: list[dict[str, Any]] = fake.bodies()[since:]
    return [str(b["variables"]["id"]) for b in bodies if "id" in (b.get("variables") or {})]


def _retired_notes(outcome: SyncOutcome) -> list[str]:
    return [note for note in outcome.notes if "no longer in shopify" in note]


def _synced(store: Store, ctx: IngestContext, fake: FakeShopify) -> None:
    """A first sync of ``fake`` into ``store``, then a new second for the next run."""
    outcome = run_sync(store, fake.connector(page_size=PAGE), ctx)
    assert outcome.status == "ok", outcome.error
    _next_second()


def _shop_with_a_customer_without_orders() -> tuple[FakeShopify, int]:
    """Four customers with orders and a fifth without (Shopify deletes only those)."""
    fake = FakeShopify()
    fake.add_customers(4)
    fake.add_orders(4)
    (lone,) = fake.add_customers(1)
    return fake, lone


def _email(fake: FakeShopify, customer_id: int) -> str:
    return str(fake.customers[customer_id]["email"])


def test_a_customer_deleted_without_a_webhook_is_retired_by_a_full_sync(
    store: Store, ctx: IngestContext
) -> None:
    fake, gone = _shop_with_a_customer_without_orders()
    _synced(store, ctx, fake)
    email = _email(fake, gone)
    lookup.by_email(store.conn, email)  # her profile is there before
    del fake.customers[gone]  # deleted at Shopify; its webhook never arrived
    before = len(fake.requests)
    outcome = run_sync(store, fake.connector(page_size=PAGE), ctx, full=True)
    assert (outcome.status, outcome.mode) == ("ok", "full"), outcome.error
    assert _deleted(store, "customer", gone)
    with pytest.raises(ProfileNotFound):
        lookup.by_email(store.conn, email)
    assert _retired_notes(outcome) == [
        "customers: 1 no longer in shopify since the last sync, retired"
    ]
    assert all(not _deleted(store, "customer", cid) for cid in fake.customers)
    assert all(not _deleted(store, "order", oid) for oid in fake.orders)
    for cid in fake.customers:
        lookup.by_email(store.conn, _email(fake, cid))
    assert _lookups(fake, before) == [f"gid://shopify/Customer/{gone}"]  # only the unlisted


def test_an_order_missing_from_a_full_listing_is_not_retired(
    store: Store, ctx: IngestContext
) -> None:
    """Without ``read_all_orders`` Shopify shows only the last 60 days of orders, to a listing
    and to ``order(id:)`` alike: an older order missing from both is not gone, and retiring
    it would empty its customer's order history. Orders leave by their deletion webhook."""
    fake = FakeShopify()
    owner, _ = fake.add_customers(2)
    hidden, _, kept = fake.add_orders(3)  # the first and the third are the first customer's
    hidden_name, kept_name = fake.orders[hidden]["name"], fake.orders[kept]["name"]
    _synced(store, ctx, fake)
    del fake.orders[hidden]  # older than 60 days, for an app without read_all_orders
    before = len(fake.requests)
    outcome = run_sync(store, fake.connector(page_size=PAGE), ctx, full=True)
    assert outcome.status == "ok", outcome.error
    assert not _deleted(store, "order", hidden)
    assert _retired_notes(outcome) == []
    stored = lookup.by_email(store.conn, _email(fake, owner))
    titles = [
        order.title for order in msgspec.json.decode(stored.json, type=Snapshot).commerce.orders
    ]
    assert {kept_name, hidden_name} <= set(titles)
    assert _lookups(fake, before) == []


def _created_days_ago(fake: FakeShopify, order_id: int, days: float) -> None:
    fake.orders[order_id]["createdAt"] = iso(datetime.now(UTC) - timedelta(days=days))


def _order_titles(store: Store, email: str) -> set[str]:
    stored = lookup.by_email(store.conn, email)
    orders = msgspec.json.decode(stored.json, type=Snapshot).commerce.orders
    return {str(order.title) for order in orders}


def test_a_recent_order_deleted_without_a_webhook_is_retired_by_a_full_sync(
    store: Store, ctx: IngestContext
) -> None:
    """An order created 10 days ago is within the 60 days Shopify shows: missing from a whole
    listing and from ``order(id:)``, it is gone. One created 57 days ago is too near the
    window's edge to tell, and an older one is hidden from both: neither is looked up."""
    fake = FakeShopify()
    owner, _ = fake.add_customers(2)
    gone, _, near_edge, _, old = fake.add_orders(5)  # the odd ones are the first customer's
    for order_id, days in ((gone, 10), (near_edge, 57), (old, 90)):
        _created_days_ago(fake, order_id, days)
    names = {oid: str(fake.orders[oid]["name"]) for oid in fake.orders}
    _synced(store, ctx, fake)
    assert {names[gone], names[near_edge], names[old]} <= _order_titles(store, _email(fake, owner))
    for order_id in (gone, near_edge, old):
        del fake.orders[order_id]
    before = len(fake.requests)
    outcome = run_sync(store, fake.connector(page_size=PAGE), ctx, full=True)
    assert (outcome.status, outcome.mode) == ("ok", "full"), outcome.error
    assert _lookups(fake, before) == [f"gid://shopify/Order/{gone}"]
    assert _deleted(store, "order", gone)
    assert not _deleted(store, "order", near_edge)
    assert not _deleted(store, "order", old)
    assert all(not _deleted(store, "order", oid) for oid in fake.orders)
    assert _retired_notes(outcome) == [
        "orders: 1 no longer in shopify since the last sync, retired"
    ]
    titles = _order_titles(store, _email(fake, owner))
    assert names[gone] not in titles
    assert {names[near_edge], names[old]} <= titles


def test_a_recent_order_still_at_shopify_is_kept_by_its_look_up(
    store: Store, ctx: IngestContext
) -> None:
    """A recent order the listing did not bring but ``order(id:)`` still finds (a listing
    that missed it) is stored as Shopify has it, not retired."""
    fake = FakeShopify()
    fake.add_customers(2)
    hidden, *_ = fake.add_orders(3)
    _created_days_ago(fake, hidden, 3)
    _synced(store, ctx, fake)
    held = fake.orders.pop(hidden)

    def listing_without_it(request: httpx.Request) -> httpx.Response:
        looked_up = "id" in (json.loads(request.content).get("variables") or {})
        if looked_up:
            fake.orders[hidden] = held
        try:
            return fake.handler(request)
        finally:
            fake.orders.pop(hidden, None)

    client = httpx.Client(transport=httpx.MockTransport(listing_without_it))
    outcome = run_sync(store, fake.connector(client, page_size=PAGE), ctx, full=True)
    assert outcome.status == "ok", outcome.error
    assert not _deleted(store, "order", hidden)
    assert _retired_notes(outcome) == []


def test_an_incremental_sync_retires_nothing_and_looks_nothing_up(
    store: Store, ctx: IngestContext
) -> None:
    fake, gone = _shop_with_a_customer_without_orders()
    _synced(store, ctx, fake)
    del fake.customers[gone]
    before = len(fake.requests)
    outcome = run_sync(store, fake.connector(page_size=PAGE), ctx)
    assert (outcome.status, outcome.mode) == ("ok", "incremental"), outcome.error
    assert not _deleted(store, "customer", gone)
    assert _retired_notes(outcome) == []
    assert _lookups(fake, before) == []
    _next_second()
    full = run_sync(store, fake.connector(page_size=PAGE), ctx, full=True)  # the next full one
    assert full.status == "ok", full.error
    assert _deleted(store, "customer", gone)


@pytest.mark.parametrize("field", ["updatedAt", None], ids=["needed-field", "whole-node"])
def test_a_full_listing_that_skipped_withheld_nodes_retires_nothing(
    store: Store, ctx: IngestContext, field: str | None
) -> None:
    fake, gone = _shop_with_a_customer_without_orders()
    order_gone = next(iter(fake.orders))
    _synced(store, ctx, fake)
    del fake.customers[gone]
    del fake.orders[order_gone]
    # The listing's customers come without a field they cannot be stored without, and so
    # would a look-up by id (``fetch_one`` refuses it): nothing may be retired from it.
    fake.withheld = {("customers", field), ("customer", "updatedAt")}
    before = len(fake.requests)
    outcome = run_sync(store, fake.connector(page_size=PAGE), ctx, full=True)
    assert (outcome.status, outcome.mode) == ("ok", "full"), outcome.error
    assert not _deleted(store, "customer", gone)
    assert all(not _deleted(store, "customer", cid) for cid in fake.customers)
    assert any("those records were skipped" in note for note in outcome.notes)
    assert not _deleted(store, "order", order_gone)
    assert _retired_notes(outcome) == []
    assert _lookups(fake, before) == []


def _failing_after_first_request(fake: FakeShopify) -> httpx.Client:
    """A client to ``fake`` whose second request gets a fatal GraphQL error (the run stops
    after the first customers page is committed)."""
    seen = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        response = fake.handler(request)
        if seen == 1:
            fake.inject("graphql_error")
        return response

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_an_interrupted_full_sync_retires_nothing_until_its_listing_ends(
    store: Store, ctx: IngestContext
) -> None:
    """A plain sync after the interrupted ``--full`` one resumes its listing; once that listing
    reaches its end, the customers it never brought are looked up and retired."""
    fake, gone = _shop_with_a_customer_without_orders()
    _synced(store, ctx, fake)
    del fake.customers[gone]
    before = len(fake.requests)
    crashed = fake.connector(_failing_after_first_request(fake), page_size=PAGE)
    interrupted = run_sync(store, crashed, ctx, full=True)
    assert (interrupted.status, interrupted.mode, interrupted.pages) == ("failed", "full", 1)
    assert not _deleted(store, "customer", gone)
    assert _lookups(fake, before) == []
    _next_second()
    resumed = run_sync(store, fake.connector(page_size=PAGE), ctx)
    assert (resumed.status, resumed.mode) == ("ok", "incremental"), resumed.error
    assert _deleted(store, "customer", gone)
    assert all(not _deleted(store, "customer", cid) for cid in fake.customers)
    assert _retired_notes(resumed) == [
        "customers: 1 no longer in shopify since the last sync, retired"
    ]
    assert _lookups(fake, before) == [f"gid://shopify/Customer/{gone}"]
    _next_second()
    later = run_sync(store, fake.connector(page_size=PAGE), ctx)  # the note is gone with it
    assert later.status == "ok", later.error
    assert _retired_notes(later) == []
    assert _lookups(fake, before) == [f"gid://shopify/Customer/{gone}"]


def test_a_resumed_listing_whose_first_part_skipped_a_node_retires_nothing(
    store: Store, ctx: IngestContext
) -> None:
    """What the interrupted part withheld is not known to be gone: the listing it resumes is not
    whole, however whole its own pages are; the next ``--full`` sync retires."""
    fake, gone = _shop_with_a_customer_without_orders()
    _synced(store, ctx, fake)
    del fake.customers[gone]
    before = len(fake.requests)
    seen = 0

    def withholding_then_failing(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        fake.withheld = {("customers", "updatedAt")} if seen == 1 else set()
        if seen == 2:
            fake.inject("graphql_error")
        return fake.handler(request)

    client = httpx.Client(transport=httpx.MockTransport(withholding_then_failing))
    interrupted = run_sync(store, fake.connector(client, page_size=PAGE), ctx, full=True)
    assert (interrupted.status, interrupted.pages) == ("failed", 1)
    assert any("those records were skipped" in note for note in interrupted.notes)
    _next_second()
    resumed = run_sync(store, fake.connector(page_size=PAGE), ctx)
    assert resumed.status == "ok", resumed.error
    assert not _deleted(store, "customer", gone)
    assert _retired_notes(resumed) == []
    assert _lookups(fake, before) == []
    _next_second()
    full = run_sync(store, fake.connector(page_size=PAGE), ctx, full=True)
    assert full.status == "ok", full.error
    assert _deleted(store, "customer", gone)
    assert _lookups(fake, before) == [f"gid://shopify/Customer/{gone}"]


def test_a_retirement_cut_short_is_finished_by_the_next_sync(
    store: Store, ctx: IngestContext
) -> None:
    """The listing ended whole but the look-ups failed part-way: the next plain sync, whose
    listing goes on from the whole one, looks up what is left and retires it."""
    fake, gone = _shop_with_a_customer_without_orders()
    _synced(store, ctx, fake)
    del fake.customers[gone]
    before = len(fake.requests)

    def failing_lookups(request: httpx.Request) -> httpx.Response:
        if "id" in (json.loads(request.content).get("variables") or {}):
            fake.inject("graphql_error")
        return fake.handler(request)

    client = httpx.Client(transport=httpx.MockTransport(failing_lookups))
    cut = run_sync(store, fake.connector(client, page_size=PAGE), ctx, full=True)
    assert cut.status == "failed"
    assert not _deleted(store, "customer", gone)
    _next_second()
    finished = run_sync(store, fake.connector(page_size=PAGE), ctx)
    assert finished.status == "ok", finished.error
    assert _deleted(store, "customer", gone)
    assert _retired_notes(finished) == [
        "customers: 1 no longer in shopify since the last sync, retired"
    ]
    gid = f"gid://shopify/Customer/{gone}"
    assert _lookups(fake, before) == [gid, gid]
