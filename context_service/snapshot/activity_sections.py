"""The commerce, billing and support sections of a snapshot, built from a profile's activities.

Each list is capped (``RECENT_*``); what a list leaves out is still counted or totalled.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from operator import itemgetter
from typing import TypeVar

import msgspec

from context_service.models import (
    Activity,
    BillingSection,
    Charge,
    CommerceSection,
    Dispute,
    Invoice,
    Order,
    Subscription,
    SupportSection,
    Ticket,
)
from context_service.snapshot.signals import (
    OPEN_DISPUTE_STATUSES,
    OPEN_TICKET_STATUSES,
    unpaid,
)
from context_service.store.records import StoredRecord

RECENT_ORDERS = 10
RECENT_INVOICES = 6
RECENT_CHARGES = 6
RECENT_TICKETS = 10
RECENT_SUBSCRIPTIONS = 10
RECENT_DISPUTES = 10
RECENT_DEALS = 10
_CURRENT_SUBSCRIPTION_STATUSES = frozenset({"active", "past_due", "unpaid", "trialing"})
_OWED_STATUSES = frozenset({"past_due", "unpaid"})
A = TypeVar("A", bound=Activity)


def _of(acts: list[tuple[StoredRecord, Activity]], kind: type[A]) -> list[A]:
    if not acts:  # most profiles: no activity of any kind
        return []
    items: list[A] = [act for _, act in acts if isinstance(act, kind)]
    if len(items) < 2:  # already in order, and a new list as ``sorted`` returns
        return items
    return sorted(items, key=lambda a: a.created_at or "", reverse=True)


# ISO 4217 minor units other than two: currencies without decimal places (the list the Shopify
# mapper strips cents with, ``integrations.shopify.mapping``) and those with three (the dinars
# and the Omani rial).
_ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
)
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def _minor_units(currency: str | None) -> int:
    """A currency's decimal places (ISO 4217): 0 for the yen, 3 for the dinars, else 2."""
    code = (currency or "").upper()
    return 0 if code in _ZERO_DECIMAL else 3 if code in _THREE_DECIMAL else 2


