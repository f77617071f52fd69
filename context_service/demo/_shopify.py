"""Shopify Admin REST shapes (customers and orders, API 2026-07), filled from given values.

Only a realistic subset of the fields is written; see ``refdata/shopify/*.json`` for the
complete objects. Money is a decimal string, timestamps carry the shop's UTC offset.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from context_service.demo._util import iso_shop
from context_service.demo.people import Person, shopify_customer_id


class Shipment(NamedTuple):
    """One fulfillment of an order."""

    created: int
    shipment_status: str | None  # in_transit, delivered, or None (label created)
    carrier: str
    tracking_number: str
    tracking_url: str


class RefundSpec(NamedTuple):
    created: int
    cents: int
    note: str | None


class OrderSpec(NamedTuple):
    """What happened to one order; ``items`` are (title, sku, price, quantity)."""

    created: int
    items: tuple[tuple[str, str, str, int], ...]
    financial_status: str
    shipments: tuple[Shipment, ...] = ()
    partial: bool = False
    refund: RefundSpec | None = None
    cancelled: int | None = None
    closed: int | None = None
    note: str | None = None


def _cents(value: str) -> int:
    whole, _, fraction = value.partition(".")
    return int(whole) * 100 + int((fraction + "00")[:2])


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _address(p: Person, address_id: int) -> dict[str, Any] | None:
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


def customer(p: Person, created: int, updated: int, state: str = "enabled") -> dict[str, Any]:
    """``GET /admin/api/2026-07/customers.json`` item."""
    customer_id = shopify_customer_id(p.g)
    address = _address(p, customer_id + 7_000_000_000_000)
    return {
        "id": customer_id,
        "email": p.shopify_email,
        "created_at": iso_shop(created),
        "updated_at": iso_shop(updated),
        "first_name": p.shopify_first,
        "last_name": p.shopify_last,
        "state": state,
        "note": None,
        "verified_email": state == "enabled",
        "multipass_identifier": None,
        "tax_exempt": False,
        "tags": p.shopify_tags,
        "currency": "USD",
        "phone": p.shopify_phone,
        "addresses": [address] if address else [],
        "email_marketing_consent": {
            "state": "subscribed" if "newsletter" in p.shopify_tags else "not_subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": None,
        },
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        "default_address": address,
    }


def order_id(n: int) -> int:
    return 5_550_000_000_000 + n * 10 + n * 3 % 10


def _fulfillment(oid: int, name: str, index: int, s: Shipment) -> dict[str, Any]:
    return {
        "id": 4_700_000_000_000 + (oid % 10**12) * 4 + index,
        "order_id": oid,
        "name": f"{name}.{index + 1}",
        "status": "success",
        "service": "manual",
        "shipment_status": s.shipment_status,
        "tracking_company": s.carrier,
        "tracking_number": s.tracking_number,
        "tracking_numbers": [s.tracking_number],
        "tracking_url": s.tracking_url,
        "tracking_urls": [s.tracking_url],
        "created_at": iso_shop(s.created),
        "updated_at": iso_shop(s.created + (259_200 if s.shipment_status == "delivered" else 0)),
    }


def _refund(oid: int, r: RefundSpec) -> dict[str, Any]:
    base = (oid % 10**12) * 3
    return {
        "id": 910_000_000_000 + base,
        "order_id": oid,
        "created_at": iso_shop(r.created),
        "processed_at": iso_shop(r.created),
        "note": r.note,
        "restock": True,
        "transactions": [
            {
                "id": 7_200_000_000_000 + base,
                "order_id": oid,
                "kind": "refund",
                "gateway": "shopify_payments",
                "status": "success",
                "amount": money(r.cents),
                "currency": "USD",
                "created_at": iso_shop(r.created),
            }
        ],
    }


def order_total(spec: OrderSpec, country: str) -> tuple[int, int, int]:
    """(subtotal, tax, total) in cents: 8% tax in the US, free shipping over 75."""
    subtotal = sum(_cents(price) * quantity for _, _, price, quantity in spec.items)
    tax = subtotal * 8 // 100 if country == "US" else 0
    shipping = 0 if subtotal >= 7500 else 700
    return subtotal, tax, subtotal + tax + shipping


def order(n: int, p: Person, spec: OrderSpec, updated: int) -> dict[str, Any]:
    """``GET /admin/api/2026-07/orders.json?status=any`` item; ``n`` numbers the shop's orders."""
    oid, number = order_id(n), 1001 + n
    name = f"#{number}"
    subtotal, tax, total = order_total(spec, p.country)
    status = "partial" if spec.partial else ("fulfilled" if spec.shipments else None)
    customer_id = shopify_customer_id(p.g)
    line_items = [
        {
            "id": 14_100_000_000_000 + (oid % 10**12) * 4 + index,
            "title": title,
            "name": title,
            "sku": sku,
            "price": price,
            "quantity": quantity,
            "vendor": "Lumen Labs",
            "requires_shipping": sku != "GIFT-50",
            "fulfillment_status": status if status != "partial" or index == 0 else None,
        }
        for index, (title, sku, price, quantity) in enumerate(spec.items[:4])
    ]
    return {
        "id": oid,
        "admin_graphql_api_id": f"gid://shopify/Order/{oid}",
        "name": name,
        "number": number - 1000,
        "order_number": number,
        "email": p.shopify_email,
        "contact_email": p.shopify_email,
        "phone": None,
        "created_at": iso_shop(spec.created),
        "processed_at": iso_shop(spec.created),
        "updated_at": iso_shop(updated),
        "cancelled_at": iso_shop(spec.cancelled) if spec.cancelled else None,
        "cancel_reason": "customer" if spec.cancelled else None,
        "closed_at": iso_shop(spec.closed) if spec.closed else None,
        "confirmed": True,
        "currency": "USD",
        "financial_status": spec.financial_status,
        "fulfillment_status": status,
        "subtotal_price": money(subtotal),
        "total_tax": money(tax),
        "total_discounts": "0.00",
        "total_price": money(total),
        "source_name": "web",
        "tags": "",
        "test": False,
        "note": spec.note,
        "customer": {
            "id": customer_id,
            "email": p.shopify_email,
            "first_name": p.shopify_first,
            "last_name": p.shopify_last,
            "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        },
        "shipping_address": _shipping(p),
        "line_items": line_items,
        "fulfillments": [_fulfillment(oid, name, i, s) for i, s in enumerate(spec.shipments)],
        "refunds": [_refund(oid, spec.refund)] if spec.refund else [],
    }


def _shipping(p: Person) -> dict[str, Any] | None:
    a = p.address
    if a is None:
        return None
    return {
        "first_name": p.shopify_first,
        "last_name": p.shopify_last,
        "name": f"{p.shopify_first} {p.shopify_last}",
        "address1": a.address1,
        "address2": a.address2,
        "city": a.city,
        "province": a.province,
        "province_code": a.province_code,
        "zip": a.zip,
        "country": a.country,
        "country_code": a.country_code,
        "phone": p.address_phone,
        "company": None,
    }
