"""An erasure leaves no webhook delivery that was about the person, however it named them.

Deliveries are kept in the inbox as they arrived. An erasure blanks those that mention the
person's emails, phones or long record ids, and those that named one of their records when
they were applied (``inbox.note_records``): a HubSpot event names a contact by a short
``objectId`` only, and a Shopify customer deleted at Shopify before its redaction leaves no
profile to find her by. The erasure request's own body (her email, phone, ids) and a late
request about someone already erased are not kept either; the redaction stays ``applied``.

Payload shapes: Shopify's ``customers/*`` webhook bodies and the GraphQL ``customers``
connection as ``FakeShopify`` serves them; HubSpot's webhook event array and CRM v3 objects as
``FakeHubSpot`` serves them (see the Shopify and HubSpot sections of shared/refdata/NOTES.md).
"""

from __future__ import annotations

import time
from typing import Any

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store import inbox as inbox_store
from context_service.store.records import get_record
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from context_service.trust.erasure import erase_profiles
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.shopify.fake import SHOP, FakeShopify
from tests.review_fixtures import receive_shopify
from tests.trust.helpers import profile_of_email

HUBSPOT_URL = "https://context.example.com/v1/webhooks/hubspot?portal=4242424"
NOTE = "Door code 4411, leave with neighbour Mrs Quimby"


def _inbox(store: Store) -> list[tuple[str, str, bytes]]:
    rows = store.conn.execute("SELECT topic, status, body FROM webhook_inbox ORDER BY id")
    return [(str(topic), str(status), bytes(body)) for topic, status, body in rows]


def _mentioning(store: Store, *needles: str) -> list[str]:
    """The topics of the inbox rows whose body holds one of ``needles``."""
    return [
        topic
        for topic, _, body in _inbox(store)
        if any(needle.encode() in body for needle in needles)
    ]


class _Shop:
    """A shop synced into ``store``, and its deliveries received and applied one by one."""

    def __init__(self, store: Store, ctx: IngestContext) -> None:
        self.store, self.ctx = store, ctx
        self.fake = FakeShopify()
        self.fake.add_customers(2)
        self.fake.add_orders(2)
        self.connector = self.fake.connector()
        outcome = run_sync(store, self.connector, ctx)
        assert outcome.status == "ok", outcome.error
        self.at = time.time()

    def send(self, topic: str, body: dict[str, Any]) -> None:
        self.at += 10
        answer = receive_shopify(
            self.store, self.connector, self.fake, topic, body, triggered_at=self.at, now=self.at
        )
        assert answer == "accepted"
        apply_pending(self.store, {"shopify": self.connector}, self.ctx, now=self.at + 1)

    def customer(self, index: int = 0) -> tuple[int, dict[str, Any]]:
        cid = sorted(self.fake.customers)[index]
        return cid, self.fake.customers[cid]

    def update(self, cid: int, customer: dict[str, Any]) -> None:
        self.send(
            "customers/update",
            {
                "id": cid,
                "email": customer["email"],
                "first_name": customer["firstName"],
                "last_name": customer["lastName"],
                "note": NOTE,
                "created_at": customer["createdAt"],
                "updated_at": "2026-12-01T10:00:00Z",
            },
        )

    def redact(self, cid: int, email: str, phone: str | None) -> None:
        body = {
            "shop_id": 1,
            "shop_domain": f"{SHOP}.myshopify.com",
            "customer": {"id": cid, "email": email, "phone": phone},
            "orders_to_redact": [],
        }
        self.send("customers/redact", body)


def test_a_redaction_after_the_deletion_blanks_what_the_inbox_kept_of_her(
    store: Store, ctx: IngestContext
) -> None:
    """A customer known only to Shopify deletes her account; Shopify's redaction comes days
    later. Her profile went with the deletion, yet her earlier delivery (with her note) and the
    redaction's own body go, and the redaction is applied."""
    shop = _Shop(store, ctx)
    cid, customer = shop.customer()
    shop.update(cid, customer)
    assert _mentioning(store, "Quimby") == ["customers/update"]
    del shop.fake.customers[cid]
    shop.send("customers/delete", {"id": cid})
    shop.redact(cid, customer["email"], "+14155550134")
    assert _mentioning(store, "Quimby", customer["email"], str(cid), "4155550134") == []
    assert [(topic, status) for topic, status, _ in _inbox(store)][-1] == (
        "customers/redact",
        "applied",
    )
    assert get_record(store.conn, RecordKey("shopify", "customer", str(cid))) is None
    other, _ = shop.customer(0)
    assert get_record(store.conn, RecordKey("shopify", "customer", str(other))) is not None


def test_a_redaction_of_a_customer_never_stored_keeps_no_contact_details(
    store: Store, ctx: IngestContext
) -> None:
    shop = _Shop(store, ctx)
    shop.redact(7_000_000_999, "zoe.unknown@example.org", "+14155559876")
    assert _mentioning(store, "zoe.unknown", "4155559876", "7000000999") == []
    assert [(topic, status) for topic, status, _ in _inbox(store)] == [
        ("customers/redact", "applied")
    ]