def _decimals(amount: Decimal) -> int:
    """The decimal places an amount really carries (``"2500.00"``: 0; ``"1.005"``: 3)."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class _Spend(msgspec.Struct, frozen=True):
    """Money spent on orders, in the currency most of them were placed in.

    ``orders`` is how many orders ``total`` covers; ``mixed`` says orders with an amount in
    another currency (or none) were left out of it.
    """

    total: str | None = None
    currency: str | None = None
    orders: int = 0
    mixed: bool = False


def _commerce(orders: list[Order]) -> CommerceSection:
    spend = _spend(orders)
    return CommerceSection(
        order_count=len(orders),
        total_spent=spend.total,
        currency=spend.currency,
        orders=orders[:RECENT_ORDERS],
        total_order_count=spend.orders if spend.mixed else None,
    )


def _spend(orders: list[Order]) -> _Spend:
    """What the orders that were not cancelled cost, less what was refunded on them.

    Only the most common currency is added up (amounts in different currencies do not add);
    the total keeps that currency's decimal places (``4000`` JPY, ``15.50`` USD, ``12.345``
    KWD), and more when an amount carries more (``1.005`` USD).
    """
    live = [o for o in orders if o.status != "cancelled" and o.amount]
    if not live:
        return _Spend()
    currencies = Counter(o.currency for o in live if o.currency)
    # ``most_common(1)``: the first-counted of the commonest (``max`` keeps the first of ties)
    currency = max(currencies.items(), key=itemgetter(1))[0] if currencies else None
    counted = [o for o in live if o.currency == currency]
    amounts = [Decimal(o.amount or "0") for o in counted]
    refunds = [
        Decimal(r.amount)
        for o in counted
        for r in o.refunds
        if r.amount and (r.currency or o.currency) == currency
    ]
    total = sum(amounts, Decimal(0)) - sum(refunds, Decimal(0))
    places = max([_minor_units(currency)] + [_decimals(a) for a in amounts + refunds])
    return _Spend(
        total=str(max(total, Decimal(0)).quantize(Decimal(1).scaleb(-places))),
        currency=currency,
        orders=len(counted),
        mixed=len(counted) < len(live),
    )


def _billing(acts: list[tuple[StoredRecord, Activity]]) -> BillingSection:
    subs = _of(acts, Subscription)
    subs.sort(key=lambda s: s.status not in _CURRENT_SUBSCRIPTION_STATUSES)
    disputes = _of(acts, Dispute)
    disputes.sort(key=lambda d: d.status not in OPEN_DISPUTE_STATUSES)
    return BillingSection(
        subscriptions=_bounded_subscriptions(subs),
        invoices=_recent_and_unpaid(_of(acts, Invoice)),
        charges=_of(acts, Charge)[:RECENT_CHARGES],
        disputes=disputes[:RECENT_DISPUTES],
    )


def _bounded_subscriptions(subs: list[Subscription]) -> list[Subscription]:
    """At most ``RECENT_SUBSCRIPTIONS`` of ``subs``, in their order: those still owed
    (``past_due``, ``unpaid``) are kept first, then the others in order, so a warning is not
    cut behind newer active subscriptions."""
    if len(subs) <= RECENT_SUBSCRIPTIONS:
        return subs
    by_need = sorted(range(len(subs)), key=lambda i: subs[i].status not in _OWED_STATUSES)
    kept = set(by_need[:RECENT_SUBSCRIPTIONS])
    return [sub for i, sub in enumerate(subs) if i in kept]


def _recent_and_unpaid(invoices: list[Invoice]) -> list[Invoice]:
    """The newest ``RECENT_INVOICES`` invoices and, after them, older ones still owed (as many
    again at most, newest first): ``open`` or ``uncollectible`` with an amount left to pay,
    whether or not a payment was tried (``signals.unpaid``). Money still owed stays in view
    however many were paid since."""
    older_unpaid = [i for i in invoices[RECENT_INVOICES:] if unpaid(i)]
    return invoices[:RECENT_INVOICES] + older_unpaid[:RECENT_INVOICES]


def _with_recovered_subscriptions(
    acts: list[tuple[StoredRecord, Activity]],
) -> list[tuple[StoredRecord, Activity]]:
    """``acts`` with each past-due subscription whose latest invoice is paid made active
    (``_recovered``), each still paired with its own record."""
    invoices = {i.external_id: i for i in _of(acts, Invoice)}
    return [
        (record, _recovered(act, invoices) if isinstance(act, Subscription) else act)
        for record, act in acts
    ]


def _recovered(sub: Subscription, invoices: dict[str | None, Invoice]) -> Subscription:
    """A past-due subscription whose latest invoice has since been paid is active again.

    Stripe moves it to ``active`` on payment and says so in a separate event; until that event
    arrives the paid invoice is the newer truth, so we do not keep showing ``past_due``.
    """
    latest = invoices.get(sub.latest_invoice) if sub.latest_invoice else None
    if sub.status in {"past_due", "unpaid"} and latest is not None and latest.status == "paid":
        return msgspec.structs.replace(sub, status="active")
    return sub


def _support(tickets: list[Ticket]) -> SupportSection:
    if not tickets:  # what the lines below make of none
        return SupportSection(open_count=0, tickets=[])
    newest_first = sorted(tickets, key=lambda t: t.updated_at or t.created_at or "", reverse=True)
    ordered = sorted(newest_first, key=lambda t: t.status not in OPEN_TICKET_STATUSES)
    open_count = sum(1 for t in tickets if t.status in OPEN_TICKET_STATUSES)
    return SupportSection(open_count=open_count, tickets=ordered[:RECENT_TICKETS])
