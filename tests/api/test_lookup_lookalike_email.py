"""POST /v1/context/lookup with a name and an email that only looks like the customer's: the
same handle at another domain, a letter away, or with their number is another mailbox, one
anyone can create, so it never answers with the customer whose name was given."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.identity.model import DEFAULT_MODEL
from context_service.identity.search import PartialIdentity, search
from context_service.store import Store
from tests.conftest import TEST_KEY, Ingest
from tests.payloads import shopify_customer, zendesk_user

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
LORI = "lori.faure206@example.com"


def _lookup(client: TestClient[Any], **details: str) -> Any:
    return client.post("/v1/context/lookup", json=details, headers=AUTH)


@pytest.fixture
def lori(ingest: Ingest) -> None:
    ingest(shopify_customer(1, LORI, "Lori", "Faure", phone="+15125550101"))
    ingest(zendesk_user(2, "Lori Faure", LORI))


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("lori.faure206@attacker.example", "Lori Faure"),  # her handle at another domain
        ("faure206@evil.test", "Lori Faure"),  # her surname and number
        ("lori.faure206@example.org", "Lori Faure"),  # her domain a letter away
        ("lori.faure2066@example.com", "Lori Faure"),  # her handle a letter away
        ("lori_faure206@attacker.example", "L Faure"),
    ],
)
@pytest.mark.usefixtures("lori")
def test_a_lookalike_email_with_her_name_is_not_her(
    client: TestClient[Any], email: str, name: str
) -> None:
    response = _lookup(client, email=email, name=name)
    assert response.status_code in {404, 409}, response.text
    assert LORI not in response.text
    assert "+15125550101" not in response.text


@pytest.mark.usefixtures("lori")
def test_a_lookalike_email_counts_against_her_in_the_evidence(store: Store) -> None:
    query = PartialIdentity(email="lori.faure206@attacker.example", name="Lori Faure")
    (best, *_) = search(store.conn, query, DEFAULT_MODEL, "US")
    assert best.evidence["email"] == "different"
    assert best.probability < 0.5


@pytest.mark.parametrize(
    "email", [LORI, "Lori.Faure206@Example.com", "lori.faure206+chat@example.com"]
)
@pytest.mark.usefixtures("lori")
def test_her_own_mailbox_with_her_name_is_her(client: TestClient[Any], email: str) -> None:
    response = _lookup(client, email=email, name="Lori Faure")
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == "Lori Faure"
