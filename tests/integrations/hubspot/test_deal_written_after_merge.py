"""A HubSpot deal that names a contact merged away, stored after the merge.

A sync reads a page of deals (a new deal associated with contact B) just before HubSpot merges
B into A; the ``contact.merge`` webhook is applied, and then the page commits. The deal names
B, a tombstone by now: it must show on A's profile, as B's deals stored before the merge do,
in the stored snapshot, in a look-up by the deal's id and after ``resolve --all``. The other
order (the page commits first, then the merge) must end the same, also when a later copy of
the deal still names B.

Payload shapes: HubSpot's ``contact.merge`` webhook event (``objectId``, ``primaryObjectId``,
``mergedObjectIds``) and the CRM objects ``FakeHubSpot`` serves.
"""

from __future__ import annotations

import msgspec

from context_service.models import Page, RecordKey, Snapshot
from context_service.snapshot.lookup import by_source_id
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, ingest_batch, receive, run_sync
from context_service.sync.ingest import from_vendor
from context_service.sync.rebuild import resolve_all
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.review_fixtures import HUBSPOT_URL, hubspot_event

NEW_DEAL = "Upsell for B"


def _contact(external_id: str) -> RecordKey:
    return RecordKey("hubspot", "contact", external_id)


def _synced(store: Store, ctx: IngestContext) -> tuple[FakeHubSpot, str, str]:
    """Two contacts A and B with their deals, synced; returns the fake, A and B."""
    fake = FakeHubSpot()
    a, b = populate(fake, contacts=2)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    return fake, a, b


def _new_deal_for(fake: FakeHubSpot, contact: str) -> str:
    """A deal created a minute ago in HubSpot, associated with ``contact``; its id."""
    deal = fake.add(
        "deals",
        int(fake.now() * 1000) - 60_000,
        dealname=NEW_DEAL,
        pipeline="default",
        dealstage="appointmentscheduled",
        amount="500",
        hs_is_closed="false",
    )
    fake.associate("deals", deal["id"], "contacts", contact)
    return str(deal["id"])


def _read_deals(store: Store, fake: FakeHubSpot) -> list[Page]:
    """The deals stream's pages from the stored cursor on, read now (not committed)."""
    [stream] = [s for s in fake.connector().streams() if s.name == "deals"]
    row = store.conn.execute(
        "SELECT cursor FROM sync_cursors WHERE source = 'hubspot' AND stream = 'deals'"
    ).fetchone()
    return list(stream.pages(row[0] if row else None))


def _commit(store: Store, ctx: IngestContext, pages: list[Page]) -> None:
    """Store the deals these pages read, as the sync's page commit does."""
    objects = [o for page in pages for o in page.objects if o.kind == "deal"]
    assert objects
    ingest_batch(store, [from_vendor("hubspot", o) for o in objects], ctx)


def _merge(store: Store, ctx: IngestContext, fake: FakeHubSpot, survivor: str, gone: str) -> None:
    """HubSpot merges ``gone`` into ``survivor``; its ``contact.merge`` webhook is applied."""
    at = int(fake.now() * 1000) - 3000
    fake.touch("contacts", survivor, at, hs_merged_object_ids=gone)
    event = hubspot_event(
        "contact.merge",
        1,
        at,
        objectId=int(survivor),
        primaryObjectId=int(survivor),
        mergedObjectIds=[int(gone)],
    )
    headers, raw = fake.signed([event], HUBSPOT_URL)
    connector = fake.connector()
    receive(store, connector, headers, raw, HUBSPOT_URL, fake.now())
    apply_pending(store, {"hubspot": connector}, ctx)


def _stored_deals(store: Store, source_id: str) -> tuple[str, list[str]]:
    """The profile a look-up by this HubSpot id finds, and the deal titles of its stored
    snapshot (what ``GET /v1/context`` serves)."""
    stored = by_source_id(store.conn, "hubspot", source_id)
    snapshot = msgspec.json.decode(stored.json, type=Snapshot)
    return stored.profile_id, sorted(d.title or "" for d in snapshot.crm.deals)


def _owners_of(store: Store, deal: str) -> list[str]:
    rows = store.conn.execute(
        "SELECT a.owner_external_id FROM activities a JOIN records r ON r.id = a.record_id "
        "WHERE r.source = 'hubspot' AND r.kind = 'deal' AND r.external_id = ?",
        (deal,),
    ).fetchall()
    return [str(owner) for (owner,) in rows]


def _assert_on_survivor(store: Store, survivor: str, gone: str, deal: str) -> None:
    """The deal is indexed as the survivor's and every look-up shows it on its profile."""
    assert _owners_of(store, deal) == [survivor]
    profile, titles = _stored_deals(store, survivor)
    assert NEW_DEAL in titles
    assert _stored_deals(store, deal) == (profile, titles)  # looked up by the deal's id
    assert _stored_deals(store, gone) == (profile, titles)  # by the merged-away contact's


def test_a_deal_read_before_the_merge_and_stored_after_it_goes_to_the_survivor(
    store: Store, ctx: IngestContext
) -> None:
    fake, a, b = _synced(store, ctx)
    deal = _new_deal_for(fake, b)
    pages = _read_deals(store, fake)  # the page is read while B is still a contact ...
    _merge(store, ctx, fake, a, b)  # ... B is merged into A meanwhile ...
    _commit(store, ctx, pages)  # ... and the page commits after the merge
    _assert_on_survivor(store, a, b, deal)
    before = _stored_deals(store, a)
    resolve_all(store, ctx)
    assert _stored_deals(store, a) == before
    _assert_on_survivor(store, a, b, deal)


def test_a_deal_stored_before_the_merge_stays_with_the_survivor_when_sent_again(
    store: Store, ctx: IngestContext
) -> None:
    fake, a, b = _synced(store, ctx)
    deal = _new_deal_for(fake, b)
    _commit(store, ctx, _read_deals(store, fake))  # the page commits first ...
    assert NEW_DEAL in _stored_deals(store, b)[1]
    _merge(store, ctx, fake, a, b)  # ... then the merge
    _assert_on_survivor(store, a, b, deal)
    # A later copy of the deal that still names B (read before HubSpot moved the association)
    fake.clock += 120
    fake.touch("deals", deal, int(fake.now() * 1000) - 60_000, amount="650")
    pages = _read_deals(store, fake)
    copies = [o.payload for p in pages for o in p.objects if o.payload["id"] == deal]
    assert [c["properties"]["amount"] for c in copies] == ["650"]
    _commit(store, ctx, pages)
    _assert_on_survivor(store, a, b, deal)
    before = _stored_deals(store, a)
    resolve_all(store, ctx)
    assert _stored_deals(store, a) == before
