"""The create_escalation tool posts its note as POST /v1/escalations does: a failure of the
helpdesk plug-in never fails the call and leaves the note to a retry, and one escalation (the
customer, the conversation, the reason) is one note, whichever path sent it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from context_service.api.app import create_app
from tests.conftest import make_settings
from tests.review_fixtures import AUTH

MAYA = "maya.patel@example.com"
ESCALATION = {
    "email": MAYA,
    "reason": "wants a refund for a double charge",
    "transcript": [{"role": "customer", "text": "I was charged twice, I want a human"}],
}


class FlakyNotes:
    """A helpdesk plug-in whose first post fails with its own error, then works."""

    def __init__(self) -> None:
        self.calls = 0
        self.notes: list[tuple[str, str]] = []

    def post_internal_note(self, ticket_id: str, body: str) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("plug-in trouble")
        self.notes.append((ticket_id, body))


def _tool(client: TestClient[Any], arguments: Mapping[str, object]) -> str:
    response = client.post(
        "/v1/tools/call", json={"name": "create_escalation", "arguments": arguments}
    )
    assert response.status_code == 200, response.text
    return str(response.text)


def test_a_plug_in_failure_leaves_the_call_answered_and_the_note_to_a_retry(
    demo_db: Path,
) -> None:
    notes = FlakyNotes()
    with TestClient(app=create_app(make_settings(demo_db), note_poster=notes)) as client:
        client.headers.update(AUTH)
        first = _tool(client, ESCALATION)
        second = _tool(client, ESCALATION)
    assert "failed" in first
    assert "send the same escalation again" in first
    assert "internal note posted" in second
    assert len(notes.notes) == 1


def test_one_escalation_is_one_note_whichever_path_sent_it(demo_db: Path) -> None:
    notes = FlakyNotes()
    notes.calls = 1  # works from the start
    body = {
        "customer": {"email": MAYA},
        "reason": ESCALATION["reason"],
        "transcript": ESCALATION["transcript"],
        "post_note": True,
    }
    with TestClient(app=create_app(make_settings(demo_db), note_poster=notes)) as client:
        client.headers.update(AUTH)
        posted = client.post("/v1/escalations", json=body)
        assert posted.status_code == 201, posted.text
        again = _tool(client, ESCALATION)
    assert posted.json()["note"]["posted"] is True
    assert "already posted" in again
    assert len(notes.notes) == 1
