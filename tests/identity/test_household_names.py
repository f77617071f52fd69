"""Two household members whose given names are a letter or two apart (Michael and Michelle,
Paul and Paula) are two people: their names conflict, so a shared home phone or mailbox does
not merge them. A typo of a name (Micheal) is still the same name."""

from __future__ import annotations

import pytest

from context_service.identity.compare import compare, names_conflict
from context_service.identity.features import Features
from context_service.identity.given_names import other_given_names
from context_service.store import Store
from context_service.store.profiles import count_profiles
from tests.conftest import Ingest
from tests.payloads import shopify_customer, stripe_customer, zendesk_user

COUPLES = [
    ("Michael", "Michelle"),
    ("Daniel", "Danielle"),
    ("Paul", "Paula"),
    ("Patrick", "Patricia"),
    ("Samuel", "Samantha"),
    ("Christopher", "Christine"),
]


def _person(first: str, last: str = "brown", email: str = "") -> Features:
    return Features(emails=(email,) if email else (), first=first, last=last)


@pytest.mark.parametrize(("him", "her"), COUPLES)
def test_two_given_names_a_few_letters_apart_conflict(him: str, her: str) -> None:
    a, b = _person(him.lower()), _person(her.lower())
    assert compare(a, b)[2] == "different"
    assert names_conflict(a, b)


def test_a_mailbox_that_spells_one_of_two_given_names_does_not_make_them_one() -> None:
    michael = _person("michael", email="michael.brown@example.com")
    michelle = _person("michelle", email="michelle.brown@example.net")
    assert names_conflict(michael, michelle)


def test_two_nicknames_of_other_names_conflict() -> None:
    assert names_conflict(_person("jim"), _person("tim"))


@pytest.mark.parametrize(("typo", "name"), [("micheal", "michael"), ("jonh", "john")])
def test_a_typo_of_a_given_name_stays_fuzzy(typo: str, name: str) -> None:
    assert compare(_person(typo), _person(name))[2] == "fuzzy"
    assert not names_conflict(_person(typo), _person(name))


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("sara", "sarah"),  # two spellings of one name
        ("catherine", "katherine"),
        ("philip", "phillip"),
        ("ana", "anna"),
        ("mike", "mick"),  # two nicknames of one name
        ("bob", "robert"),  # a nickname and its name
        ("kathy", "kathleen"),
    ],
)
def test_spellings_and_nicknames_of_one_name_do_not_conflict(x: str, y: str) -> None:
    assert not other_given_names(x, y)
    assert not names_conflict(_person(x), _person(y))


@pytest.mark.parametrize(("him", "her"), COUPLES)
def test_spouses_on_one_home_phone_stay_apart(
    store: Store, ingest: Ingest, him: str, her: str
) -> None:
    ingest(shopify_customer(1, f"{him.lower()}.brown@example.com", him, "Brown", "+1 415 555 0134"))
    ingest(
        zendesk_user(
            9, f"{her} Brown", email=f"{her.lower()}.brown@example.net", phone="(415) 555-0134"
        )
    )
    assert count_profiles(store.conn) == 2


@pytest.mark.parametrize(("him", "her"), COUPLES)
def test_spouses_on_one_household_mailbox_stay_apart(
    store: Store, ingest: Ingest, him: str, her: str
) -> None:
    ingest(shopify_customer(1, "brownhome@example.com", him, "Brown"))
    ingest(stripe_customer("cus_1", "brownhome@example.com", f"{her} Brown"))
    assert count_profiles(store.conn) == 2


def test_a_typo_of_the_name_on_the_same_phone_is_the_same_person(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "michael.brown@example.com", "Michael", "Brown", "+1 415 555 0134"))
    ingest(zendesk_user(9, "Micheal Brown", email="mbrown77@example.net", phone="(415) 555-0134"))
    assert count_profiles(store.conn) == 1
