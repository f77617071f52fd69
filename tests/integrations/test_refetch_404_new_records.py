"""A creation webhook whose refetch answers 404 must not hide the new record for good.

HubSpot's CRM is eventually consistent: right after ``contact.creation`` (``company.creation``,
``deal.creation``) ``GET /crm/v3/objects/{type}/{id}`` can answer 404 for a moment, with or
without ``archived=true``. Zendesk's ``user.created``/``ticket.created``/``organization.created``
refetch can meet the same 404 ``RecordNotFound``. A deletion stored for such an id, dated when
the 404 was seen, is newer than the record's creation time, so the copy the next sync reads
(``lastmodifieddate``/``updated_at`` = its creation) would be refused as stale and the new
customer would stay invisible until edited. A 404 about an id never stored therefore leaves no
trace; one about a stored record still deletes it, and explicit deletion events still leave a
tombstone for an unknown id (README, HubSpot and Zendesk sections).

Payload shapes: HubSpot webhook events as in HubSpot's webhooks API reference ("Webhooks
API", event fields ``eventId``, ``subscriptionId``, ``portalId``, ``appId``, ``occurredAt``,
``subscriptionType``, ``attemptNumber``, ``objectId``, ``changeSource``; see
``shared/refdata/NOTES.md`` section 3) and the CRM objects ``FakeHubSpot`` serves
(``{id, properties, createdAt, updatedAt, archived}``); Zendesk event-subscription envelopes
(``{type: "zen:event-type:user.created", id, time, subject: "zen:user:<id>", detail}``,
developer.zendesk.com/api-reference/webhooks/event-types/) and the REST objects ``FakeZendesk``
serves (developer.zendesk.com/api-reference/ticketing/...).
"""

from __future__ import annotations

from typing import Any

import pytest

from context_service.errors import ProfileNotFound
from context_service.models import RecordKey
from context_service.snapshot import lookup
from context_service.store import Store, profiles
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.zendesk.fake import FakeZendesk

HUBSPOT_URL = "https://context.example.com/v1/webhooks/hubspot"
HUBSPOT_TYPES = {"contact": "contacts", "company": "companies", "deal": "deals"}


def row(store: Store, source: str, kind: str, external_id: str) -> tuple[int, str | None] | None:
    found = store.conn.execute(
        "SELECT deleted, updated_at FROM records WHERE source = ? AND kind = ? AND external_id = ?",
        (source, kind, external_id),
    ).fetchone()
    return None if found is None else (int(found[0]), found[1])


def in_a_profile(store: Store, source: str, kind: str, external_id: str) -> bool:
    key = RecordKey(source, kind, external_id)
    return profiles.profile_of_key(store.conn, key) is not None


def found_by_email(store: Store, email: str) -> bool:
    try:
        lookup.by_email(store.conn, email)
    except ProfileNotFound:
        return False
    return True


def snapshot_of(store: Store, email: str) -> str:
    """The JSON snapshot of the profile that holds ``email``."""
    return lookup.by_email(store.conn, email).json.decode()


def inbox(store: Store) -> list[tuple[str, str | None]]:
    rows = store.conn.execute("SELECT status, error FROM webhook_inbox ORDER BY id").fetchall()
    return [(str(status), error) for status, error in rows]


# --- HubSpot -------------------------------------------------------------------------------------


def hubspot_event(subscription: str, object_id: str, occurred_ms: int) -> dict[str, Any]:
    """One event as HubSpot's webhooks API sends it (a batch is a JSON array of these)."""
    return {
        "eventId": occurred_ms % 1_000_000_007,
        "subscriptionId": 2_001,
        "portalId": 4_242_424,
        "appId": 1_001,
        "occurredAt": occurred_ms,
        "subscriptionType": subscription,
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM",
    }


def hubspot_deliver(store: Store, fake: FakeHubSpot, events: list[dict[str, Any]]) -> None:
    headers, raw = fake.signed(events, HUBSPOT_URL)
    assert receive(store, fake.connector(), headers, raw, HUBSPOT_URL, fake.now()).status == (
        "accepted"
    )


def now_ms(fake: FakeHubSpot) -> int:
    return int(fake.now() * 1000)


@pytest.mark.parametrize("kind", ["contact", "company", "deal"])
def test_hubspot_a_creation_refetched_too_early_is_live_once_the_search_returns_it(
    store: Store, ctx: IngestContext, kind: str
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=1)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    object_type = HUBSPOT_TYPES[kind]
    created_ms = now_ms(fake) - 2_000
    new_id = fake.new_id()
    # Not readable yet: both the plain GET and ``archived=true`` answer 404 (the fake holds it
    # in neither table).
    hubspot_deliver(store, fake, [hubspot_event(f"{kind}.creation", new_id, created_ms)])
    assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    gets = [r for r in fake.requests if r.url.path.endswith(f"/{object_type}/{new_id}")]
    assert [r.url.params.get("archived") for r in gets] == [None, "true"]
    # HubSpot catches up: the object exists, modified (created) before the 404 was seen.
    props: dict[str, Any] = {
        "contact": {"email": "brand.new@example.com", "firstname": "Brand", "lastname": "New"},
        "company": {"name": "Newco", "domain": "newco.example"},
        "deal": {"dealname": "First order", "pipeline": "default", "dealstage": "closedwon"},
    }[kind]
    fake.add(object_type, created_ms, new_id, **props)
    if kind == "deal":
        fake.associate("deals", new_id, "contacts", people[0])
    fake.clock += 120  # past the search settle time
    outcome = run_sync(store, fake.connector(), ctx)
    assert outcome.status == "ok", outcome.error
    stored = row(store, "hubspot", kind, new_id)
    assert stored is not None
    assert stored[0] == 0, f"the new {kind} stays deleted: {stored}"
    if kind == "contact":
        assert in_a_profile(store, "hubspot", "contact", new_id)
        assert found_by_email(store, "brand.new@example.com")
    if kind == "deal":  # in the context of the contact it is associated with
        assert "First order" in snapshot_of(store, "person0@example.com")


