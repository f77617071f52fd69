"""A sync page read just before a change of the same second never overwrites that change.

A review reproduced it against a real ``serve``: Shopify listed a customer as "Bea" (updated at
T2); within the same second she became "Cleo" (still T2) and the ``customers/update`` webhook
was applied; only then did the sync commit the "Bea" page it had read. The two copies carry one
date, so the last to arrive won and the context served "Bea" until a later sync re-read the
second. The webhook applier already asks the vendor when copies tie; the sync runner now does
the same.

Payload shapes: the Shopify Admin GraphQL ``customers`` connection and ``customer(id:)`` node as
``FakeShopify`` serves them (see the Shopify section of ``shared/refdata/NOTES.md``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext, RawPayload, ingest_batch, run_sync
from context_service.sync.ties import contested, settle_ties
from integrations.shopify import graphql
from tests.another_writer import AfterFirstCall, ingest_elsewhere
from tests.integrations.shopify.fake import FakeShopify


def _first_name(store: Store, customer_id: int) -> object:
    record = get_record(store.conn, RecordKey("shopify", "customer", str(customer_id)))
    assert record is not None
    return json.loads(record.payload)["first_name"]


def _lookups_since(fake: FakeShopify, since: int) -> list[str]:
    """The gids asked for one by one (``customer(id:)``) since request ``since``."""
    bodies = [json.loads(request.content) for request in fake.requests[since:]]
    return [str(b["variables"]["id"]) for b in bodies if "id" in (b.get("variables") or {})]


def _ada_synced_then_bea(store: Store, ctx: IngestContext) -> tuple[FakeShopify, int]:
    """A customer synced as "Ada" ten minutes ago, whom Shopify has since renamed "Bea" (two
    minutes ago): the next sync lists "Bea"."""
    fake = FakeShopify()
    (cid,) = fake.add_customers(1)
    now = datetime.now(UTC).replace(microsecond=0)
    fake.customers[cid]["firstName"] = "Ada"
    fake.touch("customer", [cid], now - timedelta(minutes=10))
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    fake.customers[cid]["firstName"] = "Bea"
    fake.touch("customer", [cid], now - timedelta(minutes=2))
    return fake, cid


def test_a_page_read_before_a_same_second_webhook_does_not_overwrite_it(
    store: Store, ctx: IngestContext
) -> None:
    fake, cid = _ada_synced_then_bea(store, ctx)
    webhook_applied = False

    def change_after_the_listing(request: httpx.Request) -> httpx.Response:
        """Serve the request; right after the listing that shows "Bea", Shopify makes her
        "Cleo" in the same second and that change's webhook is applied (by another process:
        its own connection to the store)."""
        nonlocal webhook_applied
        response = fake.handler(request)
        if not webhook_applied and "customers(" in json.loads(request.content)["query"]:
            webhook_applied = True
            fake.customers[cid]["firstName"] = "Cleo"
            rest = graphql.to_rest("customer", fake.customers[cid])
            ingest_elsewhere(store, [RawPayload("shopify", "customer", rest)], ctx)
        return response

    client = httpx.Client(transport=httpx.MockTransport(change_after_the_listing))
    before = len(fake.requests)
    outcome = run_sync(store, fake.connector(client), ctx)
    assert outcome.status == "ok", outcome.error
    assert webhook_applied
    assert _first_name(store, cid) == "Cleo"
    assert _lookups_since(fake, before) == [f"gid://shopify/Customer/{cid}"]


def test_a_same_second_change_stored_after_the_pages_tie_check_is_not_overwritten(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window after the tie check: the page showing "Bea" found no tie (the stored copy
    was older), then the webhook of the same second's change to "Cleo" was stored, then the
    page was written. The page is settled again in its transaction, so Shopify is asked."""
    fake, cid = _ada_synced_then_bea(store, ctx)

    def check_then_the_webhook_lands() -> None:
        fake.customers[cid]["firstName"] = "Cleo"
        rest = graphql.to_rest("customer", fake.customers[cid])
        ingest_elsewhere(store, [RawPayload("shopify", "customer", rest)], ctx)

    wrapped = AfterFirstCall(settle_ties, check_then_the_webhook_lands)

    monkeypatch.setattr("context_service.sync.runner.settle_ties", wrapped)
    before = len(fake.requests)
    outcome = run_sync(store, fake.connector(), ctx)
    assert outcome.status == "ok", outcome.error
    assert wrapped.happened
    assert _first_name(store, cid) == "Cleo"
    assert _lookups_since(fake, before) == [f"gid://shopify/Customer/{cid}"]


def test_a_page_that_ties_with_identical_content_asks_nothing(
    store: Store, ctx: IngestContext
) -> None:
    """A page that shows the stored copy again (the boundary second read twice) is no tie."""
    fake = FakeShopify()
    fake.add_customers(3)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    before = len(fake.requests)
    assert run_sync(store, fake.connector(), ctx, full=True).status == "ok"
    assert _lookups_since(fake, before) == []


def test_copies_of_one_second_that_map_alike_are_no_tie(store: Store, ctx: IngestContext) -> None:
    """A webhook's refetch and a sync page may bring one object in two shapes: a field the
    mapping does not read differs, nothing the snapshot holds does. Asking the vendor again for
    each such record would cost a call per record in every sync after its webhooks."""
    fake = FakeShopify()
    (cid,) = fake.add_customers(1)
    rest = graphql.to_rest("customer", fake.customers[cid])
    ingest_batch(store, [RawPayload("shopify", "customer", rest)], ctx)
    reshaped = {**rest, "accepts_marketing_updated_at": "2026-01-05T09:00:00Z"}
    renamed = {**rest, "first_name": "Cleo"}
    items = [RawPayload("shopify", "customer", p) for p in (rest, reshaped, renamed)]
    assert sorted(contested(store.conn, items, ctx)) == [2]


def test_each_record_of_a_page_is_mapped_once(store: Store, ctx: IngestContext) -> None:
    """The tie check maps a page to compare it with the stored copies; ingest takes those
    mappings as they are instead of mapping every record a second time."""
    mapped: list[str] = []
    shopify = ctx.mappers["shopify"]

    def counting(kind: str, payload: Any) -> Any:
        mapped.append(f"{kind}:{payload['id']}")
        return shopify(kind, payload)

    counted = msgspec.structs.replace(ctx, mappers={**ctx.mappers, "shopify": counting})
    fake = FakeShopify()
    fake.add_customers(3)
    assert run_sync(store, fake.connector(), counted).status == "ok"
    assert len(mapped) == 3
    assert len(set(mapped)) == 3
