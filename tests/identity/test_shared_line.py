"""A phone that differently named people share (an office's main line, a household) says they
are different people, not that a person should look: only a name in common (a surname changed
by marriage: Ann Lee and Ann Park) or a shared mailbox makes such a pair a review item. An
office of a hundred contacts on one line asked a reviewer about 4,950 pairs, and every new
contact on it was compared and stored against all of them."""

from __future__ import annotations

from context_service.store import Store
from tests.conftest import Ingest
from tests.payloads import zendesk_user

LINE = "+1 415 555 0199"
PEOPLE = [
    ("Ann", "Lee"),
    ("Bo", "Park"),
    ("Cy", "Diaz"),
    ("Di", "Chen"),
    ("Ed", "Wong"),
    ("Flo", "Ruiz"),
    ("Gus", "Kim"),
    ("Hal", "Ito"),
    ("Ivy", "Moss"),
    ("Jo", "Nash"),
]


def _open_reviews(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM review_items").fetchone()[0])


def _edges(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM identity_edges").fetchone()[0])


def test_an_office_line_shared_by_differently_named_people_asks_nobody(
    store: Store, ingest: Ingest
) -> None:
    for n, (first, last) in enumerate(PEOPLE, start=1):
        ingest(zendesk_user(n, f"{first} {last}", email=f"{first}.{last}@example.com", phone=LINE))
    assert _open_reviews(store) == 0
    assert _edges(store) == 0
    profiles = store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0]
    assert profiles == len(PEOPLE)


def test_a_name_changed_on_one_phone_is_still_reviewed(store: Store, ingest: Ingest) -> None:
    ingest(zendesk_user(1, "Ann Lee", email="ann.lee@example.com", phone=LINE))
    ingest(zendesk_user(2, "Ann Park", email="ann.park@example.net", phone=LINE))
    assert _open_reviews(store) == 1


def test_different_names_on_one_mailbox_are_still_reviewed(store: Store, ingest: Ingest) -> None:
    ingest(zendesk_user(1, "Ann Lee", email="lee.park@example.com"))
    ingest(zendesk_user(2, "Bo Park", email="lee.park@example.com"))
    assert _open_reviews(store) == 1
