"""What synthetic people did: orders, subscriptions and payments, deals, tickets.

Each planner draws from the person's own random stream and numbers objects with the run's
counters; the vendor modules turn the plans into payloads.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from context_service.demo import _data as data
from context_service.demo import _hubspot as hubspot
from context_service.demo import _shopify as shopify
from context_service.demo import _stripe as stripe
from context_service.demo import _stripe_billing as stripe_billing
from context_service.demo import _zendesk as zendesk
from context_service.demo._util import DAY, base62
from context_service.demo._world import Item, World
from context_service.demo.people import Person, source_created, zendesk_user_id

HOUR = 3600
_PLANS = [stripe.Plan(i, name, cents, "month") for i, (name, cents) in enumerate(data.PLANS)]
_CARRIERS = {
    "US": ("USPS", "UPS", "FedEx"),
    "CA": ("Canada Post",),
    "GB": ("Royal Mail",),
    "AU": ("Australia Post",),
    "DE": ("DHL Express",),
}


def activities(w: World, p: Person, rng: random.Random) -> Iterator[Item]:
    """Every activity of ``p`` in emission order: orders, billing, deals, tickets."""
    if p.junk:
        return
    if p.shopify:
        yield from orders(w, p, rng)
    if p.stripe:
        yield from billing(w, p, rng)
    if p.hubspot and not p.archived:
        yield from deals(w, p, rng)
    if p.zendesk:
        yield from tickets(w, p, rng)


# ---- Shopify ---------------------------------------------------------------------------------


_TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{}",
    "Australia Post": "https://auspost.com.au/mypost/track/details/{}",
    "DHL Express": "https://www.dhl.com/en/express/tracking.html?AWB={}",
}


def tracking(rng: random.Random, carrier: str) -> tuple[str, str]:
    """A carrier-shaped tracking number and its public tracking URL."""
    digits = f"{rng.getrandbits(72):022d}"[-22:]
    letters = base62(rng.getrandbits(32), 6).upper()
    if carrier == "UPS":
        number = f"1Z{letters}03{digits[:8]}"
    elif carrier == "USPS":
        number = f"9400{digits[:18]}"
    elif carrier == "Royal Mail":
        number = f"{''.join(c if c.isalpha() else 'Q' for c in letters[:2])}{digits[:9]}GB"
    elif carrier == "Australia Post":
        number = f"33{letters[:3]}{digits[:10]}"
    else:  # FedEx 12 digits, Canada Post 16, DHL Express 10
        number = digits[: {"FedEx": 12, "Canada Post": 16}.get(carrier, 10)]
    return number, _TRACKING_URLS[carrier].format(number)


def _items(rng: random.Random) -> tuple[tuple[str, str, str, int], ...]:
    picks = rng.sample(data.PRODUCTS, rng.choice((1, 1, 1, 2, 2, 3)))
    return tuple((t, sku, price, 2 if rng.random() < 0.1 else 1) for t, sku, price in picks)


def plan_order(rng: random.Random, p: Person, created: int, now: int) -> shopify.OrderSpec:
    """Fate of one order placed at ``created``: shipped, delivered, refunded, cancelled..."""
    items, age, roll = _items(rng), now - created, rng.random()
    if roll < 0.02:
        cancelled = created + rng.randrange(HOUR, DAY)
        return shopify.OrderSpec(created, items, "voided", cancelled=cancelled, closed=cancelled)
    if roll < 0.05 and age < 5 * DAY:
        return shopify.OrderSpec(created, items, "pending")
    if age < DAY + rng.randrange(DAY):
        return shopify.OrderSpec(created, items, "paid")
    carrier = rng.choice(_CARRIERS.get(p.country, _CARRIERS["US"]))
    number, url = tracking(rng, carrier)
    shipped = created + rng.randrange(6 * HOUR, 2 * DAY)
    in_transit = age < 6 * DAY
    shipment = shopify.Shipment(
        min(shipped, now - HOUR), "in_transit" if in_transit else "delivered", carrier, number, url
    )
    if in_transit:
        partial = len(items) > 1 and rng.random() < 0.15
        return shopify.OrderSpec(created, items, "paid", (shipment,), partial=partial)
    closed = shipped + 3 * DAY
    refund_roll = rng.random()
    if refund_roll < 0.08:
        when = min(now - HOUR, shipped + rng.randrange(4 * DAY, 25 * DAY))
        _, _, total = shopify.order_total(shopify.OrderSpec(created, items, "paid"), p.country)
        full = refund_roll < 0.04
        title, _, price, _ = items[0]
        cents = total if full else int(price.replace(".", ""))
        note = "Returned within 30 days" if full else f"Partial refund: {title}"
        refund = shopify.RefundSpec(when, cents, note)
        status = "refunded" if full else "partially_refunded"
        return shopify.OrderSpec(created, items, status, (shipment,), refund=refund, closed=closed)
    return shopify.OrderSpec(created, items, "paid", (shipment,), closed=min(closed, now - HOUR))


def orders(w: World, p: Person, rng: random.Random) -> Iterator[Item]:
    count = rng.choices((0, 1, 2, 3, 4, 5, 6), weights=(25, 35, 15, 10, 7, 5, 3))[0]
    start = source_created(p, "shopify")
    acct = shopify.account(w.seed, w.now, p, start)
    times = sorted(rng.randrange(start, w.now - HOUR) for _ in range(count))
    for created in times:
        spec = plan_order(rng, p, created, w.now)
        updated = max(
            [created, spec.cancelled or 0, spec.closed or 0]
            + [s.created for s in spec.shipments]
            + ([spec.refund.created] if spec.refund else [])
        )
        yield "shopify", "order", shopify.order(w.orders, p, spec, updated, acct)
        w.orders += 1


# ---- Stripe ----------------------------------------------------------------------------------


def billing(w: World, p: Person, rng: random.Random) -> Iterator[Item]:
    """A subscription with its recent invoices and payments, or a one-off charge, or nothing."""
    cus = stripe.customer_id(w.ids, p.g)
    card = stripe.card_for(w.seed, p.g, 2026)
    roll = rng.random()
    if roll < 0.72:
        yield from _subscription(w, p, rng, cus, card)
    elif roll < 0.85:
        amount = rng.choice((2900, 4900, 9900))
        created = rng.randrange(source_created(p, "stripe"), w.now - HOUR)
        spec = stripe_billing.ChargeSpec(
            w.charges, amount, created, description="Lumen Care warranty"
        )
        w.charges += 1
        yield "stripe", "charge", stripe_billing.charge(w.ids, cus, p, card, spec)


def _subscription(
    w: World, p: Person, rng: random.Random, cus: str, card: stripe.Card
) -> Iterator[Item]:
    plan = _PLANS[rng.choices((0, 1, 2), weights=(45, 40, 15))[0]]
    if rng.random() < 0.12:
        plan = plan._replace(interval="year", unit_amount=plan.unit_amount * 10)
    period = 365 * DAY if plan.interval == "year" else 30 * DAY
    status = rng.choices(
        ("active", "trialing", "past_due", "canceled", "unpaid"), weights=(68, 6, 8, 14, 4)
    )[0]
    start = source_created(p, "stripe") + rng.randrange(HOUR, 10 * DAY)
    if status == "trialing":
        start = w.now - rng.randrange(DAY, 13 * DAY)
    start = min(start, w.now - DAY)
    end = w.now
    canceled_at = None
    if status == "canceled":
        canceled_at = rng.randrange(start + HOUR, w.now - HOUR)
        end = canceled_at
    periods = max(1, (end - start) // period + 1)
    if status == "trialing":
        periods = 1
    first = max(0, periods - (3 if plan.interval == "month" else 2))  # the recent ones only
    prefix = stripe.invoice_prefix(w.seed, p.g)
    trial_end = start + 14 * DAY if status == "trialing" else None
    invoices, charges = [], []
    for index in range(first, periods):
        begin = start + index * period
        finish = trial_end or begin + period
        last = index == periods - 1
        inv, new_charges = _invoice(w, rng, plan, status, last, index, begin, finish, prefix)
        invoices.append(inv)
        charges.extend(new_charges)
    sub = stripe.SubscriptionSpec(
        w.subscriptions,
        plan,
        status,
        start,
        invoices[-1].period_start,
        invoices[-1].period_end,
        stripe_billing.invoice_id(w.ids, invoices[-1].n),
        cancel_at_period_end=status == "active" and rng.random() < 0.08,
        canceled_at=canceled_at,
        trial_end=trial_end,
    )
    w.subscriptions += 1
    method = stripe.payment_method_id(w.ids, p.g)
    yield "stripe", "subscription", stripe.subscription(w.ids, cus, sub, method)
    for inv in invoices:
        yield "stripe", "invoice", stripe_billing.invoice(w.ids, cus, p, sub, inv)
    for spec in charges:
        yield "stripe", "charge", stripe_billing.charge(w.ids, cus, p, card, spec)
    for spec in charges:
        if spec.disputed:
            yield _dispute(w, rng, spec, card)


def _invoice(
    w: World,
    rng: random.Random,
    plan: stripe.Plan,
    status: str,
    last: bool,
    index: int,
    begin: int,
    finish: int,
    prefix: str,
) -> tuple[stripe_billing.InvoiceSpec, list[stripe_billing.ChargeSpec]]:
    """One billing period's invoice and the charges that tried to pay it."""
    n, number = w.invoices, f"{prefix}-{index + 1:04d}"
    w.invoices += 1
    amount = 0 if status == "trialing" else plan.unit_amount
    created = min(begin, w.now - HOUR)
    if last and status in ("past_due", "unpaid"):
        attempts = rng.randint(1, 3) if status == "past_due" else 4
        charges = []
        for attempt in range(attempts):
            when = min(created + HOUR + attempt * 3 * DAY, w.now - HOUR)
            code = "card_declined" if rng.random() < 0.6 else "insufficient_funds"
            charges.append(
                stripe_billing.ChargeSpec(
                    w.charges, amount, when, failure_code=code, description="Subscription update"
                )
            )
            w.charges += 1
        retry = w.now + rng.randrange(DAY, 4 * DAY) if status == "past_due" else None
        spec = stripe_billing.InvoiceSpec(
            n,
            number,
            "open",
            amount,
            0,
            attempts,
            created,
            begin,
            finish,
            next_payment_attempt=retry,
        )
        return spec, charges
    if last and status == "canceled" and rng.random() < 0.3:
        spec = stripe_billing.InvoiceSpec(n, number, "void", amount, 0, 1, created, begin, finish)
        return spec, []
    paid_at = created + rng.randrange(60, 2 * HOUR)
    spec = stripe_billing.InvoiceSpec(
        n,
        number,
        "paid",
        amount,
        amount,
        1 if amount else 0,
        created,
        begin,
        finish,
        paid_at=paid_at,
    )
    if amount == 0:
        return spec, []
    roll = rng.random()
    charge = stripe_billing.ChargeSpec(
        w.charges,
        amount,
        paid_at,
        amount_refunded=amount if roll < 0.03 else 0,
        disputed=0.03 <= roll < 0.045,
        description="Subscription creation" if index == 0 else "Subscription update",
    )
    w.charges += 1
    return spec, [charge]


