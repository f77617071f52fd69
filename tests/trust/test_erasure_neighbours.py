"""What an erasure does to the people around the erased one: the profiles it rebuilds keep
their dashboard links, and the records the erased person held apart are re-resolved as
``resolve --all`` would cluster them."""

from __future__ import annotations

import json

from context_service.store import Store
from context_service.store.snapshots import read_snapshot
from context_service.sync import IngestContext, apply_pending, receive
from context_service.trust.erasure import erase_profile
from tests.conftest import Ingest
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.payloads import hubspot_contact, shopify_customer
from tests.trust.helpers import profile_of_record

URL = "https://context.example.com/v1/webhooks/hubspot?portal=4242424"
NOW = "2026-03-01T00:00:00Z"


def test_a_privacy_deletion_rebuilds_a_deal_partner_with_the_dashboard_links(
    store: Store, ctx: IngestContext
) -> None:
    """Max and Ann share a deal; Max's ``contact.privacyDeletion`` rebuilds Ann's snapshot
    (the deal leaves it), and her member still links to her HubSpot record."""
    fake = FakeHubSpot()
    connector = fake.connector()
    now_ms = int(fake.now() * 1000)
    max_id = fake.add("contacts", now_ms - 100_000, email="max.roe@example.com", firstname="Max")
    ann_id = fake.add("contacts", now_ms - 100_000, email="ann.lee@example.com", firstname="Ann")
    deal = fake.add("deals", now_ms - 90_000, dealname="Family plan", amount="100")["id"]
    fake.associate("deals", deal, "contacts", max_id["id"])
    fake.associate("deals", deal, "contacts", ann_id["id"])

    def deliver(kind: str, object_id: str, at: int) -> None:
        event = {
            "eventId": at % 1_000_000,
            "subscriptionId": 2001,
            "portalId": 4242424,
            "appId": 1001,
            "occurredAt": at,
            "subscriptionType": kind,
            "attemptNumber": 0,
            "objectId": int(object_id),
        }
        headers, body = fake.signed([event], URL)
        assert receive(store, connector, headers, body, URL, fake.now()).status == "accepted"
        assert apply_pending(store, {"hubspot": connector}, ctx) == 1

    deliver("contact.creation", max_id["id"], now_ms - 100_000)
    deliver("contact.creation", ann_id["id"], now_ms - 100_000)
    deliver("deal.creation", deal, now_ms - 90_000)
    ann = profile_of_record(store, "hubspot", ann_id["id"])
    assert ann is not None
    before = read_snapshot(store.conn, ann)
    assert before is not None
    deliver("contact.privacyDeletion", max_id["id"], now_ms - 40_000)
    after = read_snapshot(store.conn, ann)
    assert after is not None
    assert after.version > before.version
    members = json.loads(after.json)["members"]
    assert members[0]["url"] == json.loads(before.json)["members"][0]["url"]
    assert members[0]["url"].endswith(f"/contacts/4242424/record/0-1/{ann_id['id']}")


E, P = "john.smith@example.com", "+14155550199"


def test_erasing_one_of_three_records_sharing_contacts_reclusters_the_other_two(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """Shopify John Smith Sr and Jr and a HubSpot John Smith share an email and a phone: the
    HubSpot record rightly joins neither. Once Sr is erased it joins Jr (as ``resolve --all``
    clusters the records left), and the review item that held it apart is gone."""
    ingest(shopify_customer(1, E, "John", "Smith Sr", P))
    ingest(shopify_customer(2, E, "John", "Smith Jr", P))
    ingest(hubspot_contact("3", E, "John", "Smith", P))
    senior, junior = (
        profile_of_record(store, "shopify", "1"),
        profile_of_record(store, "shopify", "2"),
    )
    assert senior is not None
    assert junior is not None
    assert len({senior, junior, profile_of_record(store, "hubspot", "3")}) == 3
    erase_profile(
        store, senior, requested_by="t", reason="t", now=NOW, region="US", links=ctx.links
    )
    together = profile_of_record(store, "shopify", "2")
    assert together is not None
    assert profile_of_record(store, "hubspot", "3") == together
    open_items = store.conn.execute("SELECT count(*) FROM review_items WHERE status = 'open'")
    assert open_items.fetchone()[0] == 0
    snapshot = read_snapshot(store.conn, together)
    assert snapshot is not None
    assert len(json.loads(snapshot.json)["members"]) == 2
    assert store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0] == 1