def test_hubspot_a_404_about_an_id_never_stored_leaves_no_trace_until_found(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    new_id = fake.new_id()
    hubspot_deliver(store, fake, [hubspot_event("contact.creation", new_id, now_ms(fake) - 1000)])
    assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    assert row(store, "hubspot", "contact", new_id) is None
    assert [status for status, _ in inbox(store)] == ["applied"]


def test_hubspot_a_stored_contact_purged_long_ago_is_still_deleted_by_an_old_event(
    store: Store, ctx: IngestContext
) -> None:
    """A record this store holds that HubSpot no longer knows at all (purged, not in the
    recycle bin) is deleted when a webhook refetches it, however old the event."""
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    changed_ms = now_ms(fake) - 3 * 3_600_000  # an event HubSpot retried for hours
    del fake.objects["contacts"][people[0]]  # purged: no live copy, none archived
    fake.clock += 1
    hubspot_deliver(store, fake, [hubspot_event("contact.propertyChange", people[0], changed_ms)])
    assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    stored = row(store, "hubspot", "contact", people[0])
    assert stored is not None
    assert stored[0] == 1
    assert not found_by_email(store, "person0@example.com")
    assert found_by_email(store, "person1@example.com")


def test_hubspot_a_deletion_event_for_an_unknown_record_still_leaves_a_tombstone(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    unknown = fake.new_id()
    deleted_ms = now_ms(fake) - 1000
    hubspot_deliver(store, fake, [hubspot_event("company.deletion", unknown, deleted_ms)])
    assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    stored = row(store, "hubspot", "company", unknown)
    assert stored is not None
    assert stored[0] == 1
    fake.add("companies", deleted_ms - 60_000, unknown, name="Oldco")  # an older copy
    fake.clock += 120
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    again = row(store, "hubspot", "company", unknown)
    assert again is not None
    assert again[0] == 1


# --- Zendesk -------------------------------------------------------------------------------------


def zendesk_deliver(store: Store, fake: FakeZendesk, event: dict[str, Any]) -> None:
    headers, body = fake.signed(event)
    assert receive(store, fake.connector(), headers, body, "", fake.now()).status == "accepted"


@pytest.mark.parametrize("kind", ["user", "ticket", "organization"])
def test_zendesk_a_creation_refetched_too_early_is_live_once_the_export_returns_it(
    store: Store, ctx: IngestContext, kind: str
) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=1)
    connector = fake.connector()
    assert run_sync(store, connector, ctx).status == "ok"
    fake.clock += 600
    created = int(fake.clock) - 2
    new_id = {"user": 384_100, "ticket": 35_100, "organization": 360_100}[kind]
    detail = {"requester_id": "384001"} if kind == "ticket" else {}
    event = fake.event(f"{kind}.created", new_id, at=created, **detail)
    zendesk_deliver(store, fake, event)  # the refetch answers 404 RecordNotFound
    assert apply_pending(store, {"zendesk": connector}, ctx) == 1
    if kind == "user":
        fake.put_user(new_id, "new.user@example.com", created)
    elif kind == "ticket":
        fake.put_ticket(new_id, 384_001, created)
    else:
        fake.put_organization(new_id, "Newco", created)
    fake.clock += 120
    outcome = run_sync(store, connector, ctx)
    assert outcome.status == "ok", outcome.error
    stored = row(store, "zendesk", kind, str(new_id))
    assert stored is not None
    assert stored[0] == 0, f"the new {kind} stays deleted: {stored}"
    if kind == "user":
        assert in_a_profile(store, "zendesk", "user", str(new_id))
        assert found_by_email(store, "new.user@example.com")
    if kind == "ticket":  # in the context of its requester
        assert f"Help with order {new_id}" in snapshot_of(store, "user1@example.com")


def test_zendesk_a_stored_user_that_now_answers_404_is_still_deleted(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=1)
    connector = fake.connector()
    assert run_sync(store, connector, ctx).status == "ok"
    fake.clock += 60
    fake.delete("user", 384_002)
    zendesk_deliver(store, fake, fake.event("user.created", 384_002, at=fake.clock - 3600))
    assert apply_pending(store, {"zendesk": connector}, ctx) == 1
    stored = row(store, "zendesk", "user", "384002")
    assert stored is not None
    assert stored[0] == 1
    assert not found_by_email(store, "user2@example.com")


def test_zendesk_a_deletion_event_for_an_unknown_user_still_leaves_a_tombstone(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeZendesk()
    connector = fake.connector()
    zendesk_deliver(store, fake, fake.event("user.deleted", 384_200, at=fake.clock - 5))
    assert apply_pending(store, {"zendesk": connector}, ctx) == 1
    stored = row(store, "zendesk", "user", "384200")
    assert stored is not None
    assert stored[0] == 1
