"""A couple's mailbox (``tomandkate@``) is a household's: a record without a name on it may be
either of the two, so it is reviewed with the named one, not joined to it by the email rule.
Only two given names of three letters or more either side of ``and`` make one, so a person's
own mailbox that merely holds the letters (``brandon@``, ``kate.andrews@``) stays theirs. A
role's mailbox (``accountspayable@``, ``purchasing@``, ``bookings@``) is whoever holds the job
this year: generic, so it is no merge key."""

from __future__ import annotations

import pytest

from context_service.identity.normalize import is_family_mailbox, is_merge_email
from context_service.store import Store
from tests.conftest import Ingest
from tests.identity.test_engine_updates_match_rebuild import (
    assert_matches_rebuild,
    clusters,
    open_review_pairs,
)
from tests.payloads import stripe_customer, zendesk_user


@pytest.mark.parametrize(
    "email",
    [
        "tomandkate@gmail.com",
        "tom.and.kate@gmail.com",
        "tom_and_kate2015@yahoo.com",
        "alexandraandtom@example.com",
        "smith.home@fastmail.com",
        "familia.garcia@gmail.com",  # a household in other languages
        "famiglia.rossi@libero.it",
        "famille.dubois@orange.fr",
        "familie.mueller@web.de",
        "familiagarcia@gmail.com",  # Gmail's dots read away
        "garcia.familia@gmail.com",
        "rossikids@gmail.com",
        "theandersons12@gmail.com",  # "the" and a surname starting with a given name's letters
        "theobriens@yahoo.com",
        "theowilliams@gmail.com",  # Theo's, or the Owilliams'? Gmail reads the dot away
        "smith.kids2@yahoo.com",
    ],
)
def test_a_couples_or_homes_mailbox_is_a_households(email: str) -> None:
    assert is_family_mailbox(email)


@pytest.mark.parametrize(
    "email",
    [
        "brandon@gmail.com",
        "alexander.smith@example.com",
        "kateandrews@gmail.com",
        "sandra.andrews@example.com",
        "randall.k@example.com",
        "danandrews@example.com",
        "joandavid@example.com",
        "alandanne@example.com",  # "al" is too short a name to read as a couple
        "megan.dana@outlook.com",  # Megan Dana's own, not "meg and ana"
        "tomandk@example.com",
        "homer.simpson@example.com",
        "jhome@example.com",
        "theo.williams@yahoo.com",  # Theo's, not "the Williams"
        "theodore.jones@example.com",
        "theresa.adams@example.com",
        "thelma.andrews@example.com",
        "mckidson@example.com",  # "kids" inside a name
        "kidson.mark@example.com",  # or starting a surname
        "kidston.anne@example.com",
        "rafa.miliani@example.com",  # "familia" across a name's letters
        "mustafamilian@example.com",
        "anna.familiar@example.com",
        "familiari@example.com",  # a surname, not "familia" and one
        "maria.casa@yahoo.com",  # home in other languages: surnames too
        "max.haus@web.de",
        "pierre.maison@orange.fr",
        "j.haushalter@example.com",
    ],
)
def test_a_persons_mailbox_that_reads_like_a_households_is_not_one(email: str) -> None:
    assert not is_family_mailbox(email)


@pytest.mark.parametrize(
    "email",
    [
        "accountspayable@acme-logistics.com",
        "accounts.payable@acme-logistics.com",
        "accounts_receivable@acme-logistics.com",
        "ap@acme-logistics.com",
        "purchasing@acme-logistics.com",
        "procurement@acme-logistics.com",
        "invoice@acme-logistics.com",
        "invoices@acme-logistics.com",
        "bookings@acme-logistics.com",
        "billing@acme-logistics.com",
    ],
)
def test_a_roles_mailbox_is_no_merge_key(email: str) -> None:
    assert not is_merge_email(email)


def test_initials_are_still_a_persons_mailbox() -> None:
    assert is_merge_email("a.p@acme-logistics.com")


def test_a_nameless_record_on_a_couples_mailbox_is_reviewed_not_joined(
    store: Store, ingest: Ingest
) -> None:
    ingest(zendesk_user(1, "Tom Baker", email="tomandkate@gmail.com"))
    ingest(stripe_customer("cus_kate", "tomandkate@gmail.com", None))
    assert frozenset(("zendesk:1", "stripe:cus_kate")) not in clusters(store)
    assert open_review_pairs(store) == {frozenset(("zendesk:1", "stripe:cus_kate"))}
    assert_matches_rebuild(store, "couple's mailbox")


def test_a_nameless_record_on_a_homes_tagged_mailbox_is_reviewed_not_joined(
    store: Store, ingest: Ingest
) -> None:
    ingest(zendesk_user(1, "John Smith", email="smith.home+john@fastmail.com"))
    ingest(stripe_customer("cus_jane", "smith.home+jane@fastmail.com", None))
    assert frozenset(("zendesk:1", "stripe:cus_jane")) not in clusters(store)
    assert open_review_pairs(store) == {frozenset(("zendesk:1", "stripe:cus_jane"))}


def test_a_nameless_record_on_a_roles_mailbox_joins_nobody(store: Store, ingest: Ingest) -> None:
    ingest(zendesk_user(1, "Sarah Kim", email="accountspayable@acme-logistics.com"))
    ingest(stripe_customer("cus_ap", "accountspayable@acme-logistics.com", None))
    assert len(clusters(store)) == 2
    assert_matches_rebuild(store, "role mailbox")


def test_a_persons_mailbox_with_and_in_it_still_links(store: Store, ingest: Ingest) -> None:
    ingest(zendesk_user(1, "Kate Andrews", email="kateandrews@gmail.com"))
    ingest(stripe_customer("cus_kate", "kateandrews@gmail.com", None))
    assert frozenset(("zendesk:1", "stripe:cus_kate")) in clusters(store)
