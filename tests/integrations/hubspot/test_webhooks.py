"""HubSpot webhooks: signature v3 (the published vector and the fake's), and event batches."""

from __future__ import annotations

import json
from typing import Any

import pytest

from context_service.errors import MappingError, WebhookRejected
from context_service.models import VendorObject
from context_service.store import Store, profiles
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from integrations.hubspot.webhooks import decode_events, dedup_id
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.refdata import refdata

URL = "https://context.example.com/v1/webhooks/hubspot?portal=4242424"


def vector() -> dict[str, Any]:
    data: dict[str, Any] = refdata("webhook_signature_vectors.json")["hubspot_v3"]
    return data


def event(kind: str, action: str, object_id: int, **extra: Any) -> dict[str, Any]:
    base = {
        "eventId": 100 + object_id,
        "subscriptionId": 200,
        "portalId": 4242424,
        "appId": 400,
        "occurredAt": 1_767_225_000_000 + object_id,
        "subscriptionType": f"{kind}.{action}",
        "attemptNumber": 0,
        "objectId": object_id,
        "changeSource": "CRM",
    }
    return {**base, **extra}


def rejected(headers: dict[str, str], body: bytes, url: str, now: float) -> str:
    fake = FakeHubSpot(client_secret=vector()["client_secret"])
    with pytest.raises(WebhookRejected) as caught:
        fake.connector().verify_webhook(headers, body, url, now)
    return str(caught.value)


def vector_delivery() -> tuple[dict[str, str], bytes, str, float]:
    v = vector()
    headers = dict(zip(v["headers"], [v["expected"], v["timestamp_ms"]], strict=True))
    return headers, v["raw_body"].encode(), v["uri"], int(v["timestamp_ms"]) / 1000


def test_the_published_vector_verifies() -> None:
    headers, body, uri, now = vector_delivery()
    connector = FakeHubSpot(client_secret=vector()["client_secret"]).connector()
    connector.verify_webhook(headers, body, uri, now)
    lower = {k.lower(): v for k, v in headers.items()}
    connector.verify_webhook(lower, body, uri, now + vector()["max_age_seconds"])


def test_percent_encoded_uri_characters_are_decoded_before_hashing() -> None:
    fake = FakeHubSpot()
    headers, body = fake.signed([event("contact", "creation", 1)], "https://h.example/a?b=c:d")
    fake.connector().verify_webhook(headers, body, "https://h.example/a%3Fb=c%3Ad", fake.now())


def test_tampered_body_wrong_uri_and_wrong_secret_are_rejected() -> None:
    headers, body, uri, now = vector_delivery()
    tampered = body.replace(b"new@example.com", b"evil@example.com")
    assert "does not match" in rejected(headers, tampered, uri, now)
    assert "does not match" in rejected(headers, body, uri.replace("x=1", "x=2"), now)
    fake = FakeHubSpot(client_secret="another-secret")
    with pytest.raises(WebhookRejected, match="does not match"):
        fake.connector().verify_webhook(headers, body, uri, now)


def test_stale_and_future_timestamps_are_rejected() -> None:
    headers, body, uri, now = vector_delivery()
    assert "old" in rejected(headers, body, uri, now + 301)
    assert "future" in rejected(headers, body, uri, now - 301)


@pytest.mark.parametrize("missing", ["X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp"])
def test_missing_headers_are_rejected(missing: str) -> None:
    headers, body, uri, now = vector_delivery()
    del headers[missing]
    assert "missing" in rejected(headers, body, uri, now)


def test_no_client_secret_refuses_every_delivery() -> None:
    headers, body, uri, now = vector_delivery()
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        FakeHubSpot().connector(client_secret=None).verify_webhook(headers, body, uri, now)


def test_property_changes_and_creations_are_refetched_once_each() -> None:
    body = [
        event("contact", "propertyChange", 1, propertyName="email", propertyValue="a@b.example"),
        event("contact", "propertyChange", 1, propertyName="phone", propertyValue="+1", eventId=7),
        event("company", "creation", 2),
        event("deal", "propertyChange", 3, propertyName="dealstage", propertyValue="closedwon"),
        event("ticket", "creation", 4),
    ]
    delivery = FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode())
    assert delivery.refetch == [("contact", "1"), ("company", "2"), ("deal", "3")]
    assert delivery.objects == []
    assert delivery.erase == []
    assert len(delivery.dedup_ids) == len(set(delivery.dedup_ids)) == 5
    assert delivery.dedup_ids[0].startswith("101:")
    assert delivery.occurred_at == "2025-12-31T23:50:00Z"


