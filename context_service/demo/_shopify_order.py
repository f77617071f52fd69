"""The inside of a Shopify REST order (API 2026-07): line items, shipping, fulfillments, refunds.

Shapes follow Shopify's reference examples (``refdata/shopify/order.json``, ``refund.json``):
every money field has its ``*_set`` twin in shop and presentment currency, a fulfillment
repeats the line items it shipped, a refund carries its refund line items and transaction.
Tokens, ids and the browser IP are derived from the order id; IPs come from the documentation
ranges (RFC 5737) and coordinates are ``null`` (not geocoded).
"""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

from context_service.demo._data import PRODUCTS
from context_service.demo._util import iso_shop, mix64
from context_service.demo.people import Person

SHOP = "lumenlabs"
SHOP_ID = 61_234_567_890
LOCATION_ID = 71_234_567_890
ONLINE_STORE_APP_ID = 580_111  # Shopify's Online Store sales channel
TAX_RATE = 8  # percent, US orders
_SKUS = {sku: index for index, (_, sku, _) in enumerate(PRODUCTS)}
_GRAMS = {
    "LUM-DESK-01": 2300, "LUM-FLOOR-01": 6800, "BULB-E26-4": 420, "BULB-GU10-1": 90,
    "HUB-V2": 310, "SENS-MOTION": 120, "PLUG-MINI": 95, "STRIP-2M": 260, "STRIP-EXT-1M": 140,
    "DIM-WALL": 150, "SHADE-LINEN": 700, "MOUNT-WALL": 380, "PWR-USBC-30W": 110, "GIFT-50": 0,
}  # fmt: skip
_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
)
_LANGUAGES = {"US": "en-US", "CA": "en-CA", "GB": "en-GB", "AU": "en-AU", "DE": "de-DE"}


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


def cents_of(value: str) -> int:
    whole, _, fraction = value.partition(".")
    return int(whole) * 100 + int((fraction + "00")[:2])


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def money_set(cents: int) -> dict[str, Any]:
    """``{"shop_money": ..., "presentment_money": ...}`` in USD."""
    amount = {"amount": money(cents), "currency_code": "USD"}
    return {"shop_money": amount, "presentment_money": dict(amount)}


def order_total(spec: OrderSpec, country: str) -> tuple[int, int, int]:
    """(subtotal, tax, total) in cents: 8% tax in the US, free shipping over 75."""
    subtotal = sum(cents_of(price) * quantity for _, _, price, quantity in spec.items)
    tax = subtotal * TAX_RATE // 100 if country == "US" else 0
    return subtotal, tax, subtotal + tax + shipping_cents(subtotal)


def shipping_cents(subtotal: int) -> int:
    return 0 if subtotal >= 7500 else 700


def _hex(value: int) -> str:
    return f"{mix64(value):016x}{mix64(value ^ 0x5EED):016x}"


def _tax_lines(cents: int) -> list[dict[str, Any]]:
    if not cents:
        return []
    return [
        {
            "price": money(cents),
            "rate": TAX_RATE / 100,
            "title": "State Tax",
            "price_set": money_set(cents),
            "channel_liable": False,
        }
    ]


def _line_taxes(spec: OrderSpec, tax: int) -> list[int]:
    """The order's tax split over its lines; the rounding remainder goes to the first."""
    lines = [
        cents_of(price) * qty * TAX_RATE // 100 if tax else 0 for _, _, price, qty in spec.items
    ]
    if lines:
        lines[0] += tax - sum(lines)
    return lines


def line_items(oid: int, spec: OrderSpec, tax: int, status: str | None) -> list[dict[str, Any]]:
    """The order's line items; ``status`` is the order's fulfillment status."""
    taxes = _line_taxes(spec, tax)
    refunded = spec.refund is not None and spec.financial_status == "refunded"
    out = []
    for index, (title, sku, price, quantity) in enumerate(spec.items):
        shipped = status == "fulfilled" or (status == "partial" and index == 0)
        product = _SKUS.get(sku, 0)
        item_id = 14_100_000_000_000 + (oid % 10**12) * 4 + index
        out.append(
            {
                "id": item_id,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{item_id}",
                "attributed_staffs": [],
                "current_quantity": 0 if refunded else quantity,
                "fulfillable_quantity": 0 if shipped or spec.cancelled else quantity,
                "fulfillment_service": "manual",
                "fulfillment_status": "fulfilled" if shipped else None,
                "gift_card": sku == "GIFT-50",
                "grams": _GRAMS.get(sku, 250),
                "name": title,
                "price": price,
                "price_set": money_set(cents_of(price)),
                "product_exists": True,
                "product_id": 7_820_000_000_000 + product * 7919,
                "properties": [],
                "quantity": quantity,
                "requires_shipping": sku != "GIFT-50",
                "sku": sku,
                "taxable": sku != "GIFT-50",
                "title": title,
                "total_discount": "0.00",
                "total_discount_set": money_set(0),
                "variant_id": 44_100_000_000_000 + product * 104_729,
                "variant_inventory_management": "shopify",
                "variant_title": None,
                "vendor": "Lumen Labs",
                "tax_lines": _tax_lines(taxes[index]),
                "duties": [],
                "discount_allocations": [],
            }
        )
    return out


