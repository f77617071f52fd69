"""Shopify Admin REST shapes (customers and orders, API 2026-07), filled from given values.

Every field that ``GET /admin/api/2026-07/customers.json`` and ``orders.json?status=any``
return is written (see ``refdata/shopify/*.json``, Shopify's own reference examples), with the
values this shop would hold: money as decimal strings with their ``*_set`` twins, timestamps
in the shop's UTC offset, ``null`` or ``[]`` where the shop has nothing (no discount, no
duties, no geocoded coordinates). Order internals (line items, fulfillments, refunds) are in
``_shopify_order``.
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple

from context_service.demo._shopify_order import (
    LOCATION_ID,
    OrderSpec,
    RefundSpec,
    Shipment,
    order_payload,
    order_total,
)
from context_service.demo._util import iso_shop, stream_key
from context_service.demo.people import SYNTHETIC_BASE, Person, shopify_customer_id

__all__ = [
    "Account",
    "OrderSpec",
    "RefundSpec",
    "Shipment",
    "Totals",
    "account",
    "customer",
    "money",
    "order",
    "order_id",
    "order_total",
]

LOCATION = LOCATION_ID
_STATES = ("enabled", "enabled", "disabled", "disabled", "disabled", "invited")


class Account(NamedTuple):
    """A customer's Shopify account: what the customer object and each order's copy share."""

    created: int
    updated: int
    state: str


class Totals(NamedTuple):
    """What the customer object sums up from the orders: count, spend, the latest order."""

    orders_count: int = 0
    total_spent: int = 0  # cents
    last_order_id: int | None = None
    last_order_name: str | None = None


def account(seed: int, now: int, p: Person, created: int) -> Account:
    """The account's state and last update (stable per person, whichever pass asks)."""
    rng = random.Random(stream_key(seed, 0x5C0, p.g))
    updated = created + int((now - created) * rng.random() ** 2)
    state = "disabled" if p.junk else rng.choice(_STATES)
    if p.g < SYNTHETIC_BASE:
        state = "enabled"  # the personas have accounts
    return Account(created, updated, state)


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def address(p: Person, address_id: int) -> dict[str, Any] | None:
    """A customer address (``addresses[]``, ``default_address``)."""
    a = p.address
    if a is None:
        return None
    return {
        "id": address_id,
        "customer_id": shopify_customer_id(p.g),
        "first_name": p.shopify_first,
        "last_name": p.shopify_last,
        "company": p.company.name if p.company else None,
        "address1": a.address1,
        "address2": a.address2,
        "city": a.city,
        "province": a.province,
        "country": a.country,
        "zip": a.zip,
        "phone": p.address_phone,
        "name": f"{p.shopify_first} {p.shopify_last}",
        "province_code": a.province_code,
        "country_code": a.country_code,
        "country_name": a.country,
        "default": True,
    }


def _email_consent(p: Person, acct: Account) -> dict[str, Any] | None:
    if not p.shopify_email:
        return None
    subscribed = "newsletter" in p.shopify_tags
    return {
        "state": "subscribed" if subscribed else "not_subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": iso_shop(acct.created) if subscribed else None,
    }


def _sms_consent(p: Person) -> dict[str, Any] | None:
    if not p.shopify_phone:
        return None
    return {
        "state": "not_subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": None,
        "consent_collected_from": "OTHER",
    }


def customer_core(p: Person, acct: Account) -> dict[str, Any]:
    """The fields an order's ``customer`` copy carries (the customer object without totals)."""
    customer_id = shopify_customer_id(p.g)
    return {
        "id": customer_id,
        "email": p.shopify_email,
        "created_at": iso_shop(acct.created),
        "updated_at": iso_shop(acct.updated),
        "first_name": p.shopify_first,
        "last_name": p.shopify_last,
        "state": acct.state,
        "note": None,
        "verified_email": acct.state == "enabled",
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": p.shopify_phone,
        "email_marketing_consent": _email_consent(p, acct),
        "sms_marketing_consent": _sms_consent(p),
        "tags": p.shopify_tags,
        "currency": "USD",
        "tax_exemptions": [],
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        "default_address": address(p, customer_id + 7_000_000_000_000),
    }


def customer(p: Person, acct: Account, totals: Totals | None = None) -> dict[str, Any]:
    """``GET /admin/api/2026-07/customers.json`` item."""
    t = totals or Totals()
    core = customer_core(p, acct)
    default = core["default_address"]
    return {
        "id": core["id"],
        "email": core["email"],
        "created_at": core["created_at"],
        "updated_at": core["updated_at"],
        "first_name": core["first_name"],
        "last_name": core["last_name"],
        "orders_count": t.orders_count,
        "state": core["state"],
        "total_spent": money(t.total_spent),
        "last_order_id": t.last_order_id,
        "note": None,
        "verified_email": core["verified_email"],
        "multipass_identifier": None,
        "tax_exempt": False,
        "tags": p.shopify_tags,
        "last_order_name": t.last_order_name,
        "currency": "USD",
        "phone": p.shopify_phone,
        "addresses": [default] if default else [],
        "tax_exemptions": [],
        "email_marketing_consent": core["email_marketing_consent"],
        "sms_marketing_consent": core["sms_marketing_consent"],
        "admin_graphql_api_id": core["admin_graphql_api_id"],
        "default_address": default,
    }


def order_id(n: int) -> int:
    return 5_550_000_000_000 + n * 10 + n * 3 % 10


def order(n: int, p: Person, spec: OrderSpec, updated: int, acct: Account) -> dict[str, Any]:
    """``GET /admin/api/2026-07/orders.json?status=any`` item; ``n`` numbers the shop's orders."""
    return order_payload(order_id(n), 1001 + n, p, spec, updated, customer_core(p, acct))


def spent(payload: dict[str, Any]) -> int:
    """What an order adds to the customer's ``total_spent``: its total less refunds, in cents."""
    if payload["financial_status"] in ("voided", "pending"):
        return 0
    whole, _, cents = payload["current_total_price"].partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])
