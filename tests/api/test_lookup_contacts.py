"""POST /v1/context/lookup with an email and a phone that name two different customers."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.conftest import TEST_KEY, Ingest
from tests.payloads import shopify_customer

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
ANN_EMAIL, ANN_PHONE = "ann.lee@example.com", "+1 415 555 0134"
BO_EMAIL, BO_PHONE = "bo.park@example.com", "+1 212 555 0188"


def _ann_and_bo(ingest: Ingest) -> None:
    ingest(shopify_customer(1, ANN_EMAIL, "Ann", "Lee", ANN_PHONE))
    ingest(shopify_customer(2, BO_EMAIL, "Bo", "Park", BO_PHONE))


def _profile(client: TestClient[Any], **params: str) -> str:
    response = client.get("/v1/context", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return str(response.headers["X-Profile-Id"])


def _lookup(client: TestClient[Any], **body: str) -> Any:
    return client.post("/v1/context/lookup", json=body, headers=AUTH)


def test_one_customers_email_with_another_customers_phone_is_409_naming_both(
    client: TestClient[Any], ingest: Ingest
) -> None:
    _ann_and_bo(ingest)
    ann, bo = _profile(client, email=ANN_EMAIL), _profile(client, phone=BO_PHONE)
    response = _lookup(client, email=ANN_EMAIL, phone=BO_PHONE)
    assert response.status_code == 409, response.headers.get("X-Profile-Id")
    candidates = response.json()["candidates"]
    assert [c["profile_id"] for c in candidates] == [ann, bo]  # most likely first
    assert candidates[0]["why"].startswith("holds the email given")
    assert candidates[1]["why"].startswith("holds the phone given")
    assert {c["name"] for c in candidates} == {"Ann Lee", "Bo Park"}


def test_a_name_that_agrees_with_one_of_them_does_not_settle_it(
    client: TestClient[Any], ingest: Ingest
) -> None:
    _ann_and_bo(ingest)
    response = _lookup(client, email=ANN_EMAIL, phone=BO_PHONE, name="Ann Lee")
    assert response.status_code == 409, response.headers.get("X-Profile-Id")
    assert {c["name"] for c in response.json()["candidates"]} == {"Ann Lee", "Bo Park"}


def test_an_email_and_a_phone_of_the_same_customer_find_them(
    client: TestClient[Any], ingest: Ingest
) -> None:
    _ann_and_bo(ingest)
    response = _lookup(client, email=ANN_EMAIL, phone=ANN_PHONE)
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == "Ann Lee"


def test_an_email_with_a_phone_nobody_holds_still_finds_its_owner(
    client: TestClient[Any], ingest: Ingest
) -> None:
    """A new number is not someone else's: the email decides, as it does alone."""
    _ann_and_bo(ingest)
    response = _lookup(client, email=ANN_EMAIL, phone="+1 646 555 0199")
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == "Ann Lee"
