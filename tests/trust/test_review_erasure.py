"""Review of erasure and access requests: people who share a household identifier with an
erased person keep their data, a late delivery leaves no body behind, and the subject export
holds everything the erasure would remove (disputes, reads still buffered, reads under a
merged-away id)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from context_service.api import create_app
from context_service.models import Connector, RecordKey
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext, RawPayload, apply_pending, ingest_batch, receive
from context_service.wiring import ingest_context
from tests.conftest import TEST_KEY, Ingest, make_settings
from tests.integrations.shopify.fake import FakeShopify
from tests.payloads import (
    hubspot_contact,
    shopify_customer,
    stripe_charge,
    stripe_customer,
    stripe_dispute,
    zendesk_ticket,
    zendesk_user,
)
from tests.trust.helpers import erase, profile_of_email

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
ZOE, SAM = "zoe.quill@example.com", "sam.rivera@example.com"
LANDLINE = "+14155550199"  # the household's shared phone
LATER = "2026-02-02T00:00:00Z"
SHOPIFY_URL = "https://context.example/v1/webhooks/shopify"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()


def _erase(store: Store, email: str) -> None:
    profile_id = profile_of_email(store, email)
    assert profile_id is not None
    erase(store, profile_id)


def _household(ingest: Ingest, store: Store) -> None:
    """Zoe (Shopify) and Sam (Zendesk): two people, two profiles, one landline."""
    ingest(
        shopify_customer(700001, ZOE, "Zoe", "Quill", phone=LANDLINE),
        zendesk_user(800002, "Sam Rivera", SAM, phone=LANDLINE),
        zendesk_ticket(900001, 800002, "Lamp arrived broken"),
    )
    assert profile_of_email(store, ZOE) != profile_of_email(store, SAM)


def test_a_household_member_keeps_syncing_after_the_other_is_erased(
    store: Store, ingest: Ingest
) -> None:
    """Erasing Zoe must not put the landline she shares with Sam on the suppression list: his
    next update and his new ticket would be dropped as hers, and his own key suppressed."""
    _household(ingest, store)
    _erase(store, ZOE)
    report = ingest(
        zendesk_user(800002, "Sam Rivera", SAM, phone=LANDLINE, updated_at=LATER),
        zendesk_ticket(900002, 800002, "Second lamp"),
    )
    assert report.suppressed == 0
    assert get_record(store.conn, RecordKey("zendesk", "ticket", "900002")) is not None
    sam = get_record(store.conn, RecordKey("zendesk", "user", "800002"))
    assert sam is not None
    assert sam.updated_at == LATER
    # Zoe herself stays suppressed: by her record key and by her own email.
    again = ingest(shopify_customer(700009, ZOE, "Zoe", "Quill", updated_at=LATER))
    assert again.suppressed == 1
    assert profile_of_email(store, ZOE) is None


def _apply(store: Store, ctx: IngestContext, connector: Connector, delivery: Any) -> None:
    headers, raw = delivery
    assert receive(store, connector, headers, raw, SHOPIFY_URL, NOW).status == "accepted"
    assert apply_pending(store, {connector.source: connector}, ctx) == 1


def test_a_household_members_pending_delivery_survives_the_others_erasure(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    """Sam's webhook delivery still waiting in the inbox names only him (and the landline): it
    is not blanked by Zoe's erasure, and applies afterwards."""
    fake = FakeShopify()
    connector = fake.connector()
    sam = shopify_customer(700002, SAM, "Sam", "Rivera", phone=LANDLINE)[2]
    _apply(store, ctx, connector, fake.signed("customers/create", sam))
    ingest(zendesk_user(800001, "Zoe Quill", ZOE, phone=LANDLINE))
    update = {**sam, "last_name": "Rivera-Lopez", "updated_at": LATER}
    headers, raw = fake.signed("customers/update", update)
    assert receive(store, connector, headers, raw, SHOPIFY_URL, NOW).status == "accepted"
    _erase(store, ZOE)
    assert apply_pending(store, {"shopify": connector}, ctx) == 1
    stored = get_record(store.conn, RecordKey("shopify", "customer", "700002"))
    assert stored is not None
    assert stored.updated_at == LATER


