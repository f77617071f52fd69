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
        {"name": "Patel", "order_number": "1003"},  # a surname alone: so are the commonest
        {"name": "M. P.", "order_number": "1003"},  # initials: 26 letters
        {"name": "Maya P.", "order_number": "1003"},
        {"name": "M. Patel", "ticket_id": "1001"},
        {"name": "Maya Maya", "order_number": "1003"},  # her first name typed twice
        {"name": "Maya Mayah", "ticket_id": "1001"},
        {"name": "Maya Pat", "order_number": "1003"},  # letters of her mailbox
    ],
)
def test_her_number_without_her_name_or_contact_names_no_one(
    client: TestClient[Any], details: dict[str, str]
) -> None:
    _names_no_one(_lookup(client, **details))


@pytest.mark.usefixtures("maya")
@pytest.mark.parametrize(
    "beside",
    [{}, {"email": "attacker@evil.example"}, {"name": "Zed Qwerty"}, {"phone": "+14155550199"}],
)
def test_a_number_says_nothing_of_whether_it_is_anyones(
    client: TestClient[Any], beside: dict[str, str]
) -> None:
    """A 404 for a number no one has, beside a 409 for hers, would tell them apart."""
    hers = _lookup(client, order_number="1003", **beside)
    nobodys = _lookup(client, order_number="9999", **beside)
    assert (hers.status_code, hers.json()["detail"]) == (
        nobodys.status_code,
        nobodys.json()["detail"],
    )
    _names_no_one(hers)


