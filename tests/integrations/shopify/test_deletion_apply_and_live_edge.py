"""Shopify deletions are confirmed when applied, not while Shopify waits for the
answer; a tied order webhook is fetched once; the live-edge cursor neither loops nor skips.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store import inbox as inbox_store
from context_service.store.records import get_record
from context_service.sync import IngestContext, apply_pending, run_sync
from integrations._connector import Page, Stream
from integrations.shopify import ShopifyConnector
from integrations.shopify.graphql import order_to_rest
from tests.integrations.shopify.fake import FakeShopify, iso
from tests.review_fixtures import receive_shopify

TOPIC_KINDS = [("customers/delete", "customer"), ("orders/delete", "order")]


def _graphql_calls(fake: FakeShopify) -> int:
    return sum(1 for r in fake.requests if r.url.path.endswith("graphql.json"))


def _stored(store: Store, kind: str, external_id: int) -> tuple[bool, str | None]:
    """(deleted, updated_at) of the stored record."""
    record = get_record(store.conn, RecordKey("shopify", kind, str(external_id)))
    assert record is not None
    return record.deleted, record.updated_at


def _synced_shop(store: Store, ctx: IngestContext) -> tuple[FakeShopify, ShopifyConnector]:
    """A shop with one customer and one order of hers, synced into ``store``."""
    fake = FakeShopify()
    fake.add_customers(1)
    fake.add_orders(1)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    return fake, connector


def _only_id(table: dict[int, dict[str, Any]]) -> int:
    (found,) = table
    return found


# --- 1. a deletion is confirmed with Shopify when applied ---------------------------------------


@pytest.mark.parametrize(("topic", "kind"), TOPIC_KINDS)
def test_receiving_a_deletion_calls_no_vendor(
    store: Store, ctx: IngestContext, topic: str, kind: str
) -> None:
    """Shopify waits 5 seconds for the answer: receiving only verifies and stores."""
    fake, connector = _synced_shop(store, ctx)
    external_id = _only_id(fake.customers if kind == "customer" else fake.orders)
    fake.requests.clear()
    now = datetime(2026, 1, 6, 12, 0, tzinfo=UTC).timestamp()
    status = receive_shopify(
        store, connector, fake, topic, {"id": external_id}, triggered_at=now - 30, now=now
    )
    assert status == "accepted"
    assert fake.requests == []


@pytest.mark.parametrize(("topic", "kind"), TOPIC_KINDS)
def test_a_deletion_received_while_shopify_is_down_is_applied_once_it_answers(
    store: Store, ctx: IngestContext, topic: str, kind: str
) -> None:
    """A 503 while confirming the deletion keeps it pending and retried, never rejected as
    unreadable (a rejected deletion is lost: Shopify does not send it again once answered)."""
    fake, connector = _synced_shop(store, ctx)
    table = fake.customers if kind == "customer" else fake.orders
    external_id = _only_id(table)
    del table[external_id]  # deleted in Shopify
    now = datetime(2026, 1, 6, 12, 0, tzinfo=UTC).timestamp()
    fake.inject(503, times=connector.http.policy.max_attempts)
    status = receive_shopify(
        store, connector, fake, topic, {"id": external_id}, triggered_at=now - 30, now=now
    )
    assert status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx, now=now) == 0
    assert [row.topic for row in inbox_store.pending(store.conn, 10)] == [topic]
    assert _stored(store, kind, external_id)[0] is False
    assert apply_pending(store, {"shopify": connector}, ctx, now=now + 3600) == 1
    assert _stored(store, kind, external_id)[0] is True


def test_a_captured_update_resent_as_a_deletion_leaves_the_live_customer(
    store: Store, ctx: IngestContext
) -> None:
    """Shopify signs the body, not the topic: the customer Shopify still has stays live."""
    fake, connector = _synced_shop(store, ctx)
    customer_id = _only_id(fake.customers)
    now = datetime(2026, 1, 6, 12, 0, tzinfo=UTC).timestamp()
    body = {"id": customer_id, "email": "someone@example.com", "updated_at": iso(datetime.now(UTC))}
    status = receive_shopify(
        store, connector, fake, "customers/delete", body, triggered_at=now - 30, now=now
    )
    assert status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx, now=now) == 1
    deleted, updated_at = _stored(store, "customer", customer_id)
    assert not deleted
    assert updated_at == fake.customers[customer_id]["updatedAt"]


# --- 2. a tied order webhook is fetched once -----------------------------------------------------


def test_an_order_webhook_tied_with_the_stored_order_fetches_it_once(
    store: Store, ctx: IngestContext
) -> None:
    """The delivery already refetches the order; settling the tie must not fetch it again."""
    fake, connector = _synced_shop(store, ctx)
    order_id = _only_id(fake.orders)
    stored_at = _stored(store, "order", order_id)[1]
    body = order_to_rest(fake.orders[order_id])
    body.pop("display_fulfillment_status", None)  # a REST body: not the stored GraphQL copy
    body["note"] = "a note only the webhook body carries"
    assert body["updated_at"] == stored_at  # the same second as the stored copy
    moment = datetime.fromisoformat(str(stored_at).replace("Z", "+00:00"))
    now = (moment + timedelta(minutes=1)).timestamp()
    status = receive_shopify(
        store, connector, fake, "orders/updated", body, triggered_at=moment, now=now
    )
    assert status == "accepted"
    fake.requests.clear()
    assert apply_pending(store, {"shopify": connector}, ctx, now=now) == 1
    assert _graphql_calls(fake) == 1
    record = get_record(store.conn, RecordKey("shopify", "order", str(order_id)))
    assert record is not None
    assert "a note only the webhook body carries" not in record.payload  # Shopify's copy won


def test_a_tied_order_webhook_for_an_order_shopify_no_longer_has_is_not_applied(
    store: Store, ctx: IngestContext
) -> None:
    """The refetch found nothing: the tied body is left out, as settling it would have."""
    fake, connector = _synced_shop(store, ctx)
    order_id = _only_id(fake.orders)
    stored_at = _stored(store, "order", order_id)[1]
    body = order_to_rest(fake.orders[order_id])
    body["note"] = "a note only the webhook body carries"
    del fake.orders[order_id]
    moment = datetime.fromisoformat(str(stored_at).replace("Z", "+00:00"))
    now = (moment + timedelta(minutes=1)).timestamp()
    status = receive_shopify(
        store, connector, fake, "orders/updated", body, triggered_at=moment, now=now
    )
    assert status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx, now=now) == 1
    record = get_record(store.conn, RecordKey("shopify", "order", str(order_id)))
    assert record is not None
    assert "a note only the webhook body carries" not in record.payload


# --- 3. the live-edge cursor ----------------------------------------------------------------------


SECOND = "2026-01-05T09:30:00Z"


def _stream(fake: FakeShopify, clock: Callable[[], float], page_size: int) -> Stream:
    connector = fake.connector(page_size=page_size, clock=clock)
    (found,) = [s for s in connector.streams() if s.name == "customers"]
    return found


def _clock_after(moment_iso: str, seconds: float) -> Callable[[], float]:
    moment = datetime.fromisoformat(moment_iso.replace("Z", "+00:00"))
    return lambda: moment.timestamp() + seconds


def _shop_with_one_busy_second(n: int) -> tuple[FakeShopify, list[int]]:
    """``n`` customers all updated in ``SECOND`` (a bulk edit)."""
    fake = FakeShopify()
    ids = fake.add_customers(n)
    fake.touch("customer", ids, SECOND)
    return fake, ids


def _ids(pages: list[Page]) -> list[int]:
    return [o.payload["id"] for p in pages for o in p.objects]


def _since(page: Page) -> str | None:
    since: str | None = json.loads(page.cursor or "{}").get("since")
    return since


def test_more_than_a_page_in_one_live_second_is_read_once_per_run_and_the_run_ends() -> None:
    fake, ids = _shop_with_one_busy_second(25)
    clock = _clock_after(SECOND, 5)
    first = list(_stream(fake, clock, 10).pages(None))
    assert sorted(_ids(first)) == sorted(ids)  # each once: no page read twice in the run
    assert len(first) == 3
    again = list(_stream(fake, clock, 10).pages(first[-1].cursor))
    assert sorted(_ids(again)) == sorted(ids)  # the live second is read again, and ends
    assert _since(again[-1]) == SECOND


def test_a_run_resumed_inside_a_busy_live_second_keeps_a_smaller_id_updated_meanwhile() -> None:
    fake, ids = _shop_with_one_busy_second(25)
    clock = _clock_after(SECOND, 5)
    pages = _stream(fake, clock, 10).pages(None)
    committed = [next(pages), next(pages)]  # interrupted after two pages of the busy second
    fake.customers[ids[0]]["note"] = "changed in the same second"
    resumed = list(_stream(fake, clock, 10).pages(committed[-1].cursor))
    seen = [o.payload for p in resumed for o in p.objects]
    assert any(p["id"] == ids[0] and p.get("note") == "changed in the same second" for p in seen)
    assert set(_ids(committed + resumed)) == set(ids)


def test_a_record_updated_at_a_later_live_boundary_during_the_run_is_read_by_the_next() -> None:
    """Two live pages ending in two seconds; a record moved into the second boundary's second
    (with the smallest id) after that page was read is read by the next run."""
    fake = FakeShopify()
    ids = fake.add_customers(6)
    clock = _clock_after(fake.customers[ids[-1]]["updatedAt"], 1)
    pages = _stream(fake, clock, 2).pages(None)
    seen = [next(pages), next(pages)]
    boundary = fake.customers[ids[3]]["updatedAt"]
    fake.touch("customer", [ids[0]], boundary)
    seen += list(pages)
    following = list(_stream(fake, clock, 2).pages(seen[-1].cursor))
    versions = {(o.payload["id"], o.payload["updated_at"]) for p in following for o in p.objects}
    assert (ids[0], boundary) in versions


def test_a_run_behind_the_live_edge_that_ends_in_a_busy_second_is_not_reread_forever() -> None:
    """Once the busy second is long past, a run that finds nothing newer reads nothing more
    than that second again, and each run ends."""
    fake, _ = _shop_with_one_busy_second(25)
    clock = _clock_after(SECOND, 86_400)
    cursor = None
    for _ in range(3):
        pages = list(_stream(fake, clock, 10).pages(cursor))
        assert len(pages) <= 3
        cursor = pages[-1].cursor
    assert _since(pages[-1]) == SECOND
