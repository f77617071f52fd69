"""An order, ticket or invoice number with no name, email or phone of its owner never answers
with the owner, not even to a trusted backend (a security review, session 28).

Such a number is printed on a parcel, a shipping email or a forwarded invoice, and sequential
ones can be counted through: with a trusted-backend key (a chatbot's own server passing what the
customer typed) ``{"order_number": "1003"}`` answered Maya's orders, tracking numbers, failed
invoice and ticket text, order numbers 1001 to 1100 named 40 customers, and an attacker's own
email beside Maya's order did not stop it. The answer is now a 409 that names no one and asks
for the name, email or phone as well; a first name or initials beside the number are not
enough (the commonest first names are few), her surname is.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import TEST_KEY, Ingest
from tests.payloads import shopify_customer, shopify_order, zendesk_ticket, zendesk_user

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}  # a bootstrap key: a trusted backend
MAYA = "maya.patel@example.com"
SECRETS = (MAYA, "Maya", "Patel", "+14155550134", "prof_")


@pytest.fixture
def maya(ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, MAYA, "Maya", "Patel", "+14155550134"),
        shopify_order(11, 1, "#1003", "2026-11-18T10:00:00Z"),
        zendesk_user(7, "Maya Patel", MAYA),
        zendesk_ticket(1001, 7, "I was charged twice this month"),
    )


def _lookup(client: TestClient[Any], **details: str) -> Any:
    return client.post("/v1/context/lookup", json=details, headers=AUTH)


def _names_no_one(response: Any) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["candidates"] == []
    assert not [secret for secret in SECRETS if secret in response.text], response.text


@pytest.mark.usefixtures("maya")
@pytest.mark.parametrize(
    "details",
    [
        {"order_number": "1003"},
        {"order_number": "#1003"},
        {"ticket_id": "1001"},
        {"order_number": "1003", "ticket_id": "1001"},
        {"email": "attacker@evil.example", "order_number": "1003"},  # a mailbox nobody has
        {"phone": "+14155550199", "order_number": "1003"},  # a phone nobody has
        {"name": "Zed Qwerty", "order_number": "1003"},  # a name that is not hers
        {"name": "Maya", "order_number": "1003"},  # a first name: the commonest are few
        {"name": "M. P.", "order_number": "1003"},  # initials: 26 letters
        {"name": "Maya P.", "order_number": "1003"},
    ],
)
def test_her_number_without_her_name_or_contact_names_no_one(
    client: TestClient[Any], details: dict[str, str]
) -> None:
    _names_no_one(_lookup(client, **details))


@pytest.mark.usefixtures("maya")
def test_a_number_alone_says_nothing_of_whether_it_is_anyones(client: TestClient[Any]) -> None:
    hers, nobodys = _lookup(client, order_number="1003"), _lookup(client, order_number="9999")
    assert (hers.status_code, hers.json()["detail"]) == (
        nobodys.status_code,
        nobodys.json()["detail"],
    )


@pytest.mark.usefixtures("maya")
@pytest.mark.parametrize(
    "details",
    [
        {"name": "Maya Patel", "order_number": "1003"},
        {"name": "Patel", "order_number": "1003"},
        {"name": "M. Patel", "ticket_id": "1001"},
        {"email": MAYA, "order_number": "1003"},
        {"phone": "+1 415 555 0134", "ticket_id": "1001"},
    ],
)
def test_her_number_with_her_name_or_contact_is_still_her(
    client: TestClient[Any], details: dict[str, str]
) -> None:
    response = _lookup(client, **details)
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == "Maya Patel"


@pytest.mark.usefixtures("maya")
def test_find_customer_names_no_one_for_a_number_alone(client: TestClient[Any]) -> None:
    call = {"name": "find_customer", "arguments": {"order_number": "1003"}}
    response = client.post("/v1/tools/call", json=call, headers=AUTH)
    assert not [secret for secret in SECRETS if secret in response.text], response.text
    assert "name, email or phone" in response.text
    call = {"name": "find_customer", "arguments": {"name": "Maya Patel", "order_number": "1003"}}
    found = json.loads(client.post("/v1/tools/call", json=call, headers=AUTH).text)
    assert [match["name"] for match in found] == ["Maya Patel"]


@pytest.mark.usefixtures("maya")
def test_an_escalation_by_a_number_alone_hands_over_no_one(client: TestClient[Any]) -> None:
    body = {
        "customer": {"order_number": "1003"},
        "transcript": [{"role": "customer", "text": "Where is order 1003?"}],
        "reason": "customer asked for a human",
    }
    _names_no_one(client.post("/v1/escalations", json=body, headers=AUTH))
