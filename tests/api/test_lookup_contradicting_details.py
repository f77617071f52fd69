"""A scored lookup never answers with a customer the details contradict.

Four ways the lookup (``POST /v1/context/lookup``) and ``find_customer`` handed one customer's
profile to someone whose details spoke against it:

1. Raj's order number with his sister's name ("Priya Shah") was Raj at 0.9999, likelier than
   the order alone: the shared surname outweighed the different first name, and the order's
   weight carried it past the link threshold.
2. A profile holding a record without a name (a Stripe customer made with an email alone)
   compared any name given with that record, which says nothing: Martha's email with "Bob
   Smith" was Martha, "exact".
3. A phone or email held by several *other* customers (a household's line) did not count
   against the answer: the Shahs' line with Brandon's order was Brandon, who has no phone.
4. ``find_customer`` graded each of several competing customers on its own, all "high", where
   the lookup answers 409.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.wiring import default_mappers
from tests.conftest import copy_store
from tests.payloads import (
    shopify_customer,
    shopify_order,
    stripe_customer,
    zendesk_ticket,
    zendesk_user,
)
from tests.review_fixtures import AUTH, app_client

SHAH_LINE = "+14155550199"  # Priya's and Raj's home phone
MARTHA = "martha.mansour@example.com"
RAJ_ORDER, BRANDON_ORDER, ZOE_TICKET = "2001", "2002", "3003"


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, blank_store: Path
) -> Iterator[TestClient[Any]]:
    """Priya and Raj Shah share a line, Raj has order 2001; Brandon Ozturk has no phone and
    order 2002; Martha Mansour is in Shopify and, without a name, in Stripe; Zoe Ivanova has
    ticket 3003."""
    db = copy_store(blank_store, tmp_path_factory.mktemp("contradicting") / "lookup.db")
    store = Store(db)
    items = [
        shopify_customer(1, "raj.shah@example.com", "Raj", "Shah", SHAH_LINE),
        shopify_customer(2, "priya.shah@example.com", "Priya", "Shah", SHAH_LINE),
        shopify_customer(3, "brandon.ozturk@example.com", "Brandon", "Ozturk"),
        shopify_customer(4, MARTHA, "Martha", "Mansour"),
        stripe_customer("cus_martha", MARTHA, None),
        shopify_order(11, 1, f"#{RAJ_ORDER}", "2026-01-02T00:00:00Z"),
        shopify_order(12, 3, f"#{BRANDON_ORDER}", "2026-01-02T00:00:00Z"),
        zendesk_user(7, "Zoe Ivanova", "zoe.ivanova@example.net"),
        shopify_customer(5, "mgl@example.com", "Maria", "Garcia Lopez"),
        shopify_customer(6, "asj@example.com", "Anne", "Smith-Jones"),
        zendesk_user(8, "John Quincy Public", "jqp@example.net"),
        shopify_order(15, 5, "#2005", "2026-01-02T00:00:00Z"),
        shopify_order(16, 6, "#2006", "2026-01-02T00:00:00Z"),
        zendesk_ticket(3008, 8, "Where is my parcel?"),
        shopify_customer(9, "jpd@example.com", "Jean-Pierre", "Dubois"),
        shopify_order(19, 9, "#2009", "2026-01-02T00:00:00Z"),
        zendesk_ticket(int(ZOE_TICKET), 7, "Where is my refund?"),
    ]
    ingest_batch(store, [RawPayload(*item) for item in items], IngestContext(default_mappers()))
    try:
        with app_client(db, store=store) as test_client:
            yield test_client
    finally:
        store.close()


def _lookup(client: TestClient[Any], **details: str) -> Any:
    return client.post("/v1/context/lookup", json=details, headers=AUTH)


def _find(client: TestClient[Any], **details: str) -> list[dict[str, Any]]:
    call = {"name": "find_customer", "arguments": details}
    response = client.post("/v1/tools/call", json=call, headers=AUTH)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = json.loads(response.text)
    return found


def _name(response: Any) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["identity"]["name"])


def _candidate_names(response: Any) -> set[str]:
    assert response.status_code == 409, response.text
    return {str(c["name"]) for c in response.json()["candidates"]}


# 1. Someone else's name with the order -----------------------------------------------------


@pytest.mark.parametrize("name", ["Priya Shah", "Zed Shah"])
def test_another_first_name_with_the_order_is_not_its_owner(
    client: TestClient[Any], name: str
) -> None:
    """Nor is he named among candidates: a 409 listing him would say whose the order is
    (tests/api/test_lookup_number_alone.py)."""
    _names_no_one(_lookup(client, name=name, order_number=RAJ_ORDER))
    found = _tool_answer(client, name=name, order_number=RAJ_ORDER)
    assert "Raj" not in found


def _names_no_one(response: Any) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["candidates"] == []
    assert "Raj" not in response.text


def _tool_answer(client: TestClient[Any], **details: str) -> str:
    call = {"name": "find_customer", "arguments": details}
    return str(client.post("/v1/tools/call", json=call, headers=AUTH).text)


@pytest.mark.parametrize(
    ("name", "details", "owner"),
    [
        ("Maria Garcia", {"order_number": "2005"}, "Maria Garcia Lopez"),
        ("Anne Smith", {"order_number": "2006"}, "Anne Smith-Jones"),
        ("Quincy Public", {"ticket_id": "3008"}, "John Quincy Public"),
        ("JP Dubois", {"order_number": "2009"}, "Jean-Pierre Dubois"),  # initials of both parts
    ],
)
def test_part_of_the_customers_own_name_is_no_contradiction(
    client: TestClient[Any], name: str, details: dict[str, str], owner: str
) -> None:
    """A record's features keep a name's first and last word only, so the first fix read
    "Maria Garcia" as another surname than Maria Garcia Lopez's and refused her own order (a
    review found it): a name given is compared with the customer's full names too."""
    assert _name(_lookup(client, name=name, **details)) == owner
    (match,) = [m for m in _find(client, name=name, **details) if m["name"] == owner]
    assert match["confidence"] == "high"


