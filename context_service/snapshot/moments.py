"""When a snapshot's time-dependent output changes, so that its stored row is rebuilt then.

Of everything a snapshot holds, only its signals (and the summary that repeats them) read the
clock (``derive_signals``'s ``now``): an unpaid invoice with a due date and no failed payment
becomes overdue once its due date has passed (``signals.overdue``), and a paid order not shipped
that the lists left out stops warning once it was placed more than ``UNSHIPPED_WINDOW_DAYS``
before (``signals._unshipped_to_warn``). ``next_change`` names the first such moment after the
build; it is stored with the row (``snapshots.refresh_at``), and a row whose moment has passed
is built again, with a new version (``snapshot.lookup``, ``serve``'s background pass).

Times are ISO-8601 UTC to the second (``2026-01-08T00:00:01Z``), as every ``now`` is: stored
and compared as text, they sort in time order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

from context_service.models import BillingSection, CommerceSection, Invoice, Order
from context_service.snapshot.signals import (
    UNSHIPPED_WINDOW_DAYS,
    Held,
    parse_time,
    payment_failed,
    unfulfilled,
    unpaid,
)

_SECOND = timedelta(seconds=1)


def next_change(
    commerce: CommerceSection,
    billing: BillingSection,
    *,
    now: str | None,
    orders: Sequence[Order] | None = None,
    held: Held | None = None,
) -> str | None:
    """The first second after ``now`` at which ``derive_signals`` given these same sections
    (``orders``: all the profile's orders, ``held``: every activity before the lists were cut,
    as ``derive_signals`` takes them) would answer differently than at ``now``, as ISO-8601 UTC
    to the second; ``None`` when no signal depends on the time (or ``now`` is no ISO time).
    """
    start = parse_time(now)
    if start is None:
        return None
    loaded = commerce.orders if orders is None else orders
    invoices = [*billing.invoices, *(held.invoices if held is not None else ())]
    later = [
        moment
        for moment in (
            *_overdue_moments(invoices),
            *_window_moments(commerce.orders, loaded, start),
        )
        if moment > start
    ]
    return format_time(min(later)) if later else None


def format_time(moment: datetime) -> str:
    """A time as stored: ISO-8601 UTC to the second (``2026-01-08T00:00:01Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _overdue_moments(invoices: Sequence[Invoice]) -> Iterator[datetime]:
    """For each invoice that warns once overdue, the first whole second after its due date
    (``overdue`` asks for a due date strictly before ``now``)."""
    for invoice in invoices:
        if not invoice.due_date or payment_failed(invoice) or not unpaid(invoice):
            continue
        due = parse_time(invoice.due_date)
        if due is None:
            continue
        try:
            yield due.replace(microsecond=0) + _SECOND
        except OverflowError:
            continue


def _window_moments(
    listed: Sequence[Order], loaded: Sequence[Order], start: datetime
) -> Iterator[datetime]:
    """For each paid order not shipped that warns only while recent (not listed), the moment
    it leaves the window: the start of the day ``UNSHIPPED_WINDOW_DAYS`` + 1 days after the day
    it was placed, in ``now``'s time zone (``_days_before``)."""
    shown = {id(order) for order in listed}
    for order in loaded:
        if id(order) in shown or not unfulfilled(order) or not order.created_at:
            continue
        placed = _day(order.created_at[:10])
        if placed is None:
            continue
        try:
            leaves = placed + timedelta(days=UNSHIPPED_WINDOW_DAYS + 1)
        except OverflowError:
            continue
        yield datetime.combine(leaves, time(0), tzinfo=start.tzinfo)


def _day(text: str) -> date | None:
    """A ``YYYY-MM-DD`` day (``None`` for anything else: it compares as text, never leaving)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if day.isoformat() == text else None
