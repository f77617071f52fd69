"""Render a snapshot as plain text for a prompt or a terminal.

Customer-written text (names, companies, ticket subjects and comments, order notes, deal names)
is never rendered bare: it is JSON-quoted and labelled ``customer-written``, so that a model
reading the text treats it as quoted data rather than as instructions.
"""

from __future__ import annotations

from collections.abc import Iterator

from context_service.models import CommerceSection, Snapshot, Subscription
from context_service.snapshot.graphemes import grapheme_boundary
from context_service.snapshot.quoting import one_line, quoted
from context_service.snapshot.summary import order_state


def render_text(snapshot: Snapshot) -> str:
    """The whole snapshot as compact, sectioned plain text."""
    return "\n".join(map(one_line, _lines(snapshot))) + "\n"


def _lines(s: Snapshot) -> Iterator[str]:
    yield f"# Customer {s.profile_id} (version {s.version})"
    yield _summary(s)
    yield from _identity(s)
    if s.signals:
        yield "## Signals"
        yield from (f"- [{sig.severity}] {sig.message}" for sig in s.signals)
    yield from _commerce(s)
    yield from _billing(s)
    yield from _crm(s)
    yield from _support(s)
    yield from _conflicts(s)
    yield "## Freshness"
    yield "- " + ", ".join(f"{f.source} as of {f.as_of}" for f in s.freshness)


def _conflicts(s: Snapshot) -> Iterator[str]:
    """Each conflict with its values quoted: they are names, companies and phones as the
    customer gave them to each source."""
    if not s.conflicts:
        return
    yield "## Conflicts"
    for c in s.conflicts:
        others = ", ".join(f"{v.source}: {quoted(v.value)}" for v in c.values)
        yield f"- {c.field}: showing {quoted(c.chosen)} ({c.rule}); {others}"


def _summary(s: Snapshot) -> str:
    """The summary, with the customer-written name that starts it quoted."""
    name = s.identity.name
    if name and s.summary.startswith(name):
        return quoted(name) + s.summary[len(name) :]
    return s.summary


def _identity(s: Snapshot) -> Iterator[str]:
    ident = s.identity
    yield "## Identity"
    yield f"- name: {quoted(ident.name) if ident.name else 'unknown'}"
    if ident.emails:
        yield f"- emails: {', '.join(ident.emails)}"
    if ident.phones:
        yield f"- phones: {', '.join(ident.phones)}"
    if ident.company:
        yield f"- company: {quoted(ident.company)}"
    ids = ", ".join(f"{m.source} {m.kind} {m.external_id}" for m in s.members if _is_person(m.kind))
    yield f"- records: {ids}"


def _is_person(kind: str) -> bool:
    return kind in {"customer", "contact", "user", "row"}


def _commerce(s: Snapshot) -> Iterator[str]:
    c = s.commerce
    if not c.orders:
        return
    yield _orders_heading(c)
    for o in c.orders:
        tracking = "; ".join(
            f"{f.tracking_company or 'carrier'} {' '.join(f.tracking_numbers)} "
            f"({f.shipment_status or f.status or 'shipped'})"
            for f in o.fulfillments
        )
        amount = f"{o.amount} {o.currency or ''}".rstrip() if o.amount else "no amount"
        day = o.created_at[:10] if o.created_at else ""
        line = f"- {o.title} {day}: {amount}, {order_state(o)}"
        yield line + (f", tracking {tracking}" if tracking else "")
        if o.note:
            yield f"  note: {quoted(o.note)}"


def _orders_heading(c: CommerceSection) -> str:
    """``## Orders (3, 352.08 USD total)``: the count, and the total when the snapshot has one
    (none when no order counts in it, every one cancelled, say: never a total of ``0``)."""
    if not c.total_spent:
        return f"## Orders ({c.order_count})"
    spent = f"{c.total_spent} {c.currency or ''}".strip()
    if c.total_order_count is None:
        return f"## Orders ({c.order_count}, {spent} total)"
    return f"## Orders ({c.order_count}; {spent} across {c.total_order_count} of them)"


def _billing(s: Snapshot) -> Iterator[str]:
    b = s.billing
    if not (b.subscriptions or b.invoices or b.charges or b.disputes):
        return
    yield "## Billing"
    for sub in b.subscriptions:
        yield f"- subscription {sub.plan or sub.title}: {sub.status}{_period(sub)}"
    for inv in b.invoices:
        remaining = _OWES_NOTHING.get(inv.status or "", f"remaining {inv.amount_remaining or '0'}")
        yield (
            f"- invoice {inv.number or inv.external_id}: {inv.status}, "
            f"{inv.amount} {inv.currency} ({remaining}, attempts {inv.attempt_count})"
        )
    for ch in b.charges:
        reason = f", {ch.failure_message}" if ch.failure_message else ""
        yield f"- charge {ch.external_id}: {ch.status}, {ch.amount} {ch.currency}{reason}"
    for d in b.disputes:
        yield f"- dispute {d.external_id}: {d.status} ({d.reason}), {d.amount} {d.currency}"


# Invoices that ask for no payment whatever their ``amount_remaining`` says: a draft is not
# final yet, a void one was cancelled.
_OWES_NOTHING = {"draft": "not final yet, nothing due", "void": "nothing due"}
_RENEWING = frozenset({"active", "trialing"})


def _period(sub: Subscription) -> str:
    """When the subscription renews, ends or ended: "renews" only for one that will."""
    if sub.status == "canceled":
        return f", canceled {sub.canceled_at[:10]}" if sub.canceled_at else ""
    if not sub.current_period_end:
        return ""
    day = sub.current_period_end[:10]
    if sub.cancel_at_period_end:
        return f", ends {day} (canceled at period end)"
    if sub.collection_paused:
        return f", period ends {day}, {paused_payments(sub)}"
    return f", renews {day}" if sub.status in _RENEWING else f", period ends {day}"


def paused_payments(sub: Subscription) -> str:
    """What a paused collection means for the customer: no payment taken, and until when."""
    until = f" until {sub.resumes_at[:10]}" if sub.resumes_at else ""
    return f"payments paused{until} (invoices not charged)"


def _crm(s: Snapshot) -> Iterator[str]:
    crm = s.crm
    if not (crm.lifecycle_stage or crm.owner or crm.deals):
        return
    yield "## CRM"
    yield f"- lifecycle stage: {crm.lifecycle_stage or 'unknown'}; owner: {crm.owner or 'none'}"
    for d in crm.deals:
        amount = f"{d.amount} {d.currency or ''}".strip() if d.amount else "no amount"
        yield f"- deal {quoted(d.title)}: {d.status}, stage {d.stage}, {amount}"


def _support(s: Snapshot) -> Iterator[str]:
    if not s.support.tickets:
        return
    yield f"## Support ({s.support.open_count} open)"
    for t in s.support.tickets:
        state = f"{t.status}, {t.priority or 'no priority'}"
        if t.satisfaction:
            state += f", satisfaction: {t.satisfaction}"
        yield f"- ticket {t.external_id} [{state}]: {quoted(t.title)}"
        if t.last_public_comment:
            yield f"  last public comment: {quoted(_cut(t.last_public_comment, COMMENT_CHARS))}"


# Characters of a ticket's last public comment the text shows (the JSON keeps all of it).
COMMENT_CHARS = 300


def _cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut between whole characters and marked ``…``."""
    if len(text) <= limit:
        return text
    return text[: grapheme_boundary(text, limit - 1)].rstrip() + "…"
