"""Review of ``POST /v1/context/lookup`` with partial identity (``identity.search``,
``api.identify``): who is answered when the details a customer typed disagree, how bad details
are refused, and how a name typed as one word is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.demo.personas import MAYA_EMAIL, MAYA_NAME
from context_service.store import Store
from tests.conftest import TEST_KEY, Ingest, make_settings
from tests.payloads import shopify_customer, shopify_order

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
ANN_EMAIL, ANN_PHONE = "ann.lee@example.com", "+1 415 555 0134"
BO_EMAIL, BO_PHONE = "bo.park@example.com", "+1 212 555 0188"
BO_ORDER = "#1001"


@pytest.fixture
def client(store: Store) -> Iterator[TestClient[Any]]:
    """A client of an app serving the test's own ``store``."""
    with TestClient(app=create_app(make_settings(store.path), store=store)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def demo_client(demo_db: Path) -> Iterator[TestClient[Any]]:
    """A client of the session's demo store (read only here)."""
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _lookup(client: TestClient[Any], **body: str) -> Any:
    return client.post("/v1/context/lookup", json=body, headers=AUTH)


def _ann_and_bo(ingest: Ingest) -> None:
    """Ann Lee, and Bo Park who placed order #1001."""
    ingest(
        shopify_customer(1, ANN_EMAIL, "Ann", "Lee", ANN_PHONE),
        shopify_customer(2, BO_EMAIL, "Bo", "Park", BO_PHONE),
        shopify_order(101, 2, BO_ORDER, "2026-01-02T00:00:00Z"),
    )


def _profile(client: TestClient[Any], email: str) -> str:
    response = client.get("/v1/context", params={"email": email}, headers=AUTH)
    assert response.status_code == 200, response.text
    return str(response.headers["X-Profile-Id"])


@pytest.mark.parametrize(
    "details",
    [
        {"phone": ANN_PHONE, "order_number": BO_ORDER},
        {"email": ANN_EMAIL, "name": "Bo Park", "order_number": BO_ORDER},
        {"phone": ANN_PHONE, "name": "Bo", "order_number": BO_ORDER},
    ],
    ids=["phone+order", "email+name+order", "phone+first-name+order"],
)
def test_ones_contact_with_another_customers_order_is_409_naming_no_one(
    client: TestClient[Any], ingest: Ingest, details: dict[str, str]
) -> None:
    """Whoever holds Ann's phone or email and quotes Bo's order (a typo, a spouse's order) must
    not read Bo's orders: the contact names Ann on its own, as ``GET /v1/context`` would answer.
    Each of these answered 200 with Bo's whole context; then a 409 naming both, which said
    whose the order is. Details with a number name the customer or no one."""
    _ann_and_bo(ingest)
    bo = _profile(client, BO_EMAIL)
    response = _lookup(client, **details)
    assert response.status_code == 409, response.headers.get("X-Profile-Id")
    assert response.json()["candidates"] == []
    assert bo not in response.text
    assert "Bo Park" not in response.text


def test_ones_contact_with_their_own_order_still_finds_them(
    client: TestClient[Any], ingest: Ingest
) -> None:
    _ann_and_bo(ingest)
    response = _lookup(client, phone=BO_PHONE, order_number=BO_ORDER)
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == "Bo Park"


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "ann.lee@example"), ("email", "not-an-email"), ("phone", "020 7946 0958")],
)
def test_a_malformed_email_or_phone_in_a_search_is_a_400(
    client: TestClient[Any], ingest: Ingest, field: str, value: str
) -> None:
    """A malformed email or phone was silently dropped: the search ran on the other details
    and said ``X-Matched-By: email and order_number`` for an email it never used (Bo's order
    with a mistyped address answered Bo). ``GET /v1/context`` answers 400 for the same value."""
    _ann_and_bo(ingest)
    response = _lookup(client, **{field: value, "order_number": BO_ORDER})
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]


def test_find_customer_refuses_a_malformed_email_too(
    client: TestClient[Any], ingest: Ingest
) -> None:
    """The tool listed Bo as the match for Bo's order with a mistyped email it never used."""
    _ann_and_bo(ingest)
    arguments = {"email": "bo.park@example", "order_number": BO_ORDER}
    call = {"name": "find_customer", "arguments": arguments}
    response = client.post("/v1/tools/call", json=call, headers=AUTH)
    assert response.status_code == 400, response.text
    assert "not a valid email" in response.json()["detail"]


