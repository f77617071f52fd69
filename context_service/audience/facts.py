"""A snapshot as a list of atomic facts: the units that audiences select, order and drop.

A fact is one self-contained statement (a signal, an order, a ticket, a subscription...) with its
line(s) of text and its JSON item. A budget drops whole facts, never part of one. Fields the
view hides are never turned into facts at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec

from context_service.audience.contacts import mask_email, mask_phone
from context_service.audience.policy import View
from context_service.audience.segments import Line, customer, unquote
from context_service.audience.signal_views import OPEN_TICKET, visible_signals
from context_service.audience.wording import Wording, money, nonzero, plural
from context_service.models import (
    Activity,
    Charge,
    CommerceSection,
    Conflict,
    Deal,
    Dispute,
    Invoice,
    LineItem,
    Order,
    Snapshot,
    Subscription,
    Ticket,
)
from context_service.snapshot.render import paused_payments

_UNPAID_INVOICE = frozenset({"open", "uncollectible"})


class Fact(msgspec.Struct):
    """One statement about the customer: its kind, rank within the kind, text and JSON item."""

    kind: str
    line: Line
    data: dict[str, Any]
    rank: int = 0
    sub: list[Line] = []
    ref: str | None = None
    indent: bool = False


def snapshot_facts(snap: Snapshot, view: View, matched: str | None = None) -> list[Fact]:
    """Every fact the view allows, in no particular order (audiences order them).

    ``matched``: how the caller found this customer (``email``, ``name and order_number,
    medium confidence``...), said on the identity line when given.
    """
    w = Wording(snap.generated_at)
    facts: list[Fact] = [_who(snap, view, w, matched)]
    for builder in (_signals, _tickets, _billing, _orders, _crm, _identity, _records, _extra):
        facts.extend(builder(snap, view, w))
    if not view.shows("records"):
        facts = [_without_record_ids(fact) for fact in facts]
    return facts


def focus_facts(act: Activity, snap: Snapshot, view: View) -> list[Fact]:
    """The facts of the record looked up, read beside the snapshot because its capped lists
    leave it out (``focus``), as ``view`` allows them: none when the view hides its kind.

    Each is ranked after the listed ones of its kind, and refers to the record (``ref``), so
    that ``compose.place`` puts it in question."""
    w = Wording(snap.generated_at)
    facts = list(_activity_facts(act, snap, view, w))
    return facts if view.shows("records") else [_without_record_ids(f) for f in facts]


def _activity_facts(act: Activity, snap: Snapshot, view: View, w: Wording) -> Iterator[Fact]:
    b, ids = snap.billing, view.shows("records")
    if isinstance(act, Order) and view.shows("orders"):
        yield _order(act, "order.other", len(snap.commerce.orders), view, w)
    elif isinstance(act, Ticket) and view.shows("support.tickets"):
        rank = len(snap.support.tickets)
        kind = "ticket.open" if act.status in OPEN_TICKET else "ticket.closed"
        yield _ticket(act, kind, rank, w)
        if view.shows("support.comments") and act.last_public_comment:
            yield _comment(act, rank)
    elif isinstance(act, Invoice) and view.shows("billing.invoices"):
        kind = "invoice.unpaid" if act.status in _UNPAID_INVOICE else "invoice.other"
        yield _invoice(act, kind, len(b.invoices), ids, w)
    elif isinstance(act, Subscription) and view.shows("billing.subscriptions"):
        yield _subscription(act, len(b.subscriptions), w)
    elif isinstance(act, Charge) and view.shows("billing.charges"):
        paid_later = recovered_failures([act, *b.charges], b.invoices).get(id(act))
        kind = "charge.failed" if act.status == "failed" and not paid_later else "charge.other"
        yield _charge(act, kind, len(b.charges), view.shows("billing.card"), w, paid_later)
    elif isinstance(act, Dispute) and view.shows("billing.disputes"):
        yield _dispute(act, len(b.disputes), ids, w)
    elif isinstance(act, Deal) and view.shows("crm.deals"):
        yield _deal(act, len(snap.crm.deals), view)


# Vendor record ids and dashboard links in activity items, shown only with ``records``
# (a ticket's number stays: customers see it in the helpdesk's own mail).
_RECORD_ID_KEYS = frozenset({"external_id", "url", "latest_invoice", "subscription", "charge"})


def _without_record_ids(fact: Fact) -> Fact:
    """The fact without vendor ids and links, its refunds' ids (``re_...``) included."""
    if _RECORD_ID_KEYS.isdisjoint(fact.data) and "refunds" not in fact.data:
        return fact
    data = {k: v for k, v in fact.data.items() if k not in _RECORD_ID_KEYS}
    if isinstance(data.get("refunds"), list):
        data["refunds"] = [_without_ids(refund) for refund in data["refunds"]]
    return msgspec.structs.replace(fact, data=data)