@pytest.mark.usefixtures("maya")
@pytest.mark.parametrize(
    "details",
    [
        {"name": "Maya Patel", "order_number": "1003"},
        {"name": "Patel Maya", "order_number": "#1003"},
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


def test_a_line_or_mailbox_the_household_shares_is_not_enough(
    client: TestClient[Any], ingest: Ingest
) -> None:
    """Priya holds Raj's parcel, and their home line; info@ is the whole office's."""
    ingest(
        shopify_customer(2, "raj@example.com", "Raj", "Shah", "+14155550177"),
        shopify_customer(3, "priya@example.com", "Priya", "Shah", "+14155550177"),
        shopify_order(21, 2, "#2001", "2026-11-18T10:00:00Z"),
        shopify_customer(4, "info@acme.example", "Ann", "Lee"),
        shopify_customer(5, "info@acme.example", "Bo", "Chen"),
        shopify_order(22, 4, "#2002", "2026-11-18T10:00:00Z"),
    )
    for details in (
        {"phone": "+14155550177", "order_number": "2001"},
        {"name": "Shah", "order_number": "2001"},
        {"email": "info@acme.example", "order_number": "2002"},
    ):
        response = _lookup(client, **details)
        assert response.status_code == 409, (details, response.text)
        assert response.json()["candidates"] == []
    raj = _lookup(client, name="Raj Shah", phone="+14155550177", order_number="2001")
    assert raj.json()["identity"]["name"] == "Raj Shah"


def _tool(client: TestClient[Any], name: str, **arguments: str) -> Any:
    return client.post("/v1/tools/call", json={"name": name, "arguments": arguments}, headers=AUTH)


@pytest.mark.usefixtures("maya")
@pytest.mark.parametrize("tool", ["get_customer_context", "find_customer"])
@pytest.mark.parametrize(("source", "external_id"), [("zendesk", "1001"), ("shopify", "11")])
def test_a_tool_given_her_ticket_or_order_id_names_no_one(
    client: TestClient[Any], tool: str, source: str, external_id: str
) -> None:
    """A Zendesk ticket id is the number on the ticket's emails: the ``ticket_id`` rule."""
    response = _tool(client, tool, source=source, external_id=external_id)
    assert not [secret for secret in SECRETS if secret in response.text], response.text
    assert "order_number, ticket_id or invoice_number" in response.text
    person = _tool(client, tool, source="shopify", external_id="1")  # her customer id
    assert "Maya" in person.text


@pytest.mark.usefixtures("maya")
def test_an_escalation_by_her_order_id_hands_over_no_one(client: TestClient[Any]) -> None:
    body = {
        "customer": {"source": "shopify", "external_id": "11"},
        "transcript": [{"role": "customer", "text": "Where is my order?"}],
        "reason": "customer asked for a human",
    }
    _names_no_one(client.post("/v1/escalations", json=body, headers=AUTH))


@pytest.mark.usefixtures("maya")
def test_the_context_endpoint_still_finds_the_owner_of_a_vendor_id(client: TestClient[Any]) -> None:
    """``GET /v1/context`` is called by programs that hold the id themselves (a helpdesk
    sidebar with its own ticket), as documented."""
    response = client.get("/v1/context?source=zendesk&external_id=1001", headers=AUTH)
    assert response.status_code == 200, response.text


@pytest.mark.usefixtures("maya")
def test_a_test_order_is_not_brought_back_as_the_order_in_question(
    client: TestClient[Any], ingest: Ingest
) -> None:
    """The snapshot leaves a shop's test order out; reading it by its id showed it anyway."""
    source, kind, test_order = shopify_order(99, 1, "#1009", "2026-11-20T10:00:00Z")
    ingest((source, kind, {**test_order, "test": True}))
    response = client.get(
        "/v1/context?source=shopify&external_id=99&format=text&audience=agent", headers=AUTH
    )
    assert response.status_code == 200, response.text
    assert "#1009" not in response.text


PEOPLE = [  # (first name, last name, their order number)
    ("Liam", "O'Brien", "3001"),
    ("Maria", "de la Cruz", "3002"),
    ("Pieter", "van der Berg", "3003"),
    ("Zoë", "Müller", "3004"),
    ("Robert", "Smith", "3005"),
    ("Maria", "Garcia Lopez", "3006"),
]


@pytest.fixture
def people(ingest: Ingest) -> None:
    for n, (first, last, order) in enumerate(PEOPLE, start=50):
        ingest(
            shopify_customer(n, f"customer{n}@example.com", first, last),
            shopify_order(n + 100, n, f"#{order}", "2026-11-18T10:00:00Z"),
        )


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("name", "order"),
    [
        ("O O", "3001"),  # the letter of O'Brien, twice
        ("L O", "3001"),
        ("De De", "3002"),  # surname particles
        ("De La", "3002"),
        ("Van Van", "3003"),
        ("P Van", "3003"),
        ("R Smith", "3005"),  # an initial: 26 letters
        ("R. Smith", "3005"),
        ("Garcia Garcia", "3006"),  # a surname typed twice
        ("Smith Smith", "3005"),
    ],
)
def test_particles_initials_and_a_word_twice_are_no_full_name(
    client: TestClient[Any], name: str, order: str
) -> None:
    response = _lookup(client, name=name, order_number=order)
    assert response.status_code == 409, response.text
    assert response.json()["candidates"] == []


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("name", "order", "owner"),
    [
        ("Liam O'Brien", "3001", "Liam O'Brien"),
        ("Liam O\u2019Brien", "3001", "Liam O'Brien"),  # a phone's apostrophe
        ("Liam OBrien", "3001", "Liam O'Brien"),
        ("Maria Cruz", "3002", "Maria de la Cruz"),
        ("Pieter Berg", "3003", "Pieter van der Berg"),
        ("Zoe Mueller", "3004", "Zoë Müller"),  # a typo's distance
        ("Bob Smith", "3005", "Robert Smith"),  # a nickname
        ("Rob Smyth", "3005", "Robert Smith"),
        ("Smith Robert", "3005", "Robert Smith"),
        ("Maria Garcia", "3006", "Maria Garcia Lopez"),
    ],
)
def test_the_full_name_as_customers_type_it_is_theirs(
    client: TestClient[Any], name: str, order: str, owner: str
) -> None:
    response = _lookup(client, name=name, order_number=order)
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == owner


