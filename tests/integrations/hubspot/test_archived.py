"""Deletions without webhooks: archived objects listed with ``archived=true``, and 404 refetches."""

from __future__ import annotations

import json
from typing import Any

from context_service.models import Page, VendorObject
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from context_service.sync.ingest import RawPayload, ingest_batch
from integrations.hubspot import HubSpotConnector
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot, iso

URL = "https://context.example.com/v1/webhooks/hubspot"
HOUR = 3600.0


def stream_pages(connector: HubSpotConnector, name: str, cursor: str | None = None) -> list[Page]:
    [stream] = [s for s in connector.streams() if s.name == name]
    return list(stream.pages(cursor))


def gone(pages: list[Page]) -> list[tuple[str, bool, str | None]]:
    return [(o.payload["id"], o.deleted, o.observed_at) for p in pages for o in p.objects]


def archived_lists(fake: FakeHubSpot) -> list[dict[str, str]]:
    return [
        dict(r.url.params)
        for r in fake.requests
        if r.url.path == "/crm/v3/objects/contacts" and r.url.params.get("archived") == "true"
    ]


def state(store: Store, external_id: str, kind: str = "contact") -> tuple[int, str | None]:
    row = store.conn.execute(
        "SELECT deleted, updated_at FROM records WHERE source = 'hubspot' AND kind = ? "
        "AND external_id = ?",
        (kind, external_id),
    ).fetchone()
    return int(row[0]), row[1]


def emails(store: Store) -> set[str]:
    rows = store.conn.execute("SELECT value FROM identifiers WHERE kind = 'email'").fetchall()
    return {str(row[0]) for row in rows}


def now_ms(fake: FakeHubSpot) -> int:
    return int(fake.now() * 1000)


# --- The archived streams ------------------------------------------------------------------------


def test_an_archived_contact_is_deleted_by_the_next_sync_not_before(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=3)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert state(store, people[1])[0] == 0
    fake.archive("contacts", people[1], now_ms(fake) - 60_000)
    assert state(store, people[1])[0] == 0  # HubSpot's deletion is not seen until a sync
    assert "person1@example.com" in emails(store)
    fake.clock += HOUR
    outcome = run_sync(store, fake.connector(), ctx)
    assert outcome.status == "ok", outcome.error
    assert state(store, people[1]) == (1, iso(now_ms(fake) - int(HOUR * 1000) - 60_000)[:19] + "Z")
    assert "person1@example.com" not in emails(store)
    assert state(store, people[0])[0] == state(store, people[2])[0] == 0


def test_the_archived_list_is_paged_to_the_end_and_each_object_emitted_once() -> None:
    fake = FakeHubSpot()
    made = [fake.add("contacts", 1_000_000 + k)["id"] for k in range(7)]
    for k, object_id in enumerate(made):
        fake.archive("contacts", object_id, now_ms(fake) - 600_000 + k * 1000)
    pages = stream_pages(fake.connector(page_size=3), "contacts_archived")
    assert [o for o, _, _ in gone(pages)] == made
    assert all(deleted for _, deleted, _ in gone(pages))
    assert gone(pages)[0][2] == iso(now_ms(fake) - 600_000)[:19] + "Z"  # dated by archivedAt
    calls = archived_lists(fake)
    assert [c.get("after") for c in calls] == [None, "3", "6"]
    assert {c["limit"] for c in calls} == {"3"}
    cursors = [json.loads(p.cursor or "") for p in pages]
    assert [c.get("after") for c in cursors] == ["3", "6", None]
    assert cursors[-1] == {"since": now_ms(fake) - 600_000 + 6000, "listed": now_ms(fake)}


def test_a_second_run_emits_nothing_and_an_early_one_reads_nothing() -> None:
    fake = FakeHubSpot()
    for k in range(3):
        fake.archive("contacts", fake.add("contacts", 1)["id"], now_ms(fake) - 60_000 - k)
    connector = fake.connector(page_size=2)
    first = stream_pages(connector, "contacts_archived")
    assert len(gone(first)) == 3
    asked = len(archived_lists(fake))
    early = stream_pages(connector, "contacts_archived", first[-1].cursor)
    assert early == []
    assert len(archived_lists(fake)) == asked  # within the hour: no request at all
    fake.clock += HOUR
    again = stream_pages(connector, "contacts_archived", first[-1].cursor)
    assert gone(again) == []
    assert len(archived_lists(fake)) == asked + 2  # listed again, every page


def test_a_deletion_still_settling_is_emitted_again_not_skipped() -> None:
    fake = FakeHubSpot()
    first_id = fake.add("contacts", 1_000_000)["id"]
    fake.archive("contacts", first_id, now_ms(fake) - 5_000)  # within the 30 s settle time
    connector = fake.connector(archived_every_seconds=0)
    first = stream_pages(connector, "contacts_archived")
    assert json.loads(first[-1].cursor or "")["since"] == now_ms(fake) - 30_000
    late = fake.add("contacts", 1_000_000)["id"]
    fake.archive("contacts", late, now_ms(fake) - 6_000)  # indexed after the first listing
    fake.clock += 60
    again = stream_pages(connector, "contacts_archived", first[-1].cursor)
    assert [o for o, _, _ in gone(again)] == [first_id, late]