def test_privacy_deletion_erases_the_person_and_deletion_removes_the_contact() -> None:
    """A privacy deletion is the person's erasure request; a plain deletion HubSpot can undo
    for 90 days, so it removes the contact's data, dated, and suppresses nothing."""
    body = [event("contact", "deletion", 1), event("contact", "privacyDeletion", 2)]
    delivery = FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode())
    assert delivery.erase == [("contact", "2")]
    assert delivery.remove == [("contact", "1", "2025-12-31T23:50:00Z")]
    assert delivery.refetch == []


def test_a_deleted_deal_leaves_a_tombstone() -> None:
    body = [event("deal", "deletion", 9)]
    [tombstone] = FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode()).objects
    assert tombstone == VendorObject(
        "deal", {"id": "9", "archived": True}, observed_at="2025-12-31T23:50:00Z", deleted=True
    )


def test_merge_refetches_the_primary_and_tombstones_the_merged() -> None:
    body = [event("contact", "merge", 5, primaryObjectId=5, mergedObjectIds=[6, 7])]
    delivery = FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode())
    assert delivery.refetch == [("contact", "5")]
    assert [(o.kind, o.payload["id"], o.deleted) for o in delivery.objects] == [
        ("contact", "6", True),
        ("contact", "7", True),
    ]


def association_change(kind: str, from_id: int, to_id: int, association: str) -> dict[str, Any]:
    """An ``associationChange`` event as HubSpot sends it: no ``objectId``, the record of the
    subscription's type in ``fromObjectId`` and the other end in ``toObjectId``
    (developers.hubspot.com/changelog/bugfix-webhook-associationchanges)."""
    body = event(kind, "associationChange", from_id, associationType=association)
    del body["objectId"]
    extra = {"associationRemoved": False, "isPrimaryAssociation": False}
    return {**body, "fromObjectId": from_id, "toObjectId": to_id, **extra}


def test_an_association_change_refetches_the_record_of_its_subscription_type() -> None:
    body = [
        association_change("contact", 11, 21, "CONTACT_TO_COMPANY"),
        association_change("company", 21, 11, "COMPANY_TO_CONTACT"),
        association_change("deal", 31, 11, "DEAL_TO_CONTACT"),
    ]
    delivery = FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode())
    assert delivery.refetch == [("contact", "11"), ("company", "21"), ("deal", "31")]
    assert delivery.problems == []
    assert len(set(delivery.dedup_ids)) == 3


def test_the_last_event_about_a_record_decides() -> None:
    later = event("contact", "restore", 1, occurredAt=1_767_225_999_000)
    body = [later, event("contact", "deletion", 1)]  # out of order, as HubSpot may send them
    delivery = FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode())
    assert (delivery.refetch, delivery.erase) == ([("contact", "1")], [])


def test_same_event_id_for_different_changes_gives_different_dedup_ids() -> None:
    one = event("contact", "propertyChange", 1, propertyName="email", propertyValue="a@x.example")
    two = {**one, "propertyValue": "b@x.example"}
    retry = {**one, "attemptNumber": 3}
    a, b, c = (dedup_id(e) for e in decode_events(json.dumps([one, two, retry]).encode())[0])
    assert a != b
    assert a == c


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b"[]",
        b'[{"eventId": 1}]',
        b'[{"eventId": 1, "subscriptionType": "contact.creation", "occurredAt": 5, '
        b'"portalId": 4242424}]',
        b"[1, 2]",
    ],
    ids=["not-json", "object", "empty", "no-type", "no-object-id", "not-objects"],
)
def test_malformed_bodies_raise_mapping_error(body: bytes) -> None:
    with pytest.raises(MappingError):
        FakeHubSpot().connector().parse_webhook({}, body)


def test_a_batch_is_applied_once_through_the_intake(store: Store, ctx: IngestContext) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=3)
    connector = fake.connector()
    now_ms = int(fake.now() * 1000)
    fake.touch("contacts", people[0], now_ms - 5000, email="changed@example.com")
    body = [
        event("contact", "propertyChange", int(people[0]), occurredAt=now_ms - 5000),
        event(
            "contact",
            "merge",
            int(people[1]),
            primaryObjectId=int(people[1]),
            mergedObjectIds=[int(people[2])],
            occurredAt=now_ms - 4000,
        ),
    ]
    headers, raw = fake.signed(body, URL)
    first = receive(store, connector, headers, raw, URL, fake.now())
    again = receive(store, connector, headers, raw, URL, fake.now())
    assert (first.status, again.status) == ("accepted", "duplicate")
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    rows = dict(
        store.conn.execute(
            "SELECT external_id, deleted FROM records WHERE source = 'hubspot'"
        ).fetchall()
    )
    assert rows == {people[0]: 0, people[1]: 0, people[2]: 1}
    emails = store.conn.execute(
        "SELECT count(*) FROM identifiers WHERE kind = 'email' AND value = 'changed@example.com'"
    ).fetchone()[0]
    assert emails == 1