def test_the_owners_own_name_with_the_order_is_still_the_owner(client: TestClient[Any]) -> None:
    assert _name(_lookup(client, name="Raj Shah", order_number=RAJ_ORDER)) == "Raj Shah"
    assert _name(_lookup(client, name="Shah Raj", order_number=RAJ_ORDER)) == "Raj Shah"


# 2. A member record without a name --------------------------------------------------------


def test_a_nameless_record_does_not_hide_a_name_that_is_not_the_customers(
    client: TestClient[Any],
) -> None:
    response = _lookup(client, email=MARTHA, name="Bob Smith")
    assert response.status_code in (404, 409), response.text
    for match in _find(client, email=MARTHA, name="Bob Smith"):
        assert match["confidence"] not in ("exact", "high", "medium"), match
    assert _name(_lookup(client, email=MARTHA, name="Martha")) == "Martha Mansour"
    assert _name(_lookup(client, email=MARTHA, name="Martha Mansour")) == "Martha Mansour"


# 3. A contact that other customers hold -----------------------------------------------------


def test_a_line_other_customers_share_counts_against_the_order_owner(
    client: TestClient[Any],
) -> None:
    """Brandon's order with the Shahs' line is none of them, and names no one."""
    response = _lookup(client, phone=SHAH_LINE, order_number=BRANDON_ORDER)
    _names_no_one(response)
    assert "Brandon" not in response.text
    found = _tool_answer(client, phone=SHAH_LINE, order_number=BRANDON_ORDER)
    assert "Brandon" not in found
    assert "Shah" not in found


def test_an_email_with_a_line_other_customers_share_is_no_answer(
    client: TestClient[Any],
) -> None:
    response = _lookup(client, email=MARTHA, phone=SHAH_LINE)
    assert "Martha Mansour" in _candidate_names(response)
    assert all(m["confidence"] == "low" for m in _find(client, email=MARTHA, phone=SHAH_LINE))


def test_the_shared_line_with_a_full_name_of_one_of_its_holders_is_that_one(
    client: TestClient[Any],
) -> None:
    """The other holder's different first name makes her no rival: the full name and the line
    name Raj, at most "medium" since the line is shared."""
    assert _name(_lookup(client, phone=SHAH_LINE, name="Raj Shah")) == "Raj Shah"
    raj = next(
        m for m in _find(client, phone=SHAH_LINE, name="Raj Shah") if m["name"] == "Raj Shah"
    )
    assert raj["confidence"] == "medium"


# 4. Several customers at once ------------------------------------------------------------


def test_details_naming_two_customers_grade_both_low(client: TestClient[Any]) -> None:
    details = {"name": "Shah", "phone": SHAH_LINE}  # the surname both holders of the line have
    assert _candidate_names(_lookup(client, **details)) >= {"Priya Shah", "Raj Shah"}
    found = _find(client, **details)
    assert {m["name"] for m in found} >= {"Priya Shah", "Raj Shah"}
    assert {m["confidence"] for m in found} == {"low"}


def test_numbers_of_two_customers_name_neither(client: TestClient[Any]) -> None:
    details = {"order_number": BRANDON_ORDER, "ticket_id": ZOE_TICKET}
    assert _candidate_names(_lookup(client, **details)) == set()
    call = {"name": "find_customer", "arguments": details}
    answer = client.post("/v1/tools/call", json=call, headers=AUTH).text
    assert "Brandon" not in answer
    assert "Zoe" not in answer


# 5. What X-Matched-By names ------------------------------------------------------------------


def test_matched_by_names_only_the_details_that_matched(client: TestClient[Any]) -> None:
    """It named every detail given: ``phone and order_number`` for a phone no one holds beside
    Raj's order, as if his phone had matched."""
    unknown_phone = _lookup(client, name="Raj Shah", phone="+14155550100", order_number=RAJ_ORDER)
    assert _name(unknown_phone) == "Raj Shah"
    assert unknown_phone.headers["X-Matched-By"] == "name and order_number"
    both = _lookup(client, name="Raj Shah", order_number=RAJ_ORDER)
    assert both.headers["X-Matched-By"] == "name and order_number"
