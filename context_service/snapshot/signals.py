"""Signals: the few facts an agent must notice before replying, derived from the sections."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from context_service.models import (
    BillingSection,
    CommerceSection,
    Invoice,
    Order,
    PersonFacet,
    RecordKey,
    Signal,
    Subscription,
    SupportSection,
)
from context_service.snapshot.quoting import quoted
from context_service.snapshot.summary import waiting_words

OPEN_TICKET_STATUSES = frozenset({"new", "open", "pending", "hold"})
OPEN_DISPUTE_STATUSES = frozenset(
    {"needs_response", "warning_needs_response", "under_review", "warning_under_review"}
)
# Paid (at least in part) and still expected to ship: an unshipped order warns.
_SHIPPABLE_PAYMENT_STATUSES = frozenset(
    {"paid", "partially_paid", "authorized", "partially_refunded"}
)
_LIVE_SUBSCRIPTION_STATUSES = frozenset({"active", "trialing"})
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
# A paid order behind the listed ones still warns while placed within this many days of the
# snapshot's time; at most this many orders warn of not being shipped (newest first).
UNSHIPPED_WINDOW_DAYS = 60
MOST_UNSHIPPED_SIGNALS = 5


def derive_signals(
    commerce: CommerceSection,
    billing: BillingSection,
    support: SupportSection,
    *,
    orders: Sequence[Order] | None = None,
    now: str | None = None,
    people: Sequence[tuple[RecordKey, PersonFacet]] = (),
) -> list[Signal]:
    """Every signal for a profile, most severe first.

    ``orders`` are all the profile's orders, newest first (``commerce.orders`` lists the first
    few): a paid one not shipped warns when listed, or when placed within
    ``UNSHIPPED_WINDOW_DAYS`` of ``now`` (an ISO-8601 time); at most ``MOST_UNSHIPPED_SIGNALS``
    warn. ``people`` are the profile's live person records (a suspended Zendesk user warns).
    """
    loaded = commerce.orders if orders is None else orders
    found = [
        *_billing_signals(billing),
        *_unshipped_signals(_unshipped_to_warn(commerce.orders, loaded, now)),
        *_order_refund_signals(commerce.orders),
        *_person_signals(people),
        *_support_signals(support),
    ]
    return sorted(found, key=lambda s: _SEVERITY_ORDER[s.severity])


def _person_signals(people: Sequence[tuple[RecordKey, PersonFacet]]) -> Iterator[Signal]:
    """A warning for each suspended Zendesk user among the profile's records: often a spammer,
    whose contacts are not matched on and whose name carries ``(suspended)``."""
    for key, facet in people:
        if _suspended_zendesk_user(key, facet):
            yield Signal(
                "zendesk_user_suspended",
                "warning",
                f"Zendesk user {key.external_id} is suspended",
                "zendesk",
                key.external_id,
            )


def _money(amount: str | None, currency: str | None) -> str:
    return f"{amount} {currency}" if amount and currency else (amount or "an amount")


def _nonzero(amount: str | None) -> bool:
    """Whether a decimal amount string is other than zero (``"0.000"`` KWD is zero).

    An amount that is not a number is taken as nonzero: we do not hide what we cannot read.
    """
    if amount is None or amount == "":
        return False
    try:
        return Decimal(amount) != 0
    except InvalidOperation:
        return True


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
        elif sub.status == "canceled" and not _resubscribed(sub, billing.subscriptions):
            when = f" on {sub.canceled_at[:10]}" if sub.canceled_at else ""
            yield Signal(
                "subscription_canceled",
                "warning",
                f"{plan} subscription was canceled{when}",
                "stripe",
                sub.external_id,
            )
    for invoice in billing.invoices:
        if payment_failed(invoice):
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
        if charge.refunded or _nonzero(charge.amount_refunded):
            yield Signal(
                "refund_issued",
                "info",
                f"Card payment refunded ({_money(charge.amount_refunded, charge.currency)})",
                "stripe",
                charge.external_id,
            )


def _resubscribed(canceled: Subscription, subscriptions: list[Subscription]) -> bool:
    """Whether an active or trialing subscription was started after this one was canceled.

    The customer subscribed again: the old cancellation is history, not a warning. Without
    dates to compare we cannot tell, and the warning stays.
    """
    ended = canceled.canceled_at or canceled.created_at
    if not ended:
        return False
    return any(
        other.status in _LIVE_SUBSCRIPTION_STATUSES
        and other.created_at is not None
        and other.created_at >= ended
        for other in subscriptions
    )


def payment_failed(invoice: Invoice) -> bool:
    """Whether an invoice is still owed after at least one failed attempt to collect it."""
    remaining = invoice.amount_remaining or invoice.amount
    return (
        invoice.status in {"open", "uncollectible"}
        and invoice.attempt_count > 0
        and _nonzero(remaining)
    )


def _suspended_zendesk_user(key: RecordKey, facet: PersonFacet) -> bool:
    zendesk_user = (key.source, key.kind) == ("zendesk", "user")
    return zendesk_user and facet.attributes.get("suspended") == "true"


def _order_name(order: Order) -> str:
    return order.title or order.number or "an order"


def _unshipped_to_warn(
    listed: Sequence[Order], loaded: Sequence[Order], now: str | None
) -> list[Order]:
    """The paid orders not shipped to warn of, newest first: the listed ones, and those behind
    them placed within ``UNSHIPPED_WINDOW_DAYS`` of ``now``; at most ``MOST_UNSHIPPED_SIGNALS``.
    """
    shown = {id(order) for order in listed}
    since = _days_before(now, UNSHIPPED_WINDOW_DAYS)
    recent = [
        order
        for order in loaded
        if _unfulfilled(order) and (id(order) in shown or _placed_since(order, since))
    ]
    return recent[:MOST_UNSHIPPED_SIGNALS]


def _days_before(now: str | None, days: int) -> str | None:
    """The day ``days`` before ``now`` (``YYYY-MM-DD``); ``None`` when ``now`` is no ISO time."""
    if not now:
        return None
    try:
        moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment - timedelta(days=days)).date().isoformat()


def _placed_since(order: Order, day: str | None) -> bool:
    return day is not None and order.created_at is not None and order.created_at[:10] >= day


def _unshipped_signals(orders: Sequence[Order]) -> Iterator[Signal]:
    for order in orders:
        placed = f" placed {order.created_at[:10]}" if order.created_at else ""
        yield Signal(
            "order_unfulfilled",
            "warning",
            f"Order {_order_name(order)}{placed} is {order.financial_status} but "
            f"{_not_shipped(order)}",
            "shopify",
            order.external_id,
        )


def _order_refund_signals(orders: Sequence[Order]) -> Iterator[Signal]:
    for order in orders:
        if order.refunds or order.financial_status in {"refunded", "partially_refunded"}:
            total = _refunded_total(order)
            yield Signal(
                "refund_issued",
                "info",
                f"Order {_order_name(order)} was {order.financial_status or 'refunded'}"
                + (f" ({total})" if total else ""),
                "shopify",
                order.external_id,
            )


def _refunded_total(order: Order) -> str:
    """All of an order's refunds, summed per currency (``"35.00 USD"``); ``""`` if none known.

    A refund without its own currency is in the order's currency.
    """
    totals: dict[str | None, Decimal] = {}
    for refund in order.refunds:
        if not refund.amount:
            continue
        try:
            amount = Decimal(refund.amount)
        except InvalidOperation:
            continue
        currency = refund.currency or order.currency
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return ", ".join(_money(str(amount), currency) for currency, amount in totals.items())


def _not_shipped(order: Order) -> str:
    """``not fulfilled yet``, ``only partly fulfilled``, and why it waits when the vendor says
    (``not fulfilled yet (on hold)``)."""
    shipped = (
        "only partly fulfilled" if order.fulfillment_status == "partial" else "not fulfilled yet"
    )
    detail = waiting_words(order)
    return f"{shipped} ({detail})" if detail else shipped


def _unfulfilled(order: Order) -> bool:
    """Paid but not (entirely) shipped. An unknown fulfilment state (``None``) is not a warning:
    a spreadsheet without a fulfilment column says nothing about shipping; nor is an order
    with nothing to ship (``not_required``: digital goods)."""
    return (
        order.status != "cancelled"
        and order.financial_status in _SHIPPABLE_PAYMENT_STATUSES
        and order.fulfillment_status in {"unfulfilled", "partial"}
    )


def _support_signals(support: SupportSection) -> Iterator[Signal]:
    # ``tickets`` holds the most recent few; ``open_count`` counts every open ticket.
    open_tickets = [t for t in support.tickets if t.status in OPEN_TICKET_STATUSES]
    if not open_tickets:
        return
    count = max(support.open_count, len(open_tickets))
    latest = open_tickets[0]
    subject = f", latest {quoted(latest.title)}" if latest.title else ""
    # About the one ticket when it is the only one open (a rendering folds the signal into
    # that ticket's line); with several, the count is the news and stays a line of its own.
    about = latest.external_id if count == 1 else None
    yield Signal("open_tickets", "warning", f"{count} open ticket(s){subject}", "zendesk", about)
