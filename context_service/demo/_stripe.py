"""Stripe API objects in the current shapes (``2026-10-28``): customer, subscription, invoice,
charge and dispute, filled from given values. Amounts are integers in cents, times unix seconds.

Current-API details that matter: the billing period lives on the subscription *item*, an
invoice names its subscription under ``parent.subscription_details``, and a charge no longer
names its invoice.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from context_service.demo._util import StripeIds, base62, mix64
from context_service.demo.people import Person

# Salts that keep the id spaces of the different object types apart.
CUSTOMER, SUBSCRIPTION, ITEM, INVOICE, CHARGE, DISPUTE, PRICE, PRODUCT, INTENT, LINE = range(10)
_BRANDS = ("visa", "visa", "visa", "mastercard", "mastercard", "amex", "discover")
_DECLINES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
}


class Plan(NamedTuple):
    key: int  # Starter 0, Pro 1, Team 2
    nickname: str
    unit_amount: int
    interval: str  # month or year


class Card(NamedTuple):
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str


def card_for(seed: int, g: int, year: int) -> Card:
    """The card on file of customer ``g`` (stable per seed)."""
    bits = mix64(seed * 1_000_003 + g)
    return Card(
        _BRANDS[bits % len(_BRANDS)],
        f"{bits // 7 % 10_000:04d}",
        bits // 70_000 % 12 + 1,
        year + 1 + bits // 840_000 % 5,
        base62(mix64(bits), 11) + base62(bits, 5),
    )


def customer_id(ids: StripeIds, g: int) -> str:
    return ids.short("cus_", CUSTOMER, g)


def invoice_prefix(seed: int, g: int) -> str:
    return base62(mix64(seed ^ (g << 20)), 8).upper()


def customer(ids: StripeIds, seed: int, p: Person, created: int) -> dict[str, Any]:
    """``GET /v1/customers`` item."""
    a = p.address if p.stripe_address else None
    address = None
    if a is not None:
        address = {
            "line1": a.address1,
            "line2": a.address2,
            "city": a.city,
            "state": a.province_code,
            "postal_code": a.zip,
            "country": a.country_code,
        }
    return {
        "id": customer_id(ids, p.g),
        "object": "customer",
        "address": address,
        "balance": 0,
        "created": created,
        "currency": "usd",
        "default_source": None,
        "description": None,
        "email": p.stripe_email,
        "invoice_prefix": invoice_prefix(seed, p.g),
        "livemode": False,
        "metadata": dict(p.stripe_metadata),
        "name": p.stripe_name,
        "phone": p.stripe_phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


@lru_cache(maxsize=64)
def _price_ids(ids: StripeIds, key: int, yearly: bool) -> tuple[str, str]:
    return ids.long("price_", PRICE, key * 2 + yearly), ids.short("prod_", PRODUCT, key)


def price(ids: StripeIds, plan: Plan) -> dict[str, Any]:
    price_id, product_id = _price_ids(ids, plan.key, plan.interval == "year")
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "currency": "usd",
        "nickname": plan.nickname,
        "product": product_id,
        "recurring": {"interval": plan.interval, "interval_count": 1, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": plan.unit_amount,
        "unit_amount_decimal": str(plan.unit_amount),
    }


class SubscriptionSpec(NamedTuple):
    n: int
    plan: Plan
    status: str
    created: int
    period_start: int
    period_end: int
    latest_invoice: str | None
    cancel_at_period_end: bool = False
    canceled_at: int | None = None
    trial_end: int | None = None


@lru_cache(maxsize=16)
def subscription_id(ids: StripeIds, n: int) -> str:
    return ids.long("sub_", SUBSCRIPTION, n)


def subscription(ids: StripeIds, cus: str, s: SubscriptionSpec) -> dict[str, Any]:
    """``GET /v1/subscriptions?status=all`` item."""
    sid = subscription_id(ids, s.n)
    return {
        "id": sid,
        "object": "subscription",
        "billing_cycle_anchor": s.created,
        "cancel_at": s.period_end if s.cancel_at_period_end else None,
        "cancel_at_period_end": s.cancel_at_period_end,
        "canceled_at": s.canceled_at,
        "collection_method": "charge_automatically",
        "created": s.created,
        "currency": "usd",
        "customer": cus,
        "ended_at": s.canceled_at if s.status == "canceled" else None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": ids.short("si_", ITEM, s.n),
                    "object": "subscription_item",
                    "created": s.created,
                    "current_period_start": s.period_start,
                    "current_period_end": s.period_end,
                    "metadata": {},
                    "price": price(ids, s.plan),
                    "quantity": 1,
                    "subscription": sid,
                }
            ],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={sid}",
        },
        "latest_invoice": s.latest_invoice,
        "livemode": False,
        "metadata": {},
        "start_date": s.created,
        "status": s.status,
        "trial_end": s.trial_end,
        "trial_start": s.created if s.trial_end else None,
    }


class InvoiceSpec(NamedTuple):
    n: int
    number: str
    status: str  # paid, open, void, uncollectible
    amount_due: int
    amount_paid: int
    attempt_count: int
    created: int
    period_start: int
    period_end: int
    paid_at: int | None = None
    next_payment_attempt: int | None = None


def invoice_id(ids: StripeIds, n: int) -> str:
    return ids.long("in_", INVOICE, n)


def invoice(
    ids: StripeIds, cus: str, p: Person, sub: SubscriptionSpec, i: InvoiceSpec
) -> dict[str, Any]:
    """``GET /v1/invoices`` item (one line: the plan for the period)."""
    iid = invoice_id(ids, i.n)
    plan = sub.plan
    remaining = 0 if i.status in ("paid", "void") else i.amount_due - i.amount_paid
    per = "month" if plan.interval == "month" else "year"
    first = i.period_start == sub.created
    description = f"1 \u00d7 {plan.nickname} (at ${plan.unit_amount / 100:.2f} / {per})"
    return {
        "id": iid,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Lumen Labs",
        "amount_due": i.amount_due,
        "amount_paid": i.amount_paid,
        "amount_remaining": remaining,
        "attempt_count": i.attempt_count,
        "attempted": i.attempt_count > 0,
        "auto_advance": i.status == "open",
        "billing_reason": "subscription_create" if first else "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": i.created,
        "currency": "usd",
        "customer": cus,
        "customer_email": p.stripe_email,
        "customer_name": p.stripe_name,
        "due_date": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_demo/test_{iid[3:]}",
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": ids.long("il_", LINE, i.n),
                    "object": "line_item",
                    "amount": i.amount_due,
                    "currency": "usd",
                    "description": description,
                    "period": {"start": i.period_start, "end": i.period_end},
                    "quantity": 1,
                }
            ],
            "has_more": False,
            "url": f"/v1/invoices/{iid}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": i.next_payment_attempt,
        "number": i.number,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription_id(ids, sub.n)},
        },
        "period_end": i.period_end,
        "period_start": i.period_start,
        "status": i.status,
        "status_transitions": {
            "finalized_at": i.created + 3600,
            "marked_uncollectible_at": None,
            "paid_at": i.paid_at,
            "voided_at": None,
        },
        "subtotal": i.amount_due,
        "total": i.amount_due,
    }


class ChargeSpec(NamedTuple):
    n: int
    amount: int
    created: int
    failure_code: str | None = None
    amount_refunded: int = 0
    disputed: bool = False
    description: str | None = None


def charge_id(ids: StripeIds, n: int) -> str:
    return ids.long("ch_", CHARGE, n)


def charge(ids: StripeIds, cus: str, p: Person, card: Card, c: ChargeSpec) -> dict[str, Any]:
    """``GET /v1/charges`` item; failed charges carry a decline code and message."""
    failed = c.failure_code is not None
    return {
        "id": charge_id(ids, c.n),
        "object": "charge",
        "amount": c.amount,
        "amount_captured": 0 if failed else c.amount,
        "amount_refunded": c.amount_refunded,
        "billing_details": {"email": p.stripe_email, "name": p.stripe_name, "phone": None},
        "captured": not failed,
        "created": c.created,
        "currency": "usd",
        "customer": cus,
        "description": c.description,
        "disputed": c.disputed,
        "failure_code": c.failure_code,
        "failure_message": _DECLINES.get(c.failure_code or ""),
        "livemode": False,
        "metadata": {},
        "outcome": {
            "network_status": "declined_by_network" if failed else "approved_by_network",
            "reason": "generic_decline" if failed else None,
            "risk_level": "normal",
            "seller_message": "The bank did not return any further details with this decline."
            if failed
            else "Payment complete.",
            "type": "issuer_declined" if failed else "authorized",
        },
        "paid": not failed,
        "payment_intent": ids.long("pi_", INTENT, c.n),
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": card.brand,
                "country": "US",
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "fingerprint": card.fingerprint,
                "funding": "credit",
                "last4": card.last4,
                "network": card.brand,
            },
        },
        "receipt_email": None if failed else p.stripe_email,
        "refunded": c.amount_refunded >= c.amount and c.amount_refunded > 0,
        "status": "failed" if failed else "succeeded",
    }


def dispute(
    ids: StripeIds, n: int, c: ChargeSpec, reason: str, status: str, created: int
) -> dict[str, Any]:
    """``GET /v1/disputes`` item; evidence is due 10 days after it was opened."""
    return {
        "id": ids.long("dp_", DISPUTE, n),
        "object": "dispute",
        "amount": c.amount,
        "charge": charge_id(ids, c.n),
        "created": created,
        "currency": "usd",
        "evidence_details": {
            "due_by": created + 10 * 86_400,
            "has_evidence": status != "needs_response",
            "past_due": False,
            "submission_count": 0 if status == "needs_response" else 1,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": ids.long("pi_", INTENT, c.n),
        "reason": reason,
        "status": status,
    }