def _fulfillment(
    oid: int, name: str, index: int, s: Shipment, items: list[dict[str, Any]]
) -> dict[str, Any]:
    fid = 4_700_000_000_000 + (oid % 10**12) * 4 + index
    return {
        "id": fid,
        "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fid}",
        "created_at": iso_shop(s.created),
        "location_id": LOCATION_ID,
        "name": f"{name}.{index + 1}",
        "order_id": oid,
        "origin_address": {},
        "receipt": {},
        "service": "manual",
        "shipment_status": s.shipment_status,
        "status": "success",
        "tracking_company": s.carrier,
        "tracking_number": s.tracking_number,
        "tracking_numbers": [s.tracking_number],
        "tracking_url": s.tracking_url,
        "tracking_urls": [s.tracking_url],
        "updated_at": iso_shop(s.created + (259_200 if s.shipment_status == "delivered" else 0)),
        "line_items": [item for item in items if item["fulfillment_status"] == "fulfilled"],
    }


def _refund(
    oid: int, name: str, r: RefundSpec, items: list[dict[str, Any]], full: bool
) -> dict[str, Any]:
    base = (oid % 10**12) * 3
    refunded = items if full else items[:1]
    lines = []
    for index, item in enumerate(refunded):
        subtotal = cents_of(item["price"]) * item["quantity"] if full else r.cents
        tax = sum(cents_of(t["price"]) for t in item["tax_lines"]) if full else 0
        lines.append(
            {
                "id": 8_300_000_000_000 + base + index,
                "line_item_id": item["id"],
                "location_id": LOCATION_ID,
                "quantity": item["quantity"] if full else 1,
                "restock_type": "return",
                "subtotal": subtotal / 100,
                "subtotal_set": money_set(subtotal),
                "total_tax": tax / 100,
                "total_tax_set": money_set(tax),
                "line_item": item,
            }
        )
    tid = 7_200_000_000_000 + base
    transaction = {
        "id": tid,
        "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tid}",
        "amount": money(r.cents),
        "authorization": None,
        "created_at": iso_shop(r.created),
        "currency": "USD",
        "device_id": None,
        "error_code": None,
        "gateway": "shopify_payments",
        "kind": "refund",
        "location_id": None,
        "message": None,
        "order_id": oid,
        "parent_id": 7_100_000_000_000 + base,
        "payment_id": f"{name}.2",
        "processed_at": iso_shop(r.created),
        "receipt": {},
        "source_name": "web",
        "status": "success",
        "test": False,
        "user_id": None,
    }
    rid = 910_000_000_000 + base
    return {
        "id": rid,
        "admin_graphql_api_id": f"gid://shopify/Refund/{rid}",
        "created_at": iso_shop(r.created),
        "note": r.note,
        "order_id": oid,
        "processed_at": iso_shop(r.created),
        "restock": True,
        "total_additional_fees_set": money_set(0),
        "total_duties_set": money_set(0),
        "user_id": None,
        "order_adjustments": [],
        "transactions": [transaction],
        "refund_line_items": lines,
        "duties": [],
        "refund_shipping_lines": [],
        "return": None,
    }


def _shipping_line(oid: int, cents: int) -> dict[str, Any]:
    title = "Free Shipping" if cents == 0 else "Standard Shipping"
    return {
        "id": 4_500_000_000_000 + oid % 10**12,
        "carrier_identifier": None,
        "code": title,
        "discounted_price": money(cents),
        "discounted_price_set": money_set(cents),
        "is_removed": False,
        "phone": None,
        "price": money(cents),
        "price_set": money_set(cents),
        "requested_fulfillment_service_id": None,
        "source": "shopify",
        "title": title,
        "tax_lines": [],
        "discount_allocations": [],
    }


def _address(p: Person) -> dict[str, Any] | None:
    a = p.address
    if a is None:
        return None
    return {
        "first_name": p.shopify_first,
        "address1": a.address1,
        "phone": p.address_phone,
        "city": a.city,
        "zip": a.zip,
        "province": a.province,
        "country": a.country,
        "last_name": p.shopify_last,
        "address2": a.address2,
        "company": None,
        "latitude": None,
        "longitude": None,
        "name": f"{p.shopify_first} {p.shopify_last}",
        "country_code": a.country_code,
        "province_code": a.province_code,
    }


def _current(spec: OrderSpec, subtotal: int, tax: int, total: int) -> tuple[int, int, int]:
    """(subtotal, tax, total) after refunds and cancellation."""
    if spec.cancelled or spec.financial_status == "voided":
        return 0, 0, 0
    if spec.refund is None:
        return subtotal, tax, total
    if spec.financial_status == "refunded":
        return 0, 0, 0
    return subtotal - spec.refund.cents, tax, total - spec.refund.cents


