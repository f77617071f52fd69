"""The deterministic plain-text summary: a few lines an agent can read in five seconds."""

from __future__ import annotations

from context_service.models import (
    BillingSection,
    CommerceSection,
    CrmSection,
    Freshness,
    IdentitySection,
    Order,
    Signal,
    Subscription,
    SupportSection,
)

_SOURCE_NAMES = {
    "shopify": "Shopify",
    "stripe": "Stripe",
    "hubspot": "HubSpot",
    "zendesk": "Zendesk",
}


def summarize(
    identity: IdentitySection,
    commerce: CommerceSection,
    billing: BillingSection,
    crm: CrmSection,
    support: SupportSection,
    signals: list[Signal],
    freshness: list[Freshness],
) -> str:
    """A few lines: who, what needs attention, orders, billing, CRM, support."""
    lines = [_who(identity, freshness)]
    if signals:
        lines.append("Attention: " + "; ".join(s.message for s in signals[:4]) + ".")
    for line in (_orders(commerce), _billing(billing), _crm(crm), _support(support)):
        if line:
            lines.append(line)
    return "\n".join(lines)


def _who(identity: IdentitySection, freshness: list[Freshness]) -> str:
    name = identity.name or "Unnamed customer"
    email = f" <{identity.emails[0]}>" if identity.emails else ""
    since = f", customer since {identity.customer_since[:7]}" if identity.customer_since else ""
    sources = ", ".join(_SOURCE_NAMES.get(f.source, f.source) for f in freshness)
    return f"{name}{email}{since}; known in {sources or 'no source'}."


def _orders(commerce: CommerceSection) -> str | None:
    if not commerce.orders:
        return None
    latest = commerce.orders[0]
    placed = f" placed {latest.created_at[:10]}" if latest.created_at else ""
    return (
        f"Orders: {commerce.order_count}{spent_words(commerce)}; "
        f"latest {latest.title or latest.number}{placed}, {order_state(latest)}."
    )


def order_state(order: Order) -> str:
    """``"paid, unfulfilled"``; for a cancelled order ``"cancelled 2026-02-02, paid"``: its
    fulfilment is no longer news (nothing will ship), the cancellation is."""
    payment = order.financial_status or "unknown payment"
    if order.status == "cancelled":
        when = f" {order.cancelled_at[:10]}" if order.cancelled_at else ""
        return f"cancelled{when}, {payment}"
    return f"{payment}, {fulfilment_words(order)}"


def fulfilment_words(order: Order) -> str:
    """An order's fulfilment as people read it, in the words of ``audience.facts``:
    ``unfulfilled``, ``unfulfilled (on hold)`` when the vendor says why it waits,
    ``fulfilment not required`` for an order with nothing to ship, ``fulfilment unknown``
    when the source says nothing of shipping."""
    status = order.fulfillment_status
    if status is None:
        return "fulfilment unknown"
    if status == "not_required":
        return "fulfilment not required"
    detail = waiting_words(order)
    return f"{status} ({detail})" if detail else status


def waiting_words(order: Order) -> str | None:
    """Why an unfulfilled order waits (``on hold``, ``scheduled``...), when the vendor says."""
    detail = order.fulfillment_detail
    return detail.replace("_", " ") if detail else None


def spent_words(commerce: CommerceSection) -> str:
    """``", 100.00 USD in total"``; when orders in another currency are not in the total
    ``"; 100.00 USD across 2 USD orders"``. Cancelled orders are in neither."""
    if not commerce.total_spent:
        return ""
    money = " ".join(v for v in (commerce.total_spent, commerce.currency) if v)
    covered = commerce.total_order_count
    if covered is None:
        return f", {money} in total"
    noun = "order" if covered == 1 else "orders"
    return f"; {money} across {covered} {commerce.currency} {noun}"


def _billing(billing: BillingSection) -> str | None:
    if not billing.subscriptions:
        return None
    parts = [f"{s.plan or s.title or 'plan'} ({_plan_state(s)})" for s in billing.subscriptions[:3]]
    return "Billing: " + ", ".join(parts) + "."


def _plan_state(sub: Subscription) -> str:
    """``active``; ``active, cancels at period end`` for a plan the customer has cancelled
    that runs until its period ends (the summary alone must not read as a plan that renews)."""
    status = sub.status or "status unknown"
    ending = sub.cancel_at_period_end and status not in {"canceled", "incomplete_expired"}
    return f"{status}, cancels at period end" if ending else status


def _crm(crm: CrmSection) -> str | None:
    """Stage, owner and open deals, each only when the section has it (an audience's summary
    empties the fields its view hides, and says nothing about them)."""
    if not (crm.lifecycle_stage or crm.owner or crm.deals):
        return None
    parts = [crm.lifecycle_stage] if crm.lifecycle_stage else []
    if crm.owner:
        parts.append(f"owner {crm.owner}")
    if crm.deals:
        open_deals = sum(1 for d in crm.deals if d.status == "open")
        parts.append(f"{open_deals} open deal(s)")
    return "CRM: " + ", ".join(parts) + "."


def _support(support: SupportSection) -> str | None:
    """Open tickets out of the recent ones kept; when more are open than are kept, the count
    alone (``open_count`` counts every open ticket, ``tickets`` holds only the latest few)."""
    if not support.tickets:
        return None
    if support.open_count > len(support.tickets):
        return f"Support: {support.open_count} open ticket(s)."
    return f"Support: {support.open_count} open of {len(support.tickets)} recent ticket(s)."
