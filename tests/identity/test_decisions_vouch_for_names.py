"""A person who puts two differently named records together has said both names are one
customer's: the customer's other records, and new ones carrying either name, stay with them.

Before, a decision excused only the pair it named: Pat Doe's own Zendesk record, which
conflicts by name with Patricia Stone, was split off the moment a reviewer accepted "Patricia
Stone is Pat Doe", and the mailbox they share counted as two people's, so looking Pat up by
email answered 409.
"""

from __future__ import annotations

from context_service.identity.audit import list_review
from context_service.identity.decisions import decide_review, merge_profiles
from context_service.models import RecordKey
from context_service.snapshot.lookup import by_email
from context_service.store import Store
from context_service.sync.rebuild import resolve_all
from context_service.wiring import ingest_context
from tests.conftest import Ingest, make_settings
from tests.identity_helpers import pid, write
from tests.payloads import (
    hubspot_contact,
    shopify_customer,
    stripe_customer,
    zendesk_ticket,
    zendesk_user,
)

NOW = "2026-03-01T00:00:00Z"
PAT_SHOP = RecordKey("shopify", "customer", "1")
PATRICIA = RecordKey("hubspot", "contact", "2")
PAT_DESK = RecordKey("zendesk", "user", "3")


def _accept(store: Store, first: RecordKey, second: RecordKey) -> None:
    wanted = {(first.source, first.external_id), (second.source, second.external_id)}
    [item] = [
        i
        for i in list_review(store.conn).items
        if {(i.a.source, i.a.external_id), (i.b.source, i.b.external_id)} == wanted
    ]
    write(store, decide_review, item.id, True, "lead", NOW, "US")


def _rebuilt_agrees(store: Store, keys: list[RecordKey]) -> None:
    before = [pid(store, key) for key in keys]
    resolve_all(store, ingest_context(make_settings(store.path)))
    assert [pid(store, key) for key in keys] == before


def _holder(store: Store, email: str) -> str:
    """The one profile an email lookup answers (``AmbiguousIdentifier`` when several hold it)."""
    return by_email(store.conn, email).profile_id


def test_accepting_a_new_name_keeps_the_customers_other_records(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "pat@example.com", "Pat", "Doe", "+14155550122"))
    ingest(
        zendesk_user(3, "Pat Doe", "pat@example.com", "+14155550122"),
        zendesk_ticket(900, 3, "Where is my parcel?"),
    )
    ingest(hubspot_contact("2", "pat@example.com", "Patricia", "Stone"))
    assert pid(store, PAT_SHOP) == pid(store, PAT_DESK) != pid(store, PATRICIA)

    _accept(store, PAT_SHOP, PATRICIA)

    pat = pid(store, PAT_SHOP)
    assert pid(store, PAT_DESK) == pid(store, PATRICIA) == pat
    assert list_review(store.conn).items == []
    assert _holder(store, "pat@example.com") == pat
    _rebuilt_agrees(store, [PAT_SHOP, PAT_DESK, PATRICIA])


def test_a_new_record_with_either_name_joins_after_an_accept(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "pat@example.com", "Pat", "Doe"))
    ingest(hubspot_contact("2", "pat@example.com", "Patricia", "Stone"))
    _accept(store, PAT_SHOP, PATRICIA)

    ingest(zendesk_user(3, "Pat Doe", "pat@example.com"))
    ingest(stripe_customer("cus_4", "pat@example.com", "Patricia Stone"))

    pat = pid(store, PAT_SHOP)
    assert pid(store, PAT_DESK) == pid(store, RecordKey("stripe", "customer", "cus_4")) == pat
    assert list_review(store.conn).items == []
    _rebuilt_agrees(store, [PAT_SHOP, PAT_DESK, PATRICIA])


