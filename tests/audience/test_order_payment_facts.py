"""What audiences read about orders and payments: partial refunds of a charge,
removed order lines, orders on hold, and order lines the sync did not read."""

from __future__ import annotations

from typing import Any

import pytest

from context_service.audience.facts import Fact, snapshot_facts
from context_service.audience.policy import View
from context_service.audience.segments import as_text
from context_service.audience.wording import money
from context_service.models import (
    BillingSection,
    Charge,
    CommerceSection,
    Dispute,
    LineItem,
    Order,
    Snapshot,
    Subscription,
)
from integrations.shopify import map_order
from integrations.shopify.graphql import connection_query, node_query, order_to_rest
from tests.integrations.refdata import shopify_case
from tests.snapshots import bare_snapshot

EVERYTHING = View(contact="full", hidden=frozenset())


def _facts(snap: Snapshot, kind_prefix: str) -> list[Fact]:
    return [f for f in snapshot_facts(snap, EVERYTHING) if f.kind.startswith(kind_prefix)]


def _order_line(order: Order) -> str:
    snap = bare_snapshot(commerce=CommerceSection(order_count=1, orders=[order]))
    (fact,) = _facts(snap, "order.")
    return as_text(fact.line)


def _mapped(payload: dict[str, Any]) -> Order:
    activity = map_order(payload).activity
    assert isinstance(activity, Order)
    return activity


def _order_node(**overrides: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "gid://shopify/Order/7",
        "name": "#1007",
        "updatedAt": "2026-11-20T09:00:00Z",
        "createdAt": "2026-11-19T09:00:00Z",
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "UNFULFILLED",
        "totalPriceSet": {"shopMoney": {"amount": "40.00", "currencyCode": "USD"}},
        "customer": {"id": "gid://shopify/Customer/1"},
        "lineItems": {"nodes": [{"name": "Mug", "quantity": 1, "currentQuantity": 1}]},
    }
    node.update(overrides)
    return node


# --- 1. a partly refunded charge -----------------------------------------------------------------


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
def test_a_partly_refunded_charge_says_how_much_in_its_currency(currency: str) -> None:
    charge = Charge(
        status="succeeded",
        amount="1000.00",
        currency=currency,
        amount_refunded="250.00",
        refunded=False,
        created_at="2026-11-02T10:00:00Z",
    )
    snap = bare_snapshot(billing=BillingSection(charges=[charge]))
    (fact,) = _facts(snap, "charge.")
    assert f"{money(charge.amount_refunded, currency)} refunded" in as_text(fact.line)


def test_a_charge_with_nothing_refunded_says_no_refund() -> None:
    charge = Charge(status="succeeded", amount="10.00", currency="USD", amount_refunded="0.00")
    snap = bare_snapshot(billing=BillingSection(charges=[charge]))
    (fact,) = _facts(snap, "charge.")
    assert "refunded" not in as_text(fact.line)


# --- 2. removed order lines ----------------------------------------------------------------------


def test_removed_lines_keep_their_plain_title_and_say_removed_in_the_facts() -> None:
    payload = shopify_case("order", "test_1", "order")
    order = _mapped(payload)
    lines = payload["line_items"]
    assert [item.title for item in order.line_items] == [line["name"] for line in lines]
    assert [item.ordered_quantity for item in order.line_items] == [
        line["quantity"] if line["current_quantity"] != line["quantity"] else None for line in lines
    ]
    text = _order_line(order)
    for line in lines:
        removed = f"{line['name']}: removed" in text
        assert removed == (line["current_quantity"] == 0)


def test_a_partly_removed_line_says_how_many_are_left() -> None:
    item = LineItem(title="Sock - M", quantity=1, ordered_quantity=3)
    text = _order_line(Order(title="#1", line_items=[item]))
    assert f"{item.title}: {item.quantity} of {item.ordered_quantity} left" in text


def test_synced_removed_lines_carry_the_ordered_quantity() -> None:
    items = {"nodes": [{"name": "Boot - 42", "quantity": 2, "currentQuantity": 0}]}
    (item,) = _mapped(order_to_rest(_order_node(lineItems=items))).line_items
    assert (item.title, item.quantity, item.ordered_quantity) == ("Boot - 42", 0, 2)


# --- 3. an order on hold -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("display", "words"),
    [
        ("ON_HOLD", "on hold"),
        ("SCHEDULED", "scheduled"),
        ("IN_PROGRESS", "in progress"),
        ("PENDING_FULFILLMENT", "pending fulfillment"),
        ("REQUEST_DECLINED", "request declined"),
    ],
)
def test_a_synced_order_waiting_on_fulfilment_says_why(display: str, words: str) -> None:
    order = _mapped(order_to_rest(_order_node(displayFulfillmentStatus=display)))
    assert order.fulfillment_status == "unfulfilled"  # still not shipped, for the signals
    assert order.fulfillment_detail == display.lower()
    assert f"unfulfilled ({words})" in _order_line(order)


