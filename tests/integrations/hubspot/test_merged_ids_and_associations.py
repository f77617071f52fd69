"""HubSpot merges and association events, and refetch misses in the intake.

1. A contact or company merged away in HubSpot while no ``*.merge`` webhook reached us stays
   live: the search streams read ``hs_merged_object_ids`` (``;``-separated ids merged into the
   record) and emit deletion notices naming the survivor, as ``contact.merge`` does.
2. ``associationChange`` events whose ``associationType`` carries a suffix
   (``COMPANY_TO_CONTACT_UNLABELED``) or only a v4 type id refetch the other end too.
3. A webhook refetch the vendor answers "gone" is written on the inbox row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from context_service.models import Delivery, Page, Stream, VendorObject
from context_service.store import Store, profiles
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from integrations.hubspot import HubSpotConnector
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.review_fixtures import HUBSPOT_URL, hubspot_event

MERGED_IDS = "hs_merged_object_ids"
Json = dict[str, Any]


def merge_in_hubspot(fake: FakeHubSpot, object_type: str, survivor: str, *gone: str) -> None:
    """What a merge does in HubSpot: the merged-away records leave the CRM (search no longer
    finds them) and the survivor, modified now, lists them in ``hs_merged_object_ids``."""
    for object_id in gone:
        fake.objects[object_type].pop(object_id)
    earlier = fake.objects[object_type][survivor]["properties"].get(MERGED_IDS)
    merged = ";".join(filter(None, [earlier, *gone]))
    fake.touch(object_type, survivor, int(fake.now() * 1000) - 60_000, **{MERGED_IDS: merged})


def stream_pages(connector: HubSpotConnector, name: str) -> list[Page]:
    [stream] = [s for s in connector.streams() if s.name == name]
    return list(stream.pages(None))


def live(store: Store, kind: str = "contact") -> dict[str, int]:
    rows = store.conn.execute(
        "SELECT external_id, deleted FROM records WHERE source = 'hubspot' AND kind = ?", (kind,)
    ).fetchall()
    return dict(rows)


def profile_of(store: Store) -> dict[str, str]:
    rows = store.conn.execute(
        "SELECT r.external_id, m.profile_id FROM records r JOIN profile_members m "
        "ON m.record_id = r.id WHERE r.source = 'hubspot' AND r.kind = 'contact'"
    ).fetchall()
    return dict(rows)


# --- 1. merges without a merge webhook -----------------------------------------------------------


def test_the_search_asks_for_the_merged_ids() -> None:
    fake = FakeHubSpot()
    populate(fake, contacts=1)
    connector = fake.connector()
    for name in ("contacts", "companies", "deals"):
        stream_pages(connector, name)
    bodies = [json.loads(r.content) for r in fake.requests if r.url.path.endswith("/search")]
    assert bodies
    assert all(MERGED_IDS in body["properties"] for body in bodies)


def test_a_merged_away_contact_is_deleted_by_the_next_sync(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    primary, merged, other = populate(fake, contacts=3)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    before = profile_of(store)
    assert before[primary] != before[merged]
    fake.clock += 3600
    merge_in_hubspot(fake, "contacts", primary, merged)
    run_sync(store, connector, ctx)
    assert live(store) == {primary: 0, merged: 1, other: 0}
    survivor = profile_of(store)[primary]
    assert profiles.canonical_id(store.conn, before[merged]) == survivor  # its id still resolves
    assert [k.external_id for k in profiles.member_keys(store.conn, survivor)] == [primary]


def test_the_notice_names_the_survivor_and_is_dated_by_its_change() -> None:
    fake = FakeHubSpot()
    primary, merged = populate(fake, contacts=2)
    merge_in_hubspot(fake, "contacts", primary, merged)
    modified = fake.objects["contacts"][primary]["properties"]["lastmodifieddate"]
    objects = [o for p in stream_pages(fake.connector(), "contacts") for o in p.objects]
    notices = [o for o in objects if o.deleted]
    assert notices == [
        VendorObject(
            "contact",
            {"id": merged, "archived": True},
            observed_at=modified.replace(".000Z", "Z"),
            deleted=True,
            merged_into=primary,
            only_if_stored=True,
        )
    ]
    assert [o.payload["id"] for o in objects if not o.deleted] == [primary]


def test_a_merged_away_company_is_deleted_too(store: Store, ctx: IngestContext) -> None:
    fake = FakeHubSpot()
    populate(fake, contacts=1)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    first, second, third = sorted(fake.objects["companies"], key=int)
    fake.clock += 3600
    merge_in_hubspot(fake, "companies", first, second)
    run_sync(store, connector, ctx)
    assert live(store, "company") == {first: 0, second: 1, third: 0}


def test_merged_ids_are_applied_once_and_odd_values_are_ignored(
    store: Store, ctx: IngestContext
) -> None:
    """A second sync changes nothing; the survivor's own id, blanks and non-ids in the list
    are no records to delete, and an id never stored leaves nothing behind."""
    fake = FakeHubSpot()
    primary, merged, other = populate(fake, contacts=3)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    fake.clock += 3600
    fake.objects["contacts"].pop(merged)
    odd = f" {merged} ;;{primary};abc;99999999"
    fake.touch("contacts", primary, int(fake.now() * 1000) - 60_000, **{MERGED_IDS: odd})
    run_sync(store, connector, ctx)
    after_first = live(store)
    versions = dict(store.conn.execute("SELECT id, version FROM profiles").fetchall())
    fake.clock += 3600
    fake.touch("contacts", primary, int(fake.now() * 1000) - 60_000, firstname="Renamed")
    run_sync(store, connector, ctx)
    assert after_first == live(store) == {primary: 0, merged: 1, other: 0}
    merged_profile = profile_of(store).get(merged)
    assert merged_profile is None
    survivor = profile_of(store)[primary]
    again = dict(store.conn.execute("SELECT id, version FROM profiles").fetchall())
    assert {k: v for k, v in again.items() if k != survivor} == {
        k: v for k, v in versions.items() if k != survivor
    }


# --- 2. association types with a suffix ----------------------------------------------------------


def association_change(kind: str, from_id: int, to_id: int, **extra: Any) -> Json:
    """A legacy ``<kind>.associationChange`` event (fields of HubSpot's webhook reference)."""
    return hubspot_event(
        f"{kind}.associationChange",
        300 + from_id,
        1_767_225_000_000 + from_id,
        attemptNumber=0,
        changeSource="CRM_UI",
        fromObjectId=from_id,
        toObjectId=to_id,
        associationRemoved=False,
        isPrimaryAssociation=False,
        **extra,
    )


def refetched(*events: Json) -> list[tuple[str, str]]:
    delivery = FakeHubSpot().connector().parse_webhook({}, json.dumps(list(events)).encode())
    return delivery.refetch


def test_an_unlabeled_association_refetches_the_end_that_holds_the_link() -> None:
    assert refetched(
        association_change("company", 21, 11, associationType="COMPANY_TO_CONTACT_UNLABELED")
    ) == [("company", "21"), ("contact", "11")]
    assert refetched(
        association_change("contact", 12, 31, associationType="CONTACT_TO_DEAL_UNLABELED")
    ) == [("contact", "12"), ("deal", "31")]


def test_a_labelled_association_is_read_by_its_type_id() -> None:
    """A v4 label names no object types; the HubSpot-defined type id does."""
    event = association_change(
        "company",
        22,
        13,
        associationType="Billing contact",
        associationCategory="USER_DEFINED",
        associationTypeId=280,
    )
    assert refetched(event) == [("company", "22")]  # a user-defined id names nothing we know
    defined = {**event, "associationCategory": "HUBSPOT_DEFINED"}
    assert refetched(defined) == [("company", "22"), ("contact", "13")]


def test_other_object_types_and_the_holding_side_are_left_alone() -> None:
    assert refetched(
        association_change("company", 23, 14, associationType="COMPANY_TO_TICKET_UNLABELED"),
        association_change("contact", 15, 24, associationType="CONTACT_TO_COMPANY_UNLABELED"),
    ) == [("contact", "15"), ("company", "23")]


# --- 3. refetch misses on the inbox row ----------------------------------------------------------


class GoneOnRefetch:
    """The HubSpot connector, but every single-object fetch answers "gone" (``None``), as a
    connector does for a 404 it cannot turn into a deletion notice."""

    def __init__(self, inner: HubSpotConnector) -> None:
        self.inner = inner
        self.source = inner.source

    def streams(self) -> list[Stream]:
        return self.inner.streams()

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str, now: float) -> None:
        self.inner.verify_webhook(headers, body, url, now)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        return self.inner.parse_webhook(headers, body)

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        return None


def test_a_refetch_answered_gone_is_noted_on_the_inbox_row(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    connector = GoneOnRefetch(fake.connector())
    run_sync(store, connector, ctx)
    now_ms = int(fake.now() * 1000)
    body = [
        hubspot_event(
            "contact.propertyChange",
            1,
            now_ms - 1000,
            objectId=int(people[0]),
            propertyName="email",
            propertyValue="secret.new@example.com",
        )
    ]
    headers, raw = fake.signed(body, HUBSPOT_URL)
    assert receive(store, connector, headers, raw, HUBSPOT_URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    status, note = store.conn.execute("SELECT status, error FROM webhook_inbox").fetchone()
    assert status == "applied"
    assert note is not None
    assert f"contact {people[0]}" in note
    assert "not found" in note
    assert "secret.new" not in note
    assert fake.token not in note
    assert live(store)[people[0]] == 0  # the stored copy is kept
