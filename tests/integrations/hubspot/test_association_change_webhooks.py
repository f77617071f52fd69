"""HubSpot webhooks: association changes refetch the linked record, generic object events are
applied, and events sharing an id are not taken for duplicates."""

from __future__ import annotations

import json
from typing import Any

from context_service.models import Deal, RecordKey
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot

URL = "https://context.example.com/v1/webhooks/hubspot"


def association_change(
    kind: str, from_id: str, to_id: str, association: str, occurred: int, removed: bool
) -> dict[str, Any]:
    """An ``associationChange`` event as HubSpot sends it (no ``objectId``)."""
    return {
        "eventId": 9_000 + occurred % 1000,
        "subscriptionId": 200,
        "portalId": 4242424,
        "appId": 400,
        "occurredAt": occurred,
        "subscriptionType": f"{kind}.associationChange",
        "attemptNumber": 0,
        "changeSource": "CRM_UI",
        "associationType": association,
        "fromObjectId": int(from_id),
        "toObjectId": int(to_id),
        "associationRemoved": removed,
        "isPrimaryAssociation": False,
    }


def _unlink(fake: FakeHubSpot, a_type: str, a_id: str, b_type: str, b_id: str) -> None:
    fake.associations[(a_type, b_type)][a_id].remove(b_id)
    fake.associations[(b_type, a_type)][b_id].remove(a_id)


def _deal_owners(store: Store, deal_id: str) -> list[str]:
    record = get_record(store.conn, RecordKey("hubspot", "deal", deal_id))
    assert record is not None
    assert record.mapped is not None
    activity = record.mapped.activity
    assert isinstance(activity, Deal)
    return [owner.external_id for owner in activity.owners]


def test_a_contact_association_change_to_a_deal_refetches_the_deal(
    store: Store, ctx: IngestContext
) -> None:
    """A deal moved from contact A to contact B, announced only by the contact-side events
    (an app subscribed to ``contact.associationChange``): the deal's owners are the contacts
    it is associated with, so unless the deal is refetched A goes on seeing B's deal."""
    fake = FakeHubSpot()
    a, b, *_ = populate(fake, contacts=2)
    run_sync(store, fake.connector(), ctx)
    [deal_id, *_] = fake.associations[("contacts", "deals")][a]
    assert _deal_owners(store, deal_id) == [a]

    _unlink(fake, "deals", deal_id, "contacts", a)
    fake.associate("deals", deal_id, "contacts", b)
    now_ms = int(fake.now() * 1000)
    body = [
        association_change("contact", a, deal_id, "CONTACT_TO_DEAL", now_ms - 2000, True),
        association_change("contact", b, deal_id, "CONTACT_TO_DEAL", now_ms - 1000, False),
    ]
    headers, raw = fake.signed(body, URL)
    connector = fake.connector()
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    apply_pending(store, {"hubspot": connector}, ctx)
    assert _deal_owners(store, deal_id) == [b]


def generic(action: str, object_type_id: str, object_id: int, **extra: Any) -> dict[str, Any]:
    """A generic-format event (``object.*`` with ``objectTypeId``), as apps on HubSpot's
    current developer platform receive them (changelog: public-beta-generic-webhook-
    subscriptions; 0-1 contacts, 0-2 companies, 0-3 deals)."""
    return {
        "eventId": 5_000 + object_id,
        "subscriptionId": 300,
        "portalId": 4242424,
        "appId": 400,
        "occurredAt": 1_767_225_000_000 + object_id,
        "subscriptionType": f"object.{action}",
        "attemptNumber": 0,
        "objectId": object_id,
        "objectTypeId": object_type_id,
        "changeSource": "CRM_UI",
        **extra,
    }


def test_generic_object_events_of_contacts_companies_and_deals_are_applied() -> None:
    """A ``object.deletion`` of a contact was accepted and silently ignored, so the deleted
    contact's data went on being served; changes and merges were lost the same way."""
    body = [
        generic("deletion", "0-1", 1),
        generic("propertyChange", "0-2", 2, propertyName="name", propertyValue="Acme"),
        generic("creation", "0-3", 3),
        generic("merge", "0-1", 4, primaryObjectId=4, mergedObjectIds=[5]),
        generic("creation", "0-5", 6),  # a ticket: not mapped here
    ]
    delivery = FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode())
    assert delivery.remove == [("contact", "1", "2025-12-31T23:50:00Z")]
    assert delivery.refetch == [("company", "2"), ("deal", "3"), ("contact", "4")]
    assert [(o.kind, o.payload["id"], o.merged_into) for o in delivery.objects] == [
        ("contact", "5", "4")
    ]


def test_association_changes_of_different_records_sharing_an_event_id_are_not_duplicates(
    store: Store,
) -> None:
    """HubSpot says ``eventId`` is not guaranteed unique, so the dedup id adds a digest of
    what identifies the change; an association change has no ``objectId``, and its digest left
    out ``fromObjectId``/``toObjectId``: a second contact's change (a bulk association, one
    millisecond) was acknowledged as a duplicate and never applied."""
    fake = FakeHubSpot()
    connector = fake.connector()
    now_ms = int(fake.now() * 1000)
    first = association_change("contact", "11", "31", "CONTACT_TO_DEAL", now_ms, False)
    second = {**first, "fromObjectId": 12}
    statuses = []
    for change in (first, second):
        headers, raw = fake.signed([change], URL)
        statuses.append(receive(store, connector, headers, raw, URL, fake.now()).status)
    assert statuses == ["accepted", "accepted"]
