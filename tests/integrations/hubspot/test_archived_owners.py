"""Archived (deactivated) HubSpot owners are deleted, and no snapshot names them."""

from __future__ import annotations

import json
from typing import Any

from context_service.models import Page, RecordKey
from context_service.snapshot.assemble import assemble
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from context_service.store.snapshots import read_snapshot
from context_service.sync import IngestContext, run_sync
from integrations.hubspot import HubSpotConnector
from tests.conftest import Ingest
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot, iso

HOUR = 3600.0
SAM = "41629779"  # the owner every populated contact names: Sam Rivera


def now_ms(fake: FakeHubSpot) -> int:
    return int(fake.now() * 1000)


def owner_pages(connector: HubSpotConnector, cursor: str | None = None) -> list[Page]:
    [stream] = [s for s in connector.streams() if s.name == "owners"]
    return list(stream.pages(cursor))


def emitted(pages: list[Page]) -> list[tuple[str, bool]]:
    return [(str(o.payload["id"]), o.deleted) for p in pages for o in p.objects]


def owner_deleted(store: Store, owner_id: str) -> int | None:
    row = store.conn.execute(
        "SELECT deleted FROM records WHERE source = 'hubspot' AND kind = 'owner' "
        "AND external_id = ?",
        (owner_id,),
    ).fetchone()
    return None if row is None else int(row[0])


def records(store: Store) -> list[tuple[Any, ...]]:
    return store.conn.execute(
        "SELECT source, kind, external_id, payload_hash, updated_at, deleted FROM records "
        "ORDER BY id"
    ).fetchall()


def contact_profile(store: Store, contact_id: str) -> str:
    profile_id = profile_of_key(store.conn, RecordKey("hubspot", "contact", contact_id))
    assert profile_id is not None
    return profile_id


def built_owner(store: Store, ctx: IngestContext, contact_id: str) -> str | None:
    """The CRM owner of the contact's snapshot as it is built from the store now."""
    snapshot = assemble(store.conn, contact_profile(store, contact_id), ctx.links, "now", "US")
    assert snapshot is not None
    return snapshot.crm.owner


def synced_then_archived(store: Store, ctx: IngestContext) -> tuple[FakeHubSpot, list[str]]:
    """A synced portal whose owner Sam Rivera is then deactivated in HubSpot."""
    fake = FakeHubSpot()
    people = populate(fake, contacts=3)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert built_owner(store, ctx, people[0]) == "Sam Rivera"
    fake.archive_owner(SAM, now_ms(fake) - 60_000)
    fake.clock += HOUR
    return fake, people


def test_a_deactivated_owner_is_deleted_by_a_full_sync_and_not_named_as_owner(
    store: Store, ctx: IngestContext
) -> None:
    fake, people = synced_then_archived(store, ctx)
    outcome = run_sync(store, fake.connector(), ctx, full=True)
    assert outcome.status == "ok", outcome.error
    assert owner_deleted(store, SAM) == 1
    assert owner_deleted(store, "41629780") == 0  # the live owners stay live
    owner = built_owner(store, ctx, people[0])
    assert owner is None or "Sam" not in owner


def test_an_incremental_sync_deletes_it_too_and_a_second_run_is_a_no_op(
    store: Store, ctx: IngestContext
) -> None:
    fake, _ = synced_then_archived(store, ctx)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert owner_deleted(store, SAM) == 1
    before = records(store)
    fake.clock += HOUR
    again = run_sync(store, fake.connector(), ctx)
    assert again.status == "ok", again.error
    assert records(store) == before
    report = again.report
    assert (report.inserted, report.updated, report.profiles_changed) == (0, 0, 0)


def test_archived_owners_are_paged_and_an_interrupted_run_resumes_where_it_stopped() -> None:
    fake = FakeHubSpot()
    base = now_ms(fake) - 86_400_000
    for n in range(5):
        fake.add_owner(str(500 + n), base + n, f"u{n}@ourshop.example", f"U{n}", "Example")
    for n in (1, 3, 4):
        fake.archive_owner(str(500 + n), base + 1000 + n)
    connector = fake.connector(page_size=1)
    pages = owner_pages(connector)
    whole = emitted(pages)
    live, archived = [("500", False), ("502", False)], [("501", True), ("503", True), ("504", True)]
    assert whole == live + archived
    deletions = [o for p in pages for o in p.objects if o.deleted]
    assert {o.observed_at for o in deletions} == {
        iso(base + 1000 + n)[:19] + "Z" for n in (1, 3, 4)
    }
    assert json.loads(pages[-1].cursor or "") == {"since": base + 1004}
    for stop in range(len(pages) - 1):  # interrupted after page `stop` was committed
        resumed = owner_pages(connector, pages[stop].cursor)
        assert emitted(pages[: stop + 1]) + emitted(resumed) == whole, stop
        assert resumed[-1].cursor == pages[-1].cursor


def test_a_stored_owner_record_marked_archived_is_not_shown_as_owner(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    owner = {
        "id": "77",
        "email": "gone@ourshop.example",
        "firstName": "Gone",
        "lastName": "Colleague",
        "createdAt": "2025-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "archived": True,
    }
    contact = {
        "id": "9001",
        "properties": {
            "email": "maya@example.com",
            "firstname": "Maya",
            "hubspot_owner_id": "77",
            "lastmodifieddate": "2026-01-01T00:00:00.000Z",
            "createdate": "2025-01-01T00:00:00.000Z",
        },
        "createdAt": "2025-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "archived": False,
    }
    ingest(("hubspot", "owner", owner), ("hubspot", "contact", contact))
    named = built_owner(store, ctx, "9001")
    assert named is None or "Colleague" not in named


def test_the_served_snapshot_stops_naming_the_deactivated_owner(
    store: Store, ctx: IngestContext
) -> None:
    fake, people = synced_then_archived(store, ctx)
    assert run_sync(store, fake.connector(), ctx, full=True).status == "ok"
    stored = read_snapshot(store.conn, contact_profile(store, people[0]))
    assert stored is not None
    assert "Sam Rivera" not in stored.json.decode()


def test_the_snapshot_names_no_owner_once_the_owner_is_deactivated(
    store: Store, ctx: IngestContext
) -> None:
    fake, people = synced_then_archived(store, ctx)
    assert run_sync(store, fake.connector(), ctx, full=True).status == "ok"
    assert built_owner(store, ctx, people[0]) is None
