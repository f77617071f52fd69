"""Identity resolution: false merges an attacker or a support lead would find."""

from __future__ import annotations

import itertools

import pytest

from context_service.identity.cluster import cluster_component
from context_service.identity.compare import compare
from context_service.identity.features import Features
from context_service.identity.model import DEFAULT_MODEL
from context_service.identity.normalize import (
    is_merge_email,
    is_merge_phone,
    is_placeholder_email,
    normalize_email,
    normalize_phone,
)
from context_service.identity.pairs import Thresholds
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import count_profiles
from tests.conftest import Ingest
from tests.identity_helpers import pid
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer, zendesk_user

JOHN = RecordKey("shopify", "customer", "1")
JANE = RecordKey("stripe", "customer", "cus_J")
JANES_HELPDESK_USER = RecordKey("zendesk", "user", "3")


def test_one_initial_on_a_home_phone_does_not_pull_janes_record_into_johns_profile(
    store: Store, ingest: Ingest
) -> None:
    """John and Jane Smith share the landline; both have a record that says only "J Smith".
    Jane's holds her own mailbox, so it is hers, not John's through the phone."""
    ingest(shopify_customer(1, "john.smith@example.com", "John", "Smith"))
    ingest(hubspot_contact("2", "john.smith@example.com", "J", "Smith", phone="+1 415 555 0171"))
    ingest(zendesk_user(3, "J Smith", email="jane.smith@example.org", phone="(415) 555-0171"))
    ingest(stripe_customer("cus_J", "jane.smith@example.org", "Jane Smith"))
    assert pid(store, JANES_HELPDESK_USER) != pid(store, JOHN)
    assert pid(store, JANES_HELPDESK_USER) == pid(store, JANE)


def test_one_initial_agrees_as_an_initial_and_a_one_character_name_as_a_name() -> None:
    def levels(first: str, last: str) -> tuple[str, str]:
        one = Features(phones=("+14155550171",), first=first, last=last)
        found = compare(one, one)
        return found[2], found[3]

    assert levels("j", "smith") == ("initial", "exact")
    assert levels("john", "smith") == ("exact", "exact")
    assert levels("伟", "王") == ("exact", "exact")  # a CJK given name is no initial


def test_national_numbers_of_two_countries_read_in_a_us_store_link_nobody(
    store: Store, ingest: Ingest
) -> None:
    """An Australian mobile (0412 345 678) and a Swiss landline (041 234 56 78) are one string
    of digits; read as North American they would be one "+1" number that no line has."""
    ingest(shopify_customer(1, "js.sydney@example.com", "John", "Smith", "0412 345 678"))
    ingest(shopify_customer(2, "js.lucerne@example.ch", "John", "Smith", "041 234 56 78"))
    assert count_profiles(store.conn) == 2


@pytest.mark.parametrize("raw", ["0412 345 678", "06 12 34 56 78", "13800138000"])
def test_a_plus_one_number_no_north_american_line_can_have_is_no_merge_key(raw: str) -> None:
    phone = normalize_phone(raw, "US")
    assert phone is not None
    assert phone.startswith("+1")
    assert not is_merge_phone(phone)


def test_a_north_american_number_stays_a_merge_key() -> None:
    # (A toll-free 1-800 number is a valid North American number too, but a company's line:
    # no merge key for that reason, tests/identity/test_toll_free.py.)
    for raw in ("(415) 555-0134", "+1 212 555 0187", "1-646-555-0100"):
        phone = normalize_phone(raw, "US")
        assert phone is not None
        assert is_merge_phone(phone)


def test_two_nameless_customers_on_a_punctuated_no_reply_address_stay_apart(
    store: Store, ingest: Ingest
) -> None:
    ingest(stripe_customer("cus_1", "no_reply@shop.example", None))
    ingest(stripe_customer("cus_2", "no_reply@shop.example", None))
    assert count_profiles(store.conn) == 2


@pytest.mark.parametrize(
    "raw",
    [
        "no_reply@shop.example",
        "no.reply@shop.example",
        "do_not_reply@shop.example",
        "customer.service@acme.example",
        "customer-service@acme.example",
        "contact.us@acme.example",
        "Info+Orders@acme.example",
    ],
)
def test_a_role_mailbox_however_punctuated_is_no_merge_key(raw: str) -> None:
    email = normalize_email(raw)
    assert email is not None
    assert not is_merge_email(email)


@pytest.mark.parametrize(
    "raw", ["test1@test.com", "no_email@shop.example", "no.email@shop.example", "nomail@x.example"]
)
def test_placeholder_addresses_name_no_one(raw: str) -> None:
    email = normalize_email(raw)
    assert email is not None
    assert is_placeholder_email(email)
    assert not is_merge_email(email)


def test_a_personal_mailbox_stays_a_merge_key() -> None:
    for raw in ("maya.patel@example.com", "ann.lee+shop@example.com", "hr.kim@example.com"):
        email = normalize_email(raw)
        assert email is not None
        assert is_merge_email(email)


ANN = Features(emails=("ann.lee@example.com",), first="ann", last="lee")
BOB = Features(emails=("bob.park@example.net",), first="bob", last="park")
BOTH = Features(emails=("ann.lee@example.com", "bob.park@example.net"))  # no name


def _clusters_by_record(ids: tuple[int, ...]) -> set[frozenset[str]]:
    names = dict(zip(ids, ("ann", "bob", "both"), strict=True))
    features = dict(zip(ids, (ANN, BOB, BOTH), strict=True))
    result = cluster_component(features, DEFAULT_MODEL, Thresholds())
    return {frozenset(names[rid] for rid in cluster) for cluster in result.clusters}


def test_a_record_as_close_to_two_people_is_placed_whatever_order_they_arrived_in() -> None:
    """A record without a name that holds Ann's mailbox and Bob's links to each as strongly;
    record ids follow arrival, so they must not decide where it goes."""
    placements = {frozenset(_clusters_by_record(ids)) for ids in itertools.permutations((1, 2, 3))}
    assert len(placements) == 1
    (clusters,) = placements
    assert frozenset({"ann", "bob"}) not in {c & {"ann", "bob"} for c in clusters}
