"""HubSpot webhooks: a refetch of a merge's survivor follows the
merge (its ``hs_merged_object_ids``) as the sync does, without a second fetch and without
calling HubSpot while it waits for the answer."""

from __future__ import annotations

from typing import Any

import httpx

from context_service.store import Store, profiles
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot

URL = "https://context.example.com/v1/webhooks/hubspot"
MERGED_IDS = "hs_merged_object_ids"
Json = dict[str, Any]


def merge_in_hubspot(fake: FakeHubSpot, survivor: str, *gone: str) -> None:
    """A contact merge as HubSpot does it: the merged-away contacts leave the CRM and the
    survivor, modified now, lists them in ``hs_merged_object_ids``."""
    for object_id in gone:
        fake.objects["contacts"].pop(object_id)
    fake.touch(
        "contacts", survivor, int(fake.now() * 1000) - 60_000, **{MERGED_IDS: ";".join(gone)}
    )


def property_change(fake: FakeHubSpot, contact_id: str) -> Json:
    """A ``contact.propertyChange`` event about ``contact_id`` (no merge event came)."""
    return {
        "eventId": 77,
        "subscriptionId": 2,
        "portalId": 4242424,
        "appId": 3,
        "occurredAt": int(fake.now() * 1000) - 30_000,
        "subscriptionType": "contact.propertyChange",
        "objectId": int(contact_id),
        "propertyName": "firstname",
        "propertyValue": "Renamed",
    }


def live(store: Store) -> dict[str, int]:
    rows = store.conn.execute(
        "SELECT external_id, deleted FROM records WHERE source = 'hubspot' AND kind = 'contact'"
    ).fetchall()
    return dict(rows)


def profile_of(store: Store) -> dict[str, str]:
    rows = store.conn.execute(
        "SELECT r.external_id, m.profile_id FROM records r JOIN profile_members m "
        "ON m.record_id = r.id WHERE r.source = 'hubspot' AND r.kind = 'contact'"
    ).fetchall()
    return dict(rows)


def object_gets(fake: FakeHubSpot, object_id: str) -> int:
    path = f"/crm/v3/objects/contacts/{object_id}"
    return sum(1 for r in fake.requests if r.method == "GET" and r.url.path == path)


def test_a_webhook_refetch_of_a_survivor_follows_the_merge(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    primary, merged, other = populate(fake, contacts=3)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    before = profile_of(store)
    fake.clock += 3600
    merge_in_hubspot(fake, primary, merged)
    headers, raw = fake.signed([property_change(fake, primary)], URL)
    fake.requests.clear()
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    assert fake.requests == []  # nothing asked of HubSpot while it waits for the answer
    assert apply_pending(store, {"hubspot": connector}, ctx, now=fake.now()) == 1
    assert live(store) == {primary: 0, merged: 1, other: 0}
    survivor = profile_of(store)[primary]
    assert profiles.canonical_id(store.conn, before[merged]) == survivor
    assert object_gets(fake, primary) == 1  # the survivor is fetched once


def test_a_refetch_with_no_merges_adds_nothing(store: Store, ctx: IngestContext) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    fake.clock += 3600
    fake.touch("contacts", people[0], int(fake.now() * 1000) - 60_000, firstname="Renamed")
    headers, raw = fake.signed([property_change(fake, people[0])], URL)
    fake.requests.clear()
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx, now=fake.now()) == 1
    assert live(store) == {people[0]: 0, people[1]: 0}
    assert object_gets(fake, people[0]) == 1


# --- the daily limit spent while a delivery is applied -------------------------------------------


class DailyLimitSpent:
    """``FakeHubSpot``, but while ``spent`` every request is answered 429 for the portal's
    daily limit (``policyName: DAILY``, as HubSpot's rate-limit error names it)."""

    def __init__(self, fake: FakeHubSpot) -> None:
        self.fake = fake
        self.spent = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.spent:
            return self.fake.handler(request)
        body = {
            "status": "error",
            "message": "You have reached your daily limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "DAILY",
        }
        return httpx.Response(429, json=body)


def test_a_delivery_applied_after_the_daily_limit_is_spent_waits_for_it(
    store: Store, ctx: IngestContext
) -> None:
    """The limit resets at midnight: the delivery stays pending and is applied then, instead
    of failing for good (an association change no sync would notice would be lost)."""
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    limit = DailyLimitSpent(fake)
    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(limit.handler)))
    run_sync(store, connector, ctx)
    fake.clock += 3600
    fake.touch("contacts", people[0], int(fake.now() * 1000) - 60_000, firstname="Renamed")
    headers, raw = fake.signed([property_change(fake, people[0])], URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    limit.spent = True
    assert apply_pending(store, {"hubspot": connector}, ctx, now=fake.now()) == 0
    status = store.conn.execute("SELECT status FROM webhook_inbox").fetchone()[0]
    assert status == "pending"
    limit.spent = False
    assert apply_pending(store, {"hubspot": connector}, ctx, now=fake.now() + 86_400) == 1
    firstname = store.conn.execute(
        "SELECT payload FROM records WHERE source = 'hubspot' AND external_id = ?", (people[0],)
    ).fetchone()[0]
    assert "Renamed" in firstname
