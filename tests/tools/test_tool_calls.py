"""POST /v1/tools/call and the ToolBox behind it: results and every failure a model may cause."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience.policy import fingerprint
from context_service.store import Store
from context_service.tools import InvalidToolArguments, ToolBox, UnknownTool
from tests.conftest import TEST_KEY, make_settings

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
MAYA = "maya.patel@example.com"


@pytest.fixture
def api(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        client.headers.update(AUTH)
        yield client


def _call(api: TestClient[Any], name: str, arguments: Any) -> Any:
    return api.post("/v1/tools/call", json={"name": name, "arguments": arguments})


def test_context_is_the_chatbot_audience_as_prompt_ready_text(api: TestClient[Any]) -> None:
    response = _call(api, "get_customer_context", {"email": "MAYA.PATEL@example.com"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert text.startswith("Customer context for a support chatbot.")
    assert 'customer-written "Maya Patel"' in text
    assert 'customer-written "I was charged twice this month"' in text
    assert "[critical] Subscription Pro 49 USD/month: past_due" in text
    # The chatbot audience's default policy masks contact details and hides the CRM owner.
    assert "m***@example.com" in text
    assert "maya.patel@example.com" not in text
    assert "Jordan Reyes" not in text


def test_context_as_json_and_arguments_as_the_model_s_string(api: TestClient[Any]) -> None:
    arguments = json.dumps({"phone": "(415) 555-0134", "format": "json"})
    response = _call(api, "get_customer_context", arguments)
    assert response.status_code == 200
    body = json.loads(response.text)
    assert body["audience"] == "chatbot"
    assert body["customer"][0]["name"] == "Maya Patel"


def test_context_fits_a_token_budget(api: TestClient[Any]) -> None:
    small = _call(api, "get_customer_context", {"email": MAYA, "max_tokens": 150})
    assert small.status_code == 200
    assert "Omitted to fit 150 tokens" in small.text
    assert "past_due" in small.text
    # The schema's smallest budget answers: who the customer is, and how much was left out.
    smallest = _call(api, "get_customer_context", {"email": MAYA, "max_tokens": 60})
    assert smallest.status_code == 200, smallest.text
    assert smallest.text.rstrip().endswith("omitted to fit 60 tokens.")
    assert "Maya Patel" in smallest.text
    below_schema = _call(api, "get_customer_context", {"email": MAYA, "max_tokens": 5})
    assert below_schema.json()["title"] == "Invalid tool arguments"


def test_find_customer_lists_every_candidate_of_a_shared_mailbox(api: TestClient[Any]) -> None:
    response = _call(api, "find_customer", {"email": "info@silvacosta.example"})
    assert response.status_code == 200
    names = sorted(m["name"] for m in json.loads(response.text))
    assert names == ["Ana Silva", "Bruno Costa"]


def test_find_customer_with_one_customer_s_email_and_another_s_phone_names_both(
    api: TestClient[Any],
) -> None:
    response = _call(api, "find_customer", {"email": MAYA, "phone": "+1 617-555-0142"})
    assert response.status_code == 200
    found = json.loads(response.text)
    assert sorted(m["name"] for m in found) == ["Ana Silva", "Maya Patel"]
    assert all("probability" not in m for m in found)  # neither is offered as the likelier
    whys = {m["name"]: m["why"] for m in found}
    assert whys["Maya Patel"].startswith("holds the email given")
    assert whys["Ana Silva"].startswith("holds the phone given")


def test_find_customer_by_a_vendor_id_and_by_nobody(api: TestClient[Any]) -> None:
    found = json.loads(_call(api, "find_customer", {"email": MAYA}).text)
    assert [m["name"] for m in found] == ["Maya Patel"]
    by_id = json.loads(_call(api, "find_customer", {"profile_id": found[0]["profile_id"]}).text)
    assert by_id[0]["profile_id"] == found[0]["profile_id"]
    assert json.loads(_call(api, "find_customer", {"email": "nobody@example.com"}).text) == []


def test_an_ambiguous_context_request_is_a_409_with_candidates(api: TestClient[Any]) -> None:
    response = _call(api, "get_customer_context", {"email": "info@silvacosta.example"})
    assert response.status_code == 409
    assert "ask for another detail" in response.json()["detail"]
    assert len(response.json()["candidates"]) == 2


def test_nobody_is_a_404(api: TestClient[Any]) -> None:
    response = _call(api, "get_customer_context", {"email": "nobody@example.com"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"email": MAYA, "phone": "+14155550134"},
        {"source": "zendesk"},
        {"email": "not-an-email"},
    ],
)
def test_identifier_mistakes_are_400s(api: TestClient[Any], arguments: Any) -> None:
    response = _call(api, "get_customer_context", arguments)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", '"text"'])
def test_arguments_that_are_not_a_json_object_are_400s(
    api: TestClient[Any], arguments: str
) -> None:
    response = _call(api, "get_customer_context", arguments)
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid tool arguments"


def test_an_unknown_tool_is_a_404(api: TestClient[Any]) -> None:
    response = _call(api, "delete_customer", {})
    assert response.status_code == 404
    assert response.json()["title"] == "Unknown tool"


def test_a_malformed_call_body_is_a_400(api: TestClient[Any]) -> None:
    assert api.post("/v1/tools/call", json={"arguments": {}}).status_code == 400
    assert api.post("/v1/tools/call", content=b"{oops").status_code == 400


def test_tool_calls_need_an_api_key(demo_db: Path) -> None:
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        body = {"name": "get_customer_context", "arguments": {"email": MAYA}}
        assert client.post("/v1/tools/call", json=body).status_code == 401


def test_toolbox_rejects_unknown_names_and_fields(demo_db: Path) -> None:
    store = Store(demo_db)
    try:
        box = ToolBox(store.conn, "US")
        with pytest.raises(UnknownTool):
            box.call("nope", {})
        with pytest.raises(InvalidToolArguments, match="unknown field"):
            box.call("find_customer", {"email": MAYA, "nickname": "Maya"})
        with pytest.raises(InvalidToolArguments, match="length"):
            box.call("find_customer", {"email": "a" * 400})
    finally:
        store.close()


class FakeNotes:
    """A helpdesk that records the internal notes it is asked to post."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []

    def post_internal_note(self, ticket_id: str, body: str) -> None:
        self.notes.append((ticket_id, body))


