"""The personas' activities: orders, billing, the deal and the tickets (facts in ``personas``)."""

from __future__ import annotations

import random
from collections.abc import Iterator

from context_service.demo import _hubspot as hubspot
from context_service.demo import _shopify as shopify
from context_service.demo import _stripe as stripe
from context_service.demo import _stripe_billing as stripe_billing
from context_service.demo import _zendesk as zendesk
from context_service.demo._activities import tracking
from context_service.demo._util import DAY, stream_key
from context_service.demo._world import Item, World
from context_service.demo.people import Person, source_created, zendesk_user_id
from context_service.demo.personas import (
    MAYA_COMPLAINT,
    MAYA_DEAL_NAME,
    MAYA_TICKET_SUBJECT,
    TOMAS_ORDER_NAME,
)

HOUR = 3600


def activities(w: World, cast: list[Person]) -> Iterator[Item]:
    """The personas' orders, billing, deals and tickets, in emission order."""
    maya, tomas, _, _, lee = cast
    rng = random.Random(stream_key(w.seed, 11))
    yield from _maya_orders(w, maya, rng)
    yield from _tomas_order(w, tomas, rng)
    yield from _maya_billing(w, maya)
    yield from _lee_billing(w, lee)
    yield from _maya_deal(w, maya)
    yield from _maya_ticket(w, maya)
    yield from _tomas_ticket(w, tomas)


def _shipped(rng: random.Random, created: int, carrier: str) -> shopify.Shipment:
    number, url = tracking(rng, carrier)
    return shopify.Shipment(created + DAY, "delivered", carrier, number, url)


def _maya_orders(w: World, maya: Person, rng: random.Random) -> Iterator[Item]:
    first, second, latest = (
        w.now - 150 * DAY - 6_011,
        w.now - 40 * DAY + 2_917,
        w.now - 2 * DAY - 17_743,
    )
    specs = (
        shopify.OrderSpec(
            first,
            (("Lumen Desk Lamp", "LUM-DESK-01", "89.00", 1),),
            "paid",
            (_shipped(rng, first, "USPS"),),
            closed=first + 4 * DAY,
        ),
        shopify.OrderSpec(
            second,
            (
                ("Smart Bulb E26 (4-pack)", "BULB-E26-4", "59.00", 1),
                ("Motion Sensor", "SENS-MOTION", "29.00", 1),
            ),
            "paid",
            (_shipped(rng, second, "UPS"),),
            closed=second + 4 * DAY,
        ),
        shopify.OrderSpec(latest, (("Lumen Floor Lamp", "LUM-FLOOR-01", "149.00", 1),), "paid"),
    )
    acct = shopify.account(w.seed, w.now, maya, source_created(maya, "shopify"))
    for spec in specs:
        updated = spec.closed or spec.created
        yield "shopify", "order", shopify.order(w.orders, maya, spec, updated, acct)
        w.orders += 1


def _tomas_order(w: World, tomas: Person, rng: random.Random) -> Iterator[Item]:
    created = w.now - 45 * DAY - 1_453
    items = (
        ("Light Strip 2m", "STRIP-2M", "45.00", 1),
        ("Light Strip Extension 1m", "STRIP-EXT-1M", "22.00", 1),
    )
    _, _, total = shopify.order_total(shopify.OrderSpec(created, items, "paid"), "US")
    refund = shopify.RefundSpec(w.now - 33 * DAY + 4_519, total, "Wrong length, returned unopened")
    spec = shopify.OrderSpec(
        created,
        items,
        "refunded",
        (_shipped(rng, created, "USPS"),),
        refund=refund,
        closed=created + 4 * DAY,
    )
    acct = shopify.account(w.seed, w.now, tomas, source_created(tomas, "shopify"))
    yield "shopify", "order", shopify.order(w.orders, tomas, spec, refund.created, acct)
    w.orders += 1


