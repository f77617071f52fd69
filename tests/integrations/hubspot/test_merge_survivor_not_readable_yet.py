"""A ``contact.merge`` whose survivor (``newObjectId``) is not readable yet.

HubSpot's merge may create a new record (``newObjectId``) into which both contacts go, and its
CRM is eventually consistent: when the merge webhook is applied, ``GET`` for the new id can
still answer 404. The merged-away contacts are tombstoned then, and their profiles have no
survivor to become aliases of. Once the survivor arrives (the next sync page, or a later
webhook about it), both merged-away profile ids must resolve to the survivor's profile, as
the README promises ("a merged-away id keeps resolving as an alias").

Payload shapes: HubSpot webhook events as in HubSpot's webhooks API reference (``eventId``,
``subscriptionId``, ``portalId``, ``appId``, ``occurredAt``, ``subscriptionType``,
``attemptNumber``, ``objectId``, ``changeSource``; ``contact.merge`` adds ``primaryObjectId``,
``mergedObjectIds`` and ``newObjectId``) and the CRM objects ``FakeHubSpot`` serves.
"""

from __future__ import annotations

from typing import Any

import pytest

from context_service.models import RecordKey
from context_service.store import Store, profiles
from context_service.sync import IngestContext, apply_pending, run_sync
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.test_refetch_404_new_records import hubspot_deliver, now_ms, row


def _event(event_id: int, kind: str, object_id: str, occurred_ms: int, **extra: Any) -> Any:
    return {
        "eventId": event_id,
        "subscriptionId": 1,
        "portalId": 4242424,
        "appId": 1,
        "occurredAt": occurred_ms,
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM",
        **extra,
    }


def _contact(external_id: str) -> RecordKey:
    return RecordKey("hubspot", "contact", external_id)


def _merge_into_unreadable_survivor(
    store: Store, ctx: IngestContext, fake: FakeHubSpot
) -> tuple[list[str], list[str], str, int]:
    """Two synced contacts, merged by a webhook into a new id HubSpot answers 404 for: the
    merged-away profile ids and contact ids, the survivor's id and when the merge happened."""
    t0 = now_ms(fake) - 600_000
    a = fake.add("contacts", t0, email="ann.a@example.com", firstname="Ann", lastname="Lee")["id"]
    b = fake.add("contacts", t0 + 1, email="ann.b@example.com", firstname="Ann", lastname="Lee")[
        "id"
    ]
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    old = [
        profiles.profile_of_key(store.conn, _contact(a)),
        profiles.profile_of_key(store.conn, _contact(b)),
    ]
    assert None not in old
    assert old[0] != old[1]
    new = fake.new_id()
    merged_ms = now_ms(fake) - 1000
    merge = _event(
        77,
        "contact.merge",
        a,
        merged_ms,
        primaryObjectId=int(a),
        mergedObjectIds=[int(b)],
        newObjectId=int(new),
    )
    hubspot_deliver(store, fake, [merge])
    assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    assert row(store, "hubspot", "contact", new) is None  # 404: nothing stored for it yet
    assert row(store, "hubspot", "contact", a) is not None
    assert row(store, "hubspot", "contact", a)[0] == 1  # type: ignore[index]
    fake.add("contacts", merged_ms, new, email="ann.a@example.com", firstname="Ann", lastname="Lee")
    return [str(pid) for pid in old], [a, b], new, merged_ms


def _assert_aliases_of_survivor(store: Store, old: list[str], new: str) -> None:
    survivor = profiles.profile_of_key(store.conn, _contact(new))
    assert survivor is not None
    assert _contact(new) in profiles.member_keys(store.conn, survivor)
    for pid in old:
        assert profiles.canonical_id(store.conn, pid) == survivor


@pytest.mark.parametrize("lists_merged", [False, True])
def test_the_next_sync_makes_the_merged_away_ids_aliases_of_the_survivor(
    store: Store, ctx: IngestContext, lists_merged: bool
) -> None:
    fake = FakeHubSpot()
    old, (a, b), new, merged_ms = _merge_into_unreadable_survivor(store, ctx, fake)
    if lists_merged:  # as HubSpot's survivor does: ``hs_merged_object_ids``
        fake.touch("contacts", new, merged_ms, hs_merged_object_ids=f"{a};{b}")
    fake.clock += 120
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    _assert_aliases_of_survivor(store, old, new)


def test_a_later_webhook_about_the_survivor_makes_them_aliases(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    old, _, new, _ = _merge_into_unreadable_survivor(store, ctx, fake)
    fake.clock += 60
    change = _event(
        78,
        "contact.propertyChange",
        new,
        now_ms(fake) - 500,
        propertyName="firstname",
        propertyValue="Ann",
    )
    hubspot_deliver(store, fake, [change])
    assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    _assert_aliases_of_survivor(store, old, new)


def test_a_merged_away_contact_erased_meanwhile_is_not_re_linked(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    old, (_, b), new, _ = _merge_into_unreadable_survivor(store, ctx, fake)
    fake.clock += 30
    gdpr = _event(79, "contact.privacyDeletion", b, now_ms(fake) - 500)
    hubspot_deliver(store, fake, [gdpr])
    assert apply_pending(store, {"hubspot": fake.connector()}, ctx) == 1
    fake.clock += 120
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    survivor = profiles.profile_of_key(store.conn, _contact(new))
    assert survivor is not None
    assert profiles.canonical_id(store.conn, old[0]) == survivor
    assert profiles.canonical_id(store.conn, old[1]) is None  # Ann B was erased meanwhile
    sleeping = store.conn.execute(
        "SELECT count(*) FROM dormant_alias_members WHERE alias = ?", (old[1],)
    ).fetchone()[0]
    assert sleeping == 0
