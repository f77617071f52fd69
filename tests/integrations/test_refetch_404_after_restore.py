"""A refetch that still answers 404 just after a restore must not keep the record deleted.

HubSpot's CRM is eventually consistent: the ``contact.restore`` event (or any event that
refetches) can meet ``GET /crm/v3/objects/contacts/{id}`` answering 404 for a moment after the
restore, with and without ``archived=true``. Zendesk's show endpoints can lag a restore the same
way. The 404 is dated when it was seen, after the restore; if it moved the stored deletion's date
forward to then, the restored copy the next sync reads (dated by the restore, before the 404)
would be refused as stale and the customer would stay deleted until edited again. A 404 about a
record this store already holds as deleted therefore changes nothing: it deletes live copies
only (``only_if_stored``).

Payload shapes: HubSpot webhook events as in HubSpot's webhooks API reference (event fields
``eventId``, ``subscriptionId``, ``portalId``, ``appId``, ``occurredAt``, ``subscriptionType``,
``attemptNumber``, ``objectId``, ``changeSource``; ``shared/refdata/NOTES.md`` section 3) and
the CRM objects ``FakeHubSpot`` serves; Zendesk event-subscription envelopes
(developer.zendesk.com/api-reference/webhooks/event-types/) and the REST objects
``FakeZendesk`` serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from context_service.models import RecordKey, VendorObject
from context_service.store import Store
from context_service.store.records import rejected
from context_service.sync import IngestContext, apply_pending, ingest, run_sync
from context_service.sync.ingest import from_vendor, ingest_batch
from integrations.hubspot._search import merge_notices
from integrations.hubspot.connector import OBJECTS
from integrations.hubspot.webhooks import deletion_notice
from integrations.stripe.mapping import UNPLACED_REFUND_KIND
from integrations.stripe.webhooks import placed_refund_notices
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.test_refetch_404_new_records import (
    found_by_email,
    hubspot_deliver,
    hubspot_event,
    now_ms,
    row,
    zendesk_deliver,
)
from tests.integrations.zendesk.fake import FakeZendesk

COMPANY = next(spec for spec in OBJECTS if spec.kind == "company")


@contextmanager
def hubspot_lagging(fake: FakeHubSpot, object_type: str, object_id: str) -> Iterator[None]:
    """While inside, HubSpot answers 404 for the object, live or archived (a read replica that
    has not caught up with its restore yet)."""
    live = fake.objects[object_type].pop(object_id)
    try:
        yield
    finally:
        fake.objects[object_type][object_id] = live


@contextmanager
def zendesk_lagging(fake: FakeZendesk, kind: str, object_id: int) -> Iterator[None]:
    """While inside, Zendesk answers 404 RecordNotFound for the object."""
    store: dict[int, Any] = {"user": fake.users, "ticket": fake.tickets}[kind]
    live = store.pop(object_id)
    try:
        yield
    finally:
        store[object_id] = live


def test_hubspot_a_restored_company_comes_back_though_its_restore_event_met_a_404(
    store: Store, ctx: IngestContext
) -> None:
    """A company's deletion leaves a tombstone (a contact's deletion removes the row, so a
    404 about it finds nothing stored and changes nothing already)."""
    fake = FakeHubSpot()
    populate(fake, contacts=2)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    company = next(
        cid
        for cid, obj in fake.objects["companies"].items()
        if obj["properties"]["name"] == "Northwind"
    )
    deleted_ms = now_ms(fake) - 60_000
    fake.archive("companies", company, deleted_ms)
    hubspot_deliver(store, fake, [hubspot_event("company.deletion", company, deleted_ms)])
    assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    before = row(store, "hubspot", "company", company)
    assert before is not None
    assert before[0] == 1

    restored_ms = now_ms(fake) - 5_000
    fake.restore("companies", company, restored_ms)
    fake.clock += 1
    with hubspot_lagging(fake, "companies", company):
        hubspot_deliver(store, fake, [hubspot_event("company.restore", company, restored_ms)])
        assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    assert row(store, "hubspot", "company", company) == before, "the 404 moved the deletion"

    fake.clock += 120  # past the search settle time: the restored company is listed
    outcome = run_sync(store, fake.connector(), ctx)
    assert outcome.status == "ok", outcome.error
    after = row(store, "hubspot", "company", company)
    assert after is not None
    assert after[0] == 0, f"the restored company stays deleted: {after}"


def test_zendesk_a_restored_user_comes_back_though_a_refetch_met_a_404_after_the_restore(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=1)
    connector = fake.connector()
    assert run_sync(store, connector, ctx).status == "ok"
    fake.clock += 600
    fake.delete("user", 384_002)
    zendesk_deliver(store, fake, fake.event("user.deleted", 384_002, at=fake.clock - 1))
    assert apply_pending(store, {"zendesk": connector}, ctx) == 1
    before = row(store, "zendesk", "user", "384002")
    assert before is not None
    assert before[0] == 1
    assert not found_by_email(store, "user2@example.com")

    fake.clock += 60
    fake.restore("user", 384_002)  # updated now
    fake.clock += 5
    with zendesk_lagging(fake, "user", 384_002):
        event = fake.event("user.active_changed", 384_002, at=fake.clock - 1)
        zendesk_deliver(store, fake, event)
        assert apply_pending(store, {"zendesk": connector}, ctx) == 1
    assert row(store, "zendesk", "user", "384002") == before, "the 404 moved the deletion"

    fake.clock += 120
    outcome = run_sync(store, connector, ctx)
    assert outcome.status == "ok", outcome.error
    after = row(store, "zendesk", "user", "384002")
    assert after is not None
    assert after[0] == 0, f"the restored user stays deleted: {after}"
    assert found_by_email(store, "user2@example.com")


def test_hubspot_a_listed_merge_is_still_followed_for_a_record_stored_deleted(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other ``only_if_stored`` notices that find a stored deletion change nothing, but a
    merge found by the search listing (the survivor's ``hs_merged_object_ids``) is still
    followed: the deleted record's decisions and profile id go to its survivor."""
    followed: list[tuple[RecordKey, RecordKey]] = []

    class Recording(ingest.SourceMerges):
        def __init__(self, conn: Any, merges: list[tuple[RecordKey, RecordKey]], now: str):
            followed.extend(merges)
            super().__init__(conn, merges, now)

    monkeypatch.setattr(ingest, "SourceMerges", Recording)
    live = {
        "id": "111",
        "properties": {"name": "Acme", "hs_lastmodifieddate": "2026-01-01T09:00:00Z"},
        "updatedAt": "2026-01-01T09:00:00Z",
    }
    put(store, ctx, VendorObject("company", live))
    put(store, ctx, deletion_notice("company", "111", "2026-01-01T10:00:00Z"))
    survivor = {
        "id": "222",
        "properties": {
            "name": "Acme",
            "hs_merged_object_ids": "111",
            "hs_lastmodifieddate": "2026-01-01T10:30:00Z",
        },
        "updatedAt": "2026-01-01T10:30:00Z",
    }
    notices = merge_notices(COMPANY, survivor)
    assert [n.only_if_stored for n in notices] == [True]
    assert followed == []
    put(store, ctx, *notices)
    merged, into = RecordKey("hubspot", "company", "111"), RecordKey("hubspot", "company", "222")
    assert followed == [(merged, into)]