def test_a_retried_event_batched_with_new_ones_does_not_take_them_with_it(
    store: Store, ctx: IngestContext
) -> None:
    """HubSpot batches up to 100 events a request and retries events one by one; an event seen
    before, sent again beside new ones, must not make the new ones a replay (they were
    acknowledged and dropped, so the second contact's change was lost)."""
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    connector = fake.connector()
    now_ms = int(fake.now() * 1000)
    fake.touch("contacts", people[0], now_ms - 5000, email="first@example.com")
    fake.touch("contacts", people[1], now_ms - 4000, email="second@example.com")
    seen = event("contact", "propertyChange", int(people[0]), occurredAt=now_ms - 5000)
    fresh = event("contact", "propertyChange", int(people[1]), occurredAt=now_ms - 4000)
    headers, raw = fake.signed([seen], URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    headers, raw = fake.signed([seen, fresh], URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    headers, raw = fake.signed([fresh, seen], URL)  # every event seen: a replay
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "duplicate"
    assert apply_pending(store, {"hubspot": connector}, ctx) == 2
    emails = {
        row[0]
        for row in store.conn.execute(
            "SELECT value FROM identifiers WHERE kind = 'email' AND value LIKE '%@example.com'"
        )
    }
    assert {"first@example.com", "second@example.com"} <= emails


def test_a_hubspot_merge_keeps_the_merged_contacts_profile_id_as_an_alias(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    profile_of = dict(
        store.conn.execute(
            "SELECT r.external_id, m.profile_id FROM records r JOIN profile_members m "
            "ON m.record_id = r.id WHERE r.source = 'hubspot' AND r.kind = 'contact'"
        ).fetchall()
    )
    primary, merged = people
    assert profile_of[primary] != profile_of[merged]  # two people as far as we could tell
    now_ms = int(fake.now() * 1000)
    fake.touch("contacts", primary, now_ms - 3000)
    body = [
        event(
            "contact",
            "merge",
            int(primary),
            primaryObjectId=int(primary),
            mergedObjectIds=[int(merged)],
            occurredAt=now_ms - 3000,
        )
    ]
    headers, raw = fake.signed(body, URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    survivor = profile_of[primary]
    assert profiles.canonical_id(store.conn, profile_of[merged]) == survivor
    assert profiles.canonical_id(store.conn, survivor) == survivor
    members = profiles.member_keys(store.conn, survivor)
    assert [key.external_id for key in members if key.kind == "contact"] == [primary]


def test_a_merge_tombstone_names_the_record_that_survived() -> None:
    body = [event("contact", "merge", 5, primaryObjectId=5, mergedObjectIds=[6, 5])]
    delivery = FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode())
    assert [(o.payload["id"], o.merged_into) for o in delivery.objects] == [("6", "5")]


def test_a_merge_into_a_new_record_refetches_it_and_tombstones_both_originals() -> None:
    body = [event("contact", "merge", 5, primaryObjectId=5, mergedObjectIds=[6], newObjectId=9)]
    delivery = FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode())
    assert delivery.refetch == [("contact", "9")]
    gone = [(o.payload["id"], o.deleted, o.merged_into) for o in delivery.objects]
    assert gone == [("5", True, "9"), ("6", True, "9")]


def test_a_merge_into_a_new_record_leaves_only_the_new_record_live(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    primary, merged = populate(fake, contacts=2)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    now_ms = int(fake.now() * 1000)
    survivor = fake.add("contacts", now_ms - 3000, email="person0@example.com")["id"]
    body = [
        event(
            "contact",
            "merge",
            int(primary),
            primaryObjectId=int(primary),
            mergedObjectIds=[int(merged)],
            newObjectId=int(survivor),
            occurredAt=now_ms - 3000,
        )
    ]
    headers, raw = fake.signed(body, URL)
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    rows = dict(
        store.conn.execute(
            "SELECT external_id, deleted FROM records WHERE source = 'hubspot' AND kind = 'contact'"
        ).fetchall()
    )
    assert rows == {primary: 1, merged: 1, survivor: 0}
