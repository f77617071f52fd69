"""Stripe invoices, charges and disputes in the current shapes (``2026-10-28``).

As in ``_stripe``: every field the API returns (``refdata/stripe/invoice.json``,
``charge.json``, ``dispute.json``), nothing expanded. A charge no longer carries its
``refunds`` list (not included since API 2022-11-15 unless expanded), so none is written.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from context_service.demo._stripe import (
    BALANCE,
    CHARGE,
    DISPUTE,
    INTENT,
    INVOICE,
    ITEM,
    LINE,
    Card,
    SubscriptionSpec,
    customer_address,
    payment_method_id,
    price,
    subscription_id,
)
from context_service.demo._util import StripeIds, base62, mix64
from context_service.demo.people import Person

ACCOUNT = "acct_1LumenLabsDemo01"
_DECLINES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
}
_NULL_ADDRESS = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
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


def _line(
    ids: StripeIds, iid: str, sub: SubscriptionSpec, i: InvoiceSpec, description: str
) -> dict[str, Any]:
    plan = price(ids, sub.plan)
    return {
        "id": ids.long("il_", LINE, i.n),
        "object": "line_item",
        "amount": i.amount_due,
        "currency": "usd",
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": iid,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": subscription_id(ids, sub.n),
                "subscription_item": ids.short("si_", ITEM, sub.n),
            },
            "type": "subscription_item_details",
        },
        "period": {"end": i.period_end, "start": i.period_start},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": plan["id"], "product": plan["product"]},
            "type": "price_details",
            "unit_amount_decimal": plan["unit_amount_decimal"],
        },
        "quantity": 1,
        "subtotal": i.amount_due,
        "taxes": [],
    }


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
    finalized = i.created + 3600
    link = f"{ACCOUNT}/test_{iid[3:]}"
    return {
        "id": iid,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Lumen Labs",
        "account_tax_ids": None,
        "amount_due": i.amount_due,
        "amount_overpaid": 0,
        "amount_paid": i.amount_paid,
        "amount_remaining": remaining,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": i.attempt_count,
        "attempted": i.attempt_count > 0,
        "auto_advance": i.status == "open",
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": "subscription_create" if first else "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": i.created,
        "currency": "usd",
        "custom_fields": None,
        "customer": cus,
        "customer_account": None,
        "customer_address": customer_address(p),
        "customer_email": p.stripe_email,
        "customer_name": p.stripe_name,
        "customer_phone": p.stripe_phone,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": finalized,
        "ending_balance": 0,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{link}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/{link}/pdf",
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "object": "list",
            "data": [_line(ids, iid, sub, i, description)],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/invoices/{iid}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": i.next_payment_attempt,
        "number": i.number,
        "on_behalf_of": None,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": subscription_id(ids, sub.n)},
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": i.period_end,
        "period_start": i.period_start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": {
            "amount_tax_display": None,
            "pdf": {"page_size": "letter"},
            "template": None,
            "template_version": None,
        },
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": i.status,
        "status_transitions": {
            "finalized_at": finalized,
            "marked_uncollectible_at": None,
            "paid_at": i.paid_at,
            "voided_at": None,
        },
        "subscription": None,  # in the reference object; the link is under ``parent`` now
        "subtotal": i.amount_due,
        "subtotal_excluding_tax": i.amount_due,
        "test_clock": None,
        "total": i.amount_due,
        "total_discount_amounts": [],
        "total_excluding_tax": i.amount_due,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": i.created,
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


def _outcome(failed: bool, n: int) -> dict[str, Any]:
    return {
        "advice_code": "try_again_later" if failed else None,
        "network_advice_code": None,
        "network_decline_code": "05" if failed else None,
        "network_status": "declined_by_network" if failed else "approved_by_network",
        "reason": "generic_decline" if failed else None,
        "risk_level": "normal",
        "risk_score": mix64(n) % 40 + 5,
        "seller_message": "The bank did not return any further details with this decline."
        if failed
        else "Payment complete.",
        "type": "issuer_declined" if failed else "authorized",
    }


def _card(card: Card, amount: int, failed: bool, n: int) -> dict[str, Any]:
    return {
        "amount_authorized": None if failed else amount,
        "authorization_code": None if failed else f"{mix64(n) % 1_000_000:06d}",
        "brand": card.brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": None,
        },
        "country": "US",
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": card.fingerprint,
        "funding": "credit",
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": card.last4,
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": card.brand,
        "network_token": {"used": False},
        "network_transaction_id": None if failed else f"{mix64(n ^ 0x7A) % 10**15:015d}",
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "regulated_status": "unregulated",
        "three_d_secure": None,
        "wallet": None,
    }


def charge(ids: StripeIds, cus: str, p: Person, card: Card, c: ChargeSpec) -> dict[str, Any]:
    """``GET /v1/charges`` item; failed charges carry a decline code and message."""
    failed = c.failure_code is not None
    cid = charge_id(ids, c.n)
    receipt = f"https://pay.stripe.com/receipts/payment/{base62(mix64(c.n ^ 0xEC), 11) * 4}"
    return {
        "id": cid,
        "object": "charge",
        "amount": c.amount,
        "amount_captured": 0 if failed else c.amount,
        "amount_refunded": c.amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None if failed else ids.long("txn_", BALANCE, c.n),
        "billing_details": {
            "address": dict(_NULL_ADDRESS),
            "email": p.stripe_email,
            "name": p.stripe_name,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "LUMEN LABS",
        "captured": not failed,
        "created": c.created,
        "currency": "usd",
        "customer": cus,
        "description": c.description,
        "disputed": c.disputed,
        "failure_balance_transaction": None,
        "failure_code": c.failure_code,
        "failure_message": _DECLINES.get(c.failure_code or ""),
        "fraud_details": {},
        "livemode": False,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": _outcome(failed, c.n),
        "paid": not failed,
        "payment_intent": ids.long("pi_", INTENT, c.n),
        "payment_method": payment_method_id(ids, p.g),
        "payment_method_details": {"card": _card(card, c.amount, failed, c.n), "type": "card"},
        "radar_options": {},
        "receipt_email": None if failed else p.stripe_email,
        "receipt_number": None,
        "receipt_url": None if failed else receipt,
        "refunded": c.amount_refunded >= c.amount and c.amount_refunded > 0,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "failed" if failed else "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


_EVIDENCE = (
    "access_activity_log billing_address cancellation_policy cancellation_policy_disclosure "
    "cancellation_rebuttal customer_communication customer_email_address customer_name "
    "customer_purchase_ip customer_signature duplicate_charge_documentation "
    "duplicate_charge_explanation duplicate_charge_id product_description receipt refund_policy "
    "refund_policy_disclosure refund_refusal_explanation service_date service_documentation "
    "shipping_address shipping_carrier shipping_date shipping_documentation "
    "shipping_tracking_number uncategorized_file uncategorized_text"
).split()


def dispute(
    ids: StripeIds, n: int, c: ChargeSpec, reason: str, status: str, created: int, card: Card
) -> dict[str, Any]:
    """``GET /v1/disputes`` item; evidence is due 10 days after it was opened."""
    evidence: dict[str, Any] = dict.fromkeys(_EVIDENCE)
    evidence["enhanced_evidence"] = {}
    return {
        "id": ids.long("dp_", DISPUTE, n),
        "object": "dispute",
        "amount": c.amount,
        "balance_transactions": [],
        "charge": charge_id(ids, c.n),
        "created": created,
        "currency": "usd",
        "enhanced_eligibility_types": [],
        "evidence": evidence,
        "evidence_details": {
            "due_by": created + 10 * 86_400,
            "enhanced_eligibility": {},
            "has_evidence": status != "needs_response",
            "past_due": False,
            "submission_count": 0 if status == "needs_response" else 1,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": ids.long("pi_", INTENT, c.n),
        "payment_method_details": {
            "card": {
                "brand": card.brand,
                "case_type": "chargeback",
                "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
                "network": card.brand,
            },
            "type": "card",
        },
        "reason": reason,
        "status": status,
    }
