"""POST /v1/escalations: Maya's realistic handoff, LLM and fallback, the Zendesk note."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.handoff import ZendeskNotes
from tests.conftest import TEST_KEY, make_settings
from tests.llm.helpers import completion, copy_db, mock_client
from tests.spies import zendesk_note_text

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
MAYA_TRANSCRIPT = [
    {
        "role": "customer",
        "text": "Hi, I was charged twice this month for my Pro plan, $49 two times. "
        "Now the app says my payment failed and my account is past due?!",
        "at": "2026-11-20T09:01:00Z",
    },
    {
        "role": "bot",
        "text": "I'm sorry about that. I can see your Pro subscription. Could you confirm the "
        "email on your account?",
        "at": "2026-11-20T09:01:05Z",
    },
    {"role": "customer", "text": "maya.patel@example.com", "at": "2026-11-20T09:01:30Z"},
    {
        "role": "bot",
        "text": "Thanks Maya. I'll make sure a billing specialist checks the duplicate charge "
        "and gets back to you today.",
        "at": "2026-11-20T09:01:40Z",
    },
    {
        "role": "customer",
        "text": "This is the second time I write about it. I want the duplicate refunded.",
        "at": "2026-11-20T09:02:10Z",
    },
]
REASON = "Customer asks for a refund of a duplicate charge; refunds need a human."


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "customer": {"email": "maya.patel@example.com"},
        "transcript": MAYA_TRANSCRIPT,
        "reason": REASON,
        **extra,
    }


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def test_maya_handoff_has_what_an_agent_needs(client: TestClient[Any]) -> None:
    response = client.post("/v1/escalations", json=_body(), headers=AUTH)
    assert response.status_code == 201, response.text
    body = response.json()
    handoff = body["handoff"]
    assert handoff["who"]["name"] == "Maya Patel"
    assert handoff["who"]["confidence"] == "exact"  # her email, hers alone
    assert handoff["who"]["matched_by"] == "email"
    assert "charged twice" in handoff["wants"]
    assert "billing" in handoff["topics"]
    assert any("billing specialist" in p for p in handoff["bot_promised"])
    facts = " ".join(handoff["facts"])
    assert "past_due" in facts
    assert "KJFEVMTW-0009" in facts
    assert "card_declined" in facts
    assert "duplicate" in handoff["next_step"]
    assert "before promising a refund" in handoff["next_step"]
    assert handoff["priority"] == "high"
    assert handoff["open_ticket"] == "1001"
    text = body["text"]
    assert text.startswith("ESCALATION [high]")
    assert 'Who: customer-written "Maya Patel"' in text
    assert body["summary"]["source"] == "deterministic"
    assert body["summary"]["fallback"] is None
    assert body["note"] is None


def test_partial_identity_by_vendor_id_and_phone(client: TestClient[Any]) -> None:
    response = client.post(
        "/v1/escalations",
        json=_body(customer={"phone": "(415) 555-0134"}, transcript=[]),
        headers=AUTH,
    )
    assert response.status_code == 201
    assert response.json()["handoff"]["who"]["matched_by"] == "phone"
    assert "reason" in response.json()["handoff"]["wants"]


def test_chargeback_words_make_it_urgent(client: TestClient[Any]) -> None:
    transcript = [{"role": "customer", "text": "Fix it or I file a chargeback with my bank."}]
    response = client.post("/v1/escalations", json=_body(transcript=transcript), headers=AUTH)
    assert response.json()["handoff"]["priority"] == "urgent"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"customer": {"email": "maya.patel@example.com"}}, 400),
        (_body(reason=""), 400),
        (_body(transcript=[{"role": "wizard", "text": "hi"}]), 400),
        (_body(transcript=[{"role": "customer"}]), 400),
        (_body(extra_field=1), 400),
        (_body(customer={"email": "maya.patel@example.com", "colour": "red"}), 400),
        (_body(customer={}), 400),
        (_body(customer={"email": "nobody.here@example.com"}), 404),
        (_body(customer={"email": "info@silvacosta.example"}), 409),
    ],
)
def test_bad_escalations_are_problems(
    client: TestClient[Any], body: dict[str, Any], status: int
) -> None:
    response = client.post("/v1/escalations", json=body, headers=AUTH)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("reason", ["   ", ""])
def test_a_blank_reason_is_said_in_words_not_as_a_pattern(
    client: TestClient[Any], reason: str
) -> None:
    response = client.post("/v1/escalations", json=_body(reason=reason), headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "invalid request: reason (body): must hold more than spaces"


def test_llm_handoff_and_its_prompt(demo_db: Path, tmp_path: Path) -> None:
    seen: list[Any] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        return httpx2.Response(200, json=completion("Who: Maya Patel, high.\nNext: check Stripe."))

    app = create_app(make_settings(copy_db(demo_db, tmp_path)), llm_client=mock_client(handler))
    with TestClient(app=app) as test_client:
        response = test_client.post("/v1/escalations", json=_body(summary="llm"), headers=AUTH)
    summary = response.json()["summary"]
    assert summary["source"] == "llm"
    assert summary["prompt_version"] == "escalation_handoff.v1"
    user = seen[0]["messages"][1]["content"]
    assert user.count("<untrusted-data id=") == 3
    assert '"role": "customer"' in user


def test_llm_handoff_error_falls_back(demo_db: Path, tmp_path: Path) -> None:
    app = create_app(
        make_settings(copy_db(demo_db, tmp_path)),
        llm_client=mock_client(lambda r: httpx2.Response(503, json={"error": {}})),
    )
    with TestClient(app=app) as test_client:
        response = test_client.post("/v1/escalations", json=_body(summary="llm"), headers=AUTH)
    summary = response.json()["summary"]
    assert summary["source"] == "deterministic"
    assert summary["fallback"] == "HTTP 503 from the LLM endpoint"
    assert summary["text"].startswith("ESCALATION")


def test_internal_note_is_posted_on_the_open_ticket(demo_db: Path) -> None:
    posted: list[httpx.Request] = []

    def zendesk(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200, json={"ticket": {"id": 1001}})

    notes = ZendeskNotes(
        httpx.Client(transport=httpx.MockTransport(zendesk)),
        "https://acme.zendesk.com",
        "Basic dGVzdA==",
    )
    app = create_app(make_settings(demo_db), note_poster=notes)
    with TestClient(app=app) as test_client:
        response = test_client.post("/v1/escalations", json=_body(post_note=True), headers=AUTH)
    assert response.json()["note"] == {"posted": True, "ticket": "1001"}
    request = posted[0]
    assert request.method == "PUT"
    assert request.url.path == "/api/v2/tickets/1001.json"
    comment = json.loads(request.content)["ticket"]["comment"]
    assert comment["public"] is False
    assert "body" not in comment  # Zendesk reads Markdown there: the note is html_body
    assert zendesk_note_text(comment).startswith("ESCALATION")


def test_note_failure_is_reported_not_raised(demo_db: Path) -> None:
    notes = ZendeskNotes(
        httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(422))),
        "https://acme.zendesk.com",
        "Basic dGVzdA==",
    )
    app = create_app(make_settings(demo_db), note_poster=notes)
    with TestClient(app=app) as test_client:
        response = test_client.post("/v1/escalations", json=_body(post_note=True), headers=AUTH)
    assert response.status_code == 201
    assert response.json()["note"] == {
        "posted": False,
        "ticket": "1001",
        "error": "Zendesk answered HTTP 422",
    }


def test_note_without_helpdesk_says_so(client: TestClient[Any]) -> None:
    response = client.post("/v1/escalations", json=_body(post_note=True), headers=AUTH)
    assert response.json()["note"]["error"] == "no helpdesk configured for notes"