def test_a_429_on_the_archived_list_is_retried_after_the_wait_asked() -> None:
    fake = FakeHubSpot()
    fake.archive("contacts", fake.add("contacts", 1_000_000)["id"], now_ms(fake) - 60_000)
    fake.inject(429, retry_after=7)
    pages = stream_pages(fake.connector(), "contacts_archived")
    assert len(gone(pages)) == 1
    assert 7 in fake.sleeps


def test_an_older_copy_does_not_bring_an_archived_contact_back_but_a_restore_does(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    run_sync(store, fake.connector(), ctx)
    stale_copy = fake.objects["contacts"][people[0]]
    fake.archive("contacts", people[0], now_ms(fake) - 60_000)
    fake.clock += HOUR
    run_sync(store, fake.connector(), ctx)
    assert state(store, people[0])[0] == 1
    ingest_batch(store, [RawPayload("hubspot", "contact", stale_copy)], ctx)
    assert state(store, people[0])[0] == 1
    fake.restore("contacts", people[0], now_ms(fake) - 60_000)
    fake.clock += HOUR
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert state(store, people[0])[0] == 0
    assert "person0@example.com" in emails(store)


# --- Refetches answered 404 ----------------------------------------------------------------------


def test_fetch_one_of_an_archived_record_is_a_deletion_dated_by_archived_at() -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=1)
    fake.archive("contacts", people[0], now_ms(fake) - 60_000)
    notice = fake.connector().fetch_one("contact", people[0])
    assert notice == VendorObject(
        "contact",
        {"id": people[0], "archived": True, "archivedAt": iso(now_ms(fake) - 60_000)},
        observed_at=iso(now_ms(fake) - 60_000)[:19] + "Z",
        deleted=True,
    )


def test_fetch_one_of_a_record_hubspot_no_longer_knows_is_a_deletion_dated_now() -> None:
    fake = FakeHubSpot()
    notice = fake.connector().fetch_one("deal", "999999")
    assert notice == VendorObject(
        "deal",
        {"id": "999999", "archived": True},
        observed_at=iso(now_ms(fake))[:19] + "Z",
        deleted=True,
        only_if_stored=True,  # a 404 deletes a stored record; no tombstone for an unknown id
        from_lookup=True,  # dated when the 404 was seen: never dates a stored deletion forward
    )
    assert fake.connector().fetch_one("contact", "../owners") is None  # no HubSpot id


def event(action: str, object_id: str, occurred_ms: int, **extra: Any) -> dict[str, Any]:
    return {
        "eventId": 7,
        "subscriptionId": 200,
        "portalId": 4242424,
        "appId": 400,
        "occurredAt": occurred_ms,
        "subscriptionType": f"contact.{action}",
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM",
        **extra,
    }


def deliver(store: Store, fake: FakeHubSpot, body: list[dict[str, Any]]) -> str:
    headers, raw = fake.signed(body, URL)
    return receive(store, fake.connector(), headers, raw, URL, fake.now()).status


def test_a_refetch_answered_404_deletes_the_record_and_a_restore_brings_it_back(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    run_sync(store, fake.connector(), ctx)
    changed = now_ms(fake) - 90_000
    fake.touch("contacts", people[0], changed, email="moved@example.com")
    fake.archive("contacts", people[0], now_ms(fake) - 60_000)  # deleted before the refetch
    body = [event("propertyChange", people[0], changed, propertyName="email")]
    assert deliver(store, fake, body) == "accepted"
    assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    assert state(store, people[0])[0] == 1
    assert not {"person0@example.com", "moved@example.com"} & emails(store)
    fake.clock += 120
    fake.restore("contacts", people[0], now_ms(fake) - 60_000)
    fake.clock += 60
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert state(store, people[0])[0] == 0
    assert "moved@example.com" in emails(store)


def hubspot_rows(store: Store) -> set[tuple[str, str]]:
    rows = store.conn.execute("SELECT kind, external_id FROM records WHERE source = 'hubspot'")
    return {(str(kind), str(ext)) for kind, ext in rows}


def test_a_full_sync_stores_nothing_for_archived_objects_never_stored(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    strangers = [fake.add("contacts", now_ms(fake) - 600_000)["id"] for _ in range(3)]
    for stranger in strangers:  # deleted in HubSpot before this store ever saw them
        fake.archive("contacts", stranger, now_ms(fake) - 300_000)
    old_deal = fake.add("deals", now_ms(fake) - 600_000)["id"]
    fake.archive("deals", old_deal, now_ms(fake) - 300_000)
    outcome = run_sync(store, fake.connector(), ctx, full=True)
    assert outcome.status == "ok", outcome.error
    stored = hubspot_rows(store)
    assert not {("contact", s) for s in strangers} & stored
    assert ("deal", old_deal) not in stored
    assert store.conn.execute("SELECT count(*) FROM records WHERE deleted = 1").fetchone() == (0,)
    fake.archive("contacts", people[0], now_ms(fake) - 60_000)  # one we hold: still deleted
    fake.clock += HOUR
    assert run_sync(store, fake.connector(), ctx, full=True).status == "ok"
    assert state(store, people[0])[0] == 1
    assert "person0@example.com" not in emails(store)
    assert not {("contact", s) for s in strangers} & hubspot_rows(store)
