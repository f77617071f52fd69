"""A placeholder email or phone names no one: whoever's record holds one, a caller who gives it
is not that customer (a chat user typing 0000000000 must not be shown their context)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from tests.conftest import TEST_KEY, Ingest, make_settings
from tests.payloads import shopify_customer

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture
def client(store: Store, ingest: Ingest) -> Any:
    # One customer's only contact details are the placeholders a shop's form took.
    ingest(shopify_customer(1, "test@test.com", "Ann", "Lee", "0000000000"))
    ingest(shopify_customer(2, "none@example.com", "Bo", "Chan", "+1 415 555 0134"))
    with TestClient(create_app(make_settings(store.path))) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "query",
    [
        {"email": "test@test.com"},
        {"email": "None@Example.com"},
        {"phone": "0000000000"},
        {"phone": "(000) 000-0000"},
    ],
)
def test_a_placeholder_finds_no_one_and_says_why(
    client: TestClient[Any], query: dict[str, str]
) -> None:
    answer = client.get("/v1/context", params=query, headers=AUTH)
    assert answer.status_code == 400
    assert "placeholder" in answer.json()["detail"]
    assert "Ann" not in answer.text


def test_a_customer_with_a_placeholder_email_is_found_by_their_real_phone(
    client: TestClient[Any],
) -> None:
    answer = client.get("/v1/context", params={"phone": "(415) 555-0134"}, headers=AUTH)
    assert answer.status_code == 200
    assert answer.json()["identity"]["name"] == "Bo Chan"
