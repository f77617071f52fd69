"""The orders an escalation is about: those the conversation names, as facts.

The customer's own words weigh most: the orders they name (their latest mention first) come
before those the bot's turns name, then the reason's ("the bot thought #1003; the customer says
no, #1001"). A number is read as people write it: ``#1002``, ``order 1002``, ``order#1002``,
``order no. 1002``, ``my order number is 1002``. Only this customer's orders count: a number
none of theirs carries names nothing, and another customer's order is never looked up. An order
older than the snapshot's newest ones is read from the store, as ``GET /v1/context`` reads the
record in question (``audience.focus.HeldRecords``).
"""

from __future__ import annotations

import re
import unicodedata

from context_service.audience.contacts import activity_as_viewed
from context_service.audience.focus import HeldRecords
from context_service.audience.policy import View
from context_service.handoff.tickets import ticket_spans
from context_service.models import Order, Snapshot
from context_service.snapshot.summary import order_state

# At most this many orders the conversation names are listed in the facts.
MAX_NAMED_ORDERS = 3
# At most this many numbers not in the snapshot are looked up in the store (a chat full of
# ``#`` numbers costs a few reads, not one per number).
_MAX_STORE_LOOKUPS = 6
# ``#1002``, ``order 1002``, ``order#1002``, ``order no. 1002``, ``order number #1002``,
# ``order number is 1002``, ``order: 1002``: the reference itself.
# Every run of spaces is possessive (``\s*+``): taken whole, never split back and forth, so a
# turn of "order" and 8,000 spaces costs a pass, not a quadratic search.
_ORDER_REF = re.compile(
    r"(?:(?<![\w&])#|\border\s*+(?:(?:no\.?|number|nr\.?|id)\s*+)?(?:(?:is|was|:)\s*+)?#?\s*+)"
    r"([A-Za-z0-9-]*\d[A-Za-z0-9-]*)",
    re.IGNORECASE,
)


def named_orders(
    snap: Snapshot,
    view: View,
    texts: tuple[list[str], list[str], str],
    held: HeldRecords | None = None,
) -> list[Order]:
    """This customer's orders that ``texts`` (the customer's turns, the bot's turns, the
    reason) name, at most ``MAX_NAMED_ORDERS``, ranked as the module says; none when the view
    hides orders. ``held`` reads one past the snapshot's lists from the store."""
    if not view.shows("orders"):
        return []
    said, bot, reason = texts
    found: list[Order] = []
    lookups = 0
    for ref in dict.fromkeys(_order_refs([*reversed(said), *reversed(bot), reason])):
        order = next((o for o in snap.commerce.orders if ref in _order_keys(o)), None)
        if order is None and held is not None and lookups < _MAX_STORE_LOOKUPS:
            lookups += 1
            order = _held_order(snap, view, held, ref)
        if order is not None and order not in found:
            found.append(order)
        if len(found) == MAX_NAMED_ORDERS:
            break
    return found


def _order_refs(texts: list[str]) -> list[str]:
    """The order numbers ``texts`` name, text by text, the latest mention in each first;
    lower case, without ``#`` (full-width digits read as digits)."""
    refs: list[str] = []
    for text in texts:
        normal = unicodedata.normalize("NFKC", text)
        tickets = ticket_spans(normal)  # "ticket #1001" names a ticket, not order #1001
        found = [
            m.group(1)
            for m in _ORDER_REF.finditer(normal)
            if not any(start <= m.start(1) < end for start, end in tickets)
        ]
        refs.extend(ref.lower() for ref in reversed(found))
    return refs


def _held_order(snap: Snapshot, view: View, held: HeldRecords, ref: str) -> Order | None:
    order = held.order_numbered(snap, ref)
    if order is None:
        return None
    shown = activity_as_viewed(order, snap, view)
    return shown if isinstance(shown, Order) else None


def _order_keys(order: Order) -> set[str]:
    return {k.lstrip("#").lower() for k in (order.number, order.title) if k}


def order_fact(label: str, o: Order) -> str:
    """``Order in question #1002 2026-10-11: 95.04 USD, paid, fulfilled``: the order's state
    in the summary's words (why it waits, ``fulfilment not required``, ``fulfilment
    unknown``, a cancellation), never a status the order does not have."""
    name = order_name(o)
    day = f" {o.created_at[:10]}" if o.created_at else ""
    amount = " ".join(v for v in (o.amount, o.currency) if v) if o.amount else "amount unknown"
    return f"{label} {name}{day}: {amount}, {order_state(o)}"


def order_name(order: Order) -> str:
    """``#1002``: the order's title, else its number."""
    return order.title or order.number or "(no number)"
