"""HubSpot batches where the last event about a record must not decide.

Within a batch a later event about a record usually overrides an earlier one (a deletion then a
restore refetches the contact). Two exceptions: a privacy deletion is the person's erasure
request, which no later event in the batch may downgrade; and HubSpot goes on sending events
about an id merged away, which must refetch the record it was merged into and leave the
merged-away id a tombstone.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot

URL = "https://context.example.com/v1/webhooks/hubspot"
T0 = 1_767_225_000_000


def event(action: str, object_id: int, occurred: int, **extra: Any) -> dict[str, Any]:
    return {
        "eventId": 100 + object_id + occurred % 1000,
        "subscriptionId": 200,
        "portalId": 4242424,
        "appId": 400,
        "occurredAt": occurred,
        "subscriptionType": f"contact.{action}",
        "attemptNumber": 0,
        "objectId": object_id,
        "changeSource": "CRM",
        **extra,
    }


def parse(body: list[dict[str, Any]]) -> Any:
    return FakeHubSpot().connector().parse_webhook({}, json.dumps(body).encode())


# --- A privacy deletion is final within its batch --------------------------------------------


LATER = {
    "deletion": {},
    "propertyChange": {"propertyName": "email", "propertyValue": ""},
    "restore": {},
    "creation": {},
}


@pytest.mark.parametrize("later", sorted(LATER))
def test_a_privacy_deletion_is_not_undone_by_a_later_event_about_the_contact(later: str) -> None:
    body = [event("privacyDeletion", 42, T0), event(later, 42, T0 + 5, **LATER[later])]
    delivery = parse(body)
    assert delivery.erase == [("contact", "42")]
    assert (delivery.refetch, delivery.remove, delivery.objects) == ([], [], [])


def test_a_privacy_deletion_is_not_undone_by_a_later_merge_that_names_the_contact() -> None:
    merge = event("merge", 7, T0 + 5, primaryObjectId=7, mergedObjectIds=[42])
    delivery = parse([event("privacyDeletion", 42, T0), merge])
    assert delivery.erase == [("contact", "42")]
    assert delivery.refetch == [("contact", "7")]
    assert delivery.objects == []  # no tombstone replaces the erasure


def test_a_privacy_deletion_wins_over_an_earlier_event_about_the_contact() -> None:
    delivery = parse([event("deletion", 42, T0), event("privacyDeletion", 42, T0 + 5)])
    assert (delivery.erase, delivery.remove) == ([("contact", "42")], [])


# --- An id merged away stays merged within its batch -------------------------------------------


def test_an_event_about_an_id_merged_away_earlier_refetches_the_survivor() -> None:
    change = event("propertyChange", 6, T0 + 5, propertyName="email", propertyValue="x@y.example")
    delivery = parse([event("merge", 5, T0, primaryObjectId=5, mergedObjectIds=[6]), change])
    assert delivery.refetch == [("contact", "5")]
    assert [(o.payload["id"], o.deleted, o.merged_into) for o in delivery.objects] == [
        ("6", True, "5")
    ]


def test_an_event_about_an_id_merged_away_twice_refetches_the_last_survivor() -> None:
    body = [
        event("merge", 5, T0, primaryObjectId=5, mergedObjectIds=[6]),
        event("merge", 5, T0 + 5, primaryObjectId=5, mergedObjectIds=[8], newObjectId=9),
        event("propertyChange", 6, T0 + 9, propertyName="phone", propertyValue="+1"),
    ]
    delivery = parse(body)
    assert delivery.refetch == [("contact", "9")]
    gone = {o.payload["id"]: o.merged_into for o in delivery.objects}
    assert gone == {"6": "5", "5": "9", "8": "9"}


def test_an_event_before_the_merge_does_not_redirect() -> None:
    body = [
        event("propertyChange", 6, T0, propertyName="phone", propertyValue="+1"),
        event("merge", 5, T0 + 5, primaryObjectId=5, mergedObjectIds=[6]),
    ]
    delivery = parse(body)
    assert delivery.refetch == [("contact", "5")]
    assert [o.payload["id"] for o in delivery.objects] == ["6"]


def _redirecting(fake: FakeHubSpot, merged: str, primary: str) -> httpx.Client:
    """HubSpot answers a GET of a merged-away contact id with the record it went into."""

    def handler(request: httpx.Request) -> httpx.Response:
        suffix = f"/crm/v3/objects/contacts/{merged}"
        if request.method == "GET" and request.url.path.endswith(suffix):
            url = request.url.copy_with(path=request.url.path[: -len(merged)] + primary)
            request = httpx.Request("GET", url, headers=request.headers)
        return fake.handler(request)

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_a_merge_then_a_change_of_the_merged_id_in_one_batch_leaves_it_merged(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    primary, merged = populate(fake, contacts=2)
    run_sync(store, fake.connector(), ctx)
    now_ms = int(fake.now() * 1000)
    fake.touch("contacts", primary, now_ms - 3000)
    body = [
        event(
            "merge",
            int(primary),
            now_ms - 3000,
            primaryObjectId=int(primary),
            mergedObjectIds=[int(merged)],
        ),
        event(
            "propertyChange",
            int(merged),
            now_ms - 2000,
            propertyName="hs_merged_object_ids",
            propertyValue=merged,
        ),
    ]
    headers, raw = fake.signed(body, URL)
    connector = fake.connector(_redirecting(fake, merged, primary))
    assert receive(store, connector, headers, raw, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    record = get_record(store.conn, RecordKey("hubspot", "contact", merged))
    assert record is not None
    assert record.deleted
    assert record.mapped is not None
    assert record.mapped.merged_into == primary
    live = get_record(store.conn, RecordKey("hubspot", "contact", primary))
    assert live is not None
    assert not live.deleted
