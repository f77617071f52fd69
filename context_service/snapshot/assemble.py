"""Assemble a profile's snapshot from the store: members, activities, sections, signals.

This is the write-side half of the read path: it runs when a profile changes, and its result
is materialized (``materialize``) so that a context request reads one row.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Collection, Iterable

import msgspec

from context_service.identity.normalize import display_name, normalize_email, normalize_phone
from context_service.models import (
    Activity,
    Address,
    BillingSection,
    Charge,
    CommerceSection,
    Conflict,
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
    Signal,
    Snapshot,
    Subscription,
    SupportSection,
    Ticket,
)
from context_service.snapshot.activity_sections import (
    RECENT_CHARGES,
    RECENT_DEALS,
    RECENT_DISPUTES,
    RECENT_INVOICES,
    RECENT_ORDERS,
    RECENT_SUBSCRIPTIONS,
    RECENT_TICKETS,
    _billing,
    _commerce,
    _of,
    _support,
    _with_recovered_subscriptions,
)
from context_service.snapshot.graphemes import grapheme_boundary
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.moments import next_change
from context_service.snapshot.precedence import Candidate, choose, normalize_for, source_rank
from context_service.snapshot.redaction import (
    OwnContacts,
    without_bidi_controls,
    without_bidi_controls_encoded,
    without_other_contacts,
)
from context_service.snapshot.signals import Held, derive_signals
from context_service.snapshot.summary import summarize
from context_service.store import activities, profiles
from context_service.store.records import StoredRecord, get_record, get_records

# Person records named in ``members``: one of each source first, then the most recently updated.
PERSON_MEMBERS = 20
# Free text kept in a snapshot, in characters (Zendesk's mapper keeps as much of a comment):
# one pasted log in an order note must not make every read of the snapshot heavy.
TITLE_MAX_CHARS = 200
TEXT_MAX_CHARS = 1000
_OPEN_DEAL_FIRST = {"open": 0, "won": 1, "lost": 2}


class _Person(msgspec.Struct):
    record: StoredRecord
    facet: PersonFacet


class ProfileData(msgspec.Struct):
    """What one profile's snapshot is built from, loaded from the store."""

    profile_id: str
    version: int
    people: list[_Person]
    activities: list[tuple[StoredRecord, Activity]]
    owner_labels: dict[str, str | None]  # None: the owner record is held and deleted


def assemble(
    conn: sqlite3.Connection, profile_id: str, links: DashboardLinks, now: str, region: str
) -> Snapshot | None:
    """Build the snapshot of a live profile (``None`` if the profile does not exist)."""
    loaded = load_profiles(conn, [profile_id], links)
    return build_snapshot(loaded[profile_id], links, now, region) if profile_id in loaded else None


def load_profiles(
    conn: sqlite3.Connection,
    profile_ids: Iterable[str],
    links: DashboardLinks,
    only: Collection[int] | None = None,
) -> dict[str, ProfileData]:
    """Load everything the snapshots of these profiles need, in a handful of queries.

    Profiles that no longer exist are absent from the result. ``only``: of each profile's
    person records, these alone (and what they own): the part of a profile an end user's
    proof vouches for (``proved``).
    """
    versions = profiles.versions_of(conn, profile_ids)
    member_ids = profiles.members_of(conn, list(versions))
    if only is not None:
        member_ids = {pid: [m for m in ids if m in only] for pid, ids in member_ids.items()}
    member_records = {
        r.id: r for r in get_records(conn, _flatten(member_ids.values()), with_payload=False)
    }
    people_of = {
        pid: _people([member_records[m] for m in ids if m in member_records])
        for pid, ids in member_ids.items()
    }
    owned = _ActivityIndex.load(conn, [p.record.key for ps in people_of.values() for p in ps])
    labels = _owner_labels(conn, people_of.values())
    return {
        pid: ProfileData(
            profile_id=pid,
            version=version,
            people=people_of.get(pid, []),
            activities=owned.for_owners([p.record.key for p in people_of.get(pid, [])], links),
            owner_labels=labels,
        )
        for pid, version in versions.items()
    }


