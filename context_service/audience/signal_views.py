"""Signals as a view may read them: a signal about a hidden field keeps its code and severity
and loses its details (``visible_signals``)."""

from __future__ import annotations

import msgspec

from context_service.audience.contacts import text_as_viewed
from context_service.audience.policy import View
from context_service.models import Signal, Snapshot
from context_service.snapshot.signals import UNLISTED_FIELDS

OPEN_TICKET = frozenset({"new", "open", "pending", "hold"})


def visible_signals(snap: Snapshot, view: View) -> list[Signal]:
    """The snapshot's signals as ``view`` may read them.

    Signals are account state and stay in every view, but a signal about a hidden field loses
    its details (plan, invoice number and amount, order, ticket subject...): it keeps its code
    and severity and says only what kind of thing needs attention, about nothing it could point
    at (no ``ref``). A count of what a cut list left out (``unlisted_...``) about a hidden
    field is not shown at all. The customer's own contacts quoted in a signal are shown as the
    view shows the contact fields (``contacts``).
    """
    text = text_as_viewed(snap, view)
    return [
        msgspec.structs.replace(shown, message=text(shown.message))
        for sig in snap.signals
        if (shown := _visible_signal(sig, snap, view)) is not None
    ]


def _visible_signal(sig: Signal, snap: Snapshot, view: View) -> Signal | None:
    field = _signal_field(sig)
    if field is None or view.shows(field):
        return sig
    if sig.code in UNLISTED_FIELDS:
        return None
    return msgspec.structs.replace(sig, message=_signal_without_details(sig, snap), ref=None)


def _signal_field(sig: Signal) -> str | None:
    """The field a signal is about, as the field policy names it (``None``: none known)."""
    if sig.code == "refund_issued":
        return "billing.charges" if sig.source == "stripe" else "orders"
    if sig.code.startswith("subscription_"):
        return "billing.subscriptions"
    return _SIGNAL_FIELDS.get(sig.code) or UNLISTED_FIELDS.get(sig.code)


_SIGNAL_FIELDS = {
    "invoice_payment_failed": "billing.invoices",
    "invoice_overdue": "billing.invoices",
    "dispute_open": "billing.disputes",
    "order_unfulfilled": "orders",
    "orders_unfulfilled": "orders",
    "open_tickets": "support.tickets",
}


def _signal_without_details(sig: Signal, snap: Snapshot) -> str:
    """A signal's words with nothing of the hidden record it is about."""
    if sig.code.startswith("subscription_"):
        state = sig.code.removeprefix("subscription_")
        verb = "was" if state == "canceled" else "is"
        return f"A subscription {verb} {state}"
    if sig.code == "open_tickets":
        listed = sum(1 for t in snap.support.tickets if t.status in OPEN_TICKET)
        return f"{max(snap.support.open_count, listed, 1)} open ticket(s)"
    return _GENERIC_SIGNALS.get(
        (sig.code, sig.source), _GENERIC_SIGNALS.get((sig.code, None), "Needs attention")
    )


_GENERIC_SIGNALS: dict[tuple[str, str | None], str] = {
    ("invoice_payment_failed", None): "Payment failed for an invoice",
    ("invoice_overdue", None): "An invoice is overdue",
    ("dispute_open", None): "A payment is disputed",
    ("order_unfulfilled", None): "An order is paid but not fulfilled yet",
    ("orders_unfulfilled", None): "More orders are paid but not fulfilled yet",
    ("refund_issued", "stripe"): "A card payment was refunded",
    ("refund_issued", None): "An order was refunded",
}