def test_new_records_join_a_manual_merge_of_two_names(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "ann.lee@gmail.com", "Ann", "Lee", "+14155550111"))
    ingest(hubspot_contact("2", "ann.stone@work.example", "Ann", "Stone"))
    write(store, merge_profiles, [pid(store, PAT_SHOP), pid(store, PATRICIA)], "lead", NOW, "US")

    ingest(zendesk_user(3, "Ann Lee", "ann.lee@gmail.com", "+14155550111"))
    ingest(stripe_customer("cus_4", "ann.lee@gmail.com", "Ann Lee", phone="+14155550111"))

    ann = pid(store, PAT_SHOP)
    assert pid(store, PAT_DESK) == pid(store, RecordKey("stripe", "customer", "cus_4")) == ann
    assert list_review(store.conn).items == []
    assert _holder(store, "ann.lee@gmail.com") == ann


def test_a_third_name_on_the_mailbox_is_still_someone_else(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "pat@example.com", "Pat", "Doe"))
    ingest(hubspot_contact("2", "pat@example.com", "Patricia", "Stone"))
    _accept(store, PAT_SHOP, PATRICIA)

    ingest(zendesk_user(3, "Jo Marsh", "pat@example.com"))

    assert pid(store, PAT_DESK) != pid(store, PAT_SHOP)
    _rebuilt_agrees(store, [PAT_SHOP, PAT_DESK, PATRICIA])


def test_a_nameless_record_a_person_merged_vouches_for_no_name(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "doe.family@example.com", "Pat", "Doe"))
    ingest(stripe_customer("cus_2", "billing@doe.example", None))
    nameless = RecordKey("stripe", "customer", "cus_2")
    write(store, merge_profiles, [pid(store, PAT_SHOP), pid(store, nameless)], "lead", NOW, "US")

    ingest(zendesk_user(3, "Jo Marsh", "billing@doe.example"))

    assert pid(store, PAT_DESK) != pid(store, PAT_SHOP) == pid(store, nameless)
    _rebuilt_agrees(store, [PAT_SHOP, PAT_DESK, nameless])


def test_a_nickname_vouched_for_brings_no_relative_in(store: Store, ingest: Ingest) -> None:
    """Chris Lee accepted as Christopher Lee says nothing of Christine Lee on the family
    mailbox (Chris is a nickname of both): she stays apart (a review found the two merged)."""
    christopher, christine = RecordKey("shopify", "customer", "1"), PATRICIA
    chris = PAT_DESK
    ingest(shopify_customer(1, "lee.family@example.com", "Christopher", "Lee"))
    ingest(hubspot_contact("2", "lee.family@example.com", "Christine", "Lee"))
    ingest(zendesk_user(3, "Chris Lee", "lee.family@example.com"))

    _accept(store, chris, christopher)

    assert pid(store, chris) == pid(store, christopher) != pid(store, christine)
    _rebuilt_agrees(store, [christopher, christine, chris])


def test_a_name_vouched_for_is_exactly_that_name(store: Store, ingest: Ingest) -> None:
    """Pat Doe merged with Patricia Stone: Patrick Doe and Patricia Doe on the family mailbox
    carry a Pat, not Pat Doe's name, and stay apart from her and each other."""
    patrick, patricia_doe = RecordKey("shopify", "customer", "1"), PATRICIA
    stone = RecordKey("stripe", "customer", "cus_4")
    ingest(shopify_customer(1, "doe.family@example.com", "Patrick", "Doe"))
    ingest(hubspot_contact("2", "doe.family@example.com", "Patricia", "Doe"))
    ingest(zendesk_user(3, "Pat Doe", "doe.family@example.com", "+14155550122"))
    ingest(stripe_customer("cus_4", "p.stone@work.example", "Patricia Stone", "+14155550122"))

    write(store, merge_profiles, [pid(store, PAT_DESK), pid(store, stone)], "lead", NOW, "US")

    pat = pid(store, PAT_DESK)
    assert pid(store, stone) == pat
    assert len({pat, pid(store, patrick), pid(store, patricia_doe)}) == 3
    _rebuilt_agrees(store, [patrick, patricia_doe, PAT_DESK, stone])