def _dispute(
    w: World, rng: random.Random, charge: stripe_billing.ChargeSpec, card: stripe.Card
) -> Item:
    created = min(charge.created + rng.randrange(5 * DAY, 40 * DAY), w.now - HOUR)
    recent = w.now - created < 10 * DAY
    status = "needs_response" if recent else rng.choice(("won", "lost"))
    reason = rng.choice(("fraudulent", "product_not_received", "subscription_canceled"))
    payload = stripe_billing.dispute(w.ids, w.disputes, charge, reason, status, created, card)
    w.disputes += 1
    return "stripe", "dispute", payload


# ---- HubSpot ---------------------------------------------------------------------------------


def deals(w: World, p: Person, rng: random.Random) -> Iterator[Item]:
    roll = rng.random()
    count = 2 if roll < 0.04 else (1 if roll < 0.26 else 0)
    for _ in range(count):
        created = rng.randrange(source_created(p, "hubspot"), w.now - HOUR)
        topic = rng.choice(data.DEAL_TOPICS)
        label = p.company.name if p.company else p.name
        if w.now - created > 60 * DAY:
            stage = rng.choices(("closedwon", "closedlost", "open"), weights=(45, 35, 20))[0]
        else:
            stage = "open"
        if stage == "open":
            stage = rng.choice(hubspot.OPEN_STAGES)
            close = w.now + rng.randrange(5 * DAY, 60 * DAY)
            updated = rng.randrange(created, w.now)
        else:
            close = min(created + rng.randrange(10 * DAY, 60 * DAY), w.now - HOUR)
            updated = close
        owner = p.owner if p.owner is not None else rng.randrange(len(hubspot.OWNERS))
        cents = rng.choice((49, 99, 120, 240, 480, 1200, 2400, 6000)) * 1000
        spec = hubspot.DealSpec(
            w.deals, f"{label} \u2013 {topic}", cents, stage, created, close, updated, owner
        )
        w.deals += 1
        yield "hubspot", "deal", hubspot.deal(spec, p)