def build_snapshot(data: ProfileData, links: DashboardLinks, now: str, region: str) -> Snapshot:
    """The snapshot of one loaded profile (pure: no store access).

    Free text keeps only this profile's own emails and phones, and no string in the snapshot
    keeps a bidirectional control (``redaction``).
    """
    return without_bidi_controls(_assembled(data, links, now, region)[0])


def build_snapshot_encoded(
    data: ProfileData, links: DashboardLinks, now: str, region: str
) -> tuple[Snapshot, bytes, str | None]:
    """``build_snapshot`` and its JSON encoding, made while looking for bidirectional controls
    (``redaction.without_bidi_controls_encoded``): a rebuild need not encode it again; and when
    its time-dependent signals change (``moments.next_change``; ``None``: never)."""
    snap, refresh_at = _assembled(data, links, now, region)
    return (*without_bidi_controls_encoded(snap), refresh_at)


def _assembled(
    data: ProfileData, links: DashboardLinks, now: str, region: str
) -> tuple[Snapshot, str | None]:
    """The snapshot of one loaded profile, before bidirectional controls are removed, and when
    its time-dependent signals change (``moments.next_change``)."""
    people = data.people
    identity, conflicts = _identity(people, region)
    real = [(record, act) for record, act in data.activities if not _is_test_order(act)]
    acts = _with_recovered_subscriptions(_cleaned(real, identity, region))
    orders = _of(acts, Order)
    commerce = _commerce(orders)
    billing = _billing(acts)
    crm = _crm(data.owner_labels, people, _of(acts, Deal))
    support = _support(_of(acts, Ticket))
    held = _held(acts)
    signals = derive_signals(
        commerce,
        billing,
        support,
        orders=orders,
        now=now,
        people=[(p.record.key, p.facet) for p in people],
        held=held,
        crm=crm,
    )
    signals = _from_their_sources(signals, acts)
    members = _members(people, _shown(acts, commerce, billing, crm, support), links)
    freshness = _freshness([p.record for p in people] + [r for r, _ in acts])
    snapshot = Snapshot(
        profile_id=data.profile_id,
        version=data.version,
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
    return snapshot, next_change(commerce, billing, now=now, orders=orders, held=held)


def _from_their_sources(
    signals: list[Signal], acts: list[tuple[StoredRecord, Activity]]
) -> list[Signal]:
    """Each signal about one activity (``ref``) with the source that activity came from: the
    signals name the vendor each kind usually comes from (an order Shopify, a ticket Zendesk),
    and a spreadsheet's order or ticket is neither. A ``ref`` that activities of several
    sources share keeps the usual one."""
    sources: dict[str, set[str]] = {}
    for record, act in acts:
        if act.external_id is not None:
            sources.setdefault(act.external_id, set()).add(record.key.source)
    found = []
    for signal in signals:
        held = sources.get(signal.ref) if signal.ref is not None else None
        source = next(iter(held)) if held and len(held) == 1 else signal.source
        same = source == signal.source
        found.append(signal if same else msgspec.structs.replace(signal, source=source))
    return found


def _is_test_order(act: Activity) -> bool:
    """A shop's test order (no money moved, nothing ships): not the customer's business."""
    return isinstance(act, Order) and act.test


def _cleaned(
    activities: list[tuple[StoredRecord, Activity]], identity: IdentitySection, region: str
) -> list[tuple[StoredRecord, Activity]]:
    """The activities with other people's contacts removed from their free text, and that
    text bounded (the profile's own contacts are worked out only when it has activities)."""
    if not activities:
        return []
    own = OwnContacts.of(identity.emails, identity.phones, region)
    return [(record, cleaned_activity(act, own)) for record, act in activities]


def cleaned_activity(act: Activity, own: OwnContacts) -> Activity:
    """The activity with contacts that are not ``own`` removed from its free text, and that
    text bounded (``_with_bounded_text``)."""
    return _with_bounded_text(without_other_contacts(act, own))


def _held(acts: list[tuple[StoredRecord, Activity]]) -> Held:
    """Every billing, support and CRM activity, before the sections cut their lists: what the
    lists leave out is still counted (``signals.Held``)."""
    return Held(
        subscriptions=_of(acts, Subscription),
        invoices=_of(acts, Invoice),
        charges=_of(acts, Charge),
        disputes=_of(acts, Dispute),
        tickets=_of(acts, Ticket),
        deals=_of(acts, Deal),
    )


def _with_bounded_text(act: Activity) -> Activity:
    """The activity with its free text cut to ``TITLE_MAX_CHARS`` (subjects, deal names) or
    ``TEXT_MAX_CHARS`` (comments, notes), a cut marked with ``…``. Cut after redaction, so no
    part of a removed contact or card number is left at the cut."""
    replace = msgspec.structs.replace
    if isinstance(act, Order) and not (act.note or act.refunds):
        return act  # no free text: the copy made below would equal it (most orders)
    if isinstance(act, Ticket):
        return replace(
            act,
            title=_cut(act.title, TITLE_MAX_CHARS),
            last_public_comment=_cut(act.last_public_comment, TEXT_MAX_CHARS),
        )
    if isinstance(act, Order):
        refunds = [replace(r, note=_cut(r.note, TEXT_MAX_CHARS)) for r in act.refunds]
        return replace(act, note=_cut(act.note, TEXT_MAX_CHARS), refunds=refunds)
    if isinstance(act, Deal):
        return replace(act, title=_cut(act.title, TITLE_MAX_CHARS))
    return act


def _cut(text: str | None, limit: int) -> str | None:
    """``text`` within ``limit`` characters, cut between whole characters and marked ``…``."""
    if text is None or len(text) <= limit:
        return text
    return text[: grapheme_boundary(text, limit - 1)].rstrip() + "…"


def _flatten(groups: Iterable[list[int]]) -> list[int]:
    return [item for group in groups for item in group]


def _people(records: list[StoredRecord]) -> list[_Person]:
    found = []
    for record in records:
        if record.mapped and record.mapped.person and not record.deleted:
            found.append(_Person(record=record, facet=record.mapped.person))
    return found


class _ActivityIndex:
    """Activities owned by a set of owner keys, one hop deep (a dispute owned by a charge)."""

    def __init__(self, owned: dict[RecordKey, list[int]], records: dict[int, StoredRecord]) -> None:
        self.owned = owned
        self.records = records

    @classmethod
    def load(cls, conn: sqlite3.Connection, owners: list[RecordKey]) -> _ActivityIndex:
        first = activities.activities_by_owner(conn, owners)
        records = {r.id: r for r in get_records(conn, _flatten(first.values()), with_payload=False)}
        second = activities.activities_by_owner(conn, [r.key for r in records.values()])
        hop = _flatten(second.values())
        records.update(
            (r.id, r) for r in get_records(conn, [i for i in hop if i not in records], False)
        )
        return cls({**first, **second}, records)

    def for_owners(
        self, owners: list[RecordKey], links: DashboardLinks
    ) -> list[tuple[StoredRecord, Activity]]:
        first = sorted({i for key in owners for i in self.owned.get(key, [])})
        hop = {i for rid in first for i in self.owned.get(self.records[rid].key, [])}
        ordered = first + sorted(hop - set(first))
        found: list[tuple[StoredRecord, Activity]] = []
        for rid in ordered:
            record = self.records[rid]
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


def _identity(people: list[_Person], region: str) -> tuple[IdentitySection, list]:  # type: ignore[type-arg]
    names: list[_Found] = []
    phones: list[_Found] = []
    companies: list[_Found] = []
    for p in people:
        src, upd, facet = p.record.key.source, p.record.updated_at, p.facet
        name = display_name(facet.first_name, facet.last_name, facet.name)
        if name:
            names.append((src, name, upd))
        for raw in facet.phones:
            e164 = normalize_phone(raw, region)
            if e164:
                phones.append((src, e164, upd))
        if facet.company:
            companies.append((src, facet.company, upd))
    name, name_conflict = _choose("name", names)
    phone, phone_conflict = _choose("phone", phones)
    company, company_conflict = _choose("company", companies)
    identity = IdentitySection(
        name=name,
        names=_distinct_found(names),
        emails=_emails(people),
        phones=_ordered_first(phone, _distinct_found(phones)),
        company=company,
        addresses=_addresses(people),
        customer_since=min(
            (p.facet.created_at for p in people if p.facet.created_at), default=None
        ),
    )
    conflicts = [c for c in (name_conflict, phone_conflict, company_conflict) if c is not None]
    return identity, conflicts


# One source's value for a field, before it is compared: (source, display, updated_at).
_Found = tuple[str, str, str | None]


def _choose(field: str, found: list[_Found]) -> tuple[str | None, Conflict | None]:
    """``precedence.choose`` of these values (a phone compares as its E.164 form, the others
    as ``normalize_for`` has them). One value is chosen without comparing it: ``choose`` of a
    single candidate returns its display and no conflict, and most profiles have one record."""
    if len(found) == 1:
        return found[0][1], None
    if field == "phone":
        return choose(field, [Candidate(src, e164, e164, upd) for src, e164, upd in found])
    candidates = [
        Candidate(src, value, normalize_for(field, value), upd) for src, value, upd in found
    ]
    return choose(field, candidates)


def _distinct_found(found: list[_Found]) -> list[str]:
    """``_distinct`` of the values' displays (a single value is distinct as it is)."""
    if len(found) == 1:
        return [found[0][1]]
    return _distinct(value for _, value, _ in found)


def _emails(people: list[_Person]) -> list[str]:
    """Distinct emails, those more records share first; ties keep the records' own order
    (each record's primary email first), never the process's hash order."""
    if len(people) == 1:  # every count is one: ``most_common`` keeps the record's order
        return list(dict.fromkeys(filter(None, map(normalize_email, people[0].facet.emails))))
    counts: Counter[str] = Counter()
    for p in people:
        counts.update(list(dict.fromkeys(e for e in map(normalize_email, p.facet.emails) if e)))
    return [email for email, _ in counts.most_common()]


def _addresses(people: list[_Person]) -> list[Address]:
    """Distinct addresses, the preferred source's first (``PRECEDENCE["address"]``), within a
    source the most recently updated record's first; at most three."""
    if len(people) == 1 and len(people[0].facet.addresses) == 1:  # nothing to rank or fold
        only = people[0].facet.addresses[0]
        return [only] if _has_address_key(only) else []
    newest_first = sorted(people, key=lambda p: p.record.updated_at or "", reverse=True)
    ranked = sorted(newest_first, key=lambda p: source_rank("address", p.record.key.source))
    seen: dict[str, Address] = {}
    for p in ranked:
        for address in p.facet.addresses:
            key = normalize_for("address", f"{address.street or ''} {address.postcode or ''}")
            if key and key not in seen:
                seen[key] = address
    return list(seen.values())[:3]


# A character ``normalize_for`` keeps (its ``[\w+]+`` words).
_KEY_CHARACTER = re.compile(r"[\w+]")


def _has_address_key(address: Address) -> bool:
    """Whether ``_addresses`` would key this address (its ``normalize_for`` is not empty).

    ASCII text folds by ``lower``, which keeps every word character a word character and
    makes none: it has a key exactly when it holds one of them. Other text is folded."""
    text = f"{address.street or ''} {address.postcode or ''}"
    if text.isascii():
        return _KEY_CHARACTER.search(text) is not None
    return bool(normalize_for("address", text))


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


def _hubspot_contacts(people: list[_Person]) -> list[_Person]:
    contacts = [p for p in people if p.record.key.source == "hubspot"]
    contacts.sort(key=lambda p: p.record.updated_at or "", reverse=True)
    return contacts


def _first_attribute(contacts: list[_Person], name: str) -> str | None:
    return next(
        (p.facet.attributes[name] for p in contacts if p.facet.attributes.get(name)),
        None,
    )


def _crm(
    owner_labels: dict[str, str | None], people: list[_Person], deals: list[Deal]
) -> CrmSection:
    contacts = _hubspot_contacts(people)
    if not (contacts or deals):  # what the lines below make of neither (most profiles)
        return CrmSection(lifecycle_stage=None, owner=None, deals=[])
    stage = _first_attribute(contacts, "lifecycle_stage")
    owner_id = _first_attribute(contacts, "owner_id")
    deals = sorted(deals, key=lambda d: _OPEN_DEAL_FIRST.get(d.status or "", 3))
    owner = _owner(owner_labels, owner_id)
    return CrmSection(lifecycle_stage=stage, owner=owner, deals=deals[:RECENT_DEALS])


def _owner(owner_labels: dict[str, str | None], owner_id: str | None) -> str | None:
    """The owner to show: its label, its id when no owner record is held, none once deleted."""
    if not owner_id:
        return None
    if owner_id in owner_labels:
        return owner_labels[owner_id]
    return f"HubSpot owner {owner_id}"


def _owner_labels(
    conn: sqlite3.Connection, people_groups: Iterable[list[_Person]]
) -> dict[str, str | None]:
    """Labels of the HubSpot owners these profiles' contacts name (one lookup per owner).

    A deleted owner (a user deactivated in HubSpot: archived) has no label: a departed
    colleague is not shown as anyone's account owner.
    """
    wanted = {
        owner_id
        for people in people_groups
        if (owner_id := _first_attribute(_hubspot_contacts(people), "owner_id"))
    }
    labels: dict[str, str | None] = {}
    for owner_id in sorted(wanted):
        record = get_record(conn, RecordKey("hubspot", "owner", owner_id))
        if record and record.deleted:
            labels[owner_id] = None  # known and gone: no owner, not "HubSpot owner 123"
        elif record and record.mapped and record.mapped.reference:
            labels[owner_id] = record.mapped.reference.label
    return labels


def _shown(
    acts: list[tuple[StoredRecord, Activity]],
    commerce: CommerceSection,
    billing: BillingSection,
    crm: CrmSection,
    support: SupportSection,
) -> list[StoredRecord]:
    """The records of the activities the sections show (the lists are capped, the rest is
    counted and totalled but not listed, and so not linked either).

    A listed activity is the very object read from its record, so it links that record only:
    another source's record with the same kind and external id (a spreadsheet's ticket ``123``
    beside Zendesk's) is not linked by it."""
    listed: list[Activity] = [
        *commerce.orders,
        *billing.subscriptions,
        *billing.invoices,
        *billing.charges,
        *billing.disputes,
        *crm.deals,
        *support.tickets,
    ]
    wanted = {id(a) for a in listed}
    return [r for r, a in acts if id(a) in wanted]


def _members(
    people: list[_Person], shown: list[StoredRecord], links: DashboardLinks
) -> list[Member]:
    """The profile's person records (at most ``PERSON_MEMBERS``), then the records of the
    activities shown, each with its dashboard link."""
    records = _some_people([p.record for p in people]) + shown
    return [
        Member(r.key.source, r.key.kind, r.key.external_id, links.url(r.key), r.updated_at)
        for r in records
    ]


def _some_people(records: list[StoredRecord]) -> list[StoredRecord]:
    """At most ``PERSON_MEMBERS`` person records in their stored order: the newest of each
    source first (every source stays named), then the most recently updated."""
    if len(records) <= PERSON_MEMBERS:
        return records
    newest_first = sorted(records, key=lambda r: r.updated_at or "", reverse=True)
    firsts = {r.key.source: r for r in reversed(newest_first)}
    picked = {r.id for r in firsts.values()}
    for record in newest_first:
        if len(picked) >= PERSON_MEMBERS:
            break
        picked.add(record.id)
    return [r for r in records if r.id in picked]


def _freshness(records: list[StoredRecord]) -> list[Freshness]:
    newest: dict[str, str] = {}
    for record in records:
        source = record.key.source
        if record.fetched_at > newest.get(source, ""):
            newest[source] = record.fetched_at
    return [Freshness(source=s, as_of=newest[s]) for s in sorted(newest)]


__all__ = [
    "PERSON_MEMBERS",
    "RECENT_CHARGES",
    "RECENT_DEALS",
    "RECENT_DISPUTES",
    "RECENT_INVOICES",
    "RECENT_ORDERS",
    "RECENT_SUBSCRIPTIONS",
    "RECENT_TICKETS",
    "TEXT_MAX_CHARS",
    "TITLE_MAX_CHARS",
    "ProfileData",
    "assemble",
    "build_snapshot",
    "build_snapshot_encoded",
    "load_profiles",
]