def _billing(
    w: World, p: Person, plan: stripe.Plan, status: str, periods: int, start: int
) -> Iterator[Item]:
    """A monthly subscription whose last four invoices are emitted; all paid but, when the
    subscription is past due, the latest, which is open after one declined charge."""
    cus = stripe.customer_id(w.ids, p.g)
    card = stripe.card_for(w.seed, p.g, 2026)
    prefix = stripe.invoice_prefix(w.seed, p.g)
    invoices, charges = [], []
    for index in range(max(0, periods - 4), periods):
        begin = start + index * 30 * DAY
        n, number = w.invoices, f"{prefix}-{index + 1:04d}"
        w.invoices += 1
        amount = plan.unit_amount
        if index == periods - 1 and status == "past_due":
            retry = w.now + 2 * DAY
            invoices.append(
                stripe_billing.InvoiceSpec(
                    n,
                    number,
                    "open",
                    amount,
                    0,
                    1,
                    begin,
                    begin,
                    begin + 30 * DAY,
                    next_payment_attempt=retry,
                )
            )
            charges.append(
                stripe_billing.ChargeSpec(
                    w.charges,
                    amount,
                    begin + HOUR,
                    failure_code="card_declined",
                    description="Subscription update",
                )
            )
        else:
            paid = begin + HOUR
            invoices.append(
                stripe_billing.InvoiceSpec(
                    n,
                    number,
                    "paid",
                    amount,
                    amount,
                    1,
                    begin,
                    begin,
                    begin + 30 * DAY,
                    paid_at=paid,
                )
            )
            charges.append(
                stripe_billing.ChargeSpec(
                    w.charges, amount, paid, description="Subscription update"
                )
            )
        w.charges += 1
    last = invoices[-1]
    sub = stripe.SubscriptionSpec(
        w.subscriptions,
        plan,
        status,
        start,
        last.period_start,
        last.period_end,
        stripe_billing.invoice_id(w.ids, last.n),
    )
    w.subscriptions += 1
    method = stripe.payment_method_id(w.ids, p.g)
    yield "stripe", "subscription", stripe.subscription(w.ids, cus, sub, method)
    for invoice in invoices:
        yield "stripe", "invoice", stripe_billing.invoice(w.ids, cus, p, sub, invoice)
    for charge in charges:
        yield "stripe", "charge", stripe_billing.charge(w.ids, cus, p, card, charge)


def _maya_billing(w: World, maya: Person) -> Iterator[Item]:
    start = w.now - 8 * 30 * DAY - 3 * DAY - 12_345  # the ninth period began three days ago
    yield from _billing(w, maya, stripe.Plan(1, "Pro", 4900, "month"), "past_due", 9, start)


def _lee_billing(w: World, lee: Person) -> Iterator[Item]:
    start = w.now - 3 * 30 * DAY - 10 * DAY - 31_337  # the fourth period began ten days ago
    yield from _billing(w, lee, stripe.Plan(0, "Starter", 1900, "month"), "active", 4, start)


def _maya_deal(w: World, maya: Person) -> Iterator[Item]:
    created = w.now - 20 * DAY - 5_077
    spec = hubspot.DealSpec(
        w.deals,
        MAYA_DEAL_NAME,
        120_000,
        "contractsent",
        created,
        w.now + 10 * DAY,
        w.now - 2 * DAY,
        0,
    )
    w.deals += 1
    yield "hubspot", "deal", hubspot.deal(spec, maya)


def _maya_ticket(w: World, maya: Person) -> Iterator[Item]:
    created = w.now - 26 * HOUR - 1_289
    me, agent = zendesk_user_id(maya.g), zendesk.agent_id(0)
    comments = (
        zendesk.CommentSpec(me, MAYA_COMPLAINT, True, created),
        zendesk.CommentSpec(
            agent,
            "Thanks Maya, I'm checking this with our billing team and will get back to you today.",
            True,
            created + 2 * HOUR,
        ),
        zendesk.CommentSpec(
            agent,
            "Stripe: latest invoice open after a declined card; no second captured charge visible.",
            False,
            created + 2 * HOUR,
        ),
    )
    spec = zendesk.TicketSpec(
        w.tickets,
        MAYA_TICKET_SUBJECT,
        "open",
        "high",
        "web",
        created,
        created + 2 * HOUR,
        0,
        ("billing", "double_charge"),
        comments,
    )
    w.tickets += 1
    yield "zendesk", "ticket", zendesk.ticket(spec, maya, w.comment_ids(len(comments)))


def _tomas_ticket(w: World, tomas: Person) -> Iterator[Item]:
    created = w.now - 36 * DAY - 8_111
    me, agent = zendesk_user_id(tomas.g), zendesk.agent_id(2)
    comments = (
        zendesk.CommentSpec(
            me,
            f"Hola, the light strip from order {TOMAS_ORDER_NAME} is the wrong length. "
            "Can I return it for a refund?",
            True,
            created,
        ),
        zendesk.CommentSpec(
            agent,
            "Done: your refund has been issued and should show in 5-10 business days.",
            True,
            w.now - 33 * DAY,
        ),
    )
    spec = zendesk.TicketSpec(
        w.tickets,
        f"Refund for order {TOMAS_ORDER_NAME}",
        "solved",
        "normal",
        "email",
        created,
        w.now - 33 * DAY,
        2,
        ("refund", "returns"),
        comments,
        "good",
    )
    w.tickets += 1
    yield "zendesk", "ticket", zendesk.ticket(spec, tomas, w.comment_ids(len(comments)))
