"""Stripe API objects in the current shapes (``2026-10-28``): customer, price and subscription,
filled from given values (invoices, charges and disputes are in ``_stripe_billing``). Amounts
are integers in cents, times unix seconds.

Every field the API returns is written, as in ``refdata/stripe/*.json``, with no expandable
field expanded (a list call expands nothing): ``null``, ``[]`` or ``{}`` where this account has
nothing. Current-API details that matter: the billing period lives on the subscription *item*,
an invoice names its subscription under ``parent.subscription_details``, and a charge no longer
names its invoice.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from context_service.demo._util import StripeIds, base62, mix64
from context_service.demo.people import Person

# Salts that keep the id spaces of the different object types apart.
CUSTOMER, SUBSCRIPTION, ITEM, INVOICE, CHARGE, DISPUTE, PRICE, PRODUCT, INTENT, LINE = range(10)
METHOD, BALANCE = 10, 11
_BRANDS = ("visa", "visa", "visa", "mastercard", "mastercard", "amex", "discover")


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


def payment_method_id(ids: StripeIds, g: int) -> str:
    """The customer's saved card (``pm_...``)."""
    return ids.long("pm_", METHOD, g)


def customer_address(p: Person) -> dict[str, Any] | None:
    """The customer's billing address as Stripe writes it (``None`` when not given)."""
    a = p.address if p.stripe_address else None
    if a is None:
        return None
    return {
        "city": a.city,
        "country": a.country_code,
        "line1": a.address1,
        "line2": a.address2,
        "postal_code": a.zip,
        "state": a.province_code,
    }


class Account(NamedTuple):
    """What the customer object says about the billing that follows (see ``generate``)."""

    invoices: int = 0  # the highest invoice sequence number used
    subscriber: bool = False
    delinquent: bool = False


def customer(
    ids: StripeIds, seed: int, p: Person, created: int, account: Account | None = None
) -> dict[str, Any]:
    """``GET /v1/customers`` item (API 2026-10-28: every field, none expanded)."""
    acct = account or Account()
    return {
        "id": customer_id(ids, p.g),
        "object": "customer",
        "address": customer_address(p),
        "balance": 0,
        "created": created,
        "currency": "usd" if acct.invoices or acct.subscriber else None,
        "default_source": None,
        "delinquent": acct.delinquent,
        "description": None,
        "discount": None,
        "email": p.stripe_email,
        "invoice_prefix": invoice_prefix(seed, p.g),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": payment_method_id(ids, p.g) if acct.subscriber else None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(p.stripe_metadata),
        "name": p.stripe_name,
        "next_invoice_sequence": acct.invoices + 1,
        "phone": p.stripe_phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


@lru_cache(maxsize=64)
def _price_ids(ids: StripeIds, key: int, yearly: bool) -> tuple[str, str]:
    return ids.long("price_", PRICE, key * 2 + yearly), ids.short("prod_", PRODUCT, key)


PRICES_CREATED = 1_700_000_000  # when the shop set up its plans (Nov 2023)


def price(ids: StripeIds, plan: Plan) -> dict[str, Any]:
    price_id, product_id = _price_ids(ids, plan.key, plan.interval == "year")
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": PRICES_CREATED,
        "currency": "usd",
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": plan.nickname,
        "product": product_id,
        "recurring": {
            "interval": plan.interval,
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": plan.unit_amount,
        "unit_amount_decimal": str(plan.unit_amount),
    }


def _plan(ids: StripeIds, plan: Plan) -> dict[str, Any]:
    """The legacy ``plan`` twin of a recurring price, still on every subscription item."""
    price_id, product_id = _price_ids(ids, plan.key, plan.interval == "year")
    return {
        "id": price_id,
        "object": "plan",
        "active": True,
        "amount": plan.unit_amount,
        "amount_decimal": str(plan.unit_amount),
        "billing_scheme": "per_unit",
        "created": PRICES_CREATED,
        "currency": "usd",
        "interval": plan.interval,
        "interval_count": 1,
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": plan.nickname,
        "product": product_id,
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
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


def subscription(
    ids: StripeIds, cus: str, s: SubscriptionSpec, method: str | None = None
) -> dict[str, Any]:
    """``GET /v1/subscriptions?status=all`` item; ``method`` is the card it charges."""
    sid = subscription_id(ids, s.n)
    canceled = s.status == "canceled"
    return {
        "id": sid,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": s.created,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": s.period_end if s.cancel_at_period_end else None,
        "cancel_at_period_end": s.cancel_at_period_end,
        "canceled_at": s.canceled_at,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if canceled or s.cancel_at_period_end else None,
        },
        "collection_method": "charge_automatically",
        "created": s.created,
        "currency": "usd",
        "customer": cus,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": method,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": s.canceled_at if canceled else None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": ids.short("si_", ITEM, s.n),
                    "object": "subscription_item",
                    "billing_thresholds": None,
                    "created": s.created,
                    "current_period_end": s.period_end,
                    "current_period_start": s.period_start,
                    "discounts": [],
                    "metadata": {},
                    "plan": _plan(ids, s.plan),
                    "price": price(ids, s.plan),
                    "quantity": 1,
                    "subscription": sid,
                    "tax_rates": [],
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sid}",
        },
        "latest_invoice": s.latest_invoice,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": s.created,
        "status": s.status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": s.trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": s.created if s.trial_end else None,
    }
