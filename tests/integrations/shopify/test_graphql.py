"""GraphQL nodes -> the REST / webhook shape that the one Shopify mapper maps."""

from __future__ import annotations

import re
from typing import Any

import pytest

from context_service.models import Order
from integrations.shopify import graphql, map_record
from integrations.shopify._client import throttle_delay


def order_node(**overrides: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "gid://shopify/Order/11",
        "name": "#1011",
        "number": 1011,
        "createdAt": "2026-01-02T03:04:05Z",
        "updatedAt": "2026-01-03T03:04:05Z",
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "PARTIALLY_FULFILLED",
        "totalPriceSet": {"shopMoney": {"amount": "10.5", "currencyCode": "EUR"}},
        "currencyCode": "EUR",
        "customer": {"id": "gid://shopify/Customer/7"},
        "lineItems": {"edges": [{"node": {"title": "Mug", "quantity": 2, "sku": None}}]},
        "fulfillments": [
            {
                "status": "SUCCESS",
                "displayStatus": "OUT_FOR_DELIVERY",
                "createdAt": "2026-01-02T05:00:00Z",
                "trackingInfo": [
                    {"company": "DHL", "number": "A1", "url": "https://dhl.example/A1"},
                    {"company": "DHL", "number": "A2", "url": None},
                ],
            }
        ],
        "refunds": [],
    }
    node.update(overrides)
    return node


def test_queries_ask_for_what_the_mapper_needs() -> None:
    customers = graphql.connection_query("customer")
    assert (
        "customers(first: $first, after: $after, sortKey: UPDATED_AT, query: $query)" in customers
    )
    for field in ("email", "firstName", "updatedAt", "defaultAddress", "countryCodeV2", "tags"):
        assert re.search(rf"\b{field}\b", customers)
    orders = graphql.connection_query("order")
    for field in (
        "displayFinancialStatus",
        "lineItems(first: 10)",
        "trackingInfo",
        "totalRefundedSet",
    ):
        assert field in orders
    assert "pageInfo { hasNextPage endCursor }" in orders
    assert "order(id: $id)" in graphql.node_query("order")


def test_ids_and_filters() -> None:
    assert graphql.gid("customer", "207119551") == "gid://shopify/Customer/207119551"
    assert graphql.gid("order", "gid://shopify/Order/1") == "gid://shopify/Order/1"
    assert graphql.legacy_id("gid://shopify/Order/450789469") == 450789469
    assert graphql.legacy_id("gid://shopify/Order/abc") == "gid://shopify/Order/abc"
    assert graphql.legacy_id(12) == 12
    assert graphql.updated_since_filter(None) is None
    assert (
        graphql.updated_since_filter("2026-01-01T00:00:00Z")
        == "updated_at:>='2026-01-01T00:00:00Z'"
    )


def test_customer_node_in_rest_shape() -> None:
    node = {
        "id": "gid://shopify/Customer/7",
        "email": "a@example.com",
        "firstName": "Ada",
        "lastName": None,
        "state": "ENABLED",
        "tags": ["vip", "b2b"],
        "updatedAt": "2026-01-03T03:04:05Z",
        "defaultAddress": {"address1": "1 Main", "countryCodeV2": "GB", "provinceCode": None},
        "addresses": {
            "nodes": [{"address1": "1 Main", "countryCodeV2": "GB", "provinceCode": None}]
        },
    }
    rest = graphql.customer_to_rest(node)
    assert rest["id"] == 7
    assert rest["admin_graphql_api_id"] == node["id"]
    assert (rest["state"], rest["tags"]) == ("enabled", "vip, b2b")
    assert rest["default_address"]["country_code"] == "GB"
    assert rest["addresses"] == [rest["default_address"]]
    person = map_record("customer", rest).person
    assert person is not None
    assert person.name == "Ada"
    assert len(person.addresses) == 1


