"""A contact's primary associated company is its company, and follows a rename.

HubSpot fills a contact's free-text ``company`` property only when someone types it; the company
a contact belongs to is usually an association (HubSpot associates a contact with the company of
its email domain), and ``associatedcompanyid`` names the primary one. The contact's company is
the free-text property, else that company's name; a renamed company changes none of its contacts
in HubSpot, so the connector emits them again with it.
"""

from __future__ import annotations

import json
from typing import Any

from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from integrations.hubspot import map_record
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import PORTAL_ID, FakeHubSpot
from tests.snapshots import snapshot_of

URL = "https://context.example.com/v1/webhooks/hubspot"
MINUTE_MS = 60_000


def company_of(store: Store, ctx: IngestContext, contact_id: str) -> str | None:
    """The company the contact's snapshot shows, built from the store now."""
    key = RecordKey("hubspot", "contact", contact_id)
    return snapshot_of(store.conn, key, ctx.links).identity.company


def primary_company(fake: FakeHubSpot, contact_id: str) -> str:
    company_id: str = fake.objects["contacts"][contact_id]["properties"]["associatedcompanyid"]
    return company_id


def synced(store: Store, ctx: IngestContext) -> tuple[FakeHubSpot, list[str]]:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)  # person0 at Northwind, person1 at Globex
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    return fake, people


def searches(fake: FakeHubSpot, since: int) -> list[dict[str, Any]]:
    return [
        json.loads(r.content)
        for r in fake.requests[since:]
        if r.url.path == "/crm/v3/objects/contacts/search"
    ]


def test_the_associated_company_names_the_contacts_company(
    store: Store, ctx: IngestContext
) -> None:
    fake, people = synced(store, ctx)
    company = primary_company(fake, people[0])
    assert fake.objects["companies"][company]["properties"]["name"] == "Northwind"
    assert company_of(store, ctx, people[0]) == "Northwind"


def test_the_free_text_company_wins(store: Store, ctx: IngestContext) -> None:
    fake, people = synced(store, ctx)
    fake.touch("contacts", people[0], int(fake.now() * 1000) - MINUTE_MS, company="Acme Labs")
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert company_of(store, ctx, people[0]) == "Acme Labs"


def test_a_renamed_company_reaches_its_contacts_by_sync(store: Store, ctx: IngestContext) -> None:
    fake, people = synced(store, ctx)
    company = primary_company(fake, people[0])
    fake.clock += 3600
    fake.touch("companies", company, int(fake.now() * 1000) - MINUTE_MS, name="Northwind Traders")
    before = len(fake.requests)
    outcome = run_sync(store, fake.connector(), ctx)
    assert outcome.status == "ok", outcome.error
    assert company_of(store, ctx, people[0]) == "Northwind Traders"
    assert company_of(store, ctx, people[1]) == "Globex"
    [following] = [
        b for b in searches(fake, before) if b["sorts"][0]["propertyName"] != "lastmodifieddate"
    ]
    [primary_filter, _] = following["filterGroups"][0]["filters"]
    assert primary_filter["propertyName"] == "associatedcompanyid"
    assert primary_filter["operator"] == "IN"
    # The renamed company, and the one the last run ended on (the window is inclusive).
    assert company in primary_filter["values"]


def test_a_company_webhook_updates_the_company_and_its_contacts_follow_at_the_next_sync(
    store: Store, ctx: IngestContext
) -> None:
    """The applier does not search for the company's contacts (each copy would tie with the
    stored one and be asked for again, one request per contact); the next sync brings them."""
    fake, people = synced(store, ctx)
    company = primary_company(fake, people[0])
    fake.clock += 3600
    renamed_ms = int(fake.now() * 1000) - MINUTE_MS
    fake.touch("companies", company, renamed_ms, name="Northwind Traders")
    event = {
        "eventId": 7,
        "subscriptionId": 2_001,
        "portalId": PORTAL_ID,
        "appId": 1_001,
        "occurredAt": renamed_ms,
        "subscriptionType": "company.propertyChange",
        "attemptNumber": 0,
        "objectId": int(company),
        "propertyName": "name",
        "propertyValue": "Northwind Traders",
    }
    connector = fake.connector()
    headers, raw = fake.signed([event], URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    before = len(fake.requests)
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    assert searches(fake, before) == []
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert company_of(store, ctx, people[0]) == "Northwind Traders"


def test_a_contact_stays_dated_by_its_own_change() -> None:
    """Its company's later change must not date it: that date would outrank a
    ``contact.deletion`` that came between the two."""
    contact: dict[str, Any] = {
        "id": "7",
        "properties": {"email": "a@example.com", "lastmodifieddate": "2026-01-01T00:00:00Z"},
        "_company": {"id": "9", "name": "Northwind"},
    }
    mapped = map_record("contact", contact)
    assert mapped.updated_at == "2026-01-01T00:00:00Z"
    assert mapped.person is not None
    assert mapped.person.company == "Northwind"


def test_a_full_sync_reads_each_contact_once(store: Store, ctx: IngestContext) -> None:
    """From the top, the contacts stream reads every contact anyway: the companies listing
    does not search for their contacts too."""
    fake, _ = synced(store, ctx)
    fake.clock += 3600
    before = len(fake.requests)
    assert run_sync(store, fake.connector(), ctx, full=True).status == "ok"
    assert all(b["sorts"][0]["propertyName"] == "lastmodifieddate" for b in searches(fake, before))
