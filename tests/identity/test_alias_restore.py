"""A merged-away id whose records were all deleted, then restored by a later sync.

Deleting every record an alias remembers drops the alias (``profiles.follow_aliases``): it
names no one, and a 404 is better than naming the wrong person. When the same source records
come back (same source ids), the id names them again: the dropped alias went dormant with the
records it remembered (``dormant_alias_members``), and wakes once one profile holds most of
them.
"""

from __future__ import annotations

from context_service.identity.decisions import merge_profiles, split_profile
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import canonical_id
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.trust.subject import subject_export
from tests.conftest import Ingest
from tests.identity_helpers import pid, write
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer

NOW = "2026-03-01T00:00:00Z"
DELETED = "2026-04-01T00:00:00Z"
RESTORED = "2026-05-01T00:00:00Z"
ANN = RecordKey("shopify", "customer", "1")
CAL = RecordKey("hubspot", "contact", "2")


def _merged_then_deleted(store: Store, ingest: Ingest, ctx: IngestContext) -> str:
    """Ann and Cal merged by a person, then both records deleted at the source; returns the
    merged-away id."""
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "cal.moss@example.com", "Cal", "Moss"))
    ann, cal = pid(store, ANN), pid(store, CAL)
    merged = write(store, merge_profiles, [ann, cal], "tester", NOW, "US")
    gone = cal if merged.profile_id == ann else ann
    assert canonical_id(store.conn, gone) == merged.profile_id
    deletions = [
        RawPayload(key.source, key.kind, {"id": key.external_id}, DELETED, deleted=True)
        for key in (ANN, CAL)
    ]
    ingest_batch(store, deletions, ctx)
    assert canonical_id(store.conn, gone) is None  # names no one while its records are gone
    return gone


def test_restoring_the_records_revives_the_merged_away_id(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    gone = _merged_then_deleted(store, ingest, ctx)
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee", None, RESTORED))
    ingest(hubspot_contact("2", "cal.moss@example.com", "Cal", "Moss", lastmodifieddate=RESTORED))
    assert pid(store, ANN) == pid(store, CAL)  # the person's merge still binds
    assert canonical_id(store.conn, gone) == pid(store, CAL)


DEE = RecordKey("stripe", "customer", "cus_3")


def test_an_alias_split_evenly_sleeps_and_wakes_when_its_records_meet_again(
    store: Store, ingest: Ingest
) -> None:
    """Dee (oldest) absorbs Ann's profile, which holds Ann's Shopify customer and HubSpot
    contact, so Ann's id remembers both. Splitting the contact out leaves that id one record on
    each side: it names no one. Merging the contact back makes it name them again."""
    ingest(stripe_customer("cus_3", "dee.ray@example.com", "Dee Ray"))
    ingest(
        shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"),
        hubspot_contact("2", "ann.lee@example.com", "Ann", "Lee"),
    )
    dee, ann = pid(store, DEE), pid(store, ANN)
    assert pid(store, CAL) == ann  # the same email and name: one profile
    merged = write(store, merge_profiles, [dee, ann], "tester", NOW, "US")
    assert merged.profile_id == dee
    split = write(store, split_profile, dee, [CAL], "tester", DELETED, "US")
    assert canonical_id(store.conn, ann) is None  # one record with Dee, one apart: a tie
    assert pid(store, CAL) == split.split_off[0] != dee
    # What is held about Dee's profile (an access request) names the sleeping id too.
    assert subject_export(store.conn, dee)["sleeping_aliases"] == [ann]
    write(store, merge_profiles, [dee, split.split_off[0]], "tester", RESTORED, "US")
    assert canonical_id(store.conn, ann) == dee == pid(store, CAL) == pid(store, ANN)
    sleeping = store.conn.execute("SELECT count(*) FROM dormant_alias_members").fetchone()[0]
    assert sleeping == 0  # woken, it no longer sleeps


def test_a_vendor_merge_carries_a_sleeping_alias_to_the_survivor(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """While Cal's old id sleeps (both records deleted), HubSpot merges Cal's contact into
    another one: the id remembers the survivor, and wakes with it."""
    gone = _merged_then_deleted(store, ingest, ctx)
    survivor = RecordKey("hubspot", "contact", "9")
    ingest(hubspot_contact("9", "cal.moss@example.com", "Cal", "Moss", lastmodifieddate=RESTORED))
    merged_away = RawPayload(
        "hubspot", "contact", {"id": "2"}, RESTORED, deleted=True, merged_into="9"
    )
    ingest_batch(store, [merged_away], ctx)
    assert canonical_id(store.conn, gone) == pid(store, survivor)
