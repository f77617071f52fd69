"""The next step for the person taking over: what the customer asked first, then the account.

The step answers the customer's own request (read from their turns; from the bot's reason only
when they said nothing): a duplicate charge, a cancellation, an order that has not shipped. A
failed or past-due payment the account shows is not what they asked about: it is added as a
second note ("Also: ..."), and is the step itself only when the customer asked about billing,
or for nothing the rules know. Fields the view hides are never read (``billing.charges``,
``orders``).
"""

from __future__ import annotations

from context_service.audience.policy import View
from context_service.handoff import intent
from context_service.handoff.orders import order_name
from context_service.models import Order, Snapshot
from context_service.snapshot.signals import unfulfilled
from context_service.snapshot.summary import fulfilment_words, order_state

_PAYMENT_CODES = frozenset({"invoice_payment_failed", "subscription_past_due"})
PAYMENT_STEP = (
    "Explain the failed payment and help the customer update the card to retry the invoice."
)
_PAYMENT_NOTE = (
    "Also: a payment failed on this account; explain it and help the customer update the card "
    "to retry the invoice."
)
_CANCEL_STEP = "Confirm what the customer wants cancelled and when, then process or route it."
_REFUND_STEP = (
    "Find the charge or order the customer wants refunded and check it before promising a "
    "refund, then refund it or route it to billing."
)
_ORDER_STEP = "Check the order's status and tracking and tell the customer where it is."
_SHIP_DATE_STEP = (
    "Check the unfulfilled order with the warehouse and give the customer a ship date."
)
DEFAULT_STEP = (
    "Read what the customer wrote (every turn is under Wants), confirm the request with them, "
    "and resolve or route it."
)


def next_step(snap: Snapshot, said: list[str], reason: str, view: View, named: list[Order]) -> str:
    """The step for what the customer asked, with the account's payment problem as a second
    note; the payment step itself for a billing question no other rule answers. ``named``:
    the orders the conversation names, the one in question first (``orders.named_orders``)."""
    asked = intent.topics(said) if said else intent.topics([reason])
    text = " ".join(said or [reason]).lower()
    failing = bool(_PAYMENT_CODES & {s.code for s in snap.signals})
    if "billing" in asked and ("twice" in text or "double" in text):
        return _duplicate_step(snap, view)  # it explains a failed payment itself
    step = _asked_step(snap, asked, text, view, named)
    if step is None and failing and "billing" in asked:
        return PAYMENT_STEP
    step = step or DEFAULT_STEP
    return f"{step} {_PAYMENT_NOTE}" if failing else step


def _asked_step(
    snap: Snapshot, asked: list[str], text: str, view: View, named: list[Order]
) -> str | None:
    """The step for the customer's request (``text``: their words, lower case), or ``None``
    when no rule knows it."""
    if "cancellation" in asked:
        return _CANCEL_STEP
    if "billing" in asked and ("refund" in text or "money back" in text):
        return _REFUND_STEP
    if "shipping" in asked:
        return _order_step(snap, view, named)
    return None


def _order_step(snap: Snapshot, view: View, named: list[Order]) -> str:
    """The step for a question about an order: the order in question when the conversation
    names one (its state in the summary's words), else the newest one left unshipped."""
    if named and not unfulfilled(named[0]):
        order = named[0]
        return (
            f"Check order {order_name(order)} ({order_state(order)}) and its tracking, and tell "
            "the customer where it stands."
        )
    if named:
        return _unshipped_step(named[0])
    if "order_unfulfilled" in {s.code for s in snap.signals}:
        return _unshipped_step(_first_unshipped(snap) if view.shows("orders") else None)
    return _ORDER_STEP


def _duplicate_step(snap: Snapshot, view: View) -> str:
    if not view.shows("billing.charges"):
        return (
            "Check the Stripe charges for a duplicate before promising a refund. If there is "
            "no duplicate, explain any failed payment and ask the customer to update the card."
        )
    failed = [ch for ch in snap.billing.charges if ch.status == "failed"]
    succeeded = [ch for ch in snap.billing.charges if ch.status == "succeeded"]
    return (
        f"Check the Stripe charges for a duplicate before promising a refund: the data shows "
        f"{len(succeeded)} successful and {len(failed)} failed charge(s) recently. If there "
        "is no duplicate, explain the failed payment and ask the customer to update the card."
    )


def _unshipped_step(order: Order | None) -> str:
    """The next step for a paid order not shipped yet, in the summary's words for why it waits
    (``unfulfilled (on hold)``); the plain ship-date step when there is no order to name (the
    view hides orders, the order the signal names is not listed) or no reason it waits."""
    detail = order.fulfillment_detail if order else None
    if order is None or detail is None:
        return _SHIP_DATE_STEP
    state = f"The order {order_name(order)} is {fulfilment_words(order)}"
    if detail == "on_hold":
        return (
            f"{state}: check why it is held (payment review, address, stock) and when it will be "
            "released before giving the customer a ship date."
        )
    if detail == "scheduled":
        return f"{state}: check its scheduled date and give the customer that date."
    if detail == "request_declined":
        return (
            f"{state}: check why the fulfilment service declined it and re-route it before "
            "giving the customer a ship date."
        )
    return f"{state}: check its progress with the warehouse and give the customer a ship date."


def _first_unshipped(snap: Snapshot) -> Order | None:
    """The listed order of the first ``order_unfulfilled`` signal (the newest one warned of)."""
    refs = [s.ref for s in snap.signals if s.code == "order_unfulfilled" and s.ref]
    by_id = {o.external_id: o for o in snap.commerce.orders if o.external_id}
    return next((by_id[ref] for ref in refs if ref in by_id), None)
