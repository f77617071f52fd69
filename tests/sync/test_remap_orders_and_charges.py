"""Migration 0036 maps the stored Shopify orders and Stripe charges again (``sync.remap``): the
release before it counted a test order as the customer's, read a refund that gave no money
back as a refund, and called a charge not captured "succeeded". An identical copy fetched
again keeps its stored mapped form, so without the migration those stayed as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from context_service.models import Mapped, Order
from context_service.store import Store
from context_service.store.records import decode_mapped
from context_service.sync import IngestContext, RawPayload, drain_snapshots, ingest_batch
from context_service.sync.remap import queued, remap_queued
from integrations.shopify import map_record as map_shopify
from tests.audience.helpers import snapshot_of
from tests.payloads import shopify_customer, shopify_order

EMAIL = "ann.lee@example.com"


def _as_before_the_fix(kind: str, payload: dict[str, Any]) -> Mapped:
    """Shopify's mapping as the release before the fix made it: a test order was an order."""
    mapped = map_shopify(kind, payload)
    if isinstance(mapped.activity, Order):
        return msgspec.structs.replace(
            mapped, activity=msgspec.structs.replace(mapped.activity, test=False)
        )
    return mapped


def test_a_stored_test_order_leaves_the_snapshot_after_the_upgrade(
    tmp_path: Path, ctx: IngestContext
) -> None:
    source, kind, test_order = shopify_order(12, 1, "#1002", "2026-11-20T10:00:00Z", total="9.00")
    test_order["test"] = True
    path = tmp_path / "old.db"
    old = msgspec.structs.replace(ctx, mappers={**ctx.mappers, "shopify": _as_before_the_fix})
    store = Store(path)
    try:
        items = [shopify_customer(1, EMAIL, "Ann", "Lee"), (source, kind, test_order)]
        ingest_batch(store, [RawPayload(*item) for item in items], old)
        assert snapshot_of(store, EMAIL).commerce.order_count == 1  # as that release left it
        with store.transaction() as conn:
            conn.execute("DELETE FROM _migrations WHERE name = '0036_remap_orders_and_charges'")
    finally:
        store.close()
    store = Store(path)  # applies 0036
    try:
        assert queued(store.conn) == [("shopify", "order")]
        assert remap_queued(store, ctx) == 1
        drain_snapshots(store, ctx)
        (mapped,) = store.conn.execute(
            "SELECT mapped FROM records WHERE source = 'shopify' AND kind = 'order'"
        ).fetchone()
        remapped = decode_mapped(mapped)
        assert remapped is not None
        order = remapped.activity
        assert isinstance(order, Order)
        assert order.test
        assert snapshot_of(store, EMAIL).commerce.order_count == 0
        assert queued(store.conn) == []
    finally:
        store.close()
