"""A generational suffix (Sr, Jr, II, III) tells a father from his son: two records whose
suffixes differ are never merged automatically, whatever else they share; a record without a
suffix does not conflict with one that has it."""

from __future__ import annotations

import pytest

from context_service.identity.features import Features
from context_service.identity.model import DEFAULT_MODEL
from context_service.identity.normalize import generational_suffix, name_tokens
from context_service.identity.pairs import Thresholds, decide
from context_service.store import Store
from context_service.store.profiles import count_profiles
from tests.conftest import Ingest
from tests.payloads import hubspot_contact, shopify_customer, zendesk_user


@pytest.mark.parametrize(
    ("first", "last", "full", "suffix"),
    [
        ("John", "Smith Sr.", None, "sr"),
        (None, None, "John Smith Jr.", "jr"),
        ("John Jr", "Smith", None, "jr"),
        (None, None, "John Smith III", "iii"),
        (None, None, "John Smith Junior", "jr"),
        (None, None, "Junior Santos", ""),  # a first name, not a suffix
        ("Maya", "Patel", None, ""),
    ],
)
def test_the_suffix_is_read_from_the_name(
    first: str | None, last: str | None, full: str | None, suffix: str
) -> None:
    assert generational_suffix(first, last, full) == suffix


def test_the_suffix_is_no_name_token() -> None:
    assert name_tokens(None, None, "John Smith Junior") == ("john", "smith")
    assert name_tokens("John", "Smith Sr.", None) == ("john", "smith")


def _john(generation: str, email: str) -> Features:
    return Features(
        emails=(email,), phones=("+14155550134",), first="john", last="smith", generation=generation
    )


def test_different_suffixes_are_reviewed_not_linked() -> None:
    result = decide(
        _john("sr", "jsmith@example.com"),
        _john("jr", "jsmith@example.com"),
        DEFAULT_MODEL,
        Thresholds(),
    )
    assert (result.rule, result.link, result.review, result.conflict) == (
        "generation",
        False,
        True,
        True,
    )


def test_a_record_without_a_suffix_does_not_conflict_with_one() -> None:
    result = decide(
        _john("", "jsmith@example.com"),
        _john("jr", "jsmith@example.com"),
        DEFAULT_MODEL,
        Thresholds(),
    )
    assert result.link
    assert not result.conflict


def test_senior_and_junior_on_one_home_phone_stay_apart(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "john.smith@example.com", "John", "Smith Sr.", "+1 415 555 0134"))
    ingest(zendesk_user(9, "John Smith Jr.", email="jsmith@example.net", phone="(415) 555-0134"))
    assert count_profiles(store.conn) == 2


def test_senior_and_junior_on_one_household_mailbox_stay_apart(
    store: Store, ingest: Ingest
) -> None:
    ingest(hubspot_contact("2", "jsmith.home@example.com", "John", "Smith Jr"))
    ingest(hubspot_contact("3", "jsmith.home@example.com", "John", "Smith Sr"))
    assert count_profiles(store.conn) == 2
    assert store.conn.execute("SELECT count(*) FROM review_items").fetchone()[0] == 1


def test_the_same_suffix_on_one_mailbox_is_one_person(store: Store, ingest: Ingest) -> None:
    ingest(hubspot_contact("2", "jsmith.home@example.com", "John", "Smith Jr"))
    ingest(zendesk_user(9, "John Smith", email="jsmith.home@example.com"))
    ingest(hubspot_contact("3", "jsmith.home@example.com", "John", "Smith Jr."))
    assert count_profiles(store.conn) == 1
