"""Shopify order money: zero-decimal currencies get no cents, and a multi-currency order maps
alike from sync and webhook."""

from __future__ import annotations

import copy
from typing import Any

from context_service.models import Order
from integrations.shopify import graphql, map_order
from tests.integrations.refdata import shopify_case


def order_of(payload: dict[str, Any]) -> Order:
    activity = map_order(payload).activity
    assert isinstance(activity, Order)
    return activity


def _set(shop: tuple[str, str], presentment: tuple[str, str]) -> dict[str, Any]:
    """A REST money set (``*_set``) in the shop and the presentment currency."""
    return {
        "shop_money": {"amount": shop[0], "currency_code": shop[1]},
        "presentment_money": {"amount": presentment[0], "currency_code": presentment[1]},
    }


def _bag(shop: tuple[str, str], presentment: tuple[str, str]) -> dict[str, Any]:
    """A GraphQL ``MoneyBag`` in the shop and the presentment currency."""
    return {
        "shopMoney": {"amount": shop[0], "currencyCode": shop[1]},
        "presentmentMoney": {"amount": presentment[0], "currencyCode": presentment[1]},
    }


# --- Money -----------------------------------------------------------------------------------


def test_zero_decimal_currency_amounts_are_not_given_cents() -> None:
    """A yen order is 1500 JPY, not 1500.00 JPY (as Stripe amounts of the same currency)."""
    rest = copy.deepcopy(shopify_case("order", "test_1", "order"))
    rest.update(total_price="1500", currency="JPY", presentment_currency="JPY")
    rest["total_price_set"] = _set(("1500", "JPY"), ("1500", "JPY"))
    rest["refunds"] = [
        {
            "id": 1,
            "transactions": [
                {"kind": "refund", "status": "success", "amount": "500.00", "currency": "JPY"}
            ],
        }
    ]
    order = order_of(rest)
    assert (order.amount, order.currency) == ("1500", "JPY")
    assert [(r.amount, r.currency) for r in order.refunds] == [("500", "JPY")]

    node = {
        "id": "gid://shopify/Order/9",
        "totalPriceSet": {"shopMoney": {"amount": "1500.0", "currencyCode": "JPY"}},
        "currencyCode": "JPY",
    }
    assert order_of(graphql.order_to_rest(node)).amount == "1500"


def test_a_multi_currency_order_maps_alike_from_sync_and_webhook() -> None:
    """A shop in USD, a customer paying in EUR: the webhook (REST) body's refund transactions
    are in EUR (the presentment currency), its ``total_price`` in USD. Before the fix the
    refund came out in another currency than its order (so it was never netted from the
    total) and the sync path (GraphQL, shop money) disagreed with the webhook path."""
    rest = copy.deepcopy(shopify_case("order", "test_1", "order"))
    rest.update(total_price="110.00", currency="USD", presentment_currency="EUR")
    rest["total_price_set"] = _set(("110.00", "USD"), ("100.00", "EUR"))
    rest["refunds"] = [
        {
            "id": 77,
            "created_at": "2026-01-04T00:00:00Z",
            "transactions": [
                {"kind": "refund", "status": "success", "amount": "45.00", "currency": "EUR"}
            ],
        }
    ]
    node = {
        "id": f"gid://shopify/Order/{rest['id']}",
        "updatedAt": "2026-01-04T00:00:00Z",
        "totalPriceSet": _bag(("110.00", "USD"), ("100.00", "EUR")),
        "currencyCode": "USD",
        "refunds": [
            {
                "id": "gid://shopify/Refund/77",
                "createdAt": "2026-01-04T00:00:00Z",
                "totalRefundedSet": _bag(("49.50", "USD"), ("45.00", "EUR")),
            }
        ],
    }
    webhook, synced = order_of(rest), order_of(graphql.order_to_rest(node))
    for order in (webhook, synced):
        assert [r.currency for r in order.refunds] == [order.currency]
    assert (webhook.amount, webhook.currency) == (synced.amount, synced.currency)
    assert [(r.amount, r.currency) for r in webhook.refunds] == [
        (r.amount, r.currency) for r in synced.refunds
    ]
    assert (webhook.amount, webhook.currency) == ("100.00", "EUR")
