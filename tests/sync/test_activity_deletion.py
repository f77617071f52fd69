"""A deleted order, invoice, deal or ticket leaves its customer's snapshot at once.

A vendor's deletion notice often carries only the id (Shopify ``orders/delete``, a HubSpot deal
deletion): nothing in it says the record is an activity rather than a person. It is whatever
the stored copy it deletes was, so the owners' snapshots are rebuilt without it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, apply_pending, ingest_batch, receive
from tests.integrations.shopify.fake import FakeShopify
from tests.payloads import shopify_customer, shopify_order

URL = "https://context.example/v1/webhooks/shopify"
NOW = datetime(2026, 11, 20, 0, 1, tzinfo=UTC).timestamp()


def _orders(store: Store) -> tuple[int, list[str]]:
    """The one profile's snapshot version and the order numbers it shows."""
    blob, version = store.conn.execute("SELECT json, version FROM snapshots").fetchone()
    orders = msgspec.json.decode(blob).get("commerce", {}).get("orders", [])
    return int(version), [str(order["number"]) for order in orders]


def _ann_with_orders(store: Store, ctx: IngestContext) -> None:
    ingest_batch(
        store,
        [
            RawPayload(*shopify_customer(1, "ann.lee@example.com", "Ann", "Lee")),
            RawPayload(*shopify_order(55, 1, "#1001", "2026-11-01T00:00:00Z")),
            RawPayload(*shopify_order(56, 1, "#1002", "2026-11-02T00:00:00Z")),
        ],
        ctx,
    )


def _delete_order(external_id: int, at: str) -> RawPayload:
    return RawPayload("shopify", "order", {"id": external_id}, observed_at=at, deleted=True)


def test_an_order_deleted_by_id_leaves_the_snapshot(store: Store, ctx: IngestContext) -> None:
    _ann_with_orders(store, ctx)
    version, shown = _orders(store)
    assert sorted(shown) == ["1001", "1002"]
    report = ingest_batch(store, [_delete_order(55, "2026-11-20T00:00:00Z")], ctx)
    assert report.profiles_changed == 1
    after, shown = _orders(store)
    assert shown == ["1002"]
    assert after > version
    refs = store.conn.execute(
        "SELECT count(*) FROM activity_refs WHERE value IN ('1001', '#1001')"
    ).fetchone()[0]
    assert refs == 0  # a quoted #1001 no longer finds Ann


def test_a_restored_order_comes_back(store: Store, ctx: IngestContext) -> None:
    _ann_with_orders(store, ctx)
    ingest_batch(store, [_delete_order(55, "2026-11-20T00:00:00Z")], ctx)
    _, order = shopify_order(55, 1, "#1001", "2026-11-01T00:00:00Z")[1:]
    restored: dict[str, Any] = {**order, "updated_at": "2026-11-21T00:00:00Z"}
    ingest_batch(store, [RawPayload("shopify", "order", restored)], ctx)
    assert sorted(_orders(store)[1]) == ["1001", "1002"]


def test_a_shopify_orders_delete_webhook_leaves_the_context(
    store: Store, ctx: IngestContext
) -> None:
    _ann_with_orders(store, ctx)
    fake = FakeShopify()
    connector = fake.connector()
    headers, raw = fake.signed("orders/delete", {"id": 56}, triggered_at="2026-11-20T00:00:00Z")
    assert receive(store, connector, headers, raw, URL, NOW).status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx) == 1
    assert _orders(store)[1] == ["1001"]
