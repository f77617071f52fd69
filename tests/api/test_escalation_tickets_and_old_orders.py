"""An escalation for a customer with several open tickets and more orders than the snapshot
lists: the note goes on the ticket the conversation names (or on none, said why, when it names
none of several), an order older than the listed ones is still in question when the customer
names it (never another customer's), and the ``create_escalation`` tool says how sure the
match is in the words ``POST /v1/escalations`` uses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from tests.api.test_escalation_secrets_and_notes import Zendesk
from tests.api.test_escalations import AUTH
from tests.conftest import Ingest, make_settings
from tests.payloads import shopify_customer, shopify_order, zendesk_ticket, zendesk_user

KIM = {"email": "kim@example.com"}


def _dated(item: tuple[str, str, dict[str, Any]], day: str) -> tuple[str, str, dict[str, Any]]:
    item[2]["created_at"] = item[2]["updated_at"] = f"{day}T00:00:00Z"
    return item


@pytest.fixture
def zendesk() -> Zendesk:
    return Zendesk()


@pytest.fixture
def client(store: Store, ingest: Ingest, zendesk: Zendesk) -> Iterator[TestClient[Any]]:
    """Kim: 12 orders (#2001 to #2012; the snapshot lists the newest 10) and two open tickets,
    5002 the newer; Ana: orders #3001 to #3012."""
    ingest(
        shopify_customer(900, "kim@example.com", "Kim", "Lee"),
        zendesk_user(77, "Kim Lee", email="kim@example.com"),
        shopify_customer(901, "ana@example.com", "Ana", "Ruiz"),
        *(
            shopify_order(8000 + i, 900, f"#{2001 + i}", f"2026-0{1 + i // 3}-{10 + i}T10:00:00Z")
            for i in range(12)
        ),
        *(
            shopify_order(9000 + i, 901, f"#{3001 + i}", f"2026-0{1 + i // 3}-{10 + i}T10:00:00Z")
            for i in range(12)
        ),
        _dated(zendesk_ticket(5001, 77, "Refund for my broken lamp"), "2026-05-01"),
        _dated(zendesk_ticket(5002, 77, "Password reset not arriving"), "2026-06-01"),
    )
    app = create_app(make_settings(store.path), note_poster=zendesk.poster())
    with TestClient(app=app) as test_client:
        yield test_client


def _escalate(client: TestClient[Any], said: str, reason: str = "needs a human") -> Any:
    body = {
        "customer": KIM,
        "transcript": [{"role": "customer", "text": said}],
        "reason": reason,
        "post_note": True,
    }
    response = client.post("/v1/escalations", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()


# --- 1. which open ticket the note goes on ------------------------------------------------------


def test_the_note_goes_on_the_ticket_the_customer_names(
    client: TestClient[Any], zendesk: Zendesk
) -> None:
    answer = _escalate(client, "I'm following up on ticket 5001: my lamp arrived broken")
    assert answer["handoff"]["open_ticket"] == "5001"
    assert answer["note"] == {"posted": True, "ticket": "5001"}
    assert [path for path, _ in zendesk.notes] == ["/api/v2/tickets/5001.json"]


def test_every_customer_turn_reaches_the_note(client: TestClient[Any], zendesk: Zendesk) -> None:
    turns = [
        {"role": "customer", "text": "Hi, about ticket 5001"},
        {"role": "bot", "text": "Sure, what happened?"},
        {"role": "customer", "text": "I already reset it three times and replaced the batteries"},
        {"role": "bot", "text": "Let me get a person."},
        {"role": "customer", "text": "ok"},
    ]
    body = {"customer": KIM, "transcript": turns, "reason": "help", "post_note": True}
    answer = client.post("/v1/escalations", json=body, headers=AUTH).json()
    assert "replaced the batteries" in answer["handoff"]["wants"]
    [(path, note)] = zendesk.notes
    assert path == "/api/v2/tickets/5001.json"
    assert '- customer-written "I already reset it three times and replaced the batteries"' in note
    assert 'Bot tried: bot-written "Sure, what happened?"' in note


def test_the_reason_names_the_ticket_when_the_customer_does_not(
    client: TestClient[Any], zendesk: Zendesk
) -> None:
    answer = _escalate(client, "Still broken", reason="Follow-up of ticket #5001, needs a human")
    assert answer["note"] == {"posted": True, "ticket": "5001"}


def test_the_customers_words_outweigh_the_reason(client: TestClient[Any]) -> None:
    answer = _escalate(client, "This is about ticket 5001", reason="follow-up of ticket 5002")
    assert answer["note"]["ticket"] == "5001"


def test_several_open_tickets_none_named_post_no_note_and_say_why(
    client: TestClient[Any], zendesk: Zendesk
) -> None:
    answer = _escalate(client, "My lamp arrived broken, I want a refund")
    assert answer["handoff"]["open_ticket"] is None
    note = answer["note"]
    assert note["posted"] is False
    assert "2 open tickets" in note["error"]
    assert "names none of them" in note["error"]
    assert "retryable" not in note  # the same escalation again would not post it either
    assert zendesk.notes == []
    assert "Open ticket:" not in answer["text"]


def test_the_tool_says_why_no_note_was_posted(client: TestClient[Any], zendesk: Zendesk) -> None:
    arguments = {
        **KIM,
        "transcript": [{"role": "customer", "text": "My lamp arrived broken"}],
        "reason": "needs a human",
        "post_note": True,
    }
    response = client.post(
        "/v1/tools/call",
        json={"name": "create_escalation", "arguments": arguments},
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    assert "2 open tickets and the conversation names none of them" in response.text
    assert zendesk.notes == []


# --- 2. an order older than the snapshot's listed ones ------------------------------------------


def test_an_order_older_than_the_listed_ones_is_in_question(client: TestClient[Any]) -> None:
    answer = _escalate(client, "About ticket 5001: my order #2001 lamp arrived broken")
    facts = answer["handoff"]["facts"]
    assert any(f.startswith("Order in question #2001 2026-01-10:") for f in facts), facts
    assert "Order in question #2001" in answer["text"]


def test_another_customers_old_order_is_never_in_question(client: TestClient[Any]) -> None:
    answer = _escalate(client, "About ticket 5001: where is order #3001?")  # Ana's
    assert not any("#3001" in f for f in answer["handoff"]["facts"])


# --- 3. the tool and the endpoint say how sure alike --------------------------------------------


@pytest.mark.parametrize(
    ("customer", "matched"),
    [(KIM, "email"), ({"source": "zendesk", "external_id": "77"}, "zendesk id")],
)
def test_the_tool_and_the_endpoint_agree_on_how_sure(
    client: TestClient[Any], customer: dict[str, str], matched: str
) -> None:
    turns = [{"role": "customer", "text": "Where is my order?"}]
    http = client.post(
        "/v1/escalations",
        json={"customer": customer, "transcript": turns, "reason": "help"},
        headers=AUTH,
    ).json()
    tool = client.post(
        "/v1/tools/call",
        json={
            "name": "create_escalation",
            "arguments": {**customer, "transcript": turns, "reason": "help"},
        },
        headers=AUTH,
    )
    assert http["handoff"]["who"]["confidence"] == "exact"
    assert http["handoff"]["who"]["matched_by"] == matched
    words = f"exact match: matched by {matched}; one profile across shopify, zendesk"
    assert words in http["text"]
    assert words in tool.text
    assert "high confidence" not in tool.text
