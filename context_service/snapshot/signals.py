"""Signals: the few facts an agent must notice before replying, derived from the sections."""

from __future__ import annotations

from collections.abc import Iterator

from context_service.models import (
    BillingSection,
    CommerceSection,
    Invoice,
    Order,
    Signal,
    SupportSection,
)
from context_service.snapshot.quoting import quoted

OPEN_TICKET_STATUSES = frozenset({"new", "open", "pending", "hold"})
OPEN_DISPUTE_STATUSES = frozenset(
    {"needs_response", "warning_needs_response", "under_review", "warning_under_review"}
)
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def derive_signals(
    commerce: CommerceSection, billing: BillingSection, support: SupportSection
) -> list[Signal]:
    """Every signal for a profile, most severe first."""
    found = [
        *_billing_signals(billing),
        *_order_signals(commerce.orders),
        *_support_signals(support),
    ]
    return sorted(found, key=lambda s: _SEVERITY_ORDER[s.severity])


def _money(amount: str | None, currency: str | None) -> str:
    return f"{amount} {currency}" if amount and currency else (amount or "an amount")


def _billing_signals(billing: BillingSection) -> Iterator[Signal]:
    for sub in billing.subscriptions:
        plan = sub.plan or sub.title or "subscription"
        if sub.status in {"past_due", "unpaid"}:
            yield Signal(
                f"subscription_{sub.status}",
                "critical",
                f"{plan} subscription is {sub.status}",
                "stripe",
                sub.external_id,
            )
        elif sub.status == "canceled":
            when = f" on {sub.canceled_at[:10]}" if sub.canceled_at else ""
            yield Signal(
                "subscription_canceled",
                "warning",
                f"{plan} subscription was canceled{when}",
                "stripe",
                sub.external_id,
            )
    for invoice in billing.invoices:
        if _payment_failed(invoice):
            yield Signal(
                "invoice_payment_failed",
                "critical",
                f"Payment failed for invoice {invoice.number or ''} "
                f"({_money(invoice.amount_remaining, invoice.currency)} due, "
                f"{invoice.attempt_count} attempt(s))".replace("invoice  (", "invoice ("),
                "stripe",
                invoice.external_id,
            )
    for dispute in billing.disputes:
        if dispute.status in OPEN_DISPUTE_STATUSES:
            yield Signal(
                "dispute_open",
                "critical",
                f"Open dispute ({dispute.reason or 'no reason given'}) for "
                f"{_money(dispute.amount, dispute.currency)}, status {dispute.status}",
                "stripe",
                dispute.external_id,
            )
    for charge in billing.charges:
        if charge.refunded or (charge.amount_refunded not in {None, "0.00", "0"}):
            yield Signal(
                "refund_issued",
                "info",
                f"Card payment refunded ({_money(charge.amount_refunded, charge.currency)})",
                "stripe",
                charge.external_id,
            )


def _payment_failed(invoice: Invoice) -> bool:
    remaining = invoice.amount_remaining or invoice.amount or "0"
    return (
        invoice.status in {"open", "uncollectible"}
        and invoice.attempt_count > 0
        and remaining not in {"0", "0.00"}
    )


def _order_signals(orders: list[Order]) -> Iterator[Signal]:
    for order in orders:
        name = order.title or order.number or "an order"
        if _unfulfilled(order):
            placed = f" placed {order.created_at[:10]}" if order.created_at else ""
            yield Signal(
                "order_unfulfilled",
                "warning",
                f"Order {name}{placed} is {order.financial_status} but not fulfilled yet",
                "shopify",
                order.external_id,
            )
        if order.refunds or order.financial_status in {"refunded", "partially_refunded"}:
            total = _money(order.refunds[0].amount, order.currency) if order.refunds else ""
            yield Signal(
                "refund_issued",
                "info",
                f"Order {name} was {order.financial_status or 'refunded'}"
                + (f" ({total})" if total else ""),
                "shopify",
                order.external_id,
            )


def _unfulfilled(order: Order) -> bool:
    return (
        order.status != "cancelled"
        and order.financial_status in {"paid", "partially_paid", "authorized"}
        and order.fulfillment_status in {None, "unfulfilled", "partial"}
    )


def _support_signals(support: SupportSection) -> Iterator[Signal]:
    open_tickets = [t for t in support.tickets if t.status in OPEN_TICKET_STATUSES]
    if not open_tickets:
        return
    latest = open_tickets[0]
    subject = f", latest {quoted(latest.title)}" if latest.title else ""
    yield Signal(
        "open_tickets",
        "warning",
        f"{len(open_tickets)} open ticket(s){subject}",
        "zendesk",
        latest.external_id,
    )