# ---- Zendesk ---------------------------------------------------------------------------------


def _ticket_status(rng: random.Random, age: int) -> str:
    if age > 14 * DAY:
        return rng.choice(("solved", "closed", "closed"))
    if age > 3 * DAY:
        return rng.choices(("solved", "pending", "open", "hold"), weights=(5, 2, 2, 1))[0]
    return rng.choices(("new", "open", "pending"), weights=(3, 5, 2))[0]


def tickets(w: World, p: Person, rng: random.Random) -> Iterator[Item]:
    count = rng.choices((0, 1, 2, 3), weights=(35, 40, 15, 10))[0]
    requester = zendesk_user_id(p.g)
    for _ in range(count):
        created = rng.randrange(source_created(p, "zendesk"), w.now - HOUR)
        subject, body, tags = rng.choice(data.TICKETS)
        status = _ticket_status(rng, w.now - created)
        channel = rng.choices(("email", "web", "chat"), weights=(5, 3, 2))[0]
        agent = None if status == "new" else rng.randrange(len(zendesk.AGENTS))
        comments = [zendesk.CommentSpec(requester, body, True, created)]
        moment = created
        if agent is not None:
            moment = min(moment + rng.randrange(HOUR, DAY), w.now - 60)
            reply = rng.choice(data.AGENT_REPLIES)
            comments.append(zendesk.CommentSpec(zendesk.agent_id(agent), reply, True, moment))
            if rng.random() < 0.2:
                note = rng.choice(data.INTERNAL_NOTES)
                comments.append(zendesk.CommentSpec(zendesk.agent_id(agent), note, False, moment))
        rating = None
        if status in ("solved", "closed") and rng.random() < 0.45:
            rating = "good" if rng.random() < 0.8 else "bad"
        priority = rng.choices((None, "low", "normal", "high", "urgent"), (30, 15, 40, 12, 3))[0]
        spec = zendesk.TicketSpec(
            w.tickets,
            subject,
            status,
            priority,
            channel,
            created,
            max(moment, created),
            agent,
            tags,
            tuple(comments),
            rating,
        )
        w.tickets += 1
        yield "zendesk", "ticket", zendesk.ticket(spec, p, w.comment_ids(len(comments)))
