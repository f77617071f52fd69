"""A merged-away profile id names the one person whose records it held, or no one.

Aliases the engine makes on its own remember their records too; an alias whose records are all
deleted, or end up split evenly between two people, resolves to nothing (404) instead of to
whoever holds the profile it last pointed at.
"""

from __future__ import annotations

from context_service.identity.decisions import merge_profiles, split_profile
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import canonical_id
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.conftest import Ingest
from tests.identity_helpers import pid, write
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer

NOW = "2026-03-01T00:00:00Z"
LATER = "2026-06-01T00:00:00Z"
ANN = RecordKey("shopify", "customer", "1")
CAL = RecordKey("hubspot", "contact", "2")


def _delete(store: Store, ctx: IngestContext, source: str, kind: str, external_id: str) -> None:
    notice = RawPayload(source, kind, {"id": external_id}, observed_at=LATER, deleted=True)
    ingest_batch(store, [notice], ctx)


def test_an_alias_whose_records_are_deleted_names_no_one(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "cal.moss@example.com", "Cal", "Moss"))
    ann, cal = pid(store, ANN), pid(store, CAL)
    write(store, merge_profiles, [ann, cal], "tester", NOW, "US")
    _delete(store, ctx, "hubspot", "contact", "2")
    assert canonical_id(store.conn, ann) == pid(store, ANN)
    assert canonical_id(store.conn, cal) is None  # not Ann's profile


def test_an_alias_the_engine_made_follows_its_record_when_the_bridge_goes(
    store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "ann.work@example.com", "Ann", "Lee", "+1 415 555 0100"))
    ann, cal = pid(store, ANN), pid(store, CAL)
    assert ann != cal
    # A Stripe customer with Ann's email and the contact's phone joins the two profiles.
    ingest(stripe_customer("cus_1", "ann.lee@example.com", "Ann Lee", "+1 415 555 0100"))
    assert pid(store, ANN) == pid(store, CAL) == canonical_id(store.conn, cal)
    _delete(store, ctx, "stripe", "customer", "cus_1")
    assert pid(store, ANN) != pid(store, CAL)
    assert canonical_id(store.conn, ann) == pid(store, ANN)
    assert canonical_id(store.conn, cal) == pid(store, CAL)


def _three_chained(store: Store, ingest: Ingest) -> tuple[str, str, str]:
    """Amy's profile merged into Bob's, then Bob's into Cat's (the oldest survives)."""
    ingest(shopify_customer(3, "cat@example.com", "Cat", "Cole"))
    ingest(shopify_customer(2, "bob@example.com", "Bob", "Bird"))
    ingest(shopify_customer(1, "amy@example.com", "Amy", "Ames"))
    amy, bob, cat = (pid(store, RecordKey("shopify", "customer", n)) for n in "123")
    assert write(store, merge_profiles, [amy, bob], "tester", NOW, "US").profile_id == bob
    assert write(store, merge_profiles, [bob, cat], "tester", NOW, "US").profile_id == cat
    return amy, bob, cat


def test_a_chained_alias_stays_with_its_own_record(store: Store, ingest: Ingest) -> None:
    amy, bob, cat = _three_chained(store, ingest)
    write(store, split_profile, cat, [RecordKey("shopify", "customer", "1")], "t", NOW, "US")
    assert canonical_id(store.conn, amy) == pid(store, RecordKey("shopify", "customer", "1"))
    # Bob's id remembers Bob's record alone (Amy's, which his profile had taken over, are
    # Amy's id's to remember): it stays where Bob's record is.
    assert canonical_id(store.conn, bob) == cat == pid(store, RecordKey("shopify", "customer", "2"))
    assert canonical_id(store.conn, cat) == cat


def test_a_chained_alias_never_lands_on_another_person(store: Store, ingest: Ingest) -> None:
    amy, bob, cat = _three_chained(store, ingest)
    write(store, split_profile, cat, [RecordKey("shopify", "customer", "1")], "t", NOW, "US")
    write(store, split_profile, cat, [RecordKey("shopify", "customer", "2")], "t", NOW, "US")
    assert canonical_id(store.conn, bob) != pid(store, RecordKey("shopify", "customer", "1"))
    assert canonical_id(store.conn, bob) == pid(store, RecordKey("shopify", "customer", "2"))
    assert canonical_id(store.conn, amy) == pid(store, RecordKey("shopify", "customer", "1"))