def test_a_webhook_order_and_a_synced_one_read_the_same_hold() -> None:
    """The stored REST shape of a synced order maps like a webhook body carrying the same."""
    synced = order_to_rest(_order_node(displayFulfillmentStatus="ON_HOLD"))
    rest = shopify_case("order", "test_1", "order")
    rest["display_fulfillment_status"] = synced["display_fulfillment_status"]
    assert rest["fulfillment_status"] is None
    webhook = _mapped(rest)
    assert (webhook.fulfillment_status, webhook.fulfillment_detail) == (
        "unfulfilled",
        "on_hold",
    )


def test_an_order_that_needs_no_fulfilment_is_not_unfulfilled() -> None:
    order = _mapped(order_to_rest(_order_node(displayFulfillmentStatus="FULFILLMENT_NOT_REQUIRED")))
    assert order.fulfillment_status != "unfulfilled"
    assert "unfulfilled" not in _order_line(order)


def test_a_plain_unfulfilled_order_has_no_detail() -> None:
    order = _mapped(order_to_rest(_order_node()))
    assert (order.fulfillment_status, order.fulfillment_detail) == ("unfulfilled", None)


# --- 4. order lines the sync did not read --------------------------------------------------------


def test_the_order_query_asks_whether_more_lines_exist() -> None:
    for query in (connection_query("order"), node_query("order")):
        lines = query[query.index("lineItems(") :]
        assert "hasNextPage" in lines[: lines.index("fulfillments")]
        assert "currentSubtotalLineItemsQuantity" in query


def test_an_order_with_more_lines_than_read_says_how_many_more() -> None:
    nodes = [{"name": f"Pin {n}", "quantity": 2, "currentQuantity": 2} for n in range(10)]
    node = _order_node(
        lineItems={"nodes": nodes, "pageInfo": {"hasNextPage": True}},
        currentSubtotalLineItemsQuantity=27,
    )
    order = _mapped(order_to_rest(node))
    assert order.more_line_items
    listed = sum(item.quantity for item in order.line_items)
    assert order.more_items_quantity == 27 - listed
    assert f"and {27 - listed} more" in _order_line(order)


def test_more_lines_of_unknown_size_still_say_the_list_is_partial() -> None:
    nodes = [{"name": "Pin", "quantity": 1, "currentQuantity": 1}]
    node = _order_node(lineItems={"nodes": nodes, "pageInfo": {"hasNextPage": True}})
    order = _mapped(order_to_rest(node))
    assert order.more_line_items
    assert order.more_items_quantity is None
    assert "and more" in _order_line(order)


def test_a_complete_list_says_nothing_more() -> None:
    node = _order_node(currentSubtotalLineItemsQuantity=1)
    node["lineItems"]["pageInfo"] = {"hasNextPage": False}
    order = _mapped(order_to_rest(node))
    assert not order.more_line_items
    assert "more" not in _order_line(order)


# --- the rest of the facts: values a vendor left out ---------------------------------------------


def test_a_dispute_without_a_reason_does_not_read_none() -> None:
    dispute = Dispute(status="needs_response", amount="30.00", currency="USD")
    snap = bare_snapshot(billing=BillingSection(disputes=[dispute]))
    (fact,) = _facts(snap, "dispute")
    assert "None" not in as_text(fact.line)
    assert dispute.status is not None
    assert dispute.status in as_text(fact.line)


def test_a_subscription_without_a_plan_or_status_does_not_read_none() -> None:
    sub = Subscription(amount="49.00", currency="USD", interval="month")  # no plan, no status
    snap = bare_snapshot(billing=BillingSection(subscriptions=[sub]))
    (fact,) = _facts(snap, "subscription")
    assert "None" not in as_text(fact.line)


def test_orders_of_unknown_amounts_do_not_add_up_to_zero() -> None:
    """A spreadsheet without an amount column: the total spent is unknown, not nothing."""
    orders = [Order(title="#1", status="open"), Order(title="#2", status="open")]
    snap = bare_snapshot(commerce=CommerceSection(order_count=len(orders), orders=orders))
    assert snap.commerce.total_spent is None
    (fact,) = _facts(snap, "orders.total")
    assert "0" not in as_text(fact.line).replace(f"{len(orders)} orders", "")