def put(store: Store, ctx: IngestContext, *objects: VendorObject) -> None:
    ingest_batch(store, [from_vendor("hubspot", obj) for obj in objects], ctx)


def _raw_refund(observed_at: str) -> VendorObject:
    """A refund event's object that names no charge (Stripe's refund object, as in
    shared/refdata/stripe), kept raw until a charge shows it."""
    refund = {
        "id": "re_1",
        "object": "refund",
        "charge": None,
        "payment_intent": "pi_1",
        "amount": 500,
        "currency": "usd",
        "status": "succeeded",
        "created": 1767258000,
    }
    return VendorObject(UNPLACED_REFUND_KIND, refund, observed_at=observed_at)


def test_stripe_a_refund_placed_twice_stays_off_the_rejected_list(
    store: Store, ctx: IngestContext
) -> None:
    """Notices dated by a vendor event still date a stored deletion forward; only a 404 seen
    by our own look-up does not. A raw refund retired when a charge showed it (10:05), shown
    again by a later event (10:20): a raw copy observed at 10:10 and delivered late stays out,
    instead of returning to the rejected list."""
    key = RecordKey("stripe", UNPLACED_REFUND_KIND, "re_1")

    def stripe(*objects: VendorObject) -> None:
        ingest_batch(store, [from_vendor("stripe", obj) for obj in objects], ctx)

    stripe(_raw_refund("2026-01-01T10:00:00Z"))
    assert [r.key for r in rejected(store.conn, "stripe")] == [key]
    stripe(*placed_refund_notices(["re_1"], "2026-01-01T10:05:00Z"))
    stripe(*placed_refund_notices(["re_1"], "2026-01-01T10:20:00Z"))
    stripe(_raw_refund("2026-01-01T10:10:00Z"))
    assert [r.key for r in rejected(store.conn, "stripe")] == []
