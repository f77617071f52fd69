"""One confidence grading for ``find_customer`` and the lookups of ``/v1/context``.

Both surfaces graded a scored match with their own code, and they disagreed: an email one
customer holds (or a phone of their own) with their full name read "exact" in
``find_customer`` and "high confidence" in the lookup.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.api.identify import Identifiers, find
from context_service.demo.personas import MAYA_NAME
from context_service.errors import AmbiguousIdentifier
from context_service.identity.pairs import Thresholds
from context_service.store import Store
from context_service.tools.schemas import FindCustomer
from context_service.tools.service import find_customers
from tests.conftest import Ingest
from tests.payloads import shopify_customer, zendesk_user
from tests.review_fixtures import AUTH, app_client

MAYA_EMAIL = "maya.patel@example.com"
HOME_PHONE = "+14155550177"  # one line for a household of two
OWN_PHONE = "+14155550199"


@pytest.fixture
def household(store: Store, ingest: Ingest) -> Store:
    """Michael and Michelle Brown share a home phone; Zed Zulu has a phone of his own."""
    ingest(
        shopify_customer(1, "michael.brown@example.com", "Michael", "Brown", HOME_PHONE),
        zendesk_user(2, "Michelle Brown", "michelle.b@example.net", HOME_PHONE),
        shopify_customer(3, "zed.zulu@example.com", "Zed", "Zulu", OWN_PHONE),
    )
    return store


def _both_words(store: Store, details: dict[str, str]) -> tuple[str, str] | None:
    """The lookup's word and ``find_customer``'s word for the customer the lookup names;
    ``None`` when the lookup names no one (a 409 is no grading)."""
    try:
        found = find(store, "US", Identifiers(**details), Thresholds(), contacts_mix=True)
    except AmbiguousIdentifier:
        return None
    matches = find_customers(store.conn, FindCustomer(**details), "US", Thresholds())
    tools_word = next(m.confidence for m in matches if m.profile_id == found.stored.profile_id)
    return found.confidence, tools_word


DEMO_DETAILS = [
    {"email": MAYA_EMAIL, "name": "Maya"},
    {"email": MAYA_EMAIL, "name": MAYA_NAME},
    {"email": "info@silvacosta.example", "name": "Ana Silva"},
]


@pytest.mark.parametrize("details", DEMO_DETAILS, ids=["first name", "full name", "shared mailbox"])
def test_the_lookup_and_find_customer_grade_a_demo_match_alike(
    demo_db: Path, details: dict[str, str]
) -> None:
    store = Store(demo_db)
    try:
        words = _both_words(store, details)
    finally:
        store.close()
    assert words is not None, "the lookup should name one customer"
    lookup_word, tools_word = words
    assert lookup_word == tools_word


def test_the_lookup_and_find_customer_grade_a_phone_of_ones_own_alike(household: Store) -> None:
    """Zed's own phone with his full name: "exact" in find_customer, "high" in the lookup."""
    words = _both_words(household, {"phone": OWN_PHONE, "name": "Zed Zulu"})
    assert words is not None, "the lookup should name one customer"
    lookup_word, tools_word = words
    assert lookup_word == tools_word


def test_a_lookup_by_an_email_one_customer_holds_with_their_full_name_is_an_exact_match(
    demo_db: Path,
) -> None:
    """As find_customer says "exact" for it: the email alone already names the customer."""
    body = {"email": MAYA_EMAIL, "name": MAYA_NAME, "audience": "agent", "format": "text"}
    with app_client(demo_db) as client:
        response = client.post("/v1/context/lookup", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert "exact match" in response.text
