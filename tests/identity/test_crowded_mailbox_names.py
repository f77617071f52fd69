"""A mailbox is crowded (a shared inbox: no review item between its differently named
holders) only when three names on it are clearly different as the engine compares them, the
mailbox's spelling included. Two records of one woman, each name two slips from what her own
mailbox spells (``Slin Ownes`` and ``Seiln Oens`` on ``seline.owens1471@``), are one name to
``decide``; with her husband on the mailbox that is two people, so each of his pairs with her
is still a person's question, not dropped as a shared inbox's."""

from __future__ import annotations

from context_service.identity.features import Features
from context_service.identity.pairs import crowded_mailbox
from context_service.store import Store
from tests.conftest import Ingest
from tests.identity.test_engine_updates_match_rebuild import (
    assert_matches_rebuild,
    open_review_pairs,
)
from tests.payloads import zendesk_user

MAILBOX = "seline.owens1471@example.com"


def test_names_one_mailbox_spells_as_one_are_not_two_of_a_crowd() -> None:
    her = Features(emails=(MAILBOX,), first="slin", last="ownes")
    again = Features(emails=(MAILBOX,), first="seiln", last="oens")
    him = Features(emails=(MAILBOX,), first="bo", last="park")
    assert not crowded_mailbox([her, again, him])


def test_a_couple_whose_wife_has_two_misspelt_records_is_still_reviewed(
    store: Store, ingest: Ingest
) -> None:
    ingest(zendesk_user(1, "Slin Ownes", email=MAILBOX))
    ingest(zendesk_user(2, "Seiln Oens", email=MAILBOX))
    ingest(zendesk_user(3, "Bo Park", email=MAILBOX))
    reviews = open_review_pairs(store)
    assert reviews & {
        frozenset(("zendesk:1", "zendesk:3")),
        frozenset(("zendesk:2", "zendesk:3")),
    }, reviews
    assert_matches_rebuild(store, "couple on her mailbox")
