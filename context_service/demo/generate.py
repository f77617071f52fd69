"""Stream vendor-shaped demo payloads for the personas plus ``customers`` synthetic people.

Emission order follows what a first sync needs: references (HubSpot owners and companies,
Zendesk organizations), then person-like records (Zendesk agents, then per person their Shopify
customer, Stripe customer, HubSpot contact and Zendesk user), then activities (per person:
orders, subscriptions, invoices, charges, disputes, deals, tickets). People are recomputed
from (seed, index) for each pass instead of being kept, so memory stays flat at any size.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from context_service.demo import _hubspot as hubspot
from context_service.demo import _persona_activities, personas
from context_service.demo import _shopify as shopify
from context_service.demo import _stripe as stripe
from context_service.demo import _zendesk as zendesk
from context_service.demo._activities import activities
from context_service.demo._util import DAY, stream_key
from context_service.demo._world import Item, World
from context_service.demo.people import (
    PERSONA_COMPANIES,
    Person,
    Streams,
    company_count,
    make_person,
    shopify_customer_id,
    source_created,
    synthetic_company,
)

DEFAULT_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class DemoPayload(msgspec.Struct, frozen=True):
    """One vendor object as its API returns it, tagged with where it comes from."""

    source: str  # shopify | stripe | hubspot | zendesk
    kind: str  # the mapper's kind: customer, order, contact, deal, user, ticket...
    payload: dict[str, Any]


def generate_demo(
    customers: int = 1000, seed: int = 7, now: datetime | None = None
) -> Iterator[DemoPayload]:
    """Yield the demo payloads; the same arguments always give the same sequence.

    ``customers`` synthetic people come in addition to the five personas; ``now`` (default
    ``DEFAULT_NOW``, naive means UTC) anchors every timestamp.
    """
    if customers < 0:
        raise ValueError(f"customers must be >= 0, got {customers}")
    moment = now or DEFAULT_NOW
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    world = World(seed, int(moment.timestamp()), customers)
    for source, kind, payload in _stream(world):
        yield DemoPayload(source, kind, payload)


def _stream(w: World) -> Iterator[Item]:
    cast = personas.people(w.now)
    yield from _references(w)
    yield from _agents(w)
    # The person objects sum up their activities (Shopify's orders_count, Stripe's next invoice
    # number...), which are emitted later: a shadow world runs the activities ahead, in the
    # same order and from the same random states, and keeps only the sums.
    ahead = Tally(World(w.seed, w.now, w.customers))
    ahead.add(_persona_activities.activities(ahead.world, cast))
    rng = random.Random()
    for person in cast:
        rng.seed(stream_key(w.seed, 9, person.g))
        yield from person_records(w, person, rng, ahead)
    streams = Streams()
    shadow = random.Random()
    for index in range(w.customers):
        person, rng = make_person(streams, w.seed, index, w.customers, w.now)
        shadow.setstate(rng.getstate())
        ahead.add(activities(ahead.world, person, shadow))
        yield from person_records(w, person, rng, ahead)
    yield from _persona_activities.activities(w, cast)
    for index in range(w.customers):
        person, rng = make_person(streams, w.seed, index, w.customers, w.now)
        yield from activities(w, person, rng)


class Tally:
    """Sums of activities per customer, from a world running ahead of the real one."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.orders: dict[int, shopify.Totals] = {}
        self.invoices: dict[str, stripe.Account] = {}

    def add(self, items: Iterable[Item]) -> None:
        """Count what ``items`` add to each customer's totals."""
        for source, kind, payload in items:
            if kind == "order":
                cid = payload["customer"]["id"]
                t = self.orders.get(cid, shopify.Totals())
                self.orders[cid] = shopify.Totals(
                    t.orders_count + 1,
                    t.total_spent + shopify.spent(payload),
                    payload["id"],
                    payload["name"],
                )
            elif source == "stripe" and kind in ("invoice", "subscription"):
                self._billing(kind, payload)

    def _billing(self, kind: str, payload: dict[str, Any]) -> None:
        cus = payload["customer"]
        a = self.invoices.get(cus, stripe.Account())
        if kind == "subscription":
            delinquent = a.delinquent or payload["status"] in ("past_due", "unpaid")
            self.invoices[cus] = a._replace(subscriber=True, delinquent=delinquent)
            return
        number = int(payload["number"].rsplit("-", 1)[1])
        self.invoices[cus] = a._replace(invoices=max(a.invoices, number))


def _references(w: World) -> Iterator[Item]:
    """HubSpot owners, then HubSpot companies, then Zendesk organizations."""
    rng = random.Random(stream_key(w.seed, 5))
    for index in range(len(hubspot.OWNERS)):
        created = w.now - (1500 - index * 90) * DAY
        yield "hubspot", "owner", hubspot.owner(index, created, w.now - (index + 1) * 7 * DAY)
    count = company_count(w.customers)
    companies = personas.companies()
    companies += [synthetic_company(PERSONA_COMPANIES + k) for k in range(count)]
    times = [_span(rng, w.now) for _ in companies]
    for company, (created, updated) in zip(companies, times, strict=True):
        yield "hubspot", "company", hubspot.company(company, created, updated)
    for company, (created, updated) in zip(companies, times, strict=True):
        if company.has_organization:
            yield "zendesk", "organization", zendesk.organization(company, created, updated)


def _span(rng: random.Random, now: int) -> tuple[int, int]:
    """A (created, updated) pair: created up to five years ago, updated since."""
    created = now - rng.randrange(30 * DAY, 1800 * DAY)
    return created, created + int((now - created) * rng.random())


def _agents(w: World) -> Iterator[Item]:
    for index in range(len(zendesk.AGENTS)):
        created = w.now - (1400 - index * 120) * DAY
        yield "zendesk", "user", zendesk.agent(index, created, w.now - index * 3600)


def person_records(
    w: World, p: Person, rng: random.Random, tally: Tally | None = None
) -> Iterator[Item]:
    """The person-like records of ``p``: Shopify, Stripe, HubSpot, Zendesk (where present)."""

    def updated(created: int) -> int:
        return created + int((w.now - created) * rng.random() ** 2)

    if p.shopify:
        acct = shopify.account(w.seed, w.now, p, source_created(p, "shopify"))
        totals = tally.orders.get(shopify_customer_id(p.g)) if tally else None
        yield "shopify", "customer", shopify.customer(p, acct, totals)
    if p.stripe:
        created = source_created(p, "stripe")
        billing = tally.invoices.get(stripe.customer_id(w.ids, p.g)) if tally else None
        yield "stripe", "customer", stripe.customer(w.ids, w.seed, p, created, billing)
    if p.hubspot:
        created = source_created(p, "hubspot")
        yield "hubspot", "contact", hubspot.contact(p, created, updated(created))
    if p.zendesk:
        created = source_created(p, "zendesk")
        yield "zendesk", "user", zendesk.user(p, created, updated(created))
