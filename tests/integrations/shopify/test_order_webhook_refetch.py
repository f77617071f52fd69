"""Shopify ``orders/*`` webhooks keep what only the GraphQL order says.

Sync reads orders through GraphQL, which says why an unfulfilled order waits
(``displayFulfillmentStatus: ON_HOLD`` -> ``fulfillment_detail``); an ``orders/*`` webhook
carries the REST order, which does not. Applying the body alone replaced the synced order with
one that no longer said "on hold". The order is now also fetched fresh through GraphQL when the
delivery is applied, and that copy, being Shopify's current one, is what stays stored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest

from context_service.models import Order, RecordKey
from context_service.store import Store
from context_service.store import inbox as inbox_store
from context_service.store.records import get_record
from context_service.sync import IngestContext, apply_pending, run_sync
from integrations.shopify import ShopifyConnector
from integrations.shopify.connector import MAX_ORDERS_FIRST
from integrations.shopify.graphql import ORDER_FIELDS, order_to_rest
from tests.integrations.shopify.fake import FakeShopify, iso
from tests.review_fixtures import receive_shopify

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/cancelled",
)
# What the GraphQL conversion adds that a REST ``orders/*`` body never carries.
_GRAPHQL_ONLY = (
    "display_fulfillment_status",
    "line_items_has_next_page",
    "current_subtotal_line_items_quantity",
)


def _shop_with_an_order_on_hold() -> tuple[FakeShopify, int]:
    """A fake shop with one customer and one unfulfilled order that is on hold."""
    fake = FakeShopify()
    fake.add_customers(1)
    (order_id,) = fake.add_orders(1)
    order = fake.orders[order_id]
    order.update(displayFulfillmentStatus="ON_HOLD", closedAt=None, fulfillments=[])
    return fake, order_id


def _rest_body(fake: FakeShopify, order_id: int) -> dict[str, Any]:
    """The order as an ``orders/*`` webhook carries it: REST fields only, no hold reason."""
    body = order_to_rest(fake.orders[order_id])
    for field in _GRAPHQL_ONLY:
        body.pop(field, None)
    return body


def _change(fake: FakeShopify, order_id: int, note: str, at: datetime) -> None:
    """Shopify changes the order (a new note) at ``at``."""
    fake.orders[order_id]["note"] = note
    fake.touch("order", [order_id], at)


def _stored_order(store: Store, order_id: int) -> tuple[str | None, Order | None, bool]:
    """The stored order's ``updated_at``, mapped ``Order`` and whether it is deleted."""
    record = get_record(store.conn, RecordKey("shopify", "order", str(order_id)))
    assert record is not None
    activity = record.mapped.activity if record.mapped is not None else None
    return record.updated_at, activity if isinstance(activity, Order) else None, record.deleted


def _deliver(
    store: Store,
    connector: ShopifyConnector,
    fake: FakeShopify,
    topic: str,
    body: dict[str, Any],
    at: datetime,
) -> None:
    """Receive a signed delivery triggered at ``at`` (``now`` a minute later)."""
    now = (at + timedelta(minutes=1)).timestamp()
    assert (
        receive_shopify(store, connector, fake, topic, body, triggered_at=at, now=now) == "accepted"
    )


@pytest.fixture
def synced(store: Store, ctx: IngestContext) -> tuple[FakeShopify, int, ShopifyConnector]:
    """A shop whose order on hold has been synced into ``store``."""
    fake, order_id = _shop_with_an_order_on_hold()
    connector = fake.connector()
    run_sync(store, connector, ctx)
    _, order, _ = _stored_order(store, order_id)
    assert order is not None
    assert order.fulfillment_detail == "on_hold"
    return fake, order_id, connector


# --- the defect: a webhook dropped "on hold" ------------------------------------------------------


@pytest.mark.parametrize("topic", ORDER_TOPICS)
def test_an_order_webhook_asks_for_the_order_fresh_from_graphql(topic: str) -> None:
    fake, order_id = _shop_with_an_order_on_hold()
    delivery = fake.connector().parse_webhook(*fake.signed(topic, _rest_body(fake, order_id)))
    assert delivery.refetch == [("order", str(order_id))]


def test_an_orders_updated_webhook_keeps_the_hold_the_sync_stored(
    store: Store, ctx: IngestContext, synced: tuple[FakeShopify, int, ShopifyConnector]
) -> None:
    """The order is still on hold in Shopify; a note added to it must not make the
    context forget the hold."""
    fake, order_id, connector = synced
    later = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
    _change(fake, order_id, "Customer called about the delay", later)
    _deliver(store, connector, fake, "orders/updated", _rest_body(fake, order_id), later)
    assert apply_pending(store, {"shopify": connector}, ctx) == 1
    updated_at, order, deleted = _stored_order(store, order_id)
    assert not deleted
    assert updated_at == iso(later)
    assert order is not None
    assert order.fulfillment_detail == "on_hold"


def test_a_refetch_shopify_cannot_answer_leaves_the_delivery_pending_not_the_body_applied(
    store: Store, ctx: IngestContext, synced: tuple[FakeShopify, int, ShopifyConnector]
) -> None:
    """A 503 on the refetch follows the delivery rules (``RetriableError``: pending, tried
    later); the body alone is not applied meanwhile, so the stored hold stays."""
    fake, order_id, connector = synced
    later = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
    _change(fake, order_id, "Customer called about the delay", later)
    _deliver(store, connector, fake, "orders/updated", _rest_body(fake, order_id), later)
    fake.inject(503, times=connector.http.policy.max_attempts)
    now = later.timestamp() + 120
    assert apply_pending(store, {"shopify": connector}, ctx, now=now) == 0
    assert [row.topic for row in inbox_store.pending(store.conn, 10)] == ["orders/updated"]
    before_updated_at, order, _ = _stored_order(store, order_id)
    assert before_updated_at != iso(later)
    assert order is not None
    assert order.fulfillment_detail == "on_hold"
    assert apply_pending(store, {"shopify": connector}, ctx, now=now + 3600) == 1
    updated_at, order, _ = _stored_order(store, order_id)
    assert updated_at == iso(later)
    assert order is not None
    assert order.fulfillment_detail == "on_hold"


# --- what must not change: ordering and deletions ----------------------------------------------


def test_an_older_order_webhook_delivered_late_does_not_replace_the_newer_order(
    store: Store, ctx: IngestContext, synced: tuple[FakeShopify, int, ShopifyConnector]
) -> None:
    fake, order_id, connector = synced
    first, second = (datetime(2026, 1, 6, h, 0, tzinfo=UTC) for h in (10, 12))
    _change(fake, order_id, "first note", first)
    old_body = _rest_body(fake, order_id)
    _change(fake, order_id, "second note", second)
    _deliver(store, connector, fake, "orders/updated", _rest_body(fake, order_id), second)
    _deliver(store, connector, fake, "orders/updated", old_body, first)
    assert apply_pending(store, {"shopify": connector}, ctx) == 2
    updated_at, order, _ = _stored_order(store, order_id)
    assert updated_at == iso(second)
    record = get_record(store.conn, RecordKey("shopify", "order", str(order_id)))
    assert record is not None
    assert "second note" in record.payload
    assert order is not None
    assert order.fulfillment_detail == "on_hold"


def test_a_deleted_order_stays_deleted_when_a_late_update_arrives(
    store: Store, ctx: IngestContext, synced: tuple[FakeShopify, int, ShopifyConnector]
) -> None:
    """The refetch of a deleted order finds nothing; neither it nor the late body brings the
    order back, and the deletion notice itself asks for no refetch."""
    fake, order_id, connector = synced
    update_at, delete_at = (datetime(2026, 1, 6, h, 0, tzinfo=UTC) for h in (10, 11))
    _change(fake, order_id, "before deletion", update_at)
    late_body = _rest_body(fake, order_id)
    del fake.orders[order_id]
    headers, raw = fake.signed("orders/delete", {"id": order_id}, triggered_at=delete_at)
    assert connector.parse_webhook(headers, raw).refetch == []
    _deliver(store, connector, fake, "orders/delete", {"id": order_id}, delete_at)
    _deliver(store, connector, fake, "orders/updated", late_body, update_at)
    assert apply_pending(store, {"shopify": connector}, ctx) == 2
    _, _, deleted = _stored_order(store, order_id)
    assert deleted


def test_receiving_an_order_webhook_calls_no_vendor(
    store: Store, synced: tuple[FakeShopify, int, ShopifyConnector]
) -> None:
    """The refetch happens when the delivery is applied, never on the request path (Shopify
    waits 5 seconds for the answer)."""
    fake, order_id, connector = synced
    later = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
    _change(fake, order_id, "a note", later)
    fake.requests.clear()
    _deliver(store, connector, fake, "orders/updated", _rest_body(fake, order_id), later)
    assert fake.requests == []


# --- the order query's cost ----------------------------------------------------------------------


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[(){}:$!]")


class _Field(NamedTuple):
    name: str
    first: int | None
    children: list[_Field]


def _selection(tokens: list[str], i: int) -> tuple[list[_Field], int]:
    """The fields of a selection set starting at ``tokens[i]``, and the index after it."""
    fields: list[_Field] = []
    while i < len(tokens) and tokens[i] != "}":
        name, i, first = tokens[i], i + 1, None
        if i < len(tokens) and tokens[i] == "(":
            close = tokens.index(")", i)
            args = tokens[i + 1 : close]
            if "first" in args:
                first = int(args[args.index("first") + 2])
            i = close + 1
        children: list[_Field] = []
        if i < len(tokens) and tokens[i] == "{":
            children, i = _selection(tokens, i + 1)
            i += 1  # the closing brace
        fields.append(_Field(name, first, children))
    return fields, i


def _cost(field: _Field) -> int:
    """Shopify's documented rule: a scalar or enum 0, an object 1 plus what it selects, a
    connection 2 plus ``first`` times its node (``pageInfo`` counted in the 2)."""
    if not field.children:
        return 0
    if field.first is not None:
        (nodes,) = [child for child in field.children if child.name == "nodes"]
        return 2 + field.first * _cost(nodes)
    return 1 + sum(_cost(child) for child in field.children)


def test_an_orders_page_stays_under_shopifys_single_query_limit() -> None:
    """Shopify refuses a query whose requested cost exceeds 1,000 points; the orders page
    asks ``2 + MAX_ORDERS_FIRST x`` (one order node and everything under it)."""
    fields, _ = _selection(_TOKEN.findall(ORDER_FIELDS), 0)
    node = _cost(_Field("order", None, fields))
    assert node >= 20  # the order and its money bag, customer, 10 line items, fulfillments...
    assert 2 + MAX_ORDERS_FIRST * node <= 1000
