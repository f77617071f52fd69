"""After a vendor merge the merged-away profile id follows the survivor record.

Shopify's ``customers/merge`` (fed here as the deletion notice it becomes, ``merged_into`` the
kept customer) says both records are one person, so the merged-away profile id names whoever
holds the survivor record, through later splits too, not whoever holds its old profile.
"""

from __future__ import annotations

from context_service.identity.decisions import split_profile
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import canonical_id
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.conftest import Ingest
from tests.identity_helpers import pid, write
from tests.payloads import hubspot_contact, shopify_customer

NOW = "2026-03-01T00:00:00Z"
LATER = "2026-06-01T00:00:00Z"
KEPT = RecordKey("shopify", "customer", "1")
GONE = RecordKey("shopify", "customer", "2")
CONTACT = RecordKey("hubspot", "contact", "5")


def _merge_notice() -> RawPayload:
    """Shopify merged customer 2 into customer 1."""
    return RawPayload(
        "shopify", "customer", {"id": "2"}, observed_at=LATER, deleted=True, merged_into="1"
    )


def test_the_merged_away_id_follows_the_survivor_through_a_split(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(hubspot_contact("5", "ann.lee@example.com", "Ann", "Lee"))
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(shopify_customer(2, "ann.other@example.net", "Ann", "Lee"))
    shared, gone = pid(store, KEPT), pid(store, GONE)
    assert pid(store, CONTACT) == shared != gone
    ingest_batch(store, [_merge_notice()], ctx)
    assert canonical_id(store.conn, gone) == shared
    # A person says the HubSpot contact is someone else; the contact keeps the older id.
    write(store, split_profile, shared, [KEPT], "tester", NOW, "US")
    assert pid(store, CONTACT) == shared
    assert canonical_id(store.conn, gone) == pid(store, KEPT)  # customer 2 became customer 1


def test_an_alias_made_for_a_survivor_new_in_the_batch_follows_it(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(hubspot_contact("5", "ann.lee@example.com", "Ann", "Lee"))
    ingest(shopify_customer(2, "ann.other@example.net", "Ann", "Lee"))
    gone = pid(store, GONE)
    kept = RawPayload(*shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest_batch(store, [kept, _merge_notice()], ctx)
    shared = pid(store, KEPT)
    assert canonical_id(store.conn, gone) == shared == pid(store, CONTACT)
    write(store, split_profile, shared, [KEPT], "tester", NOW, "US")
    assert canonical_id(store.conn, gone) == pid(store, KEPT) != pid(store, CONTACT)