def test_order_node_in_rest_shape() -> None:
    rest = graphql.order_to_rest(order_node())
    assert rest["id"] == 11
    assert rest["order_number"] == 1011
    assert (rest["financial_status"], rest["fulfillment_status"]) == ("paid", "partial")
    assert (rest["total_price"], rest["currency"]) == ("10.5", "EUR")
    assert rest["customer"] == {"id": 7}
    (fulfillment,) = rest["fulfillments"]
    assert fulfillment["shipment_status"] == "out_for_delivery"
    assert fulfillment["tracking_numbers"] == ["A1", "A2"]
    assert fulfillment["tracking_urls"] == ["https://dhl.example/A1"]
    order = map_record("order", rest).activity
    assert isinstance(order, Order)
    assert (order.number, order.amount, order.currency) == ("1011", "10.50", "EUR")
    assert order.line_items[0].quantity == 2


@pytest.mark.parametrize(
    ("display", "rest"),
    [
        ("FULFILLED", "fulfilled"),
        ("PARTIALLY_FULFILLED", "partial"),
        ("RESTOCKED", "restocked"),
        ("UNFULFILLED", None),
        ("ON_HOLD", None),
        (None, None),
    ],
)
def test_fulfillment_status(display: str | None, rest: str | None) -> None:
    assert (
        graphql.order_to_rest(order_node(displayFulfillmentStatus=display))["fulfillment_status"]
        == rest
    )


def test_refunds_become_one_successful_refund_transaction() -> None:
    refund = {
        "id": "gid://shopify/Refund/5",
        "createdAt": "2026-01-04T00:00:00Z",
        "note": "late",
        "totalRefundedSet": {"shopMoney": {"amount": "4.25", "currencyCode": "EUR"}},
    }
    rest = graphql.order_to_rest(order_node(refunds=[refund, {"id": "gid://shopify/Refund/6"}]))
    assert rest["refunds"][0]["transactions"] == [
        {"amount": "4.25", "currency": "EUR", "kind": "refund", "status": "success"}
    ]
    assert rest["refunds"][1]["transactions"] is None  # no total: what moved is not known
    order = map_record("order", rest).activity
    assert isinstance(order, Order)
    assert [(r.external_id, r.amount) for r in order.refunds] == [("5", "4.25"), ("6", None)]


def test_a_refund_of_nothing_is_no_refund() -> None:
    """A restock-only refund's total is 0: no money went back, so the order shows none."""
    nothing = {"id": "gid://shopify/Refund/7", "totalRefundedSet": {"shopMoney": {"amount": "0.0"}}}
    order = map_record("order", graphql.order_to_rest(order_node(refunds=[nothing]))).activity
    assert isinstance(order, Order)
    assert order.refunds == []


def test_a_failed_fulfillment_has_no_shipment_status() -> None:
    failed = {"status": "FAILURE", "displayStatus": "FAILURE", "trackingInfo": []}
    (fulfillment,) = graphql.order_to_rest(order_node(fulfillments=[failed]))["fulfillments"]
    assert fulfillment["status"] == "failure"
    assert fulfillment["shipment_status"] is None


def test_guest_order_and_odd_shapes_do_not_crash() -> None:
    rest = graphql.order_to_rest(
        order_node(customer=None, totalPriceSet=None, lineItems="oops", fulfillments=None)
    )
    assert rest["customer"] is None
    assert rest["total_price"] is None
    assert rest["line_items"] == []
    assert rest["fulfillments"] == []
    assert rest["currency"] == "EUR"  # falls back to the order's currencyCode


@pytest.mark.parametrize(
    ("body", "delay"),
    [
        ({}, 0.0),
        ({"extensions": {"cost": {"requestedQueryCost": 100, "throttleStatus": {}}}}, 0.0),
        (
            {
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 302,
                        "throttleStatus": {"currentlyAvailable": 102, "restoreRate": 50},
                    }
                }
            },
            4.0,
        ),
        (
            {
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 1000,
                        "throttleStatus": {"currentlyAvailable": 0, "restoreRate": 1},
                    }
                }
            },
            60.0,
        ),
        ({"extensions": {"cost": {"requestedQueryCost": "x"}}}, 0.0),
        ({"extensions": None}, 0.0),
        ([], 0.0),
    ],
)
def test_throttle_delay(body: Any, delay: float) -> None:
    assert throttle_delay(body) == delay