def test_a_late_delivery_about_an_erased_person_leaves_no_body_in_the_inbox(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeShopify()
    connector = fake.connector()
    zoe = shopify_customer(700001, ZOE, "Zoe", "Quill", phone=LANDLINE)[2]
    _apply(store, ctx, connector, fake.signed("customers/create", zoe))
    _erase(store, ZOE)
    late = {**zoe, "updated_at": LATER}
    _apply(store, ctx, connector, fake.signed("customers/update", late))
    assert get_record(store.conn, RecordKey("shopify", "customer", "700001")) is None
    bodies = [bytes(row[0]) for row in store.conn.execute("SELECT body FROM webhook_inbox")]
    assert not any(ZOE.encode() in body for body in bodies)


def _app_store(tmp_path: Path) -> tuple[Path, Any]:
    db = tmp_path / "app.db"
    settings = make_settings(db)
    store = Store(db)
    try:
        ingest_batch(
            store,
            [
                RawPayload(*item)
                for item in (
                    stripe_customer("cus_ZOE1234", ZOE, "Zoe Quill"),
                    stripe_charge("ch_ZOE1234", "cus_ZOE1234"),
                    stripe_dispute("dp_ZOE1234", "ch_ZOE1234"),
                    zendesk_user(800001, "Zoe Q", "zoe.q@work.example"),
                )
            ],
            ingest_context(settings),
        )
    finally:
        store.close()
    return db, settings


def test_the_subject_export_holds_her_disputes_as_the_erasure_does(tmp_path: Path) -> None:
    """A dispute is owned by her charge, not by her: the erasure removes it (one hop further)
    and the access request must list it too."""
    _, settings = _app_store(tmp_path)
    with TestClient(app=create_app(settings)) as client:
        profile_id = client.get("/v1/context", params={"email": ZOE}, headers=AUTH).json()[
            "profile_id"
        ]
        document = client.get(f"/v1/profiles/{profile_id}/export", headers=AUTH).json()
    held = {(r["kind"], r["external_id"]) for r in document["records"]}
    assert {("customer", "cus_ZOE1234"), ("charge", "ch_ZOE1234")} <= held
    assert ("dispute", "dp_ZOE1234") in held


def test_the_subject_export_lists_reads_served_just_before_it(tmp_path: Path) -> None:
    """The HTTP app buffers reads: the export must write them first, as the audit API does."""
    _, settings = _app_store(tmp_path)
    with TestClient(app=create_app(settings)) as client:
        profile_id = client.get("/v1/context", params={"email": ZOE}, headers=AUTH).json()[
            "profile_id"
        ]
        document = client.get(f"/v1/profiles/{profile_id}/export", headers=AUTH).json()
    assert [r["channel"] for r in document["reads"]] == ["context"]


def test_the_subject_export_lists_reads_recorded_under_a_merged_away_id(tmp_path: Path) -> None:
    """Reads recorded before a merge keep the id they were served under (now an alias); the
    erasure anonymizes them with the rest, so they are the person's and belong in the export."""
    _, settings = _app_store(tmp_path)
    with TestClient(app=create_app(settings)) as client:
        first = client.get("/v1/context", params={"email": ZOE}, headers=AUTH).json()
        second = client.get("/v1/context", params={"email": "zoe.q@work.example"}, headers=AUTH)
        ids = [first["profile_id"], second.json()["profile_id"]]
        merged = client.post("/v1/profiles/merge", json={"profile_ids": ids}, headers=AUTH)
        assert merged.status_code == 200, merged.text
        live = merged.json()["profile_id"]
        document = client.get(f"/v1/profiles/{live}/export", headers=AUTH).json()
    read_ids = {r["profile_id"] for r in document["reads"] if r["channel"] == "context"}
    assert read_ids == set(ids)


def _deal(contacts: list[str], updated_at: str) -> tuple[str, str, dict[str, Any]]:
    """A HubSpot deal associated with these contacts."""
    return (
        "hubspot",
        "deal",
        {
            "id": "31000000001",
            "properties": {
                "dealname": "Studio renewal",
                "amount": "100",
                "dealstage": "appointmentscheduled",
                "pipeline": "default",
                "createdate": "2026-01-01T00:00:00Z",
                "hs_lastmodifieddate": updated_at,
            },
            "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": updated_at,
            "archived": False,
            "associations": {
                "contacts": {
                    "results": [{"id": cid, "type": "deal_to_contact"} for cid in contacts]
                }
            },
        },
    )


def _deals_of(store: Store, email: str) -> list[str]:
    profile_id = profile_of_email(store, email)
    row = store.conn.execute("SELECT json FROM snapshots WHERE profile_id = ?", (profile_id,))
    snapshot = json.loads(row.fetchone()[0])
    return [deal["external_id"] for deal in snapshot["crm"]["deals"]]


def test_a_deal_shared_with_an_erased_contact_comes_back_to_the_other_once_she_is_off_it(
    store: Store, ingest: Ingest
) -> None:
    """Zoe and Sam are both on one deal. Erasing Zoe takes the deal from Sam's snapshot (it
    names her), but not for good: once HubSpot lists only Sam on it, it is his again."""
    ingest(
        hubspot_contact("1000001", ZOE, "Zoe", "Quill"),
        hubspot_contact("1000002", SAM, "Sam", "Rivera"),
        _deal(["1000001", "1000002"], "2026-01-01T00:00:00Z"),
    )
    assert _deals_of(store, SAM) == ["31000000001"]
    _erase(store, ZOE)
    assert _deals_of(store, SAM) == []
    assert ingest(_deal(["1000001", "1000002"], LATER)).suppressed == 1  # still names her
    report = ingest(_deal(["1000002"], "2026-02-03T00:00:00Z"))
    assert report.suppressed == 0
    assert _deals_of(store, SAM) == ["31000000001"]


def test_a_pending_delivery_naming_the_erased_person_is_settled_and_purged(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    """A delivery still waiting when its person is erased cannot be applied any more: it is
    settled as failed saying why (not "not JSON" on the next pass), and the retention purge
    takes it like an applied one, so it does not sit in the failures for ever."""
    from context_service.store import inbox as inbox_store
    from context_service.trust.erasure import BLANKED_BY_ERASURE

    fake = FakeShopify()
    connector = fake.connector()
    zoe = shopify_customer(700001, ZOE, "Zoe", "Quill")[2]
    _apply(store, ctx, connector, fake.signed("customers/create", zoe))
    update = {**zoe, "last_name": "Quill-Moss", "updated_at": LATER}
    headers, raw = fake.signed("customers/update", update)
    assert receive(store, connector, headers, raw, SHOPIFY_URL, NOW).status == "accepted"
    _erase(store, ZOE)
    rows = store.conn.execute("SELECT status, error, length(body) FROM webhook_inbox").fetchall()
    assert ("failed", BLANKED_BY_ERASURE, 0) in rows
    assert apply_pending(store, {"shopify": connector}, ctx) == 0
    with store.transaction() as conn:
        inbox_store.purge(conn, "9999-01-01T00:00:00Z")
    assert store.conn.execute("SELECT count(*) FROM webhook_inbox").fetchone()[0] == 0
