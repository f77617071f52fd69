"""Signals: the few facts an agent must notice before replying, derived from the sections."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar

import msgspec

from context_service.models import (
    BillingSection,
    Charge,
    CommerceSection,
    CrmSection,
    Deal,
    Dispute,
    Invoice,
    Order,
    PersonFacet,
    RecordKey,
    Signal,
    Subscription,
    SupportSection,
    Ticket,
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
# Stripe invoices still owed: ``open`` (finalized, awaiting payment) and ``uncollectible``
# (written off, yet still payable). A ``draft`` is no bill yet and a ``void`` one was cancelled.
OWED_INVOICE_STATUSES = frozenset({"open", "uncollectible"})
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
# A paid order behind the listed ones still warns while placed within this many days of the
# snapshot's time; at most this many orders warn of not being shipped (newest first).
UNSHIPPED_WINDOW_DAYS = 60
MOST_UNSHIPPED_SIGNALS = 5
T = TypeVar("T")


class Held(msgspec.Struct, frozen=True):
    """Every activity of a profile, before the snapshot's lists were cut to their few.

    A signal about an item the lists left out is not lost: such items are counted in one
    signal per kind (``ref`` ``None``), and each cut list says how many it left out
    (``unlisted_<list>``, info).
    """

    subscriptions: Sequence[Subscription] = ()
    invoices: Sequence[Invoice] = ()
    charges: Sequence[Charge] = ()
    disputes: Sequence[Dispute] = ()
    tickets: Sequence[Ticket] = ()
    deals: Sequence[Deal] = ()


def derive_signals(
    commerce: CommerceSection,
    billing: BillingSection,
    support: SupportSection,
    *,
    orders: Sequence[Order] | None = None,
    now: str | None = None,
    people: Sequence[tuple[RecordKey, PersonFacet]] = (),
    held: Held | None = None,
    crm: CrmSection | None = None,
) -> list[Signal]:
    """Every signal for a profile, most severe first.

    ``orders`` are all the profile's orders, newest first (``commerce.orders`` lists the first
    few): a paid one not shipped warns when listed, or when placed within
    ``UNSHIPPED_WINDOW_DAYS`` of ``now`` (an ISO-8601 time); at most ``MOST_UNSHIPPED_SIGNALS``
    warn. ``people`` are the profile's live person records (a suspended Zendesk user warns).
    ``held``: every activity before the lists were cut (``Held``; ``None``: nothing was cut).
    """
    loaded = commerce.orders if orders is None else orders
    held = held or Held()
    unshipped = _unshipped_to_warn(commerce.orders, loaded, now)
    found = [
        *(_all_billing_signals(billing, held, now) if _holds_billing(billing, held) else ()),
        *_unshipped_signals(unshipped[:MOST_UNSHIPPED_SIGNALS]),
        *_more_unshipped(len(unshipped) - MOST_UNSHIPPED_SIGNALS),
        *_order_refund_signals(commerce.orders),
        *_unlisted_refunded_orders(_unlisted(commerce.orders, loaded)),
        *_person_signals(people),
        *_support_signals(support),
        *_cut_lists(billing, support, crm or CrmSection(), held),
    ]
    return sorted(found, key=lambda s: _SEVERITY_ORDER[s.severity])


def _holds_billing(billing: BillingSection, held: Held) -> bool:
    """Whether there is any billing item to signal about (most profiles have none: their
    billing signals are skipped, each being about one of these items)."""
    return bool(
        billing.subscriptions
        or billing.invoices
        or billing.charges
        or billing.disputes
        or held.subscriptions
        or held.invoices
        or held.charges
        or held.disputes
    )


def _all_billing_signals(billing: BillingSection, held: Held, now: str | None) -> Iterator[Signal]:
    """The signals about subscriptions, invoices, charges and disputes, listed or not (an
    invoice is overdue by ``now``, an ISO-8601 time)."""
    yield from _unlisted_invoice_signals(billing.invoices, held.invoices)  # first: the count
    yield from _billing_signals(billing, now)
    yield from _unlisted_billing_signals(billing, held, now)


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


def _billing_signals(billing: BillingSection, now: str | None) -> Iterator[Signal]:
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
        elif (words := _not_started(sub, billing.subscriptions)) is not None:
            yield Signal(
                f"subscription_{sub.status}",
                "warning",
                f"{plan} subscription {words}",
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
        elif overdue(invoice, now):
            yield Signal(
                "invoice_overdue",
                "warning",
                f"Invoice {invoice.number or ''} is overdue "
                f"({_money(_owed(invoice), invoice.currency)} due since "
                f"{(invoice.due_date or '')[:10]})".replace("Invoice  is", "An invoice is"),
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


# Stripe's statuses of a subscription that never got going, in words for support.
_NOT_STARTED = {
    "incomplete": "has not started: its first payment is not complete (Stripe waits 23 hours)",
    "incomplete_expired": "never started: its first payment was not made within 23 hours",
    "paused": "is paused: its trial ended without a payment method (no invoices until one is "
    "added)",
}


def _not_started(sub: Subscription, subscriptions: list[Subscription]) -> str | None:
    """What a subscription that never got going means (``_NOT_STARTED``); ``None`` for any
    other, and for an expired first attempt followed by a live plan (as ``_resubscribed``)."""
    words = _NOT_STARTED.get(sub.status or "")
    if words is None or (sub.status == "incomplete_expired" and _resubscribed(sub, subscriptions)):
        return None
    return words


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


def _owed(invoice: Invoice) -> str | None:
    """What is left to pay on an invoice (its amount when Stripe did not say)."""
    return invoice.amount_remaining or invoice.amount


def unpaid(invoice: Invoice) -> bool:
    """Whether an invoice is still owed: ``open`` or ``uncollectible`` with an amount left to
    pay, whether or not a payment was tried (a ``send_invoice`` invoice waits for the customer
    to pay it, and is never charged)."""
    return invoice.status in OWED_INVOICE_STATUSES and _nonzero(_owed(invoice))


def payment_failed(invoice: Invoice) -> bool:
    """Whether an invoice is still owed after at least one failed attempt to collect it."""
    return invoice.attempt_count > 0 and unpaid(invoice)


def overdue(invoice: Invoice, now: str | None) -> bool:
    """Whether an invoice is still owed after its due date (Stripe sets one on invoices sent
    to be paid, ``send_invoice``), by ``now`` (an ISO-8601 time; ``None``: cannot tell)."""
    if not invoice.due_date or not unpaid(invoice):
        return False
    due, moment = parse_time(invoice.due_date), parse_time(now)
    return due is not None and moment is not None and due < moment


@lru_cache(maxsize=256)
def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 time as an aware UTC ``datetime`` (``None``: none, or not an ISO time)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _suspended_zendesk_user(key: RecordKey, facet: PersonFacet) -> bool:
    zendesk_user = (key.source, key.kind) == ("zendesk", "user")
    return zendesk_user and facet.attributes.get("suspended") == "true"


def _order_name(order: Order) -> str:
    return order.title or order.number or "an order"


def _unshipped_to_warn(
    listed: Sequence[Order], loaded: Sequence[Order], now: str | None
) -> list[Order]:
    """The paid orders not shipped to warn of, newest first: the listed ones, and those behind
    them placed within ``UNSHIPPED_WINDOW_DAYS`` of ``now`` (the first
    ``MOST_UNSHIPPED_SIGNALS`` each warn, the rest are counted).
    """
    if not loaded:
        return []
    shown = {id(order) for order in listed}
    since = _days_before(now, UNSHIPPED_WINDOW_DAYS)
    recent = [
        order
        for order in loaded
        if unfulfilled(order) and (id(order) in shown or _placed_since(order, since))
    ]
    return recent


@lru_cache(maxsize=64)  # pure; every profile of a rebuild passes the same ``now``
def _days_before(now: str | None, days: int) -> str | None:
    """The day ``days`` before ``now`` (``YYYY-MM-DD``); ``None`` when ``now`` is no ISO time."""
    moment = parse_time(now)
    return None if moment is None else (moment - timedelta(days=days)).date().isoformat()


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


def unfulfilled(order: Order) -> bool:
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


# --------------------------------------------------------------------------------------------
# What the cut lists left out: counted, never dropped (``Held``).
# --------------------------------------------------------------------------------------------


def _unlisted(listed: Sequence[T], every: Sequence[T]) -> list[T]:
    """The items of ``every`` that ``listed`` left out (the lists hold the very same objects)."""
    shown = {id(item) for item in listed}
    return [item for item in every if id(item) not in shown]


def _more(count: int, noun: str) -> str:
    """``1 more invoice``, ``3 more invoices``."""
    return f"{count} more {noun}{'' if count == 1 else 's'}"


def _totals(amounts: Sequence[tuple[str | None, str | None]]) -> str:
    """Amounts summed per currency (``"35.00 USD, 10.00 EUR"``); ``""`` if none is known."""
    totals: dict[str | None, Decimal] = {}
    for amount, currency in amounts:
        try:
            value = Decimal(amount or "")
        except InvalidOperation:
            continue
        totals[currency] = totals.get(currency, Decimal(0)) + value
    return ", ".join(_money(str(value), currency) for currency, value in totals.items())


def _with_total(text: str, total: str) -> str:
    return f"{text} ({total})" if total else text


def _unlisted_billing_signals(
    billing: BillingSection, held: Held, now: str | None
) -> Iterator[Signal]:
    """One signal per kind for the billing items the lists left out that would signal
    (failed invoices: ``_unlisted_invoice_signals``)."""
    yield from _unlisted_subscription_signals(billing.subscriptions, held.subscriptions)
    invoices = _unlisted(billing.invoices, held.invoices)
    late = [i for i in invoices if overdue(i, now) and not payment_failed(i)]
    if late:
        total = _totals([(_owed(i), i.currency) for i in late])
        words = f"{_more(len(late), 'invoice')} overdue, not listed"
        yield Signal(
            "invoice_overdue", "warning", _with_total(words, total and f"{total} due"), "stripe"
        )
    disputes = _unlisted(billing.disputes, held.disputes)
    open_disputes = [d for d in disputes if d.status in OPEN_DISPUTE_STATUSES]
    if open_disputes:
        total = _totals([(d.amount, d.currency) for d in open_disputes])
        words = _with_total(f"{_more(len(open_disputes), 'open dispute')}, not listed", total)
        yield Signal("dispute_open", "critical", words, "stripe")
    charges = _unlisted(billing.charges, held.charges)
    refunded = [c for c in charges if c.refunded or _nonzero(c.amount_refunded)]
    if refunded:
        total = _totals([(c.amount_refunded or c.amount, c.currency) for c in refunded])
        words = _with_total(f"{_more(len(refunded), 'card payment')} refunded, not listed", total)
        yield Signal("refund_issued", "info", words, "stripe")


def _unlisted_subscription_signals(
    listed: Sequence[Subscription], every: Sequence[Subscription]
) -> Iterator[Signal]:
    cut = _unlisted(listed, every)
    for status in ("past_due", "unpaid"):
        owed = [s for s in cut if s.status == status]
        if owed:
            words = f"{_more(len(owed), 'subscription')} {status}, not listed"
            yield Signal(f"subscription_{status}", "critical", words, "stripe")
    canceled = [s for s in cut if s.status == "canceled" and not _resubscribed(s, list(every))]
    if canceled:
        words = f"{_more(len(canceled), 'subscription')} canceled, not listed"
        yield Signal("subscription_canceled", "warning", words, "stripe")


def _unlisted_invoice_signals(
    listed: Sequence[Invoice], every: Sequence[Invoice]
) -> Iterator[Signal]:
    """How many invoices failed in all, what the ones not listed owe, and the oldest unpaid."""
    cut = [i for i in _unlisted(listed, every) if payment_failed(i)]
    if not cut:
        return
    failed = [i for i in every if payment_failed(i)]
    oldest = min(failed, key=lambda i: i.created_at or "")
    due = _totals([(_owed(i), i.currency) for i in cut])
    since = f" {oldest.created_at[:10]}" if oldest.created_at else ""
    owed = _money(_owed(oldest), oldest.currency)
    yield Signal(
        "invoice_payment_failed",
        "critical",
        f"Payment failed for {len(failed)} invoices in all; {_more(len(cut), 'invoice')} "
        f"not listed{f' ({due} due)' if due else ''}; oldest unpaid{since}, {owed}",
        "stripe",
    )


def _more_unshipped(count: int) -> Iterator[Signal]:
    """The paid orders not shipped beyond those that warn one by one, counted in one signal
    (``orders_unfulfilled``: ``order_unfulfilled`` is one order's, and names it)."""
    if count > 0:
        words = f"{_more(count, 'paid order')} not fulfilled yet"
        yield Signal("orders_unfulfilled", "warning", words, "shopify")


def _unlisted_refunded_orders(orders: Sequence[Order]) -> Iterator[Signal]:
    refunded = [
        o for o in orders if o.refunds or o.financial_status in {"refunded", "partially_refunded"}
    ]
    if refunded:
        words = f"{_more(len(refunded), 'order')} refunded, not listed"
        yield Signal("refund_issued", "info", words, "shopify")


def _cut_lists(
    billing: BillingSection, support: SupportSection, crm: CrmSection, held: Held
) -> Iterator[Signal]:
    """For each list cut to its few, how many items it left out (orders say it in
    ``order_count``)."""
    lists: list[tuple[str, str, Sequence[object], Sequence[object]]] = [
        ("subscriptions", "stripe", billing.subscriptions, held.subscriptions),
        ("invoices", "stripe", billing.invoices, held.invoices),
        ("charges", "stripe", billing.charges, held.charges),
        ("disputes", "stripe", billing.disputes, held.disputes),
        ("tickets", "zendesk", support.tickets, held.tickets),
        ("deals", "hubspot", crm.deals, held.deals),
    ]
    for name, source, listed, every in lists:
        left_out = len(every) - len(listed)
        if left_out > 0:
            words = f"{_more(left_out, name[:-1])} not listed ({len(every)} in all)"
            yield Signal(f"unlisted_{name}", "info", words, source)


UNLISTED_FIELDS: dict[str, str] = {
    "unlisted_subscriptions": "billing.subscriptions",
    "unlisted_invoices": "billing.invoices",
    "unlisted_charges": "billing.charges",
    "unlisted_disputes": "billing.disputes",
    "unlisted_tickets": "support.tickets",
    "unlisted_deals": "crm.deals",
}