def test_an_order_number_nobody_has_is_not_someone_elses(demo_client: TestClient[Any]) -> None:
    """Maya's email with her first name answers Maya; a mistyped order number that no customer
    has was scored as "someone else's" and made it a 409 ("may not be this customer")."""
    alone = _lookup(demo_client, email=MAYA_EMAIL, name="Maya")
    assert alone.status_code == 200, alone.text
    response = _lookup(demo_client, email=MAYA_EMAIL, name="Maya", order_number="99999")
    assert response.status_code == 200, response.text
    assert response.headers["X-Profile-Id"] == alone.headers["X-Profile-Id"]
    unknown = _lookup(demo_client, name=MAYA_NAME, ticket_id="99999")
    assert unknown.status_code == 409  # a name with an unknown ticket is still not enough
    assert "someone else's" not in unknown.text


@pytest.mark.parametrize("name", ["O'Brien", "Mr O'Brien", "Liam"])
def test_a_surname_typed_as_one_word_with_punctuation_is_a_surname(
    client: TestClient[Any], ingest: Ingest, name: str
) -> None:
    """Customers give their surname alone; "Patel" worked, but "O'Brien" was read as first
    name "O" and surname "Brien", a different first name, so the email with it was a 409."""
    ingest(shopify_customer(1, "liam.ob@example.com", "Liam", "O'Brien"))
    response = _lookup(client, email="liam.ob@example.com", name=name)
    assert response.status_code == 200, (name, response.text)


@pytest.mark.parametrize("name", ["Ji-woo", "Smith-Jones"])
def test_a_hyphenated_name_alone_is_one_word(
    client: TestClient[Any], ingest: Ingest, name: str
) -> None:
    ingest(
        shopify_customer(1, "jiwoo.kim@example.com", "Ji-woo", "Kim"),
        shopify_customer(2, "amy.sj@example.com", "Amy", "Smith-Jones"),
    )
    email = "jiwoo.kim@example.com" if name == "Ji-woo" else "amy.sj@example.com"
    response = _lookup(client, email=email, name=name)
    assert response.status_code == 200, (name, response.text)


@pytest.mark.parametrize("name", ["O'Neil", "Hye-won", "Obi Brien", "O B"])
def test_a_one_word_name_that_does_not_fit_is_still_no_answer(
    client: TestClient[Any], ingest: Ingest, name: str
) -> None:
    ingest(shopify_customer(1, "liam.ob@example.com", "Liam", "O'Brien"))
    ingest(shopify_customer(2, "jiwoo.kim@example.com", "Ji-woo", "Kim"))
    email = "jiwoo.kim@example.com" if name == "Hye-won" else "liam.ob@example.com"
    response = _lookup(client, email=email, name=name)
    assert response.status_code in (404, 409), (name, response.text)


def test_a_name_too_common_to_search_is_a_409_not_nobody(
    client: TestClient[Any], ingest: Ingest
) -> None:
    """Past 50 records a name is not searched (it narrows nothing down); the answer said
    "no customer matches the name given" (404), so a bot told a John Smith he has no account."""
    ingest(*[shopify_customer(i, f"js{i}x@example.com", "John", "Smith") for i in range(1, 53)])
    response = _lookup(client, name="John Smith")
    assert response.status_code == 409, response.text
    assert response.json()["candidates"] == []
    assert _lookup(client, name="Jane Smith").status_code == 404  # a name no one has


@pytest.mark.parametrize(
    "details",
    [
        {"name": "   "},
        {"name": "Dr."},
        {"order_number": "#"},
        {"ticket_id": " "},
        {"email": ANN_EMAIL, "name": " "},
    ],
)
def test_a_blank_detail_is_a_400(
    client: TestClient[Any], ingest: Ingest, details: dict[str, str]
) -> None:
    """A blank name or number is refused like an empty one (400), not answered "no customer
    matches the name given" (404) or used as "email and name" for an email alone."""
    _ann_and_bo(ingest)
    response = _lookup(client, **details)
    assert response.status_code == 400, response.text
