"""Shopify ``shop/redact``: everything held from the shop is deleted, other sources' data stays.

Shopify sends it 48 hours after a shop uninstalled the app; the app must then delete the shop's
customer data. People the shop shared with other sources keep their profile without the shop's
records; people known only from the shop are gone; nothing is suppressed (a new install may
bring them back) and the shop's cursors are forgotten, so a new install starts with a backfill.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from context_service.errors import WebhookRejected
from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.sync import IngestContext, RawPayload, apply_pending, ingest_batch, receive
from tests.integrations.shopify.fake import SHOP, FakeShopify
from tests.payloads import shopify_customer, shopify_order, stripe_customer

URL = "https://context.example/v1/webhooks/shopify"
NOW = datetime(2026, 11, 20, 0, 1, tzinfo=UTC).timestamp()


def _load(store: Store, ctx: IngestContext) -> None:
    ingest_batch(
        store,
        [
            RawPayload(*shopify_customer(1, "ann.lee@example.com", "Ann", "Lee")),
            RawPayload(*shopify_order(55, 1, "#1001", "2026-11-01T00:00:00Z")),
            RawPayload(*stripe_customer("cus_ann", "ann.lee@example.com", "Ann Lee")),
            RawPayload(*shopify_customer(2, "bo.park@example.com", "Bo", "Park")),
        ],
        ctx,
    )
    with store.transaction() as conn:
        cursor_store.set_cursor(conn, "shopify", "customers", "2026-11-19T00:00:00Z", "now")


def _redact(store: Store, ctx: IngestContext, domain: str) -> None:
    fake = FakeShopify()
    body = {"shop_id": 954889, "shop_domain": domain}
    headers, raw = fake.signed("shop/redact", body, triggered_at="2026-11-20T00:00:00Z")
    headers["X-Shopify-Shop-Domain"] = domain
    receive(store, fake.connector(), headers, raw, URL, NOW)
    apply_pending(store, {"shopify": fake.connector()}, ctx)


def _count(store: Store, sql: str) -> int:
    return int(store.conn.execute(sql).fetchone()[0])


def test_the_shops_records_go_and_the_other_sources_stay(store: Store, ctx: IngestContext) -> None:
    _load(store, ctx)
    ann = store.conn.execute(
        "SELECT m.profile_id FROM profile_members m JOIN records r ON r.id = m.record_id "
        "WHERE r.source = 'stripe'"
    ).fetchone()[0]
    assert _count(store, "SELECT count(*) FROM profiles") == 2
    _redact(store, ctx, f"{SHOP}.myshopify.com")
    assert _count(store, "SELECT count(*) FROM records WHERE source = 'shopify'") == 0
    assert _count(store, "SELECT count(*) FROM profiles") == 1  # Bo was only the shop's
    members = store.conn.execute(
        "SELECT r.source FROM profile_members m JOIN records r ON r.id = m.record_id "
        "WHERE m.profile_id = ?",
        (ann,),
    ).fetchall()
    assert members == [("stripe",)]
    snapshot = store.conn.execute("SELECT json FROM snapshots WHERE profile_id = ?", (ann,))
    assert b"1001" not in snapshot.fetchone()[0]
    assert (
        _count(store, "SELECT count(*) FROM identifiers WHERE value = 'bo.park@example.com'") == 0
    )
    assert _count(store, "SELECT count(*) FROM suppressions") == 0
    assert cursor_store.cursors_of(store.conn, "shopify") == {}


def test_a_redaction_for_another_shop_deletes_nothing(store: Store, ctx: IngestContext) -> None:
    _load(store, ctx)
    with pytest.raises(WebhookRejected, match="not the one this service syncs"):
        _redact(store, ctx, "someone-else.myshopify.com")
    assert _count(store, "SELECT count(*) FROM records WHERE source = 'shopify'") == 3
    assert _count(store, "SELECT count(*) FROM webhook_inbox") == 0  # refused, not stored