def order_payload(
    oid: int, number: int, p: Person, spec: OrderSpec, updated: int, buyer: dict[str, Any]
) -> dict[str, Any]:
    """The whole order object; ``buyer`` is the customer copy Shopify embeds."""
    name = f"#{number}"
    subtotal, tax, total = order_total(spec, p.country)
    shipping = shipping_cents(subtotal)
    now_sub, now_tax, now_total = _current(spec, subtotal, tax, total)
    status = "partial" if spec.partial else ("fulfilled" if spec.shipments else None)
    items = line_items(oid, spec, tax, status)
    token = _hex(oid)
    ip = f"203.0.113.{mix64(oid) % 254 + 1}"
    created, cancelled = iso_shop(spec.created), spec.cancelled
    entity = base64.b64encode(str(SHOP_ID).encode()).decode().rstrip("=")
    grams = sum(item["grams"] * item["quantity"] for item in items)
    return {
        "id": oid,
        "admin_graphql_api_id": f"gid://shopify/Order/{oid}",
        "app_id": ONLINE_STORE_APP_ID,
        "browser_ip": ip,
        "buyer_accepts_marketing": "newsletter" in p.shopify_tags,
        "cancel_reason": "customer" if cancelled else None,
        "cancelled_at": iso_shop(cancelled) if cancelled else None,
        "cart_token": _hex(oid ^ 0xCA27),
        "checkout_id": 3_100_000_000_000 + oid % 10**12,
        "checkout_token": _hex(oid ^ 0xC4EC),
        "client_details": {
            "accept_language": _LANGUAGES.get(p.country, "en-US"),
            "browser_height": None,
            "browser_ip": ip,
            "browser_width": None,
            "session_hash": None,
            "user_agent": _AGENTS[mix64(p.g) % len(_AGENTS)],
        },
        "closed_at": iso_shop(spec.closed) if spec.closed else None,
        "confirmation_number": f"{mix64(oid ^ 0xC0F):X}"[:9],
        "confirmed": True,
        "contact_email": p.shopify_email,
        "created_at": created,
        "currency": "USD",
        "current_subtotal_price": money(now_sub),
        "current_subtotal_price_set": money_set(now_sub),
        "current_total_additional_fees_set": None,
        "current_total_discounts": "0.00",
        "current_total_discounts_set": money_set(0),
        "current_total_duties_set": None,
        "current_total_price": money(now_total),
        "current_total_price_set": money_set(now_total),
        "current_total_tax": money(now_tax),
        "current_total_tax_set": money_set(now_tax),
        "customer_locale": _LANGUAGES.get(p.country, "en-US"),
        "device_id": None,
        "discount_codes": [],
        "duties_included": False,
        "email": p.shopify_email,
        "estimated_taxes": False,
        "financial_status": spec.financial_status,
        "fulfillment_status": status,
        "landing_site": "/",
        "landing_site_ref": None,
        "location_id": None,
        "merchant_business_entity_id": entity,
        "merchant_of_record_app_id": None,
        "name": name,
        "note": spec.note,
        "note_attributes": [],
        "number": number - 1000,
        "order_number": number,
        "order_status_url": f"https://{SHOP}.myshopify.com/{SHOP_ID}/orders/{token}/authenticate"
        f"?key={_hex(oid ^ 0x4E7)}",
        "original_total_additional_fees_set": None,
        "original_total_duties_set": None,
        "payment_gateway_names": ["shopify_payments"],
        "phone": None,
        "po_number": None,
        "presentment_currency": "USD",
        "processed_at": created,
        "reference": None,
        "referring_site": None,
        "source_identifier": None,
        "source_name": "web",
        "source_url": None,
        "subtotal_price": money(subtotal),
        "subtotal_price_set": money_set(subtotal),
        "tags": "",
        "tax_exempt": False,
        "tax_lines": _tax_lines(tax),
        "taxes_included": False,
        "test": False,
        "token": token,
        "total_cash_rounding_payment_adjustment_set": money_set(0),
        "total_cash_rounding_refund_adjustment_set": money_set(0),
        "total_discounts": "0.00",
        "total_discounts_set": money_set(0),
        "total_line_items_price": money(subtotal),
        "total_line_items_price_set": money_set(subtotal),
        "total_outstanding": money(total) if spec.financial_status == "pending" else "0.00",
        "total_price": money(total),
        "total_price_set": money_set(total),
        "total_shipping_price_set": money_set(shipping),
        "total_tax": money(tax),
        "total_tax_set": money_set(tax),
        "total_tip_received": "0.00",
        "total_weight": grams,
        "updated_at": iso_shop(updated),
        "user_id": None,
        "billing_address": _address(p),
        "customer": buyer,
        "discount_applications": [],
        "fulfillments": [
            _fulfillment(oid, name, i, s, items) for i, s in enumerate(spec.shipments)
        ],
        "line_items": items,
        "payment_terms": None,
        "refunds": [_refund(oid, name, spec.refund, items, spec.financial_status == "refunded")]
        if spec.refund
        else [],
        "shipping_address": _address(p),
        "shipping_lines": [_shipping_line(oid, shipping)],
    }