def _without_ids(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    return {k: v for k, v in item.items() if k not in _RECORD_ID_KEYS}


def visible_contacts(snap: Snapshot, view: View) -> tuple[list[str], list[str]]:
    """The emails and phones ``view`` lets an audience see: all, masked, or none."""
    if view.contact == "none":
        return [], []
    emails = snap.identity.emails if view.shows("identity.emails") else []
    phones = snap.identity.phones if view.shows("identity.phones") else []
    if view.contact == "masked":
        return [mask_email(e) for e in emails], [mask_phone(p) for p in phones]
    return list(emails), list(phones)


# The identity line (and the summary's) of a view that hides ``identity.names``.
NAME_HIDDEN = "Customer (name hidden)"


def _who(snap: Snapshot, view: View, w: Wording, matched: str | None) -> Fact:
    ident = snap.identity
    emails, phones = visible_contacts(snap, view)
    named = view.shows("identity.names")
    name = ident.name if named else None
    line: list[Any] = (
        ["Customer: ", customer(ident.name or "unknown name", 120)] if named else [NAME_HIDDEN]
    )
    if emails or phones:
        line.append(", " + ", ".join([*emails[:2], *phones[:2]]))
    since = ident.customer_since[:7] if ident.customer_since else None
    if since:
        line.append(f"; since {w.month(since)}")
    if matched:
        line.append(f"; matched by {matched}")
    sources = sorted({m.source for m in snap.members})
    data = {
        "name": name,
        "emails": emails,
        "phones": phones,
        "customer_since": since,
        "sources": sources,
    }
    return Fact("who", tuple(line), data)


def _signals(snap: Snapshot, view: View, _w: Wording) -> Iterator[Fact]:
    for rank, sig in enumerate(visible_signals(snap, view)):
        yield Fact(
            f"signal.{sig.severity}",
            (f"[{sig.severity}] ", *unquote(sig.message)),
            {"code": sig.code, "severity": sig.severity, "message": sig.message},
            rank,
            ref=sig.ref,
        )


def _tickets(snap: Snapshot, view: View, w: Wording) -> Iterator[Fact]:
    if not view.shows("support.tickets"):
        return
    comments = view.shows("support.comments")
    for rank, t in enumerate(snap.support.tickets):
        is_open = t.status in OPEN_TICKET
        yield _ticket(t, "ticket.open" if is_open else "ticket.closed", rank, w)
        if comments and t.last_public_comment:
            yield _comment(t, rank)


def _ticket(t: Ticket, kind: str, rank: int, w: Wording) -> Fact:
    when = w.day(t.updated_at or t.created_at)
    urgency = f", {t.priority}" if t.priority in ("high", "urgent") else ""
    line: Line = (f"Ticket {t.external_id} {t.status}{urgency}, {when}: ", customer(t.title, 200))
    if t.satisfaction:  # the customer's rating (``bad``), or ``offered``: asked, not answered
        line = (*line, f"; satisfaction: {t.satisfaction}")
    data: dict[str, Any] = {
        "id": t.external_id,
        "status": t.status,
        "priority": t.priority,
        "subject": customer(t.title, 200).text,
        "updated_at": t.updated_at or t.created_at,
    }
    if t.satisfaction:
        data["satisfaction"] = t.satisfaction
    return Fact(kind, line, data, rank, ref=t.external_id)


def _comment(t: Ticket, rank: int) -> Fact:
    text = customer(t.last_public_comment)
    line: Line = ("last comment: ", text)
    data = {"ticket": t.external_id, "last_public_comment": text.text}
    return Fact("ticket.comment", line, data, rank, ref=t.external_id, indent=True)


def _billing(snap: Snapshot, view: View, w: Wording) -> Iterator[Fact]:
    b = snap.billing
    if view.shows("billing.subscriptions"):
        for rank, sub in enumerate(b.subscriptions):
            yield _subscription(sub, rank, w)
    ids = view.shows("records")  # vendor ids (in_..., dp_...) only with the records
    if view.shows("billing.invoices"):
        unpaid = [i for i in b.invoices if i.status in _UNPAID_INVOICE]
        paid = [i for i in b.invoices if i.status not in _UNPAID_INVOICE]
        yield from (_invoice(i, "invoice.unpaid", r, ids, w) for r, i in enumerate(unpaid))
        yield from (_invoice(i, "invoice.other", r, ids, w) for r, i in enumerate(paid))
    if view.shows("billing.charges"):
        card = view.shows("billing.card")
        paid_later = recovered_failures(b.charges, b.invoices)
        failed = [c for c in b.charges if c.status == "failed" and id(c) not in paid_later]
        other = [c for c in b.charges if c.status != "failed" or id(c) in paid_later]
        days = Counter(w.day(c.created_at) for c in b.charges)  # a day twice: say the time
        timed = {id(c) for c in b.charges if days[w.day(c.created_at)] > 1}
        for rank, c in enumerate(failed):
            yield _charge(c, "charge.failed", rank, card, w, timed=id(c) in timed)
        for rank, c in enumerate(other):
            later = paid_later.get(id(c))
            yield _charge(c, "charge.other", rank, card, w, later, timed=id(c) in timed)
    if view.shows("billing.disputes"):
        for rank, d in enumerate(b.disputes):
            yield _dispute(d, rank, ids, w)


def _dispute(d: Dispute, rank: int, ids: bool, w: Wording) -> Fact:
    due = f", evidence due {w.day(d.evidence_due_by)}" if d.evidence_due_by else ""
    name = f"Dispute {d.external_id}" if ids and d.external_id else "Dispute"
    reason = f" ({d.reason})" if d.reason else ""
    line = (f"{name}: {d.status or 'unknown status'}{reason}, {_money(d)}{due}",)
    return Fact("dispute", line, _item(d), rank, ref=d.external_id)


def recovered_failures(charges: list[Charge], invoices: list[Invoice]) -> dict[int, Charge]:
    """Failed charges that a later payment made good, keyed by ``id()``: the earliest later
    charge of the same amount and currency that succeeded (Stripe's retry, or the customer
    paying again, with another card maybe).

    A charge names no invoice in a snapshot, so the amount and currency stand for it; and while
    an invoice in that currency is still unpaid (open or uncollectible, with an amount due),
    no failure in it counts as made good: next month's payment of the same plan does not pay
    this month's invoice. A recovered failure is history, not a payment problem: it is listed
    among the other charges, saying when it was paid, and a budget never keeps it without
    the payment that followed it.
    """
    owing = {
        i.currency for i in invoices if i.status in _UNPAID_INVOICE and nonzero(i.amount_remaining)
    }
    succeeded = [c for c in charges if c.status == "succeeded" and c.created_at]
    found: dict[int, Charge] = {}
    for failed in charges:
        if failed.status != "failed" or not failed.created_at or failed.currency in owing:
            continue
        later = [
            c
            for c in succeeded
            if c.amount == failed.amount
            and c.currency == failed.currency
            and (c.created_at or "") > failed.created_at
        ]
        if later:
            found[id(failed)] = min(later, key=lambda c: c.created_at or "")
    return found


def _money(activity: Subscription | Invoice | Charge | Dispute | Order) -> str:
    return money(activity.amount, activity.currency)


def _subscription(sub: Subscription, rank: int, w: Wording) -> Fact:
    price = f" {_money(sub)}/{sub.interval}" if sub.amount and sub.interval else ""
    paused = f", {paused_payments(sub)}" if sub.collection_paused else ""
    state = sub.status or "unknown status"
    plan = sub.plan or sub.title or "(no plan name)"
    line = (f"Subscription {plan}{price}: {state}{_term(sub, w)}{paused}",)
    return Fact("subscription", line, _item(sub), rank, ref=sub.external_id)


# Subscriptions Stripe has ended: their last period says nothing about access.
_ENDED_SUBSCRIPTION = frozenset({"canceled", "incomplete_expired"})
# Subscriptions whose period runs on to its end, a cancellation at that end included.
_RUNNING_SUBSCRIPTION = frozenset({"active", "trialing"})


def _term(sub: Subscription, w: Wording) -> str:
    """What the subscription's dates mean: when a canceled one was canceled (``canceled Dec 17
    2025``: it has ended, whatever its last period said), ``access until`` the period's end
    only for one that runs on to it while set to cancel there, else when its period ends."""
    if sub.status in _ENDED_SUBSCRIPTION:
        return f" {w.day(sub.canceled_at)}" if sub.status == "canceled" and sub.canceled_at else ""
    end = w.day(sub.current_period_end) if sub.current_period_end else None
    if not sub.cancel_at_period_end:
        return f", period ends {end}" if end else ""
    if end and sub.status in _RUNNING_SUBSCRIPTION:
        return f", cancels at period end (access until {end})"
    return f", period ends {end}, cancels at period end" if end else ", cancels at period end"


def _invoice(inv: Invoice, kind: str, rank: int, ids: bool, w: Wording) -> Fact:
    number = inv.number or (inv.external_id if ids else None)
    name = (f"Invoice {number} " if number else "Invoice ") + f"{w.day(inv.created_at)}: "
    owes = inv.status not in _OWES_NOTHING
    remaining = owes and nonzero(inv.amount_remaining)
    if inv.status in _UNPAID_INVOICE and inv.attempt_count > 0 and remaining:
        state = f"payment failed ({plural(inv.attempt_count, 'attempt')})"
    else:
        state = inv.status or "unknown status"
    total = "" if remaining and inv.amount_remaining == inv.amount else f", {_money(inv)}"
    due = f", {money(inv.amount_remaining, inv.currency)} due" if remaining else ""
    nothing = "" if owes else _OWES_NOTHING[inv.status or ""]
    next_try = inv.next_payment_attempt if owes else None
    retry = f", retry {w.day(next_try)}" if next_try else ""
    line = name + state + total + due + nothing + retry
    return Fact(kind, (line,), _item(inv), rank, ref=inv.external_id)


# Invoices that ask for no payment, whatever their ``amount_remaining``: a draft is not final
# yet, a void one was cancelled.
_OWES_NOTHING = {"draft": ", not final yet, nothing due", "void": ", nothing due"}


def _charge(
    ch: Charge,
    kind: str,
    rank: int,
    card: bool,
    w: Wording,
    paid_later: Charge | None = None,
    *,
    timed: bool = False,
) -> Fact:
    """A charge's line; ``timed``: with its time of day, as another charge shares its day."""
    reason = f" ({ch.failure_code})" if ch.failure_code else ""
    on_card = f" on {ch.card_brand} ending {ch.card_last4}" if card and ch.card_last4 else ""
    refunded = _charge_refunded(ch)
    when = w.day_and_time(ch.created_at) if timed else w.day(ch.created_at)
    line = (f"Charge {when}: {ch.status}{reason}, {_money(ch)}{on_card}{refunded}",)
    data = _item(ch)
    if paid_later is not None:
        line = (f"{line[0]}; paid by a later charge {w.day(paid_later.created_at)}",)
        data["paid_later_at"] = paid_later.created_at
    if not card:
        data.pop("card_brand", None)
        data.pop("card_last4", None)
    return Fact(kind, line, data, rank, ref=ch.external_id)


def _charge_refunded(ch: Charge) -> str:
    """``, refunded`` for a full refund; ``, 25 EUR refunded`` for a part, in its currency."""
    if ch.refunded:
        return ", refunded"
    if nonzero(ch.amount_refunded):
        return f", {money(ch.amount_refunded, ch.currency)} refunded"
    return ""


def _orders(snap: Snapshot, view: View, w: Wording) -> Iterator[Fact]:
    c = snap.commerce
    if not view.shows("orders") or not c.orders:
        return
    if c.order_count > 1:  # one order's total is that order's amount
        yield _orders_total(c)
    for rank, order in enumerate(c.orders):
        yield _order(order, "order.latest" if rank == 0 else "order.other", rank, view, w)


def _orders_total(c: CommerceSection) -> Fact:
    """``3 orders, 120 USD in total``; with no amount known (none stated, or every order
    cancelled) only the count, never a spend of zero it does not know."""
    covered = c.total_order_count
    data: dict[str, Any] = {"count": c.order_count, "total_spent": c.total_spent}
    if covered is not None:
        data["total_order_count"] = covered
    count = plural(c.order_count, "order")
    if c.total_spent is None:
        return Fact("orders.total", (count,), data)
    spent = money(c.total_spent, c.currency)
    across = (
        f"{spent} in total"
        if covered is None
        else f"{spent} across {plural(covered, f'{c.currency} order')}"
    )
    return Fact("orders.total", (f"{count}, {across}",), data)


def _order(o: Order, kind: str, rank: int, view: View, w: Wording) -> Fact:
    state = f"{_payment(o, w)}, {_fulfilment(o)}"
    line: list[Any] = [f"Order {o.title or o.number} {w.day(o.created_at)}: {_money(o)}, {state}"]
    if o.cancelled_at:
        line.append(f", cancelled {w.day(o.cancelled_at)}")
    if not _fully_refunded(o):
        for r in o.refunds:
            when = f" {w.day(r.created_at)}" if r.created_at else ""
            line.append(f", {money(r.amount, r.currency or o.currency)} refunded{when}")
    if view.shows("orders.line_items") and o.line_items:
        items = ", ".join(_item_name(li) for li in o.line_items)
        line.append(f"; items: {items}{_more_items(o)}")
    if view.shows("orders.tracking"):
        line.extend(_tracking(o))
    sub: list[Line] = []
    if view.shows("orders.note") and o.note:
        sub.append(("note: ", customer(o.note)))
    data = _item(o)
    for field, name in (("line_items", "orders.line_items"), ("fulfillments", "orders.tracking")):
        if not view.shows(name):
            data.pop(field, None)
    if o.note and view.shows("orders.note"):
        data["note"] = customer(o.note).text
    else:
        data.pop("note", None)
    return Fact(kind, tuple(line), data, rank, sub, ref=o.external_id)


def _fully_refunded(o: Order) -> bool:
    """One refund of the whole order: ``refunded Oct 18`` says it all."""
    return o.financial_status == "refunded" and len(o.refunds) == 1


def _payment(o: Order, w: Wording) -> str:
    if _fully_refunded(o) and o.refunds[0].created_at:
        return f"refunded {w.day(o.refunds[0].created_at)}"
    return o.financial_status or "unknown payment"


def _fulfilment(o: Order) -> str:
    """``unfulfilled``, ``unfulfilled (on hold)``, ``fulfilment not required``..."""
    status = o.fulfillment_status
    if status is None:
        return "fulfilment unknown"
    if status == "not_required":
        return "fulfilment not required"
    detail = f" ({o.fulfillment_detail.replace('_', ' ')})" if o.fulfillment_detail else ""
    return status + detail


def _item_name(item: LineItem) -> str:
    """``2x Mug``; a removed line ``Mug: removed``, a partly removed one ``Mug: 1 of 3 left``."""
    ordered, left = item.ordered_quantity, item.quantity
    if ordered is not None and left <= 0:
        return f"{item.title}: removed"
    if ordered is not None and left < ordered:
        return f"{item.title}: {left} of {ordered} left"
    return f"{left}x {item.title}" if left > 1 else item.title


def _more_items(o: Order) -> str:
    """`` and 14 more`` when the order has lines not read, `` and more`` if not counted."""
    if not o.more_line_items:
        return ""
    return f" and {o.more_items_quantity} more" if o.more_items_quantity else " and more"


def _tracking(o: Order) -> list[str]:
    out = []
    for f in o.fulfillments:
        numbers = " ".join(f.tracking_numbers)
        out.append(
            f"; {f.tracking_company or 'carrier'} {numbers} ({f.shipment_status or f.status})"
        )
    return out


def _crm(snap: Snapshot, view: View, w: Wording) -> Iterator[Fact]:
    crm = snap.crm
    owner = crm.owner if view.shows("crm.owner") else None
    stage = crm.lifecycle_stage if view.shows("crm.stage") else None
    if stage or owner:  # each shown or hidden on its own
        parts = [f"CRM lifecycle stage: {stage}"] if stage else []
        parts += [f"owner {owner}"] if owner else []
        text = "; ".join(parts) if stage else f"CRM owner {owner}"
        yield Fact("crm.stage", (text,), {"lifecycle_stage": stage, "owner": owner})
    if view.shows("crm.deals"):
        for rank, d in enumerate(crm.deals):
            yield _deal(d, rank, view)


def _deal(d: Deal, rank: int, view: View) -> Fact:
    amount = money(d.amount, d.currency) if d.amount else "no amount"
    line = ("Deal ", customer(d.title, 120), f": {d.status}, stage {d.stage}, {amount}")
    data = _item(d)
    if not view.shows("crm.owner"):
        data.pop("owner_id", None)
    return Fact("crm.deal", line, data, rank, ref=d.external_id)


def _identity(snap: Snapshot, view: View, _w: Wording) -> Iterator[Fact]:
    ident = snap.identity
    others = [n for n in ident.names if n != ident.name]
    if view.shows("identity.names") and others:
        line: list[Any] = ["Also known as: "]
        for index, name in enumerate(others[:5]):
            line.extend([", "] if index else [])
            line.append(customer(name, 120))
        yield Fact("identity.names", tuple(line), {"names": others[:5]})
    if view.shows("identity.company") and ident.company:
        company = customer(ident.company, 120)
        yield Fact("identity.company", ("Company: ", company), {"company": company.text})
    if view.shows("identity.addresses"):
        for rank, a in enumerate(ident.addresses[:3]):
            parts = [a.street, a.city, a.region, a.postcode, a.country]
            text = ", ".join(p for p in parts if p)
            data = msgspec.to_builtins(a)
            yield Fact("identity.address", ("Address: ", customer(text, 200)), data, rank)


# The field that shows a record of each activity kind: a view that hides the field hides the
# record's reference and dashboard link too (an order number is an order).
_KIND_FIELDS = {
    "order": "orders",
    "invoice": "billing.invoices",
    "subscription": "billing.subscriptions",
    "charge": "billing.charges",
    "refund": "billing.charges",
    "dispute": "billing.charges",
    "ticket": "support.tickets",
    "deal": "crm.deals",
}


def _records(snap: Snapshot, view: View, _w: Wording) -> Iterator[Fact]:
    if not view.shows("records"):
        return
    shown = (m for m in snap.members if view.shows(_KIND_FIELDS.get(m.kind, "records")))
    for rank, m in enumerate(shown):
        link = f" {m.url}" if m.url else ""
        line = (f"Record {m.source} {m.kind} {m.external_id}{link}",)
        yield Fact("record", line, msgspec.to_builtins(m), rank, ref=m.external_id)


def _extra(snap: Snapshot, view: View, _w: Wording) -> Iterator[Fact]:
    if view.shows("conflicts"):
        shown = (_visible_conflict(c, view) for c in snap.conflicts)
        for rank, c in enumerate(c for c in shown if c is not None):
            values = ", ".join(f"{v.source}: {v.value}" for v in c.values)
            line = (f"Conflict on {c.field}: showing ", customer(c.chosen, 120), f" ({c.rule})")
            data = msgspec.to_builtins(c)
            yield Fact("conflict", (*line, "; ", customer(values, 300)), data, rank)
    if view.shows("freshness") and snap.freshness:
        text = ", ".join(f"{f.source} {(f.as_of or 'never')[:16]}" for f in snap.freshness)
        data = {"freshness": msgspec.to_builtins(snap.freshness)}
        yield Fact("freshness", (f"Data as of: {text}",), data)


# The field a conflict's values belong to, as the field policy names it.
_CONFLICT_FIELDS = {
    "name": "identity.names",
    "phone": "identity.phones",
    "company": "identity.company",
}


def _visible_conflict(conflict: Conflict, view: View) -> Conflict | None:
    """A conflict as ``view`` may see it: none when its field is hidden (or, for a phone, when
    contacts are not shown), its phones masked when contacts are masked."""
    field = _CONFLICT_FIELDS.get(conflict.field)
    if field is not None and not view.shows(field):
        return None
    if conflict.field != "phone" or view.contact == "full":
        return conflict
    if view.contact == "none":
        return None
    replace = msgspec.structs.replace
    values = [replace(v, value=_mask_written_phone(v.value)) for v in conflict.values]
    return replace(conflict, chosen=_mask_written_phone(conflict.chosen), values=values)


def _mask_written_phone(text: str) -> str:
    """``mask_phone`` of a phone however it is written (``+1 415-555-0134``)."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return mask_phone(("+" if text.lstrip().startswith("+") else "") + digits)


def _item(activity: msgspec.Struct) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(activity)
    data.pop("owners", None)
    data.pop("type", None)
    return data
