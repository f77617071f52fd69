"""A vendor merge moves people's decisions about the merged-away record to the survivor.

Shopify's ``customers/merge`` (fed here as the deletion notice it becomes, ``merged_into`` the
kept customer) says both records are one person, so an ``apart``/``together`` decision about the
retired record binds the survivor instead of dying with the record; where the survivor has its
own decision about the same record, the survivor's stands. A decision the survivor takes over
binds in the merge's own batch.
"""

from __future__ import annotations

from context_service.identity.decisions import merge_profiles, split_profile
from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.conftest import Ingest
from tests.identity_helpers import pid, rid, write
from tests.payloads import hubspot_contact, shopify_customer

NOW = "2026-03-01T00:00:00Z"
LATER = "2026-06-01T00:00:00Z"
KEPT = RecordKey("shopify", "customer", "1")
GONE = RecordKey("shopify", "customer", "2")
OTHER = RecordKey("hubspot", "contact", "7")


def _merge_notice() -> RawPayload:
    """Shopify merged customer 2 into customer 1."""
    return RawPayload(
        "shopify", "customer", {"id": "2"}, observed_at=LATER, deleted=True, merged_into="1"
    )


def _decisions(store: Store) -> dict[tuple[int, int], str]:
    rows = store.conn.execute("SELECT a, b, decision FROM identity_decisions")
    return {(int(a), int(b)): str(d) for a, b, d in rows}


def _kept_apart_from_the_merged_away(store: Store, ingest: Ingest) -> None:
    """Customers 1 and 2 are strangers to the engine; contact 7 shares customer 2's email and
    a person split it off customer 2's profile (``apart``)."""
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(shopify_customer(2, "ann.other@example.net", "Ann", "Lee"))
    ingest(hubspot_contact("7", "ann.other@example.net", "Ann", "Lee"))
    assert pid(store, OTHER) == pid(store, GONE)
    write(store, split_profile, pid(store, GONE), [OTHER], "tester", NOW, "US")


def test_an_apart_decision_moves_to_the_survivor_and_still_binds(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    _kept_apart_from_the_merged_away(store, ingest)
    ingest_batch(store, [_merge_notice()], ctx)
    kept, gone, other = rid(store, KEPT), rid(store, GONE), rid(store, OTHER)
    assert _decisions(store) == {(min(kept, other), max(kept, other)): "apart"}
    assert not any(gone in pair for pair in _decisions(store))
    # The contact now has the survivor's email: the person's decision still keeps them apart.
    ingest(hubspot_contact("7", "ann.lee@example.com", "Ann", "Lee", lastmodifieddate=LATER))
    assert pid(store, OTHER) != pid(store, KEPT)


def test_the_survivors_own_decision_wins_over_the_merged_away_ones(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    _kept_apart_from_the_merged_away(store, ingest)
    write(store, merge_profiles, [pid(store, KEPT), pid(store, OTHER)], "t", NOW, "US")
    ingest_batch(store, [_merge_notice()], ctx)
    kept, other = rid(store, KEPT), rid(store, OTHER)
    assert _decisions(store) == {(min(kept, other), max(kept, other)): "together"}
    assert pid(store, OTHER) == pid(store, KEPT)


def test_a_carried_apart_decision_splits_the_survivor_from_that_record_at_once(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    """The survivor already shares a profile with the record a person kept apart from the
    merged-away one: that person's decision now concerns the survivor, so the two part in
    the merge's own batch, not whenever one of them next changes (until then the profile
    showed someone a person had said was another customer)."""
    ingest(shopify_customer(2, "ann.other@example.net", "Ann", "Lee"))
    ingest(hubspot_contact("7", "ann.other@example.net", "Ann", "Lee"))
    write(store, split_profile, pid(store, GONE), [OTHER], "tester", NOW, "US")
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("7", "ann.lee@example.com", "Ann", "Lee", lastmodifieddate=NOW))
    assert pid(store, OTHER) == pid(store, KEPT)  # linked on the shared email
    report = ingest_batch(store, [_merge_notice()], ctx)
    assert pid(store, OTHER) != pid(store, KEPT)
    assert report.profiles_changed >= 2
