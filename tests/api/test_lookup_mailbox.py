"""GET /v1/context and POST /v1/context/lookup by an email written another way: the mailbox it
reaches (Gmail's dots, a ``+tag``) finds whoever the engine holds that mailbox for."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import TEST_KEY, Ingest
from tests.payloads import hubspot_contact, shopify_customer

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def _get(client: TestClient[Any], email: str) -> Any:
    return client.get("/v1/context", params={"email": email}, headers=AUTH)


@pytest.mark.parametrize("email", ["mayapatel@gmail.com", "m.a.y.a.patel+news@Gmail.com"])
def test_the_same_gmail_mailbox_written_another_way_finds_the_customer(
    client: TestClient[Any], ingest: Ingest, email: str
) -> None:
    # one profile: the engine links these two as one mailbox
    ingest(shopify_customer(1, "Maya.Patel@gmail.com", "Maya", "Patel"))
    ingest(hubspot_contact("5", "mayapatel+shop@gmail.com", "Maya", "Patel"))
    response = _get(client, email)
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == "Maya Patel"
    body = client.post("/v1/context/lookup", json={"email": email}, headers=AUTH)
    assert body.status_code == 200, body.text
    assert body.headers["X-Profile-Id"] == response.headers["X-Profile-Id"]


def test_a_tag_dropped_finds_the_customer(client: TestClient[Any], ingest: Ingest) -> None:
    ingest(shopify_customer(1, "ann.lee+shop@example.com", "Ann", "Lee"))
    response = _get(client, "ann.lee@example.com")
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == "Ann Lee"


def test_dots_are_not_dropped_where_the_provider_does_not_say_they_are_the_same(
    client: TestClient[Any], ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    assert _get(client, "annlee@example.com").status_code == 404


def test_a_generic_mailbox_is_only_found_as_written(
    client: TestClient[Any], ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "info+shop@acme.example", "Ann", "Lee"))
    assert _get(client, "info+shop@acme.example").status_code == 200
    assert _get(client, "info@acme.example").status_code == 404


def test_a_mailbox_two_customers_hold_is_409_naming_both(
    client: TestClient[Any], ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "sam.jones+a@gmail.com", "Sam", "Jones"))
    ingest(shopify_customer(2, "samjones+b@gmail.com", "Priya", "Rao"))
    assert _get(client, "sam.jones+a@gmail.com").status_code == 200
    response = _get(client, "samjones@gmail.com")
    assert response.status_code == 409, response.text
    names = {c["name"] for c in response.json()["candidates"]}
    assert names == {"Sam Jones", "Priya Rao"}