def test_a_late_data_request_about_an_erased_customer_keeps_no_contact_details(
    store: Store, ctx: IngestContext
) -> None:
    shop = _Shop(store, ctx)
    cid, customer = shop.customer()
    shop.redact(cid, customer["email"], None)
    assert profile_of_email(store, customer["email"]) is None
    shop.send(
        "customers/data_request",
        {
            "shop_id": 1,
            "shop_domain": f"{SHOP}.myshopify.com",
            "orders_requested": [],
            "customer": {"id": cid, "email": customer["email"], "phone": "+14155550134"},
            "data_request": {"id": 9999},
        },
    )
    assert _mentioning(store, customer["email"], str(cid), "4155550134") == []
    assert [status for _, status, _ in _inbox(store)] == ["applied", "applied"]
    # The request is recorded, to be answered "nothing stored about them", naming her by the
    # digests an erasure leaves, not by her customer id or the vendor's request id.
    (row,) = store.conn.execute(
        "SELECT request_id, external_id, email, phone, status FROM access_requests"
    ).fetchall()
    assert row[0].startswith("erased:")
    assert row[1].startswith("erased:")
    assert row[2:] == (None, None, "open")
    assert str(cid) not in "".join(map(str, row))
    assert "9999" not in str(row[0])


def _hubspot_event(contact: str, kind: str, at_ms: int, n: int, **fields: Any) -> dict[str, Any]:
    return {
        "eventId": 7_000 + n,
        "subscriptionId": 1,
        "portalId": 4_242_424,
        "appId": 1,
        "occurredAt": at_ms,
        "subscriptionType": f"contact.{kind}",
        "attemptNumber": 0,
        "objectId": int(contact),
        "changeSource": "CRM_UI",
        **fields,
    }


def _hubspot(store: Store, ctx: IngestContext) -> tuple[FakeHubSpot, str, int]:
    """A synced portal whose first contact then changed its surname and address, delivered by
    webhook (the event names the contact by its short ``objectId`` alone)."""
    fake = FakeHubSpot()
    contact = populate(fake, contacts=3)[0]
    connector = fake.connector()
    assert run_sync(store, connector, ctx).status == "ok"
    now_ms = int(fake.now() * 1000)
    fake.touch("contacts", contact, now_ms - 5_000, lastname="Quuxworth", address="9 Larkspur")
    change = _hubspot_event(
        contact, "propertyChange", now_ms - 5_000, 1, propertyName="lastname", propertyValue="Q"
    )
    _deliver(store, ctx, fake, [change])
    assert len(contact) < 6  # too short to search the bodies' text for
    return fake, contact, now_ms


def _deliver(
    store: Store, ctx: IngestContext, fake: FakeHubSpot, events: list[dict[str, Any]]
) -> None:
    connector = fake.connector()
    headers, body = fake.signed(events, HUBSPOT_URL)
    assert receive(store, connector, headers, body, HUBSPOT_URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1


def _contact_events(store: Store, contact: str) -> list[str]:
    return _mentioning(store, f'"objectId":{contact}', f'"objectId": {contact}')


def test_a_privacy_deletion_blanks_the_deliveries_that_named_the_contact_by_a_short_id(
    store: Store, ctx: IngestContext
) -> None:
    fake, contact, now_ms = _hubspot(store, ctx)
    assert _contact_events(store, contact) == ["contact.propertyChange"]
    _deliver(store, ctx, fake, [_hubspot_event(contact, "privacyDeletion", now_ms - 1_000, 2)])
    assert _contact_events(store, contact) == []
    assert [status for _, status, _ in _inbox(store)] == ["applied", "applied"]


def test_erasing_the_profile_blanks_the_deliveries_that_named_its_contact(
    store: Store, ctx: IngestContext
) -> None:
    _, contact, _ = _hubspot(store, ctx)
    key = RecordKey("hubspot", "contact", contact)
    profile = store.conn.execute(
        "SELECT m.profile_id FROM profile_members m JOIN records r ON r.id = m.record_id "
        "WHERE r.source = ? AND r.kind = ? AND r.external_id = ?",
        (key.source, key.kind, key.external_id),
    ).fetchone()[0]
    with store.transaction() as conn:
        report = erase_profiles(
            conn,
            [profile],
            requested_by="test",
            reason="test",
            now="2026-12-02T00:00:00Z",
            region="US",
        )
    assert report.inbox_scrubbed == 1
    assert _contact_events(store, contact) == []


def test_a_purged_delivery_takes_the_records_it_named_along(
    store: Store, ctx: IngestContext
) -> None:
    _, contact, _ = _hubspot(store, ctx)
    named = store.conn.execute("SELECT record FROM webhook_inbox_records").fetchall()
    assert named == [(f"hubspot/contact/{contact}",)]
    with store.transaction() as conn:
        assert inbox_store.purge(conn, "9999-01-01T00:00:00Z") == 1
    assert store.conn.execute("SELECT count(*) FROM webhook_inbox_records").fetchone() == (0,)