ESCALATION = {
    "email": MAYA,
    "reason": "wants a refund for a double charge",
    "transcript": [
        {"role": "customer", "text": "I was charged twice, I want a human"},
        {"role": "bot", "text": "I will pass this to a colleague."},
    ],
}


def test_create_escalation_returns_the_handoff_without_a_helpdesk(api: TestClient[Any]) -> None:
    response = _call(api, "create_escalation", ESCALATION)
    assert response.status_code == 200, response.text
    text = response.text
    assert text.startswith("Escalation prepared (no helpdesk is configured for notes")
    assert "ESCALATION [" in text
    assert 'Wants: customer-written "I was charged twice, I want a human"' in text
    assert "Open ticket: 1001" in text
    # The bot's copy shows contact details as the chatbot audience does: masked.
    assert "m***@example.com" in text
    assert MAYA not in text


def test_create_escalation_posts_the_agents_note(demo_db: Path) -> None:
    notes = FakeNotes()
    with TestClient(app=create_app(make_settings(demo_db), note_poster=notes)) as client:
        client.headers.update(AUTH)
        response = _call(client, "create_escalation", ESCALATION)
        skipped = _call(client, "create_escalation", {**ESCALATION, "post_note": False})
    assert response.status_code == 200
    assert "internal note posted on ticket 1001" in response.text
    [(ticket, body)] = notes.notes
    assert ticket == "1001"
    assert MAYA in body  # the note is for agents: full contact details
    assert "note not requested" in skipped.text


def test_create_escalation_for_nobody_or_without_a_reason(api: TestClient[Any]) -> None:
    unknown = _call(api, "create_escalation", {"email": "nobody@example.com", "reason": "x"})
    assert unknown.status_code == 404
    no_reason = _call(api, "create_escalation", {"email": MAYA})
    assert no_reason.status_code == 400
    bad_turn = _call(
        api, "create_escalation", {**ESCALATION, "transcript": [{"role": "ceo", "text": "hi"}]}
    )
    assert bad_turn.status_code == 400


def test_a_key_limited_to_the_chatbot_cannot_escalate(demo_db: Path, tmp_path: Path) -> None:
    bot_key = "bot-key-0123456789"
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[keys.{fingerprint(bot_key)}]\naudiences = ["chatbot"]\n')
    settings = make_settings(demo_db, api_keys=[TEST_KEY, bot_key], field_policy=str(policy))
    with TestClient(app=create_app(settings)) as client:
        client.headers.update({"Authorization": f"Bearer {bot_key}"})
        assert _call(client, "get_customer_context", {"email": MAYA}).status_code == 200
        denied = _call(client, "create_escalation", ESCALATION)
        assert denied.status_code == 403
        assert "escalation" in denied.json()["detail"]


def test_find_customer_from_what_the_customer_said(api: TestClient[Any]) -> None:
    said = {"name": "Maya Patel", "order_number": "1003"}
    [maya] = json.loads(_call(api, "find_customer", said).text)
    assert maya["name"] == "Maya Patel"
    assert maya["probability"] > 0.99
    assert "order_number" in maya["why"]
    context = _call(api, "get_customer_context", {"profile_id": maya["profile_id"]})
    assert "Subscription Pro 49 USD/month: past_due" in context.text


def test_find_customer_tells_a_shared_mailbox_apart_by_name(api: TestClient[Any]) -> None:
    said = {"email": "info@silvacosta.example", "name": "Bruno Costa"}
    found = json.loads(_call(api, "find_customer", said).text)
    assert found[0]["name"] == "Bruno Costa"
    assert all(m["probability"] <= found[0]["probability"] for m in found)


def test_find_customer_refuses_ids_mixed_with_details(api: TestClient[Any]) -> None:
    response = _call(api, "find_customer", {"name": "Maya Patel", "source": "zendesk"})
    assert response.status_code == 400
    assert "cannot be mixed" in response.json()["detail"]


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("find_customer", {"name": "Maya Patel", "email": ""}),
        ("get_customer_context", {"email": ""}),
        ("get_customer_context", {"source": "", "external_id": "1001"}),
    ],
)
def test_an_empty_identifier_is_a_400_not_ignored(
    api: TestClient[Any], name: str, arguments: dict[str, str]
) -> None:
    """As the HTTP lookup answers: an empty email given with a name was dropped, and the
    search went on as if it had not been given."""
    response = _call(api, name, arguments)
    assert response.status_code == 400, response.text
