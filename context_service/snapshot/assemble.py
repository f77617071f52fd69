"""Assemble a profile's snapshot from the store: members, activities, sections, signals.

This is the write-side half of the read path: it runs when a profile changes, and its result
is materialized (``materialize``) so that a context request reads one row.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from decimal import Decimal
from typing import TypeVar

import msgspec

from context_service.identity.normalize import display_name, normalize_email, normalize_phone
from context_service.models import (
    Activity,
    Address,
    BillingSection,
    Charge,
    CommerceSection,
    CrmSection,
    Deal,
    Dispute,
    Freshness,
    IdentitySection,
    Invoice,
    Member,
    Order,
    PersonFacet,
    RecordKey,
    Snapshot,
    Subscription,
    SupportSection,
    Ticket,
)
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.precedence import Candidate, choose, normalize_for
from context_service.snapshot.signals import OPEN_TICKET_STATUSES, derive_signals
from context_service.snapshot.summary import summarize
from context_service.store import activities, profiles
from context_service.store.records import StoredRecord, get_record, get_records

RECENT_ORDERS = 10
RECENT_INVOICES = 6
RECENT_CHARGES = 6
RECENT_TICKETS = 10
_OPEN_DEAL_FIRST = {"open": 0, "won": 1, "lost": 2}
A = TypeVar("A", bound=Activity)


class _Person(msgspec.Struct):
    record: StoredRecord
    facet: PersonFacet


def assemble(
    conn: sqlite3.Connection, profile_id: str, links: DashboardLinks, now: str, region: str
) -> Snapshot | None:
    """Build the snapshot of a live profile (``None`` if the profile does not exist)."""
    version = profiles.version_of(conn, profile_id)
    if version is None:
        return None
    people = _people(conn, profiles.members(conn, profile_id))
    acts = _activities(conn, [p.record.key for p in people], links)
    identity, conflicts = _identity(people, region)
    commerce = _commerce(_of(acts, Order))
    billing = _billing(acts)
    crm = _crm(conn, people, _of(acts, Deal))
    support = _support(_of(acts, Ticket))
    signals = derive_signals(commerce, billing, support)
    members = _members(people, acts, links)
    freshness = _freshness([p.record for p in people] + [r for r, _ in acts])
    return Snapshot(
        profile_id=profile_id,
        version=version,
        generated_at=now,
        identity=identity,
        members=members,
        commerce=commerce,
        billing=billing,
        crm=crm,
        support=support,
        freshness=freshness,
        signals=signals,
        conflicts=conflicts,
        summary=summarize(identity, commerce, billing, crm, support, signals, freshness),
    )


def _people(conn: sqlite3.Connection, member_ids: list[int]) -> list[_Person]:
    found = []
    for record in get_records(conn, member_ids):
        if record.mapped and record.mapped.person and not record.deleted:
            found.append(_Person(record=record, facet=record.mapped.person))
    return found


def _activities(
    conn: sqlite3.Connection, owners: list[RecordKey], links: DashboardLinks
) -> list[tuple[StoredRecord, Activity]]:
    first = get_records(conn, activities.activity_ids_for(conn, owners))
    second_ids = activities.activity_ids_for(conn, [r.key for r in first])
    seen = {r.id for r in first}
    records = first + [r for r in get_records(conn, second_ids) if r.id not in seen]
    found: list[tuple[StoredRecord, Activity]] = []
    for record in records:
        if record.deleted or record.mapped is None or record.mapped.activity is None:
            continue
        act = msgspec.structs.replace(
            record.mapped.activity,
            external_id=record.key.external_id,
            url=links.url(record.key),
            owners=[],
        )
        found.append((record, act))
    return found


def _of(acts: list[tuple[StoredRecord, Activity]], kind: type[A]) -> list[A]:
    items = [act for _, act in acts if isinstance(act, kind)]
    return sorted(items, key=lambda a: a.created_at or "", reverse=True)


def _identity(people: list[_Person], region: str) -> tuple[IdentitySection, list]:  # type: ignore[type-arg]
    names, phones, companies = [], [], []
    for p in people:
        src, upd, facet = p.record.key.source, p.record.updated_at, p.facet
        name = display_name(facet.first_name, facet.last_name, facet.name)
        if name:
            names.append(Candidate(src, name, normalize_for("name", name), upd))
        for raw in facet.phones:
            e164 = normalize_phone(raw, region)
            if e164:
                phones.append(Candidate(src, e164, e164, upd))
        if facet.company:
            companies.append(
                Candidate(src, facet.company, normalize_for("company", facet.company), upd)
            )
    name, name_conflict = choose("name", names)
    phone, phone_conflict = choose("phone", phones)
    company, company_conflict = choose("company", companies)
    identity = IdentitySection(
        name=name,
        names=_distinct(c.display for c in names),
        emails=_emails(people),
        phones=_ordered_first(phone, _distinct(c.display for c in phones)),
        company=company,
        addresses=_addresses(people),
        customer_since=min(
            (p.facet.created_at for p in people if p.facet.created_at), default=None
        ),
    )
    conflicts = [c for c in (name_conflict, phone_conflict, company_conflict) if c is not None]
    return identity, conflicts


def _emails(people: list[_Person]) -> list[str]:
    counts: Counter[str] = Counter()
    for p in people:
        counts.update({e for e in map(normalize_email, p.facet.emails) if e})
    return [email for email, _ in counts.most_common()]


def _addresses(people: list[_Person]) -> list[Address]:
    seen: dict[str, Address] = {}
    for p in people:
        for address in p.facet.addresses:
            key = normalize_for("address", f"{address.street or ''} {address.postcode or ''}")
            if key and key not in seen:
                seen[key] = address
    return list(seen.values())[:3]


def _distinct(values: object) -> list[str]:
    out: list[str] = []
    folded: set[str] = set()
    for value in values:  # type: ignore[attr-defined]
        key = normalize_for("name", value)
        if key not in folded:
            folded.add(key)
            out.append(value)
    return out


def _ordered_first(first: str | None, values: list[str]) -> list[str]:
    return ([first] if first else []) + [v for v in values if v != first]


def _commerce(orders: list[Order]) -> CommerceSection:
    live = [o for o in orders if o.status != "cancelled" and o.amount]
    currencies = Counter(o.currency for o in live if o.currency)
    currency = currencies.most_common(1)[0][0] if currencies else None
    total = sum((Decimal(o.amount or "0") for o in live if o.currency == currency), Decimal(0))
    return CommerceSection(
        order_count=len(orders),
        total_spent=f"{total:.2f}" if live else None,
        currency=currency,
        orders=orders[:RECENT_ORDERS],
    )


def _billing(acts: list[tuple[StoredRecord, Activity]]) -> BillingSection:
    invoices = {i.external_id: i for i in _of(acts, Invoice)}
    subs = [_recovered(sub, invoices) for sub in _of(acts, Subscription)]
    subs.sort(key=lambda s: s.status not in {"active", "past_due", "unpaid", "trialing"})
    return BillingSection(
        subscriptions=subs,
        invoices=_of(acts, Invoice)[:RECENT_INVOICES],
        charges=_of(acts, Charge)[:RECENT_CHARGES],
        disputes=_of(acts, Dispute),
    )


def _recovered(sub: Subscription, invoices: dict[str | None, Invoice]) -> Subscription:
    """A past-due subscription whose latest invoice has since been paid is active again.

    Stripe moves it to ``active`` on payment and says so in a separate event; until that event
    arrives the paid invoice is the newer truth, so we do not keep showing ``past_due``.
    """
    latest = invoices.get(sub.latest_invoice) if sub.latest_invoice else None
    if sub.status in {"past_due", "unpaid"} and latest is not None and latest.status == "paid":
        return msgspec.structs.replace(sub, status="active")
    return sub


def _crm(conn: sqlite3.Connection, people: list[_Person], deals: list[Deal]) -> CrmSection:
    contacts = [p for p in people if p.record.key.source == "hubspot"]
    contacts.sort(key=lambda p: p.record.updated_at or "", reverse=True)
    stage = next(
        (
            p.facet.attributes.get("lifecycle_stage")
            for p in contacts
            if p.facet.attributes.get("lifecycle_stage")
        ),
        None,
    )
    owner_id = next(
        (
            p.facet.attributes.get("owner_id")
            for p in contacts
            if p.facet.attributes.get("owner_id")
        ),
        None,
    )
    deals = sorted(deals, key=lambda d: _OPEN_DEAL_FIRST.get(d.status or "", 3))
    return CrmSection(lifecycle_stage=stage, owner=_owner_label(conn, owner_id), deals=deals)


def _owner_label(conn: sqlite3.Connection, owner_id: str | None) -> str | None:
    if not owner_id:
        return None
    record = get_record(conn, RecordKey("hubspot", "owner", owner_id))
    if record and record.mapped and record.mapped.reference:
        return record.mapped.reference.label
    return f"HubSpot owner {owner_id}"


def _support(tickets: list[Ticket]) -> SupportSection:
    newest_first = sorted(tickets, key=lambda t: t.updated_at or t.created_at or "", reverse=True)
    ordered = sorted(newest_first, key=lambda t: t.status not in OPEN_TICKET_STATUSES)
    open_count = sum(1 for t in tickets if t.status in OPEN_TICKET_STATUSES)
    return SupportSection(open_count=open_count, tickets=ordered[:RECENT_TICKETS])


def _members(
    people: list[_Person], acts: list[tuple[StoredRecord, Activity]], links: DashboardLinks
) -> list[Member]:
    records = [p.record for p in people] + [r for r, _ in acts]
    return [
        Member(r.key.source, r.key.kind, r.key.external_id, links.url(r.key), r.updated_at)
        for r in records
    ]


def _freshness(records: list[StoredRecord]) -> list[Freshness]:
    newest: dict[str, str] = {}
    for record in records:
        source = record.key.source
        if record.fetched_at > newest.get(source, ""):
            newest[source] = record.fetched_at
    return [Freshness(source=s, as_of=newest[s]) for s in sorted(newest)]
