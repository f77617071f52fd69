"""Names written surname first in a way that says so (``Martin, Jean-Luc``, ``MARTIN
Jean-Luc``, ``Kim Min-jun``) read as the same name written given names first: one person's
records link on their mailbox, and a relative's stay apart."""

from __future__ import annotations

import pytest

from context_service.identity.names import given_names_first, name_tokens
from context_service.store import Store
from tests.conftest import Ingest
from tests.identity.test_household_given_names import HOME, _reviewed, _together
from tests.payloads import zendesk_user


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Martin, Jean-Luc", "Jean-Luc Martin"),
        ("Smith, John Jr.", "John Jr. Smith"),
        ("García López, María", "María García López"),
        ("MARTIN Jean-Luc", "Jean-Luc MARTIN"),
        ("Mme DUBOIS Claire", "Mme Claire DUBOIS"),
        ("DE LA CRUZ Maria", "Maria DE LA CRUZ"),
        ("Kim Min-jun", "Min-jun Kim"),
        ("Lee Seo-yeon", "Seo-yeon Lee"),
    ],
)
def test_a_name_written_surname_first_is_read_given_names_first(written: str, read: str) -> None:
    assert given_names_first(written) == read
    assert name_tokens(None, None, written) == name_tokens(None, None, read)


@pytest.mark.parametrize(
    "written",
    [
        "John Smith, Jr.",  # a suffix after the comma
        "John Smith, MD",
        "JJ Abrams",  # capitals of two letters are initials
        "JEAN-LUC MARTIN",  # all in capitals: no order told
        "Jean-Luc MARTIN",
        "Kim Smith-Jones",  # Kim, a given name, and a double surname
        "Kim Minjun",
        "Smith,",
    ],
)
def test_a_name_that_does_not_say_its_order_is_left_as_written(written: str) -> None:
    assert given_names_first(written) == written


@pytest.mark.parametrize(
    "written",
    ["MARTIN Jean-Luc", "Martin, Jean-Luc", "Dr. MARTIN Jean-Luc"],
)
def test_one_person_written_surname_first_on_their_own_mailbox_is_one_profile(
    store: Store, ingest: Ingest, written: str
) -> None:
    ingest(zendesk_user(1, written, "jl.martin@example.net", HOME))
    ingest(zendesk_user(2, "Jean-Luc Martin", "jl.martin@example.net"))
    assert _together(store, "zendesk:1", "zendesk:2")
    assert not _reviewed(store)


def test_a_korean_name_in_either_order_on_one_mailbox_is_one_profile(
    store: Store, ingest: Ingest
) -> None:
    ingest(zendesk_user(1, "Kim Min-jun", "mj.kim@example.net"))
    ingest(zendesk_user(2, "Min-jun Kim", "mj.kim@example.net"))
    ingest(zendesk_user(3, "Kim Minjun", "mj.kim@example.net"))
    assert _together(store, "zendesk:1", "zendesk:2")
    assert _together(store, "zendesk:1", "zendesk:3")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("MARTIN Jean-Luc", "Jean-Pierre Martin"),  # son and father
        ("Martin, Jean-Luc", "Jean-Pierre Martin"),
        ("Kim Min-jun", "Kim Min-seo"),  # brother and sister
    ],
)
def test_relatives_written_surname_first_on_one_phone_are_reviewed_not_merged(
    store: Store, ingest: Ingest, one: str, other: str
) -> None:
    ingest(zendesk_user(1, one, "first.relative@example.net", HOME))
    ingest(zendesk_user(2, other, "second.relative@example.org", HOME))
    assert not _together(store, "zendesk:1", "zendesk:2")
    assert _reviewed(store)