def test_an_id_both_a_person_and_a_ticket_hold_is_refused_to_a_tool(
    client: TestClient[Any], ingest: Ingest
) -> None:
    """Zendesk user 1001 is Robert, ticket 1001 is Maria's: the tool named Maria."""
    ingest(
        zendesk_user(1001, "Robert Smith", "robert@example.com"),
        zendesk_user(2002, "Maria De Luca", "maria@example.com"),
        zendesk_ticket(1001, 2002, "Where is my refund?"),
    )
    response = _tool(client, "get_customer_context", source="zendesk", external_id="1001")
    assert "Maria" not in response.text
    assert "order_number, ticket_id or invoice_number" in response.text


def test_the_widget_still_mints_a_link_for_a_ticket(
    client: TestClient[Any], ingest: Ingest
) -> None:
    """Staff tooling called with the helpdesk's own ticket id, like ``GET /v1/context``."""
    ingest(
        zendesk_user(2002, "Maria De Luca", "maria@example.com"),
        zendesk_ticket(1002, 2002, "Where is my refund?"),
    )
    body = {"source": "zendesk", "external_id": "1002"}
    response = client.post("/v1/widget/url", json=body, headers=AUTH)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("first", "last", "typed"),
    [
        ("John", "Johnson", "Johnson Johnson"),  # a surname a nickname away from John
        ("Harry", "Harris", "Harris Harris"),
        ("Greta", "af Klint", "Greta Af"),  # a particle that opens many surnames
        ("Maya Patel", "Patel", "Patel Patel"),  # a record that repeats a word
        ("Maya", "Maya Patel", "Maya Maya"),
    ],
)
def test_a_surname_alone_or_a_word_twice_is_refused(
    client: TestClient[Any], ingest: Ingest, first: str, last: str, typed: str
) -> None:
    ingest(
        shopify_customer(70, "someone@example.com", first, last),
        shopify_order(170, 70, "#7001", "2026-11-18T10:00:00Z"),
    )
    response = _lookup(client, name=typed, order_number="7001")
    assert response.status_code == 409, response.text
    assert response.json()["candidates"] == []


@pytest.mark.parametrize(
    ("name", "refused", "theirs"),
    [
        ("Maria De Luca", "De Luca", "Maria De Luca"),  # De is no given name
        ("Jan van der Berg", "Van Berg", "Jan Berg"),
        ("Garcia, Maria Elena", "Elena Maria", "Maria Garcia"),  # Surname, Given Middle
    ],
)
def test_a_name_in_one_field_is_read_as_people_write_it(
    client: TestClient[Any], ingest: Ingest, name: str, refused: str, theirs: str
) -> None:
    """Zendesk users and Stripe customers hold a name in one field."""
    ingest(zendesk_user(71, name, "someone@example.com"), zendesk_ticket(7101, 71, "Help"))
    response = _lookup(client, name=refused, ticket_id="7101")
    assert response.status_code == 409, response.text
    assert response.json()["candidates"] == []
    found = _lookup(client, name=theirs, ticket_id="7101")
    assert found.status_code == 200, found.text


@pytest.mark.parametrize(
    ("first", "last", "typed"),
    [
        ("Harry", "Harris", "Harry Harris"),  # a given name a letter off the surname
        ("Robert", "Roberts", "Robert Roberts"),
        ("John", "Johnson", "Johnny Johnson"),
        ("Linh", "Le", "Linh Le"),  # a surname that is a particle's word on its own
        ("Minh", "Do", "Minh Do"),
    ],
)
def test_ordinary_full_names_near_the_rules_edges_are_theirs(
    client: TestClient[Any], ingest: Ingest, first: str, last: str, typed: str
) -> None:
    """A fourth review found these real names refused by the rules against guesses."""
    ingest(
        shopify_customer(72, "someone@example.com", first, last),
        shopify_order(172, 72, "#7201", "2026-11-18T10:00:00Z"),
    )
    response = _lookup(client, name=typed, order_number="7201")
    assert response.status_code == 200, response.text
